//! The transactions of a policy in force: endorsements, renewals,
//! cancellations, reinstatements and reversals, each checked against the
//! policy and then booked by `transact`.

use super::*;

impl PolicyBook {
    pub(super) fn endorse(
        &self,
        policy: &str,
        effective: &NaiveDate,
        changes: &[DataChange],
        with: Deciding<'_>,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let state = self.policy(policy)?;
        let term = term_in_force(state, *effective)?;
        let mut data = state.data_at(*effective);
        for change in changes {
            data.check(change)?;
            data.apply(change);
        }
        let change = TransactionChange::Endorsement {
            changes: changes.to_vec(),
        };
        self.book(
            state,
            NewTransaction {
                kind: TransactionKind::Endorsement,
                effective: *effective,
                term,
                change,
                opens: None,
            },
            with,
        )
    }

    pub(super) fn renew(
        &self,
        policy: &str,
        plan: &Option<String>,
        changes: &[DataChange],
        with: Deciding<'_>,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let Deciding {
            context, raters, ..
        } = with;
        let state = self.policy(policy)?;
        let last = state
            .terms
            .last()
            .ok_or_else(|| PolicyError::Internal("policy without term".into()))?;
        if state.terms.len() >= TERMS_PER_POLICY_MAX {
            return Err(PolicyError::TooManyTerms(TERMS_PER_POLICY_MAX));
        }
        let last_day = last.period.end().pred_opt().expect("a term has a last day");
        if is_cancelled_at(&state.transactions, last.number, last_day) {
            return Err(PolicyError::NotInForce {
                policy: policy.to_string(),
                date: last_day,
            });
        }
        if let Some(notice) = &state.non_renewal {
            return Err(PolicyError::NotRenewed {
                policy: policy.to_string(),
                ends_on: notice.ends_on,
            });
        }
        let plan = plan.clone().unwrap_or_else(|| last.plan.clone());
        let product = &state.header.product;
        if !product.plans.contains_key(&plan) {
            return Err(PolicyError::UnknownPlan {
                product: product.name.clone(),
                plan,
            });
        }
        let start = last.period.end();
        let term_period = term_period(start, product.term_months)?;
        let mut data = state.data_at(start);
        for change in changes {
            data.check(change)?;
            data.apply(change);
        }
        let (rate_version, rating_date) = rate_version_of(
            product,
            term_period,
            RatedFor::Renewal,
            &state.header.time_zone,
            context,
            raters,
        )?;
        let term = Term {
            number: last.number + 1,
            period: term_period,
            plan: plan.clone(),
            rate_version,
            rating_date: Some(rating_date),
            bound_on: Some(today_of(context, &state.header.time_zone)?),
        };
        let change = TransactionChange::Renewal {
            term: term_period,
            plan,
            changes: changes.to_vec(),
        };
        self.book(
            state,
            NewTransaction {
                kind: TransactionKind::Renewal,
                effective: start,
                term: term.number,
                change,
                opens: Some(term),
            },
            with,
        )
    }

    pub(super) fn cancel(
        &self,
        policy: &str,
        effective: &NaiveDate,
        reason: &CancellationReason,
        with: Deciding<'_>,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let state = self.policy(policy)?;
        let term = term_in_force(state, *effective)?;
        self.book(
            state,
            NewTransaction {
                kind: TransactionKind::Cancellation,
                effective: *effective,
                term,
                change: TransactionChange::Cancellation { reason: *reason },
                opens: None,
            },
            with,
        )
    }

    pub(super) fn reinstate(
        &self,
        policy: &str,
        effective: &NaiveDate,
        with: Deciding<'_>,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let state = self.policy(policy)?;
        let term = state.term_number_at(*effective)?;
        if !is_cancelled_at(&state.transactions, term, *effective) {
            return Err(PolicyError::NotCancelled {
                policy: policy.to_string(),
                date: *effective,
            });
        }
        self.book(
            state,
            NewTransaction {
                kind: TransactionKind::Reinstatement,
                effective: *effective,
                term,
                change: TransactionChange::Reinstatement,
                opens: None,
            },
            with,
        )
    }

    pub(super) fn reverse(
        &self,
        policy: &str,
        transaction: &str,
        with: Deciding<'_>,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let state = self.policy(policy)?;
        let target = state
            .transaction(transaction)
            .ok_or_else(|| PolicyError::UnknownTransaction(transaction.to_string()))?;
        if target.kind == TransactionKind::Reversal {
            return Err(PolicyError::ReversalOfReversal(transaction.to_string()));
        }
        if target.kind == TransactionKind::RateCorrection {
            return Err(PolicyError::CorrectionNotReversible(
                transaction.to_string(),
            ));
        }
        if target.reversed_by.is_some() {
            return Err(PolicyError::AlreadyReversed(transaction.to_string()));
        }
        let change = TransactionChange::Reversal {
            target: transaction.to_string(),
        };
        self.book(
            state,
            NewTransaction {
                kind: TransactionKind::Reversal,
                effective: target.effective,
                term: target.term,
                change,
                opens: None,
            },
            with,
        )
    }
}

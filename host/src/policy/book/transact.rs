//! A transaction's effect: the timeline priced with it added, the
//! difference booked as charges (flat, retention and reverse charges too),
//! and the installment slices that bill them.

use super::*;

impl PolicyBook {
    /// Prices the timeline with `transaction` added and books the
    /// difference, the flat, retention and reverse charges, and the
    /// installment slices.
    ///
    /// A rating result belongs to a characteristic (DOMAIN section 9): only
    /// items whose input no recorded result of the term covers are sent to
    /// the rater (see [`price_timeline`] and docs/rating.md); the rater is
    /// resolved only then. Worked example: 1200.00 yearly on [2026-01-01,
    /// 2027-01-01) asked once by new business; an endorsement raising it to
    /// 1800.00 from 07-01 asks once about [07-01, 2027-01-01) (+300.00); a
    /// cancellation from 10-01, its reinstatement and the endorsement's
    /// reversal ask nothing (−450.00, +450.00, −300.00).
    pub(super) fn transact(
        &self,
        policy: &PolicyState,
        transaction: Transaction,
        opened_term: Option<Term>,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        dater: &dyn InstallmentDater,
    ) -> Result<BookEvent, PolicyError> {
        if policy.transactions.len() >= TRANSACTIONS_PER_POLICY_MAX {
            return Err(PolicyError::TooManyTransactions(
                TRANSACTIONS_PER_POLICY_MAX,
            ));
        }
        let header = &policy.header;
        let product = &header.product;
        // Resolved only when something needs pricing (a cancellation, a
        // lapse or a reversal usually needs none), once per rate version:
        // each term rates with the version recorded on it.
        let mut resolved: Vec<(Option<String>, Arc<dyn Rater>)> = Vec::new();
        let mut transactions = policy.transactions.clone();
        if let TransactionChange::Reversal { target } = &transaction.change
            && let Some(t) = transactions.iter_mut().find(|t| &t.locator == target)
        {
            t.reversed_by = Some(transaction.locator.clone());
        }
        transactions.push(transaction.clone());
        let mut terms = policy.terms.clone();
        terms.extend(opened_term.iter().cloned());
        // A rate correction re-rates its term with its version, asking the
        // rater about every item again (no recorded result is reused).
        let corrected = match &transaction.change {
            TransactionChange::RateCorrection { version, .. } => {
                let term = terms
                    .iter_mut()
                    .find(|t| t.number == transaction.term)
                    .ok_or_else(|| PolicyError::Internal("a correction of no term".into()))?;
                term.rate_version = Some(version.clone());
                Some(transaction.term)
            }
            _ => None,
        };

        let currency_code = product.currency.code().to_string();
        let mut priced_after = BTreeMap::new();
        let mut drafts = Vec::new();
        // Data and coverage change from the transaction's effective date on
        // (a reversal's: its target's), so a term ending by then keeps its
        // priced timeline: it is not priced again (an endorsement of the
        // last term of a ten-term policy prices one term).
        let changes_from = match &transaction.change {
            TransactionChange::Reversal { target } => policy
                .transaction(target)
                .map_or(transaction.effective, |t| t.effective),
            _ => transaction.effective,
        };
        for term in &terms {
            if term.period.end() <= changes_from
                && term.number != transaction.term
                && corrected != Some(term.number)
            {
                continue;
            }
            let version = term.rate_version.clone();
            let mut rater = || -> Result<Arc<dyn Rater>, crate::rating::RatingError> {
                if let Some((_, rater)) = resolved.iter().find(|(v, _)| *v == version) {
                    return Ok(rater.clone());
                }
                let chain = crate::rating::chain::pinned(&product.rating, version.as_deref());
                let rater = raters.resolve(&chain)?;
                resolved.push((version.clone(), rater.clone()));
                Ok(rater)
            };
            let context_for_term = PricingContext {
                policy_locator: &header.locator,
                product_name: &product.name,
                currency: &currency_code,
                time_zone: &header.time_zone,
                term: term.period,
            };
            let after_segments = segments(&transactions, term.number, term.period);
            let before = policy.priced.get(&term.number).cloned().unwrap_or_default();
            let previous_plan = policy.terms.last().map(|t| t.plan.as_str());
            // Built once per term, only for a call to a rater that reads it.
            let record = std::cell::OnceCell::new();
            let locators = |segment: &Segment<'_>, with_record: bool| crate::rating::RatingCall {
                locators: call_locators(&transactions, &transaction, segment, previous_plan),
                record: if with_record {
                    record
                        .get_or_init(|| {
                            policy_record(policy, &transactions, &transaction, &terms, term)
                        })
                        .clone()
                } else {
                    crate::rating::PolicyRecord::default()
                },
            };
            let reusable: &[PricedSegment] = if corrected == Some(term.number) {
                &[]
            } else {
                &before
            };
            let (after, _calls) = price_timeline(
                &mut rater,
                &context_for_term,
                &after_segments,
                reusable,
                &locators,
            )?;
            if after == before {
                continue;
            }
            let term_drafts = timeline_difference(
                &before,
                &after,
                product,
                product.duration_basis,
                product.rounding_mode,
                context.arithmetic,
            )
            .map_err(PolicyError::Internal)?;
            drafts.extend(term_drafts.into_iter().map(|d| (term.number, d)));
            priced_after.insert(term.number, after);
        }

        let mut charges: Vec<Charge> = Vec::new();
        let mut next_locator = {
            let prefix = transaction.locator.clone();
            let mut n = 0;
            move || {
                n += 1;
                format!("{prefix}-C{n}")
            }
        };
        for (term, draft) in drafts {
            let def = product
                .charge(&draft.charge)
                .ok_or_else(|| PolicyError::UndefinedCharge(draft.charge.clone()))?;
            if def.handling != Handling::Normal {
                return Err(PolicyError::UndefinedCharge(draft.charge.clone()));
            }
            let description = match &draft.recipient {
                Some(recipient) => format!("{} to {recipient} for {}", draft.charge, draft.period),
                None => format!("{} for {}", draft.charge, draft.period),
            };
            charges.push(Charge {
                locator: next_locator(),
                policy: Some(header.locator.clone()),
                account: header.account.clone(),
                transaction: transaction.locator.clone(),
                term: Some(term),
                item: draft.item,
                charge: draft.charge,
                category: def.category,
                handling: Handling::Normal,
                invoicing: def.invoicing,
                recipient: draft.recipient,
                amount: Money::new(draft.amount, product.currency),
                technical_premium: draft.technical_premium,
                period: Some(draft.period),
                reverses: None,
                description,
                explanation: ChargeExplanation {
                    rater: draft.rater,
                    rating_segments: draft.rating_segments,
                    duration_basis: Some(product.duration_basis),
                    arithmetic: draft.arithmetic,
                },
            });
        }

        // Flat charges come only from the segment the transaction itself
        // starts: re-applied transactions keep their original flat charges.
        for priced in priced_after
            .values()
            .flatten()
            .filter(|s| s.started_by == transaction.locator)
        {
            for flat in &priced.response.flat_charges {
                let def = product
                    .charge(&flat.charge)
                    .filter(|d| d.handling == Handling::Flat)
                    .ok_or_else(|| PolicyError::UndefinedCharge(flat.charge.clone()))?;
                charges.push(Charge {
                    locator: next_locator(),
                    policy: Some(header.locator.clone()),
                    account: header.account.clone(),
                    transaction: transaction.locator.clone(),
                    term: Some(transaction.term),
                    item: flat.item.clone(),
                    charge: flat.charge.clone(),
                    category: def.category,
                    handling: Handling::Flat,
                    invoicing: def.invoicing,
                    recipient: None,
                    amount: Money::new(flat.amount, product.currency)
                        .rounded(product.rounding_mode),
                    technical_premium: None,
                    period: None,
                    reverses: None,
                    description: if flat.description.is_empty() {
                        flat.charge.clone()
                    } else {
                        flat.description.clone()
                    },
                    explanation: ChargeExplanation {
                        rater: Some(priced.rater.clone()),
                        rating_segments: vec![priced.period],
                        duration_basis: None,
                        arithmetic: vec![format!(
                            "flat {} from the rating of {}",
                            flat.amount, priced.period
                        )],
                    },
                });
            }
        }

        // The rater of the transaction's own term (a holdback is priced
        // with the term's version).
        let term_version = terms
            .iter()
            .find(|t| t.number == transaction.term)
            .and_then(|t| t.rate_version.clone());
        let mut rater = || -> Result<Arc<dyn Rater>, crate::rating::RatingError> {
            if let Some((_, rater)) = resolved.iter().find(|(v, _)| *v == term_version) {
                return Ok(rater.clone());
            }
            let chain = crate::rating::chain::pinned(&product.rating, term_version.as_deref());
            raters.resolve(&chain)
        };
        match &transaction.change {
            TransactionChange::Cancellation { .. } => {
                charges.extend(self.retention_charges(
                    policy,
                    &transaction,
                    &charges,
                    &mut rater,
                    &mut next_locator,
                )?);
            }
            TransactionChange::Reinstatement => {
                // The reinstated cancellation's holdback is given back ([E3]).
                let cancellation = in_effect_order(&policy.transactions)
                    .into_iter()
                    .rev()
                    .find(|t| {
                        t.kind == TransactionKind::Cancellation
                            && t.term == transaction.term
                            && t.effective <= transaction.effective
                    })
                    .map(|t| t.locator.clone());
                if let Some(cancellation) = cancellation {
                    for retained in live_charges(policy, &cancellation, Handling::Retention) {
                        charges.push(retained.inverse(
                            next_locator(),
                            &transaction.locator,
                            "holdback returned on reinstatement",
                        ));
                    }
                }
            }
            TransactionChange::Reversal { target } => {
                // Reverse charges for everything the target booked outside
                // the timeline (flat charges, holdbacks, and the inverses it
                // booked, so a holdback it gave back is kept again).
                for charge in policy
                    .charges
                    .iter()
                    .filter(|c| &c.transaction == target && c.handling != Handling::Normal)
                {
                    if is_standing(&policy.charges, &charge.locator) {
                        charges.push(charge.inverse(
                            next_locator(),
                            &transaction.locator,
                            "reversed",
                        ));
                    }
                }
            }
            _ => {}
        }

        // Installment slices, per term: the transaction's scheduled charges
        // follow the coverage's cost, open installments are levelled again,
        // and what now bills nothing is netted (see `billing::reschedule`).
        let zone = parse_time_zone(&header.time_zone)
            .map_err(|e| PolicyError::BadTimeZone(e.to_string()))?;
        let arrival = context
            .today
            .unwrap_or_else(|| local_date(context.issued_at, zone));
        let pending_here = context
            .pending_slices
            .as_ref()
            .map(|pending| pending.get(&header.locator));
        let held: Vec<(&InstallmentSlice, HeldState)> = policy
            .slices
            .iter()
            .enumerate()
            .map(|(position, slice)| {
                let position = position as u32;
                let pending = match pending_here {
                    Some(set) => set.is_some_and(|set| set.contains(&position)),
                    None => slice.invoice_date >= arrival,
                };
                let state = if policy.netted.contains(&position) {
                    HeldState::Netted
                } else if pending {
                    HeldState::Pending
                } else {
                    HeldState::Invoiced
                };
                (slice, state)
            })
            .collect();
        let dates = PluginDates {
            dater,
            plugin: product.invoicing_plugin.as_deref(),
            policy: &header.locator,
            currency: &currency_code,
        };
        let mut slices = Vec::new();
        let mut netted = Vec::new();
        for term in &terms {
            let effective_of = |charge: &Charge| {
                policy
                    .transaction(&charge.transaction)
                    .map_or(transaction.effective, |t| t.effective)
            };
            let old: Vec<(&Charge, Period)> = policy
                .charges
                .iter()
                .filter(|c| c.term == Some(term.number) && is_spread(c))
                .map(|c| (c, spread_period(c, effective_of(c), term.period)))
                .collect();
            let new: Vec<(&Charge, Period)> = charges
                .iter()
                .filter(|c| c.term == Some(term.number) && is_spread(c))
                .map(|c| (c, spread_period(c, transaction.effective, term.period)))
                .collect();
            let plan = product
                .plans
                .get(&term.plan)
                .ok_or_else(|| PolicyError::UnknownPlan {
                    product: product.name.clone(),
                    plan: term.plan.clone(),
                })?;
            let covered: Vec<Period> = priced_after
                .get(&term.number)
                .or_else(|| policy.priced.get(&term.number))
                .map(|segments| segments.iter().map(|s| s.period).collect())
                .unwrap_or_default();
            let slicing = TermSlicing {
                number: term.number,
                period: term.period,
                plan,
                arrival,
                opens_term: opened_term
                    .as_ref()
                    .is_some_and(|t| t.number == term.number),
                covered: &covered,
                frames: None,
            };
            let base = policy.slices.len() + slices.len();
            let (term_slices, term_netted) =
                dated_slices_for_term(&held, &old, &new, &slicing, base, &dates)?;
            slices.extend(term_slices);
            netted.extend(term_netted);
        }

        assert_slices_bill_their_charges(policy, &charges, &slices);
        Ok(BookEvent::TransactionIssued {
            record: Box::new(TransactionRecord {
                policy: header.locator.clone(),
                opened: None,
                term: opened_term,
                transaction,
                charges,
                slices,
                netted,
                priced: priced_after
                    .into_iter()
                    .map(|(term, segments)| TermTimeline { term, segments })
                    .collect(),
            }),
        })
    }

    /// The holdback a cancellation keeps: the product's percentage of the
    /// premium it returns, or, when the product sets none, what the rater
    /// asks for when pricing the cancelled span as a cancellation.
    ///
    /// Worked example ([E3]): 1000.00 a year cancelled at mid-term returns
    /// 500.00 of premium; a 10% holdback keeps 50.00.
    pub(super) fn retention_charges(
        &self,
        policy: &PolicyState,
        cancellation: &Transaction,
        booked: &[Charge],
        rater: &mut dyn FnMut() -> Result<Arc<dyn Rater>, crate::rating::RatingError>,
        next_locator: &mut dyn FnMut() -> String,
    ) -> Result<Vec<Charge>, PolicyError> {
        let header = &policy.header;
        let product = &header.product;
        let mut retention_charge = |charge: &str,
                                    amount: Decimal,
                                    arithmetic: String,
                                    rater|
         -> Result<Charge, PolicyError> {
            let def = product
                .charge(charge)
                .filter(|d| d.handling == Handling::Retention)
                .ok_or_else(|| PolicyError::UndefinedCharge(charge.to_string()))?;
            Ok(Charge {
                locator: next_locator(),
                policy: Some(header.locator.clone()),
                account: header.account.clone(),
                transaction: cancellation.locator.clone(),
                term: Some(cancellation.term),
                item: None,
                charge: charge.to_string(),
                category: def.category,
                handling: Handling::Retention,
                invoicing: def.invoicing,
                recipient: None,
                amount: Money::new(amount, product.currency).rounded(product.rounding_mode),
                technical_premium: None,
                period: None,
                reverses: None,
                description: format!("{charge} kept on cancellation"),
                explanation: ChargeExplanation {
                    rater,
                    arithmetic: vec![arithmetic],
                    ..ChargeExplanation::default()
                },
            })
        };
        if let Some(rules) = &product.cancellation {
            let reason = match cancellation.change {
                TransactionChange::Cancellation { reason } => reason,
                _ => CancellationReason::default(),
            };
            let premium = |c: &&Charge| {
                c.handling == Handling::Normal
                    && c.charge == product.premium_charge
                    && c.term == Some(cancellation.term)
            };
            let written: Decimal = policy
                .charges
                .iter()
                .filter(premium)
                .map(|c| c.amount.amount)
                .sum();
            let returned: Decimal = -booked
                .iter()
                .filter(premium)
                .map(|c| c.amount.amount)
                .sum::<Decimal>();
            let start = policy
                .terms
                .iter()
                .find(|t| t.number == cancellation.term)
                .map_or(cancellation.effective, |t| t.period.start());
            let days_in_force =
                u32::try_from((cancellation.effective - start).num_days()).unwrap_or(0);
            let kept = rules.kept(reason, written, returned, days_in_force);
            if kept.amount.is_zero() {
                return Ok(Vec::new());
            }
            return Ok(vec![retention_charge(
                &rules.charge,
                kept.amount,
                kept.arithmetic,
                None,
            )?]);
        }
        if let Some(retention) = &product.cancellation_retention {
            let returned: Decimal = -booked
                .iter()
                .filter(|c| c.handling == Handling::Normal && c.charge == product.premium_charge)
                .map(|c| c.amount.amount)
                .sum::<Decimal>();
            if returned <= Decimal::ZERO || retention.holdback_percent.is_zero() {
                return Ok(Vec::new());
            }
            let amount = returned * retention.holdback_percent / Decimal::ONE_HUNDRED;
            let arithmetic = format!(
                "{}% of {returned} returned premium = {amount}",
                retention.holdback_percent
            );
            return Ok(vec![retention_charge(
                &retention.charge,
                amount,
                arithmetic,
                None,
            )?]);
        }
        // No product holdback: ask the rater, pricing the cancelled span;
        // a product with no retention charge has nothing to ask for.
        if !product
            .charges
            .values()
            .any(|d| d.handling == Handling::Retention)
        {
            return Ok(Vec::new());
        }
        let Some(term) = policy.terms.iter().find(|t| t.number == cancellation.term) else {
            return Ok(Vec::new());
        };
        let Ok(span) = Period::new(cancellation.effective, term.period.end()) else {
            return Ok(Vec::new());
        };
        let segment = Segment {
            period: span,
            started_by: cancellation.locator.clone(),
            operation: crate::rating::Operation::Cancellation,
            data: std::borrow::Cow::Owned(policy.data_at(cancellation.effective)),
        };
        let currency_code = product.currency.code().to_string();
        let context = PricingContext {
            policy_locator: &header.locator,
            product_name: &product.name,
            currency: &currency_code,
            time_zone: &header.time_zone,
            term: term.period,
        };
        let priced = price_segments(rater()?.as_ref(), &context, &[segment])?;
        let mut retained = Vec::new();
        for flat in &priced[0].response.flat_charges {
            if product
                .charge(&flat.charge)
                .is_some_and(|d| d.handling == Handling::Retention)
            {
                let arithmetic = format!(
                    "{} asked by the rater for the cancelled span {span}",
                    flat.amount
                );
                retained.push(retention_charge(
                    &flat.charge,
                    flat.amount,
                    arithmetic,
                    Some(priced[0].rater.clone()),
                )?);
            }
        }
        Ok(retained)
    }
}

/// Charges of `handling` a transaction booked that still stand.
pub(super) fn live_charges<'a>(
    policy: &'a PolicyState,
    transaction: &str,
    handling: Handling,
) -> Vec<&'a Charge> {
    policy
        .charges
        .iter()
        .filter(|c| c.transaction == transaction && c.handling == handling && c.reverses.is_none())
        .filter(|c| is_standing(&policy.charges, &c.locator))
        .collect()
}

/// The book's invariant after every transaction, checked in production
/// (TigerBeetle style): each charge the transaction's slices touch is billed
/// by its slices exactly, withdrawals and re-billed parts included. Worked
/// example: 1200.00 spread over 12 months is 12 slices of 100.00; a
/// cancellation withdrawing the last 6 adds -600.00 for that charge and
/// -600.00 of its own, so both sum to their charges.
fn assert_slices_bill_their_charges(
    policy: &PolicyState,
    charges: &[Charge],
    slices: &[InstallmentSlice],
) {
    let touched: std::collections::BTreeSet<&str> =
        slices.iter().map(|s| s.charge.as_str()).collect();
    let mut billed: BTreeMap<&str, Decimal> = BTreeMap::new();
    for slice in policy.slices.iter().chain(slices) {
        if touched.contains(slice.charge.as_str()) {
            *billed.entry(slice.charge.as_str()).or_default() += slice.amount.amount;
        }
    }
    for locator in touched {
        let charge = charges
            .iter()
            .chain(&policy.charges)
            .find(|c| c.locator == locator);
        let Some(charge) = charge else {
            panic!(
                "slices of policy {} bill no charge {locator}",
                policy.locator()
            );
        };
        assert_eq!(
            billed.get(locator).copied().unwrap_or_default(),
            charge.amount.amount,
            "the slices of charge {locator} of policy {} sum to it",
            policy.locator()
        );
    }
}

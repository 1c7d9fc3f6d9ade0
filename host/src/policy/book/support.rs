//! Small rules the book's commands share: locators, terms and their
//! rating date and version, the tenant's today, the locators of a rating
//! call, and the transaction record a command makes.

use super::*;

pub(super) fn check_locator(locator: &str) -> Result<(), PolicyError> {
    let valid = !locator.is_empty()
        && locator.len() <= 64
        && locator
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(PolicyError::BadLocator(locator.to_string()))
    }
}

/// The plugin reference a rating chain names ("" for none).
pub(super) fn plugin_of(chain: &RatingChain) -> &str {
    match chain {
        RatingChain::Plugin { plugin } | RatingChain::PluginWithFallback { plugin, .. } => plugin,
        RatingChain::External { .. } | RatingChain::Native { .. } => "",
    }
}

/// The tenant's today for a command: a test tenant's clock, or the local
/// date of its issue in the policy's time zone.
pub(super) fn today_of(
    context: &CommandContext,
    time_zone: &str,
) -> Result<NaiveDate, PolicyError> {
    match context.today {
        Some(today) => Ok(today),
        None => {
            let zone =
                parse_time_zone(time_zone).map_err(|e| PolicyError::BadTimeZone(e.to_string()))?;
            Ok(local_date(context.issued_at, zone))
        }
    }
}

/// The rate version of a term opened for `kind` over `period`, and its
/// rating date: the term's start, or the tenant's today when the product
/// says so ([`super::product::RatingDate`]).
pub(super) fn rate_version_of(
    product: &ProductConfig,
    period: Period,
    kind: RatedFor,
    time_zone: &str,
    context: &CommandContext,
    raters: &dyn RaterResolver,
) -> Result<(Option<String>, NaiveDate), PolicyError> {
    let day = match product.rating_date {
        RatingDate::TermStart => period.start(),
        RatingDate::Issued => today_of(context, time_zone)?,
    };
    let version = crate::rating::chain::term_version(&product.rating, raters, day, kind);
    Ok((version, day))
}

pub(super) fn term_period(start: NaiveDate, months: u32) -> Result<Period, PolicyError> {
    let end = add_months_clamped(start, months as i32)
        .map_err(|e| PolicyError::BadTerm(e.to_string()))?;
    Period::new(start, end).map_err(|e| PolicyError::BadTerm(e.to_string()))
}

/// The Socotra locators sent with a rating call for `segment` (seed 004):
/// those of the transaction being issued, or, when that one (a
/// cancellation or a reversal) has none, of the transaction starting the
/// segment. New business and quotes send `quoteLocator`; a renewal onto
/// another plan also sends `newPaymentScheduleName`.
pub(super) fn call_locators(
    transactions: &[Transaction],
    issued: &Transaction,
    segment: &Segment<'_>,
    previous_plan: Option<&str>,
) -> CallLocators {
    let by_kind = |t: &Transaction| {
        let locator = Some(t.locator.clone());
        match &t.change {
            TransactionChange::NewBusiness { .. } => Some(CallLocators {
                quote_locator: locator,
                ..CallLocators::default()
            }),
            TransactionChange::Endorsement { .. } => Some(CallLocators {
                endorsement_locator: locator,
                ..CallLocators::default()
            }),
            TransactionChange::Renewal { plan, .. } => Some(CallLocators {
                renewal_locator: locator,
                new_payment_schedule_name: (previous_plan != Some(plan.as_str()))
                    .then(|| plan.clone()),
                ..CallLocators::default()
            }),
            TransactionChange::Reinstatement => Some(CallLocators {
                reinstatement_locator: locator,
                ..CallLocators::default()
            }),
            TransactionChange::Cancellation { .. }
            | TransactionChange::Reversal { .. }
            | TransactionChange::RateCorrection { .. } => None,
        }
    };
    by_kind(issued)
        .or_else(|| {
            transactions
                .iter()
                .find(|t| t.locator == segment.started_by)
                .and_then(by_kind)
        })
        .unwrap_or_default()
}

pub(super) fn new_transaction(
    policy: &PolicyState,
    kind: TransactionKind,
    effective: NaiveDate,
    term: u32,
    change: TransactionChange,
    context: &CommandContext,
) -> Transaction {
    let sequence = policy.transactions.len() as u32 + 1;
    Transaction {
        locator: format!("{}-T{sequence}", policy.header.locator),
        sequence,
        kind,
        effective,
        term,
        change,
        issued_at: context.issued_at,
        actor: context.actor.clone(),
        idempotency_key: context.idempotency_key.clone(),
        reversed_by: None,
    }
}

/// What every transaction is decided with: the command's context, the
/// raters of the product's chain and the dater of its installments.
#[derive(Clone, Copy)]
pub(super) struct Deciding<'a> {
    pub(super) context: &'a CommandContext,
    pub(super) raters: &'a dyn RaterResolver,
    pub(super) dater: &'a dyn InstallmentDater,
}

/// A transaction about to be booked on a policy (its locator, sequence,
/// actor and time come from the policy and the command's context).
pub(super) struct NewTransaction {
    pub(super) kind: TransactionKind,
    pub(super) effective: NaiveDate,
    pub(super) term: u32,
    pub(super) change: TransactionChange,
    /// The term the transaction opens (a renewal's).
    pub(super) opens: Option<Term>,
}

impl PolicyBook {
    /// Books `new` on `state`: the transaction made and its effect priced
    /// (see `transact`).
    pub(super) fn book(
        &self,
        state: &PolicyState,
        new: NewTransaction,
        with: Deciding<'_>,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let transaction = new_transaction(
            state,
            new.kind,
            new.effective,
            new.term,
            new.change,
            with.context,
        );
        Ok(vec![self.transact(state, transaction, new.opens, with)?])
    }
}

/// The term of `state` in force on `effective`: refused when the date is
/// in no term or the policy is cancelled then (an endorsement and a
/// cancellation need the policy in force).
pub(super) fn term_in_force(state: &PolicyState, effective: NaiveDate) -> Result<u32, PolicyError> {
    let term = state.term_number_at(effective)?;
    if is_cancelled_at(&state.transactions, term, effective) {
        return Err(PolicyError::NotInForce {
            policy: state.locator().to_string(),
            date: effective,
        });
    }
    Ok(term)
}

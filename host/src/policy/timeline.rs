//! The timeline of a term: the segments between effective dates, each with
//! the policy data in force and whether coverage is active.
//!
//! Transactions apply in effective-date order (issue order breaks ties), so
//! an out-of-sequence transaction lands where its date puts it: later ones
//! are, in effect, unwound, the new one applied, and the later ones
//! re-applied. Reversed transactions are simply left out.
//!
//! Worked example: new business on [2025-01-01, 2026-01-01), an endorsement
//! effective 2025-07-01 and a cancellation effective 2025-10-01 give the
//! active segments [01-01, 07-01) (new business data) and [07-01, 10-01)
//! (endorsed data); [10-01, 2026-01-01) is not covered.

use super::data::PolicyData;
use super::transaction::{Transaction, TransactionChange, TransactionKind};
use crate::domain::Period;
use crate::rating::Operation;
use chrono::NaiveDate;
use std::borrow::Cow;

/// A segment of a term with coverage in force. Its data is borrowed from
/// the transactions while no endorsement has changed it (new business
/// only, the common case), so building a timeline copies no policy data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment<'a> {
    pub period: Period,
    /// The transaction whose effective date starts the segment.
    pub started_by: String,
    /// The rating operation of that transaction.
    pub operation: Operation,
    pub data: Cow<'a, PolicyData>,
}

/// The state a fold over transactions reaches at a date.
struct State<'a> {
    data: Cow<'a, PolicyData>,
    covered: bool,
}

/// Transactions in effect, in the order they apply: effective date, then
/// issue order.
pub fn in_effect_order(transactions: &[Transaction]) -> Vec<&Transaction> {
    let mut ordered: Vec<&Transaction> = transactions.iter().filter(|t| t.is_in_effect()).collect();
    ordered.sort_by_key(|t| (t.effective, t.sequence));
    ordered
}

/// The policy data and coverage in force on `date` within the term `term`.
fn state_at<'a>(ordered: &[&'a Transaction], term_number: u32, date: NaiveDate) -> State<'a> {
    let mut state = State {
        data: Cow::Owned(PolicyData::default()),
        covered: false,
    };
    for transaction in ordered.iter().take_while(|t| t.effective <= date) {
        match &transaction.change {
            TransactionChange::NewBusiness { data, .. } => {
                state.data = Cow::Borrowed(data);
                state.covered = transaction.term == term_number;
            }
            TransactionChange::Endorsement { changes } => {
                changes
                    .iter()
                    .for_each(|change| state.data.to_mut().apply(change));
            }
            TransactionChange::Renewal { changes, .. } => {
                changes
                    .iter()
                    .for_each(|change| state.data.to_mut().apply(change));
                if transaction.term == term_number {
                    state.covered = true;
                }
            }
            TransactionChange::Cancellation { .. } => {
                if transaction.term == term_number {
                    state.covered = false;
                }
            }
            TransactionChange::Reinstatement => {
                if transaction.term == term_number {
                    state.covered = true;
                }
            }
            TransactionChange::Reversal { .. } | TransactionChange::RateCorrection { .. } => {}
        }
    }
    state
}

/// Whether coverage is cancelled (and not reinstated) on `date` in the term.
pub fn is_cancelled_at(transactions: &[Transaction], term_number: u32, date: NaiveDate) -> bool {
    let ordered = in_effect_order(transactions);
    let opened = ordered.iter().any(|t| {
        t.term == term_number
            && matches!(
                t.kind,
                TransactionKind::NewBusiness | TransactionKind::Renewal
            )
            && t.effective <= date
    });
    opened && !state_at(&ordered, term_number, date).covered
}

/// The cancellation that leaves term `term_number` uncovered on `date`: the
/// term's last cancellation in effect by then, unless a reinstatement (or the
/// term's opening) follows it by then. None when the term is covered on
/// `date` or was never cancelled.
pub fn cancellation_at(
    transactions: &[Transaction],
    term_number: u32,
    date: NaiveDate,
) -> Option<&Transaction> {
    let mut cancellation = None;
    for transaction in in_effect_order(transactions)
        .into_iter()
        .take_while(|t| t.effective <= date)
        .filter(|t| t.term == term_number)
    {
        match transaction.kind {
            TransactionKind::Cancellation => cancellation = Some(transaction),
            TransactionKind::NewBusiness
            | TransactionKind::Renewal
            | TransactionKind::Reinstatement => cancellation = None,
            TransactionKind::Endorsement
            | TransactionKind::Reversal
            | TransactionKind::RateCorrection => {}
        }
    }
    cancellation
}

/// The covered segments of term `term_number` spanning `term`.
pub fn segments(transactions: &[Transaction], term_number: u32, term: Period) -> Vec<Segment<'_>> {
    let ordered = in_effect_order(transactions);
    let mut cuts: Vec<NaiveDate> = vec![term.start(), term.end()];
    cuts.extend(
        ordered
            .iter()
            .map(|t| t.effective)
            .filter(|d| *d > term.start() && *d < term.end()),
    );
    cuts.sort();
    cuts.dedup();
    let mut segments = Vec::with_capacity(cuts.len());
    for window in cuts.windows(2) {
        let (start, end) = (window[0], window[1]);
        let state = state_at(&ordered, term_number, start);
        if !state.covered {
            continue;
        }
        // Every cut but the term's end is some transaction's effective date;
        // the last one issued on that date starts the segment.
        let (started_by, operation) = ordered
            .iter()
            .rev()
            .find(|t| t.effective == start)
            .map(|t| (t.locator.clone(), t.kind.operation()))
            .unwrap_or((String::new(), Operation::NewBusiness));
        let period = Period::new(start, end).expect("cuts are strictly increasing");
        segments.push(Segment {
            period,
            started_by,
            operation,
            data: state.data,
        });
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn date(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, month, day).unwrap()
    }

    fn transaction(sequence: u32, change: TransactionChange, effective: NaiveDate) -> Transaction {
        let kind = match &change {
            TransactionChange::NewBusiness { .. } => TransactionKind::NewBusiness,
            TransactionChange::Cancellation { .. } => TransactionKind::Cancellation,
            TransactionChange::Reinstatement => TransactionKind::Reinstatement,
            _ => TransactionKind::Endorsement,
        };
        Transaction {
            locator: format!("P1-T{sequence}"),
            sequence,
            kind,
            effective,
            term: 1,
            change,
            issued_at: Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap(),
            actor: "staff".into(),
            idempotency_key: None,
            reversed_by: None,
        }
    }

    /// New business for 2025, cancelled from 03-16, reinstated from 05-01.
    fn cancelled_then_reinstated() -> Vec<Transaction> {
        let new_business = TransactionChange::NewBusiness {
            term: Period::new(date(1, 1), NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap(),
            plan: "monthly".into(),
            data: PolicyData::default(),
        };
        vec![
            transaction(1, new_business, date(1, 1)),
            transaction(
                2,
                TransactionChange::Cancellation {
                    reason: Default::default(),
                },
                date(3, 16),
            ),
            transaction(3, TransactionChange::Reinstatement, date(5, 1)),
        ]
    }

    #[test]
    fn the_cancellation_in_effect_is_found_only_while_it_leaves_the_term_uncovered() {
        let transactions = cancelled_then_reinstated();
        let cancellation = |day| cancellation_at(&transactions, 1, day).map(|t| t.effective);
        assert_eq!(cancellation(date(3, 15)), None, "before it takes effect");
        assert_eq!(cancellation(date(3, 16)), Some(date(3, 16)));
        assert_eq!(cancellation(date(4, 30)), Some(date(3, 16)));
        assert_eq!(cancellation(date(5, 1)), None, "reinstated");
    }

    #[test]
    fn a_reversed_cancellation_never_leaves_the_term_uncovered() {
        let mut transactions = cancelled_then_reinstated();
        transactions.truncate(2);
        transactions[1].reversed_by = Some("P1-T3".into());
        assert_eq!(cancellation_at(&transactions, 1, date(4, 1)), None);
    }
}

//! Explaining a charge: its transaction, who rated it, the rating calls
//! (request and response) it came from, the duration basis and the
//! arithmetic that gave its amount.

use super::book::TransactionRecord;
use super::charges::Charge;
use super::pricing::PricedSegment;
use super::transaction::Transaction;
use serde::Serialize;

/// Everything known about how a charge came to be.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChargeAudit {
    pub charge: Charge,
    /// The transaction that booked it (absent for charges added by command).
    pub transaction: Option<Transaction>,
    /// The rating calls of the segments the charge comes from, with the
    /// rater (plugin id and content hash, external rater, or native) that
    /// answered each.
    pub rating_calls: Vec<PricedSegment>,
}

/// Explains `charge` from the record of the transaction that booked it.
///
/// Worked example: an endorsement raising a 1000.00 premium to 1200.00 from
/// 2021-07-01 books a charge of 100.00; its audit names the endorsement, the
/// rating call of [2021-07-01, 2022-01-01) (request with the new data,
/// response `{"yearly": "1200.00"}`), the months basis, and the arithmetic
/// "after: yearly 1200.00 x 6/12 … before: yearly 1000.00 x 6/12 …".
pub fn explain(charge: &Charge, record: Option<&TransactionRecord>) -> ChargeAudit {
    let rating_calls = record
        .map(|record| {
            record
                .priced
                .iter()
                .filter(|timeline| charge.term.is_none_or(|term| term == timeline.term))
                .flat_map(|timeline| timeline.segments.iter())
                .filter(|segment| charge.explanation.rating_segments.contains(&segment.period))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    ChargeAudit {
        charge: charge.clone(),
        transaction: record.map(|r| r.transaction.clone()),
        rating_calls,
    }
}

//! The policy record sent beside a rating call (Socotra's `PolicyResponse`
//! beyond the rating request, see [`PolicyRecord`]), built from what the
//! policy book knows when a transaction asks a rater.
//!
//! Rules:
//!
//! - `policyholderLocator` is the account; `productLocator` the product and
//!   the revision the policy was issued under (`auto:3`, or `auto` when the
//!   revision is not known); created is the first transaction's issue time,
//!   updated the issue time of the transaction being priced, issued the new
//!   business's issue time once it is issued.
//! - Inception and the original end are the first term's; the payment
//!   schedule is the plan of the term priced.
//! - Modifications are the transactions in effect (not reversed, not
//!   reversals), with the characteristics each one starts: those of every
//!   entity of the segments it starts, `<entity>:<segment start>`.
//! - Earlier characteristics are those of the priced timeline recorded before
//!   the transaction, issued when the transaction starting their segment was
//!   issued, with their premium for their own period. Those the transaction
//!   changes (their period or their data; a peril's data includes its
//!   exposure's and the policy's) are replaced at the transaction's issue
//!   time; when the timeline gives their locator to a successor, they are
//!   sent as `<locator>~<transaction>`. The other characteristics of the
//!   timeline after the transaction are sent too, with the premium of the
//!   recorded result they reuse when one covers them.
//!
//! Worked example: 1200.00 yearly for collision `V1-COLL` on [2026-01-01,
//! 2027-01-01), months basis, issued by `P1-T1`; endorsement `P1-T2`
//! effective 2026-07-01 changes the collision's deductible. The call about
//! `V1-COLL:2026-07-01` carries `V1-COLL:2026-01-01~P1-T2` (the whole year,
//! premium 1200.00, issued by `P1-T1`, replaced now) and
//! `V1-COLL:2026-01-01` (the first half, premium 600.00, reusing it).

use super::book::{PolicyState, Term, is_standing};
use super::data::{Fields, PolicyData};
use super::pricing::PricedSegment;
use super::product::{ChargeCategory, Handling, ProductConfig};
use super::timeline::{Segment, segments};
use super::transaction::{Transaction, TransactionKind};
use crate::billing::{Arithmetic, PremiumRate, RatedPremium};
use crate::domain::{Money, Period};
use crate::rating::external::{
    Modification, Owner, PolicyRecord, RecordedCharacteristics, RecordedFee,
};
use crate::rating::{Premium, PricedItem, RateRequest, Segment as RatingSegment};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};

/// One entity's characteristics in a segment, with the data it is priced on.
struct Entry<'a> {
    owner: Owner,
    locator: String,
    fields: &'a Fields,
    /// The entity's fields and those of the entities it hangs on.
    inputs: Vec<&'a Fields>,
    policy_characteristics: String,
    exposure_characteristics: Option<String>,
}

fn rating_segment(period: Period) -> RatingSegment {
    RatingSegment {
        start: period.start(),
        end: period.end(),
    }
}

/// The entities of a recorded rating request.
fn request_entries(request: &RateRequest) -> Vec<Entry<'_>> {
    let policy = &request.policy;
    let policy_fields = &policy.characteristics.fields;
    let policy_characteristics = policy.characteristics.locator.clone();
    let mut entries = vec![Entry {
        owner: Owner::Policy,
        locator: policy_characteristics.clone(),
        fields: policy_fields,
        inputs: vec![policy_fields],
        policy_characteristics: policy_characteristics.clone(),
        exposure_characteristics: None,
    }];
    for exposure in &policy.exposures {
        let exposure_fields = &exposure.characteristics.fields;
        entries.push(Entry {
            owner: Owner::Exposure(exposure.locator.clone()),
            locator: exposure.characteristics.locator.clone(),
            fields: exposure_fields,
            inputs: vec![policy_fields, exposure_fields],
            policy_characteristics: policy_characteristics.clone(),
            exposure_characteristics: None,
        });
        for peril in &exposure.perils {
            let peril_fields = &peril.characteristics.fields;
            entries.push(Entry {
                owner: Owner::Peril {
                    exposure: exposure.locator.clone(),
                    peril: peril.locator.clone(),
                },
                locator: peril.characteristics.locator.clone(),
                fields: peril_fields,
                inputs: vec![policy_fields, exposure_fields, peril_fields],
                policy_characteristics: policy_characteristics.clone(),
                exposure_characteristics: Some(exposure.characteristics.locator.clone()),
            });
        }
    }
    entries
}

/// The entities of the data of a segment starting on `start`, located as
/// Premia's pricing locates them (`<entity>:<start>`).
fn data_entries<'a>(policy_locator: &str, data: &'a PolicyData, start: &str) -> Vec<Entry<'a>> {
    let policy_characteristics = format!("{policy_locator}:{start}");
    let mut entries = vec![Entry {
        owner: Owner::Policy,
        locator: policy_characteristics.clone(),
        fields: &data.fields,
        inputs: vec![&data.fields],
        policy_characteristics: policy_characteristics.clone(),
        exposure_characteristics: None,
    }];
    for (exposure_locator, exposure) in &data.exposures {
        let exposure_characteristics = format!("{exposure_locator}:{start}");
        entries.push(Entry {
            owner: Owner::Exposure(exposure_locator.clone()),
            locator: exposure_characteristics.clone(),
            fields: &exposure.fields,
            inputs: vec![&data.fields, &exposure.fields],
            policy_characteristics: policy_characteristics.clone(),
            exposure_characteristics: None,
        });
        for (peril_locator, peril) in &exposure.perils {
            entries.push(Entry {
                owner: Owner::Peril {
                    exposure: exposure_locator.clone(),
                    peril: peril_locator.clone(),
                },
                locator: format!("{peril_locator}:{start}"),
                fields: &peril.fields,
                inputs: vec![&data.fields, &exposure.fields, &peril.fields],
                policy_characteristics: policy_characteristics.clone(),
                exposure_characteristics: Some(exposure_characteristics.clone()),
            });
        }
    }
    entries
}

/// A segment of the recorded priced timeline, with its entities and its
/// premium items by peril.
struct Recorded<'a> {
    segment: &'a PricedSegment,
    entries: Vec<Entry<'a>>,
    items: HashMap<&'a str, Vec<&'a PricedItem>>,
}

impl<'a> Recorded<'a> {
    fn new(segment: &'a PricedSegment) -> Self {
        let mut items: HashMap<&'a str, Vec<&'a PricedItem>> = HashMap::new();
        for item in segment.response.items.iter().filter(|i| i.charge.is_none()) {
            items.entry(item.locator.as_str()).or_default().push(item);
        }
        Recorded {
            segment,
            entries: request_entries(&segment.request),
            items,
        }
    }

    /// The premium (or technical premium) of peril `owner` for `period`,
    /// prorated from the recorded result and rounded to the product's
    /// currency; `None` for other entities or when the result has no such
    /// amount.
    ///
    /// Example: 1200.00 yearly recorded for 2026 is 600.00 for its first
    /// half (months basis); 370.56 exact for the year is 185.28.
    fn amount(
        &self,
        owner: &Owner,
        period: Period,
        product: &ProductConfig,
        technical: bool,
    ) -> Option<Decimal> {
        let Owner::Peril { peril, .. } = owner else {
            return None;
        };
        let rated = self.segment.rated_span(peril);
        let mut total: Option<Decimal> = None;
        for item in self.items.get(peril.as_str())? {
            let premium = if technical {
                item.technical_premium?
            } else {
                item.premium
            };
            let (rate, over) = match premium {
                Premium::Yearly(amount) => (PremiumRate::Yearly(amount), period),
                Premium::Exact(amount) => (PremiumRate::Exact(amount), rated),
            };
            let prorated = RatedPremium {
                rate,
                period: over,
                basis: product.duration_basis,
            }
            .prorate_as(period, Arithmetic::Skipped)
            .ok()?;
            let amount = Money::new(prorated.amount, product.currency)
                .rounded(product.rounding_mode)
                .amount;
            *total.get_or_insert(Decimal::ZERO) += amount;
        }
        total
    }
}

/// Socotra's name of a transaction kind (a reversal and a rate correction
/// are never modifications: they change no data).
fn modification_name(kind: TransactionKind) -> &'static str {
    match kind {
        TransactionKind::NewBusiness => "new_business",
        TransactionKind::Endorsement => "endorsement",
        TransactionKind::Renewal => "renewal",
        TransactionKind::Cancellation => "cancellation",
        TransactionKind::Reinstatement => "reinstatement",
        TransactionKind::Reversal => "reversal",
        TransactionKind::RateCorrection => "rate_correction",
    }
}

/// The record of `policy` (its state before `issued`) for a call pricing
/// term `term`; `transactions` and `terms` include `issued` and the term it
/// opens.
pub fn policy_record(
    policy: &PolicyState,
    transactions: &[Transaction],
    issued: &Transaction,
    terms: &[Term],
    term: &Term,
) -> PolicyRecord {
    let header = &policy.header;
    let product = &header.product;
    let locator = header.locator.as_str();
    let issued_at = |started_by: &str| {
        transactions
            .iter()
            .find(|t| t.locator == started_by)
            .map(|t| t.issued_at)
    };
    let after: Vec<(&Term, Vec<Segment<'_>>)> = terms
        .iter()
        .map(|t| (t, segments(transactions, t.number, t.period)))
        .collect();

    let modifications = transactions
        .iter()
        .filter(|t| t.is_in_effect())
        .map(|t| Modification {
            locator: t.locator.clone(),
            number: t.sequence,
            name: modification_name(t.kind).to_string(),
            created: t.issued_at,
            effective: t.effective,
            new_characteristics: after
                .iter()
                .flat_map(|(_, segments)| segments)
                .filter(|s| s.started_by == t.locator)
                .flat_map(|s| {
                    data_entries(locator, &s.data, &s.period.start().to_string())
                        .into_iter()
                        .map(|e| (e.owner, e.locator))
                        .collect::<Vec<_>>()
                })
                .collect(),
        })
        .collect();

    let fees = policy
        .charges
        .iter()
        .filter(|c| {
            c.handling == Handling::Flat
                && c.reverses.is_none()
                && matches!(
                    c.category,
                    ChargeCategory::Fee | ChargeCategory::FlatFee | ChargeCategory::InvoiceFee
                )
        })
        .map(|c| RecordedFee {
            locator: c.locator.clone(),
            name: c.charge.clone(),
            description: c.description.clone(),
            amount: c.amount.amount,
            reversed: !is_standing(&policy.charges, &c.locator),
        })
        .collect();

    let mut characteristics = Vec::new();
    for (owning_term, after_segments) in &after {
        let term_span = rating_segment(owning_term.period);
        let before: Vec<Recorded<'_>> = policy
            .priced
            .get(&owning_term.number)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(Recorded::new)
            .collect();
        let after_entries: Vec<(Period, Vec<Entry<'_>>)> = after_segments
            .iter()
            .map(|s| {
                let start = s.period.start().to_string();
                (s.period, data_entries(locator, &s.data, &start))
            })
            .collect();
        // (segment start, owner) to the entity's characteristics after the
        // transaction, and as recorded before it.
        let after_index: HashMap<(NaiveDate, &Owner), (Period, &Entry<'_>)> = after_entries
            .iter()
            .flat_map(|(period, entries)| {
                entries
                    .iter()
                    .map(move |e| ((period.start(), &e.owner), (*period, e)))
            })
            .collect();
        let before_index: HashMap<(NaiveDate, &Owner), (&Recorded<'_>, &Entry<'_>)> = before
            .iter()
            .flat_map(|recorded| {
                recorded
                    .entries
                    .iter()
                    .map(move |e| ((recorded.segment.period.start(), &e.owner), (recorded, e)))
            })
            .collect();
        // Characteristics the recorded timeline keeps as they are.
        let mut kept: HashSet<(&Owner, &str)> = HashSet::new();
        for recorded in &before {
            let segment = recorded.segment;
            for entry in &recorded.entries {
                let successor = after_index.get(&(segment.period.start(), &entry.owner));
                let same = successor.is_some_and(|(period, e)| {
                    *period == segment.period && e.inputs == entry.inputs
                });
                let wire_locator = if same || successor.is_none() {
                    entry.locator.clone()
                } else {
                    format!("{}~{}", entry.locator, issued.locator)
                };
                if same {
                    kept.insert((&entry.owner, &entry.locator));
                }
                characteristics.push(RecordedCharacteristics {
                    owner: entry.owner.clone(),
                    locator: wire_locator,
                    period: rating_segment(segment.period),
                    term: term_span,
                    fields: entry.fields.clone(),
                    policy_characteristics: entry.policy_characteristics.clone(),
                    exposure_characteristics: entry.exposure_characteristics.clone(),
                    issued: issued_at(&segment.started_by),
                    replaced: (!same).then_some(issued.issued_at),
                    premium: recorded.amount(&entry.owner, segment.period, product, false),
                    technical_premium: recorded.amount(&entry.owner, segment.period, product, true),
                });
            }
        }
        for (period, entries) in &after_entries {
            for entry in entries {
                if kept.contains(&(&entry.owner, entry.locator.as_str())) {
                    continue;
                }
                // The recorded result it reuses: same start and data, over a
                // span covering it.
                let reused = before_index
                    .get(&(period.start(), &entry.owner))
                    .filter(|(recorded, e)| {
                        recorded.segment.period.contains_period(period) && e.inputs == entry.inputs
                    })
                    .map(|(recorded, _)| *recorded);
                characteristics.push(RecordedCharacteristics {
                    owner: entry.owner.clone(),
                    locator: entry.locator.clone(),
                    period: rating_segment(*period),
                    term: term_span,
                    fields: entry.fields.clone(),
                    policy_characteristics: entry.policy_characteristics.clone(),
                    exposure_characteristics: entry.exposure_characteristics.clone(),
                    issued: reused.and_then(|r| issued_at(&r.segment.started_by)),
                    replaced: None,
                    premium: reused.and_then(|r| r.amount(&entry.owner, *period, product, false)),
                    technical_premium: reused
                        .and_then(|r| r.amount(&entry.owner, *period, product, true)),
                });
            }
        }
    }

    let first_term = terms.first().map(|t| t.period);
    PolicyRecord {
        policyholder_locator: Some(header.account.clone()),
        product_locator: Some(match header.product_revision {
            Some(revision) => format!("{}:{revision}", product.name),
            None => product.name.clone(),
        }),
        created: transactions.first().map(|t| t.issued_at),
        updated: Some(issued.issued_at),
        issued: policy
            .transactions
            .iter()
            .find(|t| t.kind == TransactionKind::NewBusiness)
            .map(|t| t.issued_at),
        inception: first_term.map(|p| p.start()),
        original_end: first_term.map(|p| p.end()),
        payment_schedule_name: Some(term.plan.clone()),
        modifications,
        fees,
        characteristics,
    }
}

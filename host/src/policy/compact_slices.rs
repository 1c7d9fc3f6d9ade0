//! The stored form of a transaction's installment slices: a table of the
//! frames they bill and runs of equal amounts over consecutive frames, so an
//! event carries a policy of hundreds of perils on a weekly five-year plan
//! (tens of thousands of slices) in tens of kilobytes instead of megabytes.
//!
//! Expanding the runs gives back every slice in its original order (positions
//! matter: billing refers to slices by position). Records written before this
//! form (a plain array of slices) are still read.
//!
//! Example: 1200.00 over a monthly year for charge `P1-T1-C1` is one frame
//! table of twelve rows and one run `[0, 1, 0, 12, "100.00"]` (charge 0,
//! term 1, from frame 0, twelve frames, 100.00 each).

use super::schedule::InstallmentSlice;
use crate::domain::{Currency, Money, Period};
use arcstr::ArcStr;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;

/// A frame as slices bill it: installment index, period, invoice date, due
/// date, caught up.
type FrameRow = (u32, Period, NaiveDate, NaiveDate, bool);

/// A run: charge (index into `charges`), term, first frame (index into
/// `frames`), how many consecutive frames, amount of each.
type Run = (u32, u32, u32, u32, Decimal);

#[derive(Serialize, Deserialize)]
struct Compact {
    currency: Currency,
    charges: Vec<ArcStr>,
    frames: Vec<FrameRow>,
    runs: Vec<Run>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Compact(Compact),
    Plain(Vec<InstallmentSlice>),
}

pub fn serialize<S: Serializer>(slices: &[InstallmentSlice], out: S) -> Result<S::Ok, S::Error> {
    let currency = slices.first().map_or(Currency::USD, |s| s.amount.currency);
    if slices.iter().any(|s| s.amount.currency != currency) {
        return slices.serialize(out);
    }
    let mut compact = Compact {
        currency,
        charges: Vec::new(),
        frames: Vec::new(),
        runs: Vec::new(),
    };
    let mut charge_refs = std::collections::HashMap::new();
    let mut frame_refs = std::collections::HashMap::new();
    for slice in slices {
        let charge = *charge_refs.entry(slice.charge.clone()).or_insert_with(|| {
            compact.charges.push(slice.charge.clone());
            (compact.charges.len() - 1) as u32
        });
        let row: FrameRow = (
            slice.installment,
            slice.installment_period,
            slice.invoice_date,
            slice.due_date,
            slice.caught_up,
        );
        let frame = *frame_refs.entry(row).or_insert_with(|| {
            compact.frames.push(row);
            (compact.frames.len() - 1) as u32
        });
        let amount = slice.amount.amount;
        match compact.runs.last_mut() {
            Some(run)
                if run.0 == charge
                    && run.1 == slice.term
                    && run.4 == amount
                    && run.4.scale() == amount.scale()
                    && run.2 + run.3 == frame =>
            {
                run.3 += 1;
            }
            _ => compact.runs.push((charge, slice.term, frame, 1, amount)),
        }
    }
    compact.serialize(out)
}

/// `slices` with the slices of one charge sharing one locator allocation
/// (a plain array of slices reads one string per slice).
fn share_charges(mut slices: Vec<InstallmentSlice>) -> Vec<InstallmentSlice> {
    let mut shared: HashSet<ArcStr> = HashSet::new();
    for slice in &mut slices {
        match shared.get(slice.charge.as_str()) {
            Some(charge) => slice.charge = charge.clone(),
            None => {
                shared.insert(slice.charge.clone());
            }
        }
    }
    slices
}

/// Reads a plain array of slices (a policy's slices in a snapshot, a plan
/// change's), the slices of one charge sharing one locator allocation.
pub fn deserialize_shared<'de, D: Deserializer<'de>>(
    input: D,
) -> Result<Vec<InstallmentSlice>, D::Error> {
    Vec::<InstallmentSlice>::deserialize(input).map(share_charges)
}

pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Vec<InstallmentSlice>, D::Error> {
    let compact = match Stored::deserialize(input)? {
        Stored::Plain(slices) => return Ok(share_charges(slices)),
        Stored::Compact(compact) => compact,
    };
    let invalid = |what: &str| serde::de::Error::custom(format!("compact slices: {what}"));
    let mut slices = Vec::new();
    for (charge, term, first, count, amount) in compact.runs {
        // One allocation per charge, shared by its slices (as when scheduled).
        let charge = compact
            .charges
            .get(charge as usize)
            .ok_or_else(|| invalid("charge out of range"))?;
        for frame in first..first.saturating_add(count) {
            let (installment, period, invoice_date, due_date, caught_up) = *compact
                .frames
                .get(frame as usize)
                .ok_or_else(|| invalid("frame out of range"))?;
            slices.push(InstallmentSlice {
                charge: charge.clone(),
                term,
                installment,
                installment_period: period,
                amount: Money::new(amount, compact.currency),
                invoice_date,
                due_date,
                caught_up,
            });
        }
    }
    Ok(slices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        slices: Vec<InstallmentSlice>,
    }

    fn date(m: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, 1).unwrap()
    }

    fn slice(charge: &str, month: u32, amount: Decimal, caught_up: bool) -> InstallmentSlice {
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        } else {
            date(month + 1)
        };
        InstallmentSlice {
            charge: charge.into(),
            term: 1,
            installment: month - 1,
            installment_period: Period::new(date(month), next).unwrap(),
            amount: Money::new(amount, Currency::USD),
            invoice_date: date(month),
            due_date: date(month),
            caught_up,
        }
    }

    #[test]
    fn slices_round_trip_in_their_order_and_equal_amounts_make_one_run() {
        let mut slices: Vec<InstallmentSlice> = (1..=12)
            .map(|m| {
                slice(
                    "P1-T1-C1",
                    m,
                    if m > 8 { dec!(83.34) } else { dec!(83.33) },
                    false,
                )
            })
            .collect();
        slices.extend((1..=12).map(|m| slice("P1-T1-C2", m, dec!(-8.33), false)));
        slices.push(slice("P1-T1-C1", 3, dec!(0.02), true));
        let holder = Holder { slices };
        let json = serde_json::to_value(&holder).unwrap();
        assert_eq!(json["slices"]["runs"].as_array().unwrap().len(), 4);
        assert_eq!(
            json["slices"]["runs"][0],
            serde_json::json!([0, 1, 0, 8, "83.33"])
        );
        let back: Holder = serde_json::from_value(json).unwrap();
        assert_eq!(back, holder);
    }

    #[test]
    fn records_stored_as_a_plain_array_are_still_read() {
        let slices = vec![slice("P1-T1-C1", 1, dec!(100.00), false)];
        let json = serde_json::json!({ "slices": serde_json::to_value(&slices).unwrap() });
        let back: Holder = serde_json::from_value(json).unwrap();
        assert_eq!(back.slices, slices);
    }

    #[test]
    fn slices_read_back_share_one_locator_allocation_per_charge() {
        let mut slices: Vec<InstallmentSlice> = (1..=12)
            .map(|m| slice("P1-T1-C1", m, dec!(100.00), false))
            .collect();
        slices.push(slice("P1-T1-C2", 1, dec!(-5.00), false));
        slices.push(slice("P1-T1-C1", 2, dec!(0.01), true));
        let holder = Holder { slices };
        let back: Holder = serde_json::from_str(&serde_json::to_string(&holder).unwrap()).unwrap();
        assert_eq!(back, holder);
        let first = &back.slices[0].charge;
        assert!(
            back.slices[1..12]
                .iter()
                .all(|s| ArcStr::ptr_eq(&s.charge, first))
        );
        assert!(ArcStr::ptr_eq(&back.slices[13].charge, first));
        assert!(!ArcStr::ptr_eq(&back.slices[12].charge, first));
        assert_eq!(back.slices[12].charge, "P1-T1-C2");
    }

    #[test]
    fn plain_records_read_back_share_one_locator_allocation_per_charge() {
        let slices: Vec<InstallmentSlice> = (1..=3)
            .map(|m| slice("P1-T1-C1", m, dec!(100.00), false))
            .collect();
        let json = serde_json::json!({ "slices": serde_json::to_value(&slices).unwrap() });
        let back: Holder = serde_json::from_value(json).unwrap();
        assert_eq!(back.slices, slices);
        assert!(ArcStr::ptr_eq(
            &back.slices[0].charge,
            &back.slices[2].charge
        ));
    }
}

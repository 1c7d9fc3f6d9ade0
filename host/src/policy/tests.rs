//! Policy transactions end to end through the book, priced by the native
//! [`FieldRater`]: the worked examples, seed 000's reversals and seed 001's
//! flat-charge rules.
//!
//! The policy book's other tests, by topic: `rate_versions` (rate versions
//! pinned to the term), `rating_calls` (which transactions ask the rater,
//! about what) and `rating_record` (what an external rater is sent about the
//! policy, the technical premium).

use super::product::tests::auto_product;
use super::*;
use crate::billing::DurationBasis;
use crate::rating::FieldValue;
use crate::test_support::{FieldRaters, date};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::BTreeMap;

mod rate_versions;
mod rating_calls;
mod rating_record;

fn context(key: &str) -> CommandContext {
    CommandContext {
        actor: "tester".into(),
        issued_at: Utc.with_ymd_and_hms(2020, 12, 15, 12, 0, 0).unwrap(),
        idempotency_key: Some(key.into()),
        arithmetic: crate::billing::Arithmetic::Written,
        pending_slices: None,
        today: None,
    }
}

fn text(value: &str) -> Vec<FieldValue> {
    vec![FieldValue::Text(value.into())]
}

fn peril(yearly: &str) -> PerilData {
    let mut fields = Fields::new();
    fields.insert("yearly_premium".into(), text(yearly));
    PerilData {
        name: "collision".into(),
        fields,
    }
}

/// One vehicle `V1` with one peril `V1-COLL` at `yearly` a year.
fn data(yearly: &str) -> PolicyData {
    let mut perils = BTreeMap::new();
    perils.insert("V1-COLL".to_string(), peril(yearly));
    let mut exposures = BTreeMap::new();
    exposures.insert(
        "V1".to_string(),
        ExposureData {
            name: "vehicle".into(),
            fields: Fields::new(),
            perils: perils.into(),
        },
    );
    PolicyData {
        fields: Fields::new(),
        exposures: exposures.into(),
    }
}

fn book_with(product: ProductConfig) -> PolicyBook {
    let mut book = PolicyBook::new();
    book.execute(
        &PolicyCommand::DeployProduct { product },
        &context("deploy"),
        &FieldRaters,
    )
    .unwrap();
    book.execute(
        &PolicyCommand::CreateAccount {
            locator: "A1".into(),
            name: "Ada".into(),
            currency: crate::domain::Currency::USD,
        },
        &context("account"),
        &FieldRaters,
    )
    .unwrap();
    book
}

fn issue(book: &mut PolicyBook, start: NaiveDate, data: PolicyData) -> TransactionRecord {
    record(book.execute(
        &PolicyCommand::IssuePolicy {
            locator: "P1".into(),
            account: "A1".into(),
            product: "auto".into(),
            start,
            plan: None,
            time_zone: "America/New_York".into(),
            data,
            bind: Default::default(),
        },
        &context("issue"),
        &FieldRaters,
    ))
}

fn record(result: Result<Vec<BookEvent>, PolicyError>) -> TransactionRecord {
    match result.unwrap().pop().unwrap() {
        BookEvent::TransactionIssued { record } => *record,
        other => panic!("expected a transaction, got {other:?}"),
    }
}

fn set_premium(yearly: &str) -> DataChange {
    let mut fields = Fields::new();
    fields.insert("yearly_premium".into(), text(yearly));
    DataChange::SetPerilFields {
        exposure: "V1".into(),
        peril: "V1-COLL".into(),
        fields,
    }
}

fn endorse(
    book: &mut PolicyBook,
    effective: NaiveDate,
    changes: Vec<DataChange>,
) -> TransactionRecord {
    record(book.execute(
        &PolicyCommand::Endorse {
            policy: "P1".into(),
            effective,
            changes,
        },
        &context(&format!("endorse-{effective}")),
        &FieldRaters,
    ))
}

fn reverse(book: &mut PolicyBook, transaction: &str) -> TransactionRecord {
    record(book.execute(
        &PolicyCommand::Reverse {
            policy: "P1".into(),
            transaction: transaction.into(),
        },
        &context(&format!("reverse-{transaction}")),
        &FieldRaters,
    ))
}

fn amounts(record: &TransactionRecord, charge: &str) -> Vec<Decimal> {
    record
        .charges
        .iter()
        .filter(|c| c.charge == charge)
        .map(|c| c.amount.amount)
        .collect()
}

fn premium_total(book: &PolicyBook) -> Decimal {
    book.policy("P1").unwrap().charge_total("premium")
}

/// The premium of the final priced timeline, priced from nothing: what the
/// policy's premium charges must sum to.
fn repriced_total(book: &PolicyBook) -> Decimal {
    let policy = book.policy("P1").unwrap();
    policy
        .priced
        .values()
        .map(|after| {
            super::charges::timeline_difference(
                &[],
                after,
                &policy.header.product,
                policy.header.product.duration_basis,
                policy.header.product.rounding_mode,
                crate::billing::Arithmetic::Written,
            )
            .unwrap()
            .iter()
            .filter(|d| d.charge == "premium")
            .map(|d| d.amount)
            .sum::<Decimal>()
        })
        .sum()
}

fn days_product() -> ProductConfig {
    ProductConfig {
        duration_basis: DurationBasis::Days,
        ..auto_product()
    }
}

#[test]
fn e1_removing_the_peril_at_mid_year_leaves_500_by_months() {
    let mut book = book_with(auto_product());
    let nb = issue(&mut book, date(2021, 1, 1), data("1000.00"));
    assert_eq!(amounts(&nb, "premium"), vec![dec!(1000.00)]);
    let change = DataChange::RemovePeril {
        exposure: "V1".into(),
        locator: "V1-COLL".into(),
    };
    let endorsement = endorse(&mut book, date(2021, 7, 1), vec![change]);
    assert_eq!(amounts(&endorsement, "premium"), vec![dec!(-500.00)]);
    assert_eq!(premium_total(&book), dec!(500.00));
}

#[test]
fn e1_removing_the_peril_at_mid_year_leaves_495_89_by_days() {
    let mut book = book_with(days_product());
    issue(&mut book, date(2021, 1, 1), data("1000.00"));
    let change = DataChange::RemovePeril {
        exposure: "V1".into(),
        locator: "V1-COLL".into(),
    };
    let endorsement = endorse(&mut book, date(2021, 7, 1), vec![change]);
    // The second part is the remainder: 1000.00 − 495.89.
    assert_eq!(amounts(&endorsement, "premium"), vec![dec!(-504.11)]);
    assert_eq!(premium_total(&book), dec!(495.89));
}

#[test]
fn an_endorsement_that_changes_nothing_charges_nothing_not_even_a_cent() {
    let mut book = book_with(days_product());
    issue(&mut book, date(2021, 1, 1), data("1000.00"));
    let mut fields = Fields::new();
    fields.insert("colour".into(), text("red"));
    let endorsement = endorse(
        &mut book,
        date(2021, 3, 17),
        vec![DataChange::SetExposureFields {
            exposure: "V1".into(),
            fields,
        }],
    );
    assert!(endorsement.charges.is_empty(), "{:?}", endorsement.charges);
    assert_eq!(premium_total(&book), dec!(1000.00));
}

#[test]
fn e3_cancelling_at_mid_term_credits_500_and_keeps_a_50_holdback() {
    let mut book = book_with(auto_product());
    issue(&mut book, date(2021, 1, 1), data("1000.00"));
    let cancellation = record(book.execute(
        &PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: date(2021, 7, 1),
            reason: Default::default(),
        },
        &context("cancel"),
        &FieldRaters,
    ));
    assert_eq!(amounts(&cancellation, "premium"), vec![dec!(-500.00)]);
    assert_eq!(amounts(&cancellation, "short-rate"), vec![dec!(50.00)]);
    let net: Decimal = cancellation.charges.iter().map(|c| c.amount.amount).sum();
    assert_eq!(net, dec!(-450.00));

    let reinstatement = record(book.execute(
        &PolicyCommand::Reinstate {
            policy: "P1".into(),
            effective: date(2021, 7, 1),
        },
        &context("reinstate"),
        &FieldRaters,
    ));
    assert_eq!(amounts(&reinstatement, "premium"), vec![dec!(500.00)]);
    assert_eq!(amounts(&reinstatement, "short-rate"), vec![dec!(-50.00)]);
    assert_eq!(
        reinstatement
            .charges
            .iter()
            .map(|c| c.amount.amount)
            .sum::<Decimal>(),
        dec!(450.00)
    );
    assert_eq!(premium_total(&book), dec!(1000.00));
}

#[test]
fn reinstating_with_a_gap_does_not_charge_for_the_gap() {
    let mut book = book_with(auto_product());
    issue(&mut book, date(2021, 1, 1), data("1200.00"));
    book.execute(
        &PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: date(2021, 5, 1),
            reason: Default::default(),
        },
        &context("c"),
        &FieldRaters,
    )
    .unwrap();
    let reinstatement = record(book.execute(
        &PolicyCommand::Reinstate {
            policy: "P1".into(),
            effective: date(2021, 7, 1),
        },
        &context("r"),
        &FieldRaters,
    ));
    // Six months restored of a 1200.00 year; May and June stay uncovered.
    assert_eq!(amounts(&reinstatement, "premium"), vec![dec!(600.00)]);
    assert_eq!(premium_total(&book), dec!(1000.00));
}

#[test]
fn a_cancelled_policy_cannot_be_endorsed_or_cancelled_again_and_a_live_one_cannot_be_reinstated() {
    let mut book = book_with(auto_product());
    issue(&mut book, date(2021, 1, 1), data("1000.00"));
    let reinstate = PolicyCommand::Reinstate {
        policy: "P1".into(),
        effective: date(2021, 3, 1),
    };
    assert_eq!(
        book.execute(&reinstate, &context("r"), &FieldRaters)
            .unwrap_err()
            .code(),
        "policy_not_cancelled"
    );
    book.execute(
        &PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: date(2021, 2, 1),
            reason: Default::default(),
        },
        &context("c"),
        &FieldRaters,
    )
    .unwrap();
    let again = PolicyCommand::Cancel {
        policy: "P1".into(),
        effective: date(2021, 4, 1),
        reason: Default::default(),
    };
    assert_eq!(
        book.execute(&again, &context("c2"), &FieldRaters)
            .unwrap_err()
            .code(),
        "policy_not_in_force"
    );
    let endorse = PolicyCommand::Endorse {
        policy: "P1".into(),
        effective: date(2021, 5, 1),
        changes: vec![set_premium("1.00")],
    };
    assert_eq!(
        book.execute(&endorse, &context("e"), &FieldRaters)
            .unwrap_err()
            .code(),
        "policy_not_in_force"
    );
}

/// Seed 000: four consecutive changes, then reversing only the second.
fn four_endorsements(book: &mut PolicyBook) {
    issue(book, date(2021, 1, 1), data("1200.00"));
    endorse(book, date(2021, 3, 1), vec![set_premium("1800.00")]); // T2
    let mut second = BTreeMap::new();
    second.insert(
        "V1-GLASS".to_string(),
        PerilData {
            name: "glass".into(),
            ..peril("240.00")
        },
    );
    endorse(
        book,
        date(2021, 5, 1),
        vec![DataChange::AddPeril {
            exposure: "V1".into(),
            locator: "V1-GLASS".into(),
            peril: peril("240.00"),
        }],
    ); // T3
    endorse(book, date(2021, 7, 1), vec![set_premium("2400.00")]); // T4
    endorse(book, date(2021, 9, 1), vec![set_premium("600.00")]); // T5
}

#[test]
fn reversing_only_the_second_of_four_endorsements_leaves_the_other_three_in_effect() {
    let mut book = book_with(auto_product());
    four_endorsements(&mut book);
    // Collision: 1200 × 2/12 + 1800 × 4/12 + 2400 × 2/12 + 600 × 4/12 = 1400;
    // glass from May: 240 × 8/12 = 160.
    assert_eq!(premium_total(&book), dec!(1560.00));
    let reversal = reverse(&mut book, "P1-T3");
    assert_eq!(amounts(&reversal, "premium"), vec![dec!(-160.00)]);
    assert_eq!(premium_total(&book), dec!(1400.00));
    let policy = book.policy("P1").unwrap();
    assert_eq!(
        policy.transaction("P1-T3").unwrap().reversed_by.as_deref(),
        Some("P1-T6")
    );
    for other in ["P1-T2", "P1-T4", "P1-T5"] {
        assert!(policy.transaction(other).unwrap().reversed_by.is_none());
    }
    assert_eq!(premium_total(&book), repriced_total(&book));
}

#[test]
fn reversing_a_middle_premium_change_gives_the_net_difference() {
    let mut book = book_with(auto_product());
    four_endorsements(&mut book);
    // Without T4 (2400 from July), July and August go back to 1800:
    // (1800 − 2400) × 2/12 = −100.00.
    let reversal = reverse(&mut book, "P1-T4");
    assert_eq!(amounts(&reversal, "premium"), vec![dec!(-100.00)]);
}

fn final_state(book: &PolicyBook) -> (Decimal, BTreeMap<u32, Vec<crate::domain::Period>>) {
    let policy = book.policy("P1").unwrap();
    let periods = policy
        .priced
        .iter()
        .map(|(t, s)| (*t, s.iter().map(|s| s.period).collect()))
        .collect();
    (premium_total(book), periods)
}

#[test]
fn reversing_three_endorsements_in_every_order_ends_in_the_same_state() {
    let orders = [
        ["P1-T2", "P1-T3", "P1-T4"],
        ["P1-T2", "P1-T4", "P1-T3"],
        ["P1-T3", "P1-T2", "P1-T4"],
        ["P1-T3", "P1-T4", "P1-T2"],
        ["P1-T4", "P1-T2", "P1-T3"],
        ["P1-T4", "P1-T3", "P1-T2"],
    ];
    let mut states = Vec::new();
    for order in orders {
        let mut book = book_with(auto_product());
        four_endorsements(&mut book);
        for transaction in order {
            reverse(&mut book, transaction);
        }
        assert_eq!(premium_total(&book), repriced_total(&book));
        states.push(final_state(&book));
    }
    // Only new business and T5 (600.00 from September) remain:
    // 1200 × 8/12 + 600 × 4/12 = 1000.00.
    assert_eq!(states[0].0, dec!(1000.00));
    assert!(states.iter().all(|s| *s == states[0]));
}

#[test]
fn an_out_of_sequence_endorsement_gives_the_same_charges_as_date_order() {
    let mut in_order = book_with(auto_product());
    issue(&mut in_order, date(2021, 1, 1), data("1200.00"));
    endorse(
        &mut in_order,
        date(2021, 4, 1),
        vec![set_premium("1800.00")],
    );
    endorse(
        &mut in_order,
        date(2021, 10, 1),
        vec![set_premium("600.00")],
    );

    let mut out_of_order = book_with(auto_product());
    issue(&mut out_of_order, date(2021, 1, 1), data("1200.00"));
    let later = endorse(
        &mut out_of_order,
        date(2021, 10, 1),
        vec![set_premium("600.00")],
    );
    assert_eq!(amounts(&later, "premium"), vec![dec!(-150.00)]);
    let earlier = endorse(
        &mut out_of_order,
        date(2021, 4, 1),
        vec![set_premium("1800.00")],
    );
    // Applied as if in date order: April to October at 1800, then the
    // later 600 re-applied: (1800 − 1200) × 6/12 = 300.00.
    assert_eq!(amounts(&earlier, "premium"), vec![dec!(300.00)]);
    assert_eq!(final_state(&in_order), final_state(&out_of_order));
    // 1200 × 3/12 + 1800 × 6/12 + 600 × 3/12.
    assert_eq!(premium_total(&out_of_order), dec!(1350.00));
}

#[test]
fn an_out_of_sequence_change_to_one_field_keeps_a_later_change_to_another() {
    let mut book = book_with(auto_product());
    issue(&mut book, date(2021, 1, 1), data("1200.00"));
    let mut second = Fields::new();
    second.insert("colour".into(), text("red"));
    endorse(
        &mut book,
        date(2021, 7, 1),
        vec![DataChange::SetExposureFields {
            exposure: "V1".into(),
            fields: second,
        }],
    );
    endorse(&mut book, date(2021, 4, 1), vec![set_premium("2400.00")]);
    let policy = book.policy("P1").unwrap();
    let data = policy.data_at(date(2021, 8, 1));
    assert_eq!(data.exposures["V1"].fields["colour"], text("red"));
    assert_eq!(
        data.exposures["V1"].perils["V1-COLL"].fields["yearly_premium"],
        text("2400.00")
    );
}

// ---- Seed 001: flat charges ----

fn flat_data(yearly: &str, charge: &str, amount: &str, on: &str) -> PolicyData {
    let mut d = data(yearly);
    d.fields.insert(format!("flat:{charge}"), text(amount));
    d.fields.insert("flat_on".into(), text(on));
    d
}

#[test]
fn a_flat_charge_from_rating_is_not_prorated() {
    let mut book = book_with(auto_product());
    let nb = issue(
        &mut book,
        date(2021, 1, 1),
        flat_data("1000.00", "policy-fee", "25.00", "new_business"),
    );
    let fee = nb
        .charges
        .iter()
        .find(|c| c.charge == "policy-fee")
        .unwrap();
    assert_eq!(fee.amount.amount, dec!(25.00));
    assert_eq!(fee.handling, Handling::Flat);
    assert_eq!(fee.invoicing, Invoicing::Next);
    assert_eq!(fee.period, None);
}

#[test]
fn a_cancellation_does_not_touch_flat_charges() {
    let mut book = book_with(auto_product());
    issue(
        &mut book,
        date(2021, 1, 1),
        flat_data("1000.00", "policy-fee", "25.00", "new_business"),
    );
    let cancellation = record(book.execute(
        &PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: date(2021, 7, 1),
            reason: Default::default(),
        },
        &context("cancel"),
        &FieldRaters,
    ));
    assert!(amounts(&cancellation, "policy-fee").is_empty());
    assert_eq!(
        book.policy("P1").unwrap().charge_total("policy-fee"),
        dec!(25.00)
    );
}

#[test]
fn a_re_applied_transaction_keeps_its_original_flat_charge() {
    let mut book = book_with(auto_product());
    issue(
        &mut book,
        date(2021, 1, 1),
        flat_data("1000.00", "service-fee", "10.00", "endorsement"),
    );
    let july = endorse(&mut book, date(2021, 7, 1), vec![set_premium("1200.00")]);
    assert_eq!(amounts(&july, "service-fee"), vec![dec!(10.00)]);
    // Out of sequence: July's endorsement is re-applied after April's, but
    // only April's own flat charge is booked.
    let april = endorse(&mut book, date(2021, 4, 1), vec![set_premium("1100.00")]);
    assert_eq!(amounts(&april, "service-fee"), vec![dec!(10.00)]);
    assert_eq!(
        book.policy("P1").unwrap().charge_total("service-fee"),
        dec!(20.00)
    );
}

#[test]
fn reversing_a_transaction_reverses_its_flat_charges() {
    let mut book = book_with(auto_product());
    issue(
        &mut book,
        date(2021, 1, 1),
        flat_data("1000.00", "service-fee", "10.00", "endorsement"),
    );
    let july = endorse(&mut book, date(2021, 7, 1), vec![set_premium("1200.00")]);
    let fee = july
        .charges
        .iter()
        .find(|c| c.charge == "service-fee")
        .unwrap()
        .locator
        .clone();
    let reversal = reverse(&mut book, &july.transaction.locator);
    let inverse = reversal
        .charges
        .iter()
        .find(|c| c.charge == "service-fee")
        .unwrap();
    assert_eq!(inverse.amount.amount, dec!(-10.00));
    assert_eq!(inverse.reverses.as_deref(), Some(fee.as_str()));
    assert_eq!(amounts(&reversal, "premium"), vec![dec!(-100.00)]);
    assert_eq!(
        book.policy("P1").unwrap().charge_total("service-fee"),
        dec!(0)
    );
}

#[test]
fn flat_charges_added_by_command_are_next_or_immediate_and_scheduled_becomes_next() {
    let mut book = book_with(auto_product());
    issue(&mut book, date(2021, 1, 1), data("1000.00"));
    let add = |invoicing| PolicyCommand::AddFlatCharge {
        account: "A1".into(),
        policy: Some("P1".into()),
        charge: "setup-fee".into(),
        amount: dec!(15.00),
        invoicing,
        description: String::new(),
    };
    for (asked, booked) in [
        (Some(Invoicing::Scheduled), Invoicing::Next),
        (None, Invoicing::Next),
        (Some(Invoicing::Immediate), Invoicing::Immediate),
    ] {
        let events = book
            .execute(&add(asked), &context("add"), &FieldRaters)
            .unwrap();
        let BookEvent::FlatChargeAdded { charge } = &events[0] else {
            panic!()
        };
        assert_eq!(charge.invoicing, booked);
        assert_eq!(charge.amount.amount, dec!(15.00));
    }
    let premium = PolicyCommand::AddFlatCharge {
        account: "A1".into(),
        policy: Some("P1".into()),
        charge: "premium".into(),
        amount: dec!(15.00),
        invoicing: None,
        description: String::new(),
    };
    assert_eq!(
        book.execute(&premium, &context("bad"), &FieldRaters)
            .unwrap_err()
            .code(),
        "undefined_charge"
    );
}

#[test]
fn a_flat_charge_with_no_policy_is_kept_on_the_account() {
    let mut book = book_with(auto_product());
    let command = PolicyCommand::AddFlatCharge {
        account: "A1".into(),
        policy: None,
        charge: "service-fee".into(),
        amount: dec!(7.50),
        invoicing: None,
        description: "paper invoice".into(),
    };
    book.execute(&command, &context("add"), &FieldRaters)
        .unwrap();
    assert_eq!(book.account_charges.len(), 1);
    assert_eq!(book.account_charges[0].invoicing, Invoicing::Immediate);
}

#[test]
fn a_reverse_charge_inverts_a_flat_charge_and_cannot_itself_be_reversed() {
    let mut book = book_with(auto_product());
    issue(
        &mut book,
        date(2021, 1, 1),
        flat_data("1000.00", "policy-fee", "25.00", "new_business"),
    );
    let fee = book
        .policy("P1")
        .unwrap()
        .charges
        .iter()
        .find(|c| c.charge == "policy-fee")
        .unwrap()
        .locator
        .clone();
    let events = book
        .execute(
            &PolicyCommand::ReverseCharges {
                account: "A1".into(),
                charges: vec![fee.clone()],
            },
            &context("rc"),
            &FieldRaters,
        )
        .unwrap();
    let BookEvent::FlatChargeAdded { charge: inverse } = &events[0] else {
        panic!()
    };
    assert_eq!(inverse.amount.amount, dec!(-25.00));
    assert_eq!(inverse.reverses.as_deref(), Some(fee.as_str()));
    let again = PolicyCommand::ReverseCharges {
        account: "A1".into(),
        charges: vec![inverse.locator.clone()],
    };
    let error = book
        .execute(&again, &context("rc2"), &FieldRaters)
        .unwrap_err();
    assert!(error.to_string().contains("cannot be reversed"), "{error}");
    let twice = PolicyCommand::ReverseCharges {
        account: "A1".into(),
        charges: vec![fee],
    };
    assert!(
        book.execute(&twice, &context("rc3"), &FieldRaters)
            .unwrap_err()
            .to_string()
            .contains("already reversed")
    );
    assert_eq!(
        book.policy("P1").unwrap().charge_total("policy-fee"),
        dec!(0)
    );
}

#[test]
fn a_rater_flat_charge_the_product_does_not_define_as_flat_is_refused() {
    let mut book = book_with(auto_product());
    let bad = PolicyCommand::IssuePolicy {
        locator: "P1".into(),
        account: "A1".into(),
        product: "auto".into(),
        start: date(2021, 1, 1),
        plan: None,
        time_zone: "UTC".into(),
        data: flat_data("1000.00", "premium-tax", "5.00", "new_business"),
        bind: Default::default(),
    };
    assert_eq!(
        book.execute(&bad, &context("i"), &FieldRaters).unwrap_err(),
        PolicyError::UndefinedCharge("premium-tax".into())
    );
    assert!(
        book.policies.is_empty(),
        "a refused command changes nothing"
    );
}

#[test]
fn reversing_a_reinstatement_keeps_the_holdback_again() {
    let mut book = book_with(auto_product());
    issue(&mut book, date(2021, 1, 1), data("1000.00"));
    book.execute(
        &PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: date(2021, 7, 1),
            reason: Default::default(),
        },
        &context("c"),
        &FieldRaters,
    )
    .unwrap();
    let reinstatement = record(book.execute(
        &PolicyCommand::Reinstate {
            policy: "P1".into(),
            effective: date(2021, 7, 1),
        },
        &context("r"),
        &FieldRaters,
    ));
    let reversal = reverse(&mut book, &reinstatement.transaction.locator);
    assert_eq!(amounts(&reversal, "premium"), vec![dec!(-500.00)]);
    assert_eq!(amounts(&reversal, "short-rate"), vec![dec!(50.00)]);
    assert_eq!(
        book.policy("P1").unwrap().charge_total("short-rate"),
        dec!(50.00)
    );
    assert_eq!(premium_total(&book), dec!(500.00));
}

#[test]
fn commissions_are_booked_per_recipient_and_not_billed() {
    let mut book = book_with(auto_product());
    let mut d = data("1000.00");
    d.fields.insert("commission_percent".into(), text("10"));
    d.fields.insert("producer".into(), text("agency-7"));
    let nb = issue(&mut book, date(2021, 1, 1), d);
    let commission = nb
        .charges
        .iter()
        .find(|c| c.charge == "commission")
        .unwrap();
    assert_eq!(commission.amount.amount, dec!(100.00));
    assert_eq!(commission.recipient.as_deref(), Some("agency-7"));
    assert!(
        nb.slices.iter().all(|s| s.charge != commission.locator),
        "commissions are not invoiced"
    );
}

#[test]
fn a_monthly_plan_spreads_new_business_into_twelve_level_installments() {
    let mut product = auto_product();
    product.default_plan = "monthly".into();
    let mut book = book_with(product);
    let nb = issue(&mut book, date(2021, 1, 1), data("1000.00"));
    let amounts: Vec<Decimal> = nb.slices.iter().map(|s| s.amount.amount).collect();
    assert_eq!(amounts.len(), 12);
    assert_eq!(amounts.iter().copied().sum::<Decimal>(), dec!(1000.00));
    // [E7]: 8 × 83.33 then 4 × 83.34.
    assert_eq!(amounts[0], dec!(83.33));
    assert_eq!(amounts[11], dec!(83.34));
    assert_eq!(nb.slices[0].invoice_date, date(2021, 1, 1));
}

#[test]
fn renewal_opens_a_new_term_priced_on_its_own() {
    let mut book = book_with(auto_product());
    issue(&mut book, date(2021, 1, 1), data("1000.00"));
    let renewal = record(book.execute(
        &PolicyCommand::Renew {
            policy: "P1".into(),
            plan: None,
            changes: vec![set_premium("1100.00")],
        },
        &context("renew"),
        &FieldRaters,
    ));
    assert_eq!(renewal.term.as_ref().unwrap().number, 2);
    assert_eq!(
        renewal.term.as_ref().unwrap().period.start(),
        date(2022, 1, 1)
    );
    assert_eq!(amounts(&renewal, "premium"), vec![dec!(1100.00)]);
    assert_eq!(premium_total(&book), dec!(2100.00));
}

#[test]
fn a_change_after_renewal_effective_in_the_first_term_flows_into_the_second() {
    let mut book = book_with(auto_product());
    issue(&mut book, date(2021, 1, 1), data("1200.00"));
    book.execute(
        &PolicyCommand::Renew {
            policy: "P1".into(),
            plan: None,
            changes: vec![],
        },
        &context("renew"),
        &FieldRaters,
    )
    .unwrap();
    let endorsement = endorse(&mut book, date(2021, 7, 1), vec![set_premium("2400.00")]);
    // Rest of term 1: +600.00; all of term 2: +1200.00.
    let mut premiums = amounts(&endorsement, "premium");
    premiums.sort();
    assert_eq!(premiums, vec![dec!(600.00), dec!(1200.00)]);
}

#[test]
fn replaying_the_events_rebuilds_the_same_book() {
    let mut book = book_with(auto_product());
    let mut events = Vec::new();
    events.push(BookEvent::ProductDeployed {
        product: auto_product(),
    });
    events.push(BookEvent::AccountCreated {
        account: book.accounts["A1"].clone(),
    });
    let nb = PolicyCommand::IssuePolicy {
        locator: "P1".into(),
        account: "A1".into(),
        product: "auto".into(),
        start: date(2021, 1, 1),
        plan: Some("monthly".into()),
        time_zone: "UTC".into(),
        data: flat_data("1000.00", "policy-fee", "25.00", "new_business"),
        bind: Default::default(),
    };
    events.extend(book.execute(&nb, &context("i"), &FieldRaters).unwrap());
    for (effective, premium) in [(date(2021, 3, 1), "1300.00"), (date(2021, 2, 1), "900.00")] {
        let command = PolicyCommand::Endorse {
            policy: "P1".into(),
            effective,
            changes: vec![set_premium(premium)],
        };
        events.extend(book.execute(&command, &context("e"), &FieldRaters).unwrap());
    }
    events.extend(
        book.execute(
            &PolicyCommand::Reverse {
                policy: "P1".into(),
                transaction: "P1-T2".into(),
            },
            &context("r"),
            &FieldRaters,
        )
        .unwrap(),
    );
    let json = serde_json::to_string(&events).unwrap();
    let replayed: Vec<BookEvent> = serde_json::from_str(&json).unwrap();
    let mut rebuilt = PolicyBook::new();
    replayed.iter().for_each(|event| rebuilt.apply(event));
    assert_eq!(rebuilt, book);
}

#[test]
fn a_preview_returns_the_effect_and_changes_nothing() {
    let mut book = book_with(auto_product());
    issue(&mut book, date(2021, 1, 1), data("1000.00"));
    let before = book.clone();
    let commands = [
        PolicyCommand::Endorse {
            policy: "P1".into(),
            effective: date(2021, 7, 1),
            changes: vec![set_premium("2000.00")],
        },
        PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: date(2021, 10, 1),
            reason: Default::default(),
        },
    ];
    let (after, events) = book
        .preview(&commands, &context("p"), &FieldRaters)
        .unwrap();
    assert_eq!(book, before);
    assert_eq!(events.len(), 2);
    // 1000 × 6/12 + 2000 × 3/12, nothing after October.
    assert_eq!(
        after.policy("P1").unwrap().charge_total("premium"),
        dec!(1000.00)
    );
    for command in &commands {
        book.execute(command, &context("p"), &FieldRaters).unwrap();
    }
    assert_eq!(book, after, "committing gives what the preview showed");
}

#[test]
fn a_charge_is_explained_by_its_transaction_rating_call_and_arithmetic() {
    let mut book = book_with(auto_product());
    issue(&mut book, date(2021, 1, 1), data("1000.00"));
    let endorsement = endorse(&mut book, date(2021, 7, 1), vec![set_premium("1200.00")]);
    let charge = &endorsement.charges[0];
    assert_eq!(charge.amount.amount, dec!(100.00));
    let audit = explain(charge, Some(&endorsement));
    assert_eq!(audit.transaction.as_ref().unwrap().locator, "P1-T2");
    assert_eq!(audit.rating_calls.len(), 1);
    let call = &audit.rating_calls[0];
    assert_eq!(call.period.start(), date(2021, 7, 1));
    assert_eq!(
        call.rater,
        crate::rating::RaterIdentity::Native {
            name: "field-rater".into()
        }
    );
    assert_eq!(
        call.response.items[0].premium,
        crate::rating::Premium::Yearly(dec!(1200.00))
    );
    assert_eq!(
        charge.explanation.duration_basis,
        Some(DurationBasis::Months)
    );
    let arithmetic = charge.explanation.arithmetic.join("\n");
    assert!(
        arithmetic.contains("after:") && arithmetic.contains("yearly 1200.00"),
        "{arithmetic}"
    );
    assert!(
        arithmetic.contains("before:") && arithmetic.contains("yearly 1000.00"),
        "{arithmetic}"
    );
}

#[test]
fn without_a_product_holdback_the_rater_names_the_retention_when_pricing_the_cancelled_span() {
    let product = ProductConfig {
        cancellation_retention: None,
        ..auto_product()
    };
    let mut book = book_with(product);
    issue(
        &mut book,
        date(2021, 1, 1),
        flat_data("1000.00", "short-rate", "30.00", "cancellation"),
    );
    let cancellation = record(book.execute(
        &PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: date(2021, 7, 1),
            reason: Default::default(),
        },
        &context("cancel"),
        &FieldRaters,
    ));
    assert_eq!(amounts(&cancellation, "premium"), vec![dec!(-500.00)]);
    let retained = cancellation
        .charges
        .iter()
        .find(|c| c.charge == "short-rate")
        .unwrap();
    assert_eq!(retained.amount.amount, dec!(30.00));
    assert_eq!(retained.handling, Handling::Retention);
    assert!(
        retained.explanation.rater.is_some(),
        "the rater that asked for it is recorded"
    );
}

/// A reversal whose effect differs by period books one charge per period, so
/// installments bill each month what its coverage costs: 1200.00 a year
/// raised to 2400.00 from July, cancelled from March (issued after the
/// endorsement), then the cancellation reversed: +400.00 for March-June
/// (4 months at 1200.00) and +1200.00 for July-December (6 at 2400.00),
/// not one charge of 1600.00 spread evenly over ten months.
#[test]
fn reversing_a_cancellation_books_a_charge_per_rate_so_each_month_bills_its_cost() {
    let mut product = auto_product();
    product.default_plan = "monthly".into();
    let mut book = book_with(product);
    issue(&mut book, date(2021, 1, 1), data("1200.00"));
    endorse(&mut book, date(2021, 7, 1), vec![set_premium("2400.00")]);
    let cancellation = record(book.execute(
        &PolicyCommand::Cancel {
            policy: "P1".into(),
            effective: date(2021, 3, 1),
            reason: Default::default(),
        },
        &context("cancel"),
        &FieldRaters,
    ));
    let periods = |record: &TransactionRecord| -> Vec<(Decimal, NaiveDate, NaiveDate)> {
        record
            .charges
            .iter()
            .filter(|c| c.charge == "premium")
            .map(|c| {
                let p = c.period.unwrap();
                (c.amount.amount, p.start(), p.end())
            })
            .collect()
    };
    assert_eq!(
        periods(&cancellation),
        vec![
            (dec!(-400.00), date(2021, 3, 1), date(2021, 7, 1)),
            (dec!(-1200.00), date(2021, 7, 1), date(2022, 1, 1)),
        ]
    );
    let reversal = reverse(&mut book, &cancellation.transaction.locator);
    assert_eq!(
        periods(&reversal),
        vec![
            (dec!(400.00), date(2021, 3, 1), date(2021, 7, 1)),
            (dec!(1200.00), date(2021, 7, 1), date(2022, 1, 1)),
        ]
    );
    // Every month bills what its coverage costs: 100.00 to June, 200.00 after.
    let policy = book.policy("P1").unwrap();
    let mut months = BTreeMap::new();
    for slice in &policy.slices {
        *months.entry(slice.installment).or_insert(dec!(0)) += slice.amount.amount;
    }
    let expected: Vec<Decimal> = (0..12)
        .map(|m| if m < 6 { dec!(100.00) } else { dec!(200.00) })
        .collect();
    assert_eq!(months.into_values().collect::<Vec<_>>(), expected);
}

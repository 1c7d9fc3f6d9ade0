//! Which transactions ask the rater, about what, with which operation and
//! locators (DOMAIN section 9: a rating result belongs to a characteristic;
//! seed 004's locators). A counting in-process rater records every call.
//!
//! Policy `P1`: vehicle `V1` with collision (`V1-COLL`, 1200.00 yearly) and
//! comprehensive (`V1-COMP`, 300.00 yearly) on [2026-01-01, 2027-01-01),
//! months basis.

use crate::policy::product::tests::auto_product;
use crate::policy::*;
use crate::rating::{
    CallLocators, FieldRater, FieldValue, Operation, RateRequest, RateResponse, Rater,
    RaterFailure, RaterIdentity, RatingError,
};
use crate::test_support::{OneRater, date};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How the counting rater answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Prices by the peril fields, as [`FieldRater`].
    Answers,
    /// Declines every new-business request.
    DeclinesNewBusiness,
    /// Fails every call (the service is down).
    Down,
}

/// One call the rater received.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Call {
    operation: Operation,
    items: Vec<String>,
    segment: (NaiveDate, NaiveDate),
    locators: CallLocators,
}

struct Counting {
    mode: Mutex<Mode>,
    calls: Mutex<Vec<Call>>,
}

impl Rater for Counting {
    fn rate(&self, request: &RateRequest) -> Result<RateResponse, RatingError> {
        self.rate_with_call_locators(request, &CallLocators::default())
            .map(|(response, _)| response)
    }

    fn identity(&self) -> RaterIdentity {
        RaterIdentity::Native {
            name: "counting".into(),
        }
    }

    fn rate_with_call_locators(
        &self,
        request: &RateRequest,
        locators: &CallLocators,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        self.calls.lock().unwrap().push(Call {
            operation: request.operation,
            items: request.items.iter().map(|i| i.locator.clone()).collect(),
            segment: (request.segment.start, request.segment.end),
            locators: locators.clone(),
        });
        match *self.mode.lock().unwrap() {
            Mode::Down => Err(RatingError::failed(
                "counting",
                RaterFailure::Unavailable,
                "connection refused",
            )),
            Mode::DeclinesNewBusiness if request.operation == Operation::NewBusiness => {
                Err(RatingError::Declined("no new business this quarter".into()))
            }
            _ => Ok((FieldRater.rate(request)?, self.identity())),
        }
    }
}

fn context(key: &str) -> CommandContext {
    CommandContext {
        actor: "tester".into(),
        issued_at: Utc.with_ymd_and_hms(2025, 12, 15, 12, 0, 0).unwrap(),
        idempotency_key: Some(key.into()),
        arithmetic: crate::billing::Arithmetic::Written,
        pending_slices: None,
        today: None,
    }
}

fn premium_field(field: &str, amount: &str) -> Fields {
    let mut fields = Fields::new();
    fields.insert(field.into(), vec![FieldValue::Text(amount.into())]);
    fields
}

fn data(field: &str) -> PolicyData {
    let mut perils = BTreeMap::new();
    for (locator, name, amount) in [
        ("V1-COLL", "collision", "1200.00"),
        ("V1-COMP", "comprehensive", "300.00"),
    ] {
        let amount = if field == "exact_premium" && locator == "V1-COLL" {
            "370.56"
        } else {
            amount
        };
        perils.insert(
            locator.to_string(),
            PerilData {
                name: name.into(),
                fields: premium_field(field, amount),
            },
        );
    }
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

/// A book with `P1` issued through the counting rater, which then answers
/// as `mode`.
struct Fixture {
    book: PolicyBook,
    rater: Arc<Counting>,
    n: u32,
}

impl Fixture {
    fn issued(field: &str) -> Fixture {
        let rater = Arc::new(Counting {
            mode: Mutex::new(Mode::Answers),
            calls: Mutex::new(Vec::new()),
        });
        let mut fixture = Fixture {
            book: PolicyBook::new(),
            rater,
            n: 0,
        };
        fixture.run(PolicyCommand::DeployProduct {
            product: auto_product(),
        });
        fixture.run(PolicyCommand::CreateAccount {
            locator: "A1".into(),
            name: "Ada".into(),
            currency: crate::domain::Currency::USD,
        });
        fixture.run(PolicyCommand::IssuePolicy {
            locator: "P1".into(),
            account: "A1".into(),
            product: "auto".into(),
            start: date(2026, 1, 1),
            plan: None,
            time_zone: "UTC".into(),
            data: data(field),
            bind: Default::default(),
        });
        fixture
    }

    fn answering(self, mode: Mode) -> Fixture {
        *self.rater.mode.lock().unwrap() = mode;
        self
    }

    fn try_run(&mut self, command: PolicyCommand) -> Result<Vec<BookEvent>, PolicyError> {
        self.n += 1;
        let resolver = OneRater(self.rater.clone());
        self.book
            .execute(&command, &context(&format!("c{}", self.n)), &resolver)
    }

    fn run(&mut self, command: PolicyCommand) -> Vec<BookEvent> {
        self.try_run(command).unwrap()
    }

    /// The calls since the last time they were taken.
    fn calls(&self) -> Vec<Call> {
        std::mem::take(&mut *self.rater.calls.lock().unwrap())
    }

    /// The premium charges (all perils) a transaction booked.
    fn premium_of(events: &[BookEvent]) -> Decimal {
        events
            .iter()
            .filter_map(|e| match e {
                BookEvent::TransactionIssued { record } => Some(record),
                _ => None,
            })
            .flat_map(|r| r.charges.iter())
            .filter(|c| c.charge == "premium")
            .map(|c| c.amount.amount)
            .sum()
    }

    fn premium_total(&self) -> Decimal {
        self.book.policy("P1").unwrap().charge_total("premium")
    }

    fn repriced_total(&self) -> Decimal {
        let policy = self.book.policy("P1").unwrap();
        policy
            .priced
            .values()
            .map(|t| repriced_total(t, &policy.header.product, "premium"))
            .sum()
    }
}

fn set(peril: &str, field: &str, amount: &str) -> DataChange {
    DataChange::SetPerilFields {
        exposure: "V1".into(),
        peril: peril.into(),
        fields: premium_field(field, amount),
    }
}

fn endorse(effective: NaiveDate, changes: Vec<DataChange>) -> PolicyCommand {
    PolicyCommand::Endorse {
        policy: "P1".into(),
        effective,
        changes,
    }
}

fn cancel(effective: NaiveDate) -> PolicyCommand {
    PolicyCommand::Cancel {
        policy: "P1".into(),
        effective,
        reason: Default::default(),
    }
}

fn term() -> (NaiveDate, NaiveDate) {
    (date(2026, 1, 1), date(2027, 1, 1))
}

#[test]
fn new_business_asks_the_rater_once_for_the_term_with_its_quote_locator() {
    let fixture = Fixture::issued("yearly_premium");
    assert_eq!(
        fixture.calls(),
        vec![Call {
            operation: Operation::NewBusiness,
            items: vec!["V1-COLL".into(), "V1-COMP".into()],
            segment: term(),
            locators: CallLocators {
                quote_locator: Some("P1-T1".into()),
                ..CallLocators::default()
            },
        }]
    );
    assert_eq!(fixture.premium_total(), dec!(1500.00));
}

#[test]
fn an_endorsement_changing_one_peril_asks_only_about_that_peril_from_its_effective_date() {
    let mut fixture = Fixture::issued("yearly_premium");
    fixture.calls();
    let events = fixture.run(endorse(
        date(2026, 7, 1),
        vec![set("V1-COLL", "yearly_premium", "1800.00")],
    ));
    assert_eq!(
        fixture.calls(),
        vec![Call {
            operation: Operation::Endorsement,
            items: vec!["V1-COLL".into()],
            segment: (date(2026, 7, 1), date(2027, 1, 1)),
            locators: CallLocators {
                endorsement_locator: Some("P1-T2".into()),
                ..CallLocators::default()
            },
        }]
    );
    // (1800 − 1200) × 6/12.
    assert_eq!(Fixture::premium_of(&events), dec!(300.00));
    assert_eq!(fixture.premium_total(), fixture.repriced_total());
}

#[test]
fn an_endorsement_that_changes_nothing_asks_nothing_and_books_nothing() {
    let mut fixture = Fixture::issued("exact_premium");
    fixture.calls();
    let events = fixture.run(endorse(
        date(2026, 7, 1),
        vec![set("V1-COMP", "exact_premium", "300.00")],
    ));
    assert_eq!(fixture.calls(), vec![]);
    assert_eq!(Fixture::premium_of(&events), Decimal::ZERO);
    assert_eq!(fixture.premium_total(), dec!(670.56));
}

#[test]
fn cancellation_reinstatement_and_reversal_ask_the_rater_nothing() {
    let mut fixture = Fixture::issued("yearly_premium");
    fixture.run(endorse(
        date(2026, 7, 1),
        vec![set("V1-COLL", "yearly_premium", "1800.00")],
    ));
    fixture.calls();

    // 1800 × 3/12 + 300 × 3/12 back.
    let cancelled = fixture.run(cancel(date(2026, 10, 1)));
    assert_eq!(Fixture::premium_of(&cancelled), dec!(-525.00));
    let reinstated = fixture.run(PolicyCommand::Reinstate {
        policy: "P1".into(),
        effective: date(2026, 10, 1),
    });
    assert_eq!(Fixture::premium_of(&reinstated), dec!(525.00));
    // Without the endorsement, collision is 1200 again from July: the new
    // business result covers it.
    let reversed = fixture.run(PolicyCommand::Reverse {
        policy: "P1".into(),
        transaction: "P1-T2".into(),
    });
    assert_eq!(Fixture::premium_of(&reversed), dec!(-300.00));
    assert_eq!(fixture.calls(), vec![], "no transaction asked the rater");
    assert_eq!(fixture.premium_total(), dec!(1500.00));
    assert_eq!(fixture.premium_total(), fixture.repriced_total());
}

#[test]
fn a_renewal_onto_another_plan_asks_once_with_its_renewal_locator_and_plan_name() {
    let mut fixture = Fixture::issued("yearly_premium");
    fixture.run(endorse(
        date(2026, 7, 1),
        vec![set("V1-COLL", "yearly_premium", "1800.00")],
    ));
    fixture.calls();
    let renewed = fixture.run(PolicyCommand::Renew {
        policy: "P1".into(),
        plan: Some("monthly".into()),
        changes: vec![],
    });
    assert_eq!(
        fixture.calls(),
        vec![Call {
            operation: Operation::Renewal,
            items: vec!["V1-COLL".into(), "V1-COMP".into()],
            segment: (date(2027, 1, 1), date(2028, 1, 1)),
            locators: CallLocators {
                renewal_locator: Some("P1-T3".into()),
                new_payment_schedule_name: Some("monthly".into()),
                ..CallLocators::default()
            },
        }]
    );
    assert_eq!(Fixture::premium_of(&renewed), dec!(2100.00));
}

#[test]
fn a_reinstatement_with_new_data_never_priced_asks_about_it_with_its_locator() {
    let mut fixture = Fixture::issued("yearly_premium");
    fixture.run(cancel(date(2026, 7, 1)));
    // An out-of-sequence endorsement before the cancellation changes the
    // data the reinstated span would carry.
    fixture.run(endorse(
        date(2026, 4, 1),
        vec![set("V1-COMP", "yearly_premium", "600.00")],
    ));
    fixture.calls();
    fixture.run(PolicyCommand::Reinstate {
        policy: "P1".into(),
        effective: date(2026, 7, 1),
    });
    // Comprehensive at 600.00 was priced for [04-01, 07-01) only.
    assert_eq!(
        fixture.calls(),
        vec![Call {
            operation: Operation::Reinstatement,
            items: vec!["V1-COMP".into()],
            segment: (date(2026, 7, 1), date(2027, 1, 1)),
            locators: CallLocators {
                reinstatement_locator: Some("P1-T4".into()),
                ..CallLocators::default()
            },
        }]
    );
    assert_eq!(fixture.premium_total(), fixture.repriced_total());
}

#[test]
fn an_out_of_sequence_change_prices_each_new_combination_once() {
    let mut fixture = Fixture::issued("yearly_premium");
    fixture.run(endorse(
        date(2026, 7, 1),
        vec![set("V1-COLL", "yearly_premium", "1800.00")],
    ));
    fixture.calls();
    // Comprehensive raised from April, before the July endorsement: its new
    // input holds from April to the term's end, under both collisions.
    let events = fixture.run(endorse(
        date(2026, 4, 1),
        vec![set("V1-COMP", "yearly_premium", "600.00")],
    ));
    assert_eq!(
        fixture.calls(),
        vec![Call {
            operation: Operation::Endorsement,
            items: vec!["V1-COMP".into()],
            segment: (date(2026, 4, 1), date(2027, 1, 1)),
            locators: CallLocators {
                endorsement_locator: Some("P1-T3".into()),
                ..CallLocators::default()
            },
        }]
    );
    // (600 − 300) × 9/12.
    assert_eq!(Fixture::premium_of(&events), dec!(225.00));
    assert_eq!(fixture.premium_total(), fixture.repriced_total());
}

#[test]
fn a_mid_term_cancellation_refunds_exactly_half_an_exact_premium_without_asking() {
    let mut fixture = Fixture::issued("exact_premium");
    fixture.calls();
    let events = fixture.run(cancel(date(2026, 7, 1)));
    assert_eq!(fixture.calls(), vec![]);
    // Collision 370.56 for the term keeps 185.28; comprehensive 300.00
    // (exact too) keeps 150.00.
    let refund: Vec<(Option<String>, Decimal)> = match &events[0] {
        BookEvent::TransactionIssued { record } => record
            .charges
            .iter()
            .filter(|c| c.charge == "premium")
            .map(|c| (c.item.clone(), c.amount.amount))
            .collect(),
        other => panic!("expected a transaction, got {other:?}"),
    };
    assert_eq!(
        refund,
        vec![
            (Some("V1-COLL".into()), dec!(-185.28)),
            (Some("V1-COMP".into()), dec!(-150.00)),
        ]
    );
}

#[test]
fn a_split_exact_premium_still_sums_to_its_amount_and_is_explained_by_its_span() {
    let mut fixture = Fixture::issued("exact_premium");
    fixture.run(endorse(
        date(2026, 4, 11),
        vec![set("V1-COMP", "exact_premium", "450.00")],
    ));
    let policy = fixture.book.policy("P1").unwrap();
    let segments = &policy.priced[&1];
    assert_eq!(segments.len(), 2);
    // Collision was not asked again: both segments reuse the term's result.
    for segment in segments {
        assert_eq!(
            segment
                .recorded
                .get("V1-COLL")
                .map(|p| (p.start(), p.end())),
            Some(term())
        );
    }
    assert_eq!(fixture.premium_total(), fixture.repriced_total());
}

#[test]
fn with_a_rater_that_declines_new_business_existing_policies_still_endorse_and_cancel() {
    let mut fixture = Fixture::issued("yearly_premium").answering(Mode::DeclinesNewBusiness);
    fixture.calls();
    let endorsed = fixture.run(endorse(
        date(2026, 7, 1),
        vec![set("V1-COLL", "yearly_premium", "1800.00")],
    ));
    assert_eq!(Fixture::premium_of(&endorsed), dec!(300.00));
    let cancelled = fixture.run(cancel(date(2026, 10, 1)));
    assert_eq!(Fixture::premium_of(&cancelled), dec!(-525.00));
    assert!(
        fixture
            .calls()
            .iter()
            .all(|c| c.operation != Operation::NewBusiness),
        "no older segment is re-sent as new business"
    );
}

#[test]
fn with_the_rater_down_cancellations_reinstatements_and_reversals_still_work() {
    let mut fixture = Fixture::issued("yearly_premium");
    fixture.run(endorse(
        date(2026, 7, 1),
        vec![set("V1-COLL", "yearly_premium", "1800.00")],
    ));
    let mut fixture = fixture.answering(Mode::Down);
    let refused = fixture.try_run(endorse(
        date(2026, 8, 1),
        vec![set("V1-COLL", "yearly_premium", "2400.00")],
    ));
    assert!(
        matches!(
            refused,
            Err(PolicyError::Rating(RatingError::Failed { .. }))
        ),
        "a change of data needs the rater: {refused:?}"
    );
    fixture.run(cancel(date(2026, 10, 1)));
    fixture.run(PolicyCommand::Reinstate {
        policy: "P1".into(),
        effective: date(2026, 11, 1),
    });
    fixture.run(PolicyCommand::Reverse {
        policy: "P1".into(),
        transaction: "P1-T2".into(),
    });
    // New business less October.
    assert_eq!(fixture.premium_total(), dec!(1375.00));
    assert_eq!(fixture.premium_total(), fixture.repriced_total());
}

#[test]
fn replaying_the_events_rebuilds_the_book_without_any_rater() {
    let mut fixture = Fixture::issued("exact_premium");
    let mut events = Vec::new();
    for command in [
        endorse(
            date(2026, 4, 1),
            vec![set("V1-COMP", "exact_premium", "450.00")],
        ),
        cancel(date(2026, 9, 1)),
        PolicyCommand::Reverse {
            policy: "P1".into(),
            transaction: "P1-T2".into(),
        },
    ] {
        events.extend(fixture.run(command));
    }
    // The same book up to the issue, then the recorded events: applying
    // never rates.
    let mut replayed = Fixture::issued("exact_premium");
    replayed.calls();
    for event in &events {
        replayed.book.apply(event);
    }
    assert_eq!(replayed.book, fixture.book);
    assert_eq!(replayed.calls(), vec![]);
}

//! Rate versions pinned to the term (DOMAIN section 9, [E9]) in the book:
//! a resolver with `rater@1` from 2026-01-01 and `rater@2` (prices x 1.5)
//! scheduled from 2026-06-01; each term records the version of its rating
//! date, later transactions of the term use it, and a rate correction
//! re-rates a term with a named version.

use crate::policy::product::tests::auto_product;
use crate::policy::*;
use crate::rating::schedule::{AppliesTo, Dated, RatedFor, version_on};
use crate::rating::{
    FieldRater, FieldValue, RateRequest, RateResponse, Rater, RaterFailure, RaterIdentity,
    RatingError,
};
use crate::test_support::date;
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A version of the rater: the field rater's prices times `factor`.
struct Version {
    id: String,
    factor: Decimal,
}

impl Rater for Version {
    fn rate(&self, request: &RateRequest) -> Result<RateResponse, RatingError> {
        let mut response = FieldRater.rate(request)?;
        for item in &mut response.items {
            item.premium = match &item.premium {
                crate::rating::Premium::Yearly(amount) => {
                    crate::rating::Premium::Yearly(*amount * self.factor)
                }
                crate::rating::Premium::Exact(amount) => {
                    crate::rating::Premium::Exact(*amount * self.factor)
                }
            };
        }
        Ok(response)
    }

    fn identity(&self) -> RaterIdentity {
        RaterIdentity::Native {
            name: self.id.clone(),
        }
    }
}

/// Resolves `rater@1` and `rater@2`, and a bare `rater` by the schedule
/// ([E9]: version 2 from 2026-06-01 for new business and renewals).
struct Versions {
    renewals_from: NaiveDate,
}

impl RaterResolver for Versions {
    fn resolve(&self, chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
        let RatingChain::Plugin { plugin } = chain else {
            panic!("the product rates with a plugin");
        };
        let factor = match plugin.as_str() {
            "rater@1" => dec!(1),
            "rater@2" => dec!(1.5),
            other => {
                return Err(RatingError::failed(
                    other,
                    RaterFailure::Unavailable,
                    "plugin is not registered",
                ));
            }
        };
        Ok(Arc::new(Version {
            id: plugin.clone(),
            factor,
        }))
    }

    fn version_for(&self, name: &str, day: NaiveDate, kind: RatedFor) -> Option<String> {
        assert_eq!(name, "rater");
        let activations = [
            Dated {
                from: date(2026, 1, 1),
                applies_to: AppliesTo::All,
                version: "1",
            },
            Dated {
                from: date(2026, 6, 1),
                applies_to: AppliesTo::NewBusiness,
                version: "2",
            },
            Dated {
                from: self.renewals_from,
                applies_to: AppliesTo::Renewals,
                version: "2",
            },
        ];
        version_on(activations, day, kind).map(str::to_string)
    }
}

fn context(key: &str, today: NaiveDate) -> CommandContext {
    CommandContext {
        actor: "tester".into(),
        issued_at: Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap(),
        idempotency_key: Some(key.into()),
        arithmetic: crate::billing::Arithmetic::Written,
        pending_slices: None,
        today: Some(today),
    }
}

fn exposure(name: &str, peril: &str, yearly: &str) -> ExposureData {
    let mut fields = Fields::new();
    fields.insert(
        "yearly_premium".into(),
        vec![FieldValue::Text(yearly.into())],
    );
    let mut perils = BTreeMap::new();
    perils.insert(
        peril.to_string(),
        PerilData {
            name: "bodily_injury".into(),
            fields,
        },
    );
    ExposureData {
        name: name.into(),
        fields: Fields::new(),
        perils: perils.into(),
    }
}

fn vehicle_only() -> PolicyData {
    let mut exposures = BTreeMap::new();
    exposures.insert("V".to_string(), exposure("vehicle", "V-BI", "1200.00"));
    PolicyData {
        fields: Fields::new(),
        exposures: exposures.into(),
    }
}

struct Fixture {
    book: PolicyBook,
    resolver: Versions,
    n: u32,
    today: NaiveDate,
}

impl Fixture {
    fn new(rating_date: RatingDate) -> Fixture {
        let mut product = auto_product();
        product.rating = RatingChain::Plugin {
            plugin: "rater".into(),
        };
        product.rating_date = rating_date;
        let mut fixture = Fixture {
            book: PolicyBook::new(),
            resolver: Versions {
                renewals_from: date(2026, 6, 1),
            },
            n: 0,
            today: date(2026, 1, 1),
        };
        fixture.run(PolicyCommand::DeployProduct { product });
        fixture.run(PolicyCommand::CreateAccount {
            locator: "A1".into(),
            name: "Ada".into(),
            currency: crate::domain::Currency::USD,
        });
        fixture
    }

    fn try_run(&mut self, command: PolicyCommand) -> Result<Vec<BookEvent>, PolicyError> {
        self.n += 1;
        let context = context(&format!("c{}", self.n), self.today);
        self.book.execute(&command, &context, &self.resolver)
    }

    fn run(&mut self, command: PolicyCommand) -> Vec<BookEvent> {
        self.try_run(command).unwrap()
    }

    fn issue(&mut self, locator: &str, start: NaiveDate) -> Vec<BookEvent> {
        self.run(PolicyCommand::IssuePolicy {
            locator: locator.into(),
            account: "A1".into(),
            product: "auto".into(),
            start,
            plan: None,
            time_zone: "UTC".into(),
            data: vehicle_only(),
            bind: Default::default(),
        })
    }

    fn term(&self, policy: &str, number: u32) -> &Term {
        let policy = self.book.policy(policy).unwrap();
        policy.terms.iter().find(|t| t.number == number).unwrap()
    }
}

/// The premium charges of events: (item, amount), sorted.
fn premiums(events: &[BookEvent]) -> Vec<(String, Decimal)> {
    let mut found: Vec<(String, Decimal)> = events
        .iter()
        .filter_map(|e| match e {
            BookEvent::TransactionIssued { record } => Some(record),
            _ => None,
        })
        .flat_map(|r| r.charges.iter())
        .filter(|c| c.charge == "premium")
        .map(|c| (c.item.clone().unwrap_or_default(), c.amount.amount))
        .collect();
    found.sort();
    found
}

fn correction(version: &str) -> PolicyCommand {
    PolicyCommand::CorrectRates {
        policy: "A".into(),
        term: 1,
        version: version.into(),
        reason: "filing 2 approved retroactively".into(),
    }
}

#[test]
fn e9_every_transaction_of_a_term_uses_its_version_and_a_correction_books_the_difference() {
    let mut fixture = Fixture::new(RatingDate::TermStart);
    let issued = fixture.issue("A", date(2026, 1, 1));
    assert_eq!(premiums(&issued), [("V-BI".into(), dec!(1200.00))]);
    assert_eq!(fixture.term("A", 1).rate_version.as_deref(), Some("1"));
    assert_eq!(fixture.term("A", 1).rating_date, Some(date(2026, 1, 1)));

    // Issued on 2026-09-01, after version 2 is in effect: the trailer from
    // 2026-07-01 is priced by version 1, 600.00 x 6/12.
    fixture.today = date(2026, 9, 1);
    let endorsed = fixture.run(PolicyCommand::Endorse {
        policy: "A".into(),
        effective: date(2026, 7, 1),
        changes: vec![DataChange::AddExposure {
            locator: "T".into(),
            exposure: exposure("trailer", "T-BI", "600.00"),
        }],
    });
    assert_eq!(premiums(&endorsed), [("T-BI".into(), dec!(300.00))]);

    // Policy B from 2026-06-15: version 2.
    let issued = fixture.issue("B", date(2026, 6, 15));
    assert_eq!(premiums(&issued), [("V-BI".into(), dec!(1800.00))]);
    assert_eq!(fixture.term("B", 1).rate_version.as_deref(), Some("2"));

    // A's renewal: version 2, 1800.00 + 900.00.
    let renewed = fixture.run(PolicyCommand::Renew {
        policy: "A".into(),
        plan: None,
        changes: vec![],
    });
    assert_eq!(
        premiums(&renewed),
        [
            ("T-BI".into(), dec!(900.00)),
            ("V-BI".into(), dec!(1800.00))
        ]
    );
    assert_eq!(fixture.term("A", 2).rate_version.as_deref(), Some("2"));

    // The correction of A's first term, previewed then committed alike.
    let context = context("preview", fixture.today);
    let (_, previewed) = fixture
        .book
        .preview(&[correction("2")], &context, &fixture.resolver)
        .unwrap();
    let corrected = fixture.run(correction("2"));
    let expected = [("T-BI".into(), dec!(150.00)), ("V-BI".into(), dec!(600.00))];
    assert_eq!(premiums(&previewed), expected);
    assert_eq!(premiums(&corrected), expected);
    assert_eq!(fixture.term("A", 1).rate_version.as_deref(), Some("2"));
    let policy = fixture.book.policy("A").unwrap();
    let last = policy.transactions.last().unwrap();
    assert_eq!(last.kind, TransactionKind::RateCorrection);
    assert_eq!(
        last.change,
        TransactionChange::RateCorrection {
            version: "2".into(),
            previous_version: Some("1".into()),
            reason: "filing 2 approved retroactively".into(),
        }
    );
    // Term 1 now costs what version 2 says: 1800.00 + 450.00.
    // 1200.00 + 300.00 + 2700.00 + 750.00: term 1 costs 1800.00 + 450.00.
    assert_eq!(policy.charge_total("premium"), dec!(4950.00));

    // Later transactions of term 1 use version 2: a cancellation at
    // 2026-10-01 refunds a quarter of 1800.00 + 900.00.
    let cancelled = fixture.run(PolicyCommand::Cancel {
        policy: "A".into(),
        effective: date(2026, 10, 1),
        reason: Default::default(),
    });
    assert_eq!(
        premiums(&cancelled),
        [
            ("T-BI".into(), dec!(-225.00)),
            ("V-BI".into(), dec!(-450.00))
        ]
    );
}

#[test]
fn a_renewal_schedule_of_its_own_keeps_renewals_on_the_older_version_until_its_day() {
    let mut fixture = Fixture::new(RatingDate::TermStart);
    fixture.resolver.renewals_from = date(2027, 2, 1);
    fixture.issue("A", date(2026, 1, 1));
    fixture.today = date(2026, 12, 1);
    let renewed = fixture.run(PolicyCommand::Renew {
        policy: "A".into(),
        plan: None,
        changes: vec![],
    });
    assert_eq!(premiums(&renewed), [("V-BI".into(), dec!(1200.00))]);
    assert_eq!(fixture.term("A", 2).rate_version.as_deref(), Some("1"));
}

#[test]
fn with_the_issued_rating_date_a_term_takes_the_version_in_effect_when_it_is_issued() {
    let mut fixture = Fixture::new(RatingDate::Issued);
    fixture.today = date(2026, 6, 15);
    let issued = fixture.issue("A", date(2026, 1, 1));
    assert_eq!(premiums(&issued), [("V-BI".into(), dec!(1800.00))]);
    let term = fixture.term("A", 1);
    assert_eq!(term.rate_version.as_deref(), Some("2"));
    assert_eq!(term.rating_date, Some(date(2026, 6, 15)));
}

#[test]
fn a_correction_naming_a_missing_version_or_term_or_the_same_version_changes_nothing() {
    let mut fixture = Fixture::new(RatingDate::TermStart);
    fixture.issue("A", date(2026, 1, 1));
    let before = fixture.book.clone();
    let error = fixture.try_run(correction("9")).unwrap_err();
    assert_eq!(error.code(), "rate_version_unknown");
    let error = fixture.try_run(correction("1")).unwrap_err();
    assert_eq!(error.code(), "rate_version_unchanged");
    let error = fixture
        .try_run(PolicyCommand::CorrectRates {
            policy: "A".into(),
            term: 3,
            version: "2".into(),
            reason: "x".into(),
        })
        .unwrap_err();
    assert_eq!(error.code(), "term_not_found");
    let error = fixture
        .try_run(PolicyCommand::CorrectRates {
            policy: "A".into(),
            term: 1,
            version: "2".into(),
            reason: "  ".into(),
        })
        .unwrap_err();
    assert_eq!(error.code(), "invalid_correction_reason");
    assert_eq!(fixture.book, before);
    // A correction cannot be reversed: the rates are corrected back.
    let events = fixture.run(correction("2"));
    let BookEvent::TransactionIssued { record } = &events[0] else {
        panic!("a transaction");
    };
    let error = fixture
        .try_run(PolicyCommand::Reverse {
            policy: "A".into(),
            transaction: record.transaction.locator.clone(),
        })
        .unwrap_err();
    assert_eq!(error.code(), "rate_correction_not_reversible");
    let back = fixture.run(correction("1"));
    assert_eq!(premiums(&back), [("V-BI".into(), dec!(-600.00))]);
}

#[test]
fn a_product_rate_correction_re_rates_the_term_in_force_today_of_each_policy() {
    let mut fixture = Fixture::new(RatingDate::TermStart);
    fixture.issue("A", date(2026, 1, 1));
    fixture.issue("B", date(2026, 3, 1));
    fixture.issue("C", date(2026, 7, 1));
    fixture.today = date(2026, 8, 1);
    let events = fixture.run(PolicyCommand::CorrectProductRates {
        product: "auto".into(),
        version: "2".into(),
        reason: "filing 2".into(),
    });
    // A and B move from version 1 (+600.00 each); C is on version 2.
    assert_eq!(
        premiums(&events),
        [("V-BI".into(), dec!(600.00)), ("V-BI".into(), dec!(600.00))]
    );
    for policy in ["A", "B", "C"] {
        assert_eq!(fixture.term(policy, 1).rate_version.as_deref(), Some("2"));
    }
}

#[test]
fn a_product_rate_correction_naming_a_missing_version_is_refused_even_with_no_policy() {
    let mut fixture = Fixture::new(RatingDate::TermStart);
    let error = fixture
        .try_run(PolicyCommand::CorrectProductRates {
            product: "auto".into(),
            version: "9".into(),
            reason: "typo".into(),
        })
        .unwrap_err();
    assert_eq!(error.code(), "rate_version_unknown");
    let events = fixture.run(PolicyCommand::CorrectProductRates {
        product: "auto".into(),
        version: "2".into(),
        reason: "filing 2".into(),
    });
    assert!(events.is_empty(), "no policy to correct");
}

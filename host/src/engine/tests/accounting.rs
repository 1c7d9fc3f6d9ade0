//! Property test of insurance accounting (issue 21, "Tests"): random
//! sequences of policies written (odd amounts, terms starting on any day),
//! cancellations, payments, billing runs as the days go by, earnings runs as
//! of any day, month closes (in order, and attempts out of order or before a
//! month is over), over a tenant with a GL mapping of every account. After
//! every step:
//!
//! - the trial balance is zero (the harness also checks it after every
//!   command, earnings runs and closes included, and that a preview equals
//!   the commit);
//! - the GL export of every month balances per currency and equals, line
//!   for line, the entries whose accounting date is in the month (read here
//!   from the ledger, independently of the export);
//! - a closed month's GL export is the one taken when it closed, whatever
//!   happened since;
//! - after an earnings run the ledger's earned premium is what the formula
//!   earns as of the run's day, and every charge's earned + unearned is its
//!   amount;
//! - a refused close or earnings run (out of order, not over, into a closed
//!   month) names its reason and changes nothing.
//!
//! `PROPTEST_CASES` (default 24) and `PREMIA_ACCOUNTING_STEPS` (default 30)
//! set the size.

use crate::collections::BillingCommand;
use crate::collections::tests::support::{World, data, date};
use crate::domain::Currency;
use crate::engine::{AccountingCommand, EngineError, Month};
use crate::ledger::{GlMapping, LedgerAccount};
use crate::policy::PolicyCommand;
use crate::test_support::env_or;
use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Step {
    /// A one-year policy from `start` days after today at `cents` a year.
    Issue {
        cents: i64,
        start: i64,
    },
    /// Cancels a policy `after` days into its term.
    Cancel {
        policy: usize,
        after: i64,
    },
    Pay {
        cents: i64,
    },
    /// Moves `days` on and runs billing.
    Advance {
        days: i64,
    },
    /// Earnings as of `back` days before today.
    Earn {
        back: i64,
    },
    /// Closes the next month (refused when it is not over).
    Close,
    /// Tries to close the month after the next: refused.
    CloseOutOfOrder,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (1_200i64..500_000, 0i64..60).prop_map(|(cents, start)| Step::Issue { cents, start }),
        1 => (0usize..6, 1i64..300).prop_map(|(policy, after)| Step::Cancel { policy, after }),
        2 => (100i64..200_000).prop_map(|cents| Step::Pay { cents }),
        4 => (1i64..45).prop_map(|days| Step::Advance { days }),
        3 => (0i64..70).prop_map(|back| Step::Earn { back }),
        3 => Just(Step::Close),
        1 => Just(Step::CloseOutOfOrder),
    ]
}

/// A mapping of every account to its own code.
fn mapping() -> GlMapping {
    let mut csv = String::from("account,product,currency,gl_account\n");
    for (index, account) in LedgerAccount::ALL.iter().enumerate() {
        let name = serde_json::to_value(account).unwrap();
        csv.push_str(&format!("{},,,{}\n", name.as_str().unwrap(), 1000 + index));
    }
    GlMapping::from_csv(&csv).unwrap()
}

struct Run {
    world: World,
    today: NaiveDate,
    policies: Vec<(String, NaiveDate)>,
    /// Each closed month's GL export when it closed (as CSV).
    closed: BTreeMap<Month, Vec<u8>>,
}

fn refusal_code(error: &EngineError) -> String {
    match error {
        EngineError::Accounting(error) => error.code().to_string(),
        other => format!("{other:?}"),
    }
}

impl Run {
    fn new() -> Run {
        let mut world = World::new();
        let today = date(2020, 12, 15);
        world.exec(
            AccountingCommand::UploadGlMapping { mapping: mapping() },
            today,
        );
        Run {
            world,
            today,
            policies: Vec::new(),
            closed: BTreeMap::new(),
        }
    }

    /// What a refusal must leave alone: the entries, closes and events.
    fn footprint(&self) -> (usize, usize, usize) {
        let s = &self.world.state;
        (
            s.ledger.entries().len(),
            s.accounting.closed.len(),
            self.world.log.len(),
        )
    }

    fn refused(&mut self, command: AccountingCommand, codes: &[&str]) {
        let before = self.footprint();
        let error = self.world.try_exec(command, self.today).unwrap_err();
        let code = refusal_code(&error);
        assert!(codes.contains(&code.as_str()), "refused as {code}");
        assert_eq!(self.footprint(), before, "a refusal changes nothing");
    }

    /// The next month to close.
    fn next_to_close(&self) -> Option<Month> {
        let s = &self.world.state;
        match s.accounting.closed.last() {
            Some(last) => Some(last.period.next()),
            None => s
                .ledger
                .entries()
                .iter()
                .map(|e| Month::of(e.accounting_date()))
                .min(),
        }
    }

    fn gl_csv(&self, month: Month) -> Vec<u8> {
        crate::export::to_csv(self.world.state.gl_journal(month).unwrap()).unwrap()
    }

    fn apply(&mut self, step: &Step) {
        let today = self.today;
        match step {
            Step::Issue { cents, start } => {
                let locator = format!("P{}", self.policies.len());
                let start = today + Duration::days(*start);
                let yearly = Decimal::new(*cents, 2).to_string();
                self.world
                    .issue_with(&locator, "A1", start, data(&yearly, &[]), None, today);
                self.policies.push((locator, start));
            }
            Step::Cancel { policy, after } => {
                let Some((locator, start)) = self.policies.get(*policy).cloned() else {
                    return;
                };
                // Refused when already cancelled: that changes nothing either.
                let _ = self.world.try_exec(
                    PolicyCommand::Cancel {
                        policy: locator,
                        effective: start + Duration::days(*after),
                        reason: Default::default(),
                    },
                    today,
                );
            }
            Step::Pay { cents } => {
                self.world.exec(
                    BillingCommand::RecordPayment {
                        for_deductibles: false,
                        reserved_for: None,
                        account: "A1".into(),
                        amount: Decimal::new(*cents, 2),
                        received_on: today,
                        invoices: vec![],
                        reference: String::new(),
                    },
                    today,
                );
            }
            Step::Advance { days } => {
                self.today = today + Duration::days(*days);
                self.world.run(self.today);
            }
            Step::Earn { back } => {
                let as_of = today - Duration::days(*back);
                let closed = self.world.state.ledger.closed_through();
                let command = AccountingCommand::RunEarnings { as_of };
                if closed.is_some_and(|day| as_of <= day) {
                    self.refused(command, &["earnings_in_closed_period"]);
                    return;
                }
                self.world.exec(command, today);
                self.check_earned();
            }
            Step::Close => {
                let Some(month) = self.next_to_close() else {
                    return;
                };
                let command = AccountingCommand::ClosePeriod { period: month };
                if month.last_day() >= today {
                    self.refused(command, &["period_not_over"]);
                    return;
                }
                self.world.exec(command, today);
                self.check_earned();
                let export = self.gl_csv(month);
                self.closed.insert(month, export);
            }
            Step::CloseOutOfOrder => {
                let Some(month) = self.next_to_close() else {
                    return;
                };
                let command = AccountingCommand::ClosePeriod {
                    period: month.next(),
                };
                self.refused(command, &["period_out_of_order", "period_not_over"]);
            }
        }
    }

    /// After a run: the ledger's earned premium is the formula's as of the
    /// run's day; earned + unearned = written per charge.
    fn check_earned(&self) {
        let s = &self.world.state;
        let Some(through) = s.accounting.earned_through() else {
            return;
        };
        let report = s.premium_report(through).unwrap();
        let formula: Decimal = report.totals.iter().map(|t| t.earned).sum();
        // A revenue account's balance is on its credit side.
        let ledger = s
            .ledger
            .balance_of(LedgerAccount::EarnedPremium, Currency::USD, None);
        assert_eq!(ledger, formula, "earned premium through {through}");
        for row in s.earned_premium_rows(through).unwrap() {
            assert_eq!(row.earned + row.unearned, row.written, "{}", row.charge);
        }
    }

    fn check(&self, steps: &[Step]) {
        let s = &self.world.state;
        assert!(s.trial_balances_are_zero(), "after {steps:?}");
        let Some(first) = s
            .ledger
            .entries()
            .iter()
            .map(|e| Month::of(e.accounting_date()))
            .min()
        else {
            return;
        };
        let mut month = first;
        while month <= Month::of(self.today) {
            let lines = s.gl_journal(month).unwrap();
            // Per currency: debits, credits; and the entries' own lines.
            let mut exported: BTreeMap<(u64, usize), (Decimal, Decimal)> = BTreeMap::new();
            let mut net: BTreeMap<Currency, Decimal> = BTreeMap::new();
            for line in &lines {
                exported.insert((line.entry_id.0, line.line), (line.debit, line.credit));
                *net.entry(line.currency).or_default() += line.debit - line.credit;
            }
            assert!(
                net.values().all(|n| n.is_zero()),
                "{month} balances: {net:?}"
            );
            let mut entries: BTreeMap<(u64, usize), (Decimal, Decimal)> = BTreeMap::new();
            for entry in s.ledger.entries() {
                if Month::of(entry.accounting_date()) != month {
                    continue;
                }
                for (index, line) in entry.lines.iter().enumerate() {
                    let debit = line.debit_amount();
                    let (d, c) = if debit.is_sign_positive() {
                        (line.amount, Decimal::ZERO)
                    } else {
                        (Decimal::ZERO, line.amount)
                    };
                    entries.insert((entry.id.0, index), (d, c));
                }
            }
            assert_eq!(exported, entries, "{month}'s export is its entries");
            if let Some(snapshot) = self.closed.get(&month) {
                assert_eq!(
                    &self.gl_csv(month),
                    snapshot,
                    "closed {month}'s export is unchanged after {steps:?}"
                );
            }
            month = month.next();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: env_or("PROPTEST_CASES", 24),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_books_balance_and_closed_months_never_change_whatever_happens(
        steps in proptest::collection::vec(step(), 1..=env_or("PREMIA_ACCOUNTING_STEPS", 30) as usize)
    ) {
        let mut run = Run::new();
        for (index, step) in steps.iter().enumerate() {
            run.apply(step);
            run.check(&steps[..=index]);
        }
        run.world.assert_replay_rebuilds();
    }
}

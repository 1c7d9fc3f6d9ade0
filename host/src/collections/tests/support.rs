//! A tenant driven through the engine state for billing tests: the auto
//! product priced by the field rater, account `A1` in USD, commands at noon UTC
//! of the day they happen, and after every command the ledger's invariants
//! checked (trial balance zero; each account's billed receivable equals what
//! its open invoices owe) and the preview compared with the commit.

use crate::collections::{
    AccountBilling, BillingCommand, BillingSettings, CollectionsEvent, DelinquencyPlan,
    InvoiceAdjuster, InvoiceRecord, NoInvoicingPlugins,
};
use crate::engine::{ClockCommand, EngineCommand, TenantEvent, TenantState};
use crate::policy::{
    CommandContext, DataChange, ExposureData, Fields, PerilData, PolicyCommand, PolicyData,
    ProductConfig, auto_product,
};
use crate::rating::FieldValue;
pub(crate) use crate::test_support::{FieldRaters, date};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A command sent at noon UTC on `day`.
pub fn at(day: NaiveDate) -> CommandContext {
    CommandContext {
        actor: "billing-staff".into(),
        issued_at: Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap()),
        idempotency_key: None,
        arithmetic: crate::billing::Arithmetic::Written,
        pending_slices: None,
        today: None,
    }
}

/// The auto product with monthly installments by default.
pub fn monthly_product() -> ProductConfig {
    let mut product = auto_product();
    product.default_plan = "monthly".into();
    product
}

fn fields(pairs: &[(&str, &str)]) -> Fields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), vec![FieldValue::Text(v.to_string())]))
        .collect()
}

/// Issuing `locator` on `account` under product `auto` from 2021-01-01
/// (UTC, the product's first plan): one vehicle at `yearly` a year.
pub fn issue_from_2021(locator: &str, account: &str, yearly: &str) -> PolicyCommand {
    PolicyCommand::IssuePolicy {
        locator: locator.into(),
        account: account.into(),
        product: "auto".into(),
        start: date(2021, 1, 1),
        plan: None,
        time_zone: "UTC".into(),
        data: data(yearly, &[]),
        bind: Default::default(),
    }
}

/// One vehicle with one peril at `yearly` a year, and policy fields `extra`.
pub fn data(yearly: &str, extra: &[(&str, &str)]) -> PolicyData {
    let mut perils = BTreeMap::new();
    perils.insert(
        "V1-COLL".to_string(),
        PerilData {
            name: "collision".into(),
            fields: fields(&[("yearly_premium", yearly)]),
        },
    );
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
        fields: fields(extra),
        exposures: exposures.into(),
    }
}

/// An invoice as tests compare it: locator, issue date, due date, total.
pub type Row = (String, NaiveDate, NaiveDate, Decimal);

/// A tenant under test.
pub struct World {
    pub state: TenantState,
    pub adjuster: Box<dyn InvoiceAdjuster>,
    /// Every event, in order, for replay.
    pub log: Vec<TenantEvent>,
}

impl World {
    /// The monthly auto product and account `A1`.
    pub fn new() -> World {
        World::with_product(monthly_product())
    }

    /// The monthly auto product and account `A1`, with no delinquency: for
    /// tests about something else that leave invoices unpaid.
    pub fn without_delinquency() -> World {
        let mut world = World::new();
        world.exec(
            BillingCommand::ConfigureBilling {
                settings: BillingSettings {
                    delinquency: DelinquencyPlan {
                        enabled: false,
                        ..DelinquencyPlan::default()
                    },
                    ..BillingSettings::default()
                },
            },
            date(2020, 12, 1),
        );
        world
    }

    pub fn with_product(product: ProductConfig) -> World {
        let mut world = World {
            state: TenantState::new("tenant").unwrap(),
            adjuster: Box::new(NoInvoicingPlugins),
            log: Vec::new(),
        };
        let day = date(2020, 12, 1);
        world.exec(PolicyCommand::DeployProduct { product }, day);
        world.open_account("A1", day);
        world
    }

    /// A test tenant whose clock starts on `day`, with `product` and account
    /// `A1`. Every command then arrives on its clock's today: a command sent
    /// on a later day moves the clock there first (never back).
    pub fn test_tenant(product: ProductConfig, day: NaiveDate) -> World {
        let mut world = World {
            state: TenantState::new("tenant").unwrap(),
            adjuster: Box::new(NoInvoicingPlugins),
            log: Vec::new(),
        };
        world.exec(ClockCommand::StartTestClock { today: day }, day);
        world.exec(PolicyCommand::DeployProduct { product }, day);
        world.open_account("A1", day);
        world
    }

    /// The context of a command sent on `day`: on a test tenant, its clock's
    /// today, moved to `day` first when it is behind.
    pub fn context(&mut self, day: NaiveDate) -> CommandContext {
        let mut context = at(day);
        if let Some(today) = self.state.clock.test_today {
            assert!(
                day >= today,
                "a test tenant's clock never goes back ({today} to {day})"
            );
            if day > today {
                let command = EngineCommand::Clock(ClockCommand::MoveClock { today: day });
                let events = self
                    .state
                    .execute(&command, &context, &FieldRaters)
                    .unwrap();
                self.log.extend(events);
            }
            context.today = Some(day);
        }
        context
    }

    pub fn open_account(&mut self, locator: &str, day: NaiveDate) {
        self.exec(
            PolicyCommand::CreateAccount {
                locator: locator.into(),
                name: locator.into(),
                currency: crate::domain::Currency::USD,
            },
            day,
        );
    }

    /// Decides and applies a command sent on `day`, or says why it was refused
    /// (a refused command changes nothing).
    pub fn try_exec(
        &mut self,
        command: impl Into<EngineCommand>,
        day: NaiveDate,
    ) -> Result<Vec<TenantEvent>, crate::engine::EngineError> {
        let context = self.context(day);
        self.try_exec_with(command, &context)
    }

    /// [`World::try_exec`] in `context` (another actor, for example).
    pub fn try_exec_with(
        &mut self,
        command: impl Into<EngineCommand>,
        context: &CommandContext,
    ) -> Result<Vec<TenantEvent>, crate::engine::EngineError> {
        let command = command.into();
        let context = context.clone();
        let mut copy = self.state.clone();
        let previewed = copy.execute_with(&command, &context, &FieldRaters, self.adjuster.as_ref());
        let committed =
            self.state
                .execute_with(&command, &context, &FieldRaters, self.adjuster.as_ref());
        assert_eq!(previewed, committed, "a preview equals the commit");
        if let Ok(events) = &committed {
            self.log.extend(events.iter().cloned());
            self.check_invariants();
        }
        committed
    }

    pub fn exec(&mut self, command: impl Into<EngineCommand>, day: NaiveDate) -> Vec<TenantEvent> {
        self.try_exec(command, day).unwrap()
    }

    /// Issues policy `locator` on `A1` from `start` at `yearly` a year.
    pub fn issue(&mut self, locator: &str, start: NaiveDate, yearly: &str, day: NaiveDate) {
        self.issue_with(locator, "A1", start, data(yearly, &[]), None, day);
    }

    pub fn issue_with(
        &mut self,
        locator: &str,
        account: &str,
        start: NaiveDate,
        data: PolicyData,
        plan: Option<&str>,
        day: NaiveDate,
    ) {
        self.exec(
            PolicyCommand::IssuePolicy {
                locator: locator.into(),
                account: account.into(),
                product: "auto".into(),
                start,
                plan: plan.map(str::to_string),
                time_zone: "UTC".into(),
                data,
                bind: Default::default(),
            },
            day,
        );
    }

    /// Sets the yearly premium of `policy` from `effective`.
    pub fn endorse(&mut self, policy: &str, effective: NaiveDate, yearly: &str, day: NaiveDate) {
        self.exec(
            PolicyCommand::Endorse {
                policy: policy.into(),
                effective,
                changes: vec![DataChange::SetPerilFields {
                    exposure: "V1".into(),
                    peril: "V1-COLL".into(),
                    fields: fields(&[("yearly_premium", yearly)]),
                }],
            },
            day,
        );
    }

    /// Runs billing for every account up to `day`, one command at a time, as
    /// the engine service does; returns the events.
    pub fn run(&mut self, day: NaiveDate) -> Vec<TenantEvent> {
        let accounts: Vec<String> = self.state.collections.accounts.keys().cloned().collect();
        let mut events = Vec::new();
        for account in accounts {
            loop {
                let command = BillingCommand::RunAccount {
                    account: account.clone(),
                    up_to: day,
                };
                let decided = self.exec(command, day);
                if decided.is_empty() {
                    break;
                }
                events.extend(decided);
            }
        }
        events
    }

    /// Runs billing every day from `from` to `to`, inclusive.
    pub fn run_daily(&mut self, from: NaiveDate, to: NaiveDate) -> Vec<TenantEvent> {
        from.iter_days()
            .take_while(|d| *d <= to)
            .flat_map(|day| self.run(day))
            .collect()
    }

    pub fn pay(&mut self, amount: Decimal, day: NaiveDate) -> Vec<TenantEvent> {
        self.exec(
            BillingCommand::RecordPayment {
                for_deductibles: false,
                reserved_for: None,
                account: "A1".into(),
                amount,
                received_on: day,
                invoices: vec![],
                reference: String::new(),
            },
            day,
        )
    }

    pub fn account(&self) -> &AccountBilling {
        self.account_named("A1")
    }

    pub fn account_named(&self, locator: &str) -> &AccountBilling {
        self.state.collections.account(locator).unwrap()
    }

    pub fn invoice(&self, locator: &str) -> &InvoiceRecord {
        self.account().invoice(locator).unwrap()
    }

    /// Every invoice of `A1`: locator, issue date, due date, total.
    pub fn rows(&self) -> Vec<Row> {
        rows(self.account())
    }

    /// The billing events of a kind, among `events`.
    pub fn billing_events<'a>(events: &'a [TenantEvent], kind: &str) -> Vec<&'a CollectionsEvent> {
        events
            .iter()
            .filter_map(|e| match e {
                TenantEvent::Collections(event) if event.kind() == kind => Some(event),
                _ => None,
            })
            .collect()
    }

    /// The ledger's invariants.
    pub fn check_invariants(&self) {
        assert!(
            self.state.trial_balances_are_zero(),
            "the trial balance is zero"
        );
        assert_eq!(
            self.state.receivable_mismatches(),
            vec![],
            "each account's billed receivable is what its open invoices owe"
        );
    }

    /// Replaying the log from nothing rebuilds the same state.
    pub fn assert_replay_rebuilds(&self) {
        let mut rebuilt = TenantState::new("tenant").unwrap();
        for event in &self.log {
            rebuilt.apply(event).unwrap();
        }
        assert_eq!(rebuilt.book, self.state.book);
        assert_eq!(rebuilt.ledger.entries(), self.state.ledger.entries());
        assert_eq!(rebuilt.collections, self.state.collections);
        let json = serde_json::to_string(&self.log).unwrap();
        let parsed: Vec<TenantEvent> = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, self.log, "events survive JSON");
    }
}

pub fn rows(account: &AccountBilling) -> Vec<Row> {
    account
        .invoices
        .iter()
        .map(|r| {
            (
                r.invoice.locator.clone(),
                r.invoice.issue_date,
                r.invoice.due_date,
                r.invoice.total.amount,
            )
        })
        .collect()
}

/// A row for comparison.
pub fn row(locator: &str, issue: NaiveDate, due: NaiveDate, total: Decimal) -> Row {
    (locator.to_string(), issue, due, total)
}

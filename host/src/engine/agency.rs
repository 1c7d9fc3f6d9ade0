//! Agency bill (DOMAIN section 10, seed 002, [E11]; issue 21 item 5).
//!
//! A policy bound with billing method `agency` names its producer of record,
//! which must be configured for agency bill (a statement day, kept as
//! history). Its transactions are never invoiced to the insured: each one is
//! an **item** on the producer's agency statement, with its `gross` (what
//! the transaction charged the insured: premium, fees, taxes), the
//! `commission` it wrote to the producer and the `net` = gross - commission
//! the agency owes. The ledger debits the gross to `agency_receivable` with
//! the producer as subledger (see [`crate::ledger::postings::agency_billed`]).
//!
//! **Statement cycle.** Monthly on the producer's statement day (the month's
//! last day when shorter): an item posted on day X goes on the first
//! statement day on or after X, by the configuration in force on X. A
//! statement is issued once its day has come (the tenant's today).
//!
//! **Remittance.** The agency remits the net of an issued statement
//! (`amount` in the statement's currency, at most what it still owes),
//! allocated item by item: as given, or oldest first (items that owe the
//! agency are netted first, then the rest oldest first). An item paid in
//! full nets its commission: the remittance posts Dr cash (the amount), Dr
//! commission payable/producer (the commission of the items it closes), Cr
//! agency receivable/producer (both). A short-paid item stays open and is
//! listed as an exception; it nets its commission when its last cent comes.
//!
//! **[E11]**: 1200.00 premium, 10% commission to `agency-7`, statement day
//! 20, bound 2025-12-15: the statement of 2025-12-20 shows 1200.00 gross,
//! 120.00 commission, 1080.00 net. Remitting 1080.00 posts Dr cash 1080.00,
//! Dr commission payable/agency-7 120.00, Cr agency receivable/agency-7
//! 1200.00: both are settled. A cancellation effective mid-term, on
//! 2026-01-05, puts -600.00 / -60.00 / -540.00 on the statement of
//! 2026-01-20 (owed to the agency).

use super::accounting::{AccountingError, AccountingEvent, at_scale};
use super::producer_book::{AgencyConfig, Remittance, RemittanceAllocation};
use super::producer_error::ProducerError;
use super::state::{EngineError, TenantEvent, TenantState};
use crate::domain::{Currency, Money};
use crate::ledger::{ChargeCategory, LedgerAccount, Posting, postings};
use crate::policy::{BillingMethod, CommandContext, PolicyState};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Allocations one remittance may name, at most.
pub const REMITTANCE_ALLOCATIONS_MAX: usize = 1_000;
/// Characters of a remittance's reference, at most.
pub const REMITTANCE_REFERENCE_CHARS_MAX: usize = 200;

/// An allocation asked for: this much of this item.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationRequest {
    /// The item (its transaction's locator).
    pub item: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

/// An agency-billed transaction on a statement.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgencyItem {
    /// The transaction's locator.
    pub item: String,
    pub policy: String,
    pub posted_on: NaiveDate,
    /// The statement day it is on.
    pub statement: NaiveDate,
    pub currency: Currency,
    /// What the transaction charged (premium, fees, taxes).
    #[schema(value_type = String)]
    pub gross: Decimal,
    /// The commission it wrote to the producer.
    #[schema(value_type = String)]
    pub commission: Decimal,
    /// gross - commission: what the agency owes (negative: owed to it).
    #[schema(value_type = String)]
    pub net: Decimal,
    /// What remittances allocated to it.
    #[schema(value_type = String)]
    pub paid: Decimal,
    /// net - paid.
    #[schema(value_type = String)]
    pub open: Decimal,
    /// `open`, `short_paid` (partly paid) or `paid`.
    pub state: &'static str,
}

/// One currency of a statement.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgencyTotals {
    pub currency: Currency,
    #[schema(value_type = String)]
    pub gross: Decimal,
    #[schema(value_type = String)]
    pub commission: Decimal,
    #[schema(value_type = String)]
    pub net: Decimal,
    #[schema(value_type = String)]
    pub paid: Decimal,
    #[schema(value_type = String)]
    pub open: Decimal,
}

/// A producer's agency statement.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgencyStatement {
    pub producer: String,
    /// The statement day.
    pub date: NaiveDate,
    /// `issued` (its day has come) or `upcoming`.
    pub state: &'static str,
    pub totals: Vec<AgencyTotals>,
    /// Absent in a list of statements.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<AgencyItem>>,
    /// The remittances received for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remittances: Option<Vec<Remittance>>,
}

/// An item still open on an issued statement a remittance was received
/// for: short-paid (or left unpaid) by the agency.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgencyException {
    pub producer: String,
    #[serde(flatten)]
    pub item: AgencyItem,
}

/// The billing methods a product and producer allow (seed 002).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillingOptions {
    pub product: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
    pub methods: Vec<BillingMethod>,
    /// The producer's statement day, when agency bill is offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_day: Option<u32>,
}

fn refused(error: ProducerError) -> EngineError {
    AccountingError::from(error).into()
}

/// Day `day` of the month of `any`, or the month's last day when shorter.
fn day_in_month(any: NaiveDate, day: u32) -> NaiveDate {
    let month = super::accounting::Month::of(any);
    let last = month.last_day();
    last.with_day(day.min(last.day())).unwrap_or(last)
}

/// The statement day an item posted on `posted_on` goes on, for statement
/// day `day`: the first on or after it. Example: day 20, posted
/// 2025-12-15 -> 2025-12-20; posted 2025-12-21 -> 2026-01-20; day 31,
/// posted 2026-02-10 -> 2026-02-28.
pub fn statement_date(posted_on: NaiveDate, day: u32) -> NaiveDate {
    let this = day_in_month(posted_on, day);
    if this >= posted_on {
        this
    } else {
        let next = super::accounting::Month::of(posted_on).next().first_day();
        day_in_month(next, day)
    }
}

/// Whether the transaction's charge goes to the gross (it is receivable).
fn is_receivable(category: ChargeCategory) -> bool {
    category.accounts().map(|(debit, _)| debit) == Some(LedgerAccount::PremiumReceivableUnbilled)
}

impl TenantState {
    /// The items of `policy` (agency billed to `producer`), one per
    /// transaction and currency with anything on it.
    fn policy_items(&self, policy: &PolicyState, producer: &str) -> Vec<AgencyItem> {
        let mut sums: BTreeMap<(&str, Currency), (Decimal, Decimal)> = BTreeMap::new();
        for charge in &policy.charges {
            let key = (charge.transaction.as_str(), charge.amount.currency);
            if is_receivable(charge.category) {
                sums.entry(key).or_default().0 += charge.amount.amount;
            } else if matches!(
                charge.category,
                ChargeCategory::Commission | ChargeCategory::FlatCommission
            ) && charge.recipient.as_deref() == Some(producer)
            {
                sums.entry(key).or_default().1 += charge.amount.amount;
            }
        }
        let mut items = Vec::new();
        for ((transaction, currency), (gross, commission)) in sums {
            if gross.is_zero() && commission.is_zero() {
                continue;
            }
            let issued = policy
                .transactions
                .iter()
                .find(|t| t.locator == transaction)
                .map(|t| t.issued_at.date_naive());
            let Some(posted_on) = self.accounting.written_on(transaction).or(issued) else {
                continue;
            };
            let day = self
                .accounting
                .producers
                .agency_on(producer, posted_on)
                .map_or(1, |c| c.statement_day);
            let paid: Decimal = self
                .accounting
                .producers
                .remittances
                .iter()
                .filter(|r| r.producer == producer)
                .flat_map(|r| r.allocations.iter())
                .filter(|a| a.item == transaction)
                .map(|a| a.amount)
                .sum();
            let net = gross - commission;
            let open = net - paid;
            items.push(AgencyItem {
                item: transaction.to_string(),
                policy: policy.header.locator.clone(),
                posted_on,
                statement: statement_date(posted_on, day),
                currency,
                gross: at_scale(gross, currency),
                commission: at_scale(commission, currency),
                net: at_scale(net, currency),
                paid: at_scale(paid, currency),
                open: at_scale(open, currency),
                state: if open.is_zero() {
                    "paid"
                } else if paid.is_zero() {
                    "open"
                } else {
                    "short_paid"
                },
            });
        }
        items
    }

    /// Every agency item of `producer`, oldest first.
    pub fn agency_items(&self, producer: &str) -> Vec<AgencyItem> {
        let mut items: Vec<AgencyItem> = self
            .book
            .policies
            .values()
            .filter(|p| p.header.agency() == Some(producer))
            .flat_map(|p| self.policy_items(p, producer))
            .collect();
        items.sort_by(|a, b| (a.posted_on, &a.item).cmp(&(b.posted_on, &b.item)));
        items
    }

    fn statement_view(
        &self,
        producer: &str,
        date: NaiveDate,
        items: Vec<AgencyItem>,
        today: NaiveDate,
        detailed: bool,
    ) -> AgencyStatement {
        let mut totals: BTreeMap<Currency, [Decimal; 5]> = BTreeMap::new();
        for item in &items {
            let sum = totals.entry(item.currency).or_default();
            for (slot, value) in
                sum.iter_mut()
                    .zip([item.gross, item.commission, item.net, item.paid, item.open])
            {
                *slot += value;
            }
        }
        let remittances = detailed.then(|| {
            self.accounting
                .producers
                .remittances
                .iter()
                .filter(|r| r.producer == producer && r.statement == date)
                .cloned()
                .collect()
        });
        AgencyStatement {
            producer: producer.to_string(),
            date,
            state: if date <= today { "issued" } else { "upcoming" },
            totals: totals
                .into_iter()
                .map(
                    |(currency, [gross, commission, net, paid, open])| AgencyTotals {
                        currency,
                        gross: at_scale(gross, currency),
                        commission: at_scale(commission, currency),
                        net: at_scale(net, currency),
                        paid: at_scale(paid, currency),
                        open: at_scale(open, currency),
                    },
                )
                .collect(),
            items: detailed.then_some(items),
            remittances,
        }
    }

    fn require_agency(&self, producer: &str) -> Result<(), EngineError> {
        if self.accounting.producers.agencies.contains_key(producer) {
            Ok(())
        } else {
            Err(refused(ProducerError::AgencyNotConfigured(
                producer.to_string(),
            )))
        }
    }

    /// The agency statements of `producer`, oldest first, with their totals.
    pub fn agency_statements(
        &self,
        producer: &str,
        today: NaiveDate,
    ) -> Result<Vec<AgencyStatement>, EngineError> {
        self.require_agency(producer)?;
        let mut by_date: BTreeMap<NaiveDate, Vec<AgencyItem>> = BTreeMap::new();
        for item in self.agency_items(producer) {
            by_date.entry(item.statement).or_default().push(item);
        }
        Ok(by_date
            .into_iter()
            .map(|(date, items)| self.statement_view(producer, date, items, today, false))
            .collect())
    }

    /// One agency statement with its items and remittances.
    pub fn agency_statement(
        &self,
        producer: &str,
        date: NaiveDate,
        today: NaiveDate,
    ) -> Result<AgencyStatement, EngineError> {
        self.require_agency(producer)?;
        let items: Vec<AgencyItem> = self
            .agency_items(producer)
            .into_iter()
            .filter(|i| i.statement == date)
            .collect();
        if items.is_empty() {
            return Err(refused(ProducerError::UnknownStatement {
                producer: producer.to_string(),
                date,
            }));
        }
        Ok(self.statement_view(producer, date, items, today, true))
    }

    /// Items still open on issued statements a remittance was received for
    /// (short-paid or left unpaid), every producer's.
    pub fn agency_exceptions(&self, today: NaiveDate) -> Vec<AgencyException> {
        let remitted: BTreeSet<(&str, NaiveDate)> = self
            .accounting
            .producers
            .remittances
            .iter()
            .map(|r| (r.producer.as_str(), r.statement))
            .collect();
        let mut exceptions = Vec::new();
        for producer in self.accounting.producers.agencies.keys() {
            for item in self.agency_items(producer) {
                if item.statement <= today
                    && !item.open.is_zero()
                    && remitted.contains(&(producer.as_str(), item.statement))
                {
                    exceptions.push(AgencyException {
                        producer: producer.clone(),
                        item,
                    });
                }
            }
        }
        exceptions
    }

    /// The billing methods `product` allows, with `producer`: agency needs
    /// a producer configured for agency bill.
    pub fn billing_options(
        &self,
        product: &str,
        producer: Option<&str>,
        today: NaiveDate,
    ) -> Result<BillingOptions, EngineError> {
        let config = self
            .book
            .products
            .get(product)
            .ok_or_else(|| crate::policy::PolicyError::UnknownProduct(product.to_string()))?;
        let agency = producer.and_then(|p| self.accounting.producers.agency_on(p, today));
        let methods = BillingMethod::ALL
            .into_iter()
            .filter(|m| config.billing_methods.is_empty() || config.billing_methods.contains(m))
            .filter(|m| *m == BillingMethod::Direct || agency.is_some())
            .collect::<Vec<_>>();
        Ok(BillingOptions {
            product: product.to_string(),
            producer: producer.map(str::to_string),
            statement_day: agency
                .filter(|_| methods.contains(&BillingMethod::Agency))
                .map(|c| c.statement_day),
            methods,
        })
    }

    /// Refuses a bind with agency bill whose producer is not configured for
    /// it (the policy module checks that a producer is named at all).
    pub(super) fn check_agency_bind(
        &self,
        command: &crate::policy::PolicyCommand,
    ) -> Result<(), EngineError> {
        if let crate::policy::PolicyCommand::IssuePolicy { bind, .. } = command
            && bind.billing_method == BillingMethod::Agency
            && let Some(producer) = &bind.producer
        {
            self.require_agency(producer)?;
        }
        Ok(())
    }

    /// A producer's statement day configured (a new version from today).
    pub(super) fn configure_agency(
        &self,
        producer: &str,
        statement_day: u32,
        context: &CommandContext,
        today: NaiveDate,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        if !(1..=31).contains(&statement_day) {
            return Err(refused(ProducerError::InvalidStatementDay(statement_day)));
        }
        if producer.is_empty()
            || producer.len() > crate::ledger::SUBLEDGER_BYTES_MAX
            || producer.trim() != producer
        {
            return Err(refused(ProducerError::TextTooLong {
                what: "producer",
                chars: producer.chars().count(),
                limit: crate::ledger::SUBLEDGER_BYTES_MAX,
            }));
        }
        Ok(vec![TenantEvent::Accounting(
            AccountingEvent::AgencyConfigured {
                config: AgencyConfig {
                    producer: producer.to_string(),
                    statement_day,
                    effective: today,
                    actor: context.actor.clone(),
                    at: context.issued_at,
                },
            },
        )])
    }

    /// A remittance received for an issued statement, allocated, and its
    /// entry.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn receive_remittance(
        &self,
        producer: &str,
        statement: NaiveDate,
        amount: Money,
        received_on: NaiveDate,
        reference: &str,
        allocations: Option<&[AllocationRequest]>,
        context: &CommandContext,
        today: NaiveDate,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let view = self.agency_statement(producer, statement, today)?;
        if statement > today {
            return Err(refused(ProducerError::StatementNotIssued {
                date: statement,
                today,
            }));
        }
        let currency = amount.currency;
        let items: Vec<&AgencyItem> = view
            .items
            .iter()
            .flatten()
            .filter(|i| i.currency == currency)
            .collect();
        if items.is_empty() {
            return Err(refused(ProducerError::RemittanceCurrency {
                date: statement,
                currency,
            }));
        }
        if amount.amount.is_zero() || !amount.is_in_minor_units() {
            return Err(refused(ProducerError::InvalidAmount {
                what: "a remittance",
                amount: amount.amount,
                currency,
            }));
        }
        let chars = reference.chars().count();
        if chars > REMITTANCE_REFERENCE_CHARS_MAX {
            return Err(refused(ProducerError::TextTooLong {
                what: "reference",
                chars,
                limit: REMITTANCE_REFERENCE_CHARS_MAX,
            }));
        }
        let open: Decimal = items.iter().map(|i| i.open).sum();
        if open.is_zero()
            || amount.amount.is_sign_negative() != open.is_sign_negative()
            || amount.amount.abs() > open.abs()
        {
            return Err(refused(ProducerError::RemittanceOverStatement {
                date: statement,
                currency,
                amount: amount.amount,
                open,
            }));
        }
        let shares = match allocations {
            Some(asked) => explicit(&items, asked, amount.amount)?,
            None => oldest_first(&items, amount.amount),
        };
        let allocations: Vec<RemittanceAllocation> = shares
            .into_iter()
            .map(|(item, share)| {
                let closes = share == item.open;
                RemittanceAllocation {
                    item: item.item.clone(),
                    amount: at_scale(share, currency),
                    closes,
                    commission: at_scale(
                        if closes {
                            item.commission
                        } else {
                            Decimal::ZERO
                        },
                        currency,
                    ),
                }
            })
            .collect();
        let remittance = Remittance {
            locator: self.accounting.producers.next_remittance_locator(producer),
            producer: producer.to_string(),
            statement,
            amount,
            received_on,
            reference: reference.to_string(),
            allocations,
        };
        let draft = postings::remittance_received(
            producer,
            amount,
            remittance.commission_netted(),
            received_on,
            &remittance.locator,
        )?;
        let entry = self
            .ledger
            .entry_for(Posting::Entry(draft), self.ledger.next_id())?;
        Ok(vec![
            TenantEvent::Accounting(AccountingEvent::RemittanceReceived {
                remittance,
                actor: context.actor.clone(),
                at: context.issued_at,
            }),
            TenantEvent::Journal(entry),
        ])
    }
}

/// Oldest first: items that owe the other way (credits to the agency for a
/// remittance, or the reverse) are netted whole first, then the rest oldest
/// first until the amount is spent.
fn oldest_first<'a>(items: &[&'a AgencyItem], amount: Decimal) -> Vec<(&'a AgencyItem, Decimal)> {
    let negative = amount.is_sign_negative();
    let mut rest = amount;
    let mut shares = Vec::new();
    for item in items {
        if !item.open.is_zero() && item.open.is_sign_negative() != negative {
            rest -= item.open;
            shares.push((*item, item.open));
        }
    }
    for item in items {
        if rest.is_zero() {
            break;
        }
        if item.open.is_zero() || item.open.is_sign_negative() != negative {
            continue;
        }
        let share = if item.open.abs() <= rest.abs() {
            item.open
        } else {
            rest
        };
        rest -= share;
        shares.push((*item, share));
    }
    shares
}

/// Allocations as given: each to an item of the statement in the currency,
/// of the item's sign and at most what it still owes, no item twice, and
/// together the remittance's amount.
fn explicit<'a>(
    items: &[&'a AgencyItem],
    asked: &[AllocationRequest],
    amount: Decimal,
) -> Result<Vec<(&'a AgencyItem, Decimal)>, EngineError> {
    let bad = |why: String| refused(ProducerError::RemittanceAllocation(why));
    if asked.len() > REMITTANCE_ALLOCATIONS_MAX {
        return Err(bad(format!(
            "{} allocations, more than {REMITTANCE_ALLOCATIONS_MAX}",
            asked.len()
        )));
    }
    let mut seen = BTreeSet::new();
    let mut shares = Vec::new();
    for request in asked {
        let item = items
            .iter()
            .find(|i| i.item == request.item)
            .ok_or_else(|| bad(format!("no item {} on the statement", request.item)))?;
        if !seen.insert(request.item.as_str()) {
            return Err(bad(format!("item {} is named twice", request.item)));
        }
        if request.amount.is_zero()
            || request.amount.is_sign_negative() != item.open.is_sign_negative()
            || request.amount.abs() > item.open.abs()
        {
            return Err(bad(format!(
                "{} for item {}, which still owes {}",
                request.amount, request.item, item.open
            )));
        }
        shares.push((*item, request.amount));
    }
    let total: Decimal = asked.iter().map(|r| r.amount).sum();
    if total != amount {
        return Err(bad(format!(
            "the allocations sum to {total}, not the remittance's {amount}"
        )));
    }
    Ok(shares)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn an_item_goes_on_the_first_statement_day_on_or_after_its_posting() {
        assert_eq!(statement_date(day("2025-12-15"), 20), day("2025-12-20"));
        assert_eq!(statement_date(day("2025-12-20"), 20), day("2025-12-20"));
        assert_eq!(statement_date(day("2025-12-21"), 20), day("2026-01-20"));
        assert_eq!(statement_date(day("2026-02-10"), 31), day("2026-02-28"));
        assert_eq!(statement_date(day("2026-03-01"), 31), day("2026-03-31"));
    }

    fn item(name: &str, open: Decimal) -> AgencyItem {
        AgencyItem {
            item: name.to_string(),
            policy: "P1".into(),
            posted_on: day("2025-12-15"),
            statement: day("2025-12-20"),
            currency: Currency::USD,
            gross: open,
            commission: Decimal::ZERO,
            net: open,
            paid: Decimal::ZERO,
            open,
            state: "open",
        }
    }

    #[test]
    fn oldest_first_nets_what_is_owed_to_the_agency_then_pays_the_oldest() {
        let items = [
            item("P1-T1", Decimal::new(108000, 2)),
            item("P1-T2", Decimal::new(-54000, 2)),
            item("P2-T1", Decimal::new(30000, 2)),
        ];
        let refs: Vec<&AgencyItem> = items.iter().collect();
        // 700.00: the -540.00 credit first, then 1080.00 of P1-T1, then
        // 160.00 of P2-T1 (700 + 540 - 1080).
        let shares: Vec<(String, Decimal)> = oldest_first(&refs, Decimal::new(70000, 2))
            .into_iter()
            .map(|(i, a)| (i.item.clone(), a))
            .collect();
        assert_eq!(
            shares,
            [
                ("P1-T2".to_string(), Decimal::new(-54000, 2)),
                ("P1-T1".to_string(), Decimal::new(108000, 2)),
                ("P2-T1".to_string(), Decimal::new(16000, 2)),
            ]
        );
    }

    proptest::proptest! {
        /// Any remittance up to what a statement owes is allocated whole,
        /// each item getting at most what it owes, of its sign.
        #[test]
        fn oldest_first_allocates_the_whole_amount_within_each_item(
            opens in proptest::collection::vec(-100_000i64..100_000, 1..8),
            fraction in 1u32..=100,
        ) {
            let items: Vec<AgencyItem> = opens
                .iter()
                .enumerate()
                .map(|(n, cents)| item(&format!("P{n}-T1"), Decimal::new(*cents, 2)))
                .collect();
            let open: Decimal = items.iter().map(|i| i.open).sum();
            proptest::prop_assume!(!open.is_zero());
            let amount = (open * Decimal::from(fraction) / Decimal::from(100)).round_dp(2);
            proptest::prop_assume!(!amount.is_zero());
            let refs: Vec<&AgencyItem> = items.iter().collect();
            let shares = oldest_first(&refs, amount);
            let total: Decimal = shares.iter().map(|(_, a)| *a).sum();
            proptest::prop_assert_eq!(total, amount);
            for (item, share) in shares {
                proptest::prop_assert!(share.abs() <= item.open.abs());
                proptest::prop_assert_eq!(share.is_sign_negative(), item.open.is_sign_negative());
            }
        }
    }
}

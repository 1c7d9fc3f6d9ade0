//! Commissions payable per producer (DOMAIN section 10, issue 21 item 4):
//! the subledger by recipient, read from the commission charges of the
//! policy book, and producer statements per accounting month.
//!
//! A commission charge (`commission`, `flatCommission`) with a recipient is
//! owed to that producer from the day its transaction's charge entry was
//! posted (Cr `commission_payable`); a negative one (a cancellation's, an
//! undone transaction's) is a **chargeback**. A producer's payable balance
//! is what was written, less what was charged back, less what was **paid**:
//! commission payments executed ([`super::commission_payments`]) and the
//! commission an agency kept by net settlement of its remittances
//! ([`super::agency`]), each on the day its entry posted. Beside each
//! commission the statement shows the premium, and the technical premium
//! where the rater gave one, that the same transaction wrote for the same
//! item.

use super::accounting::{AccountingError, Month, at_scale, is_premium};
use super::producer_book::CommissionPaymentStatus;
use super::state::{EngineError, TenantState};
use crate::domain::Currency;
use crate::ledger::ChargeCategory;
use crate::policy::Charge;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// A producer's commission payable in one currency.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProducerBalance {
    pub producer: String,
    pub currency: Currency,
    /// Every commission written to the producer (positive charges).
    pub written: Decimal,
    /// Every chargeback (negative charges, so zero or less).
    pub charged_back: Decimal,
    /// Commission paid: payments executed, and commission netted by agency
    /// remittances.
    pub paid: Decimal,
    /// What is owed: written + charged back - paid.
    pub payable: Decimal,
}

/// One commission charge on a statement.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommissionLine {
    /// `written` or `chargeback`.
    pub kind: &'static str,
    pub posted_on: NaiveDate,
    pub policy: Option<String>,
    pub transaction: String,
    pub charge: String,
    pub item: Option<String>,
    pub currency: Currency,
    pub amount: Decimal,
    /// The premium the same transaction wrote for the same item.
    pub premium: Decimal,
    /// Its technical premium, when the rater gave one.
    pub technical_premium: Option<Decimal>,
}

/// A statement's figures in one currency.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProducerTotals {
    pub currency: Currency,
    /// The payable balance at the start of the month.
    pub opening: Decimal,
    pub written: Decimal,
    pub charged_back: Decimal,
    pub paid: Decimal,
    /// The payable balance at the end of the month.
    pub closing: Decimal,
}

/// A producer's commission in one accounting month.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProducerStatement {
    pub producer: String,
    pub period: Month,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Per currency the producer was ever owed in.
    pub totals: Vec<ProducerTotals>,
    /// The month's commission charges, in the order they were posted.
    pub lines: Vec<CommissionLine>,
}

/// A commission charge with its producer and day.
struct Commission<'a> {
    producer: &'a str,
    charge: &'a Charge,
    posted_on: NaiveDate,
}

fn is_commission(charge: &Charge) -> bool {
    matches!(
        charge.category,
        ChargeCategory::Commission | ChargeCategory::FlatCommission
    )
}

impl TenantState {
    /// Every commission paid, as (producer, currency, day, amount):
    /// payments executed and commission netted by remittances.
    fn commission_paid(&self) -> Vec<(&str, Currency, NaiveDate, Decimal)> {
        let producers = &self.accounting.producers;
        let payments = producers.payments.values().filter_map(|p| match &p.status {
            CommissionPaymentStatus::Executed { on, .. } => {
                Some((p.producer.as_str(), p.amount.currency, *on, p.amount.amount))
            }
            _ => None,
        });
        let netted = producers.remittances.iter().map(|r| {
            (
                r.producer.as_str(),
                r.amount.currency,
                r.received_on,
                r.commission_netted(),
            )
        });
        payments.chain(netted).collect()
    }

    /// Every commission charge with a recipient, with the day it posted.
    fn commissions(&self) -> Vec<Commission<'_>> {
        let mut commissions = Vec::new();
        for policy in self.book.policies.values() {
            for charge in policy.charges.iter().filter(|c| is_commission(c)) {
                let Some(producer) = charge.recipient.as_deref() else {
                    continue;
                };
                let issued = policy
                    .transactions
                    .iter()
                    .find(|t| t.locator == charge.transaction)
                    .map(|t| t.issued_at.date_naive());
                let Some(posted_on) = self.accounting.written_on(&charge.transaction).or(issued)
                else {
                    continue;
                };
                commissions.push(Commission {
                    producer,
                    charge,
                    posted_on,
                });
            }
        }
        commissions.sort_by(|a, b| {
            (a.posted_on, &a.charge.transaction, &a.charge.locator).cmp(&(
                b.posted_on,
                &b.charge.transaction,
                &b.charge.locator,
            ))
        });
        commissions
    }

    /// Every producer ever owed commission, with its balances per currency
    /// (by producer, then currency).
    pub fn producers(&self) -> Vec<ProducerBalance> {
        let mut sums: BTreeMap<(String, Currency), (Decimal, Decimal)> = BTreeMap::new();
        for commission in self.commissions() {
            let amount = commission.charge.amount;
            let sum = sums
                .entry((commission.producer.to_string(), amount.currency))
                .or_default();
            if amount.amount.is_sign_negative() {
                sum.1 += amount.amount;
            } else {
                sum.0 += amount.amount;
            }
        }
        let mut paid: BTreeMap<(&str, Currency), Decimal> = BTreeMap::new();
        for (producer, currency, _, amount) in self.commission_paid() {
            *paid.entry((producer, currency)).or_default() += amount;
        }
        sums.into_iter()
            .map(|((producer, currency), (written, charged_back))| {
                let paid = paid
                    .get(&(producer.as_str(), currency))
                    .copied()
                    .unwrap_or_default();
                ProducerBalance {
                    written: at_scale(written, currency),
                    charged_back: at_scale(charged_back, currency),
                    paid: at_scale(paid, currency),
                    payable: at_scale(written + charged_back - paid, currency),
                    producer,
                    currency,
                }
            })
            .collect()
    }

    /// A producer's statement of an accounting month: per currency the
    /// payable at its start, the commission written, charged back and paid
    /// in it, and the payable at its end; and the month's commissions.
    pub fn producer_statement(
        &self,
        producer: &str,
        period: Month,
    ) -> Result<ProducerStatement, EngineError> {
        let commissions: Vec<Commission<'_>> = self
            .commissions()
            .into_iter()
            .filter(|c| c.producer == producer)
            .collect();
        if commissions.is_empty() {
            return Err(AccountingError::UnknownProducer(producer.to_string()).into());
        }
        let (first_day, last_day) = (period.first_day(), period.last_day());
        // Per currency: opening, written, charged back, paid.
        let mut sums: BTreeMap<Currency, (Decimal, Decimal, Decimal, Decimal)> = BTreeMap::new();
        for (_, currency, on, amount) in self
            .commission_paid()
            .into_iter()
            .filter(|p| p.0 == producer)
        {
            let sum = sums.entry(currency).or_default();
            if on < first_day {
                sum.0 -= amount;
            } else if on <= last_day {
                sum.3 += amount;
            }
        }
        let mut lines = Vec::new();
        for commission in &commissions {
            let charge = commission.charge;
            let amount = charge.amount.amount;
            let sum = sums.entry(charge.amount.currency).or_default();
            if commission.posted_on < first_day {
                sum.0 += amount;
                continue;
            }
            if commission.posted_on > last_day {
                continue;
            }
            if amount.is_sign_negative() {
                sum.2 += amount;
            } else {
                sum.1 += amount;
            }
            lines.push(self.commission_line(commission));
        }
        let totals = sums
            .into_iter()
            .map(
                |(currency, (opening, written, charged_back, paid))| ProducerTotals {
                    currency,
                    opening: at_scale(opening, currency),
                    written: at_scale(written, currency),
                    charged_back: at_scale(charged_back, currency),
                    paid: at_scale(paid, currency),
                    closing: at_scale(opening + written + charged_back - paid, currency),
                },
            )
            .collect();
        Ok(ProducerStatement {
            producer: producer.to_string(),
            period,
            first_day,
            last_day,
            totals,
            lines,
        })
    }

    /// A commission on a statement, beside the premium its transaction
    /// wrote for the same item.
    fn commission_line(&self, commission: &Commission<'_>) -> CommissionLine {
        let charge = commission.charge;
        let currency = charge.amount.currency;
        let premiums: Vec<&Charge> = charge
            .policy
            .as_deref()
            .and_then(|policy| self.book.policies.get(policy))
            .map(|policy| {
                policy
                    .charges
                    .iter()
                    .filter(|c| {
                        is_premium(c)
                            && c.transaction == charge.transaction
                            && c.item == charge.item
                            && c.amount.currency == currency
                    })
                    .collect()
            })
            .unwrap_or_default();
        let premium: Decimal = premiums.iter().map(|c| c.amount.amount).sum();
        let technical: Vec<Decimal> = premiums
            .iter()
            .filter_map(|c| c.technical_premium)
            .collect();
        CommissionLine {
            kind: if charge.amount.amount.is_sign_negative() {
                "chargeback"
            } else {
                "written"
            },
            posted_on: commission.posted_on,
            policy: charge.policy.clone(),
            transaction: charge.transaction.clone(),
            charge: charge.locator.clone(),
            item: charge.item.clone(),
            currency,
            amount: at_scale(charge.amount.amount, currency),
            premium: at_scale(premium, currency),
            technical_premium: (!technical.is_empty())
                .then(|| at_scale(technical.into_iter().sum(), currency)),
        }
    }
}

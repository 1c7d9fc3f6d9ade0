//! What a tenant's log says about its producers beyond their commission
//! charges (DOMAIN section 10, issue 21 items 4 and 5): commission payments
//! (drafted, approved, executed or rejected), each producer's agency-bill
//! configuration (its statement day, as history) and the agencies'
//! remittances with their allocations. Rebuilt from the `accounting` stream's
//! events; the decisions are in [`super::commission_payments`] and
//! [`super::agency`].

use crate::domain::Money;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a commission payment stands.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum CommissionPaymentStatus {
    Draft,
    Approved {
        on: NaiveDate,
        by: String,
    },
    /// Money left: Dr commission payable/producer, Cr cash.
    Executed {
        on: NaiveDate,
        by: String,
    },
    Rejected {
        on: NaiveDate,
        by: String,
        reason: String,
    },
}

impl CommissionPaymentStatus {
    /// The state's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            CommissionPaymentStatus::Draft => "draft",
            CommissionPaymentStatus::Approved { .. } => "approved",
            CommissionPaymentStatus::Executed { .. } => "executed",
            CommissionPaymentStatus::Rejected { .. } => "rejected",
        }
    }

    /// Drafted or approved: its amount is held back from the payable.
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            CommissionPaymentStatus::Draft | CommissionPaymentStatus::Approved { .. }
        )
    }
}

/// Commission paid out to a producer (a disbursement to the producer).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommissionPayment {
    /// `<producer>-CP<n>`.
    pub locator: String,
    pub producer: String,
    pub amount: Money,
    pub reason: String,
    pub drafted_on: NaiveDate,
    pub drafted_by: String,
    #[serde(flatten)]
    pub status: CommissionPaymentStatus,
}

/// A producer's agency-bill configuration from a day on: its statements
/// are cut monthly on `statement_day` (the month's last day when shorter).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyConfig {
    pub producer: String,
    pub statement_day: u32,
    /// Items posted from this day on follow it.
    pub effective: NaiveDate,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// What a remittance paid of one agency item (a transaction).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemittanceAllocation {
    /// The item: its transaction's locator.
    pub item: String,
    /// Of the item's net (negative for a chargeback item, paid to the agency).
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Whether it paid the item in full: its commission was then netted
    /// (settled against the agency receivable).
    #[serde(default)]
    pub closes: bool,
    /// The item's commission netted by this allocation (zero unless it closes).
    #[serde(default)]
    #[schema(value_type = String)]
    pub commission: Decimal,
}

/// An agency's remittance for one statement.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remittance {
    /// `<producer>-R<n>`.
    pub locator: String,
    pub producer: String,
    /// The statement's day.
    pub statement: NaiveDate,
    /// Cash received (negative: paid to the agency).
    pub amount: Money,
    pub received_on: NaiveDate,
    #[serde(default)]
    pub reference: String,
    pub allocations: Vec<RemittanceAllocation>,
}

impl Remittance {
    /// The commission its allocations netted.
    pub fn commission_netted(&self) -> Decimal {
        self.allocations.iter().map(|a| a.commission).sum()
    }
}

/// The producers' payments, agency configurations and remittances.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProducerBook {
    /// By locator.
    pub payments: BTreeMap<String, CommissionPayment>,
    /// Per producer, its configurations in order.
    pub agencies: BTreeMap<String, Vec<AgencyConfig>>,
    /// In the order received.
    pub remittances: Vec<Remittance>,
}

impl ProducerBook {
    /// The payments of `producer`, in locator order of drafting.
    pub fn payments_of<'a>(
        &'a self,
        producer: &'a str,
    ) -> impl Iterator<Item = &'a CommissionPayment> + 'a {
        self.payments
            .values()
            .filter(move |p| p.producer == producer)
    }

    /// The next payment locator of `producer`.
    pub fn next_payment_locator(&self, producer: &str) -> String {
        format!("{producer}-CP{}", self.payments_of(producer).count() + 1)
    }

    /// The next remittance locator of `producer`.
    pub fn next_remittance_locator(&self, producer: &str) -> String {
        let count = self
            .remittances
            .iter()
            .filter(|r| r.producer == producer)
            .count();
        format!("{producer}-R{}", count + 1)
    }

    /// The configuration of `producer` in force on `day` (its first one for
    /// an earlier day), if it was ever configured.
    pub fn agency_on(&self, producer: &str, day: NaiveDate) -> Option<&AgencyConfig> {
        let configs = self.agencies.get(producer)?;
        configs
            .iter()
            .rev()
            .find(|c| c.effective <= day)
            .or_else(|| configs.first())
    }
}

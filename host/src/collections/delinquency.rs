//! Delinquencies: a past-due invoice (or a policy with past-due invoices) in its
//! grace period. Paying in full during grace ends it; when grace ends unpaid,
//! its policies lapse: a cancellation effective the day after grace ends ([E6]).
//! A reinstatement of a lapsed policy closes the delinquency that lapsed it;
//! what the invoices still owe starts a new one, on the reinstatement day,
//! with a fresh grace period and no late fee ([E15]).

use super::settings::DelinquencyScope;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Who issues lapse cancellations: the actor of a policy cancellation a
/// delinquency's lapse issued.
pub const LAPSE_ACTOR: &str = "billing-run";

/// Where a delinquency stands.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum DelinquencyStatus {
    /// In grace: paying in full ends it.
    InGrace,
    /// Paid (or settled) in full during grace.
    Ended { on: NaiveDate },
    /// Grace ended unpaid: its policies were cancelled from `effective`.
    Lapsed { on: NaiveDate, effective: NaiveDate },
    /// Lapsed, then closed on `on` by `transaction` putting `policy` back in
    /// force (a reinstatement, or the reversal of the lapse's cancellation).
    /// Runs never reopen it, charge its late fee again or lapse the policy
    /// again for it; what was still owed went to `successor`, if anything.
    ClosedByReinstatement {
        on: NaiveDate,
        policy: String,
        transaction: String,
        #[serde(default)]
        successor: Option<String>,
    },
}

/// A delinquency.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delinquency {
    /// `<account>-Q<n>`.
    pub locator: String,
    pub account: String,
    pub scope: DelinquencyScope,
    /// The policies that lapse if it is not paid.
    pub policies: Vec<String>,
    /// For a per-invoice delinquency, its invoice; for a per-policy one, the
    /// past-due invoices when it started (later ones of the policy join it).
    pub invoices: Vec<String>,
    pub started_on: NaiveDate,
    /// The due date grace counts from.
    pub due_date: NaiveDate,
    /// The last day of grace.
    pub grace_end: NaiveDate,
    pub status: DelinquencyStatus,
    /// The delinquency a reinstatement closed, whose unpaid invoices this one
    /// took over (it charged no late fee of its own).
    #[serde(default)]
    pub follows: Option<String>,
}

impl Delinquency {
    pub fn is_in_grace(&self) -> bool {
        self.status == DelinquencyStatus::InGrace
    }
}

/// A cancellation issued by a lapse.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LapseCancellation {
    pub policy: String,
    /// The cancellation transaction.
    pub transaction: String,
}

/// A delinquency's grace moved by a hold.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraceChange {
    pub delinquency: String,
    pub grace_end: NaiveDate,
}

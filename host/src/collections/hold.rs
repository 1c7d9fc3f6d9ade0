//! Holds on an account: an invoicing hold (installments stay uninvoiced until it
//! is released; the release bills them on one catch-up invoice), a delinquency
//! hold (grace is paused: released, every delinquency's grace is extended by the
//! days it was held), and a temporary suspension (a moratorium: both at once for
//! a set time, ending with one catch-up invoice due a set number of days later).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The most days a suspension's catch-up invoice may give to pay.
pub const CATCH_UP_DUE_DAYS_MAX: u32 = 366;

/// What a hold stops.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum HoldKind {
    /// No invoices are generated from `from` until it is released.
    Invoicing,
    /// Grace does not run from `from` until it is released.
    Delinquency,
    /// Neither invoices nor grace from `from` until `until` (exclusive); the
    /// billing run ends it on `until` with one catch-up invoice due
    /// `catch_up_due_days` later.
    Suspension {
        until: NaiveDate,
        catch_up_due_days: u32,
    },
}

/// A hold.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// `<account>-H<n>`.
    pub locator: String,
    pub kind: HoldKind,
    pub from: NaiveDate,
    pub reason: String,
    pub released_on: Option<NaiveDate>,
}

impl Hold {
    /// Whether it keeps invoices from being generated on `date`.
    pub fn blocks_invoicing(&self, date: NaiveDate) -> bool {
        self.is_active_on(date)
            && matches!(self.kind, HoldKind::Invoicing | HoldKind::Suspension { .. })
    }

    /// Whether it pauses grace on `date`.
    pub fn pauses_grace(&self, date: NaiveDate) -> bool {
        self.is_active_on(date)
            && matches!(
                self.kind,
                HoldKind::Delinquency | HoldKind::Suspension { .. }
            )
    }

    /// Whether it is in force on `date`.
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        if self.released_on.is_some() || date < self.from {
            return false;
        }
        match self.kind {
            HoldKind::Suspension { until, .. } => date < until,
            _ => true,
        }
    }

    /// The day a suspension ends on its own, while it is not released.
    pub fn suspension_end(&self) -> Option<NaiveDate> {
        match self.kind {
            HoldKind::Suspension { until, .. } if self.released_on.is_none() => Some(until),
            _ => None,
        }
    }
}

//! Grace periods: when an unpaid invoice becomes past due, when its grace ends, and
//! the day its policy lapses. Pure date arithmetic; the delinquency process that
//! uses it lives with invoicing (`collections/decide/delinquency.rs`).

use crate::domain::period::{PeriodError, add_days};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The longest grace period accepted.
pub const GRACE_DAYS_MAX: u32 = 366;

/// An error computing grace dates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraceError {
    /// More than [`GRACE_DAYS_MAX`].
    #[error("grace of {0} days is more than {GRACE_DAYS_MAX}")]
    TooLong(u32),
    /// Date arithmetic failed.
    #[error(transparent)]
    Period(#[from] PeriodError),
}

/// A grace period in days after the due date.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GracePeriod {
    pub grace_days: u32,
}

impl GracePeriod {
    /// The last day of grace: `grace_days` after the due date.
    ///
    /// Example ([E6]): due 2023-01-01 with a 30-day grace, grace ends 2023-01-31.
    pub fn end_date(&self, due_date: NaiveDate) -> Result<NaiveDate, GraceError> {
        if self.grace_days > GRACE_DAYS_MAX {
            return Err(GraceError::TooLong(self.grace_days));
        }
        Ok(add_days(due_date, i64::from(self.grace_days))?)
    }

    /// The effective date of the lapse when grace ends unpaid: the day after grace
    /// ends (2023-02-01 in [E6]).
    pub fn lapse_date(&self, due_date: NaiveDate) -> Result<NaiveDate, GraceError> {
        Ok(add_days(self.end_date(due_date)?, 1)?)
    }
}

/// The effective date of the lapse of a grace that ends on `grace_end`: the
/// day after (the last representable day stays itself).
pub fn lapse_after(grace_end: NaiveDate) -> NaiveDate {
    grace_end.succ_opt().unwrap_or(grace_end)
}

/// Whether an invoice due on `due_date` is past due on `today`: from the day after
/// its due date (an invoice is payable through its due date).
pub fn is_past_due(due_date: NaiveDate, today: NaiveDate) -> bool {
    today > due_date
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn e6_due_january_1_with_30_days_grace_ends_january_31() {
        let grace = GracePeriod { grace_days: 30 };
        assert_eq!(grace.end_date(date(2023, 1, 1)).unwrap(), date(2023, 1, 31));
        assert_eq!(
            grace.lapse_date(date(2023, 1, 1)).unwrap(),
            date(2023, 2, 1)
        );
    }

    #[test]
    fn grace_counts_calendar_days_across_february() {
        let grace = GracePeriod { grace_days: 30 };
        assert_eq!(grace.end_date(date(2024, 2, 1)).unwrap(), date(2024, 3, 2));
        assert_eq!(grace.end_date(date(2023, 2, 1)).unwrap(), date(2023, 3, 3));
        let none = GracePeriod { grace_days: 0 };
        assert_eq!(
            none.lapse_date(date(2024, 2, 29)).unwrap(),
            date(2024, 3, 1)
        );
        assert_eq!(
            GracePeriod { grace_days: 400 }.end_date(date(2024, 1, 1)),
            Err(GraceError::TooLong(400))
        );
    }

    #[test]
    fn an_invoice_is_past_due_from_the_day_after_its_due_date() {
        let due = date(2023, 1, 1);
        assert!(!is_past_due(due, date(2022, 12, 31)));
        assert!(!is_past_due(due, due));
        assert!(is_past_due(due, date(2023, 1, 2)));
    }
}

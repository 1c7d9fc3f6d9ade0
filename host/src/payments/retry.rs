//! When a failed collection is tried again, by failure class:
//!
//! - soft decline (e.g. `insufficient_funds`): on the configured days
//!   after the invoice's first attempt (3 and 7 by default), then never;
//! - hard decline: never;
//! - processor error: back-off of 1, 2 and 4 days after each failure,
//!   then never.
//!
//! Worked example ([E13]): first attempt on 2026-03-01 fails
//! `insufficient_funds`: retried on 2026-03-04 (3 days); if that fails
//! too, on 2026-03-08 (7 days after the first); after a third failure,
//! never.

use super::attempt::FailureClass;
use chrono::{Days, NaiveDate};

/// The default days after the first attempt on which a soft decline is
/// retried.
pub const SOFT_DECLINE_RETRY_DAYS: [u32; 2] = [3, 7];
/// The most soft-decline retries a tenant may configure.
pub const SOFT_DECLINE_RETRIES_MAX: usize = 10;
/// The latest day after the first attempt a retry may be configured on.
pub const RETRY_DAYS_MAX: u32 = 60;
/// The back-off after each processor error, in days.
pub const PROCESSOR_ERROR_BACKOFF_DAYS: [u32; 3] = [1, 2, 4];

/// The day the attempt after attempt `number` (1 for the first) is made,
/// when it failed with `class` on `failed_on`; none when it is not
/// retried.
///
/// Example: `retry_on(SoftDecline, 1, 2026-03-01, 2026-03-01, &[3, 7])` is
/// 2026-03-04; attempt 2 gives 2026-03-08; attempt 3 gives none.
pub fn retry_on(
    class: FailureClass,
    number: u32,
    first_requested_on: NaiveDate,
    failed_on: NaiveDate,
    soft_decline_retry_days: &[u32],
) -> Option<NaiveDate> {
    let index = usize::try_from(number).ok()?.checked_sub(1)?;
    match class {
        FailureClass::HardDecline => None,
        FailureClass::SoftDecline => {
            let days = *soft_decline_retry_days.get(index)?;
            let on = first_requested_on.checked_add_days(Days::new(u64::from(days)))?;
            Some(on.max(failed_on.succ_opt()?))
        }
        FailureClass::ProcessorError => {
            let days = *PROCESSOR_ERROR_BACKOFF_DAYS.get(index)?;
            failed_on.checked_add_days(Days::new(u64::from(days)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_soft_decline_is_retried_3_and_7_days_after_the_first_attempt_then_never() {
        let first = day("2026-03-01");
        let soft = FailureClass::SoftDecline;
        let days = SOFT_DECLINE_RETRY_DAYS;
        assert_eq!(
            retry_on(soft, 1, first, first, &days),
            Some(day("2026-03-04"))
        );
        assert_eq!(
            retry_on(soft, 2, first, day("2026-03-04"), &days),
            Some(day("2026-03-08"))
        );
        assert_eq!(retry_on(soft, 3, first, day("2026-03-08"), &days), None);
    }

    #[test]
    fn a_hard_decline_is_never_retried() {
        let first = day("2026-03-01");
        assert_eq!(
            retry_on(
                FailureClass::HardDecline,
                1,
                first,
                first,
                &SOFT_DECLINE_RETRY_DAYS
            ),
            None
        );
    }

    #[test]
    fn a_processor_error_backs_off_one_two_then_four_days() {
        let first = day("2026-03-01");
        let error = FailureClass::ProcessorError;
        assert_eq!(
            retry_on(error, 1, first, first, &[]),
            Some(day("2026-03-02"))
        );
        assert_eq!(
            retry_on(error, 2, first, day("2026-03-02"), &[]),
            Some(day("2026-03-04"))
        );
        assert_eq!(
            retry_on(error, 3, first, day("2026-03-04"), &[]),
            Some(day("2026-03-08"))
        );
        assert_eq!(retry_on(error, 4, first, day("2026-03-08"), &[]), None);
    }

    #[test]
    fn a_late_failure_is_never_retried_on_or_before_its_own_day() {
        let first = day("2026-03-01");
        assert_eq!(
            retry_on(
                FailureClass::SoftDecline,
                1,
                first,
                day("2026-03-05"),
                &[3, 7]
            ),
            Some(day("2026-03-06"))
        );
    }
}

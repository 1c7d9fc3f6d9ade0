//! When a failed delivery is tried again (DOMAIN section 11): about 5 s,
//! 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h, each with up to 20% of
//! jitter so receivers coming back are not hit by every tenant at once; a
//! receiver's `Retry-After` is honoured (at most the longest step); `410
//! Gone` disables the endpoint at once; failing for three days disables it
//! as `failing`.
//!
//! Worked example: a receiver down from 12:00:00 is tried at 12:00:00,
//! about 12:00:05, 12:05:05, 12:35:05, 14:35:05, 19:35:05, then 05:35:05
//! the next day and every 10 h; the first attempt that fails three days
//! after 12:00:00 disables the endpoint.

use chrono::{DateTime, Duration, Utc};

/// The waits after the 1st, 2nd, ... failure, in seconds; the last repeats.
pub const RETRY_WAITS_SECONDS: [i64; 6] = [5, 300, 1_800, 7_200, 18_000, 36_000];
/// The jitter on each wait, in percent (either way).
pub const JITTER_PERCENT_MAX: i64 = 20;
/// How long an endpoint may fail before it is disabled.
pub const FAILING_DAYS_MAX: i64 = 3;
const _: () = assert!(RETRY_WAITS_SECONDS[5] * 3 < FAILING_DAYS_MAX * 86_400);

/// What a delivery attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// A 2xx answer.
    Delivered,
    /// `410 Gone`: the receiver asks never to be called again.
    Gone,
    /// Any other answer, a timeout or no connection; `retry_after_seconds`
    /// from the receiver's `Retry-After`, when it sent one.
    Failed { retry_after_seconds: Option<i64> },
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(DateTime<Utc>),
    /// Disable the endpoint as failing (three days of failures).
    Disable,
}

/// The wait after the `failures`-th failure (1-based), without jitter.
pub fn base_wait(failures: u32) -> Duration {
    let index = (failures.max(1) as usize - 1).min(RETRY_WAITS_SECONDS.len() - 1);
    Duration::seconds(RETRY_WAITS_SECONDS[index])
}

/// The next attempt after the `failures`-th failure at `now` of a message
/// failing since `failing_since`; `jitter_permille` in [-1000, 1000] picks
/// where in the jitter band the wait lands (random in production, fixed in
/// tests).
pub fn after_failure(
    failures: u32,
    failing_since: DateTime<Utc>,
    now: DateTime<Utc>,
    retry_after_seconds: Option<i64>,
    jitter_permille: i64,
) -> AfterFailure {
    if now - failing_since >= Duration::days(FAILING_DAYS_MAX) {
        return AfterFailure::Disable;
    }
    let base = base_wait(failures).num_milliseconds();
    let jitter_permille = jitter_permille.clamp(-1_000, 1_000);
    // Whole milliseconds: the band is at most 20% of 10 h.
    let spread = base * JITTER_PERCENT_MAX / 100 * jitter_permille / 1_000;
    let scheduled = base + spread;
    let longest = RETRY_WAITS_SECONDS[RETRY_WAITS_SECONDS.len() - 1] * 1_000;
    let wait = match retry_after_seconds {
        Some(seconds) => (seconds.max(1) * 1_000).min(longest),
        None => scheduled,
    };
    AfterFailure::RetryAt(now + Duration::milliseconds(wait.max(1)))
}

/// The seconds of a `Retry-After` header: delta-seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<i64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return (seconds >= 0).then_some(seconds);
    }
    let date = DateTime::parse_from_rfc2822(value).ok()?;
    Some((date.with_timezone(&Utc) - now).num_seconds().max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().into()
    }

    #[test]
    fn waits_grow_from_five_seconds_to_ten_hours_and_stay_there() {
        let waits: Vec<i64> = (1..=8).map(|n| base_wait(n).num_seconds()).collect();
        assert_eq!(
            waits,
            vec![5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 36_000]
        );
    }

    #[test]
    fn the_worked_example_retries_on_schedule_without_jitter() {
        let start = at("2026-03-01T12:00:00Z");
        let mut now = start;
        let mut tried = Vec::new();
        for failures in 1..=7 {
            match after_failure(failures, start, now, None, 0) {
                AfterFailure::RetryAt(next) => now = next,
                AfterFailure::Disable => panic!("disabled too early"),
            }
            tried.push(now.format("%d %H:%M:%S").to_string());
        }
        assert_eq!(
            tried,
            vec![
                "01 12:00:05",
                "01 12:05:05",
                "01 12:35:05",
                "01 14:35:05",
                "01 19:35:05",
                "02 05:35:05",
                "02 15:35:05"
            ]
        );
        assert_eq!(
            after_failure(9, start, at("2026-03-04T12:00:00Z"), None, 0),
            AfterFailure::Disable
        );
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let now = at("2026-03-01T12:00:00Z");
        for (jitter, seconds) in [(-1_000, 4), (1_000, 6)] {
            let AfterFailure::RetryAt(next) = after_failure(1, now, now, None, jitter) else {
                panic!()
            };
            assert_eq!((next - now).num_seconds(), seconds);
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_longest_wait() {
        let now = at("2026-03-01T12:00:00Z");
        let AfterFailure::RetryAt(next) = after_failure(1, now, now, Some(120), 0) else {
            panic!()
        };
        assert_eq!((next - now).num_seconds(), 120);
        let AfterFailure::RetryAt(next) = after_failure(1, now, now, Some(10_000_000), 0) else {
            panic!()
        };
        assert_eq!((next - now).num_hours(), 10);
        assert_eq!(parse_retry_after("30", now), Some(30));
        assert_eq!(
            parse_retry_after("Sun, 01 Mar 2026 12:01:00 GMT", now),
            Some(60)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}

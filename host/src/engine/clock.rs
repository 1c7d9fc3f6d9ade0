//! A tenant's "today" (DOMAIN section 5).
//!
//! A normal tenant's today is the wall clock: the latest local date, now, of
//! UTC and of the time zones its policies are written in. So a tenant whose
//! policies are in a zone ahead of UTC (Pacific/Auckland, Pacific/Kiritimati)
//! may bill up to its own today while UTC is still on the day before, and a
//! run is never allowed past a date that has not yet begun anywhere the tenant
//! writes business.
//!
//! A test tenant, marked at its creation, has a clock of its own: a date that
//! starts at the wall-clock (UTC) date of its creation and that staff move
//! forward, never back. Its transactions (what is already invoiced, the
//! catch-up of a back-dated binding, the day charges are posted), its billing
//! runs and their lapses all read that date, so a whole year can be played in
//! a test. Marking and moving are events of the tenant's log (the store keeps
//! who sent them and when), so the clock survives restarts and replays.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A command to a tenant's clock.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum ClockCommand {
    /// Makes a new tenant (one with nothing in its log) a test tenant whose
    /// clock starts at `today`.
    StartTestClock { today: NaiveDate },
    /// Moves a test tenant's clock to `today`: the same day or later.
    MoveClock { today: NaiveDate },
}

/// An event of a tenant's clock.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ClockEvent {
    /// The tenant is a test tenant; its clock starts at `today`.
    TestClockStarted { today: NaiveDate },
    /// The clock moved from `from` to `today`.
    ClockMoved { from: NaiveDate, today: NaiveDate },
}

impl ClockEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            ClockEvent::TestClockStarted { .. } => "test_clock_started",
            ClockEvent::ClockMoved { .. } => "clock_moved",
        }
    }
}

/// Why a clock command or a billing run's date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error("this tenant is not a test tenant: its today is the wall clock, which cannot be set")]
    NotATestTenant,
    #[error("the clock is at {today}; it moves forward only, not back to {requested}")]
    Backwards {
        today: NaiveDate,
        requested: NaiveDate,
    },
    #[error("only a new tenant (nothing in its log yet) can be made a test tenant")]
    TenantNotNew,
    #[error("a billing run up to {up_to} is past the tenant's today ({today})")]
    RunInTheFuture { up_to: NaiveDate, today: NaiveDate },
}

impl ClockError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            ClockError::NotATestTenant => "not_a_test_tenant",
            ClockError::Backwards { .. } => "clock_backwards",
            ClockError::TenantNotNew => "tenant_not_new",
            ClockError::RunInTheFuture { .. } => "run_in_the_future",
        }
    }

    /// How the refusal is answered.
    pub fn kind(&self) -> crate::domain::ErrorKind {
        use crate::domain::ErrorKind;
        match self {
            ClockError::NotATestTenant
            | ClockError::Backwards { .. }
            | ClockError::TenantNotNew => ErrorKind::Conflict,
            ClockError::RunInTheFuture { .. } => ErrorKind::Invalid,
        }
    }
}

/// A tenant's clock: its own date for a test tenant, the wall clock otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct TenantClock {
    /// A test tenant's today; `None` for a normal tenant.
    pub test_today: Option<NaiveDate>,
}

impl TenantClock {
    pub fn is_test(&self) -> bool {
        self.test_today.is_some()
    }

    /// The events of `command`; `fresh` says the tenant's log is empty.
    pub fn decide(&self, command: &ClockCommand, fresh: bool) -> Result<ClockEvent, ClockError> {
        match (command, self.test_today) {
            (ClockCommand::StartTestClock { today }, None) if fresh => {
                Ok(ClockEvent::TestClockStarted { today: *today })
            }
            (ClockCommand::StartTestClock { .. }, _) => Err(ClockError::TenantNotNew),
            (ClockCommand::MoveClock { .. }, None) => Err(ClockError::NotATestTenant),
            (ClockCommand::MoveClock { today }, Some(current)) if *today < current => {
                Err(ClockError::Backwards {
                    today: current,
                    requested: *today,
                })
            }
            (ClockCommand::MoveClock { today }, Some(current)) => Ok(ClockEvent::ClockMoved {
                from: current,
                today: *today,
            }),
        }
    }

    pub fn apply(&mut self, event: &ClockEvent) {
        match event {
            ClockEvent::TestClockStarted { today } | ClockEvent::ClockMoved { today, .. } => {
                self.test_today = Some(*today)
            }
        }
    }
}

/// A normal tenant's today at `now`: the latest local date of UTC and of
/// `zones` (unknown zone names are skipped).
pub fn wall_today<'z>(now: DateTime<Utc>, zones: impl IntoIterator<Item = &'z str>) -> NaiveDate {
    let mut seen = std::collections::BTreeSet::new();
    let mut today = now.date_naive();
    for zone in zones {
        if !seen.insert(zone) {
            continue;
        }
        if let Ok(tz) = crate::domain::parse_time_zone(zone) {
            today = today.max(crate::domain::local_date(now, tz));
        }
    }
    today
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_test_clock_moves_forward_or_stays_but_never_goes_back() {
        let mut clock = TenantClock::default();
        let started = clock
            .decide(
                &ClockCommand::StartTestClock {
                    today: date(2026, 12, 5),
                },
                true,
            )
            .unwrap();
        clock.apply(&started);
        assert_eq!(clock.test_today, Some(date(2026, 12, 5)));
        let back = clock.decide(
            &ClockCommand::MoveClock {
                today: date(2026, 12, 4),
            },
            false,
        );
        assert_eq!(
            back,
            Err(ClockError::Backwards {
                today: date(2026, 12, 5),
                requested: date(2026, 12, 4)
            })
        );
        assert_eq!(back.unwrap_err().code(), "clock_backwards");
        let moved = clock
            .decide(
                &ClockCommand::MoveClock {
                    today: date(2027, 3, 1),
                },
                false,
            )
            .unwrap();
        assert_eq!(
            moved,
            ClockEvent::ClockMoved {
                from: date(2026, 12, 5),
                today: date(2027, 3, 1)
            }
        );
        clock.apply(&moved);
        assert_eq!(clock.test_today, Some(date(2027, 3, 1)));
    }

    #[test]
    fn a_normal_tenant_has_no_clock_to_move_and_an_old_tenant_cannot_become_a_test_tenant() {
        let clock = TenantClock::default();
        let move_it = ClockCommand::MoveClock {
            today: date(2027, 1, 1),
        };
        assert_eq!(
            clock.decide(&move_it, false).unwrap_err().code(),
            "not_a_test_tenant"
        );
        let start = ClockCommand::StartTestClock {
            today: date(2027, 1, 1),
        };
        assert_eq!(
            clock.decide(&start, false).unwrap_err().code(),
            "tenant_not_new"
        );
    }

    #[test]
    fn a_normal_tenants_today_is_the_latest_local_date_of_utc_and_its_zones() {
        // 2026-12-05 20:00 UTC: already 2026-12-06 in Auckland (UTC+13) and
        // Kiritimati (UTC+14), still 2026-12-05 in New York.
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 20, 0, 0).unwrap();
        assert_eq!(wall_today(now, []), date(2026, 12, 5));
        assert_eq!(wall_today(now, ["America/New_York"]), date(2026, 12, 5));
        assert_eq!(
            wall_today(now, ["America/New_York", "Pacific/Auckland"]),
            date(2026, 12, 6)
        );
        assert_eq!(wall_today(now, ["Pacific/Kiritimati"]), date(2026, 12, 6));
        // 2026-12-05 09:00 UTC: 23:00 on 2026-12-05 in Kiritimati.
        let morning = Utc.with_ymd_and_hms(2026, 12, 5, 9, 0, 0).unwrap();
        assert_eq!(
            wall_today(morning, ["Pacific/Kiritimati", "nowhere/unknown"]),
            date(2026, 12, 5)
        );
    }
}

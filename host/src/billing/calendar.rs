//! The billing calendar (seed 003): when an account's billing runs, shifted off
//! weekends and excluded dates, optionally in advance of the scheduled day, and the
//! invoice and due date of an installment. Pure functions of the configuration.

use crate::domain::money::Money;
use crate::domain::period::{Period, PeriodError, add_days, from_month_index, month_index};
use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The farthest a billing date is shifted looking for an allowed day.
pub const SHIFT_DAYS_MAX: u32 = 62;

/// The most days in advance billing may run.
pub const ADVANCE_DAYS_MAX: u32 = 92;

/// The most invoice due days.
pub const DUE_DAYS_MAX: u32 = 366;

/// The longest range [`BillingCalendar::billing_dates`] lists (about ten years).
pub const RANGE_DAYS_MAX: u32 = 3_660;

/// An error in a calendar or computing its dates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The billing day does not go with the frequency (a weekday for a monthly
    /// frequency, a day of month for a weekly one).
    #[error("billing day {day:?} does not go with the {frequency:?} frequency")]
    DayNotForFrequency {
        frequency: BillingFrequency,
        day: BillingDay,
    },
    /// A day of month outside 1-30 (use `last-day-of-month` for the 31st).
    #[error("billing day of month {0} is not in 1-30; use last-day-of-month for the 31st")]
    DayOfMonthOutOfRange(u8),
    /// A first month outside 1-12.
    #[error("first month {0} is not in 1-12")]
    FirstMonthOutOfRange(u8),
    /// Too many days in advance or due days.
    #[error("{name} {days} is more than {max}")]
    DaysOutOfRange {
        name: &'static str,
        days: u32,
        max: u32,
    },
    /// No allowed day within [`SHIFT_DAYS_MAX`] of a billing date.
    #[error("no allowed billing day within {SHIFT_DAYS_MAX} days of {0}")]
    NoAllowedDay(NaiveDate),
    /// A range longer than [`RANGE_DAYS_MAX`].
    #[error("range {0} is longer than {RANGE_DAYS_MAX} days")]
    RangeTooLong(Period),
    /// An installment due before its invoice is generated.
    #[error("installment due {due_date} before it is generated on {generate_date}")]
    DueBeforeGenerated {
        generate_date: NaiveDate,
        due_date: NaiveDate,
    },
    /// Date arithmetic failed.
    #[error(transparent)]
    Period(#[from] PeriodError),
}

/// How often billing runs. Serialised in kebab-case: `"weekly"`, `"monthly"`,
/// `"quarterly"`, `"semi-annually"`, `"annually"`.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BillingFrequency {
    Weekly,
    Monthly,
    Quarterly,
    SemiAnnually,
    Annually,
}

impl BillingFrequency {
    fn months(self) -> Option<i64> {
        match self {
            BillingFrequency::Weekly => None,
            BillingFrequency::Monthly => Some(1),
            BillingFrequency::Quarterly => Some(3),
            BillingFrequency::SemiAnnually => Some(6),
            BillingFrequency::Annually => Some(12),
        }
    }
}

/// Which day billing runs on. Serialised in kebab-case: `{"day-of-week": "Mon"}`,
/// `{"day-of-month": 15}`, `"last-day-of-month"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BillingDay {
    /// For a weekly frequency.
    DayOfWeek(Weekday),
    /// 1-30; in a shorter month, its last day (day 30 in February is the 28th or 29th).
    DayOfMonth(u8),
    /// The last day of the month (the way to bill on the 31st).
    LastDayOfMonth,
}

/// Which way a billing date on a disallowed day moves. Serialised in kebab-case:
/// `"before"` (the default) or `"after"`.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ShiftDirection {
    /// One day earlier, again and again until an allowed day. The default.
    #[default]
    Before,
    /// One day later, again and again until an allowed day.
    After,
}

/// A tenant's (or, with overrides, an account's) billing calendar.
///
/// Serialised with snake_case fields; everything but `frequency` and `day` has the
/// seed's default: `{"frequency": "monthly", "day": {"day-of-month": 5}}`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingCalendar {
    pub frequency: BillingFrequency,
    pub day: BillingDay,
    /// For quarterly, semi-annual and annual billing: the month (1-12) of the year the
    /// cycle starts in; quarterly from 2 bills in February, May, August and November.
    /// Default 1.
    #[serde(default = "default_first_month")]
    pub first_month: u8,
    /// Run billing this many calendar days before the scheduled day; the scheduled day
    /// stays the cut-off. Default 0.
    #[serde(default)]
    pub bill_in_advance_days: u32,
    /// Whether billing may run on Saturday and Sunday. Default no.
    #[serde(default)]
    pub weekends_allowed: bool,
    /// Days billing never runs on (holidays).
    #[serde(default)]
    pub excluded_dates: BTreeSet<NaiveDate>,
    /// Which way a disallowed billing date moves. Default before.
    #[serde(default)]
    pub shift: ShiftDirection,
    /// Whether invoices with nothing outstanding are sent. Default yes. Read
    /// by nothing: billing reads the billing settings' own field
    /// (`collections::BillingSettings`, passed to [`sends_invoice`]), and the
    /// settings refuse a calendar setting this one to no
    /// (`calendar_field_in_settings`). It stays for the stored format.
    #[serde(default = "default_true")]
    pub send_zero_outstanding_invoices: bool,
    /// Days from an invoice's issue date to its due date. Default 0. Read by
    /// nothing: billing reads the billing settings' own field (passed to
    /// [`invoice_due_date`]), and the settings refuse a calendar setting this
    /// one (`calendar_field_in_settings`). It stays for the stored format.
    #[serde(default)]
    pub invoice_due_days: u32,
}

fn default_first_month() -> u8 {
    1
}

fn default_true() -> bool {
    true
}

/// Per-account changes to the tenant's calendar; `None` keeps the tenant's value.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CalendarOverrides {
    pub frequency: Option<BillingFrequency>,
    pub day: Option<BillingDay>,
    pub first_month: Option<u8>,
    pub bill_in_advance_days: Option<u32>,
    pub weekends_allowed: Option<bool>,
    /// Replaces the tenant's excluded dates when present.
    pub excluded_dates: Option<BTreeSet<NaiveDate>>,
    pub shift: Option<ShiftDirection>,
    pub send_zero_outstanding_invoices: Option<bool>,
    pub invoice_due_days: Option<u32>,
}

/// One billing run: the day it runs and the scheduled day that is its cut-off
/// (charges up to and including the cut-off are billed).
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingDate {
    pub run_date: NaiveDate,
    pub cut_off_date: NaiveDate,
}

/// The invoice that bills an installment.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallmentInvoice {
    /// The billing run that generates it.
    pub billing: BillingDate,
    /// The invoice's issue date.
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
}

impl BillingCalendar {
    /// A calendar with the given frequency and day and the seed's defaults: no
    /// advance, no weekends, no excluded dates, shift before, zero invoices sent,
    /// due on issue.
    pub fn new(frequency: BillingFrequency, day: BillingDay) -> BillingCalendar {
        BillingCalendar {
            frequency,
            day,
            first_month: 1,
            bill_in_advance_days: 0,
            weekends_allowed: false,
            excluded_dates: BTreeSet::new(),
            shift: ShiftDirection::Before,
            send_zero_outstanding_invoices: true,
            invoice_due_days: 0,
        }
    }

    /// This calendar with an account's overrides applied.
    pub fn with_overrides(&self, overrides: &CalendarOverrides) -> BillingCalendar {
        BillingCalendar {
            frequency: overrides.frequency.unwrap_or(self.frequency),
            day: overrides.day.unwrap_or(self.day),
            first_month: overrides.first_month.unwrap_or(self.first_month),
            bill_in_advance_days: overrides
                .bill_in_advance_days
                .unwrap_or(self.bill_in_advance_days),
            weekends_allowed: overrides.weekends_allowed.unwrap_or(self.weekends_allowed),
            excluded_dates: overrides
                .excluded_dates
                .clone()
                .unwrap_or_else(|| self.excluded_dates.clone()),
            shift: overrides.shift.unwrap_or(self.shift),
            send_zero_outstanding_invoices: overrides
                .send_zero_outstanding_invoices
                .unwrap_or(self.send_zero_outstanding_invoices),
            invoice_due_days: overrides.invoice_due_days.unwrap_or(self.invoice_due_days),
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), CalendarError> {
        let matches = match (self.frequency, self.day) {
            (BillingFrequency::Weekly, BillingDay::DayOfWeek(_)) => true,
            (BillingFrequency::Weekly, _) | (_, BillingDay::DayOfWeek(_)) => false,
            _ => true,
        };
        if !matches {
            return Err(CalendarError::DayNotForFrequency {
                frequency: self.frequency,
                day: self.day,
            });
        }
        if let BillingDay::DayOfMonth(day) = self.day
            && !(1..=30).contains(&day)
        {
            return Err(CalendarError::DayOfMonthOutOfRange(day));
        }
        if !(1..=12).contains(&self.first_month) {
            return Err(CalendarError::FirstMonthOutOfRange(self.first_month));
        }
        for (name, days, max) in [
            (
                "bill_in_advance_days",
                self.bill_in_advance_days,
                ADVANCE_DAYS_MAX,
            ),
            ("invoice_due_days", self.invoice_due_days, DUE_DAYS_MAX),
        ] {
            if days > max {
                return Err(CalendarError::DaysOutOfRange { name, days, max });
            }
        }
        Ok(())
    }

    /// Whether billing may run on `date`: not an excluded date, and not a Saturday or
    /// Sunday unless weekends are allowed.
    pub fn is_allowed(&self, date: NaiveDate) -> bool {
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        (self.weekends_allowed || !weekend) && !self.excluded_dates.contains(&date)
    }

    /// `date` itself when allowed, else the nearest allowed day in the shift
    /// direction, stepping one day at a time over runs of excluded days and weekends.
    ///
    /// Example: Saturday 2024-03-30 shifts before to Friday 03-29, or after to Monday
    /// 04-01; with Friday 03-29 a holiday too, before gives Thursday 03-28.
    pub fn shift_to_allowed(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        let step = match self.shift {
            ShiftDirection::Before => -1,
            ShiftDirection::After => 1,
        };
        let mut day = date;
        for _ in 0..=SHIFT_DAYS_MAX {
            if self.is_allowed(day) {
                return Ok(day);
            }
            day = add_days(day, step)?;
        }
        Err(CalendarError::NoAllowedDay(date))
    }

    /// The billing run for a scheduled day: it runs `bill_in_advance_days` before,
    /// shifted to an allowed day, and the scheduled day itself stays the cut-off
    /// (it is not shifted).
    pub fn billing_date(&self, scheduled: NaiveDate) -> Result<BillingDate, CalendarError> {
        let advanced = add_days(scheduled, -i64::from(self.bill_in_advance_days))?;
        Ok(BillingDate {
            run_date: self.shift_to_allowed(advanced)?,
            cut_off_date: scheduled,
        })
    }

    /// The first scheduled billing day on or after `date` (before any shift).
    pub fn next_scheduled_date(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        self.validate()?;
        let out_of_range = || CalendarError::Period(PeriodError::OutOfRange { date });
        let Some(step) = self.frequency.months() else {
            let BillingDay::DayOfWeek(weekday) = self.day else {
                unreachable!("validated: weekly billing has a weekday");
            };
            let ahead =
                (7 + weekday.num_days_from_monday() - date.weekday().num_days_from_monday()) % 7;
            return Ok(add_days(date, i64::from(ahead))?);
        };
        let day = match self.day {
            BillingDay::DayOfMonth(day) => u32::from(day),
            _ => 31,
        };
        let first = i64::from(self.first_month) - 1;
        let mut index = month_index(date);
        // Move to the first month of the cycle at or after the date's month.
        index += (first - index).rem_euclid(step);
        let candidate = from_month_index(index, day).ok_or_else(out_of_range)?;
        if candidate >= date {
            return Ok(candidate);
        }
        from_month_index(index + step, day).ok_or_else(out_of_range)
    }

    /// The billing runs whose run date falls in `range`, in order. When two scheduled
    /// days shift onto the same run date (a long holiday), they become one run with
    /// the later cut-off.
    pub fn billing_dates(&self, range: Period) -> Result<Vec<BillingDate>, CalendarError> {
        self.validate()?;
        if range.days() > RANGE_DAYS_MAX {
            return Err(CalendarError::RangeTooLong(range));
        }
        // A run is within SHIFT_DAYS_MAX of its scheduled day minus the advance.
        let reach = i64::from(self.bill_in_advance_days);
        let slack = i64::from(SHIFT_DAYS_MAX);
        let mut scheduled = self.next_scheduled_date(add_days(range.start(), reach - slack)?)?;
        let last = add_days(range.end(), reach + slack)?;
        let mut dates: Vec<BillingDate> = Vec::new();
        while scheduled <= last {
            let billing = self.billing_date(scheduled)?;
            if range.contains(billing.run_date) {
                match dates.last_mut() {
                    Some(previous) if previous.run_date == billing.run_date => *previous = billing,
                    _ => dates.push(billing),
                }
            }
            scheduled = self.next_scheduled_date(add_days(scheduled, 1)?)?;
        }
        debug_assert!(
            dates
                .windows(2)
                .all(|pair| pair[0].run_date < pair[1].run_date)
        );
        Ok(dates)
    }

    /// The first billing run on or after `date`.
    pub fn next_billing_date(&self, date: NaiveDate) -> Result<BillingDate, CalendarError> {
        // A run is at most SHIFT_DAYS_MAX after its scheduled day, so earlier scheduled
        // days cannot run on or after `date`; and a scheduled day at least
        // advance + SHIFT_DAYS_MAX after `date` always does.
        let mut scheduled =
            self.next_scheduled_date(add_days(date, -i64::from(SHIFT_DAYS_MAX))?)?;
        loop {
            let billing = self.billing_date(scheduled)?;
            if billing.run_date >= date {
                return Ok(billing);
            }
            scheduled = self.next_scheduled_date(add_days(scheduled, 1)?)?;
        }
    }

    /// The invoice that bills an installment generated on `generate_date` and due on
    /// `due_date`:
    ///
    /// - the billing run is the first whose cut-off (scheduled day) is on or after the
    ///   generate date;
    /// - the issue date is the generate date when the run is earlier (billing in
    ///   advance, or shifted before), else the run date (seed 003: the earliest
    ///   charge date, or the generation date when that has passed);
    /// - the due date is `due_days` (the billing settings' invoice due days)
    ///   after the issue date, but never before the installment's own due date
    ///   ([`invoice_due_date`]).
    ///
    /// Example: monthly on the 1st, 9 days in advance, 15 due days; an installment
    /// generated 2024-04-25 and due 2024-05-01 is billed by the run of Monday
    /// 2024-04-22 (cut-off 05-01), issued 04-25, due 05-10.
    pub fn installment_invoice(
        &self,
        generate_date: NaiveDate,
        due_date: NaiveDate,
        due_days: u32,
    ) -> Result<InstallmentInvoice, CalendarError> {
        if due_date < generate_date {
            return Err(CalendarError::DueBeforeGenerated {
                generate_date,
                due_date,
            });
        }
        let scheduled = self.next_scheduled_date(generate_date)?;
        let billing = self.billing_date(scheduled)?;
        let issue_date = billing.run_date.max(generate_date);
        Ok(InstallmentInvoice {
            billing,
            issue_date,
            due_date: invoice_due_date(issue_date, due_days, due_date)?,
        })
    }
}

/// The due date of an invoice issued on `issue_date`: `due_days` (the billing
/// settings' invoice due days) after it, but never before `not_before` (the
/// earliest due date of what it bills): a customer always gets the due days to
/// pay, and never has to pay an installment earlier than its plan says.
///
/// Example: issued 2024-04-25 with 15 due days, billing an installment due
/// 2024-05-01: due 2024-05-10; with 3 due days, billing one due 2024-06-01:
/// due 2024-06-01.
pub fn invoice_due_date(
    issue_date: NaiveDate,
    due_days: u32,
    not_before: NaiveDate,
) -> Result<NaiveDate, CalendarError> {
    Ok(add_days(issue_date, i64::from(due_days))?.max(not_before))
}

/// Whether an invoice with `outstanding` left to pay (after credit, never
/// below zero) is sent: always when something is outstanding, and with nothing
/// outstanding only when `send_zero_outstanding_invoices` (the billing
/// settings'; default yes).
///
/// Example: 0.00 outstanding with the setting off: issued, not sent; 0.01
/// outstanding: sent either way.
pub fn sends_invoice(outstanding: &Money, send_zero_outstanding_invoices: bool) -> bool {
    !outstanding.is_zero() || send_zero_outstanding_invoices
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::currency::Currency;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn period(start: NaiveDate, end: NaiveDate) -> Period {
        Period::new(start, end).unwrap()
    }

    fn monthly(day: BillingDay) -> BillingCalendar {
        BillingCalendar::new(BillingFrequency::Monthly, day)
    }

    fn run_dates(dates: &[BillingDate]) -> Vec<NaiveDate> {
        dates.iter().map(|billing| billing.run_date).collect()
    }

    #[test]
    fn weekend_and_holiday_shifts_go_both_ways_over_runs_of_excluded_days() {
        let christmas: BTreeSet<NaiveDate> =
            [date(2024, 12, 24), date(2024, 12, 25), date(2024, 12, 26)].into();
        let long_christmas: BTreeSet<NaiveDate> = [
            date(2024, 12, 24),
            date(2024, 12, 25),
            date(2024, 12, 26),
            date(2024, 12, 27),
        ]
        .into();
        let good_friday: BTreeSet<NaiveDate> = [date(2024, 3, 29)].into();
        let cases = [
            // (shift, weekends allowed, excluded, date, expected)
            (
                ShiftDirection::Before,
                false,
                BTreeSet::new(),
                date(2024, 3, 30),
                date(2024, 3, 29),
            ),
            (
                ShiftDirection::Before,
                false,
                BTreeSet::new(),
                date(2024, 3, 31),
                date(2024, 3, 29),
            ),
            (
                ShiftDirection::After,
                false,
                BTreeSet::new(),
                date(2024, 3, 30),
                date(2024, 4, 1),
            ),
            (
                ShiftDirection::After,
                false,
                BTreeSet::new(),
                date(2024, 3, 31),
                date(2024, 4, 1),
            ),
            (
                ShiftDirection::Before,
                true,
                BTreeSet::new(),
                date(2024, 3, 30),
                date(2024, 3, 30),
            ),
            (
                ShiftDirection::Before,
                false,
                BTreeSet::new(),
                date(2024, 3, 29),
                date(2024, 3, 29),
            ),
            // Saturday, then a Friday holiday: Thursday.
            (
                ShiftDirection::Before,
                false,
                good_friday.clone(),
                date(2024, 3, 30),
                date(2024, 3, 28),
            ),
            (
                ShiftDirection::After,
                false,
                good_friday.clone(),
                date(2024, 3, 29),
                date(2024, 4, 1),
            ),
            (
                ShiftDirection::Before,
                true,
                good_friday,
                date(2024, 3, 29),
                date(2024, 3, 28),
            ),
            // Three holidays in a row.
            (
                ShiftDirection::Before,
                false,
                christmas.clone(),
                date(2024, 12, 25),
                date(2024, 12, 23),
            ),
            (
                ShiftDirection::After,
                false,
                christmas.clone(),
                date(2024, 12, 25),
                date(2024, 12, 27),
            ),
            (
                ShiftDirection::After,
                false,
                christmas,
                date(2024, 12, 24),
                date(2024, 12, 27),
            ),
            // Four holidays and a weekend: Tuesday to the next Monday.
            (
                ShiftDirection::After,
                false,
                long_christmas.clone(),
                date(2024, 12, 24),
                date(2024, 12, 30),
            ),
            (
                ShiftDirection::After,
                true,
                long_christmas.clone(),
                date(2024, 12, 24),
                date(2024, 12, 28),
            ),
            (
                ShiftDirection::Before,
                false,
                long_christmas,
                date(2024, 12, 27),
                date(2024, 12, 23),
            ),
        ];
        for (shift, weekends_allowed, excluded_dates, day, expected) in cases {
            let calendar = BillingCalendar {
                shift,
                weekends_allowed,
                excluded_dates,
                ..monthly(BillingDay::DayOfMonth(1))
            };
            assert_eq!(
                calendar.shift_to_allowed(day).unwrap(),
                expected,
                "{shift:?} {day} weekends {weekends_allowed}"
            );
        }
    }

    #[test]
    fn a_calendar_with_no_allowed_day_nearby_is_an_error() {
        let start = date(2024, 1, 1);
        let excluded_dates = (0..100)
            .map(|days| add_days(start, days).unwrap())
            .collect();
        let calendar = BillingCalendar {
            excluded_dates,
            shift: ShiftDirection::After,
            ..monthly(BillingDay::DayOfMonth(1))
        };
        assert_eq!(
            calendar.shift_to_allowed(start),
            Err(CalendarError::NoAllowedDay(start))
        );
    }

    #[test]
    fn last_day_of_month_billing_through_2024_moves_off_weekends() {
        let calendar = monthly(BillingDay::LastDayOfMonth);
        let year = period(date(2024, 1, 1), date(2025, 1, 1));
        let dates = calendar.billing_dates(year).unwrap();
        assert_eq!(
            run_dates(&dates),
            [
                date(2024, 1, 31),
                date(2024, 2, 29),
                date(2024, 3, 29),
                date(2024, 4, 30),
                date(2024, 5, 31),
                date(2024, 6, 28),
                date(2024, 7, 31),
                date(2024, 8, 30),
                date(2024, 9, 30),
                date(2024, 10, 31),
                date(2024, 11, 29),
                date(2024, 12, 31),
            ]
        );
        // The cut-off stays the scheduled day.
        assert_eq!(dates[2].cut_off_date, date(2024, 3, 31));
    }

    #[test]
    fn shifting_after_can_carry_a_run_into_the_next_range() {
        let calendar = BillingCalendar {
            shift: ShiftDirection::After,
            ..monthly(BillingDay::LastDayOfMonth)
        };
        let march = period(date(2024, 3, 1), date(2024, 4, 1));
        assert_eq!(calendar.billing_dates(march).unwrap(), []);
        let april = period(date(2024, 4, 1), date(2024, 5, 1));
        assert_eq!(
            calendar.billing_dates(april).unwrap(),
            [
                BillingDate {
                    run_date: date(2024, 4, 1),
                    cut_off_date: date(2024, 3, 31)
                },
                BillingDate {
                    run_date: date(2024, 4, 30),
                    cut_off_date: date(2024, 4, 30)
                },
            ]
        );
    }

    #[test]
    fn day_30_means_the_last_day_of_february() {
        let calendar = BillingCalendar {
            weekends_allowed: true,
            ..monthly(BillingDay::DayOfMonth(30))
        };
        let cases = [
            (date(2024, 2, 1), date(2024, 2, 29)),
            (date(2023, 2, 1), date(2023, 2, 28)),
            (date(2024, 3, 1), date(2024, 3, 30)),
            (date(2024, 3, 31), date(2024, 4, 30)),
        ];
        for (from, expected) in cases {
            assert_eq!(
                calendar.next_scheduled_date(from).unwrap(),
                expected,
                "{from}"
            );
        }
    }

    #[test]
    fn days_in_advance_run_early_and_keep_the_scheduled_cut_off() {
        let calendar = BillingCalendar {
            bill_in_advance_days: 3,
            ..monthly(BillingDay::DayOfMonth(5))
        };
        let range = period(date(2024, 1, 1), date(2024, 4, 1));
        assert_eq!(
            calendar.billing_dates(range).unwrap(),
            [
                BillingDate {
                    run_date: date(2024, 1, 2),
                    cut_off_date: date(2024, 1, 5)
                },
                BillingDate {
                    run_date: date(2024, 2, 2),
                    cut_off_date: date(2024, 2, 5)
                },
                // 03-02 is a Saturday: shifted before to Friday 03-01.
                BillingDate {
                    run_date: date(2024, 3, 1),
                    cut_off_date: date(2024, 3, 5)
                },
            ]
        );
        // Advance days can pull a run from the next range into this one.
        let calendar = BillingCalendar {
            bill_in_advance_days: 10,
            ..monthly(BillingDay::DayOfMonth(5))
        };
        let march = period(date(2024, 3, 1), date(2024, 4, 1));
        let dates = calendar.billing_dates(march).unwrap();
        assert_eq!(dates.len(), 1);
        assert_eq!(dates[0].cut_off_date, date(2024, 4, 5));
        assert_eq!(dates[0].run_date, date(2024, 3, 26));
    }

    #[test]
    fn quarterly_billing_follows_the_first_month() {
        let calendar = BillingCalendar {
            first_month: 2,
            weekends_allowed: true,
            ..BillingCalendar::new(BillingFrequency::Quarterly, BillingDay::DayOfMonth(15))
        };
        let year = period(date(2024, 1, 1), date(2025, 1, 1));
        assert_eq!(
            run_dates(&calendar.billing_dates(year).unwrap()),
            [
                date(2024, 2, 15),
                date(2024, 5, 15),
                date(2024, 8, 15),
                date(2024, 11, 15)
            ]
        );
        let annual = BillingCalendar {
            first_month: 7,
            weekends_allowed: true,
            ..BillingCalendar::new(BillingFrequency::Annually, BillingDay::LastDayOfMonth)
        };
        assert_eq!(
            annual.next_scheduled_date(date(2024, 8, 1)).unwrap(),
            date(2025, 7, 31)
        );
        let semi = BillingCalendar {
            first_month: 3,
            weekends_allowed: true,
            ..BillingCalendar::new(BillingFrequency::SemiAnnually, BillingDay::DayOfMonth(1))
        };
        assert_eq!(
            semi.next_scheduled_date(date(2024, 3, 2)).unwrap(),
            date(2024, 9, 1)
        );
    }

    #[test]
    fn weekly_billing_runs_on_its_weekday() {
        let calendar = BillingCalendar::new(
            BillingFrequency::Weekly,
            BillingDay::DayOfWeek(Weekday::Mon),
        );
        let april = period(date(2024, 4, 1), date(2024, 4, 30));
        assert_eq!(
            run_dates(&calendar.billing_dates(april).unwrap()),
            [
                date(2024, 4, 1),
                date(2024, 4, 8),
                date(2024, 4, 15),
                date(2024, 4, 22),
                date(2024, 4, 29)
            ]
        );
    }

    #[test]
    fn two_runs_shifted_onto_one_day_become_one_run_with_the_later_cut_off() {
        let excluded_dates = (8..=12).map(|day| date(2024, 4, day)).collect();
        let calendar = BillingCalendar {
            excluded_dates,
            ..BillingCalendar::new(
                BillingFrequency::Weekly,
                BillingDay::DayOfWeek(Weekday::Fri),
            )
        };
        let april = period(date(2024, 4, 1), date(2024, 4, 20));
        assert_eq!(
            calendar.billing_dates(april).unwrap(),
            [
                BillingDate {
                    run_date: date(2024, 4, 5),
                    cut_off_date: date(2024, 4, 12)
                },
                BillingDate {
                    run_date: date(2024, 4, 19),
                    cut_off_date: date(2024, 4, 19)
                },
            ]
        );
    }

    #[test]
    fn the_next_billing_date_is_the_first_run_on_or_after_a_day() {
        let calendar = monthly(BillingDay::LastDayOfMonth);
        assert_eq!(
            calendar.next_billing_date(date(2024, 3, 29)).unwrap(),
            BillingDate {
                run_date: date(2024, 3, 29),
                cut_off_date: date(2024, 3, 31)
            }
        );
        // After the shifted run of March 29, the next is April 30.
        assert_eq!(
            calendar
                .next_billing_date(date(2024, 3, 30))
                .unwrap()
                .run_date,
            date(2024, 4, 30)
        );
    }

    #[test]
    fn an_installment_is_invoiced_by_the_first_run_whose_cut_off_covers_it() {
        let calendar = BillingCalendar {
            bill_in_advance_days: 9,
            ..monthly(BillingDay::DayOfMonth(1))
        };
        let invoice = calendar
            .installment_invoice(date(2024, 4, 25), date(2024, 5, 1), 15)
            .unwrap();
        assert_eq!(
            invoice,
            InstallmentInvoice {
                billing: BillingDate {
                    run_date: date(2024, 4, 22),
                    cut_off_date: date(2024, 5, 1)
                },
                issue_date: date(2024, 4, 25),
                due_date: date(2024, 5, 10),
            }
        );
        // Without advance the run is after the generate date: issued on the run date,
        // and never due before the installment itself.
        let calendar = monthly(BillingDay::DayOfMonth(1));
        let invoice = calendar
            .installment_invoice(date(2024, 4, 5), date(2024, 6, 1), 3)
            .unwrap();
        assert_eq!(invoice.issue_date, date(2024, 5, 1));
        assert_eq!(invoice.due_date, date(2024, 6, 1));
        assert_eq!(
            calendar.installment_invoice(date(2024, 4, 5), date(2024, 4, 1), 3),
            Err(CalendarError::DueBeforeGenerated {
                generate_date: date(2024, 4, 5),
                due_date: date(2024, 4, 1)
            })
        );
    }

    #[test]
    fn zero_outstanding_invoices_are_sent_unless_the_settings_say_not() {
        let nothing = Money::zero(Currency::USD);
        let something = Money::new(Decimal::new(1, 2), Currency::USD);
        assert!(sends_invoice(&nothing, true));
        assert!(!sends_invoice(&nothing, false));
        assert!(sends_invoice(&something, false));
    }

    #[test]
    fn invalid_calendars_are_errors() {
        let cases = [
            (
                BillingCalendar::new(BillingFrequency::Weekly, BillingDay::DayOfMonth(1)),
                CalendarError::DayNotForFrequency {
                    frequency: BillingFrequency::Weekly,
                    day: BillingDay::DayOfMonth(1),
                },
            ),
            (
                monthly(BillingDay::DayOfWeek(Weekday::Mon)),
                CalendarError::DayNotForFrequency {
                    frequency: BillingFrequency::Monthly,
                    day: BillingDay::DayOfWeek(Weekday::Mon),
                },
            ),
            (
                monthly(BillingDay::DayOfMonth(31)),
                CalendarError::DayOfMonthOutOfRange(31),
            ),
            (
                monthly(BillingDay::DayOfMonth(0)),
                CalendarError::DayOfMonthOutOfRange(0),
            ),
            (
                BillingCalendar {
                    first_month: 13,
                    ..monthly(BillingDay::DayOfMonth(1))
                },
                CalendarError::FirstMonthOutOfRange(13),
            ),
            (
                BillingCalendar {
                    bill_in_advance_days: 100,
                    ..monthly(BillingDay::DayOfMonth(1))
                },
                CalendarError::DaysOutOfRange {
                    name: "bill_in_advance_days",
                    days: 100,
                    max: ADVANCE_DAYS_MAX,
                },
            ),
        ];
        for (calendar, error) in cases {
            assert_eq!(calendar.validate(), Err(error));
        }
        let calendar = monthly(BillingDay::DayOfMonth(1));
        let long = period(date(2000, 1, 1), date(2020, 1, 1));
        assert_eq!(
            calendar.billing_dates(long),
            Err(CalendarError::RangeTooLong(long))
        );
    }

    #[test]
    fn account_overrides_replace_only_what_they_set() {
        let tenant = BillingCalendar {
            invoice_due_days: 20,
            ..monthly(BillingDay::DayOfMonth(1))
        };
        let overrides = CalendarOverrides {
            day: Some(BillingDay::LastDayOfMonth),
            shift: Some(ShiftDirection::After),
            ..CalendarOverrides::default()
        };
        let account = tenant.with_overrides(&overrides);
        assert_eq!(account.day, BillingDay::LastDayOfMonth);
        assert_eq!(account.shift, ShiftDirection::After);
        assert_eq!(account.invoice_due_days, 20);
        assert_eq!(account.frequency, BillingFrequency::Monthly);
    }

    #[test]
    fn calendars_read_from_json_with_the_seed_defaults() {
        let calendar: BillingCalendar = serde_json::from_str(
            r#"{"frequency": "semi-annually", "day": "last-day-of-month",
                "excluded_dates": ["2024-12-25"]}"#,
        )
        .unwrap();
        assert_eq!(calendar.frequency, BillingFrequency::SemiAnnually);
        assert_eq!(calendar.shift, ShiftDirection::Before);
        assert!(!calendar.weekends_allowed);
        assert!(calendar.send_zero_outstanding_invoices);
        assert_eq!(calendar.first_month, 1);
        assert!(calendar.excluded_dates.contains(&date(2024, 12, 25)));
        let weekly: BillingCalendar = serde_json::from_str(
            r#"{"frequency": "weekly", "day": {"day-of-week": "Fri"}, "shift": "after"}"#,
        )
        .unwrap();
        assert_eq!(weekly.day, BillingDay::DayOfWeek(Weekday::Fri));
        assert_eq!(weekly.shift, ShiftDirection::After);
    }

    proptest! {
        #[test]
        fn a_shifted_billing_date_always_lands_on_an_allowed_day(
            offset in 0_i64..10_000,
            holidays in prop::collection::btree_set(0_i64..60, 0..25),
            after in any::<bool>(),
            weekends_allowed in any::<bool>(),
        ) {
            let day = add_days(date(2000, 1, 1), offset).unwrap();
            let excluded_dates = holidays
                .iter()
                .map(|delta| add_days(day, delta - 30).unwrap())
                .collect();
            let shift = if after { ShiftDirection::After } else { ShiftDirection::Before };
            let calendar = BillingCalendar {
                shift,
                weekends_allowed,
                excluded_dates,
                ..monthly(BillingDay::DayOfMonth(1))
            };
            let shifted = calendar.shift_to_allowed(day).unwrap();
            prop_assert!(calendar.is_allowed(shifted));
            if after { prop_assert!(shifted >= day) } else { prop_assert!(shifted <= day) }
            // Every day skipped over was disallowed.
            let (low, high) = if after { (day, shifted) } else { (shifted, day) };
            let mut skipped = low;
            while skipped < high {
                if skipped != shifted {
                    prop_assert!(!calendar.is_allowed(skipped));
                }
                skipped = add_days(skipped, 1).unwrap();
            }
        }

        #[test]
        fn billing_runs_land_on_allowed_days_in_order(
            offset in 0_i64..10_000,
            day in 1_u8..=30,
            advance in 0_u32..20,
            holidays in prop::collection::btree_set(0_i64..400, 0..40),
            after in any::<bool>(),
        ) {
            let start = add_days(date(2000, 1, 1), offset).unwrap();
            let excluded_dates = holidays.iter().map(|delta| add_days(start, *delta).unwrap()).collect();
            let calendar = BillingCalendar {
                bill_in_advance_days: advance,
                shift: if after { ShiftDirection::After } else { ShiftDirection::Before },
                excluded_dates,
                ..monthly(BillingDay::DayOfMonth(day))
            };
            let range = period(start, add_days(start, 366).unwrap());
            let dates = calendar.billing_dates(range).unwrap();
            prop_assert!(dates.len() >= 11 && dates.len() <= 13);
            for billing in &dates {
                prop_assert!(calendar.is_allowed(billing.run_date));
                prop_assert!(range.contains(billing.run_date));
            }
            for pair in dates.windows(2) {
                prop_assert!(pair[0].run_date < pair[1].run_date);
                prop_assert!(pair[0].cut_off_date < pair[1].cut_off_date);
            }
        }
    }
}

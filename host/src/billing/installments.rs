//! Installment plans: how a term is cut into installment frames (cadence, anchor,
//! maximum count, weights, lead days), each with its period, weight, generate date
//! and due date.
//!
//! Frames tile the term exactly: no gap, no overlap. When the term does not start on
//! an anchor day, or does not divide evenly, the first or last frame is a stub: a
//! short part of a full cadence period, which it remembers (`full_period`) so that
//! spreading gives it only its fraction of an installment.

use crate::domain::allocation::{ResiduePlacement, WEIGHT_SCALE_MAX};
use crate::domain::period::{Period, PeriodError, add_days, from_month_index, month_index};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The most frames one term may have (a weekly plan over seven years).
pub const FRAMES_MAX: usize = 366;

/// The most lead days a plan may have.
pub const LEAD_DAYS_MAX: u32 = 366;

/// The largest weight a frame may have.
pub const WEIGHT_MAX: Decimal = Decimal::from_parts(1000, 0, 0, false, 0);

/// An error in a plan or building its frames.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallmentError {
    /// A day-of-month anchor outside 1-31.
    #[error("anchor day {0} is not a day of month 1-31")]
    AnchorDayOutOfRange(u8),
    /// A day-of-month anchor on a cadence counted in days or with a single frame.
    #[error("the {cadence:?} cadence only anchors on the term's start day")]
    AnchorNotForCadence { cadence: Cadence },
    /// A maximum of zero installments, or above [`FRAMES_MAX`].
    #[error("maximum installments {0} is not in 1-{FRAMES_MAX}")]
    MaxInstallmentsOutOfRange(u32),
    /// A weight below zero, above [`WEIGHT_MAX`], or too precise.
    #[error(
        "weight {weight} of installment {index} is not in 0-{WEIGHT_MAX} with at most {WEIGHT_SCALE_MAX} decimals"
    )]
    InvalidWeight { index: usize, weight: Decimal },
    /// Every frame of the term has weight zero.
    #[error("every installment of the term has weight zero")]
    AllWeightsZero,
    /// Lead days above [`LEAD_DAYS_MAX`].
    #[error("lead days {0} is more than {LEAD_DAYS_MAX}")]
    LeadDaysOutOfRange(u32),
    /// Due before the invoice is generated.
    #[error(
        "due lead days {due_lead_days} exceed generate lead days {generate_lead_days}: due before generated"
    )]
    DueBeforeGenerated {
        generate_lead_days: u32,
        due_lead_days: u32,
    },
    /// The term needs more than [`FRAMES_MAX`] frames.
    #[error("the term needs more than {FRAMES_MAX} installment frames")]
    TooManyFrames,
    /// Date arithmetic failed.
    #[error(transparent)]
    Period(#[from] PeriodError),
}

/// How often installments fall. Serialised in kebab-case: `"full-pay"`, `"weekly"`,
/// `"every-two-weeks"`, `"monthly"`, `"quarterly"`, `"semi-annual"`, `"annual"`.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cadence {
    /// One installment for the whole term.
    FullPay,
    Weekly,
    EveryTwoWeeks,
    Monthly,
    Quarterly,
    SemiAnnual,
    Annual,
}

enum Step {
    Whole,
    Days(u32),
    Months(u32),
}

impl Cadence {
    fn step(self) -> Step {
        match self {
            Cadence::FullPay => Step::Whole,
            Cadence::Weekly => Step::Days(7),
            Cadence::EveryTwoWeeks => Step::Days(14),
            Cadence::Monthly => Step::Months(1),
            Cadence::Quarterly => Step::Months(3),
            Cadence::SemiAnnual => Step::Months(6),
            Cadence::Annual => Step::Months(12),
        }
    }
}

/// Which day frames start on. Serialised in kebab-case: `"term-start"`,
/// `{"day-of-month": 15}`, `"last-day-of-month"`.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Anchor {
    /// Frames start on the term's start day (every 7 or 14 days, or the same day of
    /// month, clamped to short months). The default.
    #[default]
    TermStart,
    /// Frames start on this day of month (1-31); 29-31 mean the last day in shorter
    /// months, and billing never stops because of it ([E4]).
    DayOfMonth(u8),
    /// Frames start on the last day of each month (the same as day 31).
    LastDayOfMonth,
}

/// An installment plan: cadence, anchor, optional maximum count, optional weights,
/// lead days, and where the rounding residue goes.
///
/// Serialised with snake_case fields; everything but `cadence` has a default:
/// `{"cadence": "monthly", "weights": ["3", "2"], "generate_lead_days": 20}`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallmentPlan {
    pub cadence: Cadence,
    #[serde(default)]
    pub anchor: Anchor,
    /// At most this many installments per term; the frames beyond it merge into the
    /// last one (see [`InstallmentPlan::frames`]).
    #[serde(default)]
    pub max_installments: Option<u32>,
    /// Weight of each installment in order; missing weights are 1, extra ones unused.
    #[serde(default)]
    pub weights: Vec<Decimal>,
    /// How many days before a frame's start its invoice is generated.
    #[serde(default)]
    pub generate_lead_days: u32,
    /// How many days before a frame's start its invoice is due (at most
    /// `generate_lead_days`; 0 means due on the frame's first day).
    #[serde(default)]
    pub due_lead_days: u32,
    /// Where spreading puts the rounding residue.
    #[serde(default)]
    pub residue: ResiduePlacement,
}

/// One installment of a term.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallmentFrame {
    /// Position in the term, from 0.
    pub index: u32,
    /// The days this installment pays for.
    pub period: Period,
    /// The full cadence period the frame belongs to; larger than `period` for a stub.
    /// A frame's share of a charge is its weight times the charge's days in the frame
    /// over the days of this full period.
    pub full_period: Period,
    pub weight: Decimal,
    /// When its invoice is generated: `period.start - generate_lead_days`.
    pub generate_date: NaiveDate,
    /// When it is due: `period.start - due_lead_days`.
    pub due_date: NaiveDate,
}

impl InstallmentFrame {
    /// Whether the frame is shorter than its full cadence period.
    pub fn is_stub(&self) -> bool {
        self.period != self.full_period
    }
}

impl InstallmentPlan {
    /// A plan with the given cadence and every other setting at its default.
    pub fn new(cadence: Cadence) -> InstallmentPlan {
        InstallmentPlan {
            cadence,
            anchor: Anchor::TermStart,
            max_installments: None,
            weights: Vec::new(),
            generate_lead_days: 0,
            due_lead_days: 0,
            residue: ResiduePlacement::LargestRemainder,
        }
    }

    /// Checks the plan's settings on their own (without a term).
    pub fn validate(&self) -> Result<(), InstallmentError> {
        match (self.cadence.step(), self.anchor) {
            (_, Anchor::TermStart) => {}
            (Step::Months(_), Anchor::DayOfMonth(day)) if !(1..=31).contains(&day) => {
                return Err(InstallmentError::AnchorDayOutOfRange(day));
            }
            (Step::Months(_), _) => {}
            (Step::Whole | Step::Days(_), _) => {
                return Err(InstallmentError::AnchorNotForCadence {
                    cadence: self.cadence,
                });
            }
        }
        if let Some(max) = self.max_installments
            && (max == 0 || max as usize > FRAMES_MAX)
        {
            return Err(InstallmentError::MaxInstallmentsOutOfRange(max));
        }
        for (index, weight) in self.weights.iter().enumerate() {
            let valid = !weight.is_sign_negative()
                && *weight <= WEIGHT_MAX
                && weight.normalize().scale() <= WEIGHT_SCALE_MAX;
            if !valid {
                return Err(InstallmentError::InvalidWeight {
                    index,
                    weight: *weight,
                });
            }
        }
        for lead_days in [self.generate_lead_days, self.due_lead_days] {
            if lead_days > LEAD_DAYS_MAX {
                return Err(InstallmentError::LeadDaysOutOfRange(lead_days));
            }
        }
        if self.due_lead_days > self.generate_lead_days {
            return Err(InstallmentError::DueBeforeGenerated {
                generate_lead_days: self.generate_lead_days,
                due_lead_days: self.due_lead_days,
            });
        }
        Ok(())
    }

    /// The term's installment frames, in order, tiling the term exactly.
    ///
    /// - Month cadences step from the first anchor day on or after the term's start,
    ///   clamping the anchor day to short months each time (never drifting): anchor
    ///   31 from 2017-01-31 gives 01-31, 02-28, 03-31, 04-30, ... ([E4]).
    /// - A term starting between anchor days gets a leading stub up to the first
    ///   anchor day; a term ending between them a trailing stub. Monthly from
    ///   2020-01-01 to 2020-06-17 is five full months and a stub of 16 of June's 30 days.
    /// - Weekly and every-two-weeks step 7 or 14 days from the term's start.
    /// - Full pay is one frame, the whole term.
    /// - With `max_installments`, the frames beyond the maximum merge into the last
    ///   allowed one, which then counts as one full installment (its full period is
    ///   itself): a "10-pay" monthly plan over a year is nine monthly frames and a
    ///   tenth covering the last three months, all level. This is what billing teams
    ///   mean by a 10-pay plan: the premium is collected before the term ends.
    /// - Frame `i` has weight `weights[i]`, or 1 when missing ([E5]).
    pub fn frames(&self, term: Period) -> Result<Vec<InstallmentFrame>, InstallmentError> {
        self.validate()?;
        let mut tiles = match self.cadence.step() {
            Step::Whole => vec![(term, term)],
            Step::Days(days) => day_tiles(term, days)?,
            Step::Months(months) => {
                let day = match self.anchor {
                    Anchor::TermStart => term.start().day(),
                    Anchor::DayOfMonth(day) => u32::from(day),
                    Anchor::LastDayOfMonth => 31,
                };
                month_tiles(term, months, day)?
            }
        };
        if let Some(max) = self.max_installments {
            let max = max as usize;
            if tiles.len() > max {
                let merged = Period::new(tiles[max - 1].0.start(), term.end())?;
                tiles.truncate(max - 1);
                tiles.push((merged, merged));
            }
        }

        let mut frames = Vec::with_capacity(tiles.len());
        for (index, (period, full_period)) in tiles.into_iter().enumerate() {
            let weight = self.weights.get(index).copied().unwrap_or(Decimal::ONE);
            frames.push(InstallmentFrame {
                index: index as u32,
                period,
                full_period,
                weight,
                generate_date: add_days(period.start(), -i64::from(self.generate_lead_days))?,
                due_date: add_days(period.start(), -i64::from(self.due_lead_days))?,
            });
        }
        if frames.iter().all(|frame| frame.weight.is_zero()) {
            return Err(InstallmentError::AllWeightsZero);
        }
        debug_assert_tiles(term, &frames);
        Ok(frames)
    }
}

/// Frames of `days` days from the term's start; the last may be a stub.
fn day_tiles(term: Period, days: u32) -> Result<Vec<(Period, Period)>, InstallmentError> {
    let count = term.days().div_ceil(days) as usize;
    if count > FRAMES_MAX {
        return Err(InstallmentError::TooManyFrames);
    }
    let mut tiles = Vec::with_capacity(count);
    let mut start = term.start();
    while start < term.end() {
        let full_end = add_days(start, i64::from(days))?;
        let full = Period::new(start, full_end)?;
        tiles.push((Period::new(start, full_end.min(term.end()))?, full));
        start = full_end;
    }
    Ok(tiles)
}

/// Frames of `months` months starting on `day` (clamped), aligned on the first such
/// day on or after the term's start; leading and trailing stubs as needed.
fn month_tiles(
    term: Period,
    months: u32,
    day: u32,
) -> Result<Vec<(Period, Period)>, InstallmentError> {
    let out_of_range = || PeriodError::OutOfRange { date: term.start() };
    let boundary = |index: i64| from_month_index(index, day).ok_or_else(out_of_range);
    let step = i64::from(months);

    let mut first = month_index(term.start());
    if boundary(first)? < term.start() {
        first += 1;
    }
    let mut tiles = Vec::new();
    let first_boundary = boundary(first)?;
    if term.start() < first_boundary {
        let full = Period::new(boundary(first - step)?, first_boundary)?;
        let end = first_boundary.min(term.end());
        tiles.push((Period::new(term.start(), end)?, full));
    }
    let mut index = first;
    loop {
        let start = boundary(index)?;
        if start >= term.end() {
            break;
        }
        if tiles.len() == FRAMES_MAX {
            return Err(InstallmentError::TooManyFrames);
        }
        let full_end = boundary(index + step)?;
        let full = Period::new(start, full_end)?;
        tiles.push((Period::new(start, full_end.min(term.end()))?, full));
        index += step;
    }
    Ok(tiles)
}

fn debug_assert_tiles(term: Period, frames: &[InstallmentFrame]) {
    debug_assert!(!frames.is_empty() && frames.len() <= FRAMES_MAX);
    debug_assert_eq!(frames[0].period.start(), term.start());
    debug_assert_eq!(frames[frames.len() - 1].period.end(), term.end());
    for pair in frames.windows(2) {
        debug_assert_eq!(
            pair[0].period.end(),
            pair[1].period.start(),
            "frames tile the term"
        );
    }
    for frame in frames {
        debug_assert!(frame.full_period.contains_period(&frame.period));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn date(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    fn period(start: NaiveDate, end: NaiveDate) -> Period {
        Period::new(start, end).unwrap()
    }

    fn starts(frames: &[InstallmentFrame]) -> Vec<NaiveDate> {
        frames.iter().map(|frame| frame.period.start()).collect()
    }

    #[test]
    fn e4_anchor_31_gives_the_last_day_of_short_months_and_never_stops() {
        let term = period(date(2017, 1, 31), date(2018, 1, 31));
        for anchor in [
            Anchor::TermStart,
            Anchor::DayOfMonth(31),
            Anchor::LastDayOfMonth,
        ] {
            let plan = InstallmentPlan {
                anchor,
                ..InstallmentPlan::new(Cadence::Monthly)
            };
            let frames = plan.frames(term).unwrap();
            assert_eq!(
                starts(&frames),
                [
                    date(2017, 1, 31),
                    date(2017, 2, 28),
                    date(2017, 3, 31),
                    date(2017, 4, 30),
                    date(2017, 5, 31),
                    date(2017, 6, 30),
                    date(2017, 7, 31),
                    date(2017, 8, 31),
                    date(2017, 9, 30),
                    date(2017, 10, 31),
                    date(2017, 11, 30),
                    date(2017, 12, 31),
                ],
                "{anchor:?}"
            );
            assert!(frames.iter().all(|frame| !frame.is_stub()));
        }
    }

    #[test]
    fn anchor_31_clamps_to_the_last_day_of_short_months_in_a_leap_year() {
        let term = period(date(2024, 1, 31), date(2024, 5, 31));
        let plan = InstallmentPlan {
            anchor: Anchor::DayOfMonth(31),
            ..InstallmentPlan::new(Cadence::Monthly)
        };
        let frames = plan.frames(term).unwrap();
        assert_eq!(
            starts(&frames),
            [
                date(2024, 1, 31),
                date(2024, 2, 29),
                date(2024, 3, 31),
                date(2024, 4, 30)
            ]
        );
        assert_eq!(frames[1].period.days(), 31); // 02-29 .. 03-31
    }

    #[test]
    fn anchor_29_and_30_fall_back_to_february_s_last_day() {
        for (day, year, february) in [
            (29, 2023, 28),
            (30, 2023, 28),
            (29, 2024, 29),
            (30, 2024, 29),
        ] {
            let term = period(date(year, 1, day), date(year, 4, day));
            let plan = InstallmentPlan {
                anchor: Anchor::DayOfMonth(day as u8),
                ..InstallmentPlan::new(Cadence::Monthly)
            };
            let frames = plan.frames(term).unwrap();
            assert_eq!(
                starts(&frames),
                [
                    date(year, 1, day),
                    date(year, 2, february),
                    date(year, 3, day)
                ],
                "day {day} in {year}"
            );
        }
    }

    #[test]
    fn monthly_from_january_1_to_june_17_ends_with_a_16_of_30_day_stub() {
        let term = period(date(2020, 1, 1), date(2020, 6, 17));
        let frames = InstallmentPlan::new(Cadence::Monthly).frames(term).unwrap();
        assert_eq!(frames.len(), 6);
        assert!(frames[..5].iter().all(|frame| !frame.is_stub()));
        let stub = &frames[5];
        assert_eq!(stub.period, period(date(2020, 6, 1), date(2020, 6, 17)));
        assert_eq!(stub.full_period, period(date(2020, 6, 1), date(2020, 7, 1)));
    }

    #[test]
    fn a_term_between_anchor_days_starts_with_a_stub() {
        let term = period(date(2024, 1, 15), date(2025, 1, 15));
        let plan = InstallmentPlan {
            anchor: Anchor::DayOfMonth(1),
            ..InstallmentPlan::new(Cadence::Monthly)
        };
        let frames = plan.frames(term).unwrap();
        assert_eq!(frames.len(), 13);
        assert_eq!(
            frames[0].period,
            period(date(2024, 1, 15), date(2024, 2, 1))
        );
        assert_eq!(
            frames[0].full_period,
            period(date(2024, 1, 1), date(2024, 2, 1))
        );
        assert_eq!(frames[1].period, period(date(2024, 2, 1), date(2024, 3, 1)));
        assert_eq!(
            frames[12].period,
            period(date(2025, 1, 1), date(2025, 1, 15))
        );
        assert_eq!(
            frames[12].full_period,
            period(date(2025, 1, 1), date(2025, 2, 1))
        );
    }

    #[test]
    fn a_short_term_inside_one_cadence_period_is_a_single_stub() {
        let term = period(date(2024, 3, 10), date(2024, 3, 20));
        let plan = InstallmentPlan {
            anchor: Anchor::DayOfMonth(1),
            ..InstallmentPlan::new(Cadence::Quarterly)
        };
        let frames = plan.frames(term).unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].period, term);
        assert_eq!(
            frames[0].full_period,
            period(date(2024, 1, 1), date(2024, 4, 1))
        );
    }

    #[test]
    fn every_cadence_cuts_a_year_into_its_number_of_frames() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let cases = [
            (Cadence::FullPay, 1),
            (Cadence::Weekly, 53), // 366 days: 52 weeks and a 2-day stub
            (Cadence::EveryTwoWeeks, 27),
            (Cadence::Monthly, 12),
            (Cadence::Quarterly, 4),
            (Cadence::SemiAnnual, 2),
            (Cadence::Annual, 1),
        ];
        for (cadence, count) in cases {
            let frames = InstallmentPlan::new(cadence).frames(term).unwrap();
            assert_eq!(frames.len(), count, "{cadence:?}");
        }
        let weekly = InstallmentPlan::new(Cadence::Weekly).frames(term).unwrap();
        assert_eq!(
            weekly[52].period,
            period(date(2024, 12, 30), date(2025, 1, 1))
        );
        assert_eq!(weekly[52].full_period.days(), 7);
    }

    #[test]
    fn quarterly_frames_through_february_29() {
        let term = period(date(2023, 11, 30), date(2024, 11, 30));
        let frames = InstallmentPlan::new(Cadence::Quarterly)
            .frames(term)
            .unwrap();
        assert_eq!(
            starts(&frames),
            [
                date(2023, 11, 30),
                date(2024, 2, 29),
                date(2024, 5, 30),
                date(2024, 8, 30)
            ]
        );
    }

    #[test]
    fn lead_days_set_the_generate_and_due_dates() {
        let term = period(date(2024, 3, 1), date(2024, 6, 1));
        let plan = InstallmentPlan {
            generate_lead_days: 20,
            due_lead_days: 5,
            ..InstallmentPlan::new(Cadence::Monthly)
        };
        let frames = plan.frames(term).unwrap();
        assert_eq!(frames[0].generate_date, date(2024, 2, 10));
        assert_eq!(frames[0].due_date, date(2024, 2, 25));
        assert_eq!(frames[1].generate_date, date(2024, 3, 12));
        assert_eq!(frames[1].due_date, date(2024, 3, 27));
    }

    #[test]
    fn e5_missing_weights_are_one() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let plan = InstallmentPlan {
            weights: vec![dec!(3), dec!(2)],
            ..InstallmentPlan::new(Cadence::Quarterly)
        };
        let frames = plan.frames(term).unwrap();
        let weights: Vec<Decimal> = frames.iter().map(|frame| frame.weight).collect();
        assert_eq!(weights, [dec!(3), dec!(2), dec!(1), dec!(1)]);
    }

    #[test]
    fn frames_beyond_the_maximum_merge_into_the_last_installment() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let plan = InstallmentPlan {
            max_installments: Some(10),
            ..InstallmentPlan::new(Cadence::Monthly)
        };
        let frames = plan.frames(term).unwrap();
        assert_eq!(frames.len(), 10);
        let last = &frames[9];
        assert_eq!(last.period, period(date(2024, 10, 1), date(2025, 1, 1)));
        assert_eq!(last.full_period, last.period);
        let one = InstallmentPlan {
            max_installments: Some(1),
            ..InstallmentPlan::new(Cadence::Monthly)
        };
        assert_eq!(one.frames(term).unwrap()[0].period, term);
    }

    #[test]
    fn invalid_plans_are_errors() {
        let term = period(date(2024, 1, 1), date(2025, 1, 1));
        let cases = [
            (
                InstallmentPlan {
                    anchor: Anchor::DayOfMonth(32),
                    ..InstallmentPlan::new(Cadence::Monthly)
                },
                InstallmentError::AnchorDayOutOfRange(32),
            ),
            (
                InstallmentPlan {
                    anchor: Anchor::DayOfMonth(0),
                    ..InstallmentPlan::new(Cadence::Monthly)
                },
                InstallmentError::AnchorDayOutOfRange(0),
            ),
            (
                InstallmentPlan {
                    anchor: Anchor::LastDayOfMonth,
                    ..InstallmentPlan::new(Cadence::Weekly)
                },
                InstallmentError::AnchorNotForCadence {
                    cadence: Cadence::Weekly,
                },
            ),
            (
                InstallmentPlan {
                    max_installments: Some(0),
                    ..InstallmentPlan::new(Cadence::Monthly)
                },
                InstallmentError::MaxInstallmentsOutOfRange(0),
            ),
            (
                InstallmentPlan {
                    weights: vec![dec!(1), dec!(-1)],
                    ..InstallmentPlan::new(Cadence::Monthly)
                },
                InstallmentError::InvalidWeight {
                    index: 1,
                    weight: dec!(-1),
                },
            ),
            (
                InstallmentPlan {
                    weights: vec![dec!(0)],
                    ..InstallmentPlan::new(Cadence::FullPay)
                },
                InstallmentError::AllWeightsZero,
            ),
            (
                InstallmentPlan {
                    generate_lead_days: 5,
                    due_lead_days: 10,
                    ..InstallmentPlan::new(Cadence::Monthly)
                },
                InstallmentError::DueBeforeGenerated {
                    generate_lead_days: 5,
                    due_lead_days: 10,
                },
            ),
        ];
        for (plan, error) in cases {
            assert_eq!(plan.frames(term), Err(error));
        }
        let decade = period(date(2020, 1, 1), date(2030, 1, 1));
        assert_eq!(
            InstallmentPlan::new(Cadence::Weekly).frames(decade),
            Err(InstallmentError::TooManyFrames)
        );
    }

    #[test]
    fn plans_read_from_json_with_defaults() {
        let plan: InstallmentPlan = serde_json::from_str(
            r#"{"cadence": "every-two-weeks", "weights": ["3", "2"], "generate_lead_days": 20}"#,
        )
        .unwrap();
        assert_eq!(plan.cadence, Cadence::EveryTwoWeeks);
        assert_eq!(plan.anchor, Anchor::TermStart);
        assert_eq!(plan.weights, [dec!(3), dec!(2)]);
        assert_eq!(plan.residue, ResiduePlacement::LargestRemainder);
        let anchored: InstallmentPlan = serde_json::from_str(
            r#"{"cadence": "semi-annual", "anchor": {"day-of-month": 31}, "residue": "last"}"#,
        )
        .unwrap();
        assert_eq!(anchored.anchor, Anchor::DayOfMonth(31));
        assert_eq!(anchored.residue, ResiduePlacement::Last);
        let json = serde_json::to_string(&InstallmentPlan::new(Cadence::FullPay)).unwrap();
        assert!(json.contains(r#""cadence":"full-pay""#), "{json}");
        assert!(json.contains(r#""anchor":"term-start""#), "{json}");
    }

    fn cadences() -> impl Strategy<Value = Cadence> {
        prop_oneof![
            Just(Cadence::FullPay),
            Just(Cadence::Weekly),
            Just(Cadence::EveryTwoWeeks),
            Just(Cadence::Monthly),
            Just(Cadence::Quarterly),
            Just(Cadence::SemiAnnual),
            Just(Cadence::Annual),
        ]
    }

    fn anchors() -> impl Strategy<Value = Anchor> {
        prop_oneof![
            Just(Anchor::TermStart),
            (1_u8..=31).prop_map(Anchor::DayOfMonth),
            Just(Anchor::LastDayOfMonth),
        ]
    }

    proptest! {
        #[test]
        fn any_plan_covers_any_term_with_no_gap_and_no_overlap(
            cadence in cadences(),
            anchor in anchors(),
            max in prop::option::of(1_u32..30),
            offset in 0_i64..20_000,
            length in 1_i64..1_500,
        ) {
            let anchor = match cadence {
                Cadence::FullPay | Cadence::Weekly | Cadence::EveryTwoWeeks => Anchor::TermStart,
                _ => anchor,
            };
            let start = date(1990, 1, 1) + chrono::Duration::days(offset);
            let term = period(start, start + chrono::Duration::days(length));
            let plan = InstallmentPlan { anchor, max_installments: max, ..InstallmentPlan::new(cadence) };
            let frames = plan.frames(term).unwrap();
            prop_assert_eq!(frames[0].period.start(), term.start());
            prop_assert_eq!(frames[frames.len() - 1].period.end(), term.end());
            for pair in frames.windows(2) {
                prop_assert_eq!(pair[0].period.end(), pair[1].period.start());
            }
            let days: u32 = frames.iter().map(|frame| frame.period.days()).sum();
            prop_assert_eq!(days, term.days());
            if let Some(max) = max {
                prop_assert!(frames.len() <= max as usize);
            }
            for (index, frame) in frames.iter().enumerate() {
                prop_assert_eq!(frame.index as usize, index);
                prop_assert!(frame.full_period.contains_period(&frame.period));
                // Only the first and the last frame may be stubs.
                if index != 0 && index != frames.len() - 1 {
                    prop_assert!(!frame.is_stub());
                }
            }
        }
    }
}

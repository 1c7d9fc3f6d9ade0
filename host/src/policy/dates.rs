//! Installment dates from the product's invoicing plugin: the invoicing
//! world's `schedule-dates` hook, called whenever a term's installment
//! frames are laid out (a transaction's slices, a plan change).
//!
//! The plugin is called only while a command is decided, never while events
//! are applied: the dates it gives end up in the stored slices
//! (`invoice_date`, `due_date`), so replaying the log never calls it.
//!
//! What it answers is checked before anything is kept: each installment it
//! moves must be one of the schedule, moved once, invoiced on or before its
//! due date, due on or before the installment's last day, and invoiced no
//! more than [`LEAD_DAYS_MAX`] days before the installment starts. Anything
//! else is an [`InstallmentDatesError`] and the command is refused. A product
//! without an invoicing plugin, or a plugin that moves nothing, gets the
//! plan's dates exactly as before.
//!
//! Worked example: monthly from 2026-02-01 with no lead days, a plugin that
//! moves every due date ten days later makes March's installment invoiced on
//! 2026-03-01 and due on 2026-03-11.

use super::charges::Charge;
use super::error::PolicyError;
use super::schedule::{HeldState, InstallmentSlice, TermSlicing, slices_for_term};
use crate::billing::InstallmentFrame;
use crate::billing::installments::LEAD_DAYS_MAX;
use crate::domain::Period;
use crate::domain::period::add_days;
use crate::invoicing::{InstallmentDates, ScheduleInstallment};
use crate::rating::Segment;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Asks an invoicing plugin for new installment dates: its `schedule-dates`.
pub trait InstallmentDater {
    /// The dates invoicing plugin `plugin_id` gives some of `installments`
    /// (those left out keep theirs), or why the call failed.
    fn schedule_dates(
        &self,
        plugin_id: &str,
        currency: &str,
        installments: &[ScheduleInstallment],
    ) -> Result<Vec<InstallmentDates>, String>;
}

/// No plugin is asked: every installment keeps the plan's dates.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeepDates;

impl InstallmentDater for KeepDates {
    fn schedule_dates(
        &self,
        _plugin_id: &str,
        _currency: &str,
        _installments: &[ScheduleInstallment],
    ) -> Result<Vec<InstallmentDates>, String> {
        Ok(Vec::new())
    }
}

/// Why the dates an invoicing plugin gave installments were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallmentDatesError {
    #[error("invoicing plugin {plugin} could not schedule installment dates: {message}")]
    Failed { plugin: String, message: String },
    #[error("invoicing plugin {plugin} moved installment {locator}, which is not in the schedule")]
    UnknownInstallment { plugin: String, locator: String },
    #[error("invoicing plugin {plugin} moved installment {locator} more than once")]
    MovedTwice { plugin: String, locator: String },
    #[error(
        "invoicing plugin {plugin} invoices installment {locator} on {invoice_date}, after its due date {due_date}"
    )]
    InvoicedAfterDue {
        plugin: String,
        locator: String,
        invoice_date: NaiveDate,
        due_date: NaiveDate,
    },
    #[error(
        "invoicing plugin {plugin} makes installment {locator} due on {due_date}, after its last day {last_day}"
    )]
    DueAfterInstallment {
        plugin: String,
        locator: String,
        due_date: NaiveDate,
        last_day: NaiveDate,
    },
    #[error(
        "invoicing plugin {plugin} invoices installment {locator} on {invoice_date}, more than {LEAD_DAYS_MAX} days before it starts on {start}"
    )]
    InvoicedTooEarly {
        plugin: String,
        locator: String,
        invoice_date: NaiveDate,
        start: NaiveDate,
    },
}

impl InstallmentDatesError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            InstallmentDatesError::Failed { .. } => "invoicing_plugin_failed",
            _ => "invalid_installment_dates",
        }
    }

    /// How the refusal is answered: a plugin that failed is the plugin's
    /// failure; dates it answered that cannot be are the product's plan and
    /// plugin disagreeing (invalid).
    pub fn kind(&self) -> crate::domain::ErrorKind {
        use crate::domain::ErrorKind;
        match self {
            InstallmentDatesError::Failed { .. } => ErrorKind::Upstream,
            InstallmentDatesError::UnknownInstallment { .. }
            | InstallmentDatesError::MovedTwice { .. }
            | InstallmentDatesError::InvoicedAfterDue { .. }
            | InstallmentDatesError::DueAfterInstallment { .. }
            | InstallmentDatesError::InvoicedTooEarly { .. } => ErrorKind::Invalid,
        }
    }
}

/// The locator of installment `number` (1 = first) of a policy's term, as
/// the plugin sees it: `P-1-T1-I3`.
pub fn installment_locator(policy: &str, term: u32, number: u32) -> String {
    format!("{policy}-T{term}-I{number}")
}

/// Who lays out a policy's installments: the product's invoicing plugin, if
/// any, through `dater`.
#[derive(Clone, Copy)]
pub struct PluginDates<'a> {
    pub dater: &'a dyn InstallmentDater,
    /// The product's invoicing plugin; `None`: the plan's dates.
    pub plugin: Option<&'a str>,
    pub policy: &'a str,
    pub currency: &'a str,
}

impl PluginDates<'_> {
    /// `frames` of term `term` with the dates the plugin gives them;
    /// `amounts` is what each frame bills. Without a plugin, `frames` as
    /// they are.
    pub fn frames(
        &self,
        term: u32,
        frames: &[InstallmentFrame],
        amounts: &[Decimal],
    ) -> Result<Vec<InstallmentFrame>, InstallmentDatesError> {
        let Some(plugin) = self.plugin else {
            return Ok(frames.to_vec());
        };
        let installments: Vec<ScheduleInstallment> = frames
            .iter()
            .zip(amounts)
            .map(|(frame, amount)| ScheduleInstallment {
                locator: installment_locator(self.policy, term, frame.index + 1),
                policy: self.policy.to_string(),
                number: frame.index + 1,
                period: Segment {
                    start: frame.period.start(),
                    end: frame.period.end(),
                },
                generate_date: frame.generate_date,
                due_date: frame.due_date,
                amount: *amount,
            })
            .collect();
        let answers = self
            .dater
            .schedule_dates(plugin, self.currency, &installments)
            .map_err(|message| InstallmentDatesError::Failed {
                plugin: plugin.to_string(),
                message,
            })?;
        moved_frames(plugin, frames, &installments, answers)
    }
}

/// `frames` with the dates of `answers` (the plugin's answer for
/// `installments`, one per frame), each checked.
fn moved_frames(
    plugin: &str,
    frames: &[InstallmentFrame],
    installments: &[ScheduleInstallment],
    answers: Vec<InstallmentDates>,
) -> Result<Vec<InstallmentFrame>, InstallmentDatesError> {
    let mut moved = frames.to_vec();
    let mut seen = vec![false; frames.len()];
    for answer in answers {
        let locator = answer.locator;
        let Some(index) = installments.iter().position(|i| i.locator == locator) else {
            return Err(InstallmentDatesError::UnknownInstallment {
                plugin: plugin.to_string(),
                locator,
            });
        };
        if std::mem::replace(&mut seen[index], true) {
            return Err(InstallmentDatesError::MovedTwice {
                plugin: plugin.to_string(),
                locator,
            });
        }
        let frame = &mut moved[index];
        check_dates(
            plugin,
            &locator,
            frame.period,
            answer.generate_date,
            answer.due_date,
        )?;
        frame.generate_date = answer.generate_date;
        frame.due_date = answer.due_date;
    }
    Ok(moved)
}

/// Checks that an installment paying for `period` may be invoiced on
/// `invoice_date` and due on `due_date`.
fn check_dates(
    plugin: &str,
    locator: &str,
    period: Period,
    invoice_date: NaiveDate,
    due_date: NaiveDate,
) -> Result<(), InstallmentDatesError> {
    let last_day = period.end().pred_opt().expect("a period has a last day");
    let earliest = add_days(period.start(), -i64::from(LEAD_DAYS_MAX)).unwrap_or(NaiveDate::MIN);
    if invoice_date > due_date {
        return Err(InstallmentDatesError::InvoicedAfterDue {
            plugin: plugin.to_string(),
            locator: locator.to_string(),
            invoice_date,
            due_date,
        });
    }
    if due_date > last_day {
        return Err(InstallmentDatesError::DueAfterInstallment {
            plugin: plugin.to_string(),
            locator: locator.to_string(),
            due_date,
            last_day,
        });
    }
    if invoice_date < earliest {
        return Err(InstallmentDatesError::InvoicedTooEarly {
            plugin: plugin.to_string(),
            locator: locator.to_string(),
            invoice_date,
            start: period.start(),
        });
    }
    Ok(())
}

/// What each of `frames` bills: every slice of the term that pays for it on
/// its own invoice (not netted, not caught up on another one).
pub fn frame_amounts<'s>(
    frames: &[InstallmentFrame],
    slices: impl IntoIterator<Item = &'s InstallmentSlice>,
) -> Vec<Decimal> {
    let mut amounts = vec![Decimal::ZERO; frames.len()];
    for slice in slices.into_iter().filter(|s| !s.caught_up) {
        if let Some(frame) = frames
            .iter()
            .position(|f| f.period.contains(slice.installment_period.start()))
        {
            amounts[frame] += slice.amount.amount;
        }
    }
    amounts
}

/// [`slices_for_term`] with the term's frames dated by the product's
/// invoicing plugin: the slices are laid out on the plan's frames, the
/// plugin is shown each installment with what it bills, and when it moves
/// any date they are laid out again on the moved frames (so an installment
/// it moves later is not yet invoiced, one it moves earlier may be caught
/// up). Without a plugin, exactly [`slices_for_term`].
pub(super) fn dated_slices_for_term(
    held: &[(&InstallmentSlice, HeldState)],
    old: &[(&Charge, Period)],
    new: &[(&Charge, Period)],
    term: &TermSlicing,
    base: usize,
    dates: &PluginDates,
) -> Result<(Vec<InstallmentSlice>, Vec<u32>), PolicyError> {
    let laid_out = slices_for_term(held, old, new, term, base).map_err(PolicyError::Internal)?;
    if dates.plugin.is_none() || new.is_empty() {
        return Ok(laid_out);
    }
    let frames = term
        .plan
        .frames(term.period)
        .map_err(|e| PolicyError::Internal(e.to_string()))?;
    let (slices, netted) = &laid_out;
    let held_billed = held
        .iter()
        .enumerate()
        .filter(|(position, (slice, state))| {
            slice.term == term.number
                && *state != HeldState::Netted
                && !netted.contains(&(*position as u32))
        });
    let new_billed = slices
        .iter()
        .enumerate()
        .filter(|(i, _)| !netted.contains(&((base + i) as u32)));
    let amounts = frame_amounts(
        &frames,
        held_billed
            .map(|(_, (slice, _))| *slice)
            .chain(new_billed.map(|(_, slice)| slice)),
    );
    let moved = dates.frames(term.number, &frames, &amounts)?;
    if moved == frames {
        return Ok(laid_out);
    }
    let slicing = TermSlicing {
        frames: Some(&moved),
        ..*term
    };
    slices_for_term(held, old, new, &slicing, base).map_err(PolicyError::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::{Cadence, InstallmentPlan};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Answers with fixed dates for the installments it names.
    struct Answers(Vec<(String, NaiveDate, NaiveDate)>);

    impl InstallmentDater for Answers {
        fn schedule_dates(
            &self,
            _plugin_id: &str,
            _currency: &str,
            _installments: &[ScheduleInstallment],
        ) -> Result<Vec<InstallmentDates>, String> {
            Ok(self
                .0
                .iter()
                .map(|(locator, generate_date, due_date)| InstallmentDates {
                    locator: locator.clone(),
                    generate_date: *generate_date,
                    due_date: *due_date,
                })
                .collect())
        }
    }

    fn quarterly_2026() -> Vec<InstallmentFrame> {
        InstallmentPlan::new(Cadence::Quarterly)
            .frames(Period::new(date(2026, 1, 1), date(2027, 1, 1)).unwrap())
            .unwrap()
    }

    fn dated(
        answers: &[(&str, NaiveDate, NaiveDate)],
    ) -> Result<Vec<InstallmentFrame>, InstallmentDatesError> {
        let answers = Answers(
            answers
                .iter()
                .map(|(l, g, d)| (l.to_string(), *g, *d))
                .collect(),
        );
        let dates = PluginDates {
            dater: &answers,
            plugin: Some("dates@1"),
            policy: "P-1",
            currency: "USD",
        };
        dates.frames(1, &quarterly_2026(), &[Decimal::ONE; 4])
    }

    #[test]
    fn installments_the_plugin_moves_take_its_dates_and_the_others_keep_the_plans() {
        let frames = dated(&[("P-1-T1-I2", date(2026, 3, 27), date(2026, 4, 11))]).unwrap();
        let dates: Vec<_> = frames
            .iter()
            .map(|f| (f.generate_date, f.due_date))
            .collect();
        assert_eq!(
            dates,
            vec![
                (date(2026, 1, 1), date(2026, 1, 1)),
                (date(2026, 3, 27), date(2026, 4, 11)),
                (date(2026, 7, 1), date(2026, 7, 1)),
                (date(2026, 10, 1), date(2026, 10, 1)),
            ]
        );
    }

    #[test]
    fn a_product_without_a_plugin_keeps_the_plans_dates_and_asks_nobody() {
        struct Panics;
        impl InstallmentDater for Panics {
            fn schedule_dates(
                &self,
                _: &str,
                _: &str,
                _: &[ScheduleInstallment],
            ) -> Result<Vec<InstallmentDates>, String> {
                panic!("no plugin to ask")
            }
        }
        let dates = PluginDates {
            dater: &Panics,
            plugin: None,
            policy: "P-1",
            currency: "USD",
        };
        let frames = quarterly_2026();
        assert_eq!(
            dates.frames(1, &frames, &[Decimal::ONE; 4]).unwrap(),
            frames
        );
    }

    #[test]
    fn an_invoice_date_after_the_due_date_is_refused() {
        let error = dated(&[("P-1-T1-I1", date(2026, 1, 10), date(2026, 1, 5))]).unwrap_err();
        assert_eq!(
            error,
            InstallmentDatesError::InvoicedAfterDue {
                plugin: "dates@1".into(),
                locator: "P-1-T1-I1".into(),
                invoice_date: date(2026, 1, 10),
                due_date: date(2026, 1, 5),
            }
        );
        assert_eq!(error.code(), "invalid_installment_dates");
    }

    #[test]
    fn a_due_date_after_the_installments_last_day_is_refused() {
        let error = dated(&[("P-1-T1-I1", date(2026, 1, 1), date(2026, 4, 1))]).unwrap_err();
        assert_eq!(
            error,
            InstallmentDatesError::DueAfterInstallment {
                plugin: "dates@1".into(),
                locator: "P-1-T1-I1".into(),
                due_date: date(2026, 4, 1),
                last_day: date(2026, 3, 31),
            }
        );
    }

    #[test]
    fn an_invoice_date_more_than_the_lead_day_limit_early_is_refused() {
        let error = dated(&[("P-1-T1-I1", date(2024, 12, 30), date(2026, 1, 1))]).unwrap_err();
        assert!(
            matches!(error, InstallmentDatesError::InvoicedTooEarly { .. }),
            "{error}"
        );
        let at_the_limit = dated(&[("P-1-T1-I1", date(2024, 12, 31), date(2026, 1, 1))]).unwrap();
        assert_eq!(
            at_the_limit[0].generate_date,
            date(2024, 12, 31),
            "366 days before"
        );
    }

    #[test]
    fn an_installment_not_in_the_schedule_or_moved_twice_is_refused() {
        let unknown = dated(&[("P-1-T1-I5", date(2026, 1, 1), date(2026, 1, 1))]).unwrap_err();
        assert!(matches!(
            unknown,
            InstallmentDatesError::UnknownInstallment { .. }
        ));
        let twice = dated(&[
            ("P-1-T1-I1", date(2026, 1, 1), date(2026, 1, 2)),
            ("P-1-T1-I1", date(2026, 1, 1), date(2026, 1, 3)),
        ])
        .unwrap_err();
        assert!(matches!(twice, InstallmentDatesError::MovedTwice { .. }));
    }
}

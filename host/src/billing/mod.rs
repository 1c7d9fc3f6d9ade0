//! The native, pure billing core: duration bases and proration, installment plans
//! and their frames, spreading charges over frames with level installments, the
//! billing calendar, grace dates, and how premium earns over its period.
//!
//! No I/O, no async, no floats. It does not depend on the plugin runtime; it builds
//! on `crate::domain` (money, allocation, periods) only.

pub mod calendar;
pub mod duration;
pub mod earning;
pub mod grace;
pub mod installments;
pub mod level;
pub mod proration;
pub mod reschedule;
pub mod spread;

pub use calendar::{
    BillingCalendar, BillingDate, BillingDay, BillingFrequency, CalendarError, CalendarOverrides,
    InstallmentInvoice, ShiftDirection, invoice_due_date, sends_invoice,
};
pub use duration::{Duration, DurationBasis, DurationError, Fraction, measure};
pub use earning::earned_through;
pub use grace::{GraceError, GracePeriod, is_past_due, lapse_after};
pub use installments::{
    Anchor, Cadence, FRAMES_MAX, InstallmentError, InstallmentFrame, InstallmentPlan,
};
pub use level::{LevelError, level_split};
pub use proration::{
    Arithmetic, PremiumRate, Prorated, ProrationError, RatedPremium, SplitAmounts,
};
pub use reschedule::{HeldSlice, NewPart, Rescheduled, TermCharge, reschedule};
pub use spread::{Spread, SpreadCharge, SpreadError, SpreadPart, spread};

//! Domain values shared by every part of Premia: currencies, money, exact splits
//! into minor units, and coverage periods.
//!
//! Pure: no I/O, no async, no floats. Every module has its own error enum.

pub mod allocation;
pub mod compact_map;
pub mod compact_set;
pub mod currency;
pub mod date_text;
pub mod error_kind;
pub mod money;
pub mod period;

pub use allocation::{
    AllocationError, PARTS_MAX, ResiduePlacement, WEIGHT_SCALE_MAX, allocate, allocate_units,
    integer_weights, residue_part,
};
pub use compact_map::CompactMap;
pub use compact_set::CompactSet;
pub use currency::{Currency, CurrencyError};
pub use error_kind::ErrorKind;
pub use money::{Money, MoneyError, RoundingMode};
pub use period::{
    PERIOD_DAYS_MAX, Period, PeriodError, add_days, add_months_clamped, clamped_date,
    days_in_month, from_month_index, local_date, month_index, parse_time_zone,
};

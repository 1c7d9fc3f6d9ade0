//! Decimal helpers: amounts cross the plugin boundary as decimal strings.

use rust_decimal::{Decimal, RoundingStrategy};
use std::str::FromStr;

/// Parses a decimal literal known at compile time, such as `dec("612.00")`.
///
/// # Panics
/// When the text is not a decimal: use it for literals only, and
/// [`parse_decimal`] for data.
pub fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|_| panic!("not a decimal literal: {text:?}"))
}

/// Parses a decimal string that came from data (a rate table, a field), with
/// a message naming `what` when it is not a number.
pub fn parse_decimal(text: &str, what: &str) -> Result<Decimal, String> {
    Decimal::from_str(text.trim()).map_err(|_| format!("{what}: {text:?} is not a decimal number"))
}

/// Writes a decimal as the host expects it: plain notation, no exponent,
/// trailing zeros kept as they are (`612.00` stays `612.00`).
pub fn fmt_decimal(value: Decimal) -> String {
    value.to_string()
}

/// Rounds half away from zero to `scale` decimal places (2 for cents).
///
/// Raters may return unrounded yearly rates: the host rounds once, at the end
/// of proration. Use this only for amounts the plugin must present rounded.
pub fn round_money(value: Decimal, scale: u32) -> Decimal {
    value.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_trip_through_text_without_losing_trailing_zeros() {
        assert_eq!(fmt_decimal(dec("612.00")), "612.00");
        assert_eq!(parse_decimal(" 1.5 ", "factor").unwrap(), dec("1.5"));
    }

    #[test]
    fn a_bad_number_names_the_field() {
        let error = parse_decimal("abc", "territory factor").unwrap_err();
        assert_eq!(error, "territory factor: \"abc\" is not a decimal number");
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round_money(dec("2.345"), 2), dec("2.35"));
        assert_eq!(round_money(dec("-2.345"), 2), dec("-2.35"));
    }
}

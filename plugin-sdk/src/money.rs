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
/// trailing zeros kept as they are (`612.00` stays `612.00`, `-0.5` stays
/// `-0.5`). The same text as `Decimal`'s `Display`, written straight from
/// its mantissa and scale: a rater writes two or three amounts per item,
/// and `fmt` machinery was most of their cost.
pub fn fmt_decimal(value: Decimal) -> String {
    /// A `Decimal`'s mantissa has at most 29 digits; its scale is at most 28.
    const DIGITS_MAX: usize = 30;
    let scale = value.scale() as usize;
    let mut digits = [b'0'; DIGITS_MAX];
    // Least significant digit first; u64 arithmetic when it fits (u128
    // division is a library call in WebAssembly).
    let mut count = 0;
    let magnitude = value.mantissa().unsigned_abs();
    if let Ok(mut rest) = u64::try_from(magnitude) {
        while rest > 0 {
            digits[count] = b'0' + (rest % 10) as u8;
            rest /= 10;
            count += 1;
        }
    } else {
        let mut rest = magnitude;
        while rest > 0 {
            digits[count] = b'0' + (rest % 10) as u8;
            rest /= 10;
            count += 1;
        }
    }
    // At least one digit before the point, and `scale` after it.
    let count = count.max(scale + 1);
    debug_assert!(count <= DIGITS_MAX);
    let mut text = String::with_capacity(count + 2);
    if value.is_sign_negative() && !value.is_zero() {
        text.push('-');
    }
    text.extend(digits[scale..count].iter().rev().map(|&d| d as char));
    if scale > 0 {
        text.push('.');
        text.extend(digits[..scale].iter().rev().map(|&d| d as char));
    }
    text
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
    fn decimals_are_written_in_plain_notation_at_their_scale() {
        for (text, written) in [
            ("0", "0"),
            ("0.00", "0.00"),
            ("-0.5", "-0.5"),
            ("0.001", "0.001"),
            ("1234.560", "1234.560"),
            ("-7", "-7"),
            (
                "79228162514264337593543950335",
                "79228162514264337593543950335",
            ),
            (
                "-0.0000000000000000000000000001",
                "-0.0000000000000000000000000001",
            ),
        ] {
            assert_eq!(fmt_decimal(dec(text)), written);
        }
        let negative_zero = Decimal::from_parts(0, 0, 0, true, 2);
        assert_eq!(fmt_decimal(negative_zero), negative_zero.to_string());
    }

    proptest::proptest! {
        #[test]
        fn decimals_are_written_exactly_as_display_writes_them(
            low in proptest::prelude::any::<u32>(),
            mid in proptest::prelude::any::<u32>(),
            high in proptest::prelude::any::<u32>(),
            negative in proptest::prelude::any::<bool>(),
            scale in 0u32..=28,
            small in proptest::prelude::any::<bool>(),
        ) {
            // Half the cases are amounts of everyday size (a u64 mantissa).
            let (mid, high) = if small { (mid % 1000, 0) } else { (mid, high) };
            let value = Decimal::from_parts(low, mid, high, negative, scale);
            proptest::prop_assert_eq!(fmt_decimal(value), value.to_string());
        }
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

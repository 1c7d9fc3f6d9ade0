//! Money: a `Decimal` amount in an ISO 4217 currency, checked arithmetic, and the
//! single rounding to minor units that ends a calculation.
//!
//! Intermediate amounts may carry more decimal places than the currency's minor unit
//! (a prorated premium is `495.890410958904...`). They are rounded once, at the end,
//! with a named [`RoundingMode`]. Nothing here uses floats.

use crate::domain::currency::Currency;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An error doing arithmetic on [`Money`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Two amounts in different currencies were combined.
    #[error("currency mismatch: {left} and {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    /// The result does not fit in a `Decimal` (about 7.9e28).
    #[error("arithmetic overflow in {operation}")]
    Overflow { operation: &'static str },
    /// The amount has more decimal places than the currency's minor unit.
    #[error("{amount} {currency} is not a whole number of minor units")]
    NotInMinorUnits { amount: Decimal, currency: Currency },
    /// An amount that came in (a payment, a fee, a charge) written with more
    /// decimal places than the currency's minor unit has: `10.001` USD, or
    /// `100.0000000000000000000000000001` (which a `Decimal` can only keep
    /// rounded). Refused rather than rounded.
    #[error("{amount} has more decimal places than {currency}'s {scale}")]
    TooManyDecimals {
        amount: Decimal,
        currency: Currency,
        scale: u32,
    },
}

/// How an amount is rounded to minor units.
///
/// Serialised in kebab-case: `"half-away-from-zero"`, `"half-even"`.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum RoundingMode {
    /// Commercial rounding, the default: 0.125 -> 0.13, -0.125 -> -0.13.
    #[default]
    HalfAwayFromZero,
    /// Banker's rounding: 0.125 -> 0.12, 0.135 -> 0.14.
    HalfEven,
}

impl RoundingMode {
    /// Rounds `value` to `scale` decimal places with this mode.
    pub fn round(self, value: Decimal, scale: u32) -> Decimal {
        let strategy = match self {
            RoundingMode::HalfAwayFromZero => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
        };
        value.round_dp_with_strategy(scale, strategy)
    }
}

/// An amount of money in one currency.
///
/// The amount may be unrounded while a calculation is in progress; call
/// [`Money::rounded`] once at the end. Serialised as
/// `{"amount": "100.00", "currency": "USD"}` (the amount is a decimal string, never a
/// JSON number, so no consumer reads it as a float).
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    /// An amount in a currency, exactly as given (no rounding).
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// An amount that comes in from outside (a payment, a fee, a flat charge,
    /// a write-off, a disbursement), exactly as written: refused when it has
    /// more decimal places than the currency's minor unit (`10.001` or
    /// `10.000` USD), so nothing is rounded behind the sender's back and no
    /// balance shows a scale its currency does not have.
    pub fn received(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        let scale = currency.minor_unit_scale();
        if amount.scale() > scale {
            return Err(MoneyError::TooManyDecimals {
                amount,
                currency,
                scale,
            });
        }
        Ok(Money::new(amount, currency))
    }

    /// Zero in `currency`, written with the currency's minor-unit scale (`0.00`).
    pub fn zero(currency: Currency) -> Money {
        Money::new(Decimal::new(0, currency.minor_unit_scale()), currency)
    }

    /// Builds an amount from an integer count of minor units: `12345` USD is `123.45`.
    pub fn from_minor_units(units: i128, currency: Currency) -> Result<Money, MoneyError> {
        let amount = Decimal::try_from_i128_with_scale(units, currency.minor_unit_scale())
            .map_err(|_| MoneyError::Overflow {
                operation: "from_minor_units",
            })?;
        Ok(Money::new(amount, currency))
    }

    /// The amount as an integer count of minor units. An amount with more decimal
    /// places than the minor unit (`1.005` USD) is an error: round it first.
    pub fn to_minor_units(&self) -> Result<i128, MoneyError> {
        let target = self.currency.minor_unit_scale();
        let scale = self.amount.scale();
        let mantissa = self.amount.mantissa();
        if scale <= target {
            let factor = 10_i128.pow(target - scale);
            return mantissa.checked_mul(factor).ok_or(MoneyError::Overflow {
                operation: "to_minor_units",
            });
        }
        let divisor = 10_i128.pow(scale - target);
        if mantissa % divisor != 0 {
            return Err(MoneyError::NotInMinorUnits {
                amount: self.amount,
                currency: self.currency,
            });
        }
        Ok(mantissa / divisor)
    }

    /// Whether the amount is a whole number of minor units.
    pub fn is_in_minor_units(&self) -> bool {
        self.to_minor_units().is_ok()
    }

    /// Rounds to the currency's minor unit with `mode`, and writes the result with
    /// exactly that many decimal places (`500` USD becomes `500.00`).
    pub fn rounded(self, mode: RoundingMode) -> Money {
        let scale = self.currency.minor_unit_scale();
        let mut amount = mode.round(self.amount, scale);
        amount.rescale(scale);
        Money::new(amount, self.currency)
    }

    /// `self + other`; both must be in the same currency.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow { operation: "add" })?;
        Ok(Money::new(amount, self.currency))
    }

    /// `self - other`; both must be in the same currency.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_sub(other.amount)
            .ok_or(MoneyError::Overflow {
                operation: "subtract",
            })?;
        Ok(Money::new(amount, self.currency))
    }

    /// `self * factor`, unrounded.
    pub fn checked_mul(self, factor: Decimal) -> Result<Money, MoneyError> {
        let amount = self
            .amount
            .checked_mul(factor)
            .ok_or(MoneyError::Overflow {
                operation: "multiply",
            })?;
        Ok(Money::new(amount, self.currency))
    }

    /// `-self`. Cannot overflow: a `Decimal` is sign and magnitude.
    pub fn negated(self) -> Money {
        Money::new(-self.amount, self.currency)
    }

    /// Whether the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    /// Whether the amount is below zero (a credit).
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn usd(amount: Decimal) -> Money {
        Money::new(amount, Currency::USD)
    }

    #[test]
    fn an_amount_received_with_more_decimals_than_its_currency_is_refused_not_rounded() {
        assert_eq!(
            Money::received(dec!(10.00), Currency::USD),
            Ok(usd(dec!(10.00)))
        );
        assert_eq!(Money::received(dec!(10), Currency::USD), Ok(usd(dec!(10))));
        assert_eq!(
            Money::received(dec!(-0.5), Currency::USD),
            Ok(usd(dec!(-0.5)))
        );
        for refused in ["10.001", "10.000", "100.0000000000000000000000000001"] {
            let amount: Decimal = refused.parse().unwrap();
            assert!(
                matches!(
                    Money::received(amount, Currency::USD),
                    Err(MoneyError::TooManyDecimals { scale: 2, .. })
                ),
                "{refused}"
            );
        }
        let yen = Currency::from_code("JPY").unwrap();
        assert!(Money::received(dec!(100.5), yen).is_err());
        assert!(Money::received(dec!(100), yen).is_ok());
    }

    #[test]
    fn rounding_is_half_away_from_zero_by_default() {
        let mode = RoundingMode::default();
        assert_eq!(mode, RoundingMode::HalfAwayFromZero);
        assert_eq!(usd(dec!(0.125)).rounded(mode).amount, dec!(0.13));
        assert_eq!(usd(dec!(-0.125)).rounded(mode).amount, dec!(-0.13));
        assert_eq!(usd(dec!(0.135)).rounded(mode).amount, dec!(0.14));
        assert_eq!(usd(dec!(0.1249999)).rounded(mode).amount, dec!(0.12));
    }

    #[test]
    fn half_even_rounds_ties_to_the_even_minor_unit() {
        let mode = RoundingMode::HalfEven;
        assert_eq!(usd(dec!(0.125)).rounded(mode).amount, dec!(0.12));
        assert_eq!(usd(dec!(0.135)).rounded(mode).amount, dec!(0.14));
        assert_eq!(usd(dec!(-0.125)).rounded(mode).amount, dec!(-0.12));
    }

    #[test]
    fn rounding_uses_the_currency_scale_and_writes_every_decimal_place() {
        let mode = RoundingMode::HalfAwayFromZero;
        let yen = Money::new(dec!(1234.5), Currency::JPY).rounded(mode);
        assert_eq!(yen.amount.to_string(), "1235");
        let dinar = Money::new(dec!(1.23456), Currency::BHD).rounded(mode);
        assert_eq!(dinar.amount.to_string(), "1.235");
        let dollars = usd(dec!(500)).rounded(mode);
        assert_eq!(dollars.amount.to_string(), "500.00");
        assert_eq!(dollars.to_string(), "500.00 USD");
    }

    #[test]
    fn adding_different_currencies_is_an_error() {
        let euros = Money::new(dec!(1), Currency::EUR);
        assert_eq!(
            usd(dec!(1)).checked_add(euros),
            Err(MoneyError::CurrencyMismatch {
                left: Currency::USD,
                right: Currency::EUR
            })
        );
        assert!(usd(dec!(1)).checked_sub(euros).is_err());
    }

    #[test]
    fn arithmetic_overflow_is_an_error_not_a_panic() {
        assert_eq!(
            usd(Decimal::MAX).checked_add(usd(dec!(1))),
            Err(MoneyError::Overflow { operation: "add" })
        );
        assert_eq!(
            usd(Decimal::MIN).checked_sub(usd(dec!(1))),
            Err(MoneyError::Overflow {
                operation: "subtract"
            })
        );
        assert_eq!(
            usd(Decimal::MAX).checked_mul(dec!(2)),
            Err(MoneyError::Overflow {
                operation: "multiply"
            })
        );
    }

    #[test]
    fn checked_arithmetic_is_exact() {
        let sum = usd(dec!(0.10)).checked_add(usd(dec!(0.20))).unwrap();
        assert_eq!(sum.amount, dec!(0.30));
        let difference = usd(dec!(100.00)).checked_sub(usd(dec!(83.87))).unwrap();
        assert_eq!(difference.amount, dec!(16.13));
        let product = usd(dec!(1000.00)).checked_mul(dec!(0.1)).unwrap();
        assert_eq!(product.amount, dec!(100.000));
    }

    #[test]
    fn minor_units_convert_both_ways() {
        assert_eq!(usd(dec!(123.45)).to_minor_units(), Ok(12345));
        assert_eq!(usd(dec!(-5)).to_minor_units(), Ok(-500));
        assert_eq!(usd(dec!(1.500)).to_minor_units(), Ok(150));
        assert_eq!(Money::new(dec!(7), Currency::JPY).to_minor_units(), Ok(7));
        assert_eq!(
            usd(dec!(1.005)).to_minor_units(),
            Err(MoneyError::NotInMinorUnits {
                amount: dec!(1.005),
                currency: Currency::USD
            })
        );
        let back = Money::from_minor_units(12345, Currency::BHD).unwrap();
        assert_eq!(back.amount, dec!(12.345));
        assert!(Money::from_minor_units(i128::MAX, Currency::USD).is_err());
    }

    #[test]
    fn zero_and_signs() {
        assert_eq!(Money::zero(Currency::USD).amount.to_string(), "0.00");
        assert!(Money::zero(Currency::USD).is_zero());
        assert!(usd(dec!(-0.01)).is_negative());
        assert!(!usd(dec!(0)).negated().is_negative());
        assert_eq!(usd(dec!(3.5)).negated().amount, dec!(-3.5));
    }

    #[test]
    fn money_serialises_amounts_as_decimal_strings() {
        let json = serde_json::to_string(&usd(dec!(83.87))).unwrap();
        assert_eq!(json, r#"{"amount":"83.87","currency":"USD"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, usd(dec!(83.87)));
        let mode = serde_json::to_string(&RoundingMode::HalfAwayFromZero).unwrap();
        assert_eq!(mode, "\"half-away-from-zero\"");
        let even: RoundingMode = serde_json::from_str("\"half-even\"").unwrap();
        assert_eq!(even, RoundingMode::HalfEven);
    }
}

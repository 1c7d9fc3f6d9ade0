//! ISO 4217 currencies and their minor-unit scale (JPY 0, USD 2, BHD 3, CLF 4).
//!
//! A [`Currency`] is only ever built from a code in the table below, so every
//! amount in Premia knows how many decimal places its minor unit has. Unknown or
//! badly spelled codes (`usd`, `US$`) are an error rather than a guess.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An error building a [`Currency`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    /// The code is not an ISO 4217 code Premia knows (codes are three upper-case letters).
    #[error("unknown ISO 4217 currency code {0:?}")]
    UnknownCode(String),
}

/// An ISO 4217 currency with the number of decimal places of its minor unit.
///
/// Serialised as its three-letter code: `"USD"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    minor_unit_scale: u8,
}

/// Active ISO 4217 codes and their minor units, sorted by code for binary search.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYI", 0),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    /// United States dollar, 2 decimal places.
    pub const USD: Currency = Currency::known(*b"USD", 2);
    /// Euro, 2 decimal places.
    pub const EUR: Currency = Currency::known(*b"EUR", 2);
    /// Pound sterling, 2 decimal places.
    pub const GBP: Currency = Currency::known(*b"GBP", 2);
    /// Japanese yen, no minor unit.
    pub const JPY: Currency = Currency::known(*b"JPY", 0);
    /// Bahraini dinar, 3 decimal places.
    pub const BHD: Currency = Currency::known(*b"BHD", 3);

    const fn known(code: [u8; 3], minor_unit_scale: u8) -> Currency {
        Currency {
            code,
            minor_unit_scale,
        }
    }

    /// Looks up an ISO 4217 code. Codes are exactly three upper-case ASCII letters;
    /// `"usd"` is an error, not a guess.
    pub fn from_code(code: &str) -> Result<Currency, CurrencyError> {
        let index = CURRENCIES
            .binary_search_by(|(known, _)| known.cmp(&code))
            .map_err(|_| CurrencyError::UnknownCode(code.to_owned()))?;
        let (known, scale) = CURRENCIES[index];
        let bytes = known.as_bytes();
        Ok(Currency::known([bytes[0], bytes[1], bytes[2]], scale))
    }

    /// The three-letter code, e.g. `"USD"`.
    pub fn code(&self) -> &str {
        // Only built from the ASCII table above.
        std::str::from_utf8(&self.code).expect("currency codes are ASCII")
    }

    /// Decimal places of the minor unit: 2 for USD (cents), 0 for JPY, 3 for BHD.
    pub fn minor_unit_scale(&self) -> u32 {
        u32::from(self.minor_unit_scale)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Currency::from_code(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.code().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_has_no_duplicates() {
        for pair in CURRENCIES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        for (code, scale) in CURRENCIES {
            assert_eq!(code.len(), 3);
            assert!(code.bytes().all(|b| b.is_ascii_uppercase()));
            assert!(*scale <= 4);
        }
    }

    #[test]
    fn known_codes_have_their_minor_unit_scale() {
        let cases = [
            ("USD", 2),
            ("EUR", 2),
            ("JPY", 0),
            ("KRW", 0),
            ("BHD", 3),
            ("KWD", 3),
            ("CLF", 4),
        ];
        for (code, scale) in cases {
            let currency = Currency::from_code(code).unwrap();
            assert_eq!(currency.code(), code);
            assert_eq!(currency.minor_unit_scale(), scale, "{code}");
        }
    }

    #[test]
    fn constants_match_the_table() {
        for constant in [
            Currency::USD,
            Currency::EUR,
            Currency::GBP,
            Currency::JPY,
            Currency::BHD,
        ] {
            assert_eq!(Currency::from_code(constant.code()).unwrap(), constant);
        }
    }

    #[test]
    fn unknown_or_misspelled_codes_are_errors() {
        for code in ["usd", "XXX", "US", "USDD", "", "US$"] {
            assert_eq!(
                Currency::from_code(code),
                Err(CurrencyError::UnknownCode(code.to_owned()))
            );
        }
    }

    #[test]
    fn a_currency_serialises_as_its_code() {
        assert_eq!(serde_json::to_string(&Currency::BHD).unwrap(), "\"BHD\"");
        let parsed: Currency = serde_json::from_str("\"JPY\"").unwrap();
        assert_eq!(parsed, Currency::JPY);
        assert!(serde_json::from_str::<Currency>("\"ABC\"").is_err());
    }
}

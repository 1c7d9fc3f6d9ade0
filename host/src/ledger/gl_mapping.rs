//! The general-ledger mapping: which account of the insurer's own chart (its
//! GL account code) each of Premia's ledger accounts posts to, optionally
//! narrowed to a product and a currency. Uploaded as CSV; the general-ledger
//! export maps every journal line through it and refuses to leave a line
//! unmapped.
//!
//! The CSV has a header and the columns `account`, `product`, `currency`,
//! `gl_account` (any order; `product` and `currency` may be left empty, or
//! left out, for "any"):
//!
//! ```text
//! account,product,currency,gl_account
//! unearned_premium,,,2100
//! earned_premium,auto,USD,4000-AUTO
//! earned_premium,,,4000
//! ```
//!
//! A line is mapped by the most specific row: account, product and currency;
//! then account and product; then account and currency; then the account
//! alone. With the rows above, `earned_premium` of product `auto` in USD maps
//! to `4000-AUTO`, of product `home` (or in EUR) to `4000`.

use crate::domain::Currency;
use crate::domain::ErrorKind;
use crate::ledger::account::{LedgerAccount, is_valid_name};
use crate::ledger::entry::{EntryId, EntryKind};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The most rows one mapping holds.
pub const GL_MAPPING_ROWS_MAX: usize = 10_000;
/// The longest GL account code (and product name in a row), in bytes.
pub const GL_ACCOUNT_BYTES_MAX: usize = 64;

/// One row of a mapping.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlMappingRow {
    pub account: LedgerAccount,
    /// The product it applies to; any product when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The currency it applies to; any currency when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// The insurer's GL account code.
    pub gl_account: String,
}

/// A whole mapping: its rows, as uploaded.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlMapping {
    pub rows: Vec<GlMappingRow>,
}

/// One journal line of the general-ledger export, mapped to the insurer's
/// GL account: one row per line of every entry whose accounting date is in
/// the period, so debits equal credits per period and currency.
///
/// Example: the earnings of January 2026 of product `auto` (100.00) give two
/// rows of entry 4, `premium_earned`: `unearned_premium` -> `2100`, debit
/// 100.00; `earned_premium` -> `4000`, credit 100.00; both product `auto`.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlJournalLine {
    /// The accounting period, `YYYY-MM`.
    pub period: String,
    pub entry_id: EntryId,
    pub accounting_date: NaiveDate,
    /// The entry's own (effective) date.
    pub posted_on: NaiveDate,
    pub kind: EntryKind,
    pub reference: String,
    /// Position of the line in its entry, from 0.
    pub line: usize,
    pub currency: Currency,
    pub gl_account: String,
    /// Premia's ledger account.
    pub account: LedgerAccount,
    /// The product of the entry's policy, transaction or charge, if any.
    pub product: Option<String>,
    pub subledger: Option<String>,
    pub debit: Decimal,
    pub credit: Decimal,
}

/// Why a mapping was refused, or a line could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlMappingError {
    #[error("the mapping is not CSV: {0}")]
    Csv(String),
    #[error("the mapping has no `{0}` column (columns: account, product, currency, gl_account)")]
    MissingColumn(&'static str),
    #[error("the mapping has no rows")]
    Empty,
    #[error("{count} rows is more than the limit of {GL_MAPPING_ROWS_MAX}")]
    TooManyRows { count: usize },
    #[error("row {row}: no ledger account `{account}`")]
    UnknownAccount { row: usize, account: String },
    #[error("row {row}: no currency `{currency}`")]
    UnknownCurrency { row: usize, currency: String },
    #[error("row {row}: `{value}` is not 1 to {GL_ACCOUNT_BYTES_MAX} printable bytes")]
    InvalidName { row: usize, value: String },
    #[error("row {row} maps {account} (product {product:?}, currency {currency:?}) a second time")]
    Duplicate {
        row: usize,
        account: LedgerAccount,
        product: Option<String>,
        currency: Option<Currency>,
    },
    /// A journal line whose account the mapping does not map (for its
    /// product and currency): the export refuses rather than leave a gap.
    #[error(
        "the GL mapping maps no row for account {account} (product {product:?}, currency {currency})"
    )]
    Unmapped {
        account: LedgerAccount,
        product: Option<String>,
        currency: Currency,
    },
    /// No mapping has been uploaded.
    #[error("no GL mapping has been uploaded: PUT /v1/accounting/gl-mapping first")]
    NoMapping,
}

impl GlMappingError {
    /// The stable code used in API problems.
    pub fn code(&self) -> &'static str {
        match self {
            GlMappingError::Csv(_) => "gl_mapping_not_csv",
            GlMappingError::MissingColumn(_) => "gl_mapping_missing_column",
            GlMappingError::Empty => "gl_mapping_empty",
            GlMappingError::TooManyRows { .. } => "gl_mapping_too_large",
            GlMappingError::UnknownAccount { .. } => "gl_mapping_unknown_account",
            GlMappingError::UnknownCurrency { .. } => "gl_mapping_unknown_currency",
            GlMappingError::InvalidName { .. } => "gl_mapping_invalid_name",
            GlMappingError::Duplicate { .. } => "gl_mapping_duplicate_row",
            GlMappingError::Unmapped { .. } => "gl_account_unmapped",
            GlMappingError::NoMapping => "gl_mapping_missing",
        }
    }

    /// How the refusal is answered.
    pub fn kind(&self) -> ErrorKind {
        match self {
            GlMappingError::TooManyRows { .. } => ErrorKind::TooLarge,
            GlMappingError::Csv(_)
            | GlMappingError::MissingColumn(_)
            | GlMappingError::Empty
            | GlMappingError::UnknownAccount { .. }
            | GlMappingError::UnknownCurrency { .. }
            | GlMappingError::InvalidName { .. }
            | GlMappingError::Duplicate { .. }
            | GlMappingError::Unmapped { .. }
            | GlMappingError::NoMapping => ErrorKind::Invalid,
        }
    }
}

impl GlMapping {
    /// Reads a mapping from CSV (see the module header); rows are numbered
    /// from 1 after the header in errors.
    pub fn from_csv(text: &str) -> Result<GlMapping, GlMappingError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| GlMappingError::Csv(e.to_string()))?
            .clone();
        let column = |name: &'static str| headers.iter().position(|h| h == name);
        let account_at = column("account").ok_or(GlMappingError::MissingColumn("account"))?;
        let gl_at = column("gl_account").ok_or(GlMappingError::MissingColumn("gl_account"))?;
        let (product_at, currency_at) = (column("product"), column("currency"));
        let mut rows = Vec::new();
        for (index, record) in reader.records().enumerate() {
            let row = index + 1;
            let record = record.map_err(|e| GlMappingError::Csv(e.to_string()))?;
            if rows.len() >= GL_MAPPING_ROWS_MAX {
                return Err(GlMappingError::TooManyRows { count: row });
            }
            let field = |at: Option<usize>| {
                at.and_then(|at| record.get(at))
                    .filter(|value| !value.is_empty())
            };
            let code = field(Some(account_at)).unwrap_or_default();
            let account =
                LedgerAccount::from_code(code).ok_or_else(|| GlMappingError::UnknownAccount {
                    row,
                    account: code.to_string(),
                })?;
            let currency = field(currency_at)
                .map(|code| {
                    Currency::from_code(code).map_err(|_| GlMappingError::UnknownCurrency {
                        row,
                        currency: code.to_string(),
                    })
                })
                .transpose()?;
            let name = |value: &str| {
                if is_valid_name(value, GL_ACCOUNT_BYTES_MAX) {
                    Ok(value.to_string())
                } else {
                    Err(GlMappingError::InvalidName {
                        row,
                        value: value.chars().take(GL_ACCOUNT_BYTES_MAX + 1).collect(),
                    })
                }
            };
            let product = field(product_at).map(name).transpose()?;
            let gl_account = name(field(Some(gl_at)).unwrap_or_default())?;
            rows.push(GlMappingRow {
                account,
                product,
                currency,
                gl_account,
            });
        }
        let mapping = GlMapping { rows };
        mapping.validate()?;
        Ok(mapping)
    }

    /// Checks a mapping: 1 to [`GL_MAPPING_ROWS_MAX`] rows, each (account,
    /// product, currency) once.
    pub fn validate(&self) -> Result<(), GlMappingError> {
        if self.rows.is_empty() {
            return Err(GlMappingError::Empty);
        }
        if self.rows.len() > GL_MAPPING_ROWS_MAX {
            return Err(GlMappingError::TooManyRows {
                count: self.rows.len(),
            });
        }
        let mut seen = BTreeSet::new();
        for (index, row) in self.rows.iter().enumerate() {
            if !seen.insert((row.account, row.product.as_deref(), row.currency)) {
                return Err(GlMappingError::Duplicate {
                    row: index + 1,
                    account: row.account,
                    product: row.product.clone(),
                    currency: row.currency,
                });
            }
        }
        Ok(())
    }

    /// The GL account of `account` for a line of `product` (if known) in
    /// `currency`, by the most specific row; [`GlMappingError::Unmapped`]
    /// when no row applies.
    pub fn gl_account(
        &self,
        account: LedgerAccount,
        product: Option<&str>,
        currency: Currency,
    ) -> Result<&str, GlMappingError> {
        let find = |product: Option<&str>, currency: Option<Currency>| {
            self.rows.iter().find(|row| {
                row.account == account
                    && row.product.as_deref() == product
                    && row.currency == currency
            })
        };
        let specific = product.and_then(|product| {
            find(Some(product), Some(currency)).or_else(|| find(Some(product), None))
        });
        specific
            .or_else(|| find(None, Some(currency)))
            .or_else(|| find(None, None))
            .map(|row| row.gl_account.as_str())
            .ok_or_else(|| GlMappingError::Unmapped {
                account,
                product: product.map(str::to_string),
                currency,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "\
account,product,currency,gl_account
unearned_premium,,,2100
earned_premium,auto,USD,4000-AUTO
earned_premium,,,4000
";

    #[test]
    fn the_most_specific_row_maps_a_line() {
        let mapping = GlMapping::from_csv(CSV).unwrap();
        let usd = Currency::USD;
        let earned = LedgerAccount::EarnedPremium;
        assert_eq!(
            mapping.gl_account(earned, Some("auto"), usd),
            Ok("4000-AUTO")
        );
        assert_eq!(mapping.gl_account(earned, Some("home"), usd), Ok("4000"));
        assert_eq!(
            mapping.gl_account(earned, Some("auto"), Currency::EUR),
            Ok("4000")
        );
        assert_eq!(
            mapping.gl_account(LedgerAccount::UnearnedPremium, None, usd),
            Ok("2100")
        );
        let unmapped = mapping
            .gl_account(LedgerAccount::Cash, None, usd)
            .unwrap_err();
        assert_eq!(unmapped.code(), "gl_account_unmapped");
        assert!(unmapped.to_string().contains("cash"), "{unmapped}");
    }

    #[test]
    fn unknown_accounts_duplicates_and_missing_columns_are_refused() {
        let refused = |text: &str| GlMapping::from_csv(text).unwrap_err().code();
        assert_eq!(
            refused("account,gl_account\npremium,4000\n"),
            "gl_mapping_unknown_account"
        );
        assert_eq!(
            refused("account,gl_account\ncash,1000\ncash,1001\n"),
            "gl_mapping_duplicate_row"
        );
        assert_eq!(refused("account\ncash\n"), "gl_mapping_missing_column");
        assert_eq!(refused("account,gl_account\n"), "gl_mapping_empty");
        assert_eq!(
            refused("account,currency,gl_account\ncash,XXX,1000\n"),
            "gl_mapping_unknown_currency"
        );
        assert_eq!(
            refused("account,gl_account\ncash,\n"),
            "gl_mapping_invalid_name"
        );
    }
}

//! The read model of billing staff (DOMAIN section 12): account search and
//! an account's whole picture (`accounts.rs`), invoices listed and in detail
//! (`invoices.rs`), worklists (`worklists.rs`) and a policy's timeline
//! (`timeline.rs`). Every read takes the tenant's state and its today, and
//! answers from the account it names or from the indexes kept in `apply`
//! ([`crate::collections::ReadIndex`]): none scans the tenant's whole book.
//!
//! Lists are pages `{data, next_cursor}`: a cursor is opaque (hex of the
//! last row's sort key); `next_cursor` is absent on the last page.

mod accounts;
mod invoices;
mod timeline;
mod worklists;

pub use accounts::{
    AccountFilter, AccountOverview, AccountRow, Ageing, Balances, PolicyStanding, PolicyStatus,
    SUMMARY_OPEN_INVOICES_MAX, TermView, UPCOMING_INSTALLMENTS_DEFAULT, UPCOMING_INSTALLMENTS_MAX,
    UpcomingInstallment, account_overview, payments, search_accounts,
};
pub use invoices::{
    AppliedPayment, InvoiceDetail, InvoiceQuery, InvoiceRow, InvoiceStatus, ItemDetail,
    TransactionBrief, invoice_detail, list_invoices,
};
pub use timeline::{PolicyTimeline, policy_timeline};
pub use worklists::{
    COMING_DUE_DAYS_DEFAULT, COMING_DUE_DAYS_MAX, DelinquentAccountRow, DisbursementRow, HoldRow,
    Worklist, WorklistRow, worklist,
};

use crate::domain::ErrorKind;
use serde::Serialize;

/// The most rows a page holds.
pub const PAGE_ITEMS_MAX: usize = 1_000;
/// The rows of a page when the request names no limit.
pub const PAGE_ITEMS_DEFAULT: usize = 100;

/// A page of a list and the cursor of the next page (absent at the end).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CursorPage<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Which page: after the row `after` names (from the start without one),
/// at most `limit` rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<String>,
    pub limit: Option<usize>,
}

impl PageRequest {
    /// The rows to answer: the limit asked, between 1 and [`PAGE_ITEMS_MAX`].
    pub fn limit(&self) -> usize {
        self.limit
            .unwrap_or(PAGE_ITEMS_DEFAULT)
            .clamp(1, PAGE_ITEMS_MAX)
    }

    /// The cursor's text, if any.
    fn after_text(&self) -> Result<Option<String>, ReadError> {
        self.after.as_deref().map(decode_cursor).transpose()
    }
}

/// Why a read was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("no billing account {0}")]
    UnknownAccount(String),
    #[error("no invoice {0}")]
    UnknownInvoice(String),
    #[error("no policy {0}")]
    UnknownPolicy(String),
    #[error(
        "no worklist {0}: use delinquent-accounts, disbursements-awaiting-approval, active-holds, invoices-coming-due or quarantined-plugins"
    )]
    UnknownWorklist(String),
    #[error("cursor {0} is not one this list answered")]
    BadCursor(String),
    #[error("no account filter {0}: use delinquent, with_credit, on_hold or past_due")]
    UnknownFilter(String),
    #[error("no invoice status {0}: use open, paid, past_due or written_off")]
    UnknownStatus(String),
    #[error("due_from {from} is after due_to {to}")]
    DueRange {
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    },
}

impl ReadError {
    /// The stable code of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::UnknownAccount(_) => "unknown_account",
            ReadError::UnknownInvoice(_) => "unknown_invoice",
            ReadError::UnknownPolicy(_) => "unknown_policy",
            ReadError::UnknownWorklist(_) => "unknown_worklist",
            ReadError::BadCursor(_) => "bad_cursor",
            ReadError::UnknownFilter(_) => "unknown_filter",
            ReadError::UnknownStatus(_) => "unknown_invoice_status",
            ReadError::DueRange { .. } => "bad_due_range",
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            ReadError::UnknownAccount(_)
            | ReadError::UnknownInvoice(_)
            | ReadError::UnknownPolicy(_)
            | ReadError::UnknownWorklist(_) => ErrorKind::NotFound,
            ReadError::BadCursor(_)
            | ReadError::UnknownFilter(_)
            | ReadError::UnknownStatus(_)
            | ReadError::DueRange { .. } => ErrorKind::Invalid,
        }
    }
}

/// A cursor: the hex of a sort key's text.
fn encode_cursor(text: &str) -> String {
    hex::encode(text.as_bytes())
}

pub fn decode_cursor(cursor: &str) -> Result<String, ReadError> {
    hex::decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ReadError::BadCursor(cursor.to_string()))
}

/// The page of `rows` (at most `limit + 1` taken, in order): the first
/// `limit`, and the cursor of the last when there were more.
pub fn page<T>(mut rows: Vec<T>, limit: usize, key_of: impl Fn(&T) -> String) -> CursorPage<T> {
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more {
        rows.last().map(|row| encode_cursor(&key_of(row)))
    } else {
        None
    };
    CursorPage {
        data: rows,
        next_cursor,
    }
}

/// A key `<account>\n<number>` of a record numbered within its account.
fn numbered_key(account: &str, number: usize) -> String {
    format!("{account}\n{number}")
}

fn parse_numbered_key(text: &str) -> Option<(String, usize)> {
    let (account, number) = text.rsplit_once('\n')?;
    Some((account.to_string(), number.parse().ok()?))
}

/// `value` with at least the currency's minor-unit scale (`0` reads
/// `0.00` in USD), as the ledger shows balances.
fn at_scale(
    mut value: rust_decimal::Decimal,
    currency: crate::domain::Currency,
) -> rust_decimal::Decimal {
    let scale = currency.minor_unit_scale();
    if value.scale() < scale {
        value.rescale(scale);
    }
    value
}

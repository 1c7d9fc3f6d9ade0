//! Flat ledger lines for exports: one row per journal line, every column a scalar,
//! so CSV and Parquet writers (and DuckDB reading them) need no nesting.
//!
//! Example: entry 3 (`payment_received`, 300.00 paid, 250.00 allocated) gives
//!
//! | entry_id | line | account                   | subledger | side   | amount | debit_amount |
//! |----------|------|---------------------------|-----------|--------|--------|--------------|
//! | 3        | 0    | cash                      |           | debit  | 300.00 | 300.00       |
//! | 3        | 1    | premium_receivable_billed | BA-1      | credit | 250.00 | -250.00      |
//! | 3        | 2    | customer_credit           | BA-1      | credit | 50.00  | -50.00       |
//!
//! (with the entry's tenant, currency, date, kind, reference and reversal link
//! repeated on each row).

use crate::domain::Currency;
use crate::ledger::account::{LedgerAccount, Side};
use crate::ledger::entry::{EntryId, EntryKind, JournalEntry};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One journal line with its entry's columns. Amounts are decimal strings at the
/// currency's scale; `debit_amount` is signed debit-positive, so summing it over
/// any set of whole entries gives zero.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerLineRow {
    pub entry_id: EntryId,
    pub tenant: String,
    pub currency: Currency,
    pub posted_on: NaiveDate,
    pub kind: EntryKind,
    pub reference: String,
    pub reverses: Option<EntryId>,
    /// Position of the line in its entry, from 0.
    pub line: usize,
    pub account: LedgerAccount,
    pub subledger: Option<String>,
    pub side: Side,
    pub amount: Decimal,
    pub debit_amount: Decimal,
}

/// The rows of one entry's lines, in line order.
pub fn line_rows(entry: &JournalEntry) -> impl Iterator<Item = LedgerLineRow> + '_ {
    entry
        .lines
        .iter()
        .enumerate()
        .map(move |(index, line)| LedgerLineRow {
            entry_id: entry.id,
            tenant: entry.tenant.clone(),
            currency: entry.currency,
            posted_on: entry.posted_on,
            kind: entry.kind,
            reference: entry.reference.clone(),
            reverses: entry.reverses,
            line: index,
            account: line.account.account,
            subledger: line.account.subledger.clone(),
            side: line.side,
            amount: line.amount,
            debit_amount: line.debit_amount(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Money;
    use crate::ledger::{Ledger, postings};
    use rust_decimal_macros::dec;

    #[test]
    fn each_line_becomes_a_flat_row_that_csv_can_write() {
        let usd = |amount| Money::new(amount, Currency::USD);
        let day = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let mut ledger = Ledger::new("acme").unwrap();
        let payment =
            postings::payment_received("BA-1", usd(dec!(300)), usd(dec!(250)), day, "PAY-1");
        let id = ledger.post(payment.unwrap()).unwrap();
        let rows: Vec<_> = line_rows(ledger.entry(id).unwrap()).collect();
        assert_eq!(rows.len(), 3);
        let total: Decimal = rows.iter().map(|row| row.debit_amount).sum();
        assert_eq!(total, dec!(0));

        let mut writer = csv::Writer::from_writer(Vec::new());
        for row in &rows {
            writer.serialize(row).unwrap();
        }
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        let expected = "\
entry_id,tenant,currency,posted_on,kind,reference,reverses,line,account,subledger,side,amount,debit_amount
1,acme,USD,2024-03-01,payment_received,PAY-1,,0,cash,,debit,300.00,300.00
1,acme,USD,2024-03-01,payment_received,PAY-1,,1,premium_receivable_billed,BA-1,credit,250.00,-250.00
1,acme,USD,2024-03-01,payment_received,PAY-1,,2,customer_credit,BA-1,credit,50.00,-50.00
";
        assert_eq!(text, expected);
    }
}

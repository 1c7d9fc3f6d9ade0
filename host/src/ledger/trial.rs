//! The trial balance of one currency: per account, the total of its debit lines and
//! of its credit lines, over every subledger. Every entry balances, so the debit
//! totals always equal the credit totals and the debit-positive nets sum to zero.
//!
//! Example: charge 1000.00 premium, invoice 250.00, pay 300.00 gives
//!
//! | account                       | debits  | credits | balance |
//! |-------------------------------|---------|---------|---------|
//! | `cash`                        |  300.00 |    0.00 |  300.00 |
//! | `premium_receivable_unbilled` | 1000.00 |  250.00 |  750.00 |
//! | `premium_receivable_billed`   |  250.00 |  250.00 |    0.00 |
//! | `customer_credit`             |    0.00 |   50.00 |   50.00 |
//! | `unearned_premium`            |    0.00 | 1000.00 | 1000.00 |
//! | total                         | 1550.00 | 1550.00 |         |

use crate::domain::Currency;
use crate::ledger::account::{LedgerAccount, Side};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One account's totals in a [`TrialBalance`].
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialBalanceRow {
    pub account: LedgerAccount,
    /// Sum of every debit line on the account (reversals included).
    pub debits: Decimal,
    /// Sum of every credit line on the account (reversals included).
    pub credits: Decimal,
}

impl TrialBalanceRow {
    /// Debits minus credits.
    pub fn net_debit(&self) -> Decimal {
        self.debits - self.credits
    }

    /// The balance on the account's normal side: positive when it holds what it
    /// normally holds (a receivable owed to the insurer, credit owed to customers).
    pub fn balance(&self) -> Decimal {
        match self.account.normal_side() {
            Side::Debit => self.debits - self.credits,
            Side::Credit => self.credits - self.debits,
        }
    }
}

/// The trial balance of one currency, accounts in chart order. Only accounts with at
/// least one line appear.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialBalance {
    pub currency: Currency,
    pub rows: Vec<TrialBalanceRow>,
    pub total_debits: Decimal,
    pub total_credits: Decimal,
}

impl TrialBalance {
    /// Whether total debits equal total credits (always, for a book's trial balance).
    pub fn is_balanced(&self) -> bool {
        self.total_debits == self.total_credits
    }

    /// The sum of every row's debit-positive net: zero when balanced.
    pub fn net(&self) -> Decimal {
        self.rows.iter().map(TrialBalanceRow::net_debit).sum()
    }

    /// The row of `account`, if it has any line.
    pub fn row(&self, account: LedgerAccount) -> Option<&TrialBalanceRow> {
        self.rows.iter().find(|row| row.account == account)
    }
}

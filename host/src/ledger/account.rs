//! The chart of accounts: the ledger accounts Premia posts to, their normal balance
//! side, and the key a balance is kept under (account, currency, subledger).
//!
//! One book per tenant holds every currency; an account in one currency never mixes
//! with the same account in another. Receivables and customer credit are kept per
//! billing account (the subledger is the billing account locator), so "what does
//! account `BA-1` owe" is one lookup, and the overall receivable is the sum of its
//! subledgers.

use crate::domain::Currency;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest subledger name, in bytes (a billing account locator fits easily).
pub const SUBLEDGER_BYTES_MAX: usize = 64;

/// A side of a journal line. Serialised as `"debit"` or `"credit"`.
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Debit,
    Credit,
}

impl Side {
    /// The other side: a contra entry swaps every line's side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Debit => Side::Credit,
            Side::Credit => Side::Debit,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Debit => "debit",
            Side::Credit => "credit",
        })
    }
}

/// What an account is on the balance sheet or income statement.
///
/// Assets and expenses have a debit normal balance; liabilities and revenue a credit
/// one. Serialised in snake_case.
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AccountClass {
    Asset,
    Liability,
    Revenue,
    Expense,
}

impl AccountClass {
    /// The side on which an account of this class normally carries its balance.
    pub fn normal_side(self) -> Side {
        match self {
            AccountClass::Asset | AccountClass::Expense => Side::Debit,
            AccountClass::Liability | AccountClass::Revenue => Side::Credit,
        }
    }
}

/// An account of the chart. The declaration order is the chart order (trial balances
/// list accounts in it); the snake_case code is stable and is what the event log and
/// exports store.
///
/// | code                          | class     | normal |
/// |-------------------------------|-----------|--------|
/// | `cash`                        | asset     | debit  |
/// | `premium_receivable_unbilled` | asset     | debit  |
/// | `premium_receivable_billed`   | asset     | debit  |
/// | `customer_credit`             | liability | credit |
/// | `taxes_payable`               | liability | credit |
/// | `commission_payable`          | liability | credit |
/// | `ceded_premium_payable`       | liability | credit |
/// | `unearned_premium`            | liability | credit |
/// | `written_premium`             | revenue   | credit |
/// | `earned_premium`              | revenue   | credit |
/// | `surcharge_income`            | revenue   | credit |
/// | `fee_income`                  | revenue   | credit |
/// | `deductible_recoveries`       | revenue   | credit |
/// | `commission_expense`          | expense   | debit  |
/// | `ceded_premium`               | expense   | debit  |
/// | `write_off_expense`           | expense   | debit  |
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LedgerAccount {
    /// Money received and not yet paid out (payments in, disbursements out).
    Cash,
    /// Premium, fees and taxes charged by policy transactions that are not yet on an
    /// issued invoice. Per billing account.
    PremiumReceivableUnbilled,
    /// What issued invoices still owe. Per billing account; it always equals the sum
    /// of the account's open invoice balances.
    PremiumReceivableBilled,
    /// Money owed to the customer: overpayments and credits not yet applied or
    /// refunded. Per billing account.
    CustomerCredit,
    /// Taxes collected for the authorities.
    TaxesPayable,
    /// Commission owed to producers.
    CommissionPayable,
    /// Premium owed to reinsurers.
    CededPremiumPayable,
    /// Premium written and not yet earned (`premium`, `flatPremium`, `credit`):
    /// credited when a transaction writes it, moved to [`LedgerAccount::EarnedPremium`]
    /// by the earnings run as its period passes (DOMAIN section 10).
    UnearnedPremium,
    /// Premium written by policy transactions, as revenue at once: how premium was
    /// posted before insurance accounting (entries of older event logs). New premium
    /// is credited to [`LedgerAccount::UnearnedPremium`]; the written figure is
    /// reported from the charges (`GET /v1/accounting/premium`).
    WrittenPremium,
    /// Premium earned: what the earnings run moved out of unearned premium.
    EarnedPremium,
    /// Surcharges, kept apart from premium so finance can map them on its own.
    SurchargeIncome,
    /// Fees (`fee`, `flatFee`, `invoiceFee`, reversal fees).
    FeeIncome,
    /// Deductibles billed to the insured (`deductible`): the insured's share of a
    /// claim the insurer paid in full, recovered from them. Kept apart from premium
    /// and fees; finance nets it against claims paid (a recovery of losses).
    DeductibleRecoveries,
    /// Commission earned by producers on written premium.
    CommissionExpense,
    /// Premium ceded to reinsurers.
    CededPremium,
    /// Billed amounts written off as uncollectable (or small balances).
    WriteOffExpense,
    /// What agencies owe for agency-billed items (DOMAIN section 10, [E11]): the
    /// gross of each agency-billed transaction, per producer (the subledger), settled
    /// by the agency's remittance of the net together with its commission payable.
    /// Kept last so older codes keep their order.
    AgencyReceivable,
}

impl LedgerAccount {
    /// Every account, in chart order.
    pub const ALL: [LedgerAccount; 17] = [
        LedgerAccount::Cash,
        LedgerAccount::PremiumReceivableUnbilled,
        LedgerAccount::PremiumReceivableBilled,
        LedgerAccount::CustomerCredit,
        LedgerAccount::TaxesPayable,
        LedgerAccount::CommissionPayable,
        LedgerAccount::CededPremiumPayable,
        LedgerAccount::UnearnedPremium,
        LedgerAccount::WrittenPremium,
        LedgerAccount::EarnedPremium,
        LedgerAccount::SurchargeIncome,
        LedgerAccount::FeeIncome,
        LedgerAccount::DeductibleRecoveries,
        LedgerAccount::CommissionExpense,
        LedgerAccount::CededPremium,
        LedgerAccount::WriteOffExpense,
        LedgerAccount::AgencyReceivable,
    ];

    /// The stable snake_case code, the same as its serde form: `"customer_credit"`.
    pub fn code(self) -> &'static str {
        match self {
            LedgerAccount::Cash => "cash",
            LedgerAccount::PremiumReceivableUnbilled => "premium_receivable_unbilled",
            LedgerAccount::PremiumReceivableBilled => "premium_receivable_billed",
            LedgerAccount::CustomerCredit => "customer_credit",
            LedgerAccount::TaxesPayable => "taxes_payable",
            LedgerAccount::CommissionPayable => "commission_payable",
            LedgerAccount::CededPremiumPayable => "ceded_premium_payable",
            LedgerAccount::UnearnedPremium => "unearned_premium",
            LedgerAccount::WrittenPremium => "written_premium",
            LedgerAccount::EarnedPremium => "earned_premium",
            LedgerAccount::SurchargeIncome => "surcharge_income",
            LedgerAccount::FeeIncome => "fee_income",
            LedgerAccount::DeductibleRecoveries => "deductible_recoveries",
            LedgerAccount::CommissionExpense => "commission_expense",
            LedgerAccount::CededPremium => "ceded_premium",
            LedgerAccount::WriteOffExpense => "write_off_expense",
            LedgerAccount::AgencyReceivable => "agency_receivable",
        }
    }

    /// The account with this code, if any.
    pub fn from_code(code: &str) -> Option<LedgerAccount> {
        LedgerAccount::ALL
            .into_iter()
            .find(|account| account.code() == code)
    }

    /// Asset, liability, revenue or expense.
    pub fn class(self) -> AccountClass {
        match self {
            LedgerAccount::Cash
            | LedgerAccount::PremiumReceivableUnbilled
            | LedgerAccount::PremiumReceivableBilled
            | LedgerAccount::AgencyReceivable => AccountClass::Asset,
            LedgerAccount::CustomerCredit
            | LedgerAccount::TaxesPayable
            | LedgerAccount::CommissionPayable
            | LedgerAccount::CededPremiumPayable
            | LedgerAccount::UnearnedPremium => AccountClass::Liability,
            LedgerAccount::WrittenPremium
            | LedgerAccount::EarnedPremium
            | LedgerAccount::SurchargeIncome
            | LedgerAccount::FeeIncome
            | LedgerAccount::DeductibleRecoveries => AccountClass::Revenue,
            LedgerAccount::CommissionExpense
            | LedgerAccount::CededPremium
            | LedgerAccount::WriteOffExpense => AccountClass::Expense,
        }
    }

    /// The side on which the account normally carries its balance.
    pub fn normal_side(self) -> Side {
        self.class().normal_side()
    }

    /// Whether every line on this account must name a subledger (the billing
    /// account): the receivables and customer credit. Other accounts may name one
    /// (a producer for commission payable, a bank account for cash) but need not.
    pub fn requires_subledger(self) -> bool {
        matches!(
            self,
            LedgerAccount::PremiumReceivableUnbilled
                | LedgerAccount::PremiumReceivableBilled
                | LedgerAccount::CustomerCredit
        )
    }
}

impl fmt::Display for LedgerAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The key a balance is kept under: an account in one currency, optionally narrowed
/// to a subledger (for receivables and customer credit, the billing account locator).
///
/// Ordered by account, then currency, then subledger (`None` first), so every
/// subledger of an account in a currency is one contiguous range.
///
/// Serialised as `{"account": "customer_credit", "currency": "USD", "subledger": "BA-1"}`.
#[derive(
    utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct AccountKey {
    pub account: LedgerAccount,
    pub currency: Currency,
    pub subledger: Option<String>,
}

impl AccountKey {
    /// The account in `currency` with no subledger.
    pub fn new(account: LedgerAccount, currency: Currency) -> AccountKey {
        AccountKey {
            account,
            currency,
            subledger: None,
        }
    }

    /// The account in `currency` for one subledger, e.g. billing account `"BA-1"`.
    pub fn with_subledger(
        account: LedgerAccount,
        currency: Currency,
        subledger: impl Into<String>,
    ) -> AccountKey {
        AccountKey {
            account,
            currency,
            subledger: Some(subledger.into()),
        }
    }
}

impl fmt::Display for AccountKey {
    /// `premium_receivable_billed/USD/BA-1`, or `cash/USD` without a subledger.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account, self.currency)?;
        if let Some(subledger) = &self.subledger {
            write!(f, "/{subledger}")?;
        }
        Ok(())
    }
}

/// Whether `subledger` is a valid subledger name: 1 to [`SUBLEDGER_BYTES_MAX`] bytes,
/// no control characters, no leading or trailing white space.
pub fn is_valid_subledger(subledger: &str) -> bool {
    is_valid_name(subledger, SUBLEDGER_BYTES_MAX)
}

/// 1 to `len_max` bytes, no control characters, no leading or trailing white space.
pub(crate) fn is_valid_name(name: &str, len_max: usize) -> bool {
    !name.is_empty()
        && name.len() <= len_max
        && !name.chars().any(char::is_control)
        && name.trim() == name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_account_code_is_its_serde_form_and_parses_back() {
        for account in LedgerAccount::ALL {
            let json = serde_json::to_string(&account).unwrap();
            assert_eq!(json, format!("\"{}\"", account.code()));
            assert_eq!(LedgerAccount::from_code(account.code()), Some(account));
            let back: LedgerAccount = serde_json::from_str(&json).unwrap();
            assert_eq!(back, account);
        }
        assert_eq!(LedgerAccount::from_code("Cash"), None);
    }

    #[test]
    fn the_chart_lists_every_account_once_in_declaration_order() {
        for pair in LedgerAccount::ALL.windows(2) {
            assert!(pair[0] < pair[1], "{} before {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn assets_and_expenses_are_debit_normal_the_rest_credit_normal() {
        use LedgerAccount::*;
        let debit = [
            Cash,
            PremiumReceivableUnbilled,
            PremiumReceivableBilled,
            CommissionExpense,
            CededPremium,
            WriteOffExpense,
            AgencyReceivable,
        ];
        for account in LedgerAccount::ALL {
            let expected = if debit.contains(&account) {
                Side::Debit
            } else {
                Side::Credit
            };
            assert_eq!(account.normal_side(), expected, "{account}");
        }
    }

    #[test]
    fn only_receivables_and_customer_credit_require_a_subledger() {
        let required: Vec<_> = LedgerAccount::ALL
            .into_iter()
            .filter(|account| account.requires_subledger())
            .collect();
        assert_eq!(
            required,
            [
                LedgerAccount::PremiumReceivableUnbilled,
                LedgerAccount::PremiumReceivableBilled,
                LedgerAccount::CustomerCredit
            ]
        );
    }

    #[test]
    fn an_account_key_serialises_with_codes_and_displays_as_a_path() {
        let key = AccountKey::with_subledger(LedgerAccount::CustomerCredit, Currency::USD, "BA-1");
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(
            json,
            r#"{"account":"customer_credit","currency":"USD","subledger":"BA-1"}"#
        );
        assert_eq!(serde_json::from_str::<AccountKey>(&json).unwrap(), key);
        assert_eq!(key.to_string(), "customer_credit/USD/BA-1");
        assert_eq!(
            AccountKey::new(LedgerAccount::Cash, Currency::JPY).to_string(),
            "cash/JPY"
        );
    }

    #[test]
    fn subledger_names_are_short_printable_and_trimmed() {
        assert!(is_valid_subledger("BA-1"));
        assert!(is_valid_subledger(&"x".repeat(SUBLEDGER_BYTES_MAX)));
        for bad in [
            "",
            " BA-1",
            "BA-1 ",
            "BA\n1",
            &"x".repeat(SUBLEDGER_BYTES_MAX + 1),
        ] {
            assert!(!is_valid_subledger(bad), "{bad:?}");
        }
    }
}

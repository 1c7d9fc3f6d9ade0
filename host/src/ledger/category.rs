//! Charge categories (seed 001) and the pair of ledger accounts each one posts to.
//!
//! A charge of a positive amount debits the first account of its pair and credits the
//! second; a negative charge (a credit, a refund, the undoing of an earlier charge)
//! does the opposite. Categories billed to the customer debit the unbilled premium
//! receivable; commission and ceded premium are between the insurer and third
//! parties and never touch the customer's receivable.

use crate::ledger::account::LedgerAccount;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The most charges one transaction's entry may gather.
pub const CHARGES_PER_ENTRY_MAX: usize = 1_000;

/// The category of a charge, as in seed 001. Serialised in camelCase:
/// `"flatPremium"`, `"invoiceFee"`, `"nonFinancial"`.
///
/// | category                                 | positive amount posts                         |
/// |------------------------------------------|-----------------------------------------------|
/// | `premium`, `flatPremium`, `credit`       | Dr unbilled receivable, Cr unearned premium   |
/// | `surcharge`                              | Dr unbilled receivable, Cr surcharge income   |
/// | `fee`, `flatFee`, `invoiceFee`           | Dr unbilled receivable, Cr fee income         |
/// | `tax`, `flatTax`                         | Dr unbilled receivable, Cr taxes payable      |
/// | `deductible`                             | Dr unbilled receivable, Cr deductible recov.  |
/// | `commission`, `flatCommission`           | Dr commission expense, Cr commission payable  |
/// | `cededPremium`, `flatCededPremium`       | Dr ceded premium, Cr ceded premium payable    |
/// | `none`, `nonFinancial`                   | nothing                                       |
///
/// A `credit` charge is negative premium: it carries its own sign like every other
/// charge (a discount of 50.00 is a `credit` charge of -50.00, which debits
/// unearned premium and credits the receivable; reversing it is a `credit` charge of
/// +50.00). Premium is credited to unearned premium, a liability, and becomes
/// revenue (earned premium) only through the earnings run
/// ([`crate::ledger::postings::premium_earned`]); entries of older logs credited
/// `written_premium` at once and stay as they are.
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
#[serde(rename_all = "camelCase")]
pub enum ChargeCategory {
    Premium,
    FlatPremium,
    Credit,
    Surcharge,
    Fee,
    FlatFee,
    InvoiceFee,
    Tax,
    FlatTax,
    /// The insured's share of a claim, billed to them (seed 003): always on
    /// deductible invoices of its own, never beside premium. A deductible of
    /// 500.00 debits the unbilled receivable and credits deductible recoveries.
    Deductible,
    Commission,
    FlatCommission,
    CededPremium,
    FlatCededPremium,
    /// No financial category: not posted.
    None,
    /// Informational only: not posted.
    NonFinancial,
}

impl ChargeCategory {
    /// Every category.
    pub const ALL: [ChargeCategory; 16] = [
        ChargeCategory::Premium,
        ChargeCategory::FlatPremium,
        ChargeCategory::Credit,
        ChargeCategory::Surcharge,
        ChargeCategory::Fee,
        ChargeCategory::FlatFee,
        ChargeCategory::InvoiceFee,
        ChargeCategory::Tax,
        ChargeCategory::FlatTax,
        ChargeCategory::Deductible,
        ChargeCategory::Commission,
        ChargeCategory::FlatCommission,
        ChargeCategory::CededPremium,
        ChargeCategory::FlatCededPremium,
        ChargeCategory::None,
        ChargeCategory::NonFinancial,
    ];

    /// The seed's camelCase name, the same as its serde form.
    pub fn code(self) -> &'static str {
        match self {
            ChargeCategory::Premium => "premium",
            ChargeCategory::FlatPremium => "flatPremium",
            ChargeCategory::Credit => "credit",
            ChargeCategory::Surcharge => "surcharge",
            ChargeCategory::Fee => "fee",
            ChargeCategory::FlatFee => "flatFee",
            ChargeCategory::InvoiceFee => "invoiceFee",
            ChargeCategory::Tax => "tax",
            ChargeCategory::FlatTax => "flatTax",
            ChargeCategory::Deductible => "deductible",
            ChargeCategory::Commission => "commission",
            ChargeCategory::FlatCommission => "flatCommission",
            ChargeCategory::CededPremium => "cededPremium",
            ChargeCategory::FlatCededPremium => "flatCededPremium",
            ChargeCategory::None => "none",
            ChargeCategory::NonFinancial => "nonFinancial",
        }
    }

    /// The category with this seed name, if any.
    pub fn from_code(code: &str) -> Option<ChargeCategory> {
        ChargeCategory::ALL
            .into_iter()
            .find(|category| category.code() == code)
    }

    /// The accounts a positive charge of this category debits and credits, in that
    /// order; `None` for categories that post nothing.
    pub fn accounts(self) -> Option<(LedgerAccount, LedgerAccount)> {
        use LedgerAccount as A;
        let receivable = A::PremiumReceivableUnbilled;
        match self {
            ChargeCategory::Premium | ChargeCategory::FlatPremium | ChargeCategory::Credit => {
                Some((receivable, A::UnearnedPremium))
            }
            ChargeCategory::Surcharge => Some((receivable, A::SurchargeIncome)),
            ChargeCategory::Fee | ChargeCategory::FlatFee | ChargeCategory::InvoiceFee => {
                Some((receivable, A::FeeIncome))
            }
            ChargeCategory::Tax | ChargeCategory::FlatTax => Some((receivable, A::TaxesPayable)),
            ChargeCategory::Deductible => Some((receivable, A::DeductibleRecoveries)),
            ChargeCategory::Commission | ChargeCategory::FlatCommission => {
                Some((A::CommissionExpense, A::CommissionPayable))
            }
            ChargeCategory::CededPremium | ChargeCategory::FlatCededPremium => {
                Some((A::CededPremium, A::CededPremiumPayable))
            }
            ChargeCategory::None | ChargeCategory::NonFinancial => Option::None,
        }
    }

    /// Whether charges of this category are billed on deductible invoices
    /// (seed 003), apart from premium.
    pub fn is_deductible(self) -> bool {
        self == ChargeCategory::Deductible
    }

    /// Whether the customer pays this charge (it goes through the receivable and
    /// onto invoices).
    pub fn is_billed(self) -> bool {
        matches!(
            self.accounts(),
            Some((LedgerAccount::PremiumReceivableUnbilled, _))
        )
    }
}

impl fmt::Display for ChargeCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_of_seed_001_and_the_deductible_parses_from_its_seed_name() {
        let seed = "cededPremium | commission | credit | fee | flatCededPremium | \
                    flatCommission | flatFee | flatPremium | flatTax | invoiceFee | none | \
                    nonFinancial | premium | surcharge | tax | deductible";
        let names: Vec<&str> = seed.split(" | ").collect();
        assert_eq!(names.len(), ChargeCategory::ALL.len());
        for name in names {
            let category = ChargeCategory::from_code(name).unwrap();
            assert_eq!(category.code(), name);
            let json = serde_json::to_string(&category).unwrap();
            assert_eq!(json, format!("\"{name}\""));
        }
    }

    #[test]
    fn billed_categories_debit_the_unbilled_receivable() {
        use ChargeCategory as C;
        let billed: Vec<_> = ChargeCategory::ALL
            .into_iter()
            .filter(|category| category.is_billed())
            .collect();
        assert_eq!(
            billed,
            [
                C::Premium,
                C::FlatPremium,
                C::Credit,
                C::Surcharge,
                C::Fee,
                C::FlatFee,
                C::InvoiceFee,
                C::Tax,
                C::FlatTax,
                C::Deductible
            ]
        );
    }

    #[test]
    fn each_pair_debits_a_debit_normal_account_and_credits_a_credit_normal_one() {
        use crate::ledger::account::Side;
        for category in ChargeCategory::ALL {
            if let Some((debit, credit)) = category.accounts() {
                assert_eq!(debit.normal_side(), Side::Debit, "{category}");
                assert_eq!(credit.normal_side(), Side::Credit, "{category}");
            }
        }
        assert_eq!(ChargeCategory::None.accounts(), Option::None);
        assert_eq!(ChargeCategory::NonFinancial.accounts(), Option::None);
    }
}

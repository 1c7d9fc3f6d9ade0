//! Credit reserved for a policy term or a transaction (seed 003's On
//! Account Balance rules): what a payment made for a term or a transaction
//! leaves over pays only that term's or transaction's invoices, never
//! another policy's, and it is not refunded as free credit.
//!
//! Which invoices a reservation may pay (seed 003): an invoice whose
//! charges come from several transactions takes no credit reserved for a
//! transaction; one whose charges come from several terms takes no credit
//! reserved for a term or a transaction. Fees riding on the invoice (no
//! transaction of their own) do not count; an account's own charges (no
//! policy) make the invoice ineligible.
//!
//! Worked example: 300.00 paid for term 1 of `P1` with nothing open is
//! 300.00 reserved; the next invoices are 100.00 for `P1` (paid by it, 200.00
//! left) and 100.00 for `P2` (not paid by it: it owes 100.00).

use super::invoice::{Invoice, ItemKind};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What reserved credit is for.
#[derive(
    utoipa::ToSchema, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case", tag = "for")]
pub enum CreditScope {
    /// A policy's term.
    Term { policy: String, term: u32 },
    /// One transaction of a policy (e.g. `P1-T2`, an endorsement).
    Transaction { policy: String, transaction: String },
}

impl CreditScope {
    pub fn policy(&self) -> &str {
        match self {
            CreditScope::Term { policy, .. } | CreditScope::Transaction { policy, .. } => policy,
        }
    }

    /// Whether credit reserved for this scope may pay `invoice`;
    /// `term_of(policy, transaction)` names the term of a transaction.
    ///
    /// Example: an invoice of `P1`'s term-1 installments (transactions T1 and
    /// T2) is covered by a reservation for term 1 of `P1`, not by one for
    /// `P1-T2` (two transactions), nor by one for `P2`.
    pub fn covers(&self, invoice: &Invoice, term_of: impl Fn(&str, &str) -> Option<u32>) -> bool {
        let mut billed_any = false;
        for item in &invoice.items {
            let Some(policy) = item.policy.as_deref() else {
                return false;
            };
            if item.kind == ItemKind::Fee && item.transaction.is_none() {
                continue;
            }
            if policy != self.policy() {
                return false;
            }
            let term = match (&item.slice, &item.transaction) {
                (Some(slice), _) => Some(slice.term),
                (None, Some(transaction)) => term_of(policy, transaction),
                (None, None) => None,
            };
            let fits = match self {
                CreditScope::Transaction { transaction, .. } => {
                    item.transaction.as_deref() == Some(transaction.as_str())
                }
                CreditScope::Term { term: wanted, .. } => term == Some(*wanted),
            };
            if !fits {
                return false;
            }
            billed_any = true;
        }
        billed_any
    }
}

/// Credit reserved for a scope.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopedCredit {
    pub scope: CreditScope,
    pub amount: Decimal,
}

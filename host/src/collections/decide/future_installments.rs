//! Seed 003's "Apply to Future Installments on Collection": what a payment
//! made for a policy term or a transaction leaves over pays that scope's
//! next premium installments at once. The installments it pays in full are
//! invoiced now, on one invoice that owes nothing ("a single invoice with
//! an outstanding balance of zero is created for each policy term"); with
//! "Apply remaining On Account Balance to Next Charges" the next
//! installment is invoiced too, on its own invoice, and the rest of the
//! credit pays part of it (partial allocation until the credit is used
//! up). Credit not reserved for a term or a transaction is never applied
//! to future installments: it waits for the next invoice.
//!
//! Worked example: 1200.00 a year in twelve monthly installments of 100.00,
//! the first invoiced and paid; 350.00 paid for term 1 of the policy pays
//! installments 2, 3 and 4 at once (one invoice of 300.00 owing nothing)
//! and leaves 50.00 reserved; with the remainder rule installment 5 is
//! invoiced too and owes 50.00 by its own due date.

use super::super::account::PendingSlice;
use super::super::credit_scope::CreditScope;
use super::super::error::CollectionsError;
use super::Decider;
use crate::ledger::ChargeCategory;
use chrono::NaiveDate;
use rust_decimal::Decimal;

impl Decider<'_> {
    /// Pays `scope`'s next installments with the credit reserved for it, as
    /// the settings say (nothing when "apply on invoice generation" or
    /// "apply to future installments" is off).
    pub(crate) fn apply_to_future_installments(
        &mut self,
        scope: &CreditScope,
        on: NaiveDate,
    ) -> Result<(), CollectionsError> {
        let options = self.settings.credit;
        if !options.apply_on_invoice_generation || !options.apply_to_future_installments {
            return Ok(());
        }
        let mut reserved = self.account.scoped(scope);
        let mut whole = Vec::new();
        let mut partial = None;
        for (pending, amount) in self.future_installments(scope) {
            if amount <= reserved {
                reserved -= amount;
                whole.push(pending);
                continue;
            }
            if options.apply_remainder_to_next_charges && reserved > Decimal::ZERO {
                partial = Some(pending);
            }
            break;
        }
        self.invoice_early(whole, on)?;
        if let Some(pending) = partial {
            self.invoice_early(vec![pending], on)?;
        }
        Ok(())
    }

    /// The pending premium installments `scope` may pay, in invoice-date
    /// order, with their amounts (only those billing a positive amount).
    fn future_installments(&self, scope: &CreditScope) -> Vec<(PendingSlice, Decimal)> {
        let Some(policy) = self.book.policies.get(scope.policy()) else {
            return Vec::new();
        };
        self.account
            .pending_slices
            .iter()
            .filter(|pending| pending.policy == scope.policy())
            .filter_map(|pending| {
                let slice = policy.slices.get(pending.index as usize)?;
                let charge = policy.charges.iter().find(|c| c.locator == slice.charge)?;
                let in_scope = match scope {
                    CreditScope::Term { term, .. } => slice.term == *term,
                    CreditScope::Transaction { transaction, .. } => {
                        &charge.transaction == transaction
                    }
                };
                (in_scope
                    && charge.category == ChargeCategory::Premium
                    && slice.amount.amount > Decimal::ZERO)
                    .then(|| (pending.clone(), slice.amount.amount))
            })
            .collect()
    }
}

//! Deciding a command of the policy book: which transaction or event each
//! command makes, after its checks (the book's `decide` and `decide_dated`).

use super::*;

impl PolicyBook {
    /// Checks a command against the state and computes its events, every
    /// installment on its plan's dates (see [`PolicyBook::decide_dated`]).
    pub fn decide(
        &self,
        command: &PolicyCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        self.decide_dated(command, context, raters, &KeepDates)
    }

    /// Checks a command against the state and computes its events; the
    /// installments of a product with an invoicing plugin are dated by it
    /// through `dater` (its `schedule-dates`), here and never when applying.
    pub fn decide_dated(
        &self,
        command: &PolicyCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        dater: &dyn InstallmentDater,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let with = Deciding {
            context,
            raters,
            dater,
        };
        match command {
            PolicyCommand::DeployProduct { product } => {
                product.validate()?;
                if let Some(name) = raters.missing_rater(&product.rating) {
                    return Err(PolicyError::UnknownRater(name));
                }
                Ok(vec![BookEvent::ProductDeployed {
                    product: product.clone(),
                }])
            }
            PolicyCommand::CreateAccount {
                locator,
                name,
                currency,
            } => {
                check_locator(locator)?;
                if self.accounts.contains_key(locator) {
                    return Err(PolicyError::DuplicateAccount(locator.clone()));
                }
                Ok(vec![BookEvent::AccountCreated {
                    account: Account {
                        locator: locator.clone(),
                        name: name.clone(),
                        currency: *currency,
                    },
                }])
            }
            PolicyCommand::IssuePolicy {
                locator,
                account,
                product,
                start,
                plan,
                time_zone,
                data,
                bind,
            } => self.issue_policy(
                locator,
                account,
                product,
                *start,
                plan.as_deref(),
                time_zone,
                data,
                bind,
                with,
            ),
            PolicyCommand::Endorse {
                policy,
                effective,
                changes,
            } => self.endorse(policy, effective, changes, with),
            PolicyCommand::Renew {
                policy,
                plan,
                changes,
            } => self.renew(policy, plan, changes, with),
            PolicyCommand::NonRenew { policy, reason } => self.non_renew(policy, reason, context),
            PolicyCommand::Cancel {
                policy,
                effective,
                reason,
            } => self.cancel(policy, effective, reason, with),
            PolicyCommand::Reinstate { policy, effective } => {
                self.reinstate(policy, effective, with)
            }
            PolicyCommand::Reverse {
                policy,
                transaction,
            } => self.reverse(policy, transaction, with),
            PolicyCommand::AddFlatCharge {
                account,
                policy,
                charge,
                amount,
                invoicing,
                description,
            } => self.add_flat_charge(
                account,
                policy.as_deref(),
                charge,
                *amount,
                *invoicing,
                description,
                context,
            ),
            PolicyCommand::ReverseCharges { account, charges } => {
                self.reverse_charges(account, charges, context)
            }
            PolicyCommand::CorrectRates {
                policy,
                term,
                version,
                reason,
            } => self.correct_rates(policy, *term, version, reason, with),
            PolicyCommand::CorrectProductRates {
                product,
                version,
                reason,
            } => self.correct_product_rates(product, version, reason, with),
        }
    }
}

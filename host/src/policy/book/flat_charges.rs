//! Flat charges added by command and their reverse charges (seed 001).

use super::*;

impl PolicyBook {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add_flat_charge(
        &self,
        account: &str,
        policy: Option<&str>,
        charge: &str,
        amount: Decimal,
        invoicing: Option<Invoicing>,
        description: &str,
        context: &CommandContext,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let account_state = self
            .accounts
            .get(account)
            .ok_or_else(|| PolicyError::UnknownAccount(account.to_string()))?;
        let (product, policy_state) = match policy {
            Some(locator) => {
                let state = self.policy(locator)?;
                if state.header.account != account {
                    return Err(PolicyError::PolicyNotOnAccount {
                        policy: locator.to_string(),
                        account: account.to_string(),
                    });
                }
                (state.header.product.clone(), Some(state))
            }
            None => {
                let product = self
                    .products
                    .values()
                    .find(|p| {
                        p.charges
                            .get(charge)
                            .is_some_and(|d| d.handling == Handling::Flat)
                    })
                    .ok_or_else(|| PolicyError::UndefinedCharge(charge.to_string()))?;
                (super::super::shared::product(product), None)
            }
        };
        let def = product
            .charge(charge)
            .filter(|d| d.handling == Handling::Flat)
            .ok_or_else(|| PolicyError::UndefinedCharge(charge.to_string()))?;
        let money = Money::new(amount, account_state.currency);
        if !money.is_in_minor_units() || amount.is_zero() {
            return Err(PolicyError::BadAmount {
                amount,
                currency: account_state.currency,
            });
        }
        // Seed 001: flat charges added by command are `next` or `immediate`;
        // a `scheduled` one becomes `next`.
        let invoicing = match invoicing.unwrap_or(def.invoicing) {
            Invoicing::Scheduled => Invoicing::Next,
            other => other,
        };
        let count = policy_state.map_or(self.account_charges.len(), |p| p.charges.len());
        let owner = policy.unwrap_or(account);
        let locator = format!("{owner}-F{}", count + 1);
        Ok(vec![BookEvent::FlatChargeAdded {
            charge: Charge {
                locator: locator.clone(),
                policy: policy.map(str::to_string),
                account: account.to_string(),
                transaction: format!(
                    "command:{}",
                    context.idempotency_key.clone().unwrap_or(locator)
                ),
                term: None,
                item: None,
                charge: charge.to_string(),
                category: def.category,
                handling: Handling::Flat,
                invoicing,
                recipient: None,
                amount: money,
                technical_premium: None,
                period: None,
                reverses: None,
                description: if description.is_empty() {
                    charge.to_string()
                } else {
                    description.to_string()
                },
                explanation: ChargeExplanation {
                    arithmetic: vec![format!(
                        "added by {} at {}",
                        context.actor, context.issued_at
                    )],
                    ..ChargeExplanation::default()
                },
            },
        }])
    }

    pub(super) fn reverse_charges(
        &self,
        account: &str,
        locators: &[String],
        context: &CommandContext,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        if !self.accounts.contains_key(account) {
            return Err(PolicyError::UnknownAccount(account.to_string()));
        }
        if locators.is_empty() || locators.len() > 1_000 {
            return Err(PolicyError::BadChargeList(1_000));
        }
        let mut events = Vec::with_capacity(locators.len());
        let mut seen = std::collections::BTreeSet::new();
        for locator in locators {
            if !seen.insert(locator) {
                return Err(PolicyError::ChargeNamedTwice(locator.to_string()));
            }
            let (pool, owner_count, owner): (&[Charge], usize, String) =
                match self.policies.values().find(|p| {
                    p.header.account == account && p.charges.iter().any(|c| &c.locator == locator)
                }) {
                    Some(policy) => (
                        &policy.charges,
                        policy.charges.len(),
                        policy.header.locator.clone(),
                    ),
                    None => (
                        &self.account_charges,
                        self.account_charges.len(),
                        account.to_string(),
                    ),
                };
            let charge = pool
                .iter()
                .find(|c| &c.locator == locator && c.account == account)
                .ok_or_else(|| PolicyError::UnknownCharge {
                    charge: locator.to_string(),
                    account: account.to_string(),
                })?;
            if charge.handling != Handling::Flat {
                return Err(PolicyError::NotAFlatCharge(locator.to_string()));
            }
            if charge.reverses.is_some() {
                return Err(PolicyError::ReverseOfReverseCharge(locator.to_string()));
            }
            if !is_standing(pool, locator) {
                return Err(PolicyError::ChargeAlreadyReversed(locator.to_string()));
            }
            let new_locator = format!("{owner}-F{}", owner_count + 1 + events.len());
            let transaction = format!(
                "command:{}",
                context
                    .idempotency_key
                    .clone()
                    .unwrap_or(new_locator.clone())
            );
            let mut inverse = charge.inverse(new_locator, &transaction, "reverse charge");
            // Reverse charges are invoiced like flat charges added by command.
            if inverse.invoicing == Invoicing::Scheduled {
                inverse.invoicing = Invoicing::Next;
            }
            events.push(BookEvent::FlatChargeAdded { charge: inverse });
        }
        Ok(events)
    }
}

//! New business: opening a policy and its first term (the account created
//! with it when the bind carries its details, seed 002).

use super::*;

impl PolicyBook {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn issue_policy(
        &self,
        locator: &str,
        account: &str,
        product: &str,
        start: NaiveDate,
        plan: Option<&str>,
        time_zone: &str,
        data: &PolicyData,
        bind: &BindOptions,
        with: Deciding<'_>,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let Deciding {
            context, raters, ..
        } = with;
        check_locator(locator)?;
        if self.policies.contains_key(locator) {
            return Err(PolicyError::DuplicatePolicy(locator.to_string()));
        }
        let product = self
            .products
            .get(product)
            .ok_or_else(|| PolicyError::UnknownProduct(product.to_string()))?;
        // The account: known, or created from the bind's details (seed
        // 002: "if the account is unknown, create account").
        let (account_currency, created) = match (self.accounts.get(account), &bind.new_account) {
            (Some(known), details) => {
                if let Some(wanted) = details.as_ref().and_then(|d| d.currency)
                    && wanted != known.currency
                {
                    return Err(PolicyError::CurrencyMismatch {
                        what: format!("account {account}"),
                        currency: known.currency,
                        product: product.name.clone(),
                        product_currency: wanted,
                    });
                }
                (known.currency, None)
            }
            (None, Some(details)) => {
                check_locator(account)?;
                let name = details.name.trim();
                if name.is_empty() || name.chars().count() > ACCOUNT_NAME_CHARS_MAX {
                    return Err(PolicyError::BadAccountName(ACCOUNT_NAME_CHARS_MAX));
                }
                let currency = details.currency.unwrap_or(product.currency);
                let created = Account {
                    locator: account.to_string(),
                    name: name.to_string(),
                    currency,
                };
                (currency, Some(created))
            }
            (None, None) => return Err(PolicyError::UnknownAccount(account.to_string())),
        };
        if account_currency != product.currency {
            return Err(PolicyError::CurrencyMismatch {
                what: format!("account {account}"),
                currency: account_currency,
                product: product.name.clone(),
                product_currency: product.currency,
            });
        }
        parse_time_zone(time_zone).map_err(|e| PolicyError::BadTimeZone(e.to_string()))?;
        data.validate()?;
        let plan = plan.unwrap_or(&product.default_plan).to_string();
        if !product.plans.contains_key(&plan) {
            return Err(PolicyError::UnknownPlan {
                product: product.name.clone(),
                plan,
            });
        }
        if bind.billing_method == BillingMethod::Agency && bind.producer.is_none() {
            return Err(PolicyError::AgencyWithoutProducer);
        }
        if !product.billing_methods.is_empty()
            && !product.billing_methods.contains(&bind.billing_method)
        {
            return Err(PolicyError::BillingMethodNotAllowed {
                product: product.name.clone(),
                method: bind.billing_method,
            });
        }
        let header = PolicyHeader {
            locator: locator.to_string(),
            account: account.to_string(),
            product: super::super::shared::product(product),
            time_zone: time_zone.to_string(),
            product_revision: self.product_revisions.get(&product.name).copied(),
            confirmation_notification: bind.confirmation_notification,
            billing_method: bind.billing_method,
            producer: bind.producer.clone(),
        };
        let period = term_period(start, product.term_months)?;
        let (rate_version, rating_date) = rate_version_of(
            product,
            period,
            RatedFor::NewBusiness,
            time_zone,
            context,
            raters,
        )?;
        let term = Term {
            number: 1,
            period,
            plan: plan.clone(),
            rate_version,
            rating_date: Some(rating_date),
            bound_on: Some(today_of(context, time_zone)?),
        };
        let empty = PolicyState {
            header: header.clone(),
            terms: Vec::new(),
            transactions: Vec::new(),
            priced: crate::domain::CompactMap::new(),
            charges: Vec::new(),
            slices: Vec::new(),
            netted: Default::default(),
            non_renewal: None,
        };
        let change = TransactionChange::NewBusiness {
            term: term.period,
            plan,
            data: data.clone(),
        };
        let transaction = new_transaction(
            &empty,
            TransactionKind::NewBusiness,
            start,
            1,
            change,
            context,
        );
        let mut event = self.transact(&empty, transaction, Some(term), with)?;
        if let BookEvent::TransactionIssued { record } = &mut event {
            record.opened = Some(header);
        }
        Ok(created
            .map(|account| BookEvent::AccountCreated { account })
            .into_iter()
            .chain([event])
            .collect())
    }
}

//! Rate corrections (DOMAIN section 9): re-rating a term with a named
//! version of its product's plugin, the differences booked as charges.

use super::*;

impl PolicyBook {
    /// Re-rates term `term` of `policy` with `version` of its product's
    /// plugin. Worked example ([E9]): a term rated by `rater@1` (vehicle
    /// 1200.00, trailer 600.00 a year, the trailer from mid-term) corrected
    /// to `rater@2` (1800.00 and 900.00) books +600.00 for the vehicle and
    /// +150.00 for the trailer (300.00 x 6/12).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn correct_rates(
        &self,
        policy: &str,
        term: u32,
        version: &str,
        reason: &str,
        with: Deciding<'_>,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let Deciding { raters, .. } = with;
        let state = self.policy(policy)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > CORRECTION_REASON_CHARS_MAX {
            return Err(PolicyError::BadCorrectionReason(
                CORRECTION_REASON_CHARS_MAX,
            ));
        }
        let found = state
            .terms
            .iter()
            .find(|t| t.number == term)
            .ok_or_else(|| PolicyError::UnknownTerm {
                policy: policy.to_string(),
                term,
            })?;
        let product = &state.header.product;
        let chain = crate::rating::chain::pinned(&product.rating, Some(version));
        let plugin = match &chain {
            RatingChain::Plugin { plugin } | RatingChain::PluginWithFallback { plugin, .. }
                if chain != product.rating =>
            {
                plugin.clone()
            }
            _ => return Err(PolicyError::RateCorrectionUnsupported(product.name.clone())),
        };
        if found.rate_version.as_deref() == Some(version) {
            return Err(PolicyError::RateVersionUnchanged {
                term,
                version: version.to_string(),
            });
        }
        let plugin_only = RatingChain::Plugin {
            plugin: plugin.clone(),
        };
        raters
            .resolve(&plugin_only)
            .map_err(|error| PolicyError::UnknownRateVersion {
                plugin: plugin.split('@').next().unwrap_or_default().to_string(),
                version: version.to_string(),
                detail: error.to_string(),
            })?;
        let change = TransactionChange::RateCorrection {
            version: version.to_string(),
            previous_version: found.rate_version.clone(),
            reason: reason.to_string(),
        };
        self.book(
            state,
            NewTransaction {
                kind: TransactionKind::RateCorrection,
                effective: found.period.start(),
                term,
                change,
                opens: None,
            },
            with,
        )
    }

    pub(super) fn correct_product_rates(
        &self,
        product: &str,
        version: &str,
        reason: &str,
        with: Deciding<'_>,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let Deciding {
            context, raters, ..
        } = with;
        let deployed = self
            .products
            .get(product)
            .ok_or_else(|| PolicyError::UnknownProduct(product.to_string()))?;
        // Refused alike with or without policies to correct.
        let plugin = match crate::rating::chain::pinned(&deployed.rating, Some(version)) {
            RatingChain::Plugin { plugin } | RatingChain::PluginWithFallback { plugin, .. }
                if plugin.contains('@') && !plugin_of(&deployed.rating).contains('@') =>
            {
                plugin
            }
            _ => return Err(PolicyError::RateCorrectionUnsupported(product.to_string())),
        };
        raters
            .resolve(&RatingChain::Plugin {
                plugin: plugin.clone(),
            })
            .map_err(|error| PolicyError::UnknownRateVersion {
                plugin: plugin.split('@').next().unwrap_or_default().to_string(),
                version: version.to_string(),
                detail: error.to_string(),
            })?;
        let mut events = Vec::new();
        for state in self.policies.values() {
            if state.header.product.name != product {
                continue;
            }
            let zone = parse_time_zone(&state.header.time_zone)
                .map_err(|e| PolicyError::BadTimeZone(e.to_string()))?;
            let today = context
                .today
                .unwrap_or_else(|| local_date(context.issued_at, zone));
            let Some(term) = state.term_of(today) else {
                continue;
            };
            if is_cancelled_at(&state.transactions, term.number, today)
                || term.rate_version.as_deref() == Some(version)
            {
                continue;
            }
            events.extend(self.correct_rates(
                state.locator(),
                term.number,
                version,
                reason,
                with,
            )?);
        }
        Ok(events)
    }
}

//! The rater directory of this host: resolves a product's rating chain to a
//! plugin, an external rater or a native rater, from what the tenants'
//! configuration events registered here (see [`super::host`]).
//!
//! Plugins and external raters are registered per tenant under
//! `<tenant>/<name>`: the API qualifies every name a tenant sends with its own
//! tenant, so one tenant can never price with another's plugin or rater.

use super::secrets::SecretBox;
use crate::plugin::{ActiveVersions, PluginRater, PluginRuntime};
use crate::rating::chain;
use crate::rating::{Rater, RaterFailure, RaterResolver, RaterSources, RatingChain, RatingError};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Resolves rating chains to raters.
pub struct RaterDirectory {
    pub plugins: Arc<PluginRuntime>,
    pub external: RwLock<HashMap<String, Arc<dyn Rater>>>,
    /// The active version of each plugin name (for products that name a
    /// plugin without a version).
    pub active: Arc<ActiveVersions>,
    /// The key external raters' header values are encrypted with.
    pub secrets: SecretBox,
}

impl RaterDirectory {
    pub fn new(plugins: Arc<PluginRuntime>) -> Self {
        Self::with_secrets(
            plugins,
            SecretBox::load(None).expect("the process-wide key needs no file"),
        )
    }

    /// A directory whose raters' secrets are kept with `secrets`.
    pub fn with_secrets(plugins: Arc<PluginRuntime>, secrets: SecretBox) -> Self {
        RaterDirectory {
            plugins,
            external: RwLock::new(HashMap::new()),
            active: Arc::default(),
            secrets,
        }
    }

    fn plugin(&self, id: &str) -> Result<Arc<dyn Rater>, RatingError> {
        let id = self.active.resolve(id);
        Ok(Arc::new(PluginRater::new(Arc::clone(&self.plugins), &id)?))
    }

    fn external(&self, name: &str) -> Result<Arc<dyn Rater>, RatingError> {
        self.external
            .read()
            .expect("external raters lock")
            .get(name)
            .cloned()
            .ok_or_else(|| {
                RatingError::failed(
                    name,
                    RaterFailure::Unavailable,
                    "no external rater of that name",
                )
            })
    }
}

impl RaterSources for RaterDirectory {
    fn plugin(&self, reference: &str) -> Result<Arc<dyn Rater>, RatingError> {
        RaterDirectory::plugin(self, reference)
    }

    fn plugin_in_process(&self, reference: &str) -> bool {
        let id = self.active.resolve(reference);
        // A quarantined plugin's calls run on a thread of their own, and its
        // caller waits for them.
        self.plugins.is_registered(&id) && self.plugins.quarantined_for(&id).is_none()
    }

    fn external(&self, name: &str) -> Result<Arc<dyn Rater>, RatingError> {
        RaterDirectory::external(self, name)
    }
}

/// Which rater prices, and when the fallback does, is decided in
/// [`crate::rating::chain`].
impl RaterResolver for RaterDirectory {
    fn resolve(&self, chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
        chain::resolve(chain, self)
    }

    fn prices_in_process(&self, chain: &RatingChain) -> bool {
        chain::prices_in_process(chain, self)
    }

    fn missing_rater(&self, chain: &RatingChain) -> Option<String> {
        let plugin_exists = |reference: &str| match reference.split_once('@') {
            Some(_) => self.plugins.is_registered(reference),
            // A bare name: some version is active or scheduled for it.
            None => self
                .active
                .version_for(
                    reference,
                    chrono::NaiveDate::MAX,
                    crate::rating::RatedFor::NewBusiness,
                )
                .is_some(),
        };
        let rater_exists = |name: &str| {
            self.external
                .read()
                .expect("external raters lock")
                .contains_key(name)
        };
        chain::missing(chain, &plugin_exists, &rater_exists)
    }

    fn version_for(
        &self,
        name: &str,
        day: chrono::NaiveDate,
        kind: crate::rating::RatedFor,
    ) -> Option<String> {
        self.active.version_for(name, day, kind)
    }
}

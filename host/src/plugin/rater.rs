//! A registered rating plugin seen through the [`Rater`] trait.

use super::runtime::PluginRuntime;
use crate::rating::{
    RateRequest, RateResponse, Rater, RaterIdentity, RatingError, validate_response,
};
use std::sync::Arc;

/// Rates through a plugin of a [`PluginRuntime`], one fresh sandbox a call.
pub struct PluginRater {
    runtime: Arc<PluginRuntime>,
    plugin_id: String,
    content_sha256: String,
    edition_sha256: Option<String>,
}

impl PluginRater {
    /// The rater for plugin `plugin_id`, which must be registered.
    pub fn new(runtime: Arc<PluginRuntime>, plugin_id: &str) -> Result<Self, RatingError> {
        let (plugin_id, content_sha256) = runtime.identity(plugin_id).ok_or_else(|| {
            RatingError::failed(
                plugin_id,
                crate::rating::RaterFailure::Unavailable,
                "plugin is not registered",
            )
        })?;
        let edition_sha256 = runtime.edition(&plugin_id);
        Ok(PluginRater {
            runtime,
            plugin_id,
            content_sha256,
            edition_sha256,
        })
    }
}

impl Rater for PluginRater {
    fn rate(&self, request: &RateRequest) -> Result<RateResponse, RatingError> {
        let (response, _report) = self.runtime.rate(&self.plugin_id, request)?;
        validate_response(&self.plugin_id, request, &response)?;
        Ok(response)
    }

    fn identity(&self) -> RaterIdentity {
        RaterIdentity::Plugin {
            plugin_id: self.plugin_id.clone(),
            content_sha256: self.content_sha256.clone(),
            edition_sha256: self.edition_sha256.clone(),
        }
    }
}

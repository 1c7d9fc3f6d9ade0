//! Which version of each plugin is active. Products name a plugin either by
//! exact id (`auto-rater@1.2.0`, pinned) or by name alone (`auto-rater`),
//! which prices with the version activated for that name. Activating another
//! version (or an older one, to roll back) switches every product that names
//! the plugin without redeploying them; pinned products are untouched.
//!
//! Example: versions `1.0.0` and `1.1.0` uploaded, `1.0.0` active:
//! `resolve("t/auto-rater")` is `"t/auto-rater@1.0.0"`; after
//! `activate("t/auto-rater", "1.1.0")` it is `"t/auto-rater@1.1.0"`.

use std::collections::HashMap;
use std::sync::RwLock;

/// The active version of each (tenant-qualified) plugin name.
#[derive(Debug, Default)]
pub struct ActiveVersions {
    versions: RwLock<HashMap<String, String>>,
}

impl ActiveVersions {
    /// Makes `version` the active version of `name`.
    pub fn activate(&self, name: &str, version: &str) {
        self.versions
            .write()
            .expect("active versions lock")
            .insert(name.to_string(), version.to_string());
    }

    /// The active version of `name`, if any.
    pub fn active(&self, name: &str) -> Option<String> {
        self.versions
            .read()
            .expect("active versions lock")
            .get(name)
            .cloned()
    }

    /// The plugin id a product's reference means: an exact id as it is, a
    /// bare name as `name@<active version>` (as it is when none is active,
    /// so the caller reports an unknown plugin).
    pub fn resolve(&self, reference: &str) -> String {
        if reference.contains('@') {
            return reference.to_string();
        }
        match self.active(reference) {
            Some(version) => format!("{reference}@{version}"),
            None => reference.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_name_resolves_to_the_active_version_and_an_exact_id_stays_pinned() {
        let active = ActiveVersions::default();
        assert_eq!(active.resolve("t/auto-rater"), "t/auto-rater");
        active.activate("t/auto-rater", "1.0.0");
        assert_eq!(active.resolve("t/auto-rater"), "t/auto-rater@1.0.0");
        active.activate("t/auto-rater", "1.1.0");
        assert_eq!(active.resolve("t/auto-rater"), "t/auto-rater@1.1.0");
        assert_eq!(active.resolve("t/auto-rater@1.0.0"), "t/auto-rater@1.0.0");
    }
}

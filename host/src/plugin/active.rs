//! Which version of each plugin is active. Products name a plugin either by
//! exact id (`auto-rater@1.2.0`, pinned) or by name alone (`auto-rater`),
//! which prices with the version activated for that name. Activating another
//! version (or an older one, to roll back) switches every product that names
//! the plugin without redeploying them; pinned products are untouched.
//!
//! Example: versions `1.0.0` and `1.1.0` uploaded, `1.0.0` active:
//! `resolve("t/auto-rater")` is `"t/auto-rater@1.0.0"`; after
//! `activate("t/auto-rater", "1.1.0")` it is `"t/auto-rater@1.1.0"`.

use crate::rating::schedule::{self, AppliesTo, Dated, RatedFor};
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::RwLock;

/// A name's activations: from which day, for which terms, which version.
type Timeline = Vec<(NaiveDate, AppliesTo, String)>;

/// The versions of each (tenant-qualified) plugin name and the days they
/// are active from, in the order they were recorded.
#[derive(Debug, Default)]
pub struct ActiveVersions {
    versions: RwLock<HashMap<String, Timeline>>,
    /// A test tenant's own today (its clock), by tenant: the day its
    /// versions are chosen for. Others use the wall clock (UTC).
    todays: RwLock<HashMap<String, NaiveDate>>,
}

impl ActiveVersions {
    /// Makes `version` the active version of `name`, from now on and for
    /// good (it replaces any timeline).
    pub fn activate(&self, name: &str, version: &str) {
        self.set_timeline(
            name,
            vec![(NaiveDate::MIN, AppliesTo::All, version.to_string())],
        );
    }

    /// Sets the days from which each version of `name` is active, and for
    /// which kinds of term (the rule: [`crate::rating::schedule`]).
    pub fn set_timeline(&self, name: &str, timeline: Timeline) {
        self.versions
            .write()
            .expect("active versions lock")
            .insert(name.to_string(), timeline);
    }

    /// The version of `name` rating a term of `kind` whose rating date is
    /// `day`, if any.
    pub fn version_for(&self, name: &str, day: NaiveDate, kind: RatedFor) -> Option<String> {
        let versions = self.versions.read().expect("active versions lock");
        let timeline = versions.get(name)?;
        schedule::version_on(
            timeline.iter().map(|(from, applies_to, version)| Dated {
                from: *from,
                applies_to: *applies_to,
                version,
            }),
            day,
            kind,
        )
        .map(str::to_string)
    }

    /// The version of `name` in effect for new business on `day`, if any.
    pub fn active_on(&self, name: &str, day: NaiveDate) -> Option<String> {
        self.version_for(name, day, RatedFor::NewBusiness)
    }

    /// Sets (or, with `None`, clears) the today of `tenant`'s names
    /// (`<tenant>/<name>`): a test tenant's clock.
    pub fn set_today(&self, tenant: &str, today: Option<NaiveDate>) {
        let mut todays = self.todays.write().expect("active versions lock");
        match today {
            Some(today) => todays.insert(tenant.to_string(), today),
            None => todays.remove(tenant),
        };
    }

    /// The version of `name` active today (its tenant's clock, or UTC),
    /// if any.
    pub fn active(&self, name: &str) -> Option<String> {
        let tenant = name.split_once('/').map(|(tenant, _)| tenant);
        let today = tenant
            .and_then(|t| {
                self.todays
                    .read()
                    .expect("active versions lock")
                    .get(t)
                    .copied()
            })
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        self.active_on(name, today)
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

    #[test]
    fn a_scheduled_version_takes_over_on_its_day() {
        let active = ActiveVersions::default();
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        active.set_timeline(
            "t/rater",
            vec![
                (day("2026-01-10"), AppliesTo::All, "1".into()),
                (day("2026-06-01"), AppliesTo::All, "2".into()),
            ],
        );
        // Before the first activation, the first version in effect.
        assert_eq!(
            active.active_on("t/rater", day("2026-01-09")).as_deref(),
            Some("1")
        );
        assert_eq!(
            active.active_on("t/rater", day("2026-05-31")).as_deref(),
            Some("1")
        );
        assert_eq!(
            active.active_on("t/rater", day("2026-06-01")).as_deref(),
            Some("2")
        );
    }
}

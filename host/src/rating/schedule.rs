//! Rate versions by date, like rate filings (DOMAIN section 9): which
//! version of a plugin rates a term, from the versions' activations and the
//! term's rating date. One rule, used by the configuration's reads
//! ([`crate::config`]) and by the host's directory of raters
//! ([`crate::plugin::ActiveVersions`]).
//!
//! An activation makes a version the one in effect from a day on, for new
//! business, for renewals, or for both. On a day, for a kind of term, the
//! activation applying to that kind from the latest day not after it wins
//! (the later recorded on a tie). A term whose rating date is before every
//! activation for its kind is rated by the version in effect on the first
//! day any is (a policy back-dated before its product's first filing).
//!
//! Worked example ([E9]): `rater@1` active from 2026-01-01 for both,
//! `rater@2` scheduled from 2026-06-01 for both. A new business starting
//! 2026-01-01 is rated by version 1 for its whole term (its endorsements
//! too); one starting 2026-06-15 by version 2; the renewal of the first on
//! 2027-01-01 by version 2. With `rater@2` scheduled from 2026-06-01 for
//! new business and from 2026-07-01 for renewals, a renewal starting
//! 2026-06-15 is still rated by version 1.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What kind of term a version is chosen for.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RatedFor {
    /// A policy's first term.
    NewBusiness,
    /// A later term.
    Renewal,
}

/// Which kinds of term an activation applies to.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AppliesTo {
    /// New business and renewals.
    #[default]
    All,
    NewBusiness,
    Renewals,
}

impl AppliesTo {
    /// Whether an activation with this scope chooses versions for `kind`.
    pub fn covers(self, kind: RatedFor) -> bool {
        match self {
            AppliesTo::All => true,
            AppliesTo::NewBusiness => kind == RatedFor::NewBusiness,
            AppliesTo::Renewals => kind == RatedFor::Renewal,
        }
    }

    /// Whether two scopes choose versions for a common kind of term.
    pub fn overlaps(self, other: AppliesTo) -> bool {
        [RatedFor::NewBusiness, RatedFor::Renewal]
            .into_iter()
            .any(|kind| self.covers(kind) && other.covers(kind))
    }
}

/// One activation of a version: in effect from `from` for `applies_to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dated<'a> {
    pub from: NaiveDate,
    pub applies_to: AppliesTo,
    pub version: &'a str,
}

/// The version rating a term of `kind` whose rating date is `day`, of the
/// activations in the order they were recorded (see the module
/// documentation); `None` when no activation applies to `kind`.
pub fn version_on<'a>(
    activations: impl IntoIterator<Item = Dated<'a>>,
    day: NaiveDate,
    kind: RatedFor,
) -> Option<&'a str> {
    let applying: Vec<(usize, Dated<'a>)> = activations
        .into_iter()
        .enumerate()
        .filter(|(_, a)| a.applies_to.covers(kind))
        .collect();
    let first_day = applying.iter().map(|(_, a)| a.from).min()?;
    let day = day.max(first_day);
    applying
        .iter()
        .filter(|(_, a)| a.from <= day)
        .max_by_key(|(index, a)| (a.from, *index))
        .map(|(_, a)| a.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn dated(from: &str, applies_to: AppliesTo, version: &'static str) -> Dated<'static> {
        Dated {
            from: day(from),
            applies_to,
            version,
        }
    }

    #[test]
    fn e9_a_term_is_rated_by_the_version_in_effect_on_its_rating_date() {
        let activations = [
            dated("2026-01-01", AppliesTo::All, "1"),
            dated("2026-06-01", AppliesTo::All, "2"),
        ];
        let on = |d: &str, kind| version_on(activations, day(d), kind);
        assert_eq!(on("2026-01-01", RatedFor::NewBusiness), Some("1"));
        assert_eq!(on("2026-05-31", RatedFor::NewBusiness), Some("1"));
        assert_eq!(on("2026-06-15", RatedFor::NewBusiness), Some("2"));
        assert_eq!(on("2027-01-01", RatedFor::Renewal), Some("2"));
    }

    #[test]
    fn new_business_and_renewals_follow_their_own_dates() {
        let activations = [
            dated("2026-01-01", AppliesTo::All, "1"),
            dated("2026-06-01", AppliesTo::NewBusiness, "2"),
            dated("2026-07-01", AppliesTo::Renewals, "2"),
        ];
        let on = |d: &str, kind| version_on(activations, day(d), kind);
        assert_eq!(on("2026-06-15", RatedFor::NewBusiness), Some("2"));
        assert_eq!(on("2026-06-15", RatedFor::Renewal), Some("1"));
        assert_eq!(on("2026-07-01", RatedFor::Renewal), Some("2"));
    }

    #[test]
    fn a_term_before_every_activation_is_rated_by_the_first_version_in_effect() {
        // Both activated the same day: the later recorded is in effect.
        let activations = [
            dated("2026-03-01", AppliesTo::All, "1"),
            dated("2026-03-01", AppliesTo::All, "2"),
        ];
        assert_eq!(
            version_on(activations, day("2025-01-01"), RatedFor::NewBusiness),
            Some("2")
        );
        assert_eq!(
            version_on([], day("2025-01-01"), RatedFor::NewBusiness),
            None
        );
        let renewals_only = [dated("2026-03-01", AppliesTo::Renewals, "3")];
        assert_eq!(
            version_on(renewals_only, day("2026-04-01"), RatedFor::NewBusiness),
            None
        );
    }

    #[test]
    fn scopes_overlap_when_they_choose_for_a_common_kind() {
        assert!(AppliesTo::All.overlaps(AppliesTo::Renewals));
        assert!(AppliesTo::NewBusiness.overlaps(AppliesTo::NewBusiness));
        assert!(!AppliesTo::NewBusiness.overlaps(AppliesTo::Renewals));
    }
}

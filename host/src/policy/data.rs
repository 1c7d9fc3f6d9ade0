//! The policy's data: characteristics of the policy, its exposures and their
//! perils, and the changes endorsements make to it.
//!
//! Changes are patches applied in effective-date order, so an out-of-sequence
//! endorsement changing one field does not undo a later endorsement changing
//! another. A patch whose target is gone (its exposure was removed, or the
//! transaction that added it was reversed) is skipped.

use crate::domain::CompactMap;
use crate::rating::FieldValue;
use serde::{Deserialize, Serialize};

/// Field name to its values.
pub type Fields = CompactMap<String, Vec<FieldValue>>;

/// The most exposures a policy may have.
pub const EXPOSURES_MAX: usize = 1_000;
/// The most perils an exposure may have.
pub const PERILS_PER_EXPOSURE_MAX: usize = 64;

/// A peril (coverage) of an exposure.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerilData {
    pub name: String,
    #[serde(default)]
    pub fields: Fields,
}

/// An exposure (insured object) and its perils, by peril locator.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposureData {
    pub name: String,
    #[serde(default)]
    pub fields: Fields,
    /// A compact map, as fields and exposures: most exposures have one or
    /// two perils, and a `BTreeMap`'s first entry allocates eleven slots.
    #[serde(default)]
    #[schema(value_type = std::collections::BTreeMap<String, PerilData>)]
    pub perils: CompactMap<String, PerilData>,
}

/// The whole data of a policy at a point in time.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyData {
    #[serde(default)]
    pub fields: Fields,
    /// Exposures by locator, in a compact map: a `BTreeMap`'s first entry
    /// allocates a whole node of eleven slots, ten of them empty for a policy
    /// of one exposure.
    #[serde(default)]
    #[schema(value_type = std::collections::BTreeMap<String, ExposureData>)]
    pub exposures: CompactMap<String, ExposureData>,
}

/// One change an endorsement makes.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "op", deny_unknown_fields)]
pub enum DataChange {
    /// Sets (or replaces) policy fields.
    SetPolicyFields { fields: Fields },
    /// Adds an exposure with its perils.
    AddExposure {
        locator: String,
        exposure: ExposureData,
    },
    /// Removes an exposure and its perils.
    RemoveExposure { locator: String },
    /// Sets (or replaces) fields of an exposure.
    SetExposureFields { exposure: String, fields: Fields },
    /// Adds a peril to an exposure.
    AddPeril {
        exposure: String,
        locator: String,
        peril: PerilData,
    },
    /// Removes a peril.
    RemovePeril { exposure: String, locator: String },
    /// Sets (or replaces) fields of a peril.
    SetPerilFields {
        exposure: String,
        peril: String,
        fields: Fields,
    },
}

/// Why policy data or a change is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    #[error("more than {EXPOSURES_MAX} exposures")]
    TooManyExposures,
    #[error("exposure {0}: more than {PERILS_PER_EXPOSURE_MAX} perils")]
    TooManyPerils(String),
    #[error("{0}: a locator must be 1-64 characters of letters, digits, '-', '_' or '.'")]
    BadLocator(String),
    #[error("exposure {0} is not on the policy")]
    UnknownExposure(String),
    #[error("peril {0} is not on the policy")]
    UnknownPeril(String),
    #[error("exposure {0} is already on the policy")]
    DuplicateExposure(String),
    #[error("peril {0} is already on the policy")]
    DuplicatePeril(String),
}

fn check_locator(locator: &str) -> Result<(), DataError> {
    let valid = !locator.is_empty()
        && locator.len() <= 64
        && locator
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(DataError::BadLocator(locator.to_string()))
    }
}

impl PolicyData {
    /// Checks limits and locators.
    pub fn validate(&self) -> Result<(), DataError> {
        if self.exposures.len() > EXPOSURES_MAX {
            return Err(DataError::TooManyExposures);
        }
        let mut perils = std::collections::BTreeSet::new();
        for (locator, exposure) in &self.exposures {
            check_locator(locator)?;
            if exposure.perils.len() > PERILS_PER_EXPOSURE_MAX {
                return Err(DataError::TooManyPerils(locator.clone()));
            }
            for peril in exposure.perils.keys() {
                check_locator(peril)?;
                if !perils.insert(peril.clone()) {
                    return Err(DataError::DuplicatePeril(peril.clone()));
                }
            }
        }
        Ok(())
    }

    /// Checks that `change` applies to this data as it stands (used when an
    /// endorsement is issued; later replays skip what no longer applies).
    pub fn check(&self, change: &DataChange) -> Result<(), DataError> {
        let exposure = |locator: &str| {
            self.exposures
                .get(locator)
                .ok_or_else(|| DataError::UnknownExposure(locator.to_string()))
        };
        match change {
            DataChange::SetPolicyFields { .. } => Ok(()),
            DataChange::AddExposure {
                locator,
                exposure: data,
            } => {
                check_locator(locator)?;
                if self.exposures.contains_key(locator) {
                    return Err(DataError::DuplicateExposure(locator.clone()));
                }
                let mut probe = self.clone();
                probe.exposures.insert(locator.clone(), data.clone());
                probe.validate()
            }
            DataChange::RemoveExposure { locator }
            | DataChange::SetExposureFields {
                exposure: locator, ..
            } => exposure(locator).map(drop),
            DataChange::AddPeril {
                exposure: e,
                locator,
                ..
            } => {
                check_locator(locator)?;
                exposure(e)?;
                if self
                    .exposures
                    .values()
                    .any(|x| x.perils.contains_key(locator))
                {
                    return Err(DataError::DuplicatePeril(locator.clone()));
                }
                Ok(())
            }
            DataChange::RemovePeril {
                exposure: e,
                locator,
            }
            | DataChange::SetPerilFields {
                exposure: e,
                peril: locator,
                ..
            } => {
                if exposure(e)?.perils.contains_key(locator) {
                    Ok(())
                } else {
                    Err(DataError::UnknownPeril(locator.clone()))
                }
            }
        }
    }

    /// Applies a change; a change whose target is missing is skipped.
    pub fn apply(&mut self, change: &DataChange) {
        match change {
            DataChange::SetPolicyFields { fields } => {
                self.fields
                    .extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            DataChange::AddExposure { locator, exposure } => {
                self.exposures
                    .entry(locator.clone())
                    .or_insert_with(|| exposure.clone());
            }
            DataChange::RemoveExposure { locator } => {
                self.exposures.remove(locator);
            }
            DataChange::SetExposureFields { exposure, fields } => {
                if let Some(e) = self.exposures.get_mut(exposure) {
                    e.fields
                        .extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            DataChange::AddPeril {
                exposure,
                locator,
                peril,
            } => {
                if let Some(e) = self.exposures.get_mut(exposure) {
                    e.perils
                        .entry(locator.clone())
                        .or_insert_with(|| peril.clone());
                }
            }
            DataChange::RemovePeril { exposure, locator } => {
                if let Some(e) = self.exposures.get_mut(exposure) {
                    e.perils.remove(locator);
                }
            }
            DataChange::SetPerilFields {
                exposure,
                peril,
                fields,
            } => {
                if let Some(p) = self
                    .exposures
                    .get_mut(exposure)
                    .and_then(|e| e.perils.get_mut(peril))
                {
                    p.fields
                        .extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn data() -> PolicyData {
        let mut perils = BTreeMap::new();
        perils.insert(
            "V1-COLL".to_string(),
            PerilData {
                name: "collision".into(),
                fields: Fields::new(),
            },
        );
        let mut exposures = BTreeMap::new();
        exposures.insert(
            "V1".to_string(),
            ExposureData {
                name: "vehicle".into(),
                fields: Fields::new(),
                perils: perils.into(),
            },
        );
        PolicyData {
            fields: Fields::new(),
            exposures: exposures.into(),
        }
    }

    #[test]
    fn a_change_to_a_removed_exposure_is_skipped() {
        let mut d = data();
        d.apply(&DataChange::RemoveExposure {
            locator: "V1".into(),
        });
        let before = d.clone();
        d.apply(&DataChange::SetExposureFields {
            exposure: "V1".into(),
            fields: Fields::new(),
        });
        assert_eq!(d, before);
    }

    #[test]
    fn a_peril_locator_must_be_unique_on_the_policy() {
        let d = data();
        let change = DataChange::AddPeril {
            exposure: "V1".into(),
            locator: "V1-COLL".into(),
            peril: PerilData {
                name: "collision".into(),
                fields: Fields::new(),
            },
        };
        assert_eq!(
            d.check(&change),
            Err(DataError::DuplicatePeril("V1-COLL".into()))
        );
    }

    #[test]
    fn locators_with_spaces_or_slashes_are_refused() {
        let d = data();
        let change = DataChange::AddExposure {
            locator: "V 2/x".into(),
            exposure: ExposureData {
                name: "vehicle".into(),
                fields: Fields::new(),
                perils: Default::default(),
            },
        };
        assert_eq!(d.check(&change), Err(DataError::BadLocator("V 2/x".into())));
    }
}

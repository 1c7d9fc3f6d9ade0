//! A tenant's API keys as its log made them: decides key commands into
//! events, applies them, and says whether a secret generation of a key is
//! accepted at a given time.
//!
//! Rotation: a key's secret has a generation (0 when created). Rotating at
//! time `t` with a grace of `g` seconds makes a new generation current; every
//! earlier generation stays valid until `t + g` at the latest (an earlier
//! rotation's longer grace is cut to it), so rotating with `grace_seconds: 0`
//! after a leak stops every old secret at once. Revoking stops them all;
//! the last live admin key cannot be revoked (the tenant would be locked
//! out: rotate it instead, or create another admin key first).

use super::command::{KeyCommand, KeyEvent};
use super::error::KeyError;
use super::role::Role;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// The grace of the replaced secret when a rotation names none: 24 hours.
pub const GRACE_SECONDS_DEFAULT: u64 = 24 * 60 * 60;
/// The longest grace a rotation may give: 7 days.
pub const GRACE_SECONDS_MAX: u64 = 7 * 24 * 60 * 60;
/// The longest label.
pub const LABEL_CHARS_MAX: usize = 64;

/// One key, as its events made it (no secret, no hash).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub role: Role,
    pub label: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The current secret's generation (0 until the first rotation).
    pub generation: u32,
    /// When the key was last rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<DateTime<Utc>>,
    /// Earlier generations still valid, with the end of their grace.
    #[serde(skip)]
    pub previous: Vec<(u32, DateTime<Utc>)>,
    /// Until when the secret replaced by the last rotation is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_valid_until: Option<DateTime<Utc>>,
    pub revoked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether secret `generation` of this key is accepted at `now`.
    pub fn accepts(&self, generation: u32, now: DateTime<Utc>) -> bool {
        !self.revoked
            && (generation == self.generation
                || self
                    .previous
                    .iter()
                    .any(|(g, until)| *g == generation && now < *until))
    }
}

/// A tenant's keys, in the order they were created.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct ApiKeys {
    keys: Vec<ApiKey>,
    /// Rebuilt from `keys` after a snapshot is loaded ([`ApiKeys::restore`]).
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl ApiKeys {
    /// Each key's earlier generations still valid (what the API's view of a
    /// key leaves out), for a snapshot of the tenant's state.
    pub(crate) fn previous_generations(&self) -> Vec<Vec<(u32, DateTime<Utc>)>> {
        self.keys.iter().map(|key| key.previous.clone()).collect()
    }

    /// After a snapshot is loaded: puts back each key's earlier generations
    /// (in key order, as [`ApiKeys::previous_generations`] gave them) and
    /// rebuilds the index by id.
    pub(crate) fn restore(&mut self, previous: Vec<Vec<(u32, DateTime<Utc>)>>) {
        for (key, previous) in self.keys.iter_mut().zip(previous) {
            key.previous = previous;
        }
        self.index = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, key)| (key.id.clone(), i))
            .collect();
    }

    /// Every key, oldest first (revoked ones included).
    pub fn all(&self) -> &[ApiKey] {
        &self.keys
    }

    pub fn get(&self, id: &str) -> Option<&ApiKey> {
        self.index.get(id).map(|&i| &self.keys[i])
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key a secret of `generation` opens at `now`: `None` when the key
    /// is unknown, revoked or the generation is no longer accepted.
    pub fn accepted(&self, id: &str, generation: u32, now: DateTime<Utc>) -> Option<&ApiKey> {
        self.get(id).filter(|key| key.accepts(generation, now))
    }

    /// The event of `command`, sent by `actor` at `at`.
    pub fn decide(
        &self,
        command: &KeyCommand,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<KeyEvent, KeyError> {
        let actor = actor.to_string();
        match command {
            KeyCommand::CreateKey { role, label } => {
                check_label(label)?;
                Ok(KeyEvent::KeyCreated {
                    key: format!("key-{}", self.keys.len() + 1),
                    role: *role,
                    label: label.clone(),
                    actor,
                    at,
                })
            }
            KeyCommand::RevokeKey { key } => {
                let found = self.live(key)?;
                let other_admins = self
                    .keys
                    .iter()
                    .filter(|k| k.role == Role::Admin && !k.revoked && k.id != *key)
                    .count();
                if found.role == Role::Admin && other_admins == 0 {
                    return Err(KeyError::LastAdmin(key.clone()));
                }
                Ok(KeyEvent::KeyRevoked {
                    key: key.clone(),
                    role: found.role,
                    label: found.label.clone(),
                    actor,
                    at,
                })
            }
            KeyCommand::RotateKey { key, grace_seconds } => {
                if *grace_seconds > GRACE_SECONDS_MAX {
                    return Err(KeyError::GraceTooLong {
                        requested: *grace_seconds,
                        max: GRACE_SECONDS_MAX,
                    });
                }
                let found = self.live(key)?;
                let grace =
                    chrono::Duration::seconds(i64::try_from(*grace_seconds).unwrap_or(i64::MAX));
                Ok(KeyEvent::KeyRotated {
                    key: key.clone(),
                    role: found.role,
                    label: found.label.clone(),
                    generation: found.generation + 1,
                    previous_valid_until: at + grace,
                    actor,
                    at,
                })
            }
        }
    }

    /// A key that exists and is not revoked.
    fn live(&self, id: &str) -> Result<&ApiKey, KeyError> {
        let key = self
            .get(id)
            .ok_or_else(|| KeyError::NotFound(id.to_string()))?;
        if key.revoked {
            return Err(KeyError::Revoked(id.to_string()));
        }
        Ok(key)
    }

    pub fn apply(&mut self, event: &KeyEvent) {
        match event {
            KeyEvent::KeyCreated {
                key,
                role,
                label,
                actor,
                at,
            } => {
                self.index.insert(key.clone(), self.keys.len());
                self.keys.push(ApiKey {
                    id: key.clone(),
                    role: *role,
                    label: label.clone(),
                    created_by: actor.clone(),
                    created_at: *at,
                    generation: 0,
                    rotated_at: None,
                    previous: Vec::new(),
                    previous_valid_until: None,
                    revoked: false,
                    revoked_by: None,
                    revoked_at: None,
                });
            }
            KeyEvent::KeyRevoked { key, actor, at, .. } => {
                if let Some(&i) = self.index.get(key) {
                    let found = &mut self.keys[i];
                    found.revoked = true;
                    found.revoked_by = Some(actor.clone());
                    found.revoked_at = Some(*at);
                    found.previous.clear();
                    found.previous_valid_until = None;
                }
            }
            KeyEvent::KeyRotated {
                key,
                generation,
                previous_valid_until,
                at,
                ..
            } => {
                if let Some(&i) = self.index.get(key) {
                    let found = &mut self.keys[i];
                    let until = *previous_valid_until;
                    let replaced = found.generation;
                    found.previous.retain(|(_, end)| end > at);
                    for (_, end) in &mut found.previous {
                        *end = (*end).min(until);
                    }
                    found.previous.push((replaced, until));
                    found.generation = *generation;
                    found.rotated_at = Some(*at);
                    found.previous_valid_until = Some(until);
                }
            }
        }
    }
}

fn check_label(label: &str) -> Result<(), KeyError> {
    let chars = label.chars().count();
    if chars > LABEL_CHARS_MAX || label.chars().any(char::is_control) {
        return Err(KeyError::InvalidLabel {
            max: LABEL_CHARS_MAX,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, hour, 0, 0).unwrap()
    }

    fn run(keys: &mut ApiKeys, command: KeyCommand, hour: u32) -> Result<KeyEvent, KeyError> {
        let event = keys.decide(&command, "admin:ops", at(hour))?;
        keys.apply(&event);
        Ok(event)
    }

    fn create(keys: &mut ApiKeys, label: &str) -> String {
        let command = KeyCommand::CreateKey {
            role: Role::Billing,
            label: label.into(),
        };
        run(keys, command, 0).unwrap().key().to_string()
    }

    #[test]
    fn keys_are_numbered_in_creation_order_and_remember_who_made_them() {
        let mut keys = ApiKeys::default();
        assert_eq!(create(&mut keys, "first"), "key-1");
        assert_eq!(create(&mut keys, "second"), "key-2");
        let second = keys.get("key-2").unwrap();
        assert_eq!(second.label, "second");
        assert_eq!(second.created_by, "admin:ops");
        assert_eq!(second.created_at, at(0));
        assert!(keys.accepted("key-2", 0, at(1)).is_some());
    }

    #[test]
    fn a_rotated_secret_is_accepted_until_its_grace_ends_and_the_new_one_from_the_start() {
        let mut keys = ApiKeys::default();
        let id = create(&mut keys, "ops");
        let rotate = KeyCommand::RotateKey {
            key: id.clone(),
            grace_seconds: 2 * 3600,
        };
        let event = run(&mut keys, rotate, 1).unwrap();
        assert_eq!(
            event,
            KeyEvent::KeyRotated {
                key: id.clone(),
                role: Role::Billing,
                label: "ops".into(),
                generation: 1,
                previous_valid_until: at(3),
                actor: "admin:ops".into(),
                at: at(1),
            }
        );
        assert!(keys.accepted(&id, 0, at(2)).is_some());
        assert!(keys.accepted(&id, 0, at(3)).is_none());
        assert!(keys.accepted(&id, 1, at(1)).is_some());
    }

    #[test]
    fn a_rotation_without_grace_cuts_every_earlier_grace_short() {
        let mut keys = ApiKeys::default();
        let id = create(&mut keys, "ops");
        let long = KeyCommand::RotateKey {
            key: id.clone(),
            grace_seconds: GRACE_SECONDS_DEFAULT,
        };
        run(&mut keys, long, 1).unwrap();
        let now = KeyCommand::RotateKey {
            key: id.clone(),
            grace_seconds: 0,
        };
        run(&mut keys, now, 2).unwrap();
        assert!(keys.accepted(&id, 0, at(2)).is_none());
        assert!(keys.accepted(&id, 1, at(2)).is_none());
        assert!(keys.accepted(&id, 2, at(2)).is_some());
    }

    #[test]
    fn a_revoked_key_accepts_no_secret_and_cannot_be_revoked_or_rotated_again() {
        let mut keys = ApiKeys::default();
        let id = create(&mut keys, "ops");
        let rotate = KeyCommand::RotateKey {
            key: id.clone(),
            grace_seconds: 3600,
        };
        run(&mut keys, rotate.clone(), 1).unwrap();
        run(&mut keys, KeyCommand::RevokeKey { key: id.clone() }, 1).unwrap();
        assert!(keys.accepted(&id, 0, at(1)).is_none());
        assert!(keys.accepted(&id, 1, at(1)).is_none());
        let again = keys.decide(&KeyCommand::RevokeKey { key: id.clone() }, "a", at(2));
        assert_eq!(again, Err(KeyError::Revoked(id.clone())));
        assert_eq!(again.unwrap_err().code(), "api_key_revoked");
        assert_eq!(
            keys.decide(&rotate, "a", at(2)),
            Err(KeyError::Revoked(id.clone()))
        );
        let revoked = keys.get(&id).unwrap();
        assert_eq!(revoked.revoked_at, Some(at(1)));
        assert_eq!(revoked.revoked_by.as_deref(), Some("admin:ops"));
    }

    #[test]
    fn unknown_keys_long_labels_and_long_graces_are_refused_with_their_codes() {
        let keys = ApiKeys::default();
        let unknown = keys.decide(
            &KeyCommand::RevokeKey {
                key: "key-9".into(),
            },
            "a",
            at(0),
        );
        assert_eq!(unknown.unwrap_err().code(), "api_key_not_found");
        let long_label = KeyCommand::CreateKey {
            role: Role::Admin,
            label: "x".repeat(LABEL_CHARS_MAX + 1),
        };
        assert_eq!(
            keys.decide(&long_label, "a", at(0)).unwrap_err().code(),
            "invalid_label"
        );
        let long = KeyCommand::RotateKey {
            key: "key-1".into(),
            grace_seconds: GRACE_SECONDS_MAX + 1,
        };
        assert_eq!(
            keys.decide(&long, "a", at(0)).unwrap_err().code(),
            "invalid_grace"
        );
    }
}

#[cfg(test)]
mod last_admin_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_last_live_admin_key_cannot_be_revoked_until_another_admin_key_exists() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let mut keys = ApiKeys::default();
        let run = |keys: &mut ApiKeys, command: KeyCommand| {
            let event = keys.decide(&command, "admin:ops", at)?;
            keys.apply(&event);
            Ok::<_, KeyError>(event)
        };
        let admin = KeyCommand::CreateKey {
            role: Role::Admin,
            label: "first".into(),
        };
        run(&mut keys, admin.clone()).unwrap();
        let revoke_first = KeyCommand::RevokeKey {
            key: "key-1".into(),
        };
        assert_eq!(
            run(&mut keys, revoke_first.clone()).unwrap_err(),
            KeyError::LastAdmin("key-1".into())
        );
        assert_eq!(KeyError::LastAdmin("key-1".into()).code(), "last_admin_key");
        run(&mut keys, admin).unwrap();
        run(&mut keys, revoke_first).unwrap();
        let revoke_second = KeyCommand::RevokeKey {
            key: "key-2".into(),
        };
        assert_eq!(
            run(&mut keys, revoke_second).unwrap_err(),
            KeyError::LastAdmin("key-2".into())
        );
    }
}

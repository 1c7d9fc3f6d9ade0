//! A tenant's webhook endpoints as a state machine: commands are checked
//! and decided into events; events are applied without checks, so the
//! log rebuilds the endpoints exactly.

use super::command::{WebhookCommand, WebhookEvent};
use super::endpoint::{
    ENDPOINTS_PER_TENANT_MAX, Endpoint, EndpointStatus, PREVIOUS_SECRET_VALID_HOURS,
    PreviousSecret, check_description, check_event_types, check_url,
};
use super::error::WebhookError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A tenant's endpoints, by id, and how many were ever made (ids are never
/// reused, so a deleted endpoint's messages are never confused with a new
/// one's).
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoints {
    pub endpoints: BTreeMap<String, Endpoint>,
    pub made: u32,
}

impl WebhookEndpoints {
    pub fn get(&self, id: &str) -> Result<&Endpoint, WebhookError> {
        self.endpoints
            .get(id)
            .ok_or_else(|| WebhookError::UnknownEndpoint(id.chars().take(100).collect()))
    }

    /// The event of `command` by `actor` at `at`; `events_applied` is the
    /// tenant's log length, after which a new endpoint delivers.
    pub fn decide(
        &self,
        command: &WebhookCommand,
        actor: &str,
        at: DateTime<Utc>,
        events_applied: u64,
    ) -> Result<WebhookEvent, WebhookError> {
        let actor = actor.to_string();
        match command {
            WebhookCommand::CreateEndpoint {
                url,
                event_types,
                description,
                secret_ref,
            } => {
                if self.endpoints.len() >= ENDPOINTS_PER_TENANT_MAX {
                    return Err(WebhookError::TooManyEndpoints {
                        max: ENDPOINTS_PER_TENANT_MAX,
                    });
                }
                check_url(url)?;
                check_description(description)?;
                Ok(WebhookEvent::EndpointCreated {
                    endpoint: format!("ep_{}", self.made + 1),
                    url: url.clone(),
                    event_types: check_event_types(event_types)?,
                    description: description.clone(),
                    secret_ref: secret_ref.clone(),
                    // The creation is the next event; it is not told.
                    delivers_after: events_applied + 1,
                    actor,
                    at,
                })
            }
            WebhookCommand::UpdateEndpoint {
                endpoint,
                url,
                event_types,
                description,
            } => {
                let found = self.get(endpoint)?;
                let url = url.clone().unwrap_or_else(|| found.url.clone());
                check_url(&url)?;
                let description = description
                    .clone()
                    .unwrap_or_else(|| found.description.clone());
                check_description(&description)?;
                let event_types = match event_types {
                    Some(types) => check_event_types(types)?,
                    None => found.event_types.clone(),
                };
                Ok(WebhookEvent::EndpointUpdated {
                    endpoint: found.id.clone(),
                    url,
                    event_types,
                    description,
                    actor,
                    at,
                })
            }
            WebhookCommand::DisableEndpoint { endpoint, reason } => {
                let found = self.get(endpoint)?;
                if !found.is_enabled() {
                    return Err(WebhookError::AlreadyInState {
                        endpoint: found.id.clone(),
                        state: "disabled",
                    });
                }
                Ok(WebhookEvent::EndpointDisabled {
                    endpoint: found.id.clone(),
                    reason: *reason,
                    actor,
                    at,
                })
            }
            WebhookCommand::EnableEndpoint { endpoint } => {
                let found = self.get(endpoint)?;
                if found.is_enabled() {
                    return Err(WebhookError::AlreadyInState {
                        endpoint: found.id.clone(),
                        state: "enabled",
                    });
                }
                Ok(WebhookEvent::EndpointEnabled {
                    endpoint: found.id.clone(),
                    actor,
                    at,
                })
            }
            WebhookCommand::RotateSecret {
                endpoint,
                secret_ref,
            } => {
                let found = self.get(endpoint)?;
                Ok(WebhookEvent::SecretRotated {
                    endpoint: found.id.clone(),
                    secret_ref: secret_ref.clone(),
                    previous_secret_ref: found.secret_ref.clone(),
                    previous_valid_until: at + chrono::Duration::hours(PREVIOUS_SECRET_VALID_HOURS),
                    actor,
                    at,
                })
            }
            WebhookCommand::DeleteEndpoint { endpoint } => {
                let found = self.get(endpoint)?;
                Ok(WebhookEvent::EndpointDeleted {
                    endpoint: found.id.clone(),
                    actor,
                    at,
                })
            }
        }
    }

    pub fn apply(&mut self, event: &WebhookEvent) {
        match event {
            WebhookEvent::EndpointCreated {
                endpoint,
                url,
                event_types,
                description,
                secret_ref,
                delivers_after,
                actor,
                at,
            } => {
                self.made += 1;
                self.endpoints.insert(
                    endpoint.clone(),
                    Endpoint {
                        id: endpoint.clone(),
                        url: url.clone(),
                        event_types: event_types.clone(),
                        description: description.clone(),
                        status: EndpointStatus::Enabled,
                        secret_ref: secret_ref.clone(),
                        previous_secret: None,
                        delivers_after: *delivers_after,
                        created_at: *at,
                        created_by: actor.clone(),
                    },
                );
            }
            WebhookEvent::EndpointUpdated {
                endpoint,
                url,
                event_types,
                description,
                ..
            } => {
                if let Some(found) = self.endpoints.get_mut(endpoint) {
                    found.url = url.clone();
                    found.event_types = event_types.clone();
                    found.description = description.clone();
                }
            }
            WebhookEvent::EndpointDisabled {
                endpoint, reason, ..
            } => {
                if let Some(found) = self.endpoints.get_mut(endpoint) {
                    found.status = EndpointStatus::Disabled { reason: *reason };
                }
            }
            WebhookEvent::EndpointEnabled { endpoint, .. } => {
                if let Some(found) = self.endpoints.get_mut(endpoint) {
                    found.status = EndpointStatus::Enabled;
                }
            }
            WebhookEvent::SecretRotated {
                endpoint,
                secret_ref,
                previous_secret_ref,
                previous_valid_until,
                ..
            } => {
                if let Some(found) = self.endpoints.get_mut(endpoint) {
                    found.secret_ref = secret_ref.clone();
                    found.previous_secret = Some(PreviousSecret {
                        secret_ref: previous_secret_ref.clone(),
                        valid_until: *previous_valid_until,
                    });
                }
            }
            WebhookEvent::EndpointDeleted { endpoint, .. } => {
                self.endpoints.remove(endpoint);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::endpoint::DisableReason;

    fn create(url: &str) -> WebhookCommand {
        WebhookCommand::CreateEndpoint {
            url: url.into(),
            event_types: vec!["invoice.issued".into()],
            description: "billing feed".into(),
            secret_ref: "ref-1".into(),
        }
    }

    fn step(state: &mut WebhookEndpoints, command: &WebhookCommand) -> WebhookEvent {
        let event = state
            .decide(command, "admin", DateTime::UNIX_EPOCH, 41)
            .unwrap();
        state.apply(&event);
        event
    }

    #[test]
    fn an_endpoint_is_made_updated_disabled_enabled_rotated_and_deleted() {
        let mut state = WebhookEndpoints::default();
        step(&mut state, &create("https://a.example/in"));
        let made = state.get("ep_1").unwrap();
        assert_eq!(made.delivers_after, 42);
        assert!(made.is_enabled() && made.receives("invoice.issued"));
        step(
            &mut state,
            &WebhookCommand::UpdateEndpoint {
                endpoint: "ep_1".into(),
                url: None,
                event_types: Some(vec!["term.confirmed".into()]),
                description: None,
            },
        );
        let updated = state.get("ep_1").unwrap();
        assert_eq!(updated.url, "https://a.example/in");
        assert_eq!(updated.description, "billing feed");
        assert!(updated.receives("term.confirmed") && !updated.receives("invoice.issued"));
        let disable = WebhookCommand::DisableEndpoint {
            endpoint: "ep_1".into(),
            reason: DisableReason::Requested,
        };
        step(&mut state, &disable);
        assert_eq!(
            state
                .decide(&disable, "admin", DateTime::UNIX_EPOCH, 0)
                .unwrap_err()
                .code(),
            "webhook_endpoint_unchanged"
        );
        step(
            &mut state,
            &WebhookCommand::EnableEndpoint {
                endpoint: "ep_1".into(),
            },
        );
        step(
            &mut state,
            &WebhookCommand::RotateSecret {
                endpoint: "ep_1".into(),
                secret_ref: "ref-2".into(),
            },
        );
        let rotated = state.get("ep_1").unwrap();
        assert_eq!(rotated.secret_ref, "ref-2");
        let previous = rotated.previous_secret.as_ref().unwrap();
        assert_eq!(previous.secret_ref, "ref-1");
        assert_eq!(
            previous.valid_until,
            DateTime::UNIX_EPOCH + chrono::Duration::hours(24)
        );
        step(
            &mut state,
            &WebhookCommand::DeleteEndpoint {
                endpoint: "ep_1".into(),
            },
        );
        assert!(state.endpoints.is_empty());
        // Ids are never reused.
        step(&mut state, &create("https://b.example/in"));
        assert!(state.get("ep_2").is_ok());
    }

    #[test]
    fn a_tenant_has_at_most_twenty_endpoints() {
        let mut state = WebhookEndpoints::default();
        for _ in 0..ENDPOINTS_PER_TENANT_MAX {
            step(&mut state, &create("https://a.example/in"));
        }
        let refused = state
            .decide(
                &create("https://a.example/in"),
                "admin",
                DateTime::UNIX_EPOCH,
                0,
            )
            .unwrap_err();
        assert_eq!(refused.code(), "too_many_webhook_endpoints");
    }
}

//! The public, versioned event schema of webhooks (DOMAIN section 11): what
//! a policy system is told, not the internal event format. A message is
//! `{type, schema_version, id, sequence, timestamp, data}`; `data` names
//! what the event is about (account, policy, invoice, ...) and its amounts
//! and dates. The internal log may change shape; this schema changes only
//! with a new `schema_version`.
//!
//! Worked example: an invoice of 106.45 issued to account `A-1` is
//! `{"type": "invoice.issued", "schema_version": "2026-12-01", "id":
//! "msg_42_0", "sequence": 42, "data": {"account": "A-1", "invoice":
//! "A-1-I3", "amount": {"amount": "106.45", "currency": "USD"}, "due_date":
//! "2026-03-01", ...}}`.

use crate::domain::Money;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The version of the schema every message carries.
pub const SCHEMA_VERSION: &str = "2026-12-01";

/// Every event type, with what it tells.
pub const EVENT_TYPES: &[(&str, &str)] = &[
    (
        "policy.issued",
        "a policy was bound (its first term issued)",
    ),
    (
        "policy.cancelled",
        "a policy was cancelled (by request or for non-payment)",
    ),
    ("policy.reinstated", "a cancelled policy was reinstated"),
    (
        "policy.lapsed",
        "a policy lapsed for non-payment at the end of its grace",
    ),
    (
        "term.confirmed",
        "a term's first invoice was paid: the term is confirmed (seed 002's confirmTerm)",
    ),
    ("invoice.issued", "an invoice was issued"),
    (
        "invoice.past_due",
        "an invoice was not paid by its due date",
    ),
    ("payment.received", "a payment was recorded and allocated"),
    (
        "payment.returned",
        "a payment was returned or reversed; what it paid is owed again",
    ),
    (
        "payment.failed",
        "an autopay collection attempt failed (the reason is the processor's code)",
    ),
    (
        "delinquency.started",
        "an account became delinquent (grace started)",
    ),
    (
        "delinquency.ended",
        "a delinquency ended (paid, or closed by a reinstatement)",
    ),
    (
        "disbursement.executed",
        "a refund was paid out to the account",
    ),
    (
        "configuration.changed",
        "configuration changed: products, settings, plugins, raters, keys, webhook endpoints",
    ),
];

/// Whether `event_type` is one of [`EVENT_TYPES`].
pub fn is_event_type(event_type: &str) -> bool {
    EVENT_TYPES.iter().any(|(t, _)| *t == event_type)
}

/// One webhook message, as sent (the body of the POST).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookMessage {
    /// One of the event types (`invoice.issued`, ...).
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema_version: String,
    /// Stable across retries and replays: `msg_<sequence>_<index>` (an event
    /// of the log may tell several things, e.g. a lapse of two policies).
    pub id: String,
    /// The position of the event in the tenant's log (gap-free; a receiver
    /// may use it to order and de-duplicate).
    pub sequence: u64,
    /// When the event was recorded.
    pub timestamp: DateTime<Utc>,
    pub data: WebhookData,
}

/// What a message is about. Fields absent from a type are left out.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delinquency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disbursement: Option<String>,
    /// The invoice total, payment, refund or transaction amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// The day it happened (the tenant's business day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<NaiveDate>,
    /// The day a transaction or lapse takes effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_end: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `configuration.changed`: what changed (the log's event kind,
    /// e.g. `product_deployed`) and its subject (e.g. `product/auto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Who acted (a key's label or the system), for configuration changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_is_named_once_as_noun_dot_verb() {
        let mut seen = std::collections::BTreeSet::new();
        for (event_type, told) in EVENT_TYPES {
            assert!(seen.insert(*event_type), "{event_type} twice");
            assert!(!told.is_empty());
            let (noun, verb) = event_type.split_once('.').unwrap();
            assert!(!noun.is_empty() && !verb.is_empty());
        }
        assert!(is_event_type("invoice.issued"));
        assert!(!is_event_type("invoice.eaten"));
    }

    #[test]
    fn a_message_leaves_out_what_its_type_does_not_carry() {
        let message = WebhookMessage {
            event_type: "invoice.past_due".into(),
            schema_version: SCHEMA_VERSION.into(),
            id: "msg_7_0".into(),
            sequence: 7,
            timestamp: DateTime::UNIX_EPOCH,
            data: WebhookData {
                account: Some("A-1".into()),
                invoice: Some("A-1-I1".into()),
                on: NaiveDate::from_ymd_opt(2026, 3, 2),
                ..WebhookData::default()
            },
        };
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(
            json["data"],
            serde_json::json!({"account": "A-1", "invoice": "A-1-I1", "on": "2026-03-02"})
        );
        assert_eq!(json["type"], "invoice.past_due");
    }
}

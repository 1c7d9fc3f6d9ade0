//! The webhook worker: delivers each tenant's messages to its endpoints
//! from the event log (DOMAIN section 11), on a thread of its own.
//!
//! - Each endpoint has a cursor (the last sequence fully delivered) kept in
//!   the store's durable area ([`CURSORS_NAMESPACE`]), so a restart resumes
//!   where the last acknowledged delivery ended: delivery is at least once
//!   (a crash between a delivery and the cursor's write delivers again;
//!   receivers de-duplicate by `webhook-id`) and in log order per endpoint
//!   (a failing message holds back the ones after it).
//! - The log has no gaps, so it is the outbox: nothing else is written
//!   when a command commits.
//! - A failure is retried by [`crate::webhooks::retry`]; `410 Gone`
//!   disables the endpoint at once, three days of failures disable it as
//!   `failing` (each a configuration event by `premia:webhooks`).
//! - Every attempt is recorded ([`ATTEMPTS_NAMESPACE`], the latest
//!   [`ATTEMPTS_KEPT_MAX`] per endpoint) with its status and timing, never
//!   with the secret or the receiver's body.
//! - A replay queues a range of sequences (or one message) to be sent
//!   again, before the endpoint's live messages.
//!
//! - When several hosts share PostgreSQL, one host delivers a tenant's
//!   messages at a time: the worker holds the tenant's `webhooks` lease
//!   ([`Store::try_lease`], [`LEASE_TTL_MS`], renewed every pass); another
//!   host takes it over once it expired (a host that died).

use super::{Engine, RequestMeta};
use crate::config::secrets::SecretBox;
use crate::engine::command::EngineCommand;
use crate::engine::webhook_messages::messages_of;
use crate::store::Store;
use crate::webhooks::retry::{AfterFailure, AttemptOutcome, after_failure, parse_retry_after};
use crate::webhooks::signature::signature_header;
use crate::webhooks::{DisableReason, Endpoint, WebhookCommand, WebhookMessage, WebhookSecret};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// The durable area of each endpoint's cursor.
pub const CURSORS_NAMESPACE: &str = "webhook-cursors";
/// The durable area of delivery attempts.
pub const ATTEMPTS_NAMESPACE: &str = "webhook-attempts";
/// The attempts kept per endpoint (older ones are overwritten).
pub const ATTEMPTS_KEPT_MAX: u64 = 1_000;
/// How long a receiver has to answer.
pub const DELIVERY_TIMEOUT_MS: u64 = 10_000;
/// How often the worker looks for new events.
pub const POLL_INTERVAL_MS: u64 = 200;
/// Events read at once per endpoint.
pub const READ_EVENTS_PER_BATCH: usize = 200;
/// Deliveries between two writes of a cursor (a crash re-sends at most
/// these).
pub const CURSOR_WRITE_EVERY_DELIVERIES: u32 = 50;
/// The most sequences one replay may name.
pub const REPLAY_SEQUENCES_MAX: u64 = 100_000;
/// How long a host's hold on a tenant's deliveries lasts without renewal.
pub const LEASE_TTL_MS: u64 = 15_000;
/// The name of the delivery lease.
pub const LEASE_NAME: &str = "webhooks";
const _: () = assert!(LEASE_TTL_MS > DELIVERY_TIMEOUT_MS + POLL_INTERVAL_MS);
/// The actor of the worker's own commands (disabling an endpoint).
pub const WEBHOOK_ACTOR: &str = "premia:webhooks";
const _: () = assert!(POLL_INTERVAL_MS < 1_000 && DELIVERY_TIMEOUT_MS <= 30_000);

/// Where an endpoint's deliveries stand, kept durably.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryCursor {
    /// Every message of events up to this sequence is delivered.
    pub delivered_through: u64,
    /// Messages of the next event already delivered (an event may tell
    /// several things).
    #[serde(default)]
    pub delivered_of_next: u32,
    /// Failures in a row of the message at the head.
    #[serde(default)]
    pub failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Attempts made so far (numbers the attempt records).
    #[serde(default)]
    pub attempts: u64,
    /// Ranges of sequences queued to be sent again, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replays: Vec<Replay>,
}

/// A range of sequences to send again (`only` one message of it, when a
/// single message was asked for).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replay {
    /// The next sequence to send.
    pub next: u64,
    pub through: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<String>,
}

/// One delivery attempt, as listed.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// 1, 2, ... per endpoint.
    pub attempt: u64,
    pub message: String,
    pub event_type: String,
    pub sequence: u64,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status (none: no answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `delivered`, `failed` or `gone`.
    pub outcome: String,
    /// Why it failed (a status, a timeout, no connection), never a body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// Whether it was a replay.
    #[serde(default)]
    pub replay: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Reads an endpoint's cursor (a new endpoint's starts where it was made).
pub fn load_cursor(
    store: &dyn Store,
    tenant: &str,
    endpoint: &Endpoint,
) -> Result<DeliveryCursor, crate::store::StoreError> {
    Ok(
        match store.get_blob(tenant, CURSORS_NAMESPACE, &endpoint.id)? {
            Some(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|_| DeliveryCursor {
                delivered_through: endpoint.delivers_after,
                ..DeliveryCursor::default()
            }),
            None => DeliveryCursor {
                delivered_through: endpoint.delivers_after,
                ..DeliveryCursor::default()
            },
        },
    )
}

fn save_cursor(
    store: &dyn Store,
    tenant: &str,
    endpoint: &str,
    cursor: &DeliveryCursor,
) -> Result<(), crate::store::StoreError> {
    let bytes = serde_json::to_vec(cursor).expect("cursors serialize");
    store.put_blob(tenant, CURSORS_NAMESPACE, endpoint, &bytes)
}

fn attempt_key(endpoint: &str, attempt: u64) -> String {
    format!("{endpoint}/{:04}", attempt % ATTEMPTS_KEPT_MAX)
}

/// The latest `limit` attempts of an endpoint, newest first.
pub fn recent_attempts(
    store: &dyn Store,
    tenant: &str,
    endpoint: &Endpoint,
    limit: u64,
) -> Result<Vec<DeliveryAttempt>, crate::store::StoreError> {
    let cursor = load_cursor(store, tenant, endpoint)?;
    let mut found = Vec::new();
    let newest = cursor.attempts;
    let oldest = newest.saturating_sub(limit.min(ATTEMPTS_KEPT_MAX));
    for attempt in (oldest + 1..=newest).rev() {
        if let Some(bytes) = store.get_blob(
            tenant,
            ATTEMPTS_NAMESPACE,
            &attempt_key(&endpoint.id, attempt),
        )? && let Ok(record) = serde_json::from_slice::<DeliveryAttempt>(&bytes)
            && record.attempt == attempt
        {
            found.push(record);
        }
    }
    Ok(found)
}

/// Queues a replay of sequences `from..=through` (or of one message) for
/// an endpoint; the worker sends it before its live messages.
pub fn queue_replay(
    store: &dyn Store,
    tenant: &str,
    endpoint: &Endpoint,
    replay: Replay,
) -> Result<(), crate::store::StoreError> {
    let mut cursor = load_cursor(store, tenant, endpoint)?;
    cursor.replays.push(replay);
    cursor.next_attempt_at = None;
    save_cursor(store, tenant, &endpoint.id, &cursor)
}

/// The worker's handle: a flag that stops it.
pub struct WebhookWorker {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for WebhookWorker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Engine {
    /// Starts the webhook worker over `engine`, signing with secrets from
    /// `secrets`. It runs until the returned handle is dropped or the engine
    /// is.
    pub fn start_webhooks(engine: &Arc<Engine>, secrets: SecretBox) -> WebhookWorker {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let weak = Arc::downgrade(engine);
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("premia-webhooks".into())
            .spawn(move || {
                crate::rating::external::install_tls_provider();
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_millis(DELIVERY_TIMEOUT_MS))
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent("Premia-Webhooks/1")
                    .build();
                let client = match client {
                    Ok(client) => client,
                    Err(error) => {
                        tracing::error!(%error, "the webhook worker has no HTTP client");
                        return;
                    }
                };
                let holder: [u8; 16] = rand::random();
                let worker = Worker {
                    client,
                    secrets,
                    holder: hex::encode(holder),
                };
                work(&weak, &worker, &flag);
            });
        match thread {
            Ok(thread) => WebhookWorker {
                stop,
                thread: Some(thread),
            },
            Err(error) => {
                tracing::error!(%error, "could not start the webhook worker");
                WebhookWorker { stop, thread: None }
            }
        }
    }
}

struct Worker {
    client: reqwest::blocking::Client,
    secrets: SecretBox,
    /// This process's name in leases.
    holder: String,
}

fn work(engine: &Weak<Engine>, worker: &Worker, stop: &std::sync::atomic::AtomicBool) {
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let started = Instant::now();
        {
            let Some(engine) = engine.upgrade() else {
                return;
            };
            let tenants = match engine.store().tenants() {
                Ok(tenants) => tenants,
                Err(error) => {
                    tracing::warn!(%error, "webhooks: listing tenants");
                    Vec::new()
                }
            };
            for tenant in tenants {
                if let Err(error) = deliver_tenant(&engine, worker, &tenant, stop) {
                    tracing::warn!(%tenant, %error, "webhook delivery paused");
                }
            }
        }
        let spent = started.elapsed();
        let interval = Duration::from_millis(POLL_INTERVAL_MS);
        if spent < interval {
            std::thread::sleep(interval - spent);
        }
    }
}

type WorkError = Box<dyn std::error::Error + Send + Sync>;

fn deliver_tenant(
    engine: &Engine,
    worker: &Worker,
    tenant: &str,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<(), WorkError> {
    let endpoints: Vec<Endpoint> = engine.read(tenant, |s| {
        s.webhooks
            .endpoints
            .values()
            .filter(|e| e.is_enabled())
            .cloned()
            .collect()
    })?;
    if endpoints.is_empty()
        || !engine
            .store()
            .try_lease(tenant, LEASE_NAME, &worker.holder, LEASE_TTL_MS)?
    {
        return Ok(());
    }
    for endpoint in endpoints {
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        deliver_endpoint(engine, worker, tenant, &endpoint)?;
    }
    Ok(())
}

/// Where the next message of an endpoint comes from.
enum Source {
    Replay,
    Live,
}

fn deliver_endpoint(
    engine: &Engine,
    worker: &Worker,
    tenant: &str,
    endpoint: &Endpoint,
) -> Result<(), WorkError> {
    let store = engine.store().as_ref();
    let mut cursor = load_cursor(store, tenant, endpoint)?;
    let now = Utc::now();
    if cursor.next_attempt_at.is_some_and(|at| at > now) {
        return Ok(());
    }
    let last = store.last_sequence(tenant)?;
    if cursor.replays.is_empty() && cursor.delivered_through >= last {
        return Ok(());
    }
    let secrets = signing_secrets(worker, store, tenant, endpoint, now)?;
    let mut unsaved = 0;
    loop {
        let source = if cursor.replays.is_empty() {
            Source::Live
        } else {
            Source::Replay
        };
        let after = match source {
            Source::Replay => cursor.replays[0].next.saturating_sub(1),
            Source::Live => cursor.delivered_through,
        };
        let events = store.read(tenant, after, READ_EVENTS_PER_BATCH)?;
        if events.is_empty() {
            match source {
                // Nothing left in the log for this replay.
                Source::Replay => {
                    cursor.replays.remove(0);
                    unsaved += 1;
                    continue;
                }
                Source::Live => break,
            }
        }
        let mapped: Vec<(u64, Vec<WebhookMessage>)> = engine.read(tenant, |state| {
            events
                .iter()
                .map(|stored| {
                    let messages = match crate::engine::service::decode_stored(stored) {
                        Ok(event) => messages_of(stored, &event, state),
                        Err(_) => Vec::new(),
                    };
                    (stored.sequence, messages)
                })
                .collect()
        })?;
        for (sequence, messages) in mapped {
            if let Source::Replay = source {
                let replay = &cursor.replays[0];
                if sequence > replay.through {
                    cursor.replays.remove(0);
                    unsaved += 1;
                    break;
                }
            }
            let skip = match source {
                Source::Live => cursor.delivered_of_next as usize,
                Source::Replay => 0,
            };
            for (index, message) in messages.iter().enumerate().skip(skip) {
                let wanted = endpoint.receives(&message.event_type)
                    && match &source {
                        Source::Replay => cursor.replays[0]
                            .only
                            .as_ref()
                            .is_none_or(|only| only == &message.id),
                        Source::Live => true,
                    };
                if !wanted {
                    continue;
                }
                let replay = matches!(source, Source::Replay);
                match attempt(
                    worker,
                    store,
                    tenant,
                    endpoint,
                    &secrets,
                    &mut cursor,
                    message,
                    replay,
                )? {
                    AttemptOutcome::Delivered => {
                        cursor.failures = 0;
                        cursor.failing_since = None;
                        cursor.next_attempt_at = None;
                        if let Source::Live = source {
                            cursor.delivered_of_next = index as u32 + 1;
                        }
                        unsaved += 1;
                    }
                    AttemptOutcome::Gone => {
                        save_cursor(store, tenant, &endpoint.id, &cursor)?;
                        disable(engine, tenant, endpoint, DisableReason::Gone)?;
                        return Ok(());
                    }
                    AttemptOutcome::Failed {
                        retry_after_seconds,
                    } => {
                        let now = Utc::now();
                        cursor.failures += 1;
                        let since = *cursor.failing_since.get_or_insert(now);
                        let jitter = rand::random_range(-1_000..=1_000);
                        match after_failure(
                            cursor.failures,
                            since,
                            now,
                            retry_after_seconds,
                            jitter,
                        ) {
                            AfterFailure::RetryAt(at) => {
                                cursor.next_attempt_at = Some(at);
                                save_cursor(store, tenant, &endpoint.id, &cursor)?;
                            }
                            AfterFailure::Disable => {
                                save_cursor(store, tenant, &endpoint.id, &cursor)?;
                                disable(engine, tenant, endpoint, DisableReason::Failing)?;
                            }
                        }
                        return Ok(());
                    }
                }
            }
            match source {
                Source::Live => {
                    cursor.delivered_through = sequence;
                    cursor.delivered_of_next = 0;
                }
                Source::Replay => {
                    cursor.replays[0].next = sequence + 1;
                    if sequence >= cursor.replays[0].through {
                        cursor.replays.remove(0);
                        unsaved += 1;
                        break;
                    }
                }
            }
            if unsaved >= CURSOR_WRITE_EVERY_DELIVERIES {
                save_cursor(store, tenant, &endpoint.id, &cursor)?;
                unsaved = 0;
            }
        }
        if matches!(source, Source::Live) && cursor.delivered_through >= last {
            break;
        }
    }
    save_cursor(store, tenant, &endpoint.id, &cursor)?;
    Ok(())
}

/// The secrets that sign an endpoint's messages now: its own, and the one a
/// rotation replaced while it is still valid.
fn signing_secrets(
    worker: &Worker,
    store: &dyn Store,
    tenant: &str,
    endpoint: &Endpoint,
    now: DateTime<Utc>,
) -> Result<Vec<WebhookSecret>, WorkError> {
    let mut secrets = vec![
        worker
            .secrets
            .webhook_secret(store, tenant, &endpoint.secret_ref)?,
    ];
    if let Some(previous) = &endpoint.previous_secret
        && previous.valid_until > now
        && let Ok(secret) = worker
            .secrets
            .webhook_secret(store, tenant, &previous.secret_ref)
    {
        secrets.push(secret);
    }
    Ok(secrets)
}

#[allow(clippy::too_many_arguments)]
fn attempt(
    worker: &Worker,
    store: &dyn Store,
    tenant: &str,
    endpoint: &Endpoint,
    secrets: &[WebhookSecret],
    cursor: &mut DeliveryCursor,
    message: &WebhookMessage,
    replay: bool,
) -> Result<AttemptOutcome, WorkError> {
    let body = serde_json::to_vec(message).expect("messages serialize");
    let at = Utc::now();
    let timestamp = at.timestamp();
    let signing: Vec<&WebhookSecret> = secrets.iter().collect();
    let signature = signature_header(&signing, &message.id, timestamp, &body);
    let started = Instant::now();
    let answer = worker
        .client
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("webhook-id", &message.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send();
    let duration_ms = started.elapsed().as_millis() as u64;
    let (outcome, status, error) = match answer {
        Ok(response) => {
            let status = response.status();
            if status.is_success() {
                (AttemptOutcome::Delivered, Some(status.as_u16()), None)
            } else if status == reqwest::StatusCode::GONE {
                (
                    AttemptOutcome::Gone,
                    Some(status.as_u16()),
                    Some("410 Gone".to_string()),
                )
            } else {
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, at));
                (
                    AttemptOutcome::Failed {
                        retry_after_seconds: retry_after,
                    },
                    Some(status.as_u16()),
                    Some(format!("answered {status}")),
                )
            }
        }
        Err(error) => {
            let why = if error.is_timeout() {
                "no answer in time"
            } else if error.is_connect() {
                "could not connect"
            } else {
                "the request failed"
            };
            (
                AttemptOutcome::Failed {
                    retry_after_seconds: None,
                },
                None,
                Some(why.to_string()),
            )
        }
    };
    let outcome_name = match outcome {
        AttemptOutcome::Delivered => "delivered",
        AttemptOutcome::Gone => "gone",
        AttemptOutcome::Failed { .. } => "failed",
    };
    // The lag: from the event's commit to this attempt's end.
    let lag = (Utc::now() - message.timestamp)
        .to_std()
        .unwrap_or_default();
    crate::telemetry::webhook_delivery(lag, outcome_name);
    cursor.attempts += 1;
    let record = DeliveryAttempt {
        attempt: cursor.attempts,
        message: message.id.clone(),
        event_type: message.event_type.clone(),
        sequence: message.sequence,
        at,
        status,
        outcome: match outcome {
            AttemptOutcome::Delivered => "delivered",
            AttemptOutcome::Gone => "gone",
            AttemptOutcome::Failed { .. } => "failed",
        }
        .to_string(),
        error,
        duration_ms,
        replay,
        next_attempt_at: None,
    };
    store.put_blob(
        tenant,
        ATTEMPTS_NAMESPACE,
        &attempt_key(&endpoint.id, cursor.attempts),
        &serde_json::to_vec(&record).expect("attempts serialize"),
    )?;
    Ok(outcome)
}

fn disable(
    engine: &Engine,
    tenant: &str,
    endpoint: &Endpoint,
    reason: DisableReason,
) -> Result<(), WorkError> {
    tracing::warn!(%tenant, endpoint = %endpoint.id, ?reason, "webhook endpoint disabled");
    let meta = RequestMeta {
        actor: WEBHOOK_ACTOR.to_string(),
        issued_at: Utc::now(),
        idempotency_key: None,
        arithmetic: crate::billing::Arithmetic::Written,
    };
    let command = EngineCommand::Webhooks(WebhookCommand::DisableEndpoint {
        endpoint: endpoint.id.clone(),
        reason,
    });
    match engine.execute(tenant, &command, &meta) {
        Ok(_) => Ok(()),
        // Disabled meanwhile by someone else: nothing to do.
        Err(crate::engine::EngineError::Webhooks(_)) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

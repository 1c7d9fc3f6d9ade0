//! The collection worker: sends each tenant's requested collection
//! attempts to its payment processor adapter and records the answers as
//! commands (DOMAIN section 11), on a thread of its own, like the webhook
//! worker.
//!
//! - The billing run only records `collection_attempt_requested` events
//!   (durable first); it stays deterministic and never waits on a
//!   processor.
//! - Before an attempt is first sent, a mark is written in the store's
//!   durable area ([`SENDS_NAMESPACE`]). An attempt with a mark whose
//!   answer was lost (a timeout, a crash, an error status) is resolved by
//!   asking the adapter (`GET {adapter}/attempts/{id}`) before it is sent
//!   again; only an adapter that never saw it (`404`) gets it again, with
//!   the same idempotency key. So an attempt is collected at most once.
//! - An answer is recorded by the command
//!   [`PaymentCommand::RecordAnswer`] (actor [`COLLECTIONS_ACTOR`]): a
//!   success records and allocates the payment, a failure schedules its
//!   retry, `pending` waits for a processor event.
//! - The method's token is opened from the secret area only to be sent;
//!   it is never logged.
//!
//! Not yet: when several hosts share PostgreSQL, each host's worker sends
//! (the idempotency key and the look-up keep it to one collection).

use super::{Engine, RequestMeta};
use crate::config::secrets::SecretBox;
use crate::domain::Money;
use crate::engine::command::EngineCommand;
use crate::engine::payments::COLLECTIONS_ACTOR;
use crate::payments::protocol::AttemptRequest;
use crate::payments::{CollectionAttempt, FailureClass, PaymentCommand, ProcessorAnswer};
use chrono::Utc;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// The durable area of the marks of attempts sent at least once.
pub const SENDS_NAMESPACE: &str = "collection-sends";
/// How long the adapter has to answer.
pub const ANSWER_TIMEOUT_MS: u64 = 10_000;
/// How often the worker looks for requested attempts.
pub const POLL_INTERVAL_MS: u64 = 200;
/// The first wait before an attempt whose answer was lost is looked up.
pub const LOOKUP_BACKOFF_MS_MIN: u64 = 500;
/// The longest wait between look-ups of an attempt whose answer is lost.
pub const LOOKUP_BACKOFF_MS_MAX: u64 = 60_000;
const _: () = assert!(LOOKUP_BACKOFF_MS_MIN < LOOKUP_BACKOFF_MS_MAX);

/// The worker's handle: dropping it stops the worker.
pub struct CollectionWorker {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for CollectionWorker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Worker {
    client: reqwest::blocking::Client,
    secrets: SecretBox,
    /// When an attempt whose answer was lost is looked up next, and the
    /// wait after that.
    waits: Mutex<HashMap<(String, String), (Instant, u64)>>,
}

impl Engine {
    /// Starts the collection worker over `engine`, opening tokens with
    /// `secrets`. It runs until the handle is dropped or the engine is.
    pub fn start_collections(engine: &Arc<Engine>, secrets: SecretBox) -> CollectionWorker {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let weak = Arc::downgrade(engine);
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("premia-collections".into())
            .spawn(move || {
                crate::rating::external::install_tls_provider();
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_millis(ANSWER_TIMEOUT_MS))
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent("Premia-Collections/1")
                    .build();
                let client = match client {
                    Ok(client) => client,
                    Err(error) => {
                        tracing::error!(%error, "the collection worker has no HTTP client");
                        return;
                    }
                };
                let worker = Worker {
                    client,
                    secrets,
                    waits: Mutex::new(HashMap::new()),
                };
                work(&weak, &worker, &flag);
            });
        match thread {
            Ok(thread) => CollectionWorker {
                stop,
                thread: Some(thread),
            },
            Err(error) => {
                tracing::error!(%error, "could not start the collection worker");
                CollectionWorker { stop, thread: None }
            }
        }
    }
}

fn work(engine: &Weak<Engine>, worker: &Worker, stop: &std::sync::atomic::AtomicBool) {
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let started = Instant::now();
        {
            let Some(engine) = engine.upgrade() else {
                return;
            };
            let tenants = engine.store().tenants().unwrap_or_default();
            for tenant in tenants {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                if let Err(error) = collect_tenant(&engine, worker, &tenant) {
                    tracing::warn!(%tenant, %error, "collections paused");
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

/// An attempt to send, with its adapter and the reference of its token.
struct Job {
    attempt: CollectionAttempt,
    url: String,
    token_ref: Option<String>,
}

fn collect_tenant(engine: &Engine, worker: &Worker, tenant: &str) -> Result<(), WorkError> {
    let jobs: Vec<Job> = engine.read(tenant, |s| {
        let Some(processor) = &s.payments.processor else {
            return Vec::new();
        };
        s.payments
            .attempts
            .values()
            .filter(|a| a.awaits_sending())
            .map(|a| Job {
                attempt: a.clone(),
                url: processor.url.trim_end_matches('/').to_string(),
                token_ref: s
                    .payments
                    .methods
                    .get(&a.method)
                    .map(|m| m.token_ref.clone()),
            })
            .collect()
    })?;
    for job in jobs {
        let key = (tenant.to_string(), job.attempt.id.clone());
        if worker
            .waits
            .lock()
            .expect("waits")
            .get(&key)
            .is_some_and(|(at, _)| *at > Instant::now())
        {
            continue;
        }
        let recorded = match send(engine, worker, tenant, &job) {
            Ok(Some(answer)) => record(engine, tenant, &job.attempt.id, answer),
            Ok(None) => Err("the answer is lost for now".into()),
            Err(error) => Err(error),
        };
        let mut waits = worker.waits.lock().expect("waits");
        match recorded {
            Ok(()) => {
                waits.remove(&key);
            }
            // Looked up (never sent again blindly) after a growing wait.
            Err(error) => {
                tracing::warn!(%tenant, attempt = %job.attempt.id, %error, "collection attempt not resolved yet");
                let wait = waits
                    .get(&key)
                    .map(|(_, wait)| (wait * 2).min(LOOKUP_BACKOFF_MS_MAX))
                    .unwrap_or(LOOKUP_BACKOFF_MS_MIN);
                waits.insert(key, (Instant::now() + Duration::from_millis(wait), wait));
            }
        }
    }
    Ok(())
}

/// The adapter's answer about `job`: looked up first if it was sent
/// before, sent (again, with the same key) only if the adapter never saw
/// it; none when the answer is lost for now.
fn send(
    engine: &Engine,
    worker: &Worker,
    tenant: &str,
    job: &Job,
) -> Result<Option<ProcessorAnswer>, WorkError> {
    let attempt = &job.attempt;
    let store = engine.store().as_ref();
    if store
        .get_blob(tenant, SENDS_NAMESPACE, &attempt.id)?
        .is_some()
    {
        let url = format!("{}/attempts/{}", job.url, attempt.id);
        match worker.client.get(&url).send() {
            Ok(response) if response.status() == reqwest::StatusCode::NOT_FOUND => {}
            Ok(response) if response.status().is_success() => {
                return Ok(response.json::<ProcessorAnswer>().ok());
            }
            Ok(response) => {
                tracing::warn!(%tenant, attempt = %attempt.id, status = %response.status(), "collection look-up failed");
                return Ok(None);
            }
            Err(error) => {
                tracing::warn!(%tenant, attempt = %attempt.id, timeout = error.is_timeout(), "collection look-up failed");
                return Ok(None);
            }
        }
    }
    let Some(token_ref) = &job.token_ref else {
        return Ok(Some(ProcessorAnswer::Failed {
            code: "payment_method_detached".into(),
            retryable: false,
            class: Some(FailureClass::HardDecline),
        }));
    };
    let token = worker.secrets.payment_token(store, tenant, token_ref)?;
    // Durable before the request leaves: a crash after it is resolved by
    // the look-up.
    store.put_blob(tenant, SENDS_NAMESPACE, &attempt.id, b"sent")?;
    let request = AttemptRequest {
        attempt: attempt.id.clone(),
        idempotency_key: attempt.idempotency_key.clone(),
        amount: Money::new(attempt.amount.amount, attempt.amount.currency),
        method_token: token,
        account: attempt.account.clone(),
        invoice: attempt.invoice.clone(),
    };
    let answer = worker
        .client
        .post(format!("{}/attempts", job.url))
        .header("idempotency-key", &attempt.idempotency_key)
        .json(&request)
        .send();
    match answer {
        Ok(response) if response.status().is_success() => {
            Ok(response.json::<ProcessorAnswer>().ok())
        }
        Ok(response) if response.status().is_client_error() => {
            let status = response.status().as_u16();
            tracing::warn!(%tenant, attempt = %attempt.id, status, "the adapter refused a collection");
            Ok(Some(ProcessorAnswer::Failed {
                code: format!("adapter_refused_{status}"),
                retryable: true,
                class: Some(FailureClass::ProcessorError),
            }))
        }
        Ok(response) => {
            tracing::warn!(%tenant, attempt = %attempt.id, status = %response.status(), "collection answer lost");
            Ok(None)
        }
        Err(error) => {
            tracing::warn!(%tenant, attempt = %attempt.id, timeout = error.is_timeout(), "collection answer lost");
            Ok(None)
        }
    }
}

fn record(
    engine: &Engine,
    tenant: &str,
    attempt: &str,
    answer: ProcessorAnswer,
) -> Result<(), WorkError> {
    let meta = RequestMeta {
        actor: COLLECTIONS_ACTOR.to_string(),
        issued_at: Utc::now(),
        idempotency_key: None,
        arithmetic: crate::billing::Arithmetic::Written,
    };
    let command = EngineCommand::Payments(PaymentCommand::RecordAnswer {
        attempt: attempt.to_string(),
        answer,
    });
    match engine.execute(tenant, &command, &meta) {
        Ok(_) => Ok(()),
        // Resolved meanwhile (a processor event came first).
        Err(crate::engine::EngineError::Payments(_)) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

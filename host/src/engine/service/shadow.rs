//! Shadow rating through the engine service: the champion's rating calls of
//! a committed command are sent to the product's challenger after the
//! command was answered, on a thread of their own, and the comparison is
//! recorded as a command of its own ([`ShadowRecord`], event
//! `shadow_rated`).
//!
//! - While a command is decided for commit, the resolver is wrapped in a
//!   [`Recorder`] when a product of the tenant names a challenger: every
//!   call the champion answers for such a product is copied (request, call
//!   locators, answer). The champion's answer is returned untouched, so the
//!   decision (and a preview, which is never recorded) is the same.
//! - Once the command's events are durable, the copies are queued
//!   ([`SHADOW_QUEUE_JOBS_MAX`] jobs at most; a full queue drops the job and
//!   counts its calls as skipped). Queueing never waits.
//! - One worker thread asks the challenger, resolved through the same
//!   resolver as the champion (so a plugin runs with its usual fuel, memory
//!   and time limits and an external rater with its timeout), compares the
//!   answers ([`crate::rating::shadow::compare`]) and records them with
//!   [`Engine::execute`]. Any failure of the challenger (an error, a
//!   decline, a timeout, a panic, a rater that does not exist) is recorded
//!   as an error of its kind; it never reaches the command, which was
//!   answered before.
//!
//! So the champion's answer waits for nothing of the challenger: only the
//! copy of each request is on the answer path. The challenger competes for
//! CPU with other work, one call at a time. A record lost in a crash
//! between the commit and the record is not compared (the report counts
//! only what was recorded).

use super::{Engine, RequestMeta};
use crate::engine::command::EngineCommand;
use crate::engine::shadow_report::{ShadowCall, ShadowRecord, ShadowSample};
use crate::engine::state::TenantState;
use crate::rating::shadow::{ChallengerError, ChargeNames, ShadowOutcome, compare};
use crate::rating::{
    CallLocators, RateRequest, RateResponse, Rater, RaterIdentity, RaterResolver, RatingChain,
    RatingError,
};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

/// The most jobs (one per committed command and product) waiting for the
/// challenger; more are dropped and counted as skipped.
pub const SHADOW_QUEUE_JOBS_MAX: usize = 256;

/// The actor of shadow records in the log.
pub const SHADOW_ACTOR: &str = "premia:shadow";

/// What a product's challenger is and the names its answers' lines book to.
#[derive(Debug, Clone)]
struct Target {
    challenger: RatingChain,
    names: ChargeNames,
}

/// A call the champion answered.
#[derive(Debug, Clone)]
struct RecordedCall {
    request: RateRequest,
    locators: CallLocators,
    champion: RateResponse,
    champion_rater: RaterIdentity,
}

type Calls = Arc<Mutex<Vec<RecordedCall>>>;

/// The calls of one committed command for one product, to ask its
/// challenger.
#[derive(Debug)]
pub(super) struct ShadowJob {
    tenant: String,
    product: String,
    target: Target,
    calls: Vec<RecordedCall>,
}

/// A resolver that copies the champion's answers for products with a
/// challenger.
pub(super) struct Recorder<'a> {
    inner: &'a dyn RaterResolver,
    targets: Arc<BTreeMap<String, Target>>,
    calls: Calls,
}

impl<'a> Recorder<'a> {
    /// A recorder over `inner` when a product of `state` names a challenger.
    pub(super) fn for_state(inner: &'a dyn RaterResolver, state: &TenantState) -> Option<Self> {
        let targets: BTreeMap<String, Target> = state
            .book
            .products
            .values()
            .filter_map(|product| {
                let shadow = product.shadow.as_ref()?;
                Some((
                    product.name.clone(),
                    Target {
                        challenger: shadow.rater.clone(),
                        names: ChargeNames {
                            premium: product.premium_charge.clone(),
                            commission: product
                                .commission_charge
                                .clone()
                                .unwrap_or_else(|| "commission".to_string()),
                        },
                    },
                ))
            })
            .collect();
        (!targets.is_empty()).then(|| Recorder {
            inner,
            targets: Arc::new(targets),
            calls: Calls::default(),
        })
    }

    /// The calls recorded, one job per product, in the order first asked.
    pub(super) fn jobs(self, tenant: &str) -> Vec<ShadowJob> {
        let calls = std::mem::take(&mut *self.calls.lock().expect("shadow calls lock"));
        let mut jobs: Vec<ShadowJob> = Vec::new();
        for call in calls {
            let product = &call.request.policy.product_name;
            match jobs.iter_mut().find(|j| &j.product == product) {
                Some(job) => job.calls.push(call),
                None => {
                    let Some(target) = self.targets.get(product) else {
                        continue;
                    };
                    jobs.push(ShadowJob {
                        tenant: tenant.to_string(),
                        product: product.clone(),
                        target: target.clone(),
                        calls: vec![call],
                    });
                }
            }
        }
        jobs
    }
}

impl RaterResolver for Recorder<'_> {
    fn resolve(&self, chain: &RatingChain) -> Result<Arc<dyn Rater>, RatingError> {
        let inner = self.inner.resolve(chain)?;
        Ok(Arc::new(RecordingRater {
            inner,
            targets: Arc::clone(&self.targets),
            calls: Arc::clone(&self.calls),
        }))
    }

    fn prices_in_process(&self, chain: &RatingChain) -> bool {
        self.inner.prices_in_process(chain)
    }
}

/// The champion, with its answers for products with a challenger copied.
struct RecordingRater {
    inner: Arc<dyn Rater>,
    targets: Arc<BTreeMap<String, Target>>,
    calls: Calls,
}

impl RecordingRater {
    fn keep(
        &self,
        request: &RateRequest,
        locators: &CallLocators,
        answer: &Result<(RateResponse, RaterIdentity), RatingError>,
    ) {
        if let Ok((response, identity)) = answer
            && self.targets.contains_key(&request.policy.product_name)
        {
            self.calls
                .lock()
                .expect("shadow calls lock")
                .push(RecordedCall {
                    request: request.clone(),
                    locators: locators.clone(),
                    champion: response.clone(),
                    champion_rater: identity.clone(),
                });
        }
    }
}

impl Rater for RecordingRater {
    fn rate(&self, request: &RateRequest) -> Result<RateResponse, RatingError> {
        self.rate_with_identity(request)
            .map(|(response, _)| response)
    }

    fn identity(&self) -> RaterIdentity {
        self.inner.identity()
    }

    fn rate_with_identity(
        &self,
        request: &RateRequest,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        let answer = self.inner.rate_with_identity(request);
        self.keep(request, &CallLocators::default(), &answer);
        answer
    }

    fn rate_with_call_locators(
        &self,
        request: &RateRequest,
        locators: &CallLocators,
    ) -> Result<(RateResponse, RaterIdentity), RatingError> {
        let answer = self.inner.rate_with_call_locators(request, locators);
        self.keep(request, locators, &answer);
        answer
    }
}

/// Jobs waiting or running, for [`Engine::wait_for_shadow_rating`].
#[derive(Default)]
struct Pending {
    jobs: Mutex<usize>,
    idle: Condvar,
}

impl Pending {
    fn add(&self) {
        *self.jobs.lock().expect("shadow pending lock") += 1;
    }

    fn done(&self) {
        let mut jobs = self.jobs.lock().expect("shadow pending lock");
        *jobs = jobs.saturating_sub(1);
        if *jobs == 0 {
            self.idle.notify_all();
        }
    }
}

/// The queue of jobs to the shadow worker.
pub(super) struct ShadowQueue {
    sender: SyncSender<ShadowJob>,
    pending: Arc<Pending>,
    /// Calls dropped per tenant and product, carried by the next record.
    skipped: Arc<Mutex<BTreeMap<(String, String), u64>>>,
}

impl Engine {
    /// Starts the shadow worker of `engine`: from now on the rating calls of
    /// committed commands are also sent to their product's challenger. An
    /// engine without it sends nothing to challengers.
    pub fn start_shadow_rating(engine: &Arc<Engine>) {
        let (sender, receiver) = sync_channel(SHADOW_QUEUE_JOBS_MAX);
        let queue = ShadowQueue {
            sender,
            pending: Arc::default(),
            skipped: Arc::default(),
        };
        let pending = Arc::clone(&queue.pending);
        let skipped = Arc::clone(&queue.skipped);
        if engine.shadow.set(queue).is_err() {
            return;
        }
        let weak = Arc::downgrade(engine);
        let started = std::thread::Builder::new()
            .name("premia-shadow".into())
            .spawn(move || work(&weak, &receiver, &pending, &skipped));
        if let Err(error) = started {
            tracing::error!(%error, "could not start the shadow rating worker");
        }
    }

    /// Waits until every queued shadow job is recorded, at most `timeout`;
    /// whether it got there.
    pub fn wait_for_shadow_rating(&self, timeout: Duration) -> bool {
        let Some(queue) = self.shadow.get() else {
            return true;
        };
        let jobs = queue.pending.jobs.lock().expect("shadow pending lock");
        let (jobs, _) = queue
            .pending
            .idle
            .wait_timeout_while(jobs, timeout, |jobs| *jobs > 0)
            .expect("shadow pending lock");
        *jobs == 0
    }

    /// A recorder over the engine's raters for a command to be committed on
    /// `state`, if the worker runs and a product has a challenger.
    pub(super) fn shadow_recorder<'a>(&'a self, state: &TenantState) -> Option<Recorder<'a>> {
        self.shadow.get()?;
        Recorder::for_state(self.raters.as_ref(), state)
    }

    /// Queues the jobs of a committed command; never waits.
    pub(super) fn submit_shadow(&self, jobs: Vec<ShadowJob>) {
        let Some(queue) = self.shadow.get() else {
            return;
        };
        for job in jobs {
            queue.pending.add();
            if let Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) =
                queue.sender.try_send(job)
            {
                queue.pending.done();
                tracing::warn!(
                    tenant = %job.tenant,
                    product = %job.product,
                    calls = job.calls.len(),
                    "shadow queue full; calls skipped"
                );
                *queue
                    .skipped
                    .lock()
                    .expect("shadow skipped lock")
                    .entry((job.tenant, job.product))
                    .or_default() += job.calls.len() as u64;
            }
        }
    }
}

/// The worker: asks the challenger for each job and records the comparison,
/// until the engine is dropped.
fn work(
    engine: &Weak<Engine>,
    receiver: &Receiver<ShadowJob>,
    pending: &Pending,
    skipped: &Mutex<BTreeMap<(String, String), u64>>,
) {
    while let Ok(job) = receiver.recv() {
        let Some(engine) = engine.upgrade() else {
            return;
        };
        let dropped = skipped
            .lock()
            .expect("shadow skipped lock")
            .remove(&(job.tenant.clone(), job.product.clone()))
            .unwrap_or_default();
        let tenant = job.tenant.clone();
        let record = ShadowRecord {
            skipped: dropped,
            ..challenge(engine.raters.as_ref(), job)
        };
        let meta = RequestMeta {
            actor: SHADOW_ACTOR.to_string(),
            issued_at: chrono::Utc::now(),
            idempotency_key: None,
            arithmetic: Default::default(),
        };
        if let Err(error) = engine.execute(&tenant, &EngineCommand::Shadow(record), &meta) {
            tracing::warn!(%tenant, %error, "shadow record not kept");
        }
        pending.done();
    }
}

/// Asks the job's challenger every call and compares the answers.
fn challenge(raters: &dyn RaterResolver, job: ShadowJob) -> ShadowRecord {
    let challenger = raters.resolve(&job.target.challenger);
    let calls = job
        .calls
        .into_iter()
        .map(|call| {
            let answer = match &challenger {
                Ok(rater) => catch_unwind(AssertUnwindSafe(|| {
                    rater.rate_with_call_locators(&call.request, &call.locators)
                }))
                .map_err(|_| ()),
                Err(error) => Ok(Err(error.clone())),
            };
            let (outcome, challenger_answer) = match answer {
                Ok(Ok((response, identity))) => (
                    compare(
                        &call.request,
                        &call.champion,
                        Ok(&response),
                        &job.target.names,
                    ),
                    Some((response, identity)),
                ),
                Ok(Err(error)) => (ShadowOutcome::failed(&error), None),
                Err(()) => (
                    ShadowOutcome::Failed {
                        error: ChallengerError {
                            kind: "panic".to_string(),
                            message: "the challenger panicked".to_string(),
                        },
                    },
                    None,
                ),
            };
            let (challenger, challenger_rater) = challenger_answer.unzip();
            ShadowCall {
                policy: call.request.policy.locator.clone(),
                operation: call.request.operation,
                segment: call.request.segment,
                outcome,
                sample: Some(Box::new(ShadowSample {
                    request: call.request,
                    champion: call.champion,
                    champion_rater: call.champion_rater,
                    challenger,
                    challenger_rater,
                })),
            }
        })
        .collect();
    ShadowRecord {
        product: job.product,
        calls,
        skipped: 0,
    }
}

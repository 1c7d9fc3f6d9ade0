//! The engine service: tenants' states kept in memory, every command made
//! durable in the event log before it is acknowledged, idempotency keys
//! honoured, and the state rebuilt from the log at start-up.
//!
//! A command runs under its tenant's lock only while it is decided, queued
//! for commit and applied; the wait for durability happens outside the lock.
//! The store commits in queue order, so the log order is the order the state
//! saw, and concurrent commands of one tenant share one fsync (sled) or one
//! transaction (PostgreSQL). Nobody is answered before their events are
//! durable; if an append fails after its events were applied, the tenant's
//! state is rebuilt from the log.
//!
//! Every append names the sequence the tenant's state has reached
//! (`expected_last_sequence`), so the store refuses a command decided on a
//! state that missed an event. On a store shared by several hosts
//! ([`Store::shared`], PostgreSQL), a host first reads and applies what the
//! others appended (catch-up, before reads and before commands when none of
//! its own are in flight), and its commands are pipelined as on sled, each
//! append naming the tenant's chain (`AppendRequest::chain`): if another
//! host appended in between, the store refuses the first append of the
//! chain with `SequenceConflict` and every later one, the state (which
//! applied them) is rebuilt from the log under a new chain, and each refused
//! command is decided again. After such a race the tenant commits one
//! command at a time under its lock for [`SHARED_CONTENDED_MS`], each
//! holding the tenant's log against the other hosts while it catches up,
//! decides and commits (`Store::lock_tenant`: on PostgreSQL the tenant's
//! row `FOR UPDATE`), so hosts take turns instead of racing and no command
//! is refused for losing races; a store that cannot hold a tenant falls
//! back to racing with a random back-off, up to [`COMMIT_ATTEMPTS`]
//! decisions.
//!
//! Example: host A has payments 1..=5 of tenant t in flight (sequences
//! 101..=105 applied, chain 7) when host B commits sequence 101. A's store
//! refuses payment 1 (expected 100, log at 101) and payments 2..=5 (chain 7
//! broken, even payment 2 whose expected 101 the log happens to match); A
//! rebuilds t from the log (B's event included, chain 8) and decides the
//! five payments again, one at a time, each holding t's row, as 102..=106.

mod billing_run;
mod bundle_preview;
pub mod collect;
mod quote_schedule;
mod shadow;
pub mod webhooks;

pub use billing_run::{RUN_APPEND_EVENTS, RUN_APPENDS_IN_FLIGHT, RUN_LOCK_ACCOUNTS_MAX};
pub use bundle_preview::{PreviewStep, SummarizedPreview};
pub use shadow::{SHADOW_ACTOR, SHADOW_QUEUE_JOBS_MAX};

use super::command::EngineCommand;
use super::snapshot::{self, SNAPSHOT_INTERVAL_EVENTS};
use super::state::{EngineError, TenantEvent, TenantState};
use crate::billing::Arithmetic;
use crate::collections::{InvoiceAdjuster, NoInvoicingPlugins};
use crate::config::{ConfigSink, NoConfigSink};
use crate::ledger::{AccountKey, JournalEntry, Ledger};
use crate::policy::{
    ChargeAudit, CommandContext, RaterResolver, RatingChain, TransactionRecord, explain,
};
use crate::store::{
    AppendOutcome, AppendRequest, CommandMeta, NewEvent, Probed, Store, StoreError, StoredEvent,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Events read per batch when rebuilding a tenant.
const REBUILD_BATCH_EVENTS: usize = 10_000;

/// How many times a command is decided and committed on a shared store when
/// other hosts keep appending first.
pub const COMMIT_ATTEMPTS: usize = 16;

/// How long a tenant commits one command at a time, under its lock, after
/// another host appended to it while this host had commands in flight.
pub const SHARED_CONTENDED_MS: u64 = 1_000;

/// A chain number no other state of this process uses (see
/// `AppendRequest::chain`).
fn next_chain() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Who sends a command and how to recognise a retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMeta {
    pub actor: String,
    pub issued_at: DateTime<Utc>,
    pub idempotency_key: Option<String>,
    /// [`Arithmetic::Skipped`] for a quote: charges without their
    /// arithmetic in words (nothing is kept, no explanation is shown).
    pub arithmetic: Arithmetic,
}

/// What a shared store answered when a request was authenticated
/// ([`Engine::read_fresh`]): where the tenant's log ended and the record of
/// the request's idempotency key. The request's command decides on it
/// ([`Engine::execute_fresh`]) instead of asking again: what other hosts
/// commit after the question is concurrent with the request, and caught as
/// on any attempt (an event makes the append conflict and the command is
/// decided again; the same key is caught by the store, `Replayed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fresh {
    pub idempotency_key: Option<String>,
    pub probed: Probed,
}

/// What one command's attempts on a shared store carry from one to the next.
struct Attempts {
    /// The probe asked when the request was authenticated: the first
    /// attempt's.
    fresh: Option<Probed>,
    /// The command's entry among the tenant's keys in flight, once it has one.
    key_wait: Option<(String, Arc<KeyWait>)>,
}

/// What a committed (or replayed) command did.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutcome {
    /// The events it appended, in order.
    pub events: Vec<TenantEvent>,
    /// True when this is the stored answer to an earlier request with the
    /// same idempotency key: nothing was done again.
    #[serde(default)]
    pub replayed: bool,
}

/// A balance before and after a preview.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BalanceChange {
    pub account: AccountKey,
    pub before: Decimal,
    pub after: Decimal,
}

/// The full effect of commands that were not committed.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewOutcome {
    pub events: Vec<TenantEvent>,
    /// Every balance the previewed journal entries touch.
    pub balances: Vec<BalanceChange>,
}

/// A command whose append is in flight, for a retry with the same key to
/// wait on instead of deciding again.
struct KeyWait {
    request_hash: String,
    done: Mutex<Option<Result<CommandOutcome, EngineError>>>,
    signal: Condvar,
}

impl KeyWait {
    fn wait(&self) -> Result<CommandOutcome, EngineError> {
        let mut done = self.done.lock().expect("key wait lock");
        while done.is_none() {
            done = self.signal.wait(done).expect("key wait lock");
        }
        done.clone().expect("set before the signal")
    }

    fn finish(&self, result: &Result<CommandOutcome, EngineError>) {
        *self.done.lock().expect("key wait lock") = Some(result.clone());
        self.signal.notify_all();
    }
}

/// A tenant's state, the idempotency keys of its commands in flight, and
/// whether a failed append left the state ahead of the log.
struct Tenant {
    state: TenantState,
    /// The sequence of the last event the state includes (applied events
    /// whose append is still in flight included).
    applied: u64,
    in_flight: HashMap<String, Arc<KeyWait>>,
    poisoned: bool,
    /// The sequence of the tenant's latest snapshot known here.
    snapshot_at: u64,
    /// The configuration generation and test-clock day last handed to the
    /// config sink.
    config_seen: (u64, Option<chrono::NaiveDate>),
    /// The chain the appends decided on this state belong to; a new one
    /// after every rebuild.
    chain: u64,
    /// Appends queued and not yet answered: while there are, the state is
    /// ahead of the log and is not caught up with other hosts.
    appends_in_flight: usize,
    /// Until when commands commit one at a time (another host raced).
    contended_until: Option<std::time::Instant>,
}

impl Tenant {
    /// Applies events the log holds (or will hold) to the state; a failure
    /// poisons the tenant, which is rebuilt from its log before its next use.
    fn apply_all(&mut self, events: &[TenantEvent]) -> Result<(), EngineError> {
        for event in events {
            if let Err(error) = self.state.apply(event) {
                self.poisoned = true;
                return Err(error);
            }
        }
        Ok(())
    }

    /// A tenant state with nothing in flight.
    fn new(state: TenantState, applied: u64, snapshot_at: u64) -> Self {
        Tenant {
            state,
            applied,
            in_flight: HashMap::new(),
            poisoned: false,
            snapshot_at,
            config_seen: (0, None),
            chain: next_chain(),
            appends_in_flight: 0,
            contended_until: None,
        }
    }

    /// After the store refused (or replayed) an append made under the lock
    /// and not applied: its chain is broken in the store, so later appends
    /// need a new one; if appends of the chain are still in flight, their
    /// events are in the state and it is rebuilt instead.
    fn refused_unapplied(&mut self) {
        if self.appends_in_flight == 0 {
            self.chain = next_chain();
        } else {
            self.poisoned = true;
        }
    }

    /// Whether commands commit one at a time now.
    fn contended(&self) -> bool {
        self.contended_until
            .is_some_and(|until| std::time::Instant::now() < until)
    }

    fn mark_contended(&mut self) {
        self.contended_until =
            Some(std::time::Instant::now() + std::time::Duration::from_millis(SHARED_CONTENDED_MS));
    }
}

/// The context commands are decided in, from the request and the tenant's
/// state: a test tenant's commands arrive on its clock's today.
fn command_context(meta: &RequestMeta, state: &TenantState) -> CommandContext {
    CommandContext {
        actor: meta.actor.clone(),
        issued_at: meta.issued_at,
        idempotency_key: meta.idempotency_key.clone(),
        arithmetic: meta.arithmetic,
        pending_slices: None,
        today: state.clock.test_today,
    }
}

/// Refuses a billing-run command past the tenant's today (the runs of
/// [`Engine::run_billing`] are checked before they start).
fn refuse_future_run(state: &TenantState, command: &EngineCommand) -> Result<(), EngineError> {
    if let EngineCommand::Billing(crate::collections::BillingCommand::RunAccount {
        up_to, ..
    }) = command
    {
        state.run_date(Some(*up_to), Utc::now())?;
    }
    Ok(())
}

type TenantSlot = Arc<RwLock<Tenant>>;

/// Tenants' states over a durable store.
pub struct Engine {
    store: Arc<dyn Store>,
    raters: Arc<dyn RaterResolver + Send + Sync>,
    adjuster: Arc<dyn InvoiceAdjuster + Send + Sync>,
    /// Puts each tenant's configuration in use on this host.
    config_sink: Arc<dyn ConfigSink>,
    tenants: RwLock<HashMap<String, TenantSlot>>,
    commands: AtomicU64,
    /// Commands decided again because another host appended first.
    retries: AtomicU64,
    /// The queue to the shadow rating worker, once started.
    shadow: std::sync::OnceLock<shadow::ShadowQueue>,
    /// Events between two snapshots of a tenant taken while it runs.
    snapshot_interval: u64,
    /// Tenants whose snapshot is being taken in the background.
    snapshotting: Arc<Mutex<BTreeSet<String>>>,
}

/// A stable hash of a command's body, to tell a retry from a different
/// request under the same idempotency key.
pub fn request_hash(command: &EngineCommand) -> String {
    let body = serde_json::to_vec(command).expect("commands serialize");
    hex::encode(Sha256::digest(body))
}

pub(super) fn store_error(error: StoreError) -> EngineError {
    EngineError::Store(error.to_string())
}

impl Engine {
    /// Opens the engine over `store`, rebuilding every tenant from its log.
    pub fn open(
        store: Arc<dyn Store>,
        raters: Arc<dyn RaterResolver + Send + Sync>,
    ) -> Result<Self, EngineError> {
        let engine = Engine {
            store,
            raters,
            adjuster: Arc::new(NoInvoicingPlugins),
            config_sink: Arc::new(NoConfigSink),
            tenants: RwLock::new(HashMap::new()),
            commands: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            shadow: std::sync::OnceLock::new(),
            snapshot_interval: SNAPSHOT_INTERVAL_EVENTS,
            snapshotting: Arc::new(Mutex::new(BTreeSet::new())),
        };
        for tenant in engine.store.tenants().map_err(store_error)? {
            let (state, applied, snapshot_at) = engine.load_tenant(&tenant)?;
            let slot = Tenant::new(state, applied, snapshot_at);
            engine
                .tenants
                .write()
                .expect("tenants lock")
                .insert(tenant, Arc::new(RwLock::new(slot)));
        }
        crate::telemetry::tenants_loaded(engine.tenants.read().expect("tenants lock").len());
        Ok(engine)
    }

    /// The engine with invoicing plugins called through `adjuster`; without
    /// one, a product naming an invoicing plugin cannot be invoiced.
    pub fn with_invoice_adjuster(
        mut self,
        adjuster: Arc<dyn InvoiceAdjuster + Send + Sync>,
    ) -> Self {
        self.adjuster = adjuster;
        self
    }

    /// The engine with each tenant's configuration put in use through
    /// `sink`: now for every tenant it holds, then whenever a tenant's
    /// configuration moves (its commands, a catch-up with other hosts, a
    /// rebuild).
    pub fn with_config_sink(mut self, sink: Arc<dyn ConfigSink>) -> Self {
        self.config_sink = sink;
        let slots: Vec<(String, TenantSlot)> = self
            .tenants
            .read()
            .expect("tenants lock")
            .iter()
            .map(|(tenant, slot)| (tenant.clone(), Arc::clone(slot)))
            .collect();
        for (tenant, slot) in slots {
            let mut guard = slot.write().expect("tenant lock");
            let seen = (guard.state.config.generation, guard.state.clock.test_today);
            self.config_sink.apply(&tenant, &guard.state.config, seen.1);
            guard.config_seen = seen;
        }
        self
    }

    /// Hands the tenant's configuration to the sink if it (or a test
    /// tenant's clock) moved since.
    fn sync_config(&self, tenant: &str, slot: &mut Tenant) {
        let seen = (slot.state.config.generation, slot.state.clock.test_today);
        if seen != slot.config_seen {
            self.config_sink
                .apply(tenant, &slot.state.config, slot.state.clock.test_today);
            slot.config_seen = seen;
        }
    }

    /// Rebuilds a tenant's state from its log.
    pub fn rebuild(&self, tenant: &str) -> Result<TenantState, EngineError> {
        self.rebuild_to_end(tenant).map(|(state, _)| state)
    }

    /// A tenant's state rebuilt from its log, and the sequence it reached.
    fn rebuild_to_end(&self, tenant: &str) -> Result<(TenantState, u64), EngineError> {
        self.load_tenant(tenant)
            .map(|(state, applied, _)| (state, applied))
    }

    /// A tenant's state from its latest good snapshot and the events after
    /// it (or from the whole log when it has no good snapshot), the sequence
    /// it reached and the snapshot's sequence (0 without one).
    fn load_tenant(&self, tenant: &str) -> Result<(TenantState, u64, u64), EngineError> {
        let started = std::time::Instant::now();
        let (mut state, from) = match self.good_snapshot(tenant) {
            Some(loaded) => (loaded.state, loaded.sequence),
            None => (TenantState::new(tenant)?, 0),
        };
        let applied = self.apply_from(tenant, &mut state, from)?;
        crate::telemetry::tenant_loaded(started.elapsed(), applied - from);
        tracing::info!(
            tenant,
            snapshot_sequence = from,
            replayed = applied - from,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "tenant loaded"
        );
        Ok((state, applied, from))
    }

    /// The tenant's latest snapshot, if it is good; a snapshot that cannot
    /// be used is logged and ignored.
    fn good_snapshot(&self, tenant: &str) -> Option<snapshot::Loaded> {
        let started = std::time::Instant::now();
        match snapshot::load(self.store.as_ref(), tenant) {
            Ok(Some(loaded)) => {
                crate::telemetry::snapshot_loaded(started.elapsed());
                Some(loaded)
            }
            Ok(None) => None,
            Err(error) => {
                crate::telemetry::snapshot_ignored(error.code());
                tracing::warn!(tenant, code = error.code(), %error, "snapshot ignored; replaying the log");
                None
            }
        }
    }

    /// The engine taking a snapshot of a tenant every `events` events
    /// (default [`SNAPSHOT_INTERVAL_EVENTS`]).
    pub fn with_snapshot_interval(mut self, events: u64) -> Self {
        self.snapshot_interval = events.max(1);
        self
    }

    /// Saves a snapshot of the tenant's state now, if every event it
    /// includes is durable and it is newer than the last one: what was
    /// saved, if anything.
    pub fn snapshot(&self, tenant: &str) -> Result<Option<snapshot::Saved>, EngineError> {
        let Some(slot) = self
            .tenants
            .read()
            .expect("tenants lock")
            .get(tenant)
            .cloned()
        else {
            return Ok(None);
        };
        take_snapshot(self.store.as_ref(), tenant, &slot)
            .map_err(|e| EngineError::Store(e.to_string()))
    }

    /// Saves a snapshot of every tenant (at a clean shutdown); a tenant
    /// that fails is logged and the others are saved.
    pub fn snapshot_all(&self) {
        for tenant in self.tenants() {
            if let Err(error) = self.snapshot(&tenant) {
                tracing::warn!(tenant, %error, "snapshot at shutdown failed");
            }
        }
    }

    /// Starts a snapshot of the tenant in the background if it moved
    /// [`Engine::with_snapshot_interval`] events past its last one.
    fn snapshot_if_due(&self, tenant: &str, slot: &TenantSlot) {
        let due = {
            let guard = slot.read().expect("tenant lock");
            !guard.poisoned && guard.applied >= guard.snapshot_at + self.snapshot_interval
        };
        if !due
            || !self
                .snapshotting
                .lock()
                .expect("snapshotting lock")
                .insert(tenant.to_string())
        {
            return;
        }
        let store = Arc::clone(&self.store);
        let slot = Arc::clone(slot);
        let running = Arc::clone(&self.snapshotting);
        let tenant = tenant.to_string();
        let interval = self.snapshot_interval;
        let spawned = std::thread::Builder::new()
            .name("premia-snapshot".into())
            .spawn(move || {
                loop {
                    let saved = take_snapshot(store.as_ref(), &tenant, &slot);
                    running.lock().expect("snapshotting lock").remove(&tenant);
                    match saved {
                        Ok(Some(_)) => {}
                        // Nothing to save yet (appends in flight): the
                        // command that makes them durable asks again.
                        Ok(None) => return,
                        Err(error) => {
                            tracing::warn!(tenant, %error, "snapshot failed");
                            return;
                        }
                    }
                    // Commands that found this save running started none:
                    // the next is taken now if one is due, not left to the
                    // tenant's next command (which may never come).
                    let due = {
                        let guard = slot.read().expect("tenant lock");
                        !guard.poisoned && guard.applied >= guard.snapshot_at + interval
                    };
                    if !due
                        || !running
                            .lock()
                            .expect("snapshotting lock")
                            .insert(tenant.clone())
                    {
                        return;
                    }
                }
            });
        if spawned.is_err() {
            tracing::warn!("could not start a snapshot thread");
        }
    }

    /// Applies the tenant's events after `after` to `state`; returns the
    /// sequence of the last one (or `after`).
    fn apply_from(
        &self,
        tenant: &str,
        state: &mut TenantState,
        mut after: u64,
    ) -> Result<u64, EngineError> {
        loop {
            let batch = self
                .store
                .read(tenant, after, REBUILD_BATCH_EVENTS)
                .map_err(store_error)?;
            let Some(last) = batch.last() else { break };
            if batch.first().map(|e| e.sequence) != Some(after + 1) {
                return Err(EngineError::Corrupt(format!(
                    "the log of {tenant} continues after {after} at {}",
                    batch[0].sequence
                )));
            }
            after = last.sequence;
            for stored in &batch {
                state.apply(&decode(stored)?)?;
            }
        }
        Ok(after)
    }

    /// On a shared store, applies what other hosts appended since the state
    /// was last brought up to date. A failure leaves the state to be rebuilt.
    fn catch_up(&self, tenant: &str, tenant_slot: &mut Tenant) -> Result<(), EngineError> {
        if !self.store.shared() {
            return Ok(());
        }
        match self.catch_up_events(tenant, tenant_slot) {
            Ok(()) => Ok(()),
            Err(error) => {
                tenant_slot.poisoned = true;
                Err(error)
            }
        }
    }

    /// Applies the events other hosts appended after the state. A host far
    /// behind (a tenant it had never loaded, or a full read batch behind)
    /// first moves to the tenant's latest good snapshot if it is ahead of
    /// its state, as at start-up; the usual catch-up of a few events costs
    /// nothing more than its one read.
    fn catch_up_events(&self, tenant: &str, slot: &mut Tenant) -> Result<(), EngineError> {
        // The usual case, nothing new: one freshness probe (which the
        // store answers for many callers at once) instead of a read.
        if self.store.last_sequence(tenant).map_err(store_error)? <= slot.applied {
            return Ok(());
        }
        let mut looked_for_snapshot = false;
        loop {
            let batch = self
                .store
                .read(tenant, slot.applied, REBUILD_BATCH_EVENTS)
                .map_err(store_error)?;
            if !looked_for_snapshot && batch.len() >= REBUILD_BATCH_EVENTS {
                looked_for_snapshot = true;
                if let Some(loaded) = self.good_snapshot(tenant)
                    && loaded.sequence > slot.applied
                {
                    tracing::info!(
                        tenant,
                        from = slot.applied,
                        to = loaded.sequence,
                        "caught up from a snapshot"
                    );
                    slot.state = loaded.state;
                    slot.applied = loaded.sequence;
                    slot.snapshot_at = loaded.sequence;
                    continue;
                }
            }
            let Some(last) = batch.last() else {
                return Ok(());
            };
            if batch.first().map(|e| e.sequence) != Some(slot.applied + 1) {
                return Err(EngineError::Corrupt(format!(
                    "the log of {tenant} continues after {} at {}",
                    slot.applied, batch[0].sequence
                )));
            }
            let last = last.sequence;
            for stored in &batch {
                slot.state.apply(&decode(stored)?)?;
            }
            slot.applied = last;
        }
    }

    fn slot(&self, tenant: &str) -> Result<TenantSlot, EngineError> {
        if let Some(slot) = self.tenants.read().expect("tenants lock").get(tenant) {
            return Ok(Arc::clone(slot));
        }
        let mut tenants = self.tenants.write().expect("tenants lock");
        if let Some(slot) = tenants.get(tenant) {
            return Ok(Arc::clone(slot));
        }
        let state = TenantState::new(tenant)?;
        let slot = Arc::new(RwLock::new(Tenant::new(state, 0, 0)));
        tenants.insert(tenant.to_string(), Arc::clone(&slot));
        crate::telemetry::tenants_loaded(tenants.len());
        Ok(slot)
    }

    /// The tenant's lock, with its state rebuilt first if a failed append
    /// left it ahead of the log, and (on a shared store) caught up with what
    /// other hosts appended.
    fn lock<'a>(
        &self,
        tenant: &str,
        slot: &'a TenantSlot,
    ) -> Result<RwLockWriteGuard<'a, Tenant>, EngineError> {
        self.lock_probed(tenant, slot, None)
    }

    /// [`Engine::lock`], knowing where the log ended just before (`probed`,
    /// on a shared store): no need to ask again.
    fn lock_probed<'a>(
        &self,
        tenant: &str,
        slot: &'a TenantSlot,
        probed: Option<u64>,
    ) -> Result<RwLockWriteGuard<'a, Tenant>, EngineError> {
        let mut guard = slot.write().expect("tenant lock");
        if guard.poisoned {
            let (state, applied, snapshot_at) = self.load_tenant(tenant)?;
            guard.state = state;
            guard.applied = applied;
            guard.snapshot_at = snapshot_at;
            guard.poisoned = false;
            guard.chain = next_chain();
        }
        // With appends in flight the state is ahead of the log: if another
        // host appended meanwhile, they are refused and the state rebuilt.
        if guard.appends_in_flight == 0 && probed.is_none_or(|last| last > guard.applied) {
            self.catch_up(tenant, &mut guard)?;
        }
        self.sync_config(tenant, &mut guard);
        Ok(guard)
    }

    /// The tenant's state for reading: many readers (queries, quotes) at
    /// once, none while a command is being decided and applied.
    fn read_lock<'a>(
        &self,
        tenant: &str,
        slot: &'a TenantSlot,
    ) -> Result<RwLockReadGuard<'a, Tenant>, EngineError> {
        // On a shared store, a read sees at least what was committed (by
        // any host) before it started.
        let end = if self.store.shared() {
            Some(self.store.last_sequence(tenant).map_err(store_error)?)
        } else {
            None
        };
        self.read_lock_to(tenant, slot, end)
    }

    /// [`Engine::read_lock`], knowing where the log ended (`end`, on a
    /// shared store) when the read started.
    fn read_lock_to<'a>(
        &self,
        tenant: &str,
        slot: &'a TenantSlot,
        end: Option<u64>,
    ) -> Result<RwLockReadGuard<'a, Tenant>, EngineError> {
        {
            let guard = slot.read().expect("tenant lock");
            if !guard.poisoned && end.is_none_or(|end| guard.applied >= end) {
                return Ok(guard);
            }
        }
        drop(self.lock_probed(tenant, slot, end)?);
        Ok(slot.read().expect("tenant lock"))
    }

    /// Runs a command: checks the idempotency key, decides, queues the events
    /// for commit, applies them, and answers once they are durable.
    ///
    /// The same key with the same command returns the first answer again
    /// (also while the first is still in flight); the same key with another
    /// command is refused with [`EngineError::IdempotencyConflict`]. A
    /// refused command changes nothing.
    pub fn execute(
        &self,
        tenant: &str,
        command: &EngineCommand,
        meta: &RequestMeta,
    ) -> Result<CommandOutcome, EngineError> {
        self.execute_fresh(tenant, command, meta, None)
    }

    /// [`Engine::execute`] with what a shared store answered when the
    /// request was authenticated ([`Engine::read_fresh`]): its first attempt
    /// decides on that answer instead of asking the store again.
    pub fn execute_fresh(
        &self,
        tenant: &str,
        command: &EngineCommand,
        meta: &RequestMeta,
        fresh: Option<Fresh>,
    ) -> Result<CommandOutcome, EngineError> {
        let hash = request_hash(command);
        let slot = self.slot(tenant)?;
        let result = if self.store.shared() {
            let fresh = fresh
                .filter(|fresh| fresh.idempotency_key == meta.idempotency_key)
                .map(|fresh| fresh.probed);
            self.execute_shared(tenant, command, meta, hash, &slot, fresh)
        } else {
            self.execute_local(tenant, command, meta, hash, &slot)
        };
        match &result {
            Ok(outcome) if outcome.replayed => crate::telemetry::command("replayed", "", 0),
            Ok(outcome) => {
                crate::telemetry::command("committed", "", outcome.events.len());
                self.snapshot_if_due(tenant, &slot);
            }
            Err(error) => crate::telemetry::command("refused", error.code(), 0),
        }
        result
    }

    /// [`Engine::execute`] on a store only this process appends to.
    fn execute_local(
        &self,
        tenant: &str,
        command: &EngineCommand,
        meta: &RequestMeta,
        hash: String,
        slot: &TenantSlot,
    ) -> Result<CommandOutcome, EngineError> {
        let (pending, outcome, key_wait, shadow_jobs) = {
            let mut guard = self.lock(tenant, slot)?;
            if let Some(key) = &meta.idempotency_key {
                if let Some(in_flight) = guard.in_flight.get(key).cloned() {
                    drop(guard);
                    if in_flight.request_hash != hash {
                        return Err(EngineError::IdempotencyConflict(key.clone()));
                    }
                    let mut outcome = in_flight.wait()?;
                    outcome.replayed = true;
                    return Ok(outcome);
                }
                if let Some(outcome) = self.replay(tenant, key, &hash)? {
                    return Ok(outcome);
                }
            }
            let (outcome, request, shadow_jobs) =
                self.decide_append(tenant, &guard, command, meta, &hash)?;
            let pending = self.store.submit_append(request).map_err(append_error)?;
            guard.applied += outcome.events.len() as u64;
            guard.apply_all(&outcome.events)?;
            self.sync_config(tenant, &mut guard);
            let key_wait = meta.idempotency_key.as_ref().map(|key| {
                let wait = Arc::new(KeyWait {
                    request_hash: hash.clone(),
                    done: Mutex::new(None),
                    signal: Condvar::new(),
                });
                guard.in_flight.insert(key.clone(), Arc::clone(&wait));
                (key.clone(), wait)
            });
            (pending, outcome, key_wait, shadow_jobs)
        };
        let result = match pending.wait() {
            Ok(AppendOutcome::Committed { .. }) => {
                self.submit_shadow(shadow_jobs);
                Ok(outcome)
            }
            // Another host committed the same key first: the events applied
            // here are not in the log, so the state is rebuilt from it.
            Ok(AppendOutcome::Replayed { .. }) => {
                slot.write().expect("tenant lock").poisoned = true;
                let key = meta.idempotency_key.as_deref().unwrap_or_default();
                self.replay(tenant, key, &hash).and_then(|found| {
                    found.ok_or_else(|| {
                        EngineError::Corrupt(format!("key {key} replayed but not found"))
                    })
                })
            }
            Err(error) => {
                slot.write().expect("tenant lock").poisoned = true;
                Err(append_error(error))
            }
        };
        if let Some((key, wait)) = key_wait {
            wait.finish(&result);
            slot.write().expect("tenant lock").in_flight.remove(&key);
        }
        result
    }

    /// [`Engine::execute`] on a shared store: pipelined as on a local store,
    /// or one at a time under the lock while the tenant is contended;
    /// decided again when another host appended first.
    fn execute_shared(
        &self,
        tenant: &str,
        command: &EngineCommand,
        meta: &RequestMeta,
        hash: String,
        slot: &TenantSlot,
        fresh: Option<Probed>,
    ) -> Result<CommandOutcome, EngineError> {
        let mut attempts = Attempts {
            fresh,
            key_wait: None,
        };
        let result =
            self.execute_shared_attempts(tenant, command, meta, &hash, slot, &mut attempts);
        if let Some((key, wait)) = attempts.key_wait {
            wait.finish(&result);
            slot.write().expect("tenant lock").in_flight.remove(&key);
        }
        result
    }

    fn execute_shared_attempts(
        &self,
        tenant: &str,
        command: &EngineCommand,
        meta: &RequestMeta,
        hash: &str,
        slot: &TenantSlot,
        attempts: &mut Attempts,
    ) -> Result<CommandOutcome, EngineError> {
        let mut conflicts = 0;
        loop {
            // Asked before the lock, with where the log ends (one probe; the
            // first attempt's was asked when the request was authenticated):
            // a key committed meanwhile is caught by the store (`Replayed`),
            // which costs a rebuild but loses nothing; an event committed
            // meanwhile by another host makes the append conflict, and the
            // command is decided again.
            // On a contended tenant the other host appends all the time: an
            // answer asked before the request was read is likely stale, and
            // deciding on it likely loses the race; ask again.
            let fresh = attempts
                .fresh
                .take()
                .filter(|_| !slot.read().expect("tenant lock").contended());
            let probed = match fresh {
                Some(probed) => probed,
                None => self
                    .store
                    .probe(tenant, meta.idempotency_key.as_deref())
                    .map_err(store_error)?,
            };
            if let Some(key) = &meta.idempotency_key
                && let Some(record) = probed.record
            {
                return self.replay_record(tenant, key, hash, record);
            }
            let mut guard = self.lock_probed(tenant, slot, Some(probed.last_sequence))?;
            if let Some(key) = &meta.idempotency_key
                && let Some(other) = guard.in_flight.get(key).cloned()
                && !attempts
                    .key_wait
                    .as_ref()
                    .is_some_and(|(_, mine)| Arc::ptr_eq(mine, &other))
            {
                drop(guard);
                if other.request_hash != hash {
                    return Err(EngineError::IdempotencyConflict(key.clone()));
                }
                let mut outcome = other.wait()?;
                outcome.replayed = true;
                return Ok(outcome);
            }
            // Contended and nothing in flight: hold the tenant's log against
            // the other hosts (where the store can), catch up, and decide on
            // a state nobody can overtake before this append commits.
            let held = if guard.contended() && guard.appends_in_flight == 0 {
                self.store.lock_tenant(tenant).map_err(store_error)?
            } else {
                None
            };
            if let Some(held) = &held
                && held.last_sequence() > guard.applied
            {
                // Another host appended since: it is still active here, so
                // the tenant keeps taking turns rather than racing again.
                guard.mark_contended();
                self.catch_up(tenant, &mut guard)?;
            }
            let (outcome, mut request, shadow_jobs) =
                self.decide_append(tenant, &guard, command, meta, hash)?;
            let chain = guard.chain;
            request.chain = Some(chain);
            let committed = if guard.contended() {
                // One at a time: nothing is applied before it commits.
                let committed = match held {
                    Some(held) => {
                        crate::telemetry::tenant_locked();
                        held.append(request)
                    }
                    None => self.store.append(request),
                };
                match &committed {
                    Ok(AppendOutcome::Committed { last_sequence, .. }) => {
                        guard.apply_all(&outcome.events)?;
                        guard.applied = *last_sequence;
                        self.sync_config(tenant, &mut guard);
                    }
                    Ok(AppendOutcome::Replayed { .. }) => guard.refused_unapplied(),
                    Err(StoreError::SequenceConflict { .. }) => {
                        guard.refused_unapplied();
                        guard.mark_contended();
                    }
                    Err(_) => guard.refused_unapplied(),
                }
                drop(guard);
                committed
            } else {
                // Pipelined: applied now, durable (or refused) later.
                let pending = self.store.submit_append(request).map_err(append_error)?;
                guard.appends_in_flight += 1;
                guard.applied += outcome.events.len() as u64;
                let applied = guard.apply_all(&outcome.events);
                self.sync_config(tenant, &mut guard);
                if attempts.key_wait.is_none()
                    && let Some(key) = &meta.idempotency_key
                {
                    let wait = Arc::new(KeyWait {
                        request_hash: hash.to_string(),
                        done: Mutex::new(None),
                        signal: Condvar::new(),
                    });
                    guard.in_flight.insert(key.clone(), Arc::clone(&wait));
                    attempts.key_wait = Some((key.clone(), wait));
                }
                drop(guard);
                let committed = pending.wait();
                {
                    let mut guard = slot.write().expect("tenant lock");
                    guard.appends_in_flight -= 1;
                    let refused = !matches!(committed, Ok(AppendOutcome::Committed { .. }));
                    // The state applied events the log does not have: it is
                    // rebuilt, unless a rebuild since already did.
                    if refused && guard.chain == chain {
                        guard.poisoned = true;
                    }
                    if matches!(committed, Err(StoreError::SequenceConflict { .. })) {
                        guard.mark_contended();
                    }
                }
                applied?;
                committed
            };
            match committed {
                Ok(AppendOutcome::Committed { .. }) => {
                    self.submit_shadow(shadow_jobs);
                    return Ok(outcome);
                }
                // Another host committed the same key first.
                Ok(AppendOutcome::Replayed { .. }) => {
                    let key = meta.idempotency_key.as_deref().unwrap_or_default();
                    return self.replay(tenant, key, hash).and_then(|found| {
                        found.ok_or_else(|| {
                            EngineError::Corrupt(format!("key {key} replayed but not found"))
                        })
                    });
                }
                Err(StoreError::SequenceConflict { .. }) if conflicts + 1 < COMMIT_ATTEMPTS => {
                    conflicts += 1;
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(
                        tenant,
                        conflicts,
                        "another host appended first; deciding again"
                    );
                    // Back off for a random time that doubles with each
                    // conflict (0.5 ms to 32 ms), so hosts racing on one
                    // tenant stop colliding instead of failing in lockstep.
                    let ceiling_us = 500_u64 << conflicts.min(6);
                    let pause_us: u64 = rand::random_range(0..ceiling_us);
                    std::thread::sleep(std::time::Duration::from_micros(pause_us));
                }
                Err(error) => return Err(append_error(error)),
            }
        }
    }

    /// Decides `command` on the tenant's state and builds the append that
    /// commits it, expecting the log to end where this state ends; with the
    /// champion's calls for products with a challenger, to queue once the
    /// append commits (see `shadow`).
    fn decide_append(
        &self,
        tenant_id: &str,
        tenant: &Tenant,
        command: &EngineCommand,
        meta: &RequestMeta,
        hash: &str,
    ) -> Result<(CommandOutcome, AppendRequest, Vec<shadow::ShadowJob>), EngineError> {
        refuse_future_run(&tenant.state, command)?;
        let recorder = self.shadow_recorder(&tenant.state);
        let raters: &dyn RaterResolver = match &recorder {
            Some(recorder) => recorder,
            None => self.raters.as_ref(),
        };
        let events = tenant.state.decide_with(
            command,
            &command_context(meta, &tenant.state),
            raters,
            self.adjuster.as_ref(),
        )?;
        let shadow_jobs = recorder.map(|r| r.jobs(tenant_id)).unwrap_or_default();
        let outcome = CommandOutcome {
            events,
            replayed: false,
        };
        let mut request = self.append_request(tenant_id, meta, hash.to_string(), &outcome);
        request.expected_last_sequence = Some(tenant.applied);
        Ok((outcome, request, shadow_jobs))
    }

    fn append_request(
        &self,
        tenant: &str,
        meta: &RequestMeta,
        hash: String,
        outcome: &CommandOutcome,
    ) -> AppendRequest {
        let number = self.commands.fetch_add(1, Ordering::Relaxed);
        AppendRequest {
            meta: CommandMeta {
                tenant: tenant.to_string(),
                command_id: format!("{}-{number}", meta.issued_at.timestamp_micros()),
                actor: meta.actor.clone(),
                issued_at: meta.issued_at,
                idempotency_key: meta.idempotency_key.clone(),
                request_hash: hash,
            },
            expected_versions: Vec::new(),
            expected_last_sequence: None,
            chain: None,
            events: outcome
                .events
                .iter()
                .map(|event| {
                    NewEvent::new(event.stream(), event.kind(), event).expect("events serialize")
                })
                .collect(),
            balance_lines: outcome
                .events
                .iter()
                .flat_map(TenantEvent::balance_lines)
                .collect(),
            // The events are in the log; the key's record keeps their
            // sequences, so a replay reads them back instead of storing
            // them twice.
            response: serde_json::json!({ "events": outcome.events.len() }),
        }
    }

    /// The stored answer to an earlier command with this key: its events,
    /// read back from the log. Another command under the same key is a
    /// conflict.
    fn replay(
        &self,
        tenant: &str,
        key: &str,
        hash: &str,
    ) -> Result<Option<CommandOutcome>, EngineError> {
        match self
            .store
            .idempotent_record(tenant, key)
            .map_err(store_error)?
        {
            Some(record) => self.replay_record(tenant, key, hash, record).map(Some),
            None => Ok(None),
        }
    }

    /// The first answer of a key's command again (its events from the log),
    /// or a conflict if the key was used for another command.
    fn replay_record(
        &self,
        tenant: &str,
        key: &str,
        hash: &str,
        record: crate::store::IdempotentRecord,
    ) -> Result<CommandOutcome, EngineError> {
        if record.request_hash != hash {
            return Err(EngineError::IdempotencyConflict(key.to_string()));
        }
        self.events_between(tenant, record.first_sequence, record.last_sequence)
            .map(|events| CommandOutcome {
                events,
                replayed: true,
            })
    }

    fn events_between(
        &self,
        tenant: &str,
        first: u64,
        last: u64,
    ) -> Result<Vec<TenantEvent>, EngineError> {
        let mut events = Vec::new();
        let mut after = first.saturating_sub(1);
        while after < last {
            let limit = usize::try_from(last - after)
                .unwrap_or(usize::MAX)
                .min(REBUILD_BATCH_EVENTS);
            let batch = self.store.read(tenant, after, limit).map_err(store_error)?;
            let Some(end) = batch.last() else { break };
            after = end.sequence;
            for stored in batch.iter().filter(|e| e.sequence <= last) {
                events.push(decode(stored)?);
            }
        }
        Ok(events)
    }

    /// The full effect of `commands`, run in order on a copy of the tenant's
    /// state; nothing is kept. The same code as [`Engine::execute`].
    pub fn preview(
        &self,
        tenant: &str,
        commands: &[EngineCommand],
        meta: &RequestMeta,
    ) -> Result<PreviewOutcome, EngineError> {
        let slot = self.slot(tenant)?;
        // One command (a quote): decide on the state as it is, without a
        // copy; its events are exactly what a commit would append, and the
        // balances after are the balances before moved by its entries.
        if let [command] = commands {
            let guard = self.read_lock(tenant, &slot)?;
            return self.preview_one(&guard.state, command, &command_context(meta, &guard.state));
        }
        // A bundle: run the commands in order on a copy.
        let mut copy = self.lock(tenant, &slot)?.state.clone();
        let context = command_context(meta, &copy);
        let before = copy.ledger.clone();
        let steps: Vec<PreviewStep> = commands.iter().cloned().map(PreviewStep::from).collect();
        let events = self.run_steps(&mut copy, &steps, &context)?;
        let balances = balance_changes(&before, &copy.ledger, &events);
        Ok(PreviewOutcome { events, balances })
    }

    /// One command's effect on the state as it is, without a copy: its
    /// events are exactly what a commit would append, and the balances after
    /// are the balances before moved by its entries.
    fn preview_one(
        &self,
        state: &TenantState,
        command: &EngineCommand,
        context: &CommandContext,
    ) -> Result<PreviewOutcome, EngineError> {
        refuse_future_run(state, command)?;
        let events = state.decide_with(
            command,
            context,
            self.raters.as_ref(),
            self.adjuster.as_ref(),
        )?;
        let mut moves: BTreeMap<AccountKey, Decimal> = BTreeMap::new();
        for entry in journal_entries(&events) {
            for line in &entry.lines {
                let signed = if line.side == line.account.account.normal_side() {
                    line.amount
                } else {
                    -line.amount
                };
                *moves.entry(line.account.clone()).or_default() += signed;
            }
        }
        let balances = moves
            .into_iter()
            .map(|(key, moved)| {
                let before = state.ledger.balance(&key);
                BalanceChange {
                    after: before + moved,
                    before,
                    account: key,
                }
            })
            .collect();
        Ok(PreviewOutcome { events, balances })
    }

    /// Previews a quote (`command` issues a new policy) on the calling
    /// thread, or says it would have to wait (`None`; preview it on a
    /// blocking thread instead). It runs now only if nothing in it waits on
    /// anything: the
    /// store is this host's own (a shared store is asked before every
    /// read), the tenant's state is not locked by a commit (a commit may be
    /// waiting on an external rater while it holds the lock), and the
    /// product's rater and invoicing plugin price in-process (see
    /// [`RaterResolver::prices_in_process`]). Such a quote is pure CPU
    /// work, bounded by the plugins' `wall_time_ms_max`. The answer is
    /// [`Engine::preview`]'s, from the same code.
    pub fn preview_quote_without_waiting(
        &self,
        tenant: &str,
        command: &EngineCommand,
        meta: &RequestMeta,
    ) -> Option<Result<PreviewOutcome, EngineError>> {
        let EngineCommand::Policy(crate::policy::PolicyCommand::IssuePolicy { product, .. }) =
            command
        else {
            return None;
        };
        if self.store.shared() {
            return None;
        }
        let slot = self.slot(tenant).ok()?;
        let guard = slot.try_read().ok()?;
        if guard.poisoned {
            return None;
        }
        let product = guard.state.book.products.get(product)?;
        let invoicing_in_process = product.invoicing_plugin.as_ref().is_none_or(|plugin| {
            self.raters.prices_in_process(&RatingChain::Plugin {
                plugin: plugin.clone(),
            })
        });
        if !(invoicing_in_process && self.raters.prices_in_process(&product.rating)) {
            return None;
        }
        Some(self.preview_one(&guard.state, command, &command_context(meta, &guard.state)))
    }

    /// Runs `f` while the tenant's state is locked, as a commit locks it.
    #[cfg(test)]
    pub(super) fn while_locked<R>(&self, tenant: &str, f: impl FnOnce() -> R) -> R {
        let slot = self.slot(tenant).expect("a tenant");
        let _commit = slot.write().expect("tenant lock");
        f()
    }

    /// Reads a tenant's state.
    pub fn read<R>(
        &self,
        tenant: &str,
        read: impl FnOnce(&TenantState) -> R,
    ) -> Result<R, EngineError> {
        let slot = self.slot(tenant)?;
        let guard = self.read_lock(tenant, &slot)?;
        Ok(read(&guard.state))
    }

    /// [`Engine::read`] that, on a shared store, asks the store in the same
    /// question where the log ends and whether `idempotency_key` was
    /// committed (one probe, [`Store::probe`]), and hands the answer back
    /// for the request's command ([`Engine::execute_fresh`]): what
    /// authenticating a request does, so a command costs one probe, not
    /// two. `None` on a local store (nothing to ask).
    pub fn read_fresh<R>(
        &self,
        tenant: &str,
        idempotency_key: Option<&str>,
        read: impl FnOnce(&TenantState) -> R,
    ) -> Result<(R, Option<Fresh>), EngineError> {
        if !self.store.shared() {
            return Ok((self.read(tenant, read)?, None));
        }
        let probed = self
            .store
            .probe(tenant, idempotency_key)
            .map_err(store_error)?;
        let slot = self.slot(tenant)?;
        let guard = self.read_lock_to(tenant, &slot, Some(probed.last_sequence))?;
        let fresh = Fresh {
            idempotency_key: idempotency_key.map(str::to_string),
            probed,
        };
        Ok((read(&guard.state), Some(fresh)))
    }

    /// Reads a tenant's state now, or says it would have to wait (`None`):
    /// on a shared store (a read asks the database first), while a command
    /// holds the tenant's lock, or when the state must be rebuilt. For
    /// callers on an async worker, which must not block.
    pub fn read_without_waiting<R>(
        &self,
        tenant: &str,
        read: impl FnOnce(&TenantState) -> R,
    ) -> Option<R> {
        if self.store.shared() {
            return None;
        }
        let slot = self.slot(tenant).ok()?;
        let guard = slot.try_read().ok()?;
        if guard.poisoned {
            return None;
        }
        Some(read(&guard.state))
    }

    /// Explains a charge from the transaction record in the event log.
    pub fn explain_charge(
        &self,
        tenant: &str,
        policy: &str,
        charge: &str,
    ) -> Result<ChargeAudit, EngineError> {
        let found = self.read(tenant, |state| {
            state
                .book
                .policies
                .get(policy)
                .and_then(|p| p.charges.iter().find(|c| c.locator == charge).cloned())
        })?;
        let charge = found
            .ok_or_else(|| EngineError::NotFound(format!("charge {charge} of policy {policy}")))?;
        let mut record: Option<TransactionRecord> = None;
        for stored in self
            .store
            .read_stream(tenant, &format!("policy/{policy}"))
            .map_err(store_error)?
        {
            if let TenantEvent::Book(crate::policy::BookEvent::TransactionIssued { record: r }) =
                decode(&stored)?
                && r.transaction.locator == charge.transaction
            {
                record = Some(*r);
                break;
            }
        }
        Ok(explain(&charge, record.as_ref()))
    }

    /// The events of one stream of a tenant's log (`product/<name>`,
    /// `plugin/<name>`, ...), oldest first, each with its record (sequence,
    /// who sent it, when, under which key).
    pub fn stream_history(
        &self,
        tenant: &str,
        stream: &str,
    ) -> Result<Vec<(StoredEvent, TenantEvent)>, EngineError> {
        self.store
            .read_stream(tenant, stream)
            .map_err(store_error)?
            .into_iter()
            .map(|stored| {
                let event = decode(&stored)?;
                Ok((stored, event))
            })
            .collect()
    }

    /// The tenants the engine holds, sorted.
    pub fn tenants(&self) -> Vec<String> {
        let mut tenants: Vec<String> = self
            .tenants
            .read()
            .expect("tenants lock")
            .keys()
            .cloned()
            .collect();
        tenants.sort();
        tenants
    }

    /// How many commands were decided again because another host appended
    /// to their tenant first (shared stores only).
    pub fn commit_retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// The store under the engine.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

/// Every ledger balance `events` post to, before (in `before`) and after
/// (in `after`).
/// Encodes the tenant's state under its read lock (commands wait; reads
/// go on) if every event it includes is durable, then saves it outside the
/// lock. Nothing is saved for a state ahead of the log (appends in flight)
/// or no newer than the last snapshot.
fn take_snapshot(
    store: &dyn Store,
    tenant: &str,
    slot: &TenantSlot,
) -> Result<Option<snapshot::Saved>, snapshot::SnapshotError> {
    let started = std::time::Instant::now();
    let (sequence, encoded) = {
        let guard = slot.read().expect("tenant lock");
        let durable = store
            .last_sequence(tenant)
            .map_err(|e| snapshot::SnapshotError::Store(e.to_string()))?;
        // On a shared store a host applies only what committed (others may
        // have committed more since); on a store of its own, events are
        // applied before they are durable, so all must be.
        // Appends in flight (pipelined) may yet be refused: never snapshot
        // a state that holds them, even when another host's commits brought
        // the log to the same sequence.
        let all_durable = if store.shared() {
            guard.appends_in_flight == 0 && guard.applied <= durable
        } else {
            guard.applied == durable
        };
        if guard.poisoned || !all_durable || guard.applied <= guard.snapshot_at {
            return Ok(None);
        }
        (guard.applied, snapshot::encode(&guard.state)?)
    };
    let saved = snapshot::save_encoded(store, tenant, sequence, &encoded)?;
    if let Some(saved) = &saved {
        let mut guard = slot.write().expect("tenant lock");
        guard.snapshot_at = guard.snapshot_at.max(saved.sequence);
        crate::telemetry::snapshot_saved(started.elapsed(), saved.bytes);
        tracing::info!(
            tenant,
            sequence = saved.sequence,
            bytes = saved.bytes,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "snapshot saved"
        );
    }
    Ok(saved)
}

fn balance_changes(before: &Ledger, after: &Ledger, events: &[TenantEvent]) -> Vec<BalanceChange> {
    let touched: BTreeSet<&AccountKey> = journal_entries(events)
        .flat_map(|entry| entry.lines.iter().map(|line| &line.account))
        .collect();
    touched
        .into_iter()
        .map(|key| BalanceChange {
            account: key.clone(),
            before: before.balance(key),
            after: after.balance(key),
        })
        .collect()
}

/// The journal entries among events.
fn journal_entries(events: &[TenantEvent]) -> impl Iterator<Item = &JournalEntry> {
    events.iter().filter_map(|event| match event {
        TenantEvent::Journal(entry) => Some(entry),
        _ => None,
    })
}

/// A stored event read back as the engine's event (the frozen-format tests
/// check every released event reads back to the same JSON).
pub fn decode_stored(stored: &StoredEvent) -> Result<TenantEvent, EngineError> {
    decode(stored)
}

pub(super) fn decode(stored: &StoredEvent) -> Result<TenantEvent, EngineError> {
    serde_json::from_value(stored.payload.clone()).map_err(|e| {
        EngineError::Corrupt(format!(
            "event {} of {}: {e}",
            stored.sequence, stored.tenant
        ))
    })
}

fn append_error(error: StoreError) -> EngineError {
    match error {
        StoreError::IdempotencyConflict { key } => EngineError::IdempotencyConflict(key),
        StoreError::LimitExceeded {
            what,
            limit,
            actual,
        } => EngineError::TooLarge {
            what,
            limit,
            actual,
        },
        other => store_error(other),
    }
}

//! Billing runs through the engine service: the `RunAccount` decisions of
//! many accounts share one durable append, pipelined like
//! [`Engine::execute`]'s commands.
//!
//! Under the tenant's lock the run decides account after account (each until
//! it has nothing left to do, exactly as [`crate::engine::TenantState::billing_run`]
//! does in memory), applies each decision at once (the next decision reads
//! the ledger it moved), and gathers the events into one append until it
//! holds [`RUN_APPEND_EVENTS`] events; an account's decisions stay in one
//! append unless they alone would pass the store's
//! [`crate::store::EVENTS_PER_APPEND_MAX`]. The append is queued for commit
//! under the lock (so the log keeps the order the state saw), and the run
//! moves on while the store makes it durable: at most
//! [`RUN_APPENDS_IN_FLIGHT`] appends wait at a time, and the run answers
//! only once every one of them is durable. The lock is let go every
//! [`RUN_LOCK_ACCOUNTS_MAX`] accounts, so other commands of the tenant
//! interleave. Appending the whole month of 100,000 policies this way takes
//! a few thousand appends instead of 200,000 commands, each fsync (sled) or
//! transaction (PostgreSQL) shared by many of them.
//!
//! Every append names the sequence the state had before its first decision
//! (`expected_last_sequence`), so nothing decided on a state that missed an
//! event is kept. An append that fails fails its accounts (reported in the
//! answer; the others are billed) and the state, which applied its events,
//! is rebuilt from the log before the next decision. Accounts with nothing
//! to do append nothing, so running the same date again changes nothing,
//! and a run interrupted anywhere (a crash, a failed disk) is finished by
//! running it again, each account billed once: a run is idempotent by its
//! date, and the request's idempotency key is not used.
//!
//! Once every append of the run is durable, the run's events count towards
//! the snapshot interval as commands' events do: a run that carried the
//! tenant [`crate::engine::SNAPSHOT_INTERVAL_EVENTS`] past its last
//! snapshot starts one in the background (while appends are in flight the
//! state is ahead of the log and cannot be saved).
//!
//! On a store shared by several hosts the appends also name the tenant's
//! chain (`AppendRequest::chain`). When another host appended first, the
//! append and every later one of the run are refused; the run waits for
//! those in flight, the state is rebuilt, and the run goes on from the
//! first refused account, deciding one account at a time and committing
//! each decision before applying it while the tenant is contended (see
//! [`Engine::execute`]), up to [`COMMIT_ATTEMPTS`] times.
//!
//! Example: 1,000 accounts each with one February installment to invoice
//! (3 events per account: the invoice, its journal entry, `billed_through`)
//! on sled: 12 appends of 86 accounts (258 events) and one of 54, all
//! queued at once, made durable by a few fsyncs; the answer counts 1,000
//! accounts billed, 1,000 commands and 3,000 events, the same as the pure run.

use super::shadow::ShadowJob;
use super::{COMMIT_ATTEMPTS, Engine, RequestMeta, Tenant, TenantSlot, append_error, request_hash};
use crate::collections::{BillingCommand, CollectionsError};
use crate::engine::billing::{BillingRunPreview, BillingRunReport, RUN_COMMANDS_PER_ACCOUNT_MAX};
use crate::engine::command::EngineCommand;
use crate::engine::state::{EngineError, TenantEvent};
use crate::policy::{CommandContext, RaterResolver};
use crate::store::{
    AppendOutcome, AppendRequest, BalanceLine, CommandMeta, EVENTS_PER_APPEND_MAX, NewEvent,
    PendingAppend, StoreError,
};
use chrono::{NaiveDate, Utc};
use std::collections::VecDeque;
use std::sync::RwLockWriteGuard;
use std::sync::atomic::Ordering;

/// Events of one billing-run append: consecutive accounts' decisions share
/// an append until it holds at least this many.
pub const RUN_APPEND_EVENTS: usize = 256;

/// Accounts a billing run decides under one hold of the tenant's lock.
pub const RUN_LOCK_ACCOUNTS_MAX: usize = 512;

/// The most appends of one billing run waiting for durability at a time.
pub const RUN_APPENDS_IN_FLIGHT: usize = 64;

const _: () = assert!(RUN_APPEND_EVENTS <= EVENTS_PER_APPEND_MAX);

/// One decision in an append: whose, and how many events.
#[derive(Debug, Clone, Copy)]
struct Decision {
    account: usize,
    events: usize,
}

/// Decisions decided and applied, not yet queued: one append.
struct Batch {
    /// Where the log must end: the state's sequence before the first decision.
    expected: u64,
    events: Vec<TenantEvent>,
    decisions: Vec<Decision>,
    shadow_jobs: Vec<ShadowJob>,
}

impl Batch {
    fn new(expected: u64) -> Self {
        Batch {
            expected,
            events: Vec::new(),
            decisions: Vec::new(),
            shadow_jobs: Vec::new(),
        }
    }

    fn push(&mut self, account: usize, events: Vec<TenantEvent>, shadow_jobs: Vec<ShadowJob>) {
        self.decisions.push(Decision {
            account,
            events: events.len(),
        });
        self.events.extend(events);
        self.shadow_jobs.extend(shadow_jobs);
    }
}

/// The events as the store takes them, with their balance lines.
fn new_events(events: &[TenantEvent]) -> (Vec<NewEvent>, Vec<BalanceLine>) {
    let stored = events
        .iter()
        .map(|event| NewEvent::new(event.stream(), event.kind(), event).expect("events serialize"))
        .collect();
    let lines = events.iter().flat_map(TenantEvent::balance_lines).collect();
    (stored, lines)
}

/// An append of the run queued for commit.
struct InFlight {
    pending: PendingAppend,
    /// The tenant's chain when it was queued.
    chain: u64,
    decisions: Vec<Decision>,
    shadow_jobs: Vec<ShadowJob>,
}

/// One billing run of one tenant: its accounts and what became of each.
struct Run<'a> {
    engine: &'a Engine,
    tenant: &'a str,
    slot: &'a TenantSlot,
    meta: RequestMeta,
    context: CommandContext,
    up_to: NaiveDate,
    accounts: Vec<String>,
    /// The request hash of the run's appends (they carry no key).
    hash: String,
    in_flight: VecDeque<InFlight>,
    /// Per account: decisions and events committed.
    committed: Vec<(usize, usize)>,
    /// Per account: why its run failed.
    failed: Vec<Option<String>>,
    /// The first account an append refused because another host appended
    /// first: the next pass starts there.
    conflict_at: Option<usize>,
}

impl Engine {
    /// Runs billing for every account of `tenant` up to `up_to`, or without
    /// a date up to the tenant's today: the service layer's billing run,
    /// durable before it answers (the in-memory one of a state is
    /// [`crate::engine::TenantState::billing_run`]). A date past today is refused with
    /// `run_in_the_future` before anything is done (see
    /// [`crate::engine::TenantState::run_date`]). An account whose run fails
    /// is reported in the answer and the others are billed.
    pub fn run_billing(
        &self,
        tenant: &str,
        up_to: impl Into<Option<NaiveDate>>,
        meta: &RequestMeta,
    ) -> Result<BillingRunReport, EngineError> {
        let started = std::time::Instant::now();
        let report = self.run_billing_unmeasured(tenant, up_to.into(), meta)?;
        crate::telemetry::billing_run(started.elapsed(), report.accounts);
        if report.events > 0 {
            // The run's events count towards the snapshot interval as
            // commands' do; every append of the run is durable by now.
            let slot = self.slot(tenant)?;
            self.snapshot_if_due(tenant, &slot);
        }
        Ok(report)
    }

    fn run_billing_unmeasured(
        &self,
        tenant: &str,
        up_to: Option<NaiveDate>,
        meta: &RequestMeta,
    ) -> Result<BillingRunReport, EngineError> {
        let slot = self.slot(tenant)?;
        let meta = RequestMeta {
            idempotency_key: None,
            ..meta.clone()
        };
        let (accounts, up_to, context) = {
            let guard = self.lock(tenant, &slot)?;
            let up_to = guard.state.run_date(up_to, Utc::now())?;
            let accounts: Vec<String> = guard.state.collections.accounts.keys().cloned().collect();
            (accounts, up_to, super::command_context(&meta, &guard.state))
        };
        let hash = request_hash(&EngineCommand::Billing(BillingCommand::RunAccount {
            account: String::new(),
            up_to,
        }));
        let count = accounts.len();
        let mut run = Run {
            engine: self,
            tenant,
            slot: &slot,
            meta,
            context,
            up_to,
            accounts,
            hash,
            in_flight: VecDeque::new(),
            committed: vec![(0, 0); count],
            failed: vec![None; count],
            conflict_at: None,
        };
        let mut from = 0;
        for attempt in 0..COMMIT_ATTEMPTS {
            run.pass(from);
            let Some(at) = run.conflict_at.take() else {
                break;
            };
            if attempt + 1 == COMMIT_ATTEMPTS {
                break;
            }
            self.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(tenant, at, "another host appended first; the run goes on");
            // A random back-off that doubles with each conflict, as commands do.
            let ceiling_us = 500_u64 << attempt.min(6);
            std::thread::sleep(std::time::Duration::from_micros(rand::random_range(
                0..ceiling_us,
            )));
            from = at;
        }
        Ok(run.report())
    }

    /// What [`Engine::run_billing`] would do, without keeping anything: the
    /// same run (the same date rule, the same context, the same
    /// `RunAccount` decisions account by account until each has nothing
    /// left to do) made on a copy of the tenant's state, as previews of
    /// other commands are.
    pub fn preview_billing_run(
        &self,
        tenant: &str,
        up_to: Option<NaiveDate>,
        meta: &RequestMeta,
    ) -> Result<BillingRunPreview, EngineError> {
        let slot = self.slot(tenant)?;
        let meta = RequestMeta {
            idempotency_key: None,
            ..meta.clone()
        };
        let mut copy = self.lock(tenant, &slot)?.state.clone();
        let up_to = copy.run_date(up_to, Utc::now())?;
        let context = super::command_context(&meta, &copy);
        let mut events = Vec::new();
        let report = copy.billing_run_recording(
            up_to,
            &context,
            self.raters.as_ref(),
            self.adjuster.as_ref(),
            &mut events,
        );
        Ok(BillingRunPreview::new(report, events))
    }

    /// The tenant's today and whether it is a test tenant's own clock.
    pub fn clock(&self, tenant: &str) -> Result<(NaiveDate, bool), EngineError> {
        let now = Utc::now();
        self.read(tenant, |state| (state.today(now), state.clock.is_test()))
    }
}

impl Run<'_> {
    /// Runs the accounts from `from` on, and waits for every append.
    fn pass(&mut self, from: usize) {
        for failed in &mut self.failed[from..] {
            *failed = None;
        }
        let shared = self.engine.store.shared();
        let mut next = from;
        while next < self.accounts.len() && self.conflict_at.is_none() {
            let mut guard = match self.engine.lock(self.tenant, self.slot) {
                Ok(guard) => guard,
                Err(error) => {
                    self.fail(next, error.to_string());
                    next += 1;
                    continue;
                }
            };
            if shared && guard.contended() {
                self.run_contended(&mut guard, next);
                next += 1;
                continue;
            }
            let mut batch = Batch::new(guard.applied);
            let end = (next + RUN_LOCK_ACCOUNTS_MAX).min(self.accounts.len());
            while next < end && !guard.poisoned {
                self.decide_account(&mut guard, next, &mut batch);
                next += 1;
                if batch.events.len() >= RUN_APPEND_EVENTS {
                    self.flush(&mut guard, &mut batch);
                }
            }
            self.flush(&mut guard, &mut batch);
            drop(guard);
            while self.in_flight.len() > RUN_APPENDS_IN_FLIGHT {
                self.settle();
            }
        }
        while !self.in_flight.is_empty() {
            self.settle();
        }
    }

    /// Decides and applies one account's decisions until it has nothing
    /// left to do, gathering them in `batch` (queued when it is full).
    fn decide_account(&mut self, guard: &mut Tenant, account: usize, batch: &mut Batch) {
        let command = EngineCommand::Billing(BillingCommand::RunAccount {
            account: self.accounts[account].clone(),
            up_to: self.up_to,
        });
        for _ in 0..RUN_COMMANDS_PER_ACCOUNT_MAX {
            let (events, shadow_jobs) = match self.decide(guard, &command) {
                Ok((events, _)) if events.is_empty() => return,
                Ok(decided) => decided,
                Err(error) => return self.fail(account, error.to_string()),
            };
            if batch.events.len() + events.len() > EVENTS_PER_APPEND_MAX {
                self.flush(guard, batch);
                if guard.poisoned {
                    return self.fail(account, "an earlier append of the run failed".into());
                }
            }
            guard.applied += events.len() as u64;
            if let Err(error) = guard.apply_all(&events) {
                // The state is rebuilt before the next decision; nothing
                // of the batch is kept.
                self.fail(account, error.to_string());
                let message = format!("not appended: {error}");
                for decision in std::mem::take(&mut batch.decisions) {
                    self.fail(decision.account, message.clone());
                }
                *batch = Batch::new(guard.applied);
                return;
            }
            batch.push(account, events, shadow_jobs);
        }
        let message = format!("more than {RUN_COMMANDS_PER_ACCOUNT_MAX} commands");
        let name = self.accounts[account].clone();
        self.fail(
            account,
            EngineError::from(CollectionsError::RunLimit {
                account: name,
                message,
            })
            .to_string(),
        );
    }

    /// The next decision of `command` on the state, with the rating calls
    /// to shadow (a lapse rates like a command).
    fn decide(
        &self,
        guard: &Tenant,
        command: &EngineCommand,
    ) -> Result<(Vec<TenantEvent>, Vec<ShadowJob>), EngineError> {
        let recorder = self.engine.shadow_recorder(&guard.state);
        let raters: &dyn RaterResolver = match &recorder {
            Some(recorder) => recorder,
            None => self.engine.raters.as_ref(),
        };
        let events = guard.state.decide_with(
            command,
            &self.context,
            raters,
            self.engine.adjuster.as_ref(),
        )?;
        let jobs = recorder.map(|r| r.jobs(self.tenant)).unwrap_or_default();
        Ok((events, jobs))
    }

    /// An append of `events`, expecting the log to end at `expected`.
    fn request(&self, guard: &Tenant, events: &[TenantEvent], expected: u64) -> AppendRequest {
        let number = self.engine.commands.fetch_add(1, Ordering::Relaxed);
        let count = events.len();
        let (events, balance_lines) = new_events(events);
        AppendRequest {
            meta: CommandMeta {
                tenant: self.tenant.to_string(),
                command_id: format!("{}-{number}", self.meta.issued_at.timestamp_micros()),
                actor: self.meta.actor.clone(),
                issued_at: self.meta.issued_at,
                idempotency_key: None,
                request_hash: self.hash.clone(),
            },
            expected_versions: Vec::new(),
            expected_last_sequence: Some(expected),
            chain: self.engine.store.shared().then_some(guard.chain),
            events,
            balance_lines,
            response: serde_json::json!({ "events": count }),
        }
    }

    /// Queues the batch's append (under the lock, so the log keeps the
    /// state's order) and starts the next batch.
    fn flush(&mut self, guard: &mut Tenant, batch: &mut Batch) {
        let full = std::mem::replace(batch, Batch::new(guard.applied));
        if full.decisions.is_empty() {
            return;
        }
        let request = self.request(guard, &full.events, full.expected);
        match self.engine.store.submit_append(request) {
            Ok(pending) => self.queued(guard, pending, full.decisions, full.shadow_jobs),
            // Nothing was queued: an append over a limit of the store (its
            // bytes). Each decision fits on its own, as it would as a command.
            Err(_) if full.decisions.len() > 1 => self.flush_one_by_one(guard, full),
            Err(error) => {
                guard.poisoned = true;
                let message = append_error(error).to_string();
                for decision in full.decisions {
                    self.fail(decision.account, message.clone());
                }
            }
        }
    }

    /// Queues a batch's decisions as appends of their own.
    fn flush_one_by_one(&mut self, guard: &mut Tenant, batch: Batch) {
        let Batch {
            mut expected,
            events,
            decisions,
            shadow_jobs,
        } = batch;
        let mut shadow_jobs = Some(shadow_jobs);
        let mut start = 0;
        for (n, decision) in decisions.iter().enumerate() {
            let own = &events[start..start + decision.events];
            start += decision.events;
            let request = self.request(guard, own, expected);
            expected += decision.events as u64;
            match self.engine.store.submit_append(request) {
                Ok(pending) => {
                    let jobs = if n + 1 == decisions.len() {
                        shadow_jobs.take().unwrap_or_default()
                    } else {
                        Vec::new()
                    };
                    self.queued(guard, pending, vec![*decision], jobs);
                }
                Err(error) => {
                    // The state holds events the log will not: rebuilt.
                    guard.poisoned = true;
                    let message = append_error(error).to_string();
                    for decision in &decisions[n..] {
                        self.fail(decision.account, message.clone());
                    }
                    return;
                }
            }
        }
    }

    fn queued(
        &mut self,
        guard: &mut Tenant,
        pending: PendingAppend,
        decisions: Vec<Decision>,
        shadow_jobs: Vec<ShadowJob>,
    ) {
        guard.appends_in_flight += 1;
        self.in_flight.push_back(InFlight {
            pending,
            chain: guard.chain,
            decisions,
            shadow_jobs,
        });
    }

    /// Waits for the oldest append in flight. A refused one fails its
    /// accounts (or, when another host appended first, sends the run back
    /// to its first account) and has the state rebuilt, unless a rebuild
    /// since already did.
    fn settle(&mut self) {
        let Some(InFlight {
            pending,
            chain,
            decisions,
            shadow_jobs,
        }) = self.in_flight.pop_front()
        else {
            return;
        };
        let outcome = pending.wait();
        {
            let mut guard = self.slot.write().expect("tenant lock");
            guard.appends_in_flight -= 1;
            let committed = matches!(outcome, Ok(AppendOutcome::Committed { .. }));
            if !committed && guard.chain == chain {
                guard.poisoned = true;
            }
            if self.engine.store.shared()
                && matches!(outcome, Err(StoreError::SequenceConflict { .. }))
            {
                guard.mark_contended();
            }
        }
        let message = match outcome {
            Ok(AppendOutcome::Committed { .. }) => {
                for decision in decisions {
                    let tally = &mut self.committed[decision.account];
                    tally.0 += 1;
                    tally.1 += decision.events;
                }
                self.engine.submit_shadow(shadow_jobs);
                return;
            }
            Ok(AppendOutcome::Replayed { .. }) => {
                "an append without a key was replayed".to_string()
            }
            Err(error @ StoreError::SequenceConflict { .. }) if self.engine.store.shared() => {
                let first = decisions.iter().map(|d| d.account).min();
                self.conflict_at = self.conflict_at.min(first).or(first);
                append_error(error).to_string()
            }
            Err(error) => append_error(error).to_string(),
        };
        for decision in decisions {
            self.fail(decision.account, message.clone());
        }
    }

    /// One account on a contended shared store: each decision committed
    /// under the lock before it is applied.
    fn run_contended(&mut self, guard: &mut RwLockWriteGuard<'_, Tenant>, account: usize) {
        let command = EngineCommand::Billing(BillingCommand::RunAccount {
            account: self.accounts[account].clone(),
            up_to: self.up_to,
        });
        for _ in 0..RUN_COMMANDS_PER_ACCOUNT_MAX {
            let (events, shadow_jobs) = match self.decide(guard, &command) {
                Ok((events, _)) if events.is_empty() => return,
                Ok(decided) => decided,
                Err(error) => return self.fail(account, error.to_string()),
            };
            let request = self.request(guard, &events, guard.applied);
            let outcome = self.engine.store.append(request);
            match outcome {
                Ok(AppendOutcome::Committed { last_sequence, .. }) => {
                    if let Err(error) = guard.apply_all(&events) {
                        return self.fail(account, error.to_string());
                    }
                    guard.applied = last_sequence;
                    let tally = &mut self.committed[account];
                    tally.0 += 1;
                    tally.1 += events.len();
                    self.engine.submit_shadow(shadow_jobs);
                }
                Err(StoreError::SequenceConflict { .. }) => {
                    guard.refused_unapplied();
                    guard.mark_contended();
                    self.conflict_at = Some(account);
                    return self.fail(account, "another host kept appending first".into());
                }
                Ok(AppendOutcome::Replayed { .. }) => {
                    guard.refused_unapplied();
                    return self.fail(account, "an append without a key was replayed".into());
                }
                Err(error) => {
                    guard.refused_unapplied();
                    return self.fail(account, append_error(error).to_string());
                }
            }
        }
        let message = format!("more than {RUN_COMMANDS_PER_ACCOUNT_MAX} commands");
        let name = self.accounts[account].clone();
        self.fail(
            account,
            EngineError::from(CollectionsError::RunLimit {
                account: name,
                message,
            })
            .to_string(),
        );
    }

    /// Records the first reason an account's run failed.
    fn fail(&mut self, account: usize, message: String) {
        self.failed[account].get_or_insert(message);
    }

    /// The run's answer: accounts in name order.
    fn report(self) -> BillingRunReport {
        let mut report = BillingRunReport::new(self.up_to);
        report.accounts = self.accounts.len();
        for ((account, (commands, events)), failed) in self
            .accounts
            .into_iter()
            .zip(self.committed)
            .zip(self.failed)
        {
            if commands > 0 {
                report.accounts_billed += 1;
                report.commands += commands;
                report.events += events;
            }
            if let Some(message) = failed {
                report.failures.push((account, message));
            }
        }
        report
    }
}

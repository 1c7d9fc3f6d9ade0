//! Billing runs through the engine service: one durable command per account
//! and decision, never one giant append (the store takes at most 1,000 events
//! and 4 MiB per append).
//!
//! Commands are pipelined like [`Engine::execute`]: each is decided, queued for
//! commit and applied under the tenant's lock, and the run moves on to the
//! next account while the store makes it durable; it waits for at most
//! [`RUN_APPENDS_IN_FLIGHT`] appends at a time and for all of them before it
//! answers. Accounts with nothing to do append nothing, so running the same
//! date again changes nothing, and a run interrupted anywhere is finished by
//! running it again: a run is idempotent by its date, and the request's
//! idempotency key is not used. Other commands of the tenant interleave
//! between accounts.
//!
//! On a store shared by several hosts each command is committed before the
//! next is decided, and decided again when another host appended first (see
//! [`Engine::execute`]).

use super::shadow::ShadowJob;
use super::{COMMIT_ATTEMPTS, Engine, RequestMeta, append_error, request_hash};
use crate::collections::{BillingCommand, CollectionsError};
use crate::engine::billing::{BillingRunPreview, BillingRunReport, RUN_COMMANDS_PER_ACCOUNT_MAX};
use crate::engine::command::EngineCommand;
use crate::engine::service::CommandOutcome;
use crate::engine::state::EngineError;
use crate::rating::RaterResolver;
use crate::store::{AppendOutcome, PendingAppend, StoreError};
use chrono::{NaiveDate, Utc};
use std::collections::VecDeque;

/// The most appends of one billing run waiting for durability at a time.
pub const RUN_APPENDS_IN_FLIGHT: usize = 256;

impl Engine {
    /// Runs billing for every account of `tenant` up to `up_to`, or without
    /// a date up to the tenant's today: the service layer's billing run,
    /// durable command by command (the in-memory one of a state is
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
        let mut report = BillingRunReport::new(up_to);
        let mut in_flight: VecDeque<(String, PendingAppend, Vec<ShadowJob>)> = VecDeque::new();
        for account in accounts {
            report.accounts += 1;
            let command = EngineCommand::Billing(BillingCommand::RunAccount {
                account: account.clone(),
                up_to,
            });
            let hash = request_hash(&command);
            let mut commands = 0;
            let mut conflicts = 0;
            let result = loop {
                if commands == RUN_COMMANDS_PER_ACCOUNT_MAX {
                    break Err(EngineError::from(CollectionsError::RunLimit {
                        account: account.clone(),
                        message: format!("more than {RUN_COMMANDS_PER_ACCOUNT_MAX} commands"),
                    }));
                }
                let mut guard = match self.lock(tenant, &slot) {
                    Ok(guard) => guard,
                    Err(error) => break Err(error),
                };
                // A lapse's rating calls are shadowed like a command's.
                let recorder = self.shadow_recorder(&guard.state);
                let raters: &dyn RaterResolver = match &recorder {
                    Some(recorder) => recorder,
                    None => self.raters.as_ref(),
                };
                let events = match guard.state.decide_with(
                    &command,
                    &context,
                    raters,
                    self.adjuster.as_ref(),
                ) {
                    Ok(events) if events.is_empty() => break Ok(()),
                    Ok(events) => events,
                    Err(error) => break Err(error),
                };
                let shadow_jobs = recorder.map(|r| r.jobs(tenant)).unwrap_or_default();
                let outcome = CommandOutcome {
                    events,
                    replayed: false,
                };
                let mut request = self.append_request(tenant, &meta, hash.clone(), &outcome);
                request.expected_last_sequence = Some(guard.applied);
                if self.store.shared() {
                    request.chain = Some(guard.chain);
                    let committed = self.store.append(request);
                    if !matches!(committed, Ok(AppendOutcome::Committed { .. })) {
                        guard.refused_unapplied();
                    }
                    match committed {
                        Ok(AppendOutcome::Committed { last_sequence, .. }) => {
                            if let Err(error) = guard.apply_all(&outcome.events) {
                                break Err(error);
                            }
                            guard.applied = last_sequence;
                            self.submit_shadow(shadow_jobs);
                        }
                        Err(StoreError::SequenceConflict { .. }) if conflicts < COMMIT_ATTEMPTS => {
                            conflicts += 1;
                            self.retries
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            continue;
                        }
                        Ok(AppendOutcome::Replayed { .. }) => {
                            break Err(EngineError::Corrupt(
                                "an append without a key was replayed".to_string(),
                            ));
                        }
                        Err(error) => break Err(append_error(error)),
                    }
                    drop(guard);
                    commands += 1;
                    report.events += outcome.events.len();
                    continue;
                }
                let pending = match self.store.submit_append(request) {
                    Ok(pending) => pending,
                    Err(error) => break Err(append_error(error)),
                };
                guard.applied += outcome.events.len() as u64;
                if let Err(error) = guard.apply_all(&outcome.events) {
                    break Err(error);
                }
                drop(guard);
                commands += 1;
                report.events += outcome.events.len();
                in_flight.push_back((account.clone(), pending, shadow_jobs));
                while in_flight.len() > RUN_APPENDS_IN_FLIGHT {
                    let (account, pending, shadow_jobs) = in_flight.pop_front().expect("not empty");
                    self.settle(&slot, account, pending, shadow_jobs, &mut report);
                }
            };
            if commands > 0 {
                report.accounts_billed += 1;
                report.commands += commands;
            }
            if let Err(error) = result {
                report.failures.push((account, error.to_string()));
            }
        }
        for (account, pending, shadow_jobs) in in_flight {
            self.settle(&slot, account, pending, shadow_jobs, &mut report);
        }
        Ok(report)
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

    /// Waits for one append of a run, then queues its shadow jobs; a failed
    /// one leaves the state ahead of the log, so it is rebuilt before the
    /// next command.
    fn settle(
        &self,
        slot: &super::TenantSlot,
        account: String,
        pending: PendingAppend,
        shadow_jobs: Vec<ShadowJob>,
        report: &mut BillingRunReport,
    ) {
        let failure = match pending.wait() {
            Ok(AppendOutcome::Committed { .. }) => {
                self.submit_shadow(shadow_jobs);
                return;
            }
            Ok(AppendOutcome::Replayed { .. }) => {
                "an append without a key was replayed".to_string()
            }
            Err(error) => append_error(error).to_string(),
        };
        slot.write().expect("tenant lock").poisoned = true;
        report.failures.push((account, failure));
    }
}

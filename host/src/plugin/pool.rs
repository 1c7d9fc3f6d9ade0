//! The idle instances of a pooled plugin (see [`InstancePolicy`]).
//!
//! An instance comes out of the pool for one call and goes back only when
//! the call succeeded cleanly and it has calls left; otherwise it is dropped,
//! so a store that trapped, hit a limit or answered with an error is never
//! entered again, and its replacement starts from the initial memory image.

use super::bindings::{
    v0_1, v0_2, wit_invoicing as wi, wit_rating as wr, wit_types::PluginError as WitPluginError,
};
use super::policy::InstancePolicy;
use super::state::CallState;
use super::versions::{
    adjustments_from_v0_1, draft_to_v0_1, installment_dates_from_v0_1, installments_to_v0_1,
    rate_request_to_v0_2, rate_response_from_v0_2,
};
use std::sync::Mutex;
use wasmtime::Store;

/// The exports of an instantiated plugin, by world and WIT version.
pub(super) enum Exports {
    RaterV0_1(v0_1::rater::Rater),
    RaterV0_2(v0_2::rater::Rater),
    InvoicerV0_1(v0_1::invoicer::Invoicer),
    InvoicerV0_2(v0_2::invoicer::Invoicer),
}

/// What a plugin call answers: the plugin's own result, inside the
/// runtime's (a trap or a limit).
type Answer<T> = wasmtime::Result<Result<T, WitPluginError>>;

fn not_a(world: &str) -> wasmtime::Error {
    wasmtime::Error::msg(format!("the plugin is not {world}"))
}

impl Exports {
    /// Calls `rate` in the plugin's WIT version.
    pub fn rate(
        &self,
        store: &mut Store<CallState>,
        request: &wr::RateRequest,
    ) -> Answer<wr::RateResponse> {
        match self {
            Exports::RaterV0_1(rater) => rater.premia_plugin_rating().call_rate(store, request),
            Exports::RaterV0_2(rater) => Ok(rater
                .premia_plugin_rating()
                .call_rate(store, &rate_request_to_v0_2(request))?
                .map(rate_response_from_v0_2)),
            Exports::InvoicerV0_1(_) | Exports::InvoicerV0_2(_) => Err(not_a("a rater")),
        }
    }

    /// Calls `adjust-invoice` in the plugin's WIT version: a 0.1 plugin
    /// sees the draft without what 0.2 added.
    pub fn adjust_invoice(
        &self,
        store: &mut Store<CallState>,
        draft: &wi::DraftInvoice,
    ) -> Answer<wi::InvoiceAdjustments> {
        match self {
            Exports::InvoicerV0_2(invoicer) => invoicer
                .premia_plugin_invoicing()
                .call_adjust_invoice(store, draft),
            Exports::InvoicerV0_1(invoicer) => Ok(invoicer
                .premia_plugin_invoicing()
                .call_adjust_invoice(store, &draft_to_v0_1(draft))?
                .map(adjustments_from_v0_1)),
            Exports::RaterV0_1(_) | Exports::RaterV0_2(_) => Err(not_a("an invoicer")),
        }
    }

    /// Calls `schedule-dates` in the plugin's WIT version.
    pub fn schedule_dates(
        &self,
        store: &mut Store<CallState>,
        currency: &String,
        installments: &[wi::Installment],
    ) -> Answer<Vec<wi::InstallmentDates>> {
        match self {
            Exports::InvoicerV0_2(invoicer) => invoicer
                .premia_plugin_invoicing()
                .call_schedule_dates(store, currency, installments),
            Exports::InvoicerV0_1(invoicer) => Ok(invoicer
                .premia_plugin_invoicing()
                .call_schedule_dates(store, currency, &installments_to_v0_1(installments))?
                .map(installment_dates_from_v0_1)),
            Exports::RaterV0_1(_) | Exports::RaterV0_2(_) => Err(not_a("an invoicer")),
        }
    }
}

/// An instance with its store, ready for another call.
pub(super) struct WarmInstance {
    pub store: Store<CallState>,
    pub exports: Exports,
    /// Calls this instance has served.
    pub calls: u32,
    /// False for an instance that ran a quarantined call: never pooled.
    pub reusable: bool,
}

/// A plugin's policy and its idle instances.
pub(super) struct InstancePool {
    policy: Mutex<InstancePolicy>,
    idle: Mutex<Vec<WarmInstance>>,
}

impl InstancePool {
    pub fn new(policy: InstancePolicy) -> Self {
        InstancePool {
            policy: Mutex::new(policy),
            idle: Mutex::new(Vec::new()),
        }
    }

    pub fn policy(&self) -> InstancePolicy {
        *self.policy.lock().expect("instance policy lock")
    }

    /// Changes the policy and drops every idle instance.
    pub fn set_policy(&self, policy: InstancePolicy) {
        *self.policy.lock().expect("instance policy lock") = policy;
        self.idle.lock().expect("instance pool lock").clear();
    }

    /// An idle instance, if the policy pools and one is free.
    pub fn take(&self) -> Option<WarmInstance> {
        match self.policy() {
            InstancePolicy::Fresh => None,
            InstancePolicy::Pooled { .. } => self.idle.lock().expect("instance pool lock").pop(),
        }
    }

    /// Keeps `instance` for a later call if the policy pools, it has calls
    /// left and the pool has room; drops it otherwise. Call this only after
    /// a call that succeeded in every respect.
    pub fn give_back(&self, instance: WarmInstance) {
        let InstancePolicy::Pooled {
            instances_max,
            calls_per_instance_max,
        } = self.policy()
        else {
            return;
        };
        if !instance.reusable || instance.calls >= calls_per_instance_max {
            return;
        }
        let mut idle = self.idle.lock().expect("instance pool lock");
        if idle.len() < instances_max as usize {
            idle.push(instance);
        }
    }

    /// How many instances wait for a call.
    pub fn idle_count(&self) -> usize {
        self.idle.lock().expect("instance pool lock").len()
    }
}

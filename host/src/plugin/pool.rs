//! The idle instances of a pooled plugin (see [`InstancePolicy`]).
//!
//! An instance comes out of the pool for one call and goes back only when
//! the call succeeded cleanly and it has calls left; otherwise it is dropped,
//! so a store that trapped, hit a limit or answered with an error is never
//! entered again, and its replacement starts from the initial memory image.

use super::bindings::{invoicer::Invoicer, rater::Rater};
use super::policy::InstancePolicy;
use super::state::CallState;
use std::sync::Mutex;
use wasmtime::Store;

/// The exports of an instantiated plugin.
pub(super) enum Exports {
    Rater(Rater),
    Invoicer(Invoicer),
}

impl Exports {
    pub fn rater(&self) -> wasmtime::Result<&Rater> {
        match self {
            Exports::Rater(rater) => Ok(rater),
            Exports::Invoicer(_) => Err(wasmtime::Error::msg("the plugin is not a rater")),
        }
    }

    pub fn invoicer(&self) -> wasmtime::Result<&Invoicer> {
        match self {
            Exports::Invoicer(invoicer) => Ok(invoicer),
            Exports::Rater(_) => Err(wasmtime::Error::msg("the plugin is not an invoicer")),
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

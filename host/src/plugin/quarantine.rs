//! Quarantine: a plugin that has just hit a resource limit runs its next
//! calls at the lowest CPU priority, so it cannot slow down everyone else.
//!
//! Fuel, memory and the deadline bound what ONE bad call can take, but a
//! plugin that loops until its fuel runs out still burns ~20 ms of a core per
//! call, and a tenant calling it in a loop takes a core from every other
//! tenant's quotes. So a call that ends at a resource limit (out of fuel,
//! deadline, memory, stack, output size) is a *strike*, and a plugin with a
//! strike in the last `quarantine_ms` is *quarantined*:
//!
//! - its calls run on their own thread under Linux's `SCHED_IDLE` policy,
//!   which gets the CPU only when no normal thread wants it;
//! - since such a thread may wait for the CPU, its deadline counts the CPU
//!   time it actually used (`wall_time_ms_max` of it), with
//!   `quarantined_wall_time_ms_max` of wall time as the outer bound;
//! - at most `quarantined_calls_max` quarantined calls run at once, across
//!   all plugins; more are refused at once with `plugin_quarantined`
//!   (nothing runs, nothing is charged; retry later);
//! - quarantined calls never use pooled instances.
//!
//! The plugin's results do not change: the same fuel, memory and output
//! limits apply, and a well-behaved call of a quarantined plugin gives the
//! same answer, only later. Quarantine ends `quarantine_ms` after the last
//! strike.
//!
//! Worked example (defaults): `faulty@1` loops and runs out of fuel at
//! 10:00:00.000; its next call at 10:00:01 runs at idle priority and, when
//! it loops again, is stopped after 50M instructions or 100 ms of its own
//! CPU time, whichever comes first; quarantine now lasts until 10:01:01.
//! While it is quarantined the auto rater's quotes keep their latency.

use super::error::PluginError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Whether an error is a strike: the call ran into a resource limit.
pub(super) fn is_strike(error: &PluginError) -> bool {
    matches!(
        error,
        PluginError::OutOfFuel { .. }
            | PluginError::Deadline { .. }
            | PluginError::MemoryLimit { .. }
            | PluginError::StackOverflow { .. }
            | PluginError::OutputTooLarge { .. }
    )
}

/// The plugins in quarantine and the quarantined calls running now.
pub(super) struct Quarantine {
    quarantine: Duration,
    calls_max: u32,
    /// Plugin id -> end of its quarantine.
    until: Mutex<HashMap<String, Instant>>,
    running: AtomicU32,
}

/// A place among the quarantined calls allowed to run at once; given back
/// when dropped.
pub(super) struct QuarantinedCall<'a> {
    running: &'a AtomicU32,
}

impl Drop for QuarantinedCall<'_> {
    fn drop(&mut self) {
        let before = self.running.fetch_sub(1, Ordering::AcqRel);
        debug_assert!(before > 0, "quarantined call count underflow");
    }
}

impl Quarantine {
    pub fn new(quarantine_ms: u64, calls_max: u32) -> Self {
        Quarantine {
            quarantine: Duration::from_millis(quarantine_ms),
            calls_max,
            until: Mutex::new(HashMap::new()),
            running: AtomicU32::new(0),
        }
    }

    /// Records a strike against `plugin` at `now`: quarantined until
    /// `now + quarantine_ms`.
    pub fn strike(&self, plugin: &str, now: Instant) {
        if self.quarantine.is_zero() {
            return;
        }
        let mut until = self.until.lock().expect("quarantine lock");
        let end = now + self.quarantine;
        let first = until.get(plugin).is_none_or(|&current| current <= now);
        until.insert(plugin.to_string(), end);
        if first {
            tracing::warn!(
                plugin,
                quarantine_ms = self.quarantine.as_millis() as u64,
                "plugin hit a resource limit: its calls run at idle CPU priority"
            );
        }
    }

    /// Whether `plugin` is quarantined at `now`.
    pub fn is_quarantined(&self, plugin: &str, now: Instant) -> bool {
        let mut until = self.until.lock().expect("quarantine lock");
        match until.get(plugin) {
            Some(&end) if end > now => true,
            Some(_) => {
                until.remove(plugin);
                false
            }
            None => false,
        }
    }

    /// The end of `plugin`'s quarantine, if it is quarantined at `now`.
    pub fn quarantined_until(&self, plugin: &str, now: Instant) -> Option<Instant> {
        let until = self.until.lock().expect("quarantine lock");
        until.get(plugin).copied().filter(|&end| end > now)
    }

    /// A place for one more quarantined call, or `None` when
    /// `quarantined_calls_max` are running.
    pub fn enter(&self) -> Option<QuarantinedCall<'_>> {
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |running| {
                (running < self.calls_max).then_some(running + 1)
            })
            .ok()
            .map(|_| QuarantinedCall {
                running: &self.running,
            })
    }
}

/// Puts the calling thread at the lowest CPU priority there is (`SCHED_IDLE`
/// on Linux; the lowest nice value elsewhere on Unix). For a thread made for
/// one quarantined call: a thread cannot raise its priority back.
pub(super) fn lower_this_thread_priority() {
    use thread_priority::unix::{
        NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
        thread_native_id,
    };
    #[cfg(target_os = "linux")]
    let policy = NormalThreadSchedulePolicy::Idle;
    #[cfg(not(target_os = "linux"))]
    let policy = NormalThreadSchedulePolicy::Other;
    let lowered = set_thread_priority_and_policy(
        thread_native_id(),
        thread_priority::ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(policy),
    );
    if let Err(error) = lowered {
        tracing::warn!(
            ?error,
            "could not lower a quarantined call's thread priority"
        );
    }
}

/// CPU time used by the calling thread so far.
pub(super) fn thread_cpu_time() -> Duration {
    cpu_time::ThreadTime::now().as_duration()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_strike_quarantines_a_plugin_for_the_quarantine_period_only() {
        let quarantine = Quarantine::new(60_000, 2);
        let now = Instant::now();
        assert!(!quarantine.is_quarantined("faulty@1", now));
        quarantine.strike("faulty@1", now);
        assert!(quarantine.is_quarantined("faulty@1", now + Duration::from_secs(59)));
        assert!(!quarantine.is_quarantined("auto-rater@1", now));
        assert!(!quarantine.is_quarantined("faulty@1", now + Duration::from_secs(61)));
    }

    #[test]
    fn a_new_strike_extends_the_quarantine_from_its_own_time() {
        let quarantine = Quarantine::new(60_000, 2);
        let now = Instant::now();
        quarantine.strike("faulty@1", now);
        quarantine.strike("faulty@1", now + Duration::from_secs(30));
        assert_eq!(
            quarantine.quarantined_until("faulty@1", now),
            Some(now + Duration::from_secs(90))
        );
    }

    #[test]
    fn a_zero_quarantine_period_turns_quarantine_off() {
        let quarantine = Quarantine::new(0, 2);
        let now = Instant::now();
        quarantine.strike("faulty@1", now);
        assert!(!quarantine.is_quarantined("faulty@1", now));
    }

    #[test]
    fn only_calls_max_quarantined_calls_run_at_once() {
        let quarantine = Quarantine::new(60_000, 2);
        let first = quarantine.enter().expect("first place");
        let second = quarantine.enter().expect("second place");
        assert!(quarantine.enter().is_none());
        drop(first);
        let third = quarantine.enter().expect("a place was given back");
        drop((second, third));
        assert_eq!(quarantine.running.load(Ordering::Acquire), 0);
    }

    #[test]
    fn resource_limits_are_strikes_and_business_answers_are_not() {
        let plugin = "p".to_string();
        assert!(is_strike(&PluginError::OutOfFuel {
            plugin: plugin.clone(),
            fuel_per_call_max: 1
        }));
        assert!(is_strike(&PluginError::MemoryLimit {
            plugin: plugin.clone(),
            memory_bytes_max: 1
        }));
        assert!(!is_strike(&PluginError::Declined {
            plugin: plugin.clone(),
            message: "no".into()
        }));
        assert!(!is_strike(&PluginError::Trap {
            plugin,
            message: "panic".into()
        }));
    }

    #[test]
    fn a_lowered_thread_runs_under_the_idle_policy() {
        let policy = std::thread::spawn(|| {
            lower_this_thread_priority();
            thread_priority::unix::thread_schedule_policy().unwrap()
        })
        .join()
        .unwrap();
        #[cfg(target_os = "linux")]
        assert_eq!(
            policy,
            thread_priority::unix::ThreadSchedulePolicy::Normal(
                thread_priority::unix::NormalThreadSchedulePolicy::Idle
            )
        );
        let _ = policy;
    }
}

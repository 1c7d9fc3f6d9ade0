//! The per-plugin instance policy: a fresh instance for every call (the
//! default, strongest isolation), or a small pool of reused instances for
//! heavy guests (JavaScript, Python) whose instantiation costs ~1 ms.
//!
//! A pooled instance keeps its linear memory, and so any state the guest left
//! in globals, between the calls it serves. The runtime bounds that: an
//! instance is dropped after any trap, any error (a limit, a declined or
//! invalid-input answer, an invalid output) and after `calls_per_instance_max`
//! calls, and its replacement starts again from the component's initial
//! memory image. See `docs/plugins/README.md` for the trade-off.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a plugin's calls get their WebAssembly instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum InstancePolicy {
    /// A fresh store and instance for every call, dropped after it: nothing
    /// survives a call. ~30 us for a Rust guest, ~0.7 ms JavaScript, ~1.5 ms
    /// Python.
    #[default]
    Fresh,
    /// Up to `instances_max` idle instances kept between calls; each serves
    /// at most `calls_per_instance_max` calls and is dropped after any
    /// failure. ~20-40 us a call for every language once warm.
    Pooled {
        instances_max: u32,
        calls_per_instance_max: u32,
    },
}

impl InstancePolicy {
    /// Idle instances a pooled plugin keeps when the CLI is given no number.
    pub const POOL_INSTANCES_DEFAULT: u32 = 2;
    /// Calls one pooled instance serves before it is replaced, by default.
    pub const CALLS_PER_INSTANCE_DEFAULT: u32 = 1000;

    /// A pool of `instances_max` instances serving `calls_per_instance_max`
    /// calls each (both at least 1).
    pub fn pooled(instances_max: u32, calls_per_instance_max: u32) -> Self {
        InstancePolicy::Pooled {
            instances_max: instances_max.max(1),
            calls_per_instance_max: calls_per_instance_max.max(1),
        }
    }
}

/// Why an instance policy given as text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "instance policy {0:?}: expected `fresh`, `pooled`, `pooled:<instances>` or `pooled:<instances>:<calls per instance>`"
)]
pub struct InstancePolicyParseError(pub String);

impl FromStr for InstancePolicy {
    type Err = InstancePolicyParseError;

    /// `fresh`, `pooled`, `pooled:4` or `pooled:4:1000`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || InstancePolicyParseError(text.to_string());
        let mut parts = text.trim().split(':');
        match parts.next() {
            Some("fresh") if parts.next().is_none() => Ok(InstancePolicy::Fresh),
            Some("pooled") => {
                let mut number = |default: u32| -> Result<u32, InstancePolicyParseError> {
                    match parts.next() {
                        None => Ok(default),
                        Some(n) => n.parse().ok().filter(|n| *n > 0).ok_or_else(error),
                    }
                };
                let instances = number(Self::POOL_INSTANCES_DEFAULT)?;
                let calls = number(Self::CALLS_PER_INSTANCE_DEFAULT)?;
                if parts.next().is_some() {
                    return Err(error());
                }
                Ok(InstancePolicy::pooled(instances, calls))
            }
            _ => Err(error()),
        }
    }
}

impl fmt::Display for InstancePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstancePolicy::Fresh => write!(f, "fresh"),
            InstancePolicy::Pooled {
                instances_max,
                calls_per_instance_max,
            } => write!(f, "pooled:{instances_max}:{calls_per_instance_max}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_reads_from_the_text_the_cli_takes_and_prints_back_the_same() {
        assert_eq!("fresh".parse(), Ok(InstancePolicy::Fresh));
        assert_eq!("pooled".parse(), Ok(InstancePolicy::pooled(2, 1000)));
        assert_eq!("pooled:4".parse(), Ok(InstancePolicy::pooled(4, 1000)));
        let policy: InstancePolicy = "pooled:4:50".parse().unwrap();
        assert_eq!(policy, InstancePolicy::pooled(4, 50));
        assert_eq!(policy.to_string(), "pooled:4:50");
    }

    #[test]
    fn a_policy_with_zero_instances_or_unknown_words_is_refused() {
        for text in ["pooled:0", "pooled:2:0", "warm", "fresh:1", "pooled:1:2:3"] {
            assert!(text.parse::<InstancePolicy>().is_err(), "{text}");
        }
    }

    #[test]
    fn fresh_instances_are_the_default() {
        assert_eq!(InstancePolicy::default(), InstancePolicy::Fresh);
    }
}

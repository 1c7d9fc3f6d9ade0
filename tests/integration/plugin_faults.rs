//! Misbehaving plugins get their own typed error within their limit, and the
//! host serves the next call as if nothing happened.

use crate::support::*;
use premia::plugin::{PluginError, PluginLimits, PluginRater, PluginRuntime};
use premia::rating::{Rater, RaterFailure, RatingError};
use premia_plugin_sdk::tables::RateTables;
use std::time::{Duration, Instant};

/// A generous bound for "it stopped": limits are milliseconds, debug CI
/// machines are slow, and a runaway plugin would take forever.
const STOPPED_WITHIN: Duration = Duration::from_secs(10);

fn assert_next_call_is_served(runtime: &PluginRuntime) {
    let (ok, _) = runtime.rate("faulty@1", &faulty_request("ok")).unwrap();
    assert_eq!(ok.items.len(), 1);
    let (auto, _) = runtime
        .rate("auto@1", &golden_request("one-sedan-urban"))
        .unwrap();
    assert_eq!(auto.items.len(), 3);
}

fn fault(runtime: &PluginRuntime, mode: &str) -> PluginError {
    let started = Instant::now();
    let error = runtime.rate("faulty@1", &faulty_request(mode)).unwrap_err();
    assert!(
        started.elapsed() < STOPPED_WITHIN,
        "{mode} took {:?}",
        started.elapsed()
    );
    error
}

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    let runtime = runtime();
    let error = fault(&runtime, "loop");
    assert_eq!(
        error,
        PluginError::OutOfFuel {
            plugin: "faulty@1".into(),
            fuel_per_call_max: 50_000_000
        }
    );
    assert_next_call_is_served(&runtime);
}

#[test]
fn an_endless_loop_with_unlimited_fuel_hits_the_wall_time_deadline() {
    let limits = PluginLimits {
        fuel_per_call_max: u64::MAX / 2,
        wall_time_ms_max: 50,
        ..PluginLimits::default()
    };
    let runtime = runtime_with(limits);
    let started = Instant::now();
    let error = fault(&runtime, "loop");
    assert_eq!(
        error,
        PluginError::Deadline {
            plugin: "faulty@1".into(),
            wall_time_ms_max: 50
        }
    );
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_next_call_is_served(&runtime);
}

#[test]
fn unbounded_allocation_hits_the_memory_limit() {
    let runtime = runtime();
    let error = fault(&runtime, "allocate");
    assert_eq!(
        error,
        PluginError::MemoryLimit {
            plugin: "faulty@1".into(),
            memory_bytes_max: 64 * 1024 * 1024
        }
    );
    assert_next_call_is_served(&runtime);
}

#[test]
fn a_panic_is_a_trap_carrying_the_plugin_id_and_its_message() {
    let runtime = runtime();
    let error = fault(&runtime, "trap");
    let PluginError::Trap { plugin, message } = &error else {
        panic!("expected a trap, got {error:?}")
    };
    assert_eq!(plugin, "faulty@1");
    assert!(
        message.contains("faulty plugin trapped on purpose"),
        "{message}"
    );
    assert_next_call_is_served(&runtime);
}

#[test]
fn endless_recursion_is_a_stack_overflow() {
    let runtime = runtime();
    assert_eq!(
        fault(&runtime, "stack-overflow"),
        PluginError::StackOverflow {
            plugin: "faulty@1".into()
        }
    );
    assert_next_call_is_served(&runtime);
}

#[test]
fn a_huge_response_is_refused_as_too_large() {
    let runtime = runtime();
    let error = fault(&runtime, "huge-output");
    let PluginError::OutputTooLarge {
        output_bytes,
        output_bytes_max,
        ..
    } = error
    else {
        panic!("expected output too large, got {error:?}")
    };
    assert_eq!(output_bytes_max, 1024 * 1024);
    assert!(output_bytes > 4 * 1024 * 1024);
    assert_next_call_is_served(&runtime);
}

#[test]
fn a_premium_that_is_not_a_decimal_is_invalid_output() {
    let runtime = runtime();
    assert_eq!(
        fault(&runtime, "malformed"),
        PluginError::InvalidOutput {
            plugin: "faulty@1".into(),
            message: "item V1-bodily_injury-C premium: \"12,50 EUR\" is not a decimal".into()
        }
    );
    assert_next_call_is_served(&runtime);
}

#[test]
fn pricing_an_item_that_was_not_requested_is_invalid_output() {
    let runtime = runtime();
    let rater = PluginRater::new(runtime.clone(), "faulty@1").unwrap();
    let error = rater.rate(&faulty_request("unknown-item")).unwrap_err();
    assert_eq!(error.failure(), Some(RaterFailure::InvalidOutput));
    assert!(
        error
            .to_string()
            .contains("item not-requested was not requested"),
        "{error}"
    );
    assert_next_call_is_served(&runtime);
}

#[test]
fn a_log_flood_is_capped_and_the_call_still_answers() {
    let runtime = runtime();
    let (response, report) = runtime
        .rate("faulty@1", &faulty_request("log-flood"))
        .unwrap();
    assert_eq!(response.items.len(), 1);
    let logged_bytes: usize = report.logs.iter().map(|l| l.message.len()).sum();
    assert!(logged_bytes <= runtime.limits().log_bytes_max);
    assert!(
        report.logs_dropped > 9_000,
        "dropped {}",
        report.logs_dropped
    );
}

#[test]
fn a_decline_is_the_plugins_business_answer() {
    let runtime = runtime();
    let error = fault(&runtime, "decline");
    assert_eq!(error.code(), "plugin_declined");
    assert_eq!(
        RatingError::from(error),
        RatingError::Declined("faulty plugin declines on purpose".into())
    );
}

#[test]
fn a_request_over_the_input_limit_is_refused_before_the_call() {
    let runtime = runtime_with(PluginLimits {
        input_bytes_max: 100,
        ..PluginLimits::default()
    });
    let error = runtime
        .rate("auto@1", &golden_request("four-vehicles-rural"))
        .unwrap_err();
    assert_eq!(error.code(), "plugin_input_too_large");
}

#[test]
fn a_plugin_that_hits_a_limit_is_quarantined_and_still_answers_exactly() {
    let runtime = runtime();
    assert_eq!(runtime.quarantined_for("faulty@1"), None);
    let _ = fault(&runtime, "loop");
    let left = runtime.quarantined_for("faulty@1").expect("quarantined");
    assert!(left > Duration::from_secs(59) && left <= Duration::from_secs(60));
    // Its next calls run on an idle-priority thread with the same answers
    // and the same typed errors.
    let (ok, report) = runtime.rate("faulty@1", &faulty_request("ok")).unwrap();
    assert_eq!(ok.items.len(), 1);
    assert!(!report.instance_reused);
    assert!(matches!(
        fault(&runtime, "allocate"),
        PluginError::MemoryLimit { .. }
    ));
    assert!(matches!(fault(&runtime, "trap"), PluginError::Trap { .. }));
    // Other plugins are not touched, and a trap is not a strike.
    assert_eq!(runtime.quarantined_for("auto@1"), None);
    let runtime = crate::support::runtime();
    let _ = fault(&runtime, "trap");
    assert_eq!(runtime.quarantined_for("faulty@1"), None);
}

#[test]
fn a_quarantined_plugin_no_longer_prices_on_the_callers_thread() {
    use premia::api::state::RaterDirectory;
    use premia::policy::{RaterResolver, RatingChain};
    let runtime = runtime();
    let directory = RaterDirectory::new(std::sync::Arc::clone(&runtime));
    let plugin = |id: &str| RatingChain::Plugin { plugin: id.into() };
    assert!(directory.prices_in_process(&plugin("auto@1")));
    assert!(directory.prices_in_process(&plugin("faulty@1")));
    assert!(
        !directory.prices_in_process(&plugin("auto@2")),
        "not loaded"
    );
    let _ = fault(&runtime, "loop");
    // Its calls now run on a thread of their own and the caller waits.
    assert!(!directory.prices_in_process(&plugin("faulty@1")));
    assert!(directory.prices_in_process(&plugin("auto@1")));
}

#[test]
fn a_huge_response_is_a_strike_too() {
    let runtime = runtime();
    let _ = fault(&runtime, "huge-output");
    assert!(runtime.quarantined_for("faulty@1").is_some());
}

#[test]
fn quarantined_calls_over_the_limit_are_refused_without_running() {
    let runtime = runtime_with(PluginLimits {
        quarantined_calls_max: 0,
        ..PluginLimits::default()
    });
    let _ = fault(&runtime, "stack-overflow");
    let refused = runtime.rate("faulty@1", &faulty_request("ok")).unwrap_err();
    assert_eq!(
        refused,
        PluginError::Quarantined {
            plugin: "faulty@1".into(),
            calls_max: 0
        }
    );
    assert_eq!(refused.code(), "plugin_quarantined");
    let RatingError::Failed { failure, .. } = RatingError::from(refused) else {
        panic!("a quarantine refusal is a rater failure");
    };
    assert_eq!(failure, RaterFailure::Quarantined);
    assert_next_call_is_served_by_auto(&runtime);
}

#[test]
fn a_quarantined_loop_is_stopped_by_the_cpu_time_it_used() {
    let limits = PluginLimits {
        fuel_per_call_max: u64::MAX / 2,
        wall_time_ms_max: 50,
        ..PluginLimits::default()
    };
    let runtime = runtime_with(limits);
    let _ = fault(&runtime, "loop");
    assert!(runtime.quarantined_for("faulty@1").is_some());
    let started = Instant::now();
    assert_eq!(
        fault(&runtime, "loop"),
        PluginError::Deadline {
            plugin: "faulty@1".into(),
            wall_time_ms_max: 50
        }
    );
    assert!(started.elapsed() >= Duration::from_millis(50));
}

#[test]
fn a_quarantined_call_past_its_wall_cap_is_refused_as_busy_not_blamed_on_the_plugin() {
    let runtime = runtime_with(PluginLimits {
        fuel_per_call_max: u64::MAX / 2,
        wall_time_ms_max: 50,
        quarantined_wall_time_ms_max: 20,
        ..PluginLimits::default()
    });
    let _ = fault(&runtime, "loop");
    // The wall cap (20 ms) comes before the CPU budget (50 ms): this call
    // was stopped for waiting, which is the host's doing.
    let error = fault(&runtime, "loop");
    assert_eq!(
        error,
        PluginError::QuarantineStarved {
            plugin: "faulty@1".into(),
            quarantined_wall_time_ms_max: 20
        }
    );
    assert_eq!(error.code(), "plugin_quarantined");
}

#[test]
fn quarantine_can_be_turned_off() {
    let runtime = runtime_with(PluginLimits {
        quarantine_ms: 0,
        ..PluginLimits::default()
    });
    let _ = fault(&runtime, "loop");
    assert_eq!(runtime.quarantined_for("faulty@1"), None);
}

fn assert_next_call_is_served_by_auto(runtime: &PluginRuntime) {
    let (auto, _) = runtime
        .rate("auto@1", &golden_request("one-sedan-urban"))
        .unwrap();
    assert_eq!(auto.items.len(), 3);
}

#[test]
fn every_fault_in_a_row_leaves_the_host_serving() {
    let runtime = runtime();
    for mode in [
        "loop",
        "allocate",
        "trap",
        "stack-overflow",
        "huge-output",
        "malformed",
        "ok",
        "trap",
    ] {
        let _ = runtime.rate("faulty@1", &faulty_request(mode));
    }
    assert_next_call_is_served(&runtime);
}

#[test]
fn a_component_of_another_world_is_refused_at_registration() {
    let runtime = PluginRuntime::new(PluginLimits::default()).unwrap();
    let error = runtime
        .register("calc", "1", &wasm("fixture-wrong-world"), RateTables::new())
        .unwrap_err();
    let PluginError::Incompatible(message) = error else {
        panic!("expected incompatible, got {error:?}")
    };
    assert!(message.contains("exports no Premia world"), "{message}");
    assert!(runtime.list().is_empty());
}

#[test]
fn a_component_with_a_forbidden_import_is_refused_at_registration() {
    let runtime = PluginRuntime::new(PluginLimits::default()).unwrap();
    let error = runtime
        .register(
            "evil",
            "1",
            &wasm("fixture-forbidden-import"),
            RateTables::new(),
        )
        .unwrap_err();
    let PluginError::Incompatible(message) = error else {
        panic!("expected incompatible, got {error:?}")
    };
    assert!(
        message.contains("forbidden import fixture:evil/net"),
        "{message}"
    );
    assert!(runtime.plugin("evil@1").is_none());
}

#[test]
fn core_modules_garbage_and_oversized_uploads_are_refused() {
    let runtime = PluginRuntime::new(PluginLimits {
        component_bytes_max: 200_000,
        ..PluginLimits::default()
    })
    .unwrap();
    let core_module = b"\0asm\x01\0\0\0";
    assert_eq!(
        runtime
            .register("core", "1", core_module, RateTables::new())
            .unwrap_err()
            .code(),
        "plugin_incompatible"
    );
    assert_eq!(
        runtime
            .register("junk", "1", b"not wasm at all", RateTables::new())
            .unwrap_err()
            .code(),
        "plugin_incompatible"
    );
    let oversized = vec![0u8; 200_001];
    assert_eq!(
        runtime
            .register("big", "1", &oversized, RateTables::new())
            .unwrap_err()
            .code(),
        "plugin_too_large"
    );
}

//! Hostile plugins under load: while clients quote normally through the
//! WASM auto rater, an admin uploads the `faulty` plugin and calls every one
//! of its bad behaviours over HTTP. Each bad call must get its typed problem
//! (a stable code, 502/504), every normal quote must still be priced exactly,
//! and the server must carry on. The latency of the normal quotes with and
//! without the hostile calls is printed (p50/p99 and their ratio); it is
//! measured, not asserted (timings are benchmarks, not tests): the long form,
//! `scripts/hostile-load.sh`, runs it in release for longer and records the
//! figures in docs/reliability.md.
//!
//! `PREMIA_HOSTILE_SECONDS` sets the length of each phase (default 3).

use crate::harness::{ApiClient, TestHost, auto_policy};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const NORMAL_CLIENTS: usize = 3;

fn phase_length() -> Duration {
    let seconds = std::env::var("PREMIA_HOSTILE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    Duration::from_secs(seconds)
}

/// Quotes from `NORMAL_CLIENTS` threads until `stop`; every quote must be
/// priced exactly, except that a quote may run past the plugin's wall-clock
/// deadline (504 `rater_deadline`) when the machine itself is starved of CPU
/// (a loaded CI box, parallel builds): those are counted, and must stay rare.
/// Returns the latencies of the priced quotes and the count of starved ones.
fn normal_quotes(
    admin: &ApiClient,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<(Vec<Duration>, usize)>> {
    (0..NORMAL_CLIENTS)
        .map(|_| {
            let (admin, stop) = (admin.clone(), Arc::clone(stop));
            std::thread::spawn(move || {
                let mut latencies = Vec::new();
                let mut starved = 0;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let (status, quote) = admin.post("/v1/quotes", &auto_policy("P-LOAD"));
                    let elapsed = started.elapsed();
                    if status == StatusCode::GATEWAY_TIMEOUT && quote["code"] == "rater_deadline" {
                        starved += 1;
                        continue;
                    }
                    assert_eq!(status, StatusCode::OK, "{quote}");
                    assert_eq!(quote["total"], "1487.50");
                    latencies.push(elapsed);
                }
                (latencies, starved)
            })
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[allow(clippy::float_arithmetic)]
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn summary(
    label: &str,
    handles: Vec<std::thread::JoinHandle<(Vec<Duration>, usize)>>,
) -> (Duration, usize) {
    let mut all = Vec::new();
    let mut starved = 0;
    for handle in handles {
        let (latencies, count) = handle.join().unwrap();
        all.extend(latencies);
        starved += count;
    }
    all.sort();
    assert!(!all.is_empty(), "{label}: no quote completed");
    assert!(
        starved * 20 <= all.len(),
        "{label}: {starved} of {} quotes ran past the deadline",
        all.len() + starved
    );
    let (p50, p99) = (percentile(&all, 0.50), percentile(&all, 0.99));
    eprintln!(
        "{label}: {} quotes priced ({starved} starved past the deadline), p50 {p50:?}, p99 {p99:?}",
        all.len()
    );
    (p99, all.len())
}

/// The bad behaviours and the problem codes they must give.
const HOSTILE: &[(&str, &[&str])] = &[
    ("loop", &["plugin_out_of_fuel", "rater_deadline"]),
    ("allocate", &["plugin_memory_limit"]),
    ("trap", &["plugin_trap"]),
    ("stack-overflow", &["plugin_stack_overflow"]),
    ("huge-output", &["rater_output_too_large"]),
    ("malformed", &["rater_invalid_output"]),
];

/// The hostile modes to call: all of them, or those named in
/// `PREMIA_HOSTILE_MODES` (comma-separated), to see which one costs the
/// normal quotes what.
fn hostile_modes() -> Vec<(&'static str, &'static [&'static str])> {
    let wanted = std::env::var("PREMIA_HOSTILE_MODES").unwrap_or_default();
    HOSTILE
        .iter()
        .filter(|(mode, _)| wanted.is_empty() || wanted.split(',').any(|w| w.trim() == *mode))
        .copied()
        .collect()
}

/// Quotes the `hostile` product with the faulty plugin in `mode`.
fn quote_hostile(admin: &ApiClient, mode: &str) -> (StatusCode, Value) {
    let mut policy = auto_policy("P-HOSTILE");
    policy["product"] = json!("hostile");
    policy["data"]["fields"]["mode"] = json!([mode]);
    admin.post("/v1/quotes", &policy)
}

#[test]
fn hostile_plugins_get_typed_errors_while_normal_quotes_keep_being_priced() {
    let host = TestHost::demo();
    let admin = host.admin();
    let (status, _) = admin.open_account("A-1");
    assert_eq!(status, StatusCode::CREATED);

    // Baseline: normal quotes alone.
    let stop = Arc::new(AtomicBool::new(false));
    let handles = normal_quotes(&admin, &stop);
    std::thread::sleep(phase_length());
    stop.store(true, Ordering::Relaxed);
    let (quiet_p99, _) = summary("normal quotes alone", handles);

    // The same with an admin uploading and calling hostile plugins.
    let stop = Arc::new(AtomicBool::new(false));
    let handles = normal_quotes(&admin, &stop);
    let (status, _) = admin.upload_wasm("faulty", "1", "faulty");
    assert_eq!(status, StatusCode::CREATED);
    // The invoicing plugin stays the demo's; only rating is hostile.
    admin.deploy_auto_variant("hostile", json!({"kind": "plugin", "plugin": "faulty@1"}));
    let started = Instant::now();
    let mut hostile_calls = 0;
    while hostile_calls == 0 || started.elapsed() < phase_length() {
        for (mode, codes) in hostile_modes() {
            let (status, problem) = quote_hostile(&admin, mode);
            let code = problem["code"].as_str().unwrap_or_default();
            assert!(codes.contains(&code), "{mode}: {status} {problem}");
            assert!(
                status == StatusCode::BAD_GATEWAY || status == StatusCode::GATEWAY_TIMEOUT,
                "{mode}: {status}"
            );
            hostile_calls += 1;
        }
        // A plugin logging without end: its log is capped, the call answers.
        let (status, _) = quote_hostile(&admin, "log-flood");
        assert_eq!(status, StatusCode::OK);
        hostile_calls += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let (loud_p99, _) = summary("normal quotes beside hostile plugins", handles);
    #[allow(clippy::float_arithmetic)]
    let ratio = loud_p99.as_secs_f64() / quiet_p99.as_secs_f64();
    eprintln!("{hostile_calls} hostile calls, each with its typed error; p99 ratio {ratio:.2}");

    // The faulty plugin is in quarantine (its calls run at idle priority);
    // the auto rater is not.
    let (_, plugins) = admin.get("/v1/plugins");
    let plugins = plugins.as_array().unwrap();
    let quarantine =
        |id: &str| plugins.iter().find(|p| p["id"] == id).unwrap()["quarantined_ms_left"].as_u64();
    assert!(quarantine("faulty@1").is_some_and(|left| left > 0));
    assert_eq!(quarantine("auto-rater@1"), None);

    // The server carries on: a normal quote after all that is exact.
    let (_, quote) = admin.post("/v1/quotes", &auto_policy("P-AFTER"));
    assert_eq!(quote["total"], "1487.50");
}

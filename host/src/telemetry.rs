//! What an operator watches: every metric Premia records, as named
//! functions over the `metrics` facade, so the engine, the store, the
//! plugin runtime and billing record without knowing how the figures are
//! exported (the API installs a Prometheus recorder and serves `/metrics`;
//! without a recorder, recording costs next to nothing).
//!
//! Names follow Prometheus conventions: `premia_` prefix, unit last
//! (`_seconds`, `_bytes`), `_total` for counters. Labels have few values
//! (a route template, never a path with ids; a tenant only where tenants
//! are few: never on request metrics).

use std::time::Duration;

/// A tenant's snapshot was loaded (at start-up or a catch-up).
pub fn snapshot_loaded(elapsed: Duration) {
    metrics::histogram!("premia_snapshot_load_seconds").record(elapsed.as_secs_f64());
}

/// A tenant's snapshot could not be used (`code`: why) and its log was
/// replayed.
pub fn snapshot_ignored(code: &'static str) {
    metrics::counter!("premia_snapshots_ignored_total", "reason" => code).increment(1);
}

/// A tenant's snapshot was saved: how long encoding and writing took and
/// its size.
pub fn snapshot_saved(elapsed: Duration, bytes: u64) {
    metrics::histogram!("premia_snapshot_save_seconds").record(elapsed.as_secs_f64());
    metrics::counter!("premia_snapshots_saved_total").increment(1);
    metrics::gauge!("premia_snapshot_last_bytes").set(bytes as f64);
}

/// A tenant was loaded at start-up or rebuilt: how long, and how many
/// events were replayed after its snapshot.
pub fn tenant_loaded(elapsed: Duration, replayed: u64) {
    metrics::histogram!("premia_tenant_load_seconds").record(elapsed.as_secs_f64());
    metrics::counter!("premia_events_replayed_total").increment(replayed);
}

/// The tenants held in memory by the engine.
pub fn tenants_loaded(count: usize) {
    metrics::gauge!("premia_tenants_loaded").set(count as f64);
}

/// An HTTP request answered: its route template (`/v1/policies/{locator}`,
/// or `unmatched`), method, status and latency.
pub fn http_request(route: &str, method: &str, status: u16, elapsed: Duration) {
    let labels = [
        ("route", route.to_string()),
        ("method", method.to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!("premia_http_requests_total", &labels).increment(1);
    metrics::histogram!("premia_http_request_duration_seconds", &labels)
        .record(elapsed.as_secs_f64());
}

/// A command committed (`outcome`: `committed`, `replayed`) or refused
/// (`refused`, with the error's code as `code`).
pub fn command(outcome: &'static str, code: &'static str, events: usize) {
    metrics::counter!("premia_commands_total", "outcome" => outcome, "code" => code).increment(1);
    metrics::counter!("premia_events_appended_total").increment(events as u64);
}

/// A group commit: how many appends it wrote together, and how long the
/// commit (write and fsync, or the database transaction) took.
pub fn commit_batch(appends: usize, elapsed: Duration) {
    metrics::histogram!("premia_commit_batch_appends").record(appends as f64);
    metrics::histogram!("premia_commit_seconds").record(elapsed.as_secs_f64());
}

/// A round of coalesced store probes (freshness checks and idempotency
/// lookups of a shared store answered together): how many it answered.
pub fn probe_batch(probes: usize) {
    metrics::histogram!("premia_store_probe_batch").record(probes as f64);
}

/// A command of a contended tenant committed holding the tenant's log
/// against the other hosts (`Store::lock_tenant`).
pub fn tenant_locked() {
    metrics::counter!("premia_tenant_locks_total").increment(1);
}

/// A store read (the log, a blob) and how long it took.
pub fn store_read(what: &'static str, elapsed: Duration) {
    metrics::histogram!("premia_store_read_seconds", "what" => what).record(elapsed.as_secs_f64());
}

/// A plugin call: its fuel, wall time, and whether it failed (`error`:
/// the error's code, empty when it answered).
pub fn plugin_call(plugin: &str, fuel: u64, wall_time_us: u64, error: &'static str) {
    let plugin = plugin.to_string();
    metrics::counter!("premia_plugin_calls_total", "plugin" => plugin.clone(), "error" => error)
        .increment(1);
    metrics::counter!("premia_plugin_fuel_total", "plugin" => plugin.clone()).increment(fuel);
    metrics::histogram!("premia_plugin_call_seconds", "plugin" => plugin)
        .record(Duration::from_micros(wall_time_us).as_secs_f64());
}

/// A plugin put in quarantine (a call hit a resource limit).
pub fn plugin_quarantined(plugin: &str) {
    metrics::counter!("premia_plugin_quarantines_total", "plugin" => plugin.to_string())
        .increment(1);
}

/// An external rater's call: how long, and its error's code (empty when
/// it answered).
pub fn external_rater_call(elapsed: Duration, error: &'static str) {
    metrics::counter!("premia_external_rater_calls_total", "error" => error).increment(1);
    metrics::histogram!("premia_external_rater_call_seconds").record(elapsed.as_secs_f64());
}

/// A billing run over a tenant: how long, and how many accounts it ran.
pub fn billing_run(elapsed: Duration, accounts: usize) {
    metrics::histogram!("premia_billing_run_seconds").record(elapsed.as_secs_f64());
    metrics::counter!("premia_billing_run_accounts_total").increment(accounts as u64);
}

/// A webhook message delivered (or given up): how long after its event
/// was committed, and the delivery's outcome.
pub fn webhook_delivery(lag: Duration, outcome: &'static str) {
    metrics::counter!("premia_webhook_deliveries_total", "outcome" => outcome).increment(1);
    metrics::histogram!("premia_webhook_lag_seconds").record(lag.as_secs_f64());
}

/// The Prometheus recorder, installed once per process on first use (`premia
/// serve` calls it before it opens the store, so the first scrape already
/// counts the start-up), and its handle to render the text exposition
/// format.
pub fn prometheus() -> &'static metrics_exporter_prometheus::PrometheusHandle {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = metrics_exporter_prometheus::PrometheusBuilder::new()
            .set_buckets(&LATENCY_BUCKETS_SECONDS)
            .expect("buckets are not empty")
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full("premia_commit_batch_appends".into()),
                &BATCH_BUCKETS,
            )
            .expect("buckets are not empty")
            .set_buckets_for_metric(
                metrics_exporter_prometheus::Matcher::Full("premia_store_probe_batch".into()),
                &BATCH_BUCKETS,
            )
            .expect("buckets are not empty");
        match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder was installed first (a test harness): a
            // handle that renders this recorder's own metrics.
            Err(_) => builder_fallback(),
        }
    })
}

fn builder_fallback() -> metrics_exporter_prometheus::PrometheusHandle {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .build_recorder()
        .handle()
}

/// Histogram buckets of latencies, seconds: 0.5 ms to 10 s.
const LATENCY_BUCKETS_SECONDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Histogram buckets of appends per commit batch.
const BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

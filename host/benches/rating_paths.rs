//! One rating call for a 10-item auto policy, by the same auto-rater
//! plugin two ways: in-process in a fresh WASM sandbox, and behind HTTP as a
//! Socotra-compatible external rater on loopback (`premia rater serve`,
//! keep-alive client). The ratio is what issue 6 asks about: how much faster
//! the WASM path is per rating call.
//!
//! Needs the plugins compiled to wasm: `scripts/bench.sh rating_paths`.

use criterion::{Criterion, criterion_group, criterion_main};
use premia::plugin::{PluginLimits, PluginRater, PluginRuntime};
use premia::rating::external::{ExternalRater, ExternalRaterConfig};
use premia::rating::{RateRequest, Rater};
use premia_plugin_sdk::tables::RateTables;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The allocator the `premia` binary runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Ten items: four vehicles, ten perils (the load test's policy).
fn ten_item_request() -> RateRequest {
    let golden = ["plugins/golden/auto-rater", "plugins/auto-rater/golden"]
        .iter()
        .map(|dir| {
            workspace()
                .join(dir)
                .join("four-vehicles-rural.request.json")
        })
        .find(|path| path.exists())
        .expect("the auto-rater golden requests");
    let mut request: RateRequest =
        serde_json::from_str(&std::fs::read_to_string(golden).unwrap()).unwrap();
    let template = request.policy.exposures[0].clone();
    request.policy.exposures.clear();
    request.items.clear();
    for v in 0..4 {
        let mut exposure = template.clone();
        exposure.locator = format!("V{v}");
        exposure.characteristics.locator = format!("EC{v}");
        for peril in &mut exposure.perils {
            peril.characteristics.locator = format!("V{v}-{}", peril.name);
            if request.items.len() < 10 {
                request.items.push(premia::rating::RateItem {
                    locator: peril.characteristics.locator.clone(),
                    policy_characteristics: request.policy.characteristics.locator.clone(),
                    exposure_characteristics: Some(exposure.characteristics.locator.clone()),
                    peril_characteristics: Some(peril.characteristics.locator.clone()),
                });
            }
        }
        request.policy.exposures.push(exposure);
    }
    request
}

fn rating_paths(c: &mut Criterion) {
    let wasm = workspace().join("target/plugins/wasm32-wasip2/plugin/auto_rater.wasm");
    let bytes = std::fs::read(&wasm)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/bench.sh", wasm.display()));
    let tables_dir = workspace().join("plugins/auto-rater/tables");
    let request = ten_item_request();

    let runtime = Arc::new(PluginRuntime::new(PluginLimits::default()).unwrap());
    runtime
        .register(
            "auto",
            "1",
            &bytes,
            RateTables::from_dir(&tables_dir).unwrap(),
        )
        .unwrap();
    let wasm_rater = PluginRater::new(Arc::clone(&runtime), "auto@1").unwrap();
    // The same plugin under an explicit pooled instance policy (not the
    // default; see docs/plugins/README.md), for comparison.
    runtime
        .register_with_policy(
            "auto-pooled",
            "1",
            &bytes,
            RateTables::from_dir(&tables_dir).unwrap(),
            premia::plugin::InstancePolicy::Pooled {
                instances_max: 4,
                calls_per_instance_max: 1_000,
            },
        )
        .unwrap();
    let pooled_rater = PluginRater::new(Arc::clone(&runtime), "auto-pooled@1").unwrap();

    let router = premia::cli::rater_serve::router(
        &bytes,
        RateTables::from_dir(&tables_dir).unwrap(),
        premia::cli::rater_serve::ServeOptions::default(),
    )
    .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, router).await.unwrap();
            })
    });
    let config = ExternalRaterConfig::new("auto-ext", format!("http://{address}/rate"))
        .with_header("Authorization", "Bearer secret");
    let external_rater = ExternalRater::new(&config).unwrap();

    // The contract's floor: the same 10-item request to a plugin that reads
    // one field and prices every item at a fixed 100.00 (`faulty` in its
    // `ok` mode): the host's conversion, the canonical ABI's lowering and
    // lifting, and a fresh sandbox, with next to no guest work.
    let faulty = workspace().join("target/plugins/wasm32-wasip2/plugin/faulty.wasm");
    runtime
        .register(
            "fixed",
            "1",
            &std::fs::read(&faulty).unwrap(),
            RateTables::new(),
        )
        .unwrap();
    let fixed_rater = PluginRater::new(Arc::clone(&runtime), "fixed@1").unwrap();
    runtime
        .register_with_policy(
            "fixed-pooled",
            "1",
            &std::fs::read(&faulty).unwrap(),
            RateTables::new(),
            premia::plugin::InstancePolicy::Pooled {
                instances_max: 4,
                calls_per_instance_max: 1_000,
            },
        )
        .unwrap();
    let fixed_pooled_rater = PluginRater::new(Arc::clone(&runtime), "fixed-pooled@1").unwrap();
    let mut fixed_request = request.clone();
    fixed_request.policy.characteristics.fields.insert(
        "mode".to_string(),
        vec![premia::rating::FieldValue::Text("ok".to_string())],
    );
    assert_eq!(fixed_rater.rate(&fixed_request).unwrap().items.len(), 10);

    let wasm_items = wasm_rater.rate(&request).unwrap().items.len();
    let external_items = external_rater.rate(&request).unwrap().items.len();
    assert_eq!((wasm_items, external_items), (10, 10));

    let mut group = c.benchmark_group("rating_call_10_items");
    group.bench_function("wasm_plugin_fresh_sandbox", |b| {
        b.iter(|| wasm_rater.rate(black_box(&request)).unwrap())
    });
    group.bench_function("wasm_plugin_pooled_instance", |b| {
        b.iter(|| pooled_rater.rate(black_box(&request)).unwrap())
    });
    group.bench_function("wasm_fixed_price_plugin_fresh_sandbox", |b| {
        b.iter(|| fixed_rater.rate(black_box(&fixed_request)).unwrap())
    });
    group.bench_function("wasm_fixed_price_plugin_pooled_instance", |b| {
        b.iter(|| fixed_pooled_rater.rate(black_box(&fixed_request)).unwrap())
    });
    group.bench_function("external_rater_http_loopback", |b| {
        b.iter(|| external_rater.rate(black_box(&request)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, rating_paths);
criterion_main!(benches);

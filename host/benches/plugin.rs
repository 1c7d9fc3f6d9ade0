//! Plugin call latency: a rating call in a fresh sandbox with 3 and 100
//! items, the same in one reused instance for reference, the cost of
//! compiling a component and of loading it from the artifact cache, and
//! the auto rater in Rust, JavaScript and Python under both instance
//! policies (fresh and pooled).
//!
//! Needs the plugins compiled to wasm: `scripts/bench.sh` does that (the
//! JavaScript and Python ones with `scripts/plugin-toolchains.sh`'s
//! toolchains) and runs this bench (`cargo bench -p premia --bench plugin`).

use criterion::{Criterion, criterion_group, criterion_main};
use premia::plugin::{InstancePolicy, PluginLimits, PluginRuntime};
use premia::rating::RateRequest;
use premia_plugin_sdk::tables::RateTables;
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn auto_rater_wasm() -> Vec<u8> {
    let path = workspace().join("target/plugins/wasm32-wasip2/plugin/auto_rater.wasm");
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the plugins first with scripts/bench.sh",
            path.display()
        )
    })
}

fn request(items: usize) -> RateRequest {
    let path = workspace().join("plugins/golden/auto-rater/one-sedan-urban.request.json");
    let mut request: RateRequest =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let template = request.policy.exposures[0].clone();
    request.policy.exposures.clear();
    request.items.clear();
    let vehicles = items.div_ceil(3);
    for v in 0..vehicles {
        let mut exposure = template.clone();
        exposure.locator = format!("V{v}");
        exposure.characteristics.locator = format!("EC{v}");
        for peril in &mut exposure.perils {
            peril.characteristics.locator = format!("V{v}-{}", peril.name);
            if request.items.len() < items {
                request.items.push(premia::rating::RateItem {
                    locator: peril.characteristics.locator.clone(),
                    policy_characteristics: "PC1".into(),
                    exposure_characteristics: Some(exposure.characteristics.locator.clone()),
                    peril_characteristics: Some(peril.characteristics.locator.clone()),
                });
            }
        }
        request.policy.exposures.push(exposure);
    }
    request
}

fn plugin_calls(c: &mut Criterion) {
    let runtime = PluginRuntime::new(PluginLimits::default()).unwrap();
    let tables = RateTables::from_dir(&workspace().join("plugins/auto-rater/tables")).unwrap();
    let bytes = auto_rater_wasm();
    runtime.register("auto", "1", &bytes, tables).unwrap();
    let three = request(3);
    let hundred = request(100);
    assert_eq!(runtime.rate("auto@1", &hundred).unwrap().0.items.len(), 100);

    let faulty_path = workspace().join("target/plugins/wasm32-wasip2/plugin/faulty.wasm");
    runtime
        .register(
            "faulty",
            "1",
            &std::fs::read(faulty_path).unwrap(),
            RateTables::new(),
        )
        .unwrap();
    let mut trivial = three.clone();
    trivial.policy.characteristics.fields.insert(
        "mode".into(),
        vec![premia::rating::FieldValue::Text("ok".into())],
    );

    let mut group = c.benchmark_group("sandbox");
    group.bench_function("instantiate_only", |b| {
        b.iter(|| runtime.instantiate_only_for_reference("auto@1").unwrap())
    });
    group.bench_function("fresh_sandbox_trivial_3_items", |b| {
        b.iter(|| black_box(runtime.rate("faulty@1", black_box(&trivial)).unwrap()))
    });
    group.bench_function("reused_instance_trivial_3_items_per_call", |b| {
        b.iter_custom(|iterations| {
            let started = std::time::Instant::now();
            black_box(
                runtime
                    .rate_in_one_instance_for_reference("faulty@1", &trivial, iterations)
                    .unwrap(),
            );
            started.elapsed()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("rating_call");
    group.bench_function("fresh_sandbox_3_items", |b| {
        b.iter(|| black_box(runtime.rate("auto@1", black_box(&three)).unwrap()))
    });
    group.bench_function("fresh_sandbox_100_items", |b| {
        b.iter(|| black_box(runtime.rate("auto@1", black_box(&hundred)).unwrap()))
    });
    group.bench_function("reused_instance_3_items_per_call", |b| {
        b.iter_custom(|iterations| {
            let started = std::time::Instant::now();
            black_box(
                runtime
                    .rate_in_one_instance_for_reference("auto@1", &three, iterations)
                    .unwrap(),
            );
            started.elapsed()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("component");
    group.sample_size(10);
    group.bench_function("compile", |b| {
        b.iter_with_setup(
            || PluginRuntime::new(PluginLimits::default()).unwrap(),
            |fresh| black_box(fresh.compile(&bytes).unwrap()),
        )
    });
    // A restart: a fresh runtime finds the component in the artifact cache
    // (reads it, checks its recorded SHA-256, deserializes it).
    let artifacts = tempfile::tempdir().unwrap();
    let cached = || {
        PluginRuntime::new(PluginLimits::default())
            .unwrap()
            .with_artifact_dir(artifacts.path())
            .unwrap()
    };
    cached().compile(&bytes).unwrap();
    group.bench_function("load from the artifact cache", |b| {
        b.iter_with_setup(cached, |fresh| black_box(fresh.compile(&bytes).unwrap()))
    });
    group.finish();
}

/// The auto rater in each language: (name, component path).
fn auto_raters() -> [(&'static str, PathBuf); 3] {
    let plugins = workspace().join("target/plugins");
    [
        ("rust", plugins.join("wasm32-wasip2/plugin/auto_rater.wasm")),
        ("javascript", plugins.join("lang/auto_rater_js.wasm")),
        ("python", plugins.join("lang/auto_rater_py.wasm")),
    ]
}

/// The auto rater in Rust, JavaScript and Python, 3 items, with a fresh
/// instance per call and with a pool of reused instances; prints each
/// component's size and compile time once.
fn language_calls(c: &mut Criterion) {
    let runtime = PluginRuntime::new(PluginLimits::default()).unwrap();
    let three = request(3);
    let tables = || RateTables::from_dir(&workspace().join("plugins/auto-rater/tables")).unwrap();
    let mut group = c.benchmark_group("languages");
    for (language, path) in auto_raters() {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; build the plugins first with scripts/bench.sh",
                path.display()
            )
        });
        let started = std::time::Instant::now();
        runtime.compile(&bytes).unwrap();
        eprintln!(
            "{language} auto rater: {} KB component, compiled in {} ms",
            bytes.len() / 1000,
            started.elapsed().as_millis()
        );
        for (policy_name, policy) in [
            ("fresh", InstancePolicy::Fresh),
            ("pooled", InstancePolicy::pooled(2, 1000)),
        ] {
            let id = runtime
                .register_with_policy(
                    &format!("{language}-{policy_name}"),
                    "1",
                    &bytes,
                    tables(),
                    policy,
                )
                .unwrap()
                .id;
            group.bench_function(format!("{language}_{policy_name}_3_items"), |b| {
                b.iter(|| black_box(runtime.rate(&id, black_box(&three)).unwrap()))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, plugin_calls, language_calls);
criterion_main!(benches);

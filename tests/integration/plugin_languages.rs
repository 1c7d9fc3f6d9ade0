//! Plugins in JavaScript and Python against the same WIT: the auto rater in
//! all three languages passes the shared golden cases, the Python
//! installment-fee invoicer matches the Rust one, the JavaScript faulty rater
//! gets the same typed errors as the Rust one, and the pooled instance policy
//! never reuses an instance after a failure.
//!
//! The components are built by the build script with the toolchains of
//! `scripts/plugin-toolchains.sh`; a test fails with the reason if they are
//! missing. One runtime, with an artifact directory under `target/`, serves
//! every test of this module so each 12-18 MB component compiles once.

use crate::support::*;
use premia::plugin::{
    DraftInvoice, DraftItem, InstancePolicy, PluginError, PluginLimits, PluginRuntime,
};
use premia::rating::{FieldValue, RateRequest, RateResponse, Segment};
use premia_plugin_sdk::tables::RateTables;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The auto raters under test: (plugin id, language).
const AUTO_RATERS: [(&str, &str); 3] = [
    ("auto-rust@1", "Rust"),
    ("auto-js@1", "JavaScript"),
    ("auto-py@1", "Python"),
];

/// The default limits with a wall time of seconds: these tests check
/// answers and typed errors, not speed, and a debug build on a loaded 2-core
/// machine can take far more than the production 100 ms for an interpreter's
/// call. Fuel, which is deterministic, still stops runaway guests.
fn test_limits() -> PluginLimits {
    PluginLimits {
        wall_time_ms_max: 5_000,
        ..PluginLimits::default()
    }
}

/// The shared runtime: the three auto raters, the Python and Rust
/// installment-fee invoicers and the JavaScript faulty rater.
fn languages() -> &'static PluginRuntime {
    static RUNTIME: OnceLock<Arc<PluginRuntime>> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let runtime = PluginRuntime::new(test_limits())
            .unwrap()
            .with_artifact_dir(workspace().join("target/plugin-artifacts/tests"))
            .unwrap();
        let register = |name: &str, bytes: &[u8], tables: RateTables| {
            runtime.register(name, "1", bytes, tables).unwrap();
        };
        register("auto-rust", &wasm("auto-rater"), tables("auto-rater"));
        register(
            "auto-js",
            &lang_wasm("auto-rater-js"),
            tables("auto-rater-js"),
        );
        register(
            "auto-py",
            &lang_wasm("auto-rater-py"),
            tables("auto-rater-py"),
        );
        register(
            "fee-rust",
            &wasm("installment-fee"),
            tables("installment-fee"),
        );
        register(
            "fee-py",
            &lang_wasm("installment-fee-py"),
            tables("installment-fee-py"),
        );
        register("faulty-js", &lang_wasm("faulty-js"), RateTables::new());
        Arc::new(runtime)
    })
}

/// Registers the JavaScript faulty rater again as `id`@1 with `policy`.
fn faulty_js_with(id: &str, policy: InstancePolicy) -> String {
    languages()
        .register_with_policy(id, "1", &lang_wasm("faulty-js"), RateTables::new(), policy)
        .unwrap()
        .id
}

fn rate(plugin: &str, request: &RateRequest) -> Result<RateResponse, PluginError> {
    languages()
        .rate(plugin, request)
        .map(|(response, _)| response)
}

/// The price of the `counter` mode: how many calls the instance served.
fn counter(plugin: &str) -> String {
    let response = rate(plugin, &faulty_request("counter")).unwrap();
    serde_json::to_value(response.items[0].premium).unwrap()["yearly"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_auto_rater_in_rust_javascript_and_python_passes_every_shared_golden_case() {
    for case in golden_cases() {
        for (plugin, language) in AUTO_RATERS {
            let response = rate(plugin, &golden_request(&case))
                .unwrap_or_else(|e| panic!("{language}, {case}: {e}"));
            assert_eq!(
                serde_json::to_value(&response).unwrap(),
                golden_expected(&case),
                "{language} auto rater, golden case {case}"
            );
        }
    }
}

#[test]
fn the_auto_raters_of_every_language_ship_the_same_rate_tables() {
    for copy in ["auto-rater-js", "auto-rater-py"] {
        for table in ["base-rates", "deductible", "driver-age", "territory"] {
            let read = |plugin: &str| {
                std::fs::read_to_string(
                    workspace().join(format!("plugins/{plugin}/tables/{table}.csv")),
                )
                .unwrap()
            };
            assert_eq!(read(copy), read("auto-rater"), "{copy}/tables/{table}.csv");
        }
    }
}

#[test]
fn every_plugin_carries_the_sdk_file_of_its_language_unchanged() {
    // componentize-js and componentize-py take one source tree, so each
    // plugin ships a copy of the SDK helper; the copies must not drift.
    let read = |path: &str| std::fs::read_to_string(workspace().join(path)).unwrap();
    for (copy, sdk) in [
        (
            "plugins/auto-rater-js/src/premia.js",
            "plugin-sdk/js/premia.js",
        ),
        ("plugins/faulty-js/src/premia.js", "plugin-sdk/js/premia.js"),
        (
            "plugins/auto-rater-py/premia.py",
            "plugin-sdk/python/premia.py",
        ),
        (
            "plugins/installment-fee-py/premia.py",
            "plugin-sdk/python/premia.py",
        ),
    ] {
        assert!(
            read(copy) == read(sdk),
            "{copy} differs from {sdk}: copy the SDK file again"
        );
    }
}

#[test]
fn every_language_declines_a_driver_under_sixteen_with_the_same_message() {
    let mut request = golden_request("one-sedan-urban");
    request.policy.exposures[0]
        .characteristics
        .fields
        .insert("driver_age".into(), vec![FieldValue::Integer(15)]);
    for (plugin, language) in AUTO_RATERS {
        assert_eq!(
            rate(plugin, &request).unwrap_err(),
            PluginError::Declined {
                plugin: plugin.into(),
                message: "vehicle V1: drivers under 16 are not insurable".into()
            },
            "{language}"
        );
    }
}

#[test]
fn every_language_reports_an_unknown_territory_as_invalid_input_naming_the_table() {
    let mut request = golden_request("one-sedan-urban");
    request
        .policy
        .characteristics
        .fields
        .insert("territory".into(), vec![FieldValue::Text("lunar".into())]);
    for (plugin, language) in AUTO_RATERS {
        assert_eq!(
            rate(plugin, &request).unwrap_err(),
            PluginError::InvalidInput {
                plugin: plugin.into(),
                message: "territory[lunar].factor: no such row".into()
            },
            "{language}"
        );
    }
}

#[test]
fn the_javascript_and_python_components_import_nothing_but_the_premia_host() {
    for plugin in ["auto-js@1", "auto-py@1", "fee-py@1", "faulty-js@1"] {
        let info = languages().plugin(plugin).unwrap();
        assert!(
            info.imports
                .iter()
                .all(|import| import.starts_with("premia:plugin/")),
            "{plugin} imports {:?}",
            info.imports
        );
        assert!(
            info.size_bytes < PluginLimits::default().component_bytes_max,
            "{plugin}: {} bytes",
            info.size_bytes
        );
    }
}

fn draft(currency: &str, previous_invoice_count: u32) -> DraftInvoice {
    let date = |month, day| chrono::NaiveDate::from_ymd_opt(2025, month, day).unwrap();
    let mut draft: DraftInvoice = serde_json::from_value(serde_json::json!({
        "account": "A-1",
        "currency": currency,
        "invoice_date": "2025-02-01",
        "due_date": "2025-02-15",
        "previous_invoice_count": previous_invoice_count,
        "items": [],
        "policies": [{"policy": "P-1", "term": 1, "coverage": {"status": "in_force"}}]
    }))
    .unwrap();
    draft.items.push(DraftItem {
        locator: "P-1-T1-I2".into(),
        policy: Some("P-1".into()),
        charge: "premium".into(),
        category: "premium".into(),
        amount: rust_decimal_macros::dec!(83.34),
        period: Some(Segment {
            start: date(2, 1),
            end: date(3, 1),
        }),
        installment_number: Some(2),
    });
    draft
}

/// The Python twin is built against WIT 0.1 and the Rust one against 0.2:
/// the host calls each in its own version, and the Python one, which never
/// sees the policy statuses 0.2 added, keeps billing as it always did.
#[test]
fn a_wit_0_1_invoicer_keeps_working_beside_a_0_2_one_and_sees_the_draft_it_knows() {
    let runtime = languages();
    assert_eq!(runtime.plugin("fee-py@1").unwrap().wit_version, "0.1.0");
    assert_eq!(runtime.plugin("fee-rust@1").unwrap().wit_version, "0.2.0");
    let mut cancelled = draft("USD", 1);
    cancelled.policies[0].coverage = premia::plugin::Coverage::Cancelled {
        effective: chrono::NaiveDate::from_ymd_opt(2025, 1, 20).unwrap(),
    };
    let (python, _) = runtime.adjust_invoice("fee-py@1", &cancelled).unwrap();
    let (rust, _) = runtime.adjust_invoice("fee-rust@1", &cancelled).unwrap();
    assert_eq!(
        python.lines.iter().map(|l| l.amount).collect::<Vec<_>>(),
        [rust_decimal_macros::dec!(5.00)],
        "0.1 cannot tell a cancelled policy: it charges as before"
    );
    assert_eq!(
        rust.lines,
        [],
        "0.2 sees the cancellation and charges nothing"
    );
}

#[test]
fn the_python_installment_fee_invoicer_bills_like_the_rust_one() {
    let runtime = languages();
    for (currency, count) in [("USD", 0), ("USD", 1), ("EUR", 3), ("JPY", 2)] {
        let rust = runtime.adjust_invoice("fee-rust@1", &draft(currency, count));
        let python = runtime.adjust_invoice("fee-py@1", &draft(currency, count));
        assert_eq!(
            python.map(|(a, _)| a),
            rust.map(|(a, _)| a),
            "{currency}, {count} earlier invoices"
        );
    }
    // An installment and its withdrawal (premium netting to zero), and a
    // credit: neither language charges its fee.
    let mut withdrawn = draft("USD", 4);
    let mut withdrawal = withdrawn.items[0].clone();
    withdrawal.locator = "P-1-T2-I2".into();
    withdrawal.amount = -withdrawal.amount;
    withdrawn.items.push(withdrawal.clone());
    let mut credit = draft("USD", 4);
    withdrawal.amount = rust_decimal_macros::dec!(-500.00);
    withdrawal.installment_number = None;
    credit.items.push(withdrawal);
    for (what, invoice) in [("zero premium", &withdrawn), ("a credit", &credit)] {
        for plugin in ["fee-rust@1", "fee-py@1"] {
            let (adjustments, _) = runtime.adjust_invoice(plugin, invoice).unwrap();
            assert!(adjustments.lines.is_empty(), "{plugin}: no fee on {what}");
        }
    }
    let (second, _) = runtime
        .adjust_invoice("fee-py@1", &draft("USD", 1))
        .unwrap();
    assert_eq!(second.lines.len(), 1);
    assert_eq!(second.lines[0].amount, rust_decimal_macros::dec!(5.00));
    assert_eq!(
        runtime
            .adjust_invoice("fee-py@1", &draft("CHF", 1))
            .unwrap_err(),
        PluginError::InvalidInput {
            plugin: "fee-py@1".into(),
            message: "fees[CHF].installment_fee: no such row".into()
        }
    );
}

/// A fault of the JavaScript faulty rater, which must stop within seconds.
fn js_fault(mode: &str) -> PluginError {
    let runtime = languages();
    let started = Instant::now();
    let error = runtime
        .rate("faulty-js@1", &faulty_request(mode))
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "{mode}");
    error
}

#[test]
fn a_javascript_endless_loop_runs_out_of_fuel_like_a_rust_one() {
    assert_eq!(
        js_fault("loop"),
        PluginError::OutOfFuel {
            plugin: "faulty-js@1".into(),
            fuel_per_call_max: 50_000_000
        }
    );
    assert_eq!(counter("faulty-js@1"), "1");
}

#[test]
fn a_javascript_unbounded_allocation_hits_the_memory_limit_like_a_rust_one() {
    // The engine zeroes what it allocates, instruction by instruction: with
    // the default limits a JavaScript memory bomb runs out of fuel (or time)
    // first. Given the fuel and time, it hits the memory limit.
    let code = js_fault("allocate").code();
    assert!(
        ["plugin_out_of_fuel", "plugin_deadline"].contains(&code),
        "{code}"
    );
    let limits = PluginLimits {
        fuel_per_call_max: 5_000_000_000,
        wall_time_ms_max: 20_000,
        ..PluginLimits::default()
    };
    let runtime = PluginRuntime::new(limits)
        .unwrap()
        .with_artifact_dir(workspace().join("target/plugin-artifacts/tests"))
        .unwrap();
    runtime
        .register("faulty-js", "1", &lang_wasm("faulty-js"), RateTables::new())
        .unwrap();
    let error = runtime
        .rate("faulty-js@1", &faulty_request("allocate"))
        .unwrap_err();
    assert_eq!(
        error,
        PluginError::MemoryLimit {
            plugin: "faulty-js@1".into(),
            memory_bytes_max: 64 * 1024 * 1024
        }
    );
    let (ok, _) = runtime.rate("faulty-js@1", &faulty_request("ok")).unwrap();
    assert_eq!(ok.items.len(), 1);
}

#[test]
fn a_javascript_exception_that_is_not_a_plugin_error_is_a_trap() {
    let error = js_fault("trap");
    assert_eq!(error.code(), "plugin_trap", "{error}");
    assert!(matches!(error, PluginError::Trap { ref plugin, .. } if plugin == "faulty-js@1"));
    assert_eq!(counter("faulty-js@1"), "1");
}

#[test]
fn a_javascript_decline_is_the_plugins_business_answer() {
    assert_eq!(
        js_fault("decline"),
        PluginError::Declined {
            plugin: "faulty-js@1".into(),
            message: "faulty plugin declines on purpose".into()
        }
    );
}

#[test]
fn a_fresh_instance_per_call_keeps_no_state_between_calls() {
    for _ in 0..3 {
        assert_eq!(counter("faulty-js@1"), "1");
    }
    assert_eq!(languages().idle_instances("faulty-js@1").unwrap(), 0);
}

#[test]
fn a_pooled_instance_serves_the_next_calls_and_reports_it() {
    let id = faulty_js_with("pool-reuse", InstancePolicy::pooled(1, 100));
    assert_eq!(counter(&id), "1");
    assert_eq!(counter(&id), "2");
    let (_, report) = languages().rate(&id, &faulty_request("counter")).unwrap();
    assert!(report.instance_reused);
    assert_eq!(languages().idle_instances(&id).unwrap(), 1);
}

#[test]
fn a_pooled_instance_is_never_used_again_after_a_trap() {
    let id = faulty_js_with("pool-trap", InstancePolicy::pooled(1, 100));
    assert_eq!(counter(&id), "1");
    assert_eq!(counter(&id), "2");
    let error = rate(&id, &faulty_request("trap")).unwrap_err();
    assert_eq!(error.code(), "plugin_trap");
    assert_eq!(languages().idle_instances(&id).unwrap(), 0);
    let (_, report) = languages().rate(&id, &faulty_request("counter")).unwrap();
    assert!(!report.instance_reused, "a new instance after the trap");
    assert_eq!(
        counter(&id),
        "2",
        "the new instance counts from its own start"
    );
}

#[test]
fn a_pooled_instance_is_dropped_after_a_declined_answer_or_a_limit_and_a_quarantined_plugin_is_not_pooled()
 {
    let id = faulty_js_with("pool-errors", InstancePolicy::pooled(1, 100));
    assert_eq!(counter(&id), "1");
    assert_eq!(counter(&id), "2");
    rate(&id, &faulty_request("decline")).unwrap_err();
    assert_eq!(
        languages().idle_instances(&id).unwrap(),
        0,
        "after a decline"
    );
    assert_eq!(counter(&id), "1", "a new instance after the decline");
    assert_eq!(counter(&id), "2");
    // A limit drops the instance and quarantines the plugin: until the
    // quarantine ends every call gets a fresh instance, none is pooled.
    rate(&id, &faulty_request("loop")).unwrap_err();
    assert_eq!(languages().idle_instances(&id).unwrap(), 0, "after a limit");
    assert!(languages().quarantined_for(&id).is_some());
    assert_eq!(counter(&id), "1");
    assert_eq!(counter(&id), "1", "quarantined: no instance is kept");
    assert_eq!(languages().idle_instances(&id).unwrap(), 0);
}

#[test]
fn a_pooled_instance_is_replaced_from_the_initial_image_after_its_call_budget() {
    let id = faulty_js_with("pool-budget", InstancePolicy::pooled(2, 3));
    let served: Vec<String> = (0..7).map(|_| counter(&id)).collect();
    assert_eq!(served, ["1", "2", "3", "1", "2", "3", "1"]);
}

#[test]
fn pooled_auto_raters_give_the_golden_answers_call_after_call() {
    let runtime = languages();
    for (plugin, language) in AUTO_RATERS {
        let name = format!("pooled-{}", plugin.split('@').next().unwrap());
        let bytes = match language {
            "Rust" => wasm("auto-rater"),
            "JavaScript" => lang_wasm("auto-rater-js"),
            _ => lang_wasm("auto-rater-py"),
        };
        let id = runtime
            .register_with_policy(
                &name,
                "1",
                &bytes,
                tables("auto-rater"),
                InstancePolicy::pooled(2, 50),
            )
            .unwrap()
            .id;
        for round in 0..3 {
            for case in golden_cases() {
                let (response, report) = runtime.rate(&id, &golden_request(&case)).unwrap();
                assert_eq!(
                    serde_json::to_value(&response).unwrap(),
                    golden_expected(&case),
                    "{language} pooled, round {round}, {case}"
                );
                assert_eq!(
                    report.instance_reused,
                    round > 0 || case != golden_cases()[0]
                );
            }
        }
    }
}

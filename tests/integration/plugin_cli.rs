//! The `premia plugin` commands end to end: new, build, check, run.

use crate::support::*;
use clap::Parser;
use premia::cli::{Cli, run};
use std::process::ExitCode;

fn premia(args: &[&str]) -> (ExitCode, String) {
    let cli = Cli::try_parse_from(std::iter::once("premia").chain(args.iter().copied())).unwrap();
    let mut out = Vec::new();
    let code = run(cli, &mut out).unwrap();
    (code, String::from_utf8(out).unwrap())
}

#[test]
fn check_accepts_the_auto_rater_and_names_its_world() {
    let path = wasm_path("auto-rater");
    let (code, out) = premia(&["plugin", "check", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, ExitCode::SUCCESS);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["world"], "rater");
    assert_eq!(report["wit_version"], "0.1.0");
    assert_eq!(report["compatible"], true);
}

#[test]
fn check_refuses_the_wrong_world_and_forbidden_imports_with_exit_code_one() {
    for fixture in ["fixture-wrong-world", "fixture-forbidden-import"] {
        let path = wasm_path(fixture);
        let (code, out) = premia(&["plugin", "check", path.to_str().unwrap()]);
        assert_eq!(code, ExitCode::from(1), "{fixture}: {out}");
        assert!(out.contains("compatible:  no"), "{out}");
    }
}

#[test]
fn run_prints_the_result_and_the_measurements() {
    let path = wasm_path("auto-rater");
    let input = workspace().join("plugins/golden/auto-rater/one-sedan-urban.request.json");
    let tables = workspace().join("plugins/auto-rater/tables");
    let (code, out) = premia(&[
        "plugin",
        "run",
        path.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--tables",
        tables.to_str().unwrap(),
    ]);
    assert_eq!(code, ExitCode::SUCCESS);
    let out: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["result"], golden_expected("one-sedan-urban"));
    assert!(out["report"]["fuel_consumed"].as_u64().unwrap() > 0);
    assert!(out["report"]["memory_peak_bytes"].as_u64().unwrap() > 0);
    assert!(out["report"]["wall_time_us"].as_u64().is_some());
    assert_eq!(out["report"]["output_bytes"], 150);
}

#[test]
fn new_then_build_then_check_then_run_works_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let plugin_dir = dir.path().join("my-rater");
    let plugin = plugin_dir.to_str().unwrap();
    let (code, _) = premia(&["plugin", "new", "my-rater", "--dir", plugin]);
    assert_eq!(code, ExitCode::SUCCESS);

    // Share one target directory between runs so the SDK is compiled once.
    let target_dir = workspace().join("target/plugins-scaffold");
    let status = std::process::Command::new(env!("CARGO"))
        .args(["test", "--quiet"])
        .current_dir(&plugin_dir)
        .env("CARGO_TARGET_DIR", &target_dir)
        .status()
        .unwrap();
    assert!(status.success(), "the scaffold's own tests pass");

    let target = target_dir.to_str().unwrap();
    let (code, out) = premia(&["plugin", "build", "--path", plugin, "--target-dir", target]);
    assert_eq!(code, ExitCode::SUCCESS);
    let component = out.trim().to_string();
    assert!(
        component.ends_with("wasm32-wasip2/release/my_rater.wasm"),
        "{component}"
    );

    let (code, out) = premia(&["plugin", "check", &component]);
    assert_eq!(code, ExitCode::SUCCESS, "{out}");

    let input = plugin_dir.join("request.json");
    let tables = plugin_dir.join("tables");
    let (code, out) = premia(&[
        "plugin",
        "run",
        &component,
        "--input",
        input.to_str().unwrap(),
        "--tables",
        tables.to_str().unwrap(),
    ]);
    assert_eq!(code, ExitCode::SUCCESS, "{out}");
    let out: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["result"]["items"][0]["premium"]["yearly"], "660.00");
}

/// `premia plugin new --lang <lang>`, then build, check and run with
/// `--expect`: the scaffold gives the response it ships with.
fn scaffold_builds_and_gives_its_expected_response(lang: &str) {
    assert!(
        premia_tests::LANG_PLUGINS_PROBLEMS.is_empty(),
        "the JavaScript/Python toolchains are needed: {}",
        premia_tests::LANG_PLUGINS_PROBLEMS
    );
    let dir = tempfile::tempdir().unwrap();
    let plugin_dir = dir.path().join("my-rater");
    let plugin = plugin_dir.to_str().unwrap();
    let (code, _) = premia(&["plugin", "new", "my-rater", "--lang", lang, "--dir", plugin]);
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(plugin_dir.join("premia-plugin.json").exists());

    let (code, out) = premia(&["plugin", "build", "--path", plugin]);
    assert_eq!(code, ExitCode::SUCCESS);
    let component = out.trim().to_string();
    assert!(component.ends_with("dist/my_rater.wasm"), "{component}");

    let (code, out) = premia(&["plugin", "check", &component, "--json"]);
    assert_eq!(code, ExitCode::SUCCESS, "{out}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["world"], "rater");

    let path = |name: &str| plugin_dir.join(name).to_str().unwrap().to_string();
    let run = |extra: &[&str]| {
        let (input, tables, expect) = (path("request.json"), path("tables"), path("expected.json"));
        let mut args = vec![
            "plugin",
            "run",
            &component,
            "--input",
            &input,
            "--tables",
            &tables,
            "--expect",
            &expect,
            "--wall-time-ms",
            "5000",
        ];
        args.extend_from_slice(extra);
        premia(&args)
    };
    let (code, out) = run(&[]);
    assert_eq!(code, ExitCode::SUCCESS, "{out}");
    let out: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["result"]["items"][0]["premium"]["yearly"], "660.00");
    assert_eq!(out["expected"]["matches"], true);

    let (code, out) = run(&["--instance-policy", "pooled:1:10", "--calls", "3"]);
    assert_eq!(code, ExitCode::SUCCESS, "{out}");
    let out: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["report"]["instance_reused"], true);
}

#[test]
fn a_javascript_plugin_is_scaffolded_built_checked_and_run_like_a_rust_one() {
    scaffold_builds_and_gives_its_expected_response("js");
}

#[test]
fn a_python_plugin_is_scaffolded_built_checked_and_run_like_a_rust_one() {
    scaffold_builds_and_gives_its_expected_response("python");
}

#[test]
fn run_exits_one_when_the_result_differs_from_the_expected_response() {
    let path = wasm_path("auto-rater");
    let input = workspace().join("plugins/golden/auto-rater/one-sedan-urban.request.json");
    let expect = workspace().join("plugins/golden/auto-rater/four-vehicles-rural.expected.json");
    let tables = workspace().join("plugins/auto-rater/tables");
    let (code, out) = premia(&[
        "plugin",
        "run",
        path.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--tables",
        tables.to_str().unwrap(),
        "--expect",
        expect.to_str().unwrap(),
    ]);
    assert_eq!(code, ExitCode::from(1), "{out}");
    let out: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["expected"]["matches"], false);
}

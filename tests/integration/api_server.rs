//! End to end against a running server on loopback: the demo tenant with
//! the auto-rater plugin, quote and bind over real HTTP, plugin upload with
//! golden cases, and a restart that keeps everything.

use crate::backend::open_data_dir;
use crate::support::*;
use premia::boot::{DemoFiles, load_demo_as};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;

/// A server over `data`, on a free loopback port, until the test ends.
pub(crate) struct Server {
    address: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub(crate) fn start(data: &std::path::Path, demo: bool) -> (Server, Option<String>) {
        Server::start_as(data, demo, false)
    }

    /// [`Server::start`] with the demo loaded as a test tenant (a clock of
    /// its own, moved with `POST /v1/clock`).
    pub(crate) fn start_test_demo(data: &std::path::Path) -> (Server, String) {
        let (server, key) = Server::start_as(data, true, true);
        (server, key.unwrap())
    }

    fn start_as(data: &std::path::Path, demo: bool, test: bool) -> (Server, Option<String>) {
        let state = open_data_dir(data).unwrap();
        let key = demo.then(|| {
            let files = DemoFiles {
                wasm_dir: premia_tests::PLUGINS_WASM_DIR.into(),
                plugins_dir: workspace().join("plugins"),
            };
            load_demo_as(&state, &files, test).unwrap()
        });
        (Server::serve(state), key)
    }

    /// Serves the API over `state` on a free loopback port.
    pub(crate) fn serve(state: premia::api::AppState) -> Server {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                axum::serve(listener, premia::api::router(state))
                    .with_graceful_shutdown(async {
                        let _ = signal.await;
                    })
                    .await
                    .unwrap();
            })
        });
        Server {
            address,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub(crate) fn auto_policy(locator: &str) -> Value {
    json!({
        "locator": locator, "account": "A-1", "product": "auto", "start": "2026-01-01", "time_zone": "America/New_York",
        "data": {"fields": {"territory": ["urban"], "producer": ["agency-7"]},
                 "exposures": {"V1": {"name": "vehicle", "fields": {"vehicle_class": ["sedan"], "driver_age": [30]},
                                      "perils": {"V1-BI": {"name": "bodily_injury"},
                                                 "V1-COLL": {"name": "collision", "fields": {"deductible": [500]}},
                                                 "V1-COMP": {"name": "comprehensive", "fields": {"deductible": [500]}}}}}}
    })
}

fn premiums(effect: &Value) -> Vec<String> {
    let mut amounts: Vec<String> = effect["charges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["charge"] == "premium")
        .map(|c| c["amount"]["amount"].as_str().unwrap().to_string())
        .collect();
    amounts.sort();
    amounts
}

#[test]
fn quote_and_bind_over_http_are_priced_by_the_auto_rater_plugin_and_survive_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let client = crate::support::http_client();
    let key = {
        let (server, key) = Server::start(data.path(), true);
        let key = key.unwrap();
        let auth = format!("Bearer {key}");
        let account = client
            .post(server.url("/v1/accounts"))
            .header("authorization", &auth)
            .json(&json!({"locator": "A-1", "name": "Ada", "currency": "USD"}))
            .send()
            .unwrap();
        assert_eq!(account.status(), StatusCode::CREATED);
        let quote: Value = client
            .post(server.url("/v1/quotes"))
            .header("authorization", &auth)
            .json(&auto_policy("P-1"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        // 410 × 1.25, 612 × 1.25, 148 × 1.25 (urban, age 30, deductible 500),
        // and the 25.00 policy fee.
        let mut quoted: Vec<&str> = quote["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["charge"] == "premium")
            .map(|l| l["amount"].as_str().unwrap())
            .collect();
        quoted.sort();
        assert_eq!(quoted, vec!["185.00", "512.50", "765.00"]);
        assert_eq!(quote["total"], "1487.50");
        // Monthly plan: its twelve installments, each billed once; a term
        // already begun bills its past months on one catch-up invoice.
        let billed: Vec<u64> = quote["installments"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| i["installments"].as_array().unwrap().iter())
            .map(|n| n.as_u64().unwrap())
            .collect();
        assert_eq!(billed, (1..=12).collect::<Vec<u64>>(), "{quote}");
        let bound = client
            .post(server.url("/v1/policies"))
            .header("authorization", &auth)
            .header("idempotency-key", "bind-p1")
            .json(&auto_policy("P-1"))
            .send()
            .unwrap();
        assert_eq!(bound.status(), StatusCode::CREATED);
        let bound: Value = bound.json().unwrap();
        assert_eq!(
            premiums(&bound),
            vec!["185.00", "512.50", "765.00"],
            "the bind prices as the quote did"
        );
        let audit: Value = client
            .get(server.url("/v1/policies/P-1/charges/P-1-T1-C1/audit"))
            .header("authorization", &auth)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(audit["rating_calls"][0]["rater"]["kind"], "plugin");
        assert_eq!(
            audit["rating_calls"][0]["rater"]["plugin_id"],
            "demo/auto-rater@1"
        );
        key
    };
    // Restart over the same data directory: the plugin is re-registered, the
    // policy rebuilt from the log, the key still valid.
    let (server, _) = Server::start(data.path(), false);
    let auth = format!("Bearer {key}");
    let policy: Value = client
        .get(server.url("/v1/policies/P-1"))
        .header("authorization", &auth)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(policy["transactions"].as_array().unwrap().len(), 1);
    let endorsement = client
        .post(server.url("/v1/policies/P-1/endorsements"))
        .header("authorization", &auth)
        .json(&json!({"effective": "2026-07-01", "changes": [{"op": "set_policy_fields", "fields": {"territory": ["rural"]}}]}))
        .send()
        .unwrap();
    assert_eq!(endorsement.status(), StatusCode::CREATED);
    let endorsement: Value = endorsement.json().unwrap();
    // Rural (0.85) instead of urban (1.25) for the second half of the year:
    // 612, 148 and 410 × −0.40 × 6/12 (sorted as text).
    assert_eq!(premiums(&endorsement), vec!["-122.40", "-29.60", "-82.00"]);
}

#[test]
fn a_plugin_is_uploaded_checked_against_its_golden_cases_and_a_bad_one_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let (server, key) = Server::start(data.path(), true);
    let auth = format!("Bearer {}", key.unwrap());
    let client = crate::support::http_client();
    let upload = client
        .post(server.url("/v1/plugins?name=auto-copy&version=2"))
        .header("authorization", &auth)
        .header("content-type", "application/wasm")
        .body(wasm("auto-rater"))
        .send()
        .unwrap();
    assert_eq!(upload.status(), StatusCode::CREATED);
    for table in ["base-rates", "territory", "driver-age", "deductible"] {
        let csv = std::fs::read(workspace().join(format!("plugins/auto-rater/tables/{table}.csv")))
            .unwrap();
        let put = client
            .put(server.url(&format!("/v1/plugins/auto-copy/2/tables/{table}")))
            .header("authorization", &auth)
            .body(csv)
            .send()
            .unwrap();
        assert_eq!(put.status(), StatusCode::OK);
    }
    let cases = json!([{
        "name": "one sedan, urban",
        "request": serde_json::to_value(golden_request("one-sedan-urban")).unwrap(),
        "expected": golden_expected("one-sedan-urban")
    }]);
    let golden = client
        .post(server.url("/v1/plugins/auto-copy/2/golden"))
        .header("authorization", &auth)
        .json(&cases)
        .send()
        .unwrap();
    assert_eq!(golden.status(), StatusCode::OK);
    let results: Value = golden.json().unwrap();
    assert_eq!(results[0]["passed"], true);

    let evil = client
        .post(server.url("/v1/plugins?name=evil&version=1"))
        .header("authorization", &auth)
        .body(wasm("fixture-forbidden-import"))
        .send()
        .unwrap();
    assert_eq!(evil.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = evil.json().unwrap();
    assert_eq!(problem["code"], "plugin_incompatible");
    let listed: Value = client
        .get(server.url("/v1/plugins"))
        .header("authorization", &auth)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"auto-copy@2") && !names.iter().any(|n| n.starts_with("evil")),
        "{names:?}"
    );
}

/// Deploys a copy of the demo's auto product named `name`, rated by `rating`.
pub(crate) fn deploy_auto_variant(server: &Server, auth: &str, name: &str, rating: Value) {
    let client = crate::support::http_client();
    let products: Value = client
        .get(server.url("/v1/products"))
        .header("authorization", auth)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let mut product = products
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "auto")
        .unwrap()
        .clone();
    product["name"] = json!(name);
    product["rating"] = rating;
    let deployed = client
        .post(server.url("/v1/products"))
        .header("authorization", auth)
        .json(&product)
        .send()
        .unwrap();
    assert_eq!(deployed.status(), StatusCode::CREATED);
}

/// Uploads the auto rater as `name@version` with its tables, the territory
/// factor for urban risks replaced by `urban_factor`.
/// The versions of plugin `name` the server lists as active.
pub(crate) fn active_versions(server: &Server, auth: &str, name: &str) -> Vec<String> {
    let listed: Value = crate::support::http_client()
        .get(server.url("/v1/plugins"))
        .header("authorization", auth)
        .send()
        .unwrap()
        .json()
        .unwrap();
    listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == name && p["active"] == true)
        .map(|p| p["version"].as_str().unwrap().to_string())
        .collect()
}

pub fn upload_auto_rater(
    server: &Server,
    auth: &str,
    name: &str,
    version: &str,
    urban_factor: &str,
) -> Value {
    let client = crate::support::http_client();
    let upload = client
        .post(server.url(&format!("/v1/plugins?name={name}&version={version}")))
        .header("authorization", auth)
        .header("content-type", "application/wasm")
        .body(wasm("auto-rater"))
        .send()
        .unwrap();
    assert_eq!(upload.status(), StatusCode::CREATED);
    let uploaded: Value = upload.json().unwrap();
    for table in ["base-rates", "territory", "driver-age", "deductible"] {
        let mut csv = std::fs::read_to_string(
            workspace().join(format!("plugins/auto-rater/tables/{table}.csv")),
        )
        .unwrap();
        if table == "territory" {
            csv = csv.replace("urban,1.25", &format!("urban,{urban_factor}"));
        }
        let put = client
            .put(server.url(&format!("/v1/plugins/{name}/{version}/tables/{table}")))
            .header("authorization", auth)
            .body(csv)
            .send()
            .unwrap();
        assert_eq!(put.status(), StatusCode::OK);
    }
    uploaded
}

#[test]
fn a_product_naming_a_plugin_without_a_version_prices_with_the_active_version_until_another_is_activated()
 {
    let data = tempfile::tempdir().unwrap();
    let client = crate::support::http_client();
    let (server, key) = Server::start(data.path(), true);
    let auth = format!("Bearer {}", key.unwrap());
    let first = upload_auto_rater(&server, &auth, "rater-x", "1", "1.25");
    assert_eq!(
        first["active"], true,
        "the first version of a name is active"
    );
    let second = upload_auto_rater(&server, &auth, "rater-x", "2", "2.50");
    assert_eq!(
        second["active"], false,
        "a later version waits for activation"
    );

    deploy_auto_variant(
        &server,
        &auth,
        "auto-x",
        json!({"kind": "plugin", "plugin": "rater-x"}),
    );
    let account = client
        .post(server.url("/v1/accounts"))
        .header("authorization", &auth)
        .json(&json!({"locator": "A-1", "name": "Ada", "currency": "USD"}))
        .send()
        .unwrap();
    assert_eq!(account.status(), StatusCode::CREATED);
    // The premiums of the quote, summed (the policy fee and commissions aside).
    let premium = |server: &Server| -> String {
        let mut policy = auto_policy("P-X");
        policy["product"] = json!("auto-x");
        let quote: Value = client
            .post(server.url("/v1/quotes"))
            .header("authorization", &auth)
            .json(&policy)
            .send()
            .unwrap()
            .json()
            .unwrap();
        quote["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["charge"] == "premium")
            .map(|l| {
                l["amount"]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            })
            .sum::<rust_decimal::Decimal>()
            .to_string()
    };
    // 185.00 + 512.50 + 765.00 with version 1 (urban factor 1.25).
    assert_eq!(premium(&server), "1462.50");

    // A preview shows the event an activation would record, and keeps
    // nothing.
    let previewed = client
        .post(server.url("/v1/plugins/rater-x/2/activation?preview=true"))
        .header("authorization", &auth)
        .send()
        .unwrap();
    assert_eq!(previewed.status(), StatusCode::OK);
    let previewed: Value = previewed.json().unwrap();
    assert_eq!(previewed["preview"], true);
    assert_eq!(
        previewed["other_events"][0]["config"]["type"],
        "version_activated"
    );
    let missing = client
        .post(server.url("/v1/plugins/rater-x/9/activation"))
        .header("authorization", &auth)
        .send()
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        premium(&server),
        "1462.50",
        "refused activations change nothing"
    );

    let activated = client
        .post(server.url("/v1/plugins/rater-x/2/activation"))
        .header("authorization", &auth)
        .send()
        .unwrap();
    assert_eq!(activated.status(), StatusCode::OK);
    assert_eq!(activated.json::<Value>().unwrap()["active"], true);
    // Twice as much with version 2 (urban factor 2.50).
    assert_eq!(premium(&server), "2925.00");
    let active = active_versions(&server, &auth, "rater-x");
    assert_eq!(active, ["2"]);

    drop(server);
    let (server, _) = Server::start(data.path(), false);
    assert_eq!(
        premium(&server),
        "2925.00",
        "the activation survives a restart"
    );
}

#[test]
fn a_plugin_uploaded_with_a_pooled_instance_policy_keeps_it_across_restarts_and_a_bad_policy_is_refused()
 {
    let data = tempfile::tempdir().unwrap();
    let client = crate::support::http_client();
    let (server, key) = Server::start(data.path(), true);
    let auth = format!("Bearer {}", key.unwrap());
    let upload = |server: &Server, query: &str| {
        client
            .post(server.url(&format!("/v1/plugins?{query}")))
            .header("authorization", &auth)
            .header("content-type", "application/wasm")
            .body(wasm("auto-rater"))
            .send()
            .unwrap()
    };
    let refused = upload(&server, "name=pooled&version=1&instance_policy=pooled:0:5");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.json::<Value>().unwrap()["code"],
        "invalid_instance_policy"
    );
    let accepted = upload(
        &server,
        "name=pooled&version=1&instance_policy=pooled:2:100",
    );
    assert_eq!(accepted.status(), StatusCode::CREATED);
    assert_eq!(
        accepted.json::<Value>().unwrap()["instance_policy"],
        "pooled:2:100"
    );
    drop(server);
    let (server, _) = Server::start(data.path(), false);
    let listed: Value = client
        .get(server.url("/v1/plugins"))
        .header("authorization", &auth)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let policies: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["instance_policy"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        policies.contains(&("pooled", "pooled:2:100")),
        "{policies:?}"
    );
    assert!(policies.contains(&("auto-rater", "fresh")), "{policies:?}");
}

#[test]
fn plugin_uploads_tables_and_activations_are_in_the_feed_and_the_plugins_history_and_replay_under_their_key()
 {
    let data = tempfile::tempdir().unwrap();
    let client = crate::support::http_client();
    let (server, key) = Server::start(data.path(), true);
    let auth = format!("Bearer {}", key.unwrap());
    let upload = |version: &str, idempotency: &str, bytes: Vec<u8>| {
        client
            .post(server.url(&format!("/v1/plugins?name=rater-h&version={version}")))
            .header("authorization", &auth)
            .header("idempotency-key", idempotency)
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
            .unwrap()
    };
    let first = upload("1", "up-1", wasm("auto-rater"));
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().unwrap();
    // The same key and bytes: the first answer again, nothing recorded twice.
    let again = upload("1", "up-1", wasm("auto-rater"));
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().unwrap(), first);
    // The same key with another body: 409; the same version under another
    // key: 409 too (a version is immutable).
    let conflict = upload("1", "up-1", wasm("faulty"));
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert_eq!(
        conflict.json::<Value>().unwrap()["code"],
        "idempotency_conflict"
    );
    let exists = upload("1", "up-1-again", wasm("faulty"));
    assert_eq!(exists.status(), StatusCode::CONFLICT);
    assert_eq!(
        exists.json::<Value>().unwrap()["code"],
        "plugin_version_exists"
    );
    assert_eq!(
        upload("2", "up-2", wasm("auto-rater")).status(),
        StatusCode::CREATED
    );
    let csv = std::fs::read(workspace().join("plugins/auto-rater/tables/territory.csv")).unwrap();
    let put = client
        .put(server.url("/v1/plugins/rater-h/2/tables/territory"))
        .header("authorization", &auth)
        .header("idempotency-key", "table-2")
        .body(csv.clone())
        .send()
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let replaced = client
        .put(server.url("/v1/plugins/rater-h/2/tables/territory"))
        .header("authorization", &auth)
        .body(b"territory,factor\nurban,9\n".to_vec())
        .send()
        .unwrap();
    assert_eq!(replaced.status(), StatusCode::CONFLICT);
    assert_eq!(
        replaced.json::<Value>().unwrap()["code"],
        "plugin_version_immutable"
    );
    let scheduled = client
        .post(server.url("/v1/plugins/rater-h/2/schedule"))
        .header("authorization", &auth)
        .header("idempotency-key", "schedule-2")
        .json(&json!({"from": "2099-06-01"}))
        .send()
        .unwrap();
    assert_eq!(scheduled.status(), StatusCode::CREATED);

    let history: Value = client
        .get(server.url("/v1/plugins/rater-h"))
        .header("authorization", &auth)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(history["active_version"], "1");
    let version = &history["versions"]["2"];
    assert_eq!(version["component_sha256"], first["content_sha256"]);
    assert_eq!(version["world"], "rater");
    assert_eq!(version["uploaded"]["by"], "admin:demo admin");
    let territory = premia::plugin::content_sha256(&csv);
    assert_eq!(version["tables"]["territory"], territory.as_str());
    let activations: Vec<(String, String, bool)> = history["activations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["version"].as_str().unwrap().to_string(),
                a["from"].as_str().unwrap().to_string(),
                a["scheduled"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(activations.len(), 2);
    assert_eq!(activations[1], ("2".into(), "2099-06-01".into(), true));

    let feed: Value = client
        .get(server.url("/v1/events?after=0&limit=1000"))
        .header("authorization", &auth)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let keyed: Vec<(String, String, String)> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["stream"] == "plugin/rater-h")
        .map(|e| {
            assert_eq!(e["actor"], "admin:demo admin");
            assert!(e["issued_at"].is_string());
            (
                e["kind"].as_str().unwrap().to_string(),
                e["idempotency_key"].as_str().unwrap_or("").to_string(),
                e["event"]["config"]["version"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("plugin_uploaded", "up-1", "1"),
        ("plugin_version_activated", "up-1", "1"),
        ("plugin_uploaded", "up-2", "2"),
        ("rate_table_attached", "table-2", "2"),
        ("plugin_version_scheduled", "schedule-2", "2"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(keyed, expected);
}

#[test]
fn loading_the_demo_again_records_no_configuration_twice() {
    let data = tempfile::tempdir().unwrap();
    let kinds = |server: &Server, key: &str| -> Vec<String> {
        let feed: Value = crate::support::http_client()
            .get(server.url("/v1/events?after=0&limit=1000"))
            .header("authorization", format!("Bearer {key}"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let (server, key) = Server::start(data.path(), true);
    let first = kinds(&server, &key.unwrap());
    assert_eq!(first.iter().filter(|k| *k == "plugin_uploaded").count(), 2);
    assert_eq!(
        first.iter().filter(|k| *k == "rate_table_attached").count(),
        5
    );
    drop(server);
    // Loading the demo again records no configuration twice; it issues a
    // fresh demo admin key (a secret is shown once, so the new start prints
    // a new one), and only that.
    let (server, key) = Server::start(data.path(), true);
    let again = kinds(&server, &key.unwrap());
    let (keys, configuration): (Vec<String>, Vec<String>) =
        again.into_iter().partition(|k| k == "api_key_created");
    let first_keys = first.iter().filter(|k| *k == "api_key_created").count();
    assert_eq!(keys.len(), first_keys + 1);
    let first_configuration: Vec<String> = first
        .into_iter()
        .filter(|k| k != "api_key_created")
        .collect();
    assert_eq!(configuration, first_configuration);
}

/// A Socotra-style external rater on loopback: each peril's yearly premium
/// is its `yearly_premium` field; a policy field `decline` answers with
/// `exceptionMessage`; `slow` sleeps past any sane timeout. Every request must
/// carry the registered credential.
pub(crate) fn socotra_rater() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::http::HeaderMap;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&calls);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/rate",
        axum::routing::post(move |headers: HeaderMap, axum::Json(request): axum::Json<Value>| {
            let seen = std::sync::Arc::clone(&seen);
            async move {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                assert_eq!(headers["authorization"], "Basic c2VjcmV0LXRva2Vu");
                let policy_fields = &request["policy"]["characteristics"][0]["fieldValues"];
                if policy_fields.get("slow").is_some() {
                    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                }
                if let Some(reason) = policy_fields.get("decline") {
                    return axum::Json(json!({"pricedPerilCharacteristics": {}, "exceptionMessage": reason[0]}));
                }
                let mut priced = serde_json::Map::new();
                for exposure in request["policy"]["exposures"].as_array().unwrap() {
                    for peril in exposure["perils"].as_array().unwrap() {
                        let characteristics = &peril["characteristics"][0];
                        let yearly = &characteristics["fieldValues"]["yearly_premium"][0];
                        priced.insert(characteristics["locator"].as_str().unwrap().to_string(), json!({"premium": yearly}));
                    }
                }
                axum::Json(json!({"pricedPerilCharacteristics": priced}))
            }
        }),
    );
    std::thread::spawn(move || {
        runtime.block_on(async move { axum::serve(listener, app).await.unwrap() })
    });
    (address, calls)
}

#[test]
fn a_socotra_external_rater_prices_declines_with_409_and_times_out_with_504_without_leaking_its_credentials()
 {
    let (rater, calls) = socotra_rater();
    let data = tempfile::tempdir().unwrap();
    let (server, key) = Server::start(data.path(), true);
    let auth = format!("Bearer {}", key.unwrap());
    let client = crate::support::http_client();
    let register = client
        .post(server.url("/v1/external-raters"))
        .header("authorization", &auth)
        .json(
            &json!({"name": "legacy", "url": format!("http://{rater}/rate"), "timeout_ms": 500,
                      "headers": [{"name": "Authorization", "value": "Basic c2VjcmV0LXRva2Vu"}]}),
        )
        .send()
        .unwrap();
    assert_eq!(register.status(), StatusCode::CREATED);
    let shown = register.text().unwrap();
    assert!(
        !shown.contains("c2VjcmV0LXRva2Vu"),
        "header values are never returned: {shown}"
    );
    let listed = client
        .get(server.url("/v1/external-raters"))
        .header("authorization", &auth)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        listed.contains("Authorization") && !listed.contains("c2VjcmV0LXRva2Vu"),
        "{listed}"
    );

    let product = json!({
        "name": "legacy-auto", "currency": "USD",
        "charges": {"premium": {"category": "premium"}},
        "rating": {"kind": "external", "rater": "legacy"},
        "plans": {"annual": {"cadence": "full-pay"}}, "default_plan": "annual"
    });
    let deployed = client
        .post(server.url("/v1/products"))
        .header("authorization", &auth)
        .json(&product)
        .send()
        .unwrap();
    assert_eq!(deployed.status(), StatusCode::CREATED);
    client
        .post(server.url("/v1/accounts"))
        .header("authorization", &auth)
        .json(&json!({"locator": "A-1", "name": "Ada", "currency": "USD"}))
        .send()
        .unwrap();
    let policy = |fields: Value| {
        json!({"locator": "P-9", "account": "A-1", "product": "legacy-auto", "start": "2026-01-01", "time_zone": "UTC",
               "data": {"fields": fields, "exposures": {"V1": {"name": "vehicle",
                        "perils": {"V1-COLL": {"name": "collision", "fields": {"yearly_premium": ["1200.00"]}}}}}}})
    };
    let quote: Value = client
        .post(server.url("/v1/quotes"))
        .header("authorization", &auth)
        .json(&policy(json!({})))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(quote["total"], "1200.00", "{quote}");

    let declined = client
        .post(server.url("/v1/quotes"))
        .header("authorization", &auth)
        .json(&policy(json!({"decline": ["no fleets in this state"]})))
        .send()
        .unwrap();
    assert_eq!(declined.status(), StatusCode::CONFLICT);
    let problem: Value = declined.json().unwrap();
    assert_eq!(problem["detail"], "no fleets in this state");

    let slow = client
        .post(server.url("/v1/quotes"))
        .header("authorization", &auth)
        .json(&policy(json!({"slow": ["yes"]})))
        .send()
        .unwrap();
    assert_eq!(slow.status(), StatusCode::GATEWAY_TIMEOUT);
    let problem: Value = slow.json().unwrap();
    assert_eq!(problem["code"], "rater_deadline");
    assert!(!problem.to_string().contains("c2VjcmV0LXRva2Vu"));
    assert!(calls.load(std::sync::atomic::Ordering::SeqCst) >= 3);
}

/// The installment fees of each invoice billing an installment, over HTTP:
/// a monthly policy starting in 30 days, billed through its second month
/// with the demo's wasm `installment-fee` plugin (WIT 0.2); paid up front
/// or never paid.
fn installment_fees_over_http(paid_up_front: bool) -> Vec<Vec<String>> {
    let data = tempfile::tempdir().unwrap();
    // The demo as a test tenant: its clock moves to the run's date first.
    let (server, key) = Server::start_test_demo(data.path());
    let auth = format!("Bearer {key}");
    let client = crate::support::http_client();
    client
        .post(server.url("/v1/accounts"))
        .header("authorization", &auth)
        .json(&json!({"locator": "A-1", "name": "Ada", "currency": "USD"}))
        .send()
        .unwrap();
    // Commands are issued now: start the term in the future so nothing is
    // caught up, and bill its first two monthly installments.
    let start = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
    let mut policy = auto_policy("P-1");
    policy["start"] = json!(start.to_string());
    policy["plan"] = json!("monthly");
    let bound = client
        .post(server.url("/v1/policies"))
        .header("authorization", &auth)
        .json(&policy)
        .send()
        .unwrap();
    assert_eq!(bound.status(), StatusCode::CREATED);
    if paid_up_front {
        let paid = client
            .post(server.url("/v1/payments"))
            .header("authorization", &auth)
            .json(&json!({"account": "A-1", "amount": "5000.00",
                      "received_on": chrono::Utc::now().date_naive().to_string(),
                      "reference": "prepaid"}))
            .send()
            .unwrap();
        assert!(paid.status().is_success(), "{}", paid.text().unwrap());
    }
    let second_month = chrono::Months::new(1);
    let up_to = start.checked_add_months(second_month).unwrap();
    let moved = client
        .post(server.url("/v1/clock"))
        .header("authorization", &auth)
        .json(&json!({"today": up_to.to_string()}))
        .send()
        .unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    let run = client
        .post(server.url("/v1/billing/runs"))
        .header("authorization", &auth)
        .json(&json!({"up_to": up_to.to_string()}))
        .send()
        .unwrap();
    assert_eq!(run.status(), StatusCode::OK);
    let billing: Value = client
        .get(server.url("/v1/accounts/A-1/billing"))
        .header("authorization", &auth)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let invoices = billing["invoices"].as_array().unwrap();
    let fees = |invoice: &Value| -> Vec<String> {
        invoice["invoice"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|item| item["charge_name"] == "installment-fee")
            .map(|item| item["amount"]["amount"].as_str().unwrap().to_string())
            .collect()
    };
    let installment_invoices: Vec<&Value> = invoices
        .iter()
        .filter(|i| {
            i["invoice"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|item| item["slice"].is_object())
        })
        .collect();
    assert!(installment_invoices.len() >= 2, "{billing}");
    installment_invoices.into_iter().map(fees).collect()
}

#[test]
fn billing_runs_over_http_call_the_wasm_invoicing_plugin_for_its_installment_fee() {
    let fees = installment_fees_over_http(true);
    assert_eq!(
        fees[0],
        Vec::<String>::new(),
        "no fee on the first invoice of the term"
    );
    assert_eq!(fees[1], vec!["5.00"], "the plugin's fee on the second");
}

/// Never paid, the policy lapses for non-payment on the day its second
/// invoice is issued: the plugin sees it lapsed and charges no fee.
#[test]
fn the_wasm_invoicing_plugin_charges_no_fee_on_the_invoice_of_a_policy_lapsed_for_non_payment() {
    let fees = installment_fees_over_http(false);
    assert_eq!(
        fees[0],
        Vec::<String>::new(),
        "no fee on the first invoice of the term"
    );
    assert_eq!(
        fees[1],
        Vec::<String>::new(),
        "no fee once the policy has lapsed"
    );
}

/// The schedule a quote shows is what is billed (seed 002): the demo product
/// (the wasm auto rater's 25.00 policy fee, the installment-fee plugin),
/// monthly, quoted and bound today over HTTP from the first of the month
/// three months back. The quote's first installment is the catch-up invoice
/// of the binding day with the policy fee, and the billing run of today
/// issues exactly it; every later one is a month's premium with the plugin's
/// 5.00. (Runs after today are refused outside test tenants, so the rest of
/// the term is compared in `collections::tests::schedule`.)
#[test]
fn the_quoted_schedule_over_http_is_what_the_billing_run_issues() {
    use chrono::Datelike;
    let data = tempfile::tempdir().unwrap();
    let (server, key) = Server::start(data.path(), true);
    let auth = format!("Bearer {}", key.unwrap());
    let client = crate::support::http_client();
    let post = |path: &str, body: Value| -> (StatusCode, Value) {
        let response = client
            .post(server.url(path))
            .header("authorization", &auth)
            .json(&body)
            .send()
            .unwrap();
        let status = response.status();
        (status, response.json().unwrap_or(Value::Null))
    };
    post(
        "/v1/accounts",
        json!({"locator": "A-1", "name": "Ada", "currency": "USD"}),
    );
    let today = chrono::Utc::now().date_naive();
    let this_month = today.with_day(1).unwrap();
    let start = this_month - chrono::Months::new(3);
    let mut policy = auto_policy("P-1");
    policy["start"] = json!(start.to_string());
    policy["plan"] = json!("monthly");
    policy["time_zone"] = json!("UTC");

    let (status, quote) = post("/v1/quotes", policy.clone());
    assert_eq!(status, StatusCode::OK, "{quote}");
    let quoted: Vec<(String, String, rust_decimal::Decimal)> = quote["installments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["invoice_date"].as_str().unwrap().to_string(),
                i["due_date"].as_str().unwrap().to_string(),
                i["amount"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    let (status, bound) = post("/v1/policies", policy);
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    let (status, report) = post("/v1/billing/runs", json!({"up_to": today.to_string()}));
    assert_eq!(status, StatusCode::OK, "{report}");
    let billing: Value = client
        .get(server.url("/v1/accounts/A-1/billing"))
        .header("authorization", &auth)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let billed: Vec<(String, String, rust_decimal::Decimal)> = billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["invoice"]["issue_date"].as_str().unwrap().to_string(),
                i["invoice"]["due_date"].as_str().unwrap().to_string(),
                i["invoice"]["total"]["amount"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
            )
        })
        .collect();
    let due_by_today: Vec<_> = quoted
        .iter()
        .filter(|q| q.0 <= today.to_string())
        .cloned()
        .collect();
    assert!(!due_by_today.is_empty(), "{quote}");
    assert_eq!(
        billed, due_by_today,
        "every invoice issued so far was quoted"
    );
    let first_items = billing["invoices"][0]["invoice"]["items"]
        .as_array()
        .unwrap();
    assert!(
        first_items
            .iter()
            .any(|i| i["charge_name"] == "policy-fee" && i["amount"]["amount"] == "25.00"),
        "the policy fee is on the first invoice: {billing}"
    );
    assert_eq!(
        quoted.len() - due_by_today.len(),
        8,
        "the eight months after this one are still to come: {quote}"
    );
    for later in &quoted[due_by_today.len()..] {
        let premium = later.2 - rust_decimal_macros::dec!(5.00);
        let monthly = quoted[due_by_today.len()].2 - rust_decimal_macros::dec!(5.00);
        assert!(
            (premium - monthly).abs() <= rust_decimal_macros::dec!(0.01),
            "a later installment is a month's premium and the plugin's 5.00: {later:?}"
        );
        assert!(later.0.ends_with("-01"), "billed on the first: {later:?}");
    }
}

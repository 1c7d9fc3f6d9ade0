//! The upgrade path: a data directory (sled) written by the release before
//! configuration had history, with its configuration in blobs (plugins by
//! `name@version`, their tables, instance policies, active versions, and
//! external raters with their header values in clear), starts under this
//! release: its configuration is carried into events once, at start-up,
//! the old blobs are removed, and everything prices as before.

use crate::harness::{
    AUTO_RATER_TABLES, ApiClient, Server, auto_policy, auto_rater_table, quoted_premium,
};
use crate::support::*;
use premia::api::auth::Role;
use premia::boot::{demo_product, open_data_dir_with};
use premia::engine::{Engine, EngineCommand, RequestMeta};
use premia::policy::{PolicyCommand, RatingChain};
use premia::store::{SledStore, Store};
use serde_json::{Value, json};
use std::sync::Arc;

const SECRET: &str = "Basic b2xkLXNlY3JldA==";

/// Writes what the previous release kept for tenant `acme`: the blobs of two
/// auto-rater versions (version 2 active, its urban factor 2.50), version
/// 1's pooled instance policy, an external rater, the configuration
/// requests' stored answers and generation token, and a log with the auto
/// product (naming `auto-rater` without a version) and an account.
fn write_previous_release(store: Arc<dyn Store>) {
    for version in ["1", "2"] {
        let id = format!("auto-rater@{version}");
        store
            .put_blob("acme", "plugins", &id, &wasm("auto-rater"))
            .unwrap();
        for table in AUTO_RATER_TABLES {
            let mut csv = auto_rater_table(table);
            if version == "2" && table == "territory" {
                csv = csv.replace("urban,1.25", "urban,2.50");
            }
            store
                .put_blob(
                    "acme",
                    "plugin-tables",
                    &format!("{id}/{table}"),
                    csv.as_bytes(),
                )
                .unwrap();
        }
    }
    store
        .put_blob("acme", "plugin-policy", "auto-rater@1", b"pooled:2:10")
        .unwrap();
    store
        .put_blob("acme", "plugin-policy", "auto-rater@2", b"fresh")
        .unwrap();
    store
        .put_blob("acme", "plugin-active", "auto-rater", b"2")
        .unwrap();
    let rater = json!({"name": "legacy", "url": "http://127.0.0.1:9/rate", "timeout_ms": 500,
                       "headers": [{"name": "Authorization", "value": SECRET}]});
    store
        .put_blob(
            "acme",
            "external-raters",
            "legacy",
            rater.to_string().as_bytes(),
        )
        .unwrap();
    store
        .put_blob("acme", "config", "generation", b"0123abcd")
        .unwrap();
    store
        .put_blob(
            "acme",
            "config-idempotency",
            "feed",
            br#"{"fingerprint":"x","status":201,"body":{}}"#,
        )
        .unwrap();
    // The log: the product and an account (events of the same format then).
    // The previous release deployed products without checking their
    // raters; this release refuses a product naming a plugin it does not
    // have, so the plugin is known to the writer here.
    let runtime = runtime();
    runtime
        .register(
            "acme/auto-rater",
            "1",
            &wasm("auto-rater"),
            tables("auto-rater"),
        )
        .unwrap();
    let directory = Arc::new(premia::api::RaterDirectory::new(runtime));
    directory.active.activate("acme/auto-rater", "1");
    let engine = Engine::open(Arc::clone(&store), directory).unwrap();
    let mut product = demo_product();
    product.rating = RatingChain::Plugin {
        plugin: "acme/auto-rater".into(),
    };
    product.invoicing_plugin = None;
    let meta = |key: &str| RequestMeta {
        actor: "admin:old".into(),
        issued_at: chrono::Utc::now(),
        idempotency_key: Some(key.into()),
        arithmetic: premia::billing::Arithmetic::Written,
    };
    engine
        .execute(
            "acme",
            &EngineCommand::from(PolicyCommand::DeployProduct { product }),
            &meta("product"),
        )
        .unwrap();
    let account = PolicyCommand::CreateAccount {
        locator: "A-1".into(),
        name: "Ada".into(),
        currency: premia::domain::Currency::USD,
    };
    engine
        .execute("acme", &EngineCommand::from(account), &meta("account"))
        .unwrap();
}

fn get(admin: &ApiClient, path: &str) -> Value {
    let (status, body) = admin.get(path);
    assert_eq!(status, reqwest::StatusCode::OK, "{path}");
    body
}

fn premium(admin: &ApiClient) -> String {
    let mut policy = auto_policy("P-1");
    policy["account"] = json!("A-1");
    let (_, quote) = admin.post("/v1/quotes", &policy);
    quoted_premium(&quote)
}

#[test]
fn a_data_directory_of_the_previous_release_starts_with_its_configuration_carried_into_events_once()
{
    let data = tempfile::tempdir().unwrap();
    write_previous_release(Arc::new(
        SledStore::open(data.path().join("store")).unwrap(),
    ));
    starts_with_its_configuration_carried_once(data.path(), None);
}

#[test]
fn a_postgresql_database_of_the_previous_release_starts_with_its_configuration_carried_into_events_once()
 {
    use premia::store::{PgStore, fresh_schema_name, test_database_url, url_with_schema};
    let Some(base) = test_database_url() else {
        return;
    };
    let url = url_with_schema(&base, &fresh_schema_name("upgrade"));
    write_previous_release(Arc::new(PgStore::open(&url).unwrap()));
    let data = tempfile::tempdir().unwrap();
    starts_with_its_configuration_carried_once(data.path(), Some(&url));
}

/// Starts this release over what [`write_previous_release`] wrote (sled in
/// `data`, or the database at `store`), twice.
fn starts_with_its_configuration_carried_once(data: &std::path::Path, store: Option<&str>) {
    let open = || open_data_dir_with(data, store).unwrap();
    let state = open();
    let key = state
        .keys
        .create_as("acme", Role::Admin, "ops", "test")
        .unwrap();
    let store = Arc::clone(&state.store);
    let server = Server::serve(state);
    let admin = server.client(&key);

    // Version 2 (urban 2.50) is still the active one: twice version 1's
    // 1462.50.
    assert_eq!(premium(&admin), "2925.00");
    let history = get(&admin, "/v1/plugins/auto-rater");
    assert_eq!(history["active_version"], "2");
    assert_eq!(history["versions"]["1"]["instance_policy"], "pooled:2:10");
    assert_eq!(history["versions"]["2"]["uploaded"]["by"], "premia:upgrade");
    let tables = history["versions"]["2"]["tables"].as_object().unwrap();
    assert_eq!(tables.len(), 4);
    let rater = get(&admin, "/v1/external-raters/legacy");
    assert_eq!(
        rater["revisions"][0]["header_names"],
        json!(["Authorization"])
    );

    // The feed: the carried configuration, recorded by the upgrade.
    let feed = get(&admin, "/v1/events?after=0&limit=1000");
    let carried: Vec<&str> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "premia:upgrade")
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        carried.iter().filter(|k| **k == "plugin_uploaded").count(),
        2
    );
    assert_eq!(
        carried
            .iter()
            .filter(|k| **k == "rate_table_attached")
            .count(),
        8
    );
    assert_eq!(
        carried
            .iter()
            .filter(|k| **k == "plugin_version_activated")
            .count(),
        2,
        "version 1 on its upload, then version 2 as it was: {carried:?}"
    );
    assert_eq!(
        carried
            .iter()
            .filter(|k| **k == "external_rater_registered")
            .count(),
        1
    );
    let events = feed["data"].as_array().unwrap().len();
    assert!(!feed.to_string().contains(SECRET));

    // The old blobs are gone; the secret is kept encrypted only.
    for namespace in premia::config::upgrade::LEGACY_NAMESPACES {
        assert!(
            store.list_blobs("acme", namespace).unwrap().is_empty(),
            "{namespace}"
        );
    }
    for namespace in ["plugin-components", "rate-tables", "rater-secrets"] {
        assert!(!store.list_blobs("acme", namespace).unwrap().is_empty());
        for key in store.list_blobs("acme", namespace).unwrap() {
            let bytes = store.get_blob("acme", namespace, &key).unwrap().unwrap();
            assert!(!String::from_utf8_lossy(&bytes).contains(SECRET));
        }
    }
    drop(store);
    drop(server);

    // A second start carries nothing again.
    let state = open();
    let server = Server::serve(state);
    let admin = server.client(&key);
    let feed = get(&admin, "/v1/events?after=0&limit=1000");
    assert_eq!(feed["data"].as_array().unwrap().len(), events);
    assert_eq!(premium(&admin), "2925.00");
}

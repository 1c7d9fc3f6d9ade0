//! Router tests without a network: every request goes through the real
//! router with `tower::ServiceExt::oneshot`, over `store::test_store()`
//! (a `MemoryStore`, or PostgreSQL with `PREMIA_TEST_BACKEND=postgres`).

use super::auth::Role;
use super::*;
use crate::boot::open_state;
use crate::plugin::PluginLimits;
use crate::store::Store;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

mod accounting;
mod accounting_refusals;
mod agency;
mod auto_bind;
mod bad_input;
mod bill_to;
mod bundles;
mod cancellation;
mod configuration;
mod console;
mod console_screens;
mod deductible;
mod feed;
mod golden_log;
mod keys;
mod metrics;
mod money;
mod on_account;
mod openapi_document;
mod payments;
mod producers;
mod read_model;
mod refusals;
mod reinstatement;
mod seed002;
mod shadow;
mod technical_premium;
mod warehouse;
mod webhooks;

struct Api {
    router: Router,
    state: AppState,
}

impl Api {
    fn new() -> Api {
        Api::over(crate::store::test_store())
    }

    /// The API over `store`.
    fn over(store: Arc<dyn Store>) -> Api {
        let limits = PluginLimits {
            concurrent_calls_max: 4,
            ..PluginLimits::default()
        };
        let state = open_state(store, None, limits).unwrap();
        Api {
            router: router(state.clone()),
            state,
        }
    }

    fn key(&self, tenant: &str, role: Role) -> String {
        self.state
            .keys
            .create_as(tenant, role, "test", "premia:test")
            .unwrap()
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let (status, _, value) = self
            .call_with_headers(method, path, key, body, headers)
            .await;
        (status, value)
    }

    /// [`Api::call`], with the answer's headers.
    async fn call_with_headers(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, axum::http::HeaderMap, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Body::from(serde_json::to_vec(&json).unwrap())
            }
            None => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let answer_headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, answer_headers, value)
    }

    async fn post(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", path, Some(key), Some(body), &[]).await
    }

    async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.call("GET", path, Some(key), None, &[]).await
    }
}

/// Log lines of the whole test binary from the first call on (premia and
/// tower-http at every level): one subscriber for every test that greps the
/// log for secrets.
fn captured_logs() -> &'static std::sync::Mutex<Vec<u8>> {
    static LOGS: std::sync::OnceLock<&'static std::sync::Mutex<Vec<u8>>> =
        std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: &'static std::sync::Mutex<Vec<u8>> =
            Box::leak(Box::new(std::sync::Mutex::new(Vec::new())));
        let installed = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "premia=debug,tower_http=debug",
            ))
            .with_writer(move || LogCapture(logs))
            .try_init();
        assert!(installed.is_ok(), "no other subscriber in the lib tests");
        logs
    })
}

struct LogCapture(&'static std::sync::Mutex<Vec<u8>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn product() -> Value {
    json!({
        "name": "auto",
        "currency": "USD",
        "charges": {
            "premium": {"category": "premium"},
            "policy-fee": {"category": "flatFee", "handling": "flat", "invoicing": "next"}
        },
        "rating": {"kind": "native", "rater": "field"},
        "plans": {"monthly": {"cadence": "monthly"}, "annual": {"cadence": "full-pay"}},
        "default_plan": "annual"
    })
}

fn policy(locator: &str, yearly: &str) -> Value {
    json!({
        "locator": locator, "account": "A1", "product": "auto", "start": "2026-01-01", "time_zone": "UTC",
        "data": {"exposures": {"V1": {"name": "vehicle", "perils": {"V1-COLL": {"name": "collision", "fields": {"yearly_premium": [yearly]}}}}}}
    })
}

/// A tenant `acme` with the product and account A1; returns its admin key.
async fn acme(api: &Api) -> String {
    let key = api.key("acme", Role::Admin);
    with_product_and_account(api, key).await
}

/// [`acme`] as a test tenant: a clock of its own, starting today, that
/// billing runs may not pass.
async fn test_acme(api: &Api) -> String {
    let key = crate::boot::create_tenant(&api.state, "acme", true).unwrap();
    with_product_and_account(api, key).await
}

async fn with_product_and_account(api: &Api, key: String) -> String {
    assert_eq!(
        api.post("/v1/products", &key, product()).await.0,
        StatusCode::CREATED
    );
    with_account(api, key).await
}

/// Creates account `A1` (USD) with `key`; returns the key.
async fn with_account(api: &Api, key: String) -> String {
    let (status, _) = api
        .post(
            "/v1/accounts",
            &key,
            json!({"locator": "A1", "name": "Ada", "currency": "USD"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    key
}

fn amounts(effect: &Value, charge: &str) -> Vec<String> {
    effect["charges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["charge"] == charge)
        .map(|c| c["amount"]["amount"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_request_without_a_valid_key_is_401_with_a_problem() {
    let api = Api::new();
    let (status, body) = api.call("GET", "/v1/products", None, None, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthorized");
    let (status, _) = api
        .call("GET", "/v1/products", Some("prm_forged"), None, &[])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_read_only_key_cannot_transact_and_a_policy_system_key_cannot_configure() {
    let api = Api::new();
    acme(&api).await;
    let reader = api.key("acme", Role::ReadOnly);
    let (status, body) = api
        .post("/v1/policies", &reader, policy("P1", "1200.00"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let system = api.key("acme", Role::PolicySystem);
    assert_eq!(
        api.post("/v1/products", &system, product()).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(api.get("/v1/products", &reader).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_quote_prices_what_the_issue_preview_books_and_leaves_the_arithmetic_to_the_preview() {
    let api = Api::new();
    let key = acme(&api).await;
    let mut body = policy("P1", "1234.56");
    body["start"] = json!("2026-03-15");
    let (status, quote) = api.post("/v1/quotes", &key, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{quote}");
    let (status, preview) = api.post("/v1/policies?preview=true", &key, body).await;
    assert_eq!(status, StatusCode::OK, "{preview}");

    let charges = preview["charges"].as_array().unwrap();
    let lines = quote["lines"].as_array().unwrap();
    assert_eq!(lines.len(), charges.len());
    for (line, charge) in lines.iter().zip(charges) {
        assert_eq!(line["charge"], charge["charge"]);
        assert_eq!(line["amount"], charge["amount"]["amount"]);
        assert_eq!(line["period"], charge["period"]);
    }
    assert_eq!(quote["total"], "1234.56");
    assert_eq!(lines[0]["period"]["start"], "2026-03-15");
    let arithmetic = charges[0]["explanation"]["arithmetic"].as_array().unwrap();
    assert!(
        arithmetic[0].as_str().unwrap().contains("yearly 1234.56"),
        "the preview explains its charges: {arithmetic:?}"
    );
}

#[tokio::test]
async fn a_quote_runs_on_the_async_worker_only_when_nothing_in_it_waits_on_io() {
    let api = Api::new();
    let admin = acme(&api).await;
    let rater = json!({"name": "legacy", "url": "http://127.0.0.1:9/rate", "timeout_ms": 500});
    assert_eq!(
        api.post("/v1/external-raters", &admin, rater).await.0,
        StatusCode::CREATED
    );
    let mut external = product();
    external["name"] = json!("auto-ext");
    external["rating"] = json!({"kind": "external", "rater": "legacy"});
    let (status, answer) = api.post("/v1/products", &admin, external).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // Products naming a plugin that is not uploaded are refused at deploy.
    for rating in [
        json!({"kind": "plugin_with_fallback", "plugin": "missing@1", "fallback": "legacy"}),
        json!({"kind": "plugin", "plugin": "missing@1"}),
    ] {
        let mut product = product();
        product["name"] = json!("auto-plugin");
        product["rating"] = rating;
        let (status, answer) = api.post("/v1/products", &admin, product).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["code"], "product_rater_unknown");
        assert!(answer["detail"].as_str().unwrap().contains("missing@1"));
    }
    let engine = &api.state.engine;
    let meta = crate::engine::RequestMeta {
        actor: "policy-system:test".into(),
        issued_at: chrono::Utc::now(),
        idempotency_key: None,
        arithmetic: crate::billing::Arithmetic::Skipped,
    };
    let in_process = |tenant: &str, product: &str| {
        let mut body = policy("P1", "1200.00");
        body["product"] = json!(product);
        let body: routes::policies::NewPolicy = serde_json::from_value(body).unwrap();
        engine
            .preview_quote_without_waiting(tenant, &routes::policies::issue_command(body), &meta)
            .is_some()
    };
    // A shared store is asked before every read: never on an async worker.
    let local = !api.state.store.shared();
    assert_eq!(
        in_process("acme", "auto"),
        local,
        "a native rater prices in-process"
    );
    assert!(
        !in_process("acme", "auto-ext"),
        "an external rater waits on the network"
    );
    assert!(!in_process("acme", "no-such-product"));
    assert!(
        !in_process("globex", "auto"),
        "another tenant has no such product"
    );

    // Wherever it runs, the quote is the same: the native product prices,
    // the external rater's failure is its usual problem.
    let (status, quote) = api
        .post("/v1/quotes", &admin, policy("P1", "1200.00"))
        .await;
    assert_eq!(
        (status, quote["total"].as_str()),
        (StatusCode::OK, Some("1200.00"))
    );
    let mut body = policy("P2", "1200.00");
    body["product"] = json!("auto-ext");
    let (status, problem) = api.post("/v1/quotes", &admin, body).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{problem}");
}

#[tokio::test]
async fn quote_bind_endorse_reverse_with_exact_charges_and_a_balanced_ledger() {
    let api = Api::new();
    let key = acme(&api).await;
    let (status, quote) = api.post("/v1/quotes", &key, policy("P1", "1200.00")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(quote["total"], "1200.00", "{quote}");
    assert_eq!(quote["lines"][0]["amount"], "1200.00");
    assert_eq!(
        quote["installments"].as_array().unwrap().len(),
        1,
        "the annual plan bills once"
    );
    assert_eq!(
        api.get("/v1/policies/P1", &key).await.0,
        StatusCode::NOT_FOUND,
        "a quote keeps nothing"
    );

    let (status, issued) = api
        .post("/v1/policies", &key, policy("P1", "1200.00"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(amounts(&issued, "premium"), vec!["1200.00"]);
    assert_eq!(issued["journal_entries"].as_array().unwrap().len(), 1);

    let change = json!({"effective": "2026-07-01", "changes": [{"op": "set_peril_fields", "exposure": "V1", "peril": "V1-COLL", "fields": {"yearly_premium": ["2400.00"]}}]});
    let (status, endorsed) = api.post("/v1/policies/P1/endorsements", &key, change).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(amounts(&endorsed, "premium"), vec!["600.00"]);

    let (status, reversed) = api
        .post(
            "/v1/policies/P1/reversals",
            &key,
            json!({"transaction": "P1-T2"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(amounts(&reversed, "premium"), vec!["-600.00"]);

    let (_, trial) = api.get("/v1/ledger/trial-balance", &key).await;
    let net: rust_decimal::Decimal = trial[0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["debits"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
                - r["credits"]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
        })
        .sum();
    assert_eq!(net, rust_decimal::Decimal::ZERO);
    let (_, account) = api.get("/v1/accounts/A1", &key).await;
    assert_eq!(account["receivable_unbilled"], "1200.00");

    let (status, audit) = api
        .get("/v1/policies/P1/charges/P1-T2-C1/audit", &key)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(audit["transaction"]["locator"], "P1-T2");
    assert_eq!(audit["rating_calls"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn every_mutating_endpoint_previews_without_persisting() {
    let api = Api::new();
    let key = acme(&api).await;
    api.post("/v1/policies", &key, policy("P1", "1200.00"))
        .await;
    let (_, before) = api.get("/v1/events?limit=1000", &key).await;
    let previews = [
        (
            "/v1/accounts?preview=true",
            json!({"locator": "A2", "name": "B", "currency": "USD"}),
        ),
        ("/v1/policies?preview=true", policy("P2", "100.00")),
        (
            "/v1/policies/P1/cancellations?preview=true",
            json!({"effective": "2026-07-01"}),
        ),
        ("/v1/policies/P1/renewals?preview=true", json!({})),
        (
            "/v1/charges?preview=true",
            json!({"account": "A1", "policy": "P1", "charge": "policy-fee", "amount": "10.00"}),
        ),
    ];
    for (path, body) in previews {
        let (status, effect) = api.post(path, &key, body).await;
        assert_eq!(status, StatusCode::OK, "{path}: {effect}");
        assert_eq!(effect["preview"], true, "{path}");
    }
    let (status, cancelled) = api
        .post(
            "/v1/policies/P1/cancellations?preview=true",
            &key,
            json!({"effective": "2026-07-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(amounts(&cancelled, "premium"), vec!["-600.00"]);
    let (_, after) = api.get("/v1/events?limit=1000", &key).await;
    assert_eq!(
        before["data"].as_array().unwrap().len(),
        after["data"].as_array().unwrap().len(),
        "nothing was written"
    );
}

#[tokio::test]
async fn a_bundle_previews_commands_across_policies_in_order() {
    let api = Api::new();
    let key = acme(&api).await;
    api.post("/v1/policies", &key, policy("P1", "1200.00"))
        .await;
    let bundle = json!({"commands": [
        {"command": "issue_policy", "locator": "P2", "account": "A1", "product": "auto", "start": "2026-01-01", "time_zone": "UTC",
         "data": {"exposures": {"V1": {"name": "vehicle", "perils": {"V2-COLL": {"name": "collision", "fields": {"yearly_premium": ["600.00"]}}}}}}},
        {"command": "cancel", "policy": "P1", "effective": "2026-04-01"},
        {"command": "cancel", "policy": "P2", "effective": "2026-07-01"}
    ]});
    let (status, effect) = api.post("/v1/previews", &key, bundle).await;
    assert_eq!(status, StatusCode::OK, "{effect}");
    assert_eq!(
        amounts(&effect, "premium"),
        vec!["600.00", "-900.00", "-300.00"]
    );
    assert_eq!(
        api.get("/v1/policies/P2", &key).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_same_idempotency_key_replays_and_another_body_under_it_is_409() {
    let api = Api::new();
    let key = acme(&api).await;
    let headers = [("idempotency-key", "issue-p1")];
    let (first, body) = api
        .call(
            "POST",
            "/v1/policies",
            Some(&key),
            Some(policy("P1", "1200.00")),
            &headers,
        )
        .await;
    assert_eq!(first, StatusCode::CREATED);
    let (again, replay) = api
        .call(
            "POST",
            "/v1/policies",
            Some(&key),
            Some(policy("P1", "1200.00")),
            &headers,
        )
        .await;
    assert_eq!(again, StatusCode::OK);
    assert_eq!(replay["replayed"], true);
    assert_eq!(replay["charges"], body["charges"]);
    let (conflict, problem) = api
        .call(
            "POST",
            "/v1/policies",
            Some(&key),
            Some(policy("P1", "9999.00")),
            &headers,
        )
        .await;
    assert_eq!(conflict, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "idempotency_conflict");
}

#[tokio::test]
async fn configuration_posts_replay_under_their_idempotency_key_and_refusals_are_not_kept() {
    let api = Api::new();
    let admin = acme(&api).await;
    let rater = json!({"name": "legacy", "url": "http://127.0.0.1:9/rate", "timeout_ms": 500,
                       "headers": [{"name": "Authorization", "value": "Basic c2VjcmV0"}]});
    let headers = [("idempotency-key", "rater-legacy")];
    // A refused request is not kept: the same key can carry the fixed one.
    let (refused, problem) = api
        .call(
            "POST",
            "/v1/external-raters",
            Some(&admin),
            Some(json!({"name": "legacy", "url": "not a url"})),
            &headers,
        )
        .await;
    assert!(refused.is_client_error(), "{refused} {problem}");
    let (first, _, registered) = api
        .call_with_headers(
            "POST",
            "/v1/external-raters",
            Some(&admin),
            Some(rater.clone()),
            &headers,
        )
        .await;
    assert_eq!(first, StatusCode::CREATED, "{registered}");
    let (again, again_headers, replay) = api
        .call_with_headers(
            "POST",
            "/v1/external-raters",
            Some(&admin),
            Some(rater),
            &headers,
        )
        .await;
    assert_eq!(again, StatusCode::OK);
    assert_eq!(again_headers[routes::config::REPLAYED_HEADER], "true");
    assert_eq!(replay, registered);
    assert!(!replay.to_string().contains("c2VjcmV0"));
    // The same key on another configuration endpoint is another request: 409.
    let (conflict, problem) = api
        .call(
            "POST",
            "/v1/plugins/auto-rater/1/activation",
            Some(&admin),
            None,
            &headers,
        )
        .await;
    assert_eq!(conflict, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "idempotency_conflict");
    // Keys are per tenant: another tenant's same key is its own.
    let globex = api.key("globex", Role::Admin);
    let (other, _) = api
        .call(
            "POST",
            "/v1/external-raters",
            Some(&globex),
            Some(json!({"name": "legacy", "url": "http://127.0.0.1:9/rate"})),
            &headers,
        )
        .await;
    assert_eq!(other, StatusCode::CREATED);
}

#[tokio::test]
async fn a_failed_write_is_never_acknowledged_and_changes_nothing_the_api_shows() {
    let failing = Arc::new(crate::store::failing::FailingStore::new(
        crate::store::test_store(),
    ));
    let api = Api::over(failing.clone());
    let key = acme(&api).await;
    assert_eq!(
        api.post("/v1/policies", &key, policy("P1", "1200.00"))
            .await
            .0,
        StatusCode::CREATED
    );
    let snapshot = || async {
        (
            api.get("/v1/ledger/trial-balance", &key).await.1,
            api.get("/v1/ledger/entries", &key).await.1,
            api.get("/v1/events?limit=1000", &key).await.1,
            api.get("/v1/policies/P1", &key).await.1,
        )
    };
    let before = snapshot().await;

    // The disk fails: a new policy and an endorsement are refused with 503
    // store_unavailable, never acknowledged.
    failing.fail_writes(true);
    let headers = [("idempotency-key", "issue-p2")];
    let (status, problem) = api
        .call(
            "POST",
            "/v1/policies",
            Some(&key),
            Some(policy("P2", "600.00")),
            &headers,
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(problem["code"], "store_unavailable");
    let endorsement = json!({"effective": "2026-07-01", "changes": [{"op": "set_peril_fields", "exposure": "V1", "peril": "V1-COLL", "fields": {"yearly_premium": ["2400.00"]}}]});
    let (status, _) = api
        .post("/v1/policies/P1/endorsements", &key, endorsement.clone())
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    // Configuration too: a rater registration is refused and not in use.
    let rater = json!({"name": "legacy", "url": "http://127.0.0.1:9/rate"});
    let (status, problem) = api.post("/v1/external-raters", &key, rater).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(problem["code"], "store_unavailable");
    assert!(api.state.raters.external.read().unwrap().is_empty());
    assert!(failing.refused.load(std::sync::atomic::Ordering::SeqCst) >= 3);

    // The disk is back: what the API shows is what was durable before.
    failing.fail_writes(false);
    assert_eq!(snapshot().await, before);
    assert_eq!(
        api.get("/v1/policies/P2", &key).await.0,
        StatusCode::NOT_FOUND
    );
    // The same key commits now, once.
    let (status, issued) = api
        .call(
            "POST",
            "/v1/policies",
            Some(&key),
            Some(policy("P2", "600.00")),
            &headers,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let (status, replay) = api
        .call(
            "POST",
            "/v1/policies",
            Some(&key),
            Some(policy("P2", "600.00")),
            &headers,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replay["replayed"], true);
    let trial = api.get("/v1/ledger/trial-balance", &key).await.1;
    let net: rust_decimal::Decimal = trial[0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let amount = |field: &str| {
                r[field]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            };
            amount("debits") - amount("credits")
        })
        .sum();
    assert_eq!(net, rust_decimal::Decimal::ZERO);
}

#[tokio::test]
async fn another_tenant_can_neither_read_nor_change_anything() {
    let api = Api::new();
    let acme_key = acme(&api).await;
    api.post("/v1/policies", &acme_key, policy("P1", "1200.00"))
        .await;
    let other = api.key("globex", Role::Admin);
    assert_eq!(
        api.get("/v1/policies/P1", &other).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get("/v1/accounts/A1", &other).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.get("/v1/policies/P1/charges/P1-T1-C1/audit", &other)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (status, _) = api
        .post(
            "/v1/policies/P1/cancellations",
            &other,
            json!({"effective": "2026-07-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.post("/v1/policies", &other, policy("P1", "1.00")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "globex has no account A1");
    let (_, events) = api.get("/v1/events", &other).await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["api_key_created"], "globex's own key only");
    let (_, entries) = api.get("/v1/ledger/entries", &other).await;
    assert!(entries["data"].as_array().unwrap().is_empty());
    assert!(
        api.get("/v1/products", &other)
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (_, acme_policy) = api.get("/v1/policies/P1", &acme_key).await;
    assert_eq!(
        acme_policy["transactions"].as_array().unwrap().len(),
        1,
        "acme's policy is untouched"
    );
}

#[tokio::test]
async fn malformed_json_and_unknown_fields_are_refused_clearly_and_change_nothing() {
    let api = Api::new();
    let key = acme(&api).await;
    let (_, before) = api.get("/v1/events?limit=1000", &key).await;
    let request = Request::builder()
        .method("POST")
        .uri("/v1/accounts")
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(Body::from("{\"locator\": \"A2\", "))
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let (status, problem) = api
        .post(
            "/v1/accounts",
            &key,
            json!({"locator": "A2", "name": "B", "currency": "USD", "colour": "red"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "invalid_body");
    assert!(
        problem["detail"].as_str().unwrap().contains("colour"),
        "{problem}"
    );
    let (status, problem) = api
        .post(
            "/v1/accounts",
            &key,
            json!({"locator": "A2", "name": "B", "currency": "XYZ"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (_, after) = api.get("/v1/events?limit=1000", &key).await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn business_errors_have_stable_codes_and_statuses() {
    let api = Api::new();
    let key = acme(&api).await;
    api.post("/v1/policies", &key, policy("P1", "1200.00"))
        .await;
    let (status, problem) = api
        .post("/v1/policies", &key, policy("P1", "1200.00"))
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("policy_exists"))
    );
    let (status, problem) = api
        .post(
            "/v1/policies/P1/reinstatements",
            &key,
            json!({"effective": "2026-03-01"}),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("policy_not_cancelled"))
    );
    let (status, problem) = api
        .post(
            "/v1/policies/P9/cancellations",
            &key,
            json!({"effective": "2026-03-01"}),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("policy_not_found"))
    );
    let mut declined = policy("P2", "100.00");
    declined["data"]["fields"] = json!({"decline": ["no drivers under 16"]});
    let (status, problem) = api.post("/v1/policies", &key, declined).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("rating_declined"))
    );
    assert_eq!(problem["detail"], "no drivers under 16");
    let mut bad_product = product();
    bad_product["charges"]["premium"]["invoicing"] = json!("next");
    let (status, problem) = api.post("/v1/products", &key, bad_product).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "invalid_product");
    assert!(
        problem["detail"].as_str().unwrap().contains("premium"),
        "the problem names the charge"
    );
    assert_eq!(api.get("/v1/nowhere", &key).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_event_feed_pages_with_a_cursor_in_order() {
    let api = Api::new();
    let key = acme(&api).await;
    for n in 1..=3 {
        api.post("/v1/policies", &key, policy(&format!("P{n}"), "100.00"))
            .await;
    }
    let mut sequences = Vec::new();
    let mut cursor = 0;
    loop {
        let (_, page) = api
            .get(&format!("/v1/events?after={cursor}&limit=2"), &key)
            .await;
        sequences.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["sequence"].as_u64().unwrap()),
        );
        match page["next_cursor"].as_u64() {
            Some(next) => cursor = next,
            None => break,
        }
    }
    assert_eq!(
        sequences,
        (1..=sequences.len() as u64).collect::<Vec<_>>(),
        "gap-free and in order"
    );
    assert_eq!(
        sequences.len(),
        1 + 2 + 3 * 2,
        "the admin key, product, account, then a transaction and its entry per policy"
    );
}

#[tokio::test]
async fn billing_runs_invoice_a_policy_and_a_payment_settles_it() {
    let api = Api::new();
    // A test tenant: its clock moves to the term's start before the run.
    let key = test_acme(&api).await;
    // Commands are issued today, so the term starts in the future: nothing is
    // caught up and the first installment is invoiced on the start date.
    let start = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let mut monthly = policy("P1", "1200.00");
    monthly["plan"] = json!("monthly");
    monthly["start"] = json!(start);
    assert_eq!(
        api.post("/v1/policies", &key, monthly).await.0,
        StatusCode::CREATED
    );
    let (status, clock) = api.post("/v1/clock", &key, json!({"today": start})).await;
    assert_eq!(status, StatusCode::OK, "{clock}");
    let (status, report) = api
        .post("/v1/billing/runs", &key, json!({"up_to": start}))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    let invoices = billing["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{billing}");
    assert_eq!(invoices[0]["outstanding"], "100.00");
    let invoice = invoices[0]["invoice"]["locator"]
        .as_str()
        .unwrap()
        .to_string();
    let (again, _) = api
        .post("/v1/billing/runs", &key, json!({"up_to": start}))
        .await;
    assert_eq!(again, StatusCode::OK);
    assert_eq!(
        api.get("/v1/accounts/A1/billing", &key).await.1["invoices"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "the same date twice bills nothing new"
    );

    let (status, paid) = api
        .post(
            "/v1/payments",
            &key,
            json!({"account": "A1", "amount": "130.00", "received_on": start}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    let decimal = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    assert_eq!(
        decimal(&billing["invoices"][0]["outstanding"]),
        rust_decimal::Decimal::ZERO
    );
    assert_eq!(billing["invoices"][0]["invoice"]["locator"], invoice);
    assert_eq!(
        decimal(&billing["credit"]),
        rust_decimal::Decimal::new(3000, 2),
        "the overpayment is credit"
    );
    let (_, account) = api.get("/v1/accounts/A1", &key).await;
    assert_eq!(
        decimal(&account["receivable_billed"]),
        rust_decimal::Decimal::ZERO
    );
    let reader = api.key("acme", Role::ReadOnly);
    let (status, _) = api
        .post(
            "/v1/payments",
            &reader,
            json!({"account": "A1", "amount": "1.00", "received_on": "2026-01-05"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, problem) = api.post("/v1/payments", &key, json!({"account": "A1", "amount": "1.00", "received_on": "2026-01-05", "colour": "red"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
}

#[tokio::test]
async fn exports_are_csv_with_one_row_per_ledger_line_and_charge() {
    let api = Api::new();
    let key = acme(&api).await;
    api.post("/v1/policies", &key, policy("P1", "1200.00"))
        .await;
    let request = |path: &str| {
        Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap()
    };
    let response = api
        .router
        .clone()
        .oneshot(request("/v1/exports/ledger-lines.csv"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("entry_id,tenant,currency,posted_on,kind"),
        "{}",
        lines[0]
    );
    assert_eq!(
        lines.len(),
        3,
        "a header and the two lines of the one entry"
    );
    assert!(
        lines[1].contains("premium_receivable_unbilled") && lines[1].contains("1200.00"),
        "{}",
        lines[1]
    );
    let response = api
        .router
        .clone()
        .oneshot(request("/v1/exports/charges.csv"))
        .await
        .unwrap();
    let text = String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(text.lines().nth(1).unwrap().starts_with("P1-T1-C1,A1,P1,P1-T1,1,V1-COLL,premium,premium,normal,scheduled,,USD,1200.00,2026-01-01,2027-01-01,"), "{text}");
    let response = api
        .router
        .clone()
        .oneshot(request("/v1/exports/secrets.csv"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = api
        .router
        .clone()
        .oneshot(request("/v1/exports/ledger-lines.parquet"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.apache.parquet"
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&bytes[..4], b"PAR1");
    let mut file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut file, &bytes).unwrap();
    use parquet::file::reader::FileReader;
    let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
    let schema = reader.metadata().file_metadata().schema_descr();
    assert_eq!(schema.column(11).name(), "amount");
    assert_eq!(
        schema.column(11).logical_type_ref(),
        Some(&parquet::basic::LogicalType::Decimal {
            scale: 4,
            precision: 18
        })
    );
}

mod clock;

//! The OpenAPI document against the router it describes.

use crate::api::auth::Role;
use crate::api::*;
use crate::boot::open_state;
use crate::plugin::PluginLimits;
use crate::store::{MemoryStore, Store};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

fn api() -> (Router, String) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let state = open_state(store, None, PluginLimits::default()).unwrap();
    let key = state
        .keys
        .create_as("acme", Role::Admin, "test", "premia:test")
        .unwrap();
    (router(state), key)
}

async fn send(router: &Router, method: &str, path: &str, key: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn served_document() -> Value {
    let (router, _) = api();
    let (status, doc) = send(&router, "GET", "/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    doc
}

#[tokio::test]
async fn the_document_is_served_without_a_key_as_openapi_3_1_with_bearer_security() {
    let doc = served_document().await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Premia API");
    assert_eq!(
        doc["components"]["securitySchemes"]["api_key"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["paths"].as_object().unwrap().len(), 95);
}

#[tokio::test]
async fn every_documented_operation_is_routed_by_the_router() {
    let (router, key) = api();
    let doc = served_document().await;
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().unwrap().keys() {
            operations += 1;
            let (status, body) = send(&router, &method.to_uppercase(), &concrete, Some(&key)).await;
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_ne!(body["detail"], "no such endpoint", "{method} {path}");
        }
    }
    assert_eq!(operations, 111);
}

#[tokio::test]
async fn a_billing_endpoint_documents_its_command_body_without_the_tag_or_path_fields() {
    let doc = served_document().await;
    let body = |path: &str| {
        doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    let payment = body("/v1/payments");
    assert!(payment["properties"]["amount"].is_object());
    assert!(payment["properties"]["received_on"].is_object());
    assert!(payment["properties"].get("command").is_none());
    assert_eq!(payment["additionalProperties"], false);
    let required: Vec<&str> = payment["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["account", "amount", "received_on"]);
    let reversal = body("/v1/payments/{payment}/reversals");
    assert!(reversal["properties"].get("payment").is_none());
    assert!(reversal["properties"]["fee"].is_object());
    assert!(openapi::billing_operations_without_body(&openapi::document()).is_empty());
}

#[tokio::test]
async fn commands_document_preview_and_idempotency_and_every_operation_its_problems() {
    let doc = served_document().await;
    let names = |path: &str, method: &str| -> Vec<String> {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| p["name"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        names("/v1/policies/{locator}/endorsements", "post"),
        ["locator", "preview", "Idempotency-Key"]
    );
    assert!(names("/v1/quotes", "post").is_empty());
    assert_eq!(names("/v1/api-keys", "post"), ["Idempotency-Key"]);
    assert_eq!(
        names("/v1/plugins", "post"),
        [
            "name",
            "version",
            "instance_policy",
            "preview",
            "Idempotency-Key"
        ]
    );
    assert_eq!(
        names("/v1/plugins/{name}/{version}/tables/{table}", "put"),
        ["name", "version", "table", "preview", "Idempotency-Key"]
    );
    // A configuration command's 200 is its resource (a replay) or an
    // effect (a preview).
    let answer = &doc["paths"]["/v1/plugins/{name}/{version}/activation"]["post"]["responses"]["200"]
        ["content"]["application/json"]["schema"]["$ref"];
    assert_eq!(answer, "#/components/schemas/PluginAnswer");
    let one_of = doc["components"]["schemas"]["PluginAnswer"]["oneOf"]
        .as_array()
        .unwrap();
    assert_eq!(one_of.len(), 2);
    let problem = &doc["paths"]["/v1/accounts"]["post"]["responses"]["422"]["content"]["application/problem+json"]
        ["schema"]["$ref"];
    assert_eq!(problem, "#/components/schemas/Problem");
    assert_eq!(
        doc["components"]["schemas"]["NewAccount"]["additionalProperties"],
        false
    );
    assert_eq!(
        doc["components"]["schemas"]["NewAccount"]["properties"]["currency"]["$ref"],
        "#/components/schemas/Currency"
    );
    assert_eq!(
        doc["components"]["schemas"]["Currency"]["pattern"],
        "^[A-Z]{3}$"
    );
}

#[tokio::test]
async fn the_clock_and_the_billing_run_preview_are_documented() {
    let doc = served_document().await;
    let clock = &doc["paths"]["/v1/clock"];
    assert_eq!(
        clock["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Clock"
    );
    assert_eq!(
        clock["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/SetClock"
    );
    assert!(clock["post"]["responses"]["409"].is_object());
    let names: Vec<&str> = clock["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Idempotency-Key"]);
    let run = &doc["paths"]["/v1/billing/runs"]["post"];
    let names: Vec<&str> = run["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["preview"]);
    assert_eq!(
        run["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/BillingRunAnswer"
    );
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["BillingRunPreview"]["properties"]["invoices"].is_object());
    assert!(schemas["BillingRunPreview"]["properties"]["lapses"].is_object());
    assert_eq!(
        schemas["Clock"]["required"],
        serde_json::json!(["today", "test"])
    );
}

#[tokio::test]
async fn an_endpoint_that_cannot_preview_refuses_preview_instead_of_committing() {
    let (router, key) = api();
    let (status, body) = send(&router, "POST", "/v1/api-keys?preview=true", Some(&key)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "preview_unsupported");
}

#[tokio::test]
async fn an_unknown_query_parameter_is_a_problem_not_plain_text() {
    let (router, key) = api();
    let (status, body) = send(&router, "GET", "/v1/events?limit=1&color=red", Some(&key)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "bad_query");
}

#[tokio::test]
async fn an_idempotency_key_with_a_control_character_is_refused_before_the_store() {
    let (router, key) = api();
    let request = Request::builder()
        .method("POST")
        .uri("/v1/accounts")
        .header("authorization", format!("Bearer {key}"))
        .header("idempotency-key", "abc\tdef")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"locator":"A1","name":"Ada","currency":"USD"}"#,
        ))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["code"], "bad_idempotency_key");
}

/// A body that would be valid for acme's resources, per operation.
fn acme_body(operation: &str) -> Value {
    let day = "2026-02-01";
    match operation {
        "create_account" => {
            serde_json::json!({"locator": "A1", "name": "Mallory", "currency": "USD"})
        }
        "issue_policy" | "quote" => serde_json::json!({
            "locator": "P1", "account": "A1", "product": "auto", "start": "2026-01-01", "time_zone": "UTC",
            "data": {"exposures": {"V1": {"name": "vehicle", "perils": {"V1-COLL": {"name": "collision", "fields": {"yearly_premium": ["1.00"]}}}}}}
        }),
        "endorse" => serde_json::json!({"effective": day, "changes": []}),
        "renew" => serde_json::json!({}),
        "cancel" | "reinstate" => serde_json::json!({"effective": day}),
        "reverse" => serde_json::json!({"transaction": "P1-T1"}),
        "non_renew" => serde_json::json!({"reason": "underwriting"}),
        "add_charge" => {
            serde_json::json!({"account": "A1", "policy": "P1", "charge": "policy-fee", "amount": "5.00"})
        }
        "reverse_charges" => serde_json::json!({"account": "A1", "charges": ["P1-T1-C1"]}),
        "record_payment" => {
            serde_json::json!({"account": "A1", "amount": "100.00", "received_on": day})
        }
        "reverse_payment" => serde_json::json!({"account": "A1", "on": day}),
        "distribute_credit" => serde_json::json!({"account": "A1", "on": day}),
        "write_off" => serde_json::json!({"account": "A1", "invoice": "A1-INV-1", "on": day}),
        "reverse_write_off" | "release_hold" => serde_json::json!({"account": "A1", "on": day}),
        "draft_disbursement" => serde_json::json!({"account": "A1", "amount": "1.00", "on": day}),
        "draft_commission_payment" => serde_json::json!({"amount": "1.00", "currency": "USD"}),
        "put_agency" => serde_json::json!({"statement_day": 20}),
        "post_remittance" => {
            serde_json::json!({"statement": "2026-01-20", "amount": "1.00", "currency": "USD"})
        }
        "approve_disbursement" | "reject_disbursement" | "reverse_disbursement" => {
            serde_json::json!({"account": "A1", "on": day})
        }
        "place_hold" => serde_json::json!({"account": "A1", "kind": "invoicing", "from": day}),
        "change_plan" => serde_json::json!({"plan": "monthly", "effective": day}),
        "configure_account" => serde_json::json!({"overrides": {}}),
        "run_billing" => serde_json::json!({"up_to": "2026-12-31"}),
        "run_earnings" => serde_json::json!({"as_of": day}),
        "preview_bundle" => {
            serde_json::json!({"commands": [{"command": "cancel", "policy": "P1", "effective": day}]})
        }
        _ => serde_json::json!({}),
    }
}

/// acme's identifier for a path parameter.
fn acme_path(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{locator}" if path.starts_with("/v1/accounts") => "A1",
            "{locator}" | "{policy}" => "P1",
            "{account}" => "A1",
            "{charge}" => "P1-T1-C1",
            "{payment}" => "A1-PAY-1",
            "{write_off}" => "A1-WO-1",
            "{disbursement}" => "A1-DISB-1",
            "{hold}" => "A1-HOLD-1",
            "{invoice}" => "A1-I1",
            "{worklist}" => "delinquent-accounts",
            "{name}" => "auto-rater",
            "{version}" => "1",
            "{table}" => "territory",
            "{file}" => "ledger-lines.csv",
            "{period}" => "2026-01",
            "{producer}" => "agency-7",
            "{date}" => "2026-01-20",
            "{product}" => "auto",
            other => other,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_operation_called_by_another_tenant_on_acmes_identifiers_sees_and_changes_nothing_of_acme()
 {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let state = open_state(Arc::clone(&store), None, PluginLimits::default()).unwrap();
    let acme = state
        .keys
        .create_as("acme", Role::Admin, "acme", "premia:test")
        .unwrap();
    let globex = state
        .keys
        .create_as("globex", Role::Admin, "globex", "premia:test")
        .unwrap();
    let router = router(state);
    let post = |path: &'static str, body: Value| {
        let router = router.clone();
        let acme = acme.clone();
        async move {
            let request = Request::builder()
                .method("POST")
                .uri(path)
                .header("authorization", format!("Bearer {acme}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let response = router.oneshot(request).await.unwrap();
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
        }
    };
    post("/v1/products", serde_json::json!({
        "name": "auto", "currency": "USD",
        "charges": {"premium": {"category": "premium"}, "policy-fee": {"category": "flatFee", "handling": "flat", "invoicing": "next"}},
        "rating": {"kind": "native", "rater": "field"},
        "plans": {"monthly": {"cadence": "monthly"}, "annual": {"cadence": "full-pay"}},
        "default_plan": "annual"
    })).await;
    post(
        "/v1/accounts",
        serde_json::json!({"locator": "A1", "name": "Ada Acme", "currency": "USD"}),
    )
    .await;
    post("/v1/policies", acme_body("issue_policy")).await;
    post(
        "/v1/billing/runs",
        serde_json::json!({"up_to": "2026-01-15"}),
    )
    .await;
    post("/v1/payments", acme_body("record_payment")).await;
    let acme_events = store.last_sequence("acme").unwrap();
    let acme_blobs = store.list_blobs("acme", "plugin-components").unwrap().len();
    assert!(acme_events > 3);

    let doc = serde_json::to_value(openapi::document()).unwrap();
    let mut calls = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let operation = item[method]["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let mut request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(acme_path(path))
                .header("authorization", format!("Bearer {globex}"));
            let body = if method == "get" {
                Body::empty()
            } else {
                request = request.header("content-type", "application/json");
                Body::from(acme_body(&operation).to_string())
            };
            let response = router
                .clone()
                .oneshot(request.body(body).unwrap())
                .await
                .unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("Ada Acme") && !text.contains("acme"),
                "{method} {path} leaked acme: {status} {text}"
            );
            assert!(
                !status.is_server_error(),
                "{method} {path}: {status} {text}"
            );
            calls += 1;
        }
    }
    assert_eq!(calls, 111);
    assert_eq!(
        store.last_sequence("acme").unwrap(),
        acme_events,
        "acme's log is untouched"
    );
    assert_eq!(
        store.list_blobs("acme", "plugin-components").unwrap().len(),
        acme_blobs
    );
}

#[tokio::test]
async fn a_bundle_is_documented_with_policy_and_billing_commands_and_answers_account_summaries() {
    let doc = served_document().await;
    let bundle = &doc["paths"]["/v1/previews"]["post"];
    assert_eq!(
        bundle["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Bundle"
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Bundle"]["properties"]["commands"]["items"]["$ref"],
        "#/components/schemas/BundleCommand"
    );
    let entries: Vec<&str> = schemas["BundleCommand"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["$ref"].as_str().unwrap())
        .collect();
    assert_eq!(
        entries,
        [
            "#/components/schemas/PolicyCommand",
            "#/components/schemas/BillingCommand",
            "#/components/schemas/BundleBillingRun"
        ]
    );
    assert_eq!(
        schemas["Effect"]["properties"]["summaries"]["items"]["$ref"],
        "#/components/schemas/AccountSummary"
    );
    let summary = &schemas["AccountSummary"]["properties"];
    assert!(summary["after"].is_object());
    assert!(summary["next_invoice"].is_object());
    assert!(schemas["AccountPosition"]["properties"]["refund_due"].is_object());
    assert!(schemas["NextInvoice"]["properties"]["items"].is_object());
}

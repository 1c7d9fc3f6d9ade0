//! The OpenAPI document against the router it describes.

use super::auth::Role;
use super::server::open_state;
use super::*;
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
    let key = state.keys.create("acme", Role::Admin, "test").unwrap();
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
    assert_eq!(doc["paths"].as_object().unwrap().len(), 42);
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
    assert_eq!(operations, 45);
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
async fn an_endpoint_that_cannot_preview_refuses_preview_instead_of_committing() {
    let (router, key) = api();
    let (status, body) = send(&router, "POST", "/v1/api-keys?preview=true", Some(&key)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "preview_unsupported");
}

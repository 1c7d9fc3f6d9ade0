//! `/metrics` and `/readyz`: after some traffic the request, command and
//! event series moved by at least what the test sent (other tests of the
//! process share the recorder, so the counts may move more), and a host
//! whose store answers is ready.

use super::*;

/// The sum of the samples of `name` whose labels include every one of
/// `labels` (`key="value"`), in the Prometheus text `body`; 0 when none.
fn sample(body: &str, name: &str, labels: &[&str]) -> f64 {
    body.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn scrape(api: &Api) -> String {
    let (status, headers, body) = api
        .call_with_headers("GET", "/metrics", None, None, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    match body {
        Value::String(text) => text,
        Value::Null => String::new(),
        other => panic!("not text: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::float_arithmetic)]
async fn metrics_count_requests_by_route_and_status_commands_and_events_after_traffic() {
    crate::telemetry::prometheus();
    let api = Api::new();
    let before = scrape(&api).await;
    // A product and an account (two commands, 201 each), a policy that
    // is refused (404: no such account) and a read of the account.
    let key = acme(&api).await;
    let (refused, _) = api.post("/v1/policies", &key, json!({
        "locator": "P9", "account": "NOPE", "product": "auto", "start": "2026-01-01", "time_zone": "UTC",
        "data": {"exposures": {}}
    })).await;
    assert!(refused.is_client_error(), "{refused}");
    assert_eq!(api.get("/v1/accounts/A1", &key).await.0, StatusCode::OK);
    let after = scrape(&api).await;

    let moved =
        |name: &str, labels: &[&str]| sample(&after, name, labels) - sample(&before, name, labels);
    let created = [
        r#"route="/v1/accounts""#,
        r#"method="POST""#,
        r#"status="201""#,
    ];
    assert!(
        moved("premia_http_requests_total", &created) >= 1.0,
        "{after}"
    );
    assert!(moved("premia_http_request_duration_seconds_count", &created) >= 1.0);
    // The route template, never the path with the account's locator.
    let read = [r#"route="/v1/accounts/{locator}""#, r#"status="200""#];
    assert!(moved("premia_http_requests_total", &read) >= 1.0, "{after}");
    assert!(!after.contains(r#"route="/v1/accounts/A1""#));
    let refused_status = format!(r#"status="{}""#, refused.as_u16());
    assert!(
        moved(
            "premia_http_requests_total",
            &[r#"route="/v1/policies""#, &refused_status]
        ) >= 1.0
    );
    assert!(moved("premia_commands_total", &[r#"outcome="committed""#]) >= 2.0);
    assert!(moved("premia_commands_total", &[r#"outcome="refused""#]) >= 1.0);
    // The product's event and the account's.
    assert!(moved("premia_events_appended_total", &[]) >= 2.0);
    assert!(after.contains("premia_tenants_loaded"));
    assert!(after.contains("# TYPE premia_http_request_duration_seconds histogram"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_says_ready_when_the_store_answers_and_503_when_it_does_not() {
    let api = Api::new();
    let (status, body) = api.call("GET", "/readyz", None, None, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ready"], json!(true));
    assert_eq!(body["store"], json!(true));

    let failing = Arc::new(crate::store::failing::FailingStore::new(
        crate::store::test_store(),
    ));
    let api = Api::over(failing.clone());
    failing.fail_reads(true);
    let (status, body) = api.call("GET", "/readyz", None, None, &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], json!(503), "a problem: {body}");
    failing.fail_reads(false);
    assert_eq!(
        api.call("GET", "/readyz", None, None, &[]).await.0,
        StatusCode::OK
    );
}

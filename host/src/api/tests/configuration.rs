//! Configuration as history over HTTP: external raters, products, billing
//! settings and plugin versions are commands of the tenant's log, shown in
//! the feed with who sent them, when and under which key, and read back
//! with their revisions. (Plugin uploads need compiled components: the
//! integration suite covers them, `tests/integration/api_server.rs`.)

use super::*;

/// A header value no answer, event, export, blob or log may contain.
const SECRET: &str = "Basic c3VwZXItc2VjcmV0LXZhbHVl";

fn rater(url: &str) -> Value {
    json!({"name": "legacy", "url": url, "timeout_ms": 500,
           "headers": [{"name": "Authorization", "value": SECRET}, {"name": "X-Tenant", "value": "acme-7"}]})
}

/// Every event of acme's feed.
async fn feed(api: &Api, key: &str) -> Vec<Value> {
    let (status, page) = api.get("/v1/events?after=0&limit=1000", key).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_rater_registration_is_in_the_feed_with_actor_time_and_key_and_its_revisions_are_read_back()
 {
    let api = Api::new();
    let admin = acme(&api).await;
    let headers = [("idempotency-key", "rater-1")];
    let (status, registered) = api
        .call(
            "POST",
            "/v1/external-raters",
            Some(&admin),
            Some(rater("http://127.0.0.1:9/rate?code=abc")),
            &headers,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    assert_eq!(
        registered["header_names"],
        json!(["Authorization", "X-Tenant"])
    );
    assert_eq!(registered["url"], "http://127.0.0.1:9/rate?<redacted>");
    let (status, _) = api
        .post(
            "/v1/external-raters",
            &admin,
            rater("http://127.0.0.1:10/rate"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let events = feed(&api, &admin).await;
    let recorded: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "external_rater_registered")
        .collect();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0]["idempotency_key"], "rater-1");
    assert_eq!(recorded[0]["actor"], "admin:test");
    assert_eq!(recorded[0]["stream"], "external-rater/legacy");
    assert!(recorded[0]["issued_at"].as_str().unwrap().starts_with("20"));
    assert_eq!(recorded[1]["event"]["config"]["revision"], 2);

    let (status, detail) = api.get("/v1/external-raters/legacy", &admin).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let revisions = detail["revisions"].as_array().unwrap();
    assert_eq!(
        revisions
            .iter()
            .map(|r| (r["revision"].as_u64().unwrap(), r["url"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [
            (1, "http://127.0.0.1:9/rate?<redacted>"),
            (2, "http://127.0.0.1:10/rate")
        ]
    );
    assert_eq!(revisions[0]["recorded"]["by"], "admin:test");
    // The latest revision is the one in use, and the list shows it.
    let (_, list) = api.get("/v1/external-raters", &admin).await;
    assert_eq!(list[0]["url"], "http://127.0.0.1:10/rate");
    assert!(
        api.state
            .raters
            .external
            .read()
            .unwrap()
            .contains_key("acme/legacy")
    );
}

#[tokio::test]
async fn a_retried_configuration_key_replays_and_another_body_under_it_is_409() {
    let api = Api::new();
    let admin = acme(&api).await;
    let headers = [("idempotency-key", "rater-retry")];
    let body = rater("http://127.0.0.1:9/rate");
    let (first, first_headers, registered) = api
        .call_with_headers(
            "POST",
            "/v1/external-raters",
            Some(&admin),
            Some(body.clone()),
            &headers,
        )
        .await;
    assert_eq!(first, StatusCode::CREATED);
    assert!(first_headers.get(routes::config::REPLAYED_HEADER).is_none());
    let events_after_first = feed(&api, &admin).await.len();
    let (again, again_headers, replay) = api
        .call_with_headers(
            "POST",
            "/v1/external-raters",
            Some(&admin),
            Some(body),
            &headers,
        )
        .await;
    assert_eq!(again, StatusCode::OK);
    assert_eq!(again_headers[routes::config::REPLAYED_HEADER], "true");
    assert_eq!(replay, registered);
    assert_eq!(feed(&api, &admin).await.len(), events_after_first);
    let (conflict, problem) = api
        .call(
            "POST",
            "/v1/external-raters",
            Some(&admin),
            Some(rater("http://127.0.0.1:11/other")),
            &headers,
        )
        .await;
    assert_eq!(conflict, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "idempotency_conflict");
    assert_eq!(feed(&api, &admin).await.len(), events_after_first);
}

#[tokio::test]
async fn no_rater_header_value_appears_in_an_answer_event_export_blob_or_log() {
    let logs = captured_logs();
    let api = Api::new();
    let admin = acme(&api).await;
    let mut answers = Vec::new();
    for url in ["http://127.0.0.1:9/rate", "http://127.0.0.1:9/rate"] {
        let (status, answer) = api.post("/v1/external-raters", &admin, rater(url)).await;
        assert_eq!(status, StatusCode::CREATED);
        answers.push(answer);
    }
    // A preview shows the event it would record, without the value either.
    let (status, preview) = api
        .post(
            "/v1/external-raters?preview=true",
            &admin,
            rater("http://127.0.0.1:9/x"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["preview"], true);
    answers.push(preview);
    // A product falling back to the rater prices through it (the rater is
    // unreachable: the quote fails), and its failure is logged.
    let mut product = product();
    product["name"] = json!("auto-ext");
    product["rating"] = json!({"kind": "external", "rater": "legacy"});
    assert_eq!(
        api.post("/v1/products", &admin, product).await.0,
        StatusCode::CREATED
    );
    let mut quote = policy("Q1", "100.00");
    quote["product"] = json!("auto-ext");
    answers.push(api.post("/v1/quotes", &admin, quote).await.1);
    for path in [
        "/v1/external-raters",
        "/v1/external-raters/legacy",
        "/v1/products/auto-ext",
    ] {
        answers.push(api.get(path, &admin).await.1);
    }
    answers.extend(feed(&api, &admin).await);
    for export in ["ledger-lines", "charges", "invoices", "payments"] {
        answers.push(
            api.get(&format!("/v1/exports/{export}.csv"), &admin)
                .await
                .1,
        );
    }
    for answer in &answers {
        let text = answer.to_string();
        assert!(!text.contains(SECRET) && !text.contains("acme-7"), "{text}");
    }
    // The store keeps the value encrypted only.
    let store = &api.state.store;
    for stored in store.read("acme", 0, 10_000).unwrap() {
        assert!(!stored.payload.to_string().contains(SECRET));
    }
    for namespace in [crate::config::secrets::SECRETS_NAMESPACE, "external-raters"] {
        for key in store.list_blobs("acme", namespace).unwrap() {
            let bytes = store.get_blob("acme", namespace, &key).unwrap().unwrap();
            assert!(!String::from_utf8_lossy(&bytes).contains(SECRET));
        }
    }
    assert_eq!(
        store
            .list_blobs("acme", crate::config::secrets::SECRETS_NAMESPACE)
            .unwrap()
            .len(),
        1,
        "one encrypted secret for the two identical registrations; the preview kept none"
    );
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(!logged.contains(SECRET), "a log line holds the secret");
}

#[tokio::test]
async fn product_revisions_are_read_back_and_a_policy_records_the_revision_it_was_issued_under() {
    let api = Api::new();
    let admin = acme(&api).await;
    let (status, _) = api
        .call(
            "POST",
            "/v1/products",
            Some(&admin),
            Some(product()),
            &[("idempotency-key", "auto-2")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        api.post("/v1/policies", &admin, policy("P1", "1200.00"))
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, detail) = api.get("/v1/products/auto", &admin).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["revision"], 2);
    let revisions = detail["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(revisions[1]["revision"], 2);
    assert_eq!(revisions[1]["idempotency_key"], "auto-2");
    assert_eq!(revisions[1]["deployed_by"], "admin:test");
    assert_eq!(revisions[1]["product"]["rating"]["kind"], "native");
    let (_, policy) = api.get("/v1/policies/P1", &admin).await;
    assert_eq!(policy["header"]["product_revision"], 2, "{policy}");
    assert_eq!(
        api.get("/v1/products/nope", &admin).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn billing_settings_read_back_what_is_in_effect_and_what_an_account_overrides() {
    let api = Api::new();
    let admin = acme(&api).await;
    let (status, answer) = api
        .call(
            "POST",
            "/v1/billing/settings",
            Some(&admin),
            Some(json!({"settings": {"invoice_due_days": 20}})),
            &[("idempotency-key", "settings-1")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = api
        .post(
            "/v1/accounts/A1/billing-settings",
            &admin,
            json!({"overrides": {"invoice_due_days": 5}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (_, settings) = api.get("/v1/billing/settings", &admin).await;
    assert_eq!(settings["invoice_due_days"], 20);
    let (status, account) = api.get("/v1/accounts/A1/billing-settings", &admin).await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!(account["in_effect"]["invoice_due_days"], 5);
    assert_eq!(account["overrides"]["invoice_due_days"], 5);
    assert_eq!(account["overrides"]["auto_apply_credit"], Value::Null);
    let events = feed(&api, &admin).await;
    let configured = events
        .iter()
        .find(|e| e["idempotency_key"] == "settings-1")
        .unwrap();
    assert_eq!(configured["actor"], "admin:test");
    assert_eq!(
        api.get("/v1/accounts/NOPE/billing-settings", &admin)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_configuration_input_is_a_problem_with_a_stable_code_and_changes_nothing() {
    let api = Api::new();
    let admin = acme(&api).await;
    let before = feed(&api, &admin).await.len();
    let cases: Vec<(&str, &str, Option<Value>, StatusCode, &str)> = vec![
        (
            "POST",
            "/v1/plugins/auto-rater/9/activation",
            None,
            StatusCode::NOT_FOUND,
            "plugin_version_unknown",
        ),
        (
            "POST",
            "/v1/plugins/auto-rater/9/schedule",
            Some(json!({"from": "2099-01-01"})),
            StatusCode::NOT_FOUND,
            "plugin_version_unknown",
        ),
        (
            "POST",
            "/v1/plugins/auto-rater/9/schedule",
            Some(json!({"from": "tomorrow"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            "POST",
            "/v1/plugins/bad%20name/1/activation",
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_plugin_name",
        ),
        (
            "POST",
            "/v1/external-raters",
            Some(json!({"name": "x", "url": "ftp://rater"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_external_rater",
        ),
        (
            "POST",
            "/v1/billing/settings",
            Some(
                json!({"settings": {"calendar": {"frequency": "weekly", "day": {"day-of-month": 3}}}}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_billing_calendar",
        ),
        (
            "POST",
            "/v1/billing/settings",
            Some(
                json!({"settings": {"calendar": {"frequency": "monthly", "day": {"day-of-month": 31}}}}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_billing_calendar",
        ),
        (
            "POST",
            "/v1/accounts/A1/billing-settings",
            Some(
                json!({"overrides": {"calendar": {"frequency": "monthly", "day": {"day-of-week": "Mon"}}}}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_billing_calendar",
        ),
        (
            "POST",
            "/v1/billing/settings",
            Some(
                json!({"settings": {"calendar": {"frequency": "monthly", "day": {"day-of-month": 1}, "invoice_due_days": 15}}}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "calendar_field_in_settings",
        ),
        (
            "GET",
            "/v1/plugins/nope",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "GET",
            "/v1/external-raters/nope",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (actual, problem) = api.call(method, path, Some(&admin), body, &[]).await;
        assert_eq!(
            (actual, problem["code"].as_str()),
            (status, Some(code)),
            "{method} {path}: {problem}"
        );
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    assert_eq!(
        feed(&api, &admin).await.len(),
        before,
        "nothing was recorded"
    );
    assert!(api.state.raters.external.read().unwrap().is_empty());
}

#[tokio::test]
async fn a_test_tenants_scheduled_version_takes_effect_when_its_clock_reaches_the_day() {
    let api = Api::new();
    let admin = test_acme(&api).await;
    let (_, clock) = api.get("/v1/clock", &admin).await;
    let today: chrono::NaiveDate = clock["today"].as_str().unwrap().parse().unwrap();
    // Two versions recorded (their components are not needed here: the
    // schedule is what is tested).
    for version in ["1", "2"] {
        let upload = crate::config::ConfigCommand::UploadPlugin(crate::config::PluginUpload {
            name: "rater".into(),
            version: version.into(),
            component_sha256: format!("sha-{version}"),
            size_bytes: 10,
            world: "rater".into(),
            wit_version: "0.2.0".into(),
            instance_policy: "fresh".into(),
        });
        let meta = crate::engine::RequestMeta {
            actor: "admin:test".into(),
            issued_at: chrono::Utc::now(),
            idempotency_key: Some(format!("upload-{version}")),
            arithmetic: crate::billing::Arithmetic::Written,
        };
        api.state
            .engine
            .execute("acme", &upload.into(), &meta)
            .unwrap();
    }
    let from = today + chrono::Duration::days(10);
    let (status, answer) = api
        .post(
            "/v1/plugins/rater/2/schedule",
            &admin,
            json!({"from": from.to_string()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["active_version"], "1");
    let active = || api.state.raters.active.active("acme/rater");
    assert_eq!(active().as_deref(), Some("1"));
    let (status, _) = api
        .post(
            "/v1/clock",
            &admin,
            json!({"today": (from - chrono::Duration::days(1)).to_string()}),
        )
        .await;
    assert!(status.is_success());
    assert_eq!(active().as_deref(), Some("1"), "the day before");
    let (status, _) = api
        .post("/v1/clock", &admin, json!({"today": from.to_string()}))
        .await;
    assert!(status.is_success());
    assert_eq!(active().as_deref(), Some("2"), "from its day");
    let (_, detail) = api.get("/v1/plugins/rater", &admin).await;
    assert_eq!(detail["active_version"], "2");
}

#[tokio::test]
async fn a_re_registration_without_headers_keeps_the_credentials_and_an_empty_list_removes_them() {
    let api = Api::new();
    let admin = acme(&api).await;
    let (status, _) = api
        .post(
            "/v1/external-raters",
            &admin,
            rater("http://127.0.0.1:9/rate"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // A new URL and timeout, no `headers`: the credentials stay.
    let moved = json!({"name": "legacy", "url": "http://127.0.0.1:10/rate", "timeout_ms": 900});
    let (status, answer) = api.post("/v1/external-raters", &admin, moved).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["header_names"], json!(["Authorization", "X-Tenant"]));
    let secret_of = |revision: usize| {
        let reference = api
            .state
            .engine
            .read("acme", |s| {
                s.config.raters["legacy"][revision].secret_ref.clone()
            })
            .unwrap();
        api.state
            .raters
            .secrets
            .get(api.state.store.as_ref(), "acme", &reference)
            .unwrap()
    };
    let kept = secret_of(1);
    assert_eq!(kept.url, "http://127.0.0.1:10/rate");
    assert_eq!(
        kept.headers,
        vec![
            ("Authorization".to_string(), SECRET.to_string()),
            ("X-Tenant".to_string(), "acme-7".to_string())
        ]
    );
    // An explicit empty list removes them, as a revision of its own.
    let bare = json!({"name": "legacy", "url": "http://127.0.0.1:10/rate", "headers": []});
    let (status, answer) = api.post("/v1/external-raters", &admin, bare).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["header_names"], json!([]));
    assert!(secret_of(2).headers.is_empty());
    let (_, detail) = api.get("/v1/external-raters/legacy", &admin).await;
    let revisions = detail["revisions"].as_array().unwrap();
    assert_eq!(revisions.len(), 3);
    assert_eq!(
        revisions[1]["header_names"],
        json!(["Authorization", "X-Tenant"])
    );
    assert_eq!(revisions[1]["timeout_ms"], 900);
}

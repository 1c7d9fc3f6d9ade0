//! API keys through the router: create, list, rotate, revoke as commands of
//! the tenant's log, their refusals, and that no secret or hash leaks into
//! answers, events, exports or log lines.

use super::*;
use crate::keys::secret_hash;

/// Creates a key through the API; returns the answer.
async fn create(
    api: &Api,
    admin: &str,
    role: &str,
    label: &str,
    idem: &str,
) -> (StatusCode, Value) {
    api.call(
        "POST",
        "/v1/api-keys",
        Some(admin),
        Some(json!({"role": role, "label": label})),
        &[("idempotency-key", idem)],
    )
    .await
}

/// Every event of the tenant's feed matching `query` (`kind=...&...`).
async fn feed(api: &Api, key: &str, query: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = api
            .get(&format!("/v1/events?after={after}&limit=2&{query}"), key)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        events.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_u64() {
            Some(next) => after = next,
            None => return events,
        }
    }
}

#[tokio::test]
async fn every_key_change_is_in_the_feed_with_its_actor_time_and_idempotency_key() {
    let api = Api::new();
    let admin = acme(&api).await;
    let before = chrono::Utc::now();
    let (status, created) = create(&api, &admin, "billing", "ops", "key-ops").await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], "key-2");
    let (status, rotated) = api
        .call(
            "POST",
            "/v1/api-keys/key-2/rotation",
            Some(&admin),
            Some(json!({"grace_seconds": 3600})),
            &[("idempotency-key", "rotate-ops")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    assert_eq!(rotated["generation"], 1);
    let (status, revoked) = api
        .call(
            "DELETE",
            "/v1/api-keys/key-2",
            Some(&admin),
            None,
            &[("idempotency-key", "revoke-ops")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["revoked"], true);

    let events = feed(&api, &admin, "stream=api-key/key-2").await;
    let summary: Vec<(&str, &str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["stream"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
                e["idempotency_key"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("api_key_created", "api-key/key-2", "admin:test", "key-ops"),
            (
                "api_key_rotated",
                "api-key/key-2",
                "admin:test",
                "rotate-ops"
            ),
            (
                "api_key_revoked",
                "api-key/key-2",
                "admin:test",
                "revoke-ops"
            ),
        ]
    );
    for event in &events {
        let issued: chrono::DateTime<chrono::Utc> =
            event["issued_at"].as_str().unwrap().parse().unwrap();
        assert!(issued >= before && issued <= chrono::Utc::now());
        let payload = &event["event"]["keys"];
        assert_eq!(payload["key"], "key-2");
        assert_eq!(payload["role"], "billing");
        assert_eq!(payload["label"], "ops");
        assert_eq!(payload["actor"], "admin:test");
        // The same instant (PostgreSQL keeps the command's time to the
        // microsecond, the event's payload to the nanosecond).
        let at: chrono::DateTime<chrono::Utc> = payload["at"].as_str().unwrap().parse().unwrap();
        assert!((at - issued).num_microseconds().unwrap().abs() < 1);
    }
    let rotation = &events[1]["event"]["keys"];
    assert_eq!(rotation["generation"], 1);
    let issued: chrono::DateTime<chrono::Utc> = rotation["at"].as_str().unwrap().parse().unwrap();
    let until: chrono::DateTime<chrono::Utc> = rotation["previous_valid_until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(until - issued, chrono::Duration::hours(1));
}

#[tokio::test]
async fn a_retried_key_creation_replays_the_same_key_without_its_secret_and_another_body_is_409() {
    let api = Api::new();
    let admin = acme(&api).await;
    let (first, created) = create(&api, &admin, "billing", "ops", "key-ops").await;
    assert_eq!(first, StatusCode::CREATED);
    let secret = created["key"].as_str().unwrap().to_string();
    assert!(secret.starts_with("prm_") && secret.len() == 68);
    assert_eq!(created["replayed"], false);

    let (again, replay) = create(&api, &admin, "billing", "ops", "key-ops").await;
    assert_eq!(again, StatusCode::OK);
    assert_eq!(replay["replayed"], true);
    assert_eq!(replay["id"], created["id"]);
    assert_eq!(replay["key"], Value::Null, "a secret is shown once");

    let (conflict, problem) = create(&api, &admin, "admin", "ops", "key-ops").await;
    assert_eq!(conflict, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "idempotency_conflict");

    let (_, keys) = api.get("/v1/api-keys", &admin).await;
    let ids: Vec<&str> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["key-1", "key-2"]);
    assert_eq!(feed(&api, &admin, "kind=api_key_created").await.len(), 2);
    assert_eq!(
        api.get("/v1/ledger/trial-balance", &secret).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_revoked_key_is_refused_401_and_revoking_it_again_or_an_unknown_key_changes_nothing() {
    let api = Api::new();
    let admin = acme(&api).await;
    let (_, created) = create(&api, &admin, "read_only", "auditor", "k").await;
    let secret = created["key"].as_str().unwrap().to_string();
    assert_eq!(api.get("/v1/clock", &secret).await.0, StatusCode::OK);

    let revoke = [("idempotency-key", "revoke-auditor")];
    let (status, revoked) = api
        .call("DELETE", "/v1/api-keys/key-2", Some(&admin), None, &revoke)
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["revoked_by"], "admin:test");
    assert_eq!(revoked["replayed"], false);
    // A retried revocation (same idempotency key) replays; nothing again.
    let (status, replayed) = api
        .call("DELETE", "/v1/api-keys/key-2", Some(&admin), None, &revoke)
        .await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    assert_eq!(replayed["replayed"], true);
    assert_eq!(replayed["revoked_at"], revoked["revoked_at"]);
    let (status, problem) = api.get("/v1/clock", &secret).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem["code"], "unauthorized");

    let events_before = feed(&api, &admin, "").await.len();
    let (again, problem) = api
        .call("DELETE", "/v1/api-keys/key-2", Some(&admin), None, &[])
        .await;
    assert_eq!(again, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "api_key_revoked");
    let (unknown, problem) = api
        .call("DELETE", "/v1/api-keys/key-99", Some(&admin), None, &[])
        .await;
    assert_eq!(unknown, StatusCode::NOT_FOUND);
    assert_eq!(problem["code"], "api_key_not_found");
    let (rotate_revoked, problem) = api
        .call(
            "POST",
            "/v1/api-keys/key-2/rotation",
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(rotate_revoked, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "api_key_revoked");
    assert_eq!(feed(&api, &admin, "").await.len(), events_before);

    // Ids are per tenant: globex has no key-2, and revokes none of acme's.
    let globex = api.key("globex", Role::Admin);
    let (status, problem) = api
        .call("DELETE", "/v1/api-keys/key-2", Some(&globex), None, &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    // acme's own admin key is its last: revoking it would lock acme out.
    let (status, problem) = api
        .call("DELETE", "/v1/api-keys/key-1", Some(&admin), None, &[])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "last_admin_key");
    assert_eq!(api.get("/v1/clock", &admin).await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_role_a_long_label_or_a_long_grace_is_422_and_creates_nothing() {
    let api = Api::new();
    let admin = acme(&api).await;
    let (status, problem) = create(&api, &admin, "superuser", "x", "a").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "unknown_role");
    assert!(problem["detail"].as_str().unwrap().contains("read_only"));
    let (status, problem) = create(&api, &admin, "billing", &"x".repeat(65), "b").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "invalid_label");
    let (status, problem) = api
        .post(
            "/v1/api-keys/key-1/rotation",
            &admin,
            json!({"grace_seconds": 604_801}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "invalid_grace");
    let reader = api.key("acme", Role::ReadOnly);
    let (status, _) = create(&api, &reader, "admin", "escalate", "c").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        api.get("/v1/api-keys", &reader).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        feed(&api, &admin, "category=configuration&stream=api-key/*")
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn a_rotated_secret_works_during_its_grace_and_a_rotation_without_grace_stops_it_at_once() {
    let api = Api::new();
    let admin = acme(&api).await;
    let (_, created) = create(&api, &admin, "billing", "ops", "k").await;
    let first = created["key"].as_str().unwrap().to_string();
    let (status, rotated) = api
        .call(
            "POST",
            "/v1/api-keys/key-2/rotation",
            Some(&admin),
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let second = rotated["key"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    let issued: chrono::DateTime<chrono::Utc> =
        rotated["rotated_at"].as_str().unwrap().parse().unwrap();
    let until: chrono::DateTime<chrono::Utc> = rotated["previous_valid_until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        until - issued,
        chrono::Duration::hours(24),
        "the default grace"
    );
    assert_eq!(api.get("/v1/clock", &first).await.0, StatusCode::OK);
    assert_eq!(api.get("/v1/clock", &second).await.0, StatusCode::OK);

    let (status, rotated) = api
        .post(
            "/v1/api-keys/key-2/rotation",
            &admin,
            json!({"grace_seconds": 0}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let third = rotated["key"].as_str().unwrap().to_string();
    assert_eq!(
        api.get("/v1/clock", &first).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api.get("/v1/clock", &second).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(api.get("/v1/clock", &third).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_key_list_shows_role_label_creator_last_use_and_revocation() {
    let api = Api::new();
    let admin = acme(&api).await;
    let (_, created) = create(&api, &admin, "policy_system", "crm", "k").await;
    let crm = created["key"].as_str().unwrap().to_string();
    let (_, keys) = api.get("/v1/api-keys", &admin).await;
    assert_eq!(keys[1]["last_used"], Value::Null);
    api.get("/v1/clock", &crm).await;
    api.call("DELETE", "/v1/api-keys/key-2", Some(&admin), None, &[])
        .await;
    let (status, keys) = api.get("/v1/api-keys", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let crm_listed = &keys[1];
    assert_eq!(crm_listed["id"], "key-2");
    assert_eq!(crm_listed["role"], "policy_system");
    assert_eq!(crm_listed["label"], "crm");
    assert_eq!(crm_listed["created_by"], "admin:test");
    assert_eq!(crm_listed["revoked"], true);
    assert_eq!(crm_listed["revoked_by"], "admin:test");
    let used: chrono::DateTime<chrono::Utc> =
        crm_listed["last_used"].as_str().unwrap().parse().unwrap();
    let created_at: chrono::DateTime<chrono::Utc> =
        crm_listed["created_at"].as_str().unwrap().parse().unwrap();
    assert!(used >= created_at);
    assert_eq!(keys[0]["created_by"], "premia:test");
    assert_eq!(keys[0]["revoked"], false);
    assert!(
        keys[0]["last_used"].is_string(),
        "the admin listed the keys"
    );

    // Written to the store by the flush (every minute in the background),
    // and read back by a host that never saw the use.
    api.state.keys.flush_last_used().unwrap();
    let stored = api
        .state
        .store
        .get_blob("acme", crate::engine::LAST_USED_NAMESPACE, "key-2")
        .unwrap()
        .unwrap();
    let stored: chrono::DateTime<chrono::Utc> = String::from_utf8(stored).unwrap().parse().unwrap();
    assert_eq!(stored, used);
}

#[tokio::test]
async fn no_answer_event_export_blob_or_log_line_holds_a_key_secret_or_its_hash() {
    let logs = captured_logs();
    let api = Api::new();
    let admin = acme(&api).await;
    let mut answers = Vec::new();
    let mut shown_once = Vec::new();
    let mut secrets = vec![admin.clone()];
    for (role, label) in [("billing", "ops"), ("read_only", "audit")] {
        let (_, created) = create(&api, &admin, role, label, label).await;
        secrets.push(created["key"].as_str().unwrap().to_string());
        shown_once.push(created);
        let (_, replay) = create(&api, &admin, role, label, label).await;
        answers.push(replay);
    }
    let (_, rotated) = api
        .call(
            "POST",
            "/v1/api-keys/key-2/rotation",
            Some(&admin),
            None,
            &[],
        )
        .await;
    secrets.push(rotated["key"].as_str().unwrap().to_string());
    shown_once.push(rotated);
    answers.push(
        api.call("DELETE", "/v1/api-keys/key-3", Some(&admin), None, &[])
            .await
            .1,
    );
    for secret in &secrets {
        answers.push(api.get("/v1/clock", secret).await.1);
    }
    answers.push(api.get("/v1/api-keys", &admin).await.1);
    answers.push(api.get("/v1/events?limit=1000", &admin).await.1);
    answers.push(
        api.post("/v1/policies", &admin, policy("P1", "1200.00"))
            .await
            .1,
    );
    let mut text: Vec<String> = answers.iter().map(Value::to_string).collect();
    for file in ["ledger-lines", "charges", "invoices", "payments"] {
        let (status, csv) = api.get(&format!("/v1/exports/{file}.csv"), &admin).await;
        assert_eq!(status, StatusCode::OK);
        text.push(csv.to_string());
    }
    for stored in api.state.store.read("acme", 0, 10_000).unwrap() {
        text.push(serde_json::to_string(&stored).unwrap());
    }
    for namespace in [
        crate::engine::LAST_USED_NAMESPACE,
        crate::engine::CREDENTIALS_NAMESPACE,
    ] {
        for tenant in ["acme", crate::engine::SYSTEM_TENANT] {
            for name in api.state.store.list_blobs(tenant, namespace).unwrap() {
                let bytes = api.state.store.get_blob(tenant, namespace, &name).unwrap();
                text.push(String::from_utf8_lossy(&bytes.unwrap()).into_owned());
            }
        }
    }
    text.push(String::from_utf8_lossy(&logs.lock().unwrap()).into_owned());
    assert!(
        text.last().unwrap().contains("api key command"),
        "the log lines of this test were captured"
    );
    assert_eq!(secrets.len(), 4);
    // Each secret is in the one answer that issued it, and nowhere else.
    let issuing: Vec<String> = shown_once.iter().map(Value::to_string).collect();
    for secret in &secrets[1..] {
        let found = issuing
            .iter()
            .filter(|a| a.contains(secret.as_str()))
            .count();
        assert_eq!(found, 1, "shown once");
    }
    for secret in &secrets {
        let hash = secret_hash(secret);
        for (i, text) in text.iter().enumerate() {
            assert!(!text.contains(secret.as_str()), "a secret in text {i}");
            assert!(!text.contains(&hash), "a hash in text {i}");
            assert!(!text.contains(&secret[4..]), "a secret's hex in text {i}");
        }
    }
}

#[tokio::test]
async fn keys_of_an_older_build_move_into_their_tenants_log_and_still_open_the_api() {
    let store = crate::store::test_store();
    let secret = "prm_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let record = json!({"tenant": "acme", "role": "billing", "label": "legacy ops"});
    store
        .put_blob(
            crate::engine::SYSTEM_TENANT,
            "api-keys",
            &secret_hash(secret),
            record.to_string().as_bytes(),
        )
        .unwrap();
    let api = Api::over(Arc::clone(&store));
    assert_eq!(api.get("/v1/clock", secret).await.0, StatusCode::OK);
    assert!(
        store
            .list_blobs(crate::engine::SYSTEM_TENANT, "api-keys")
            .unwrap()
            .is_empty()
    );
    let admin = api.key("acme", Role::Admin);
    let events = feed(&api, &admin, "kind=api_key_created").await;
    assert_eq!(events[0]["actor"], "premia:key-migration");
    assert_eq!(events[0]["event"]["keys"]["label"], "legacy ops");
    assert_eq!(events[0]["event"]["keys"]["role"], "billing");
    // Opening the store again migrates nothing twice.
    let again = Api::over(store);
    assert_eq!(again.get("/v1/clock", secret).await.0, StatusCode::OK);
    assert_eq!(feed(&again, &admin, "kind=api_key_created").await.len(), 2);
}

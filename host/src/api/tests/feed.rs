//! The event feed's filters through the router: by account, policy, kind,
//! category, stream and time, paged with the same cursor.

use super::*;

/// acme with account A1 holding policy P1 and account A2 holding P2.
async fn two_accounts(api: &Api) -> String {
    let key = acme(api).await;
    let (status, _) = api
        .post(
            "/v1/accounts",
            &key,
            json!({"locator": "A2", "name": "Bob", "currency": "USD"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        api.post("/v1/policies", &key, policy("P1", "1200.00"))
            .await
            .0,
        StatusCode::CREATED
    );
    let mut p2 = policy("P2", "600.00");
    p2["account"] = json!("A2");
    assert_eq!(
        api.post("/v1/policies", &key, p2).await.0,
        StatusCode::CREATED
    );
    key
}

/// Every event `query` keeps, read two at a time: (kind, stream).
async fn filtered(api: &Api, key: &str, query: &str) -> Vec<(String, String)> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = api
            .get(&format!("/v1/events?after={after}&limit=2&{query}"), key)
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        for event in page["data"].as_array().unwrap() {
            events.push((
                event["kind"].as_str().unwrap().to_string(),
                event["stream"].as_str().unwrap().to_string(),
            ));
        }
        match page["next_cursor"].as_u64() {
            Some(next) => after = next,
            None => return events,
        }
    }
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(kind, stream)| (kind.to_string(), stream.to_string()))
        .collect()
}

#[tokio::test]
async fn the_feed_of_an_account_holds_its_own_events_its_policies_and_their_journal_entries() {
    let api = Api::new();
    let key = two_accounts(&api).await;
    assert_eq!(
        filtered(&api, &key, "account=A1").await,
        pairs(&[
            ("account_created", "account/A1"),
            ("transaction_issued", "policy/P1"),
            ("journal_entry_posted", "ledger"),
        ])
    );
    let (_, page) = api
        .get("/v1/events?account=A2&kind=journal_entry_posted", &key)
        .await;
    let entry = &page["data"][0]["event"]["journal"];
    assert_eq!(entry["reference"], "P2-T1");
    assert_eq!(entry["lines"][0]["amount"], "600.00");
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert!(filtered(&api, &key, "account=A9").await.is_empty());
}

#[tokio::test]
async fn the_feed_of_a_policy_holds_its_transactions_and_the_entries_they_posted() {
    let api = Api::new();
    let key = two_accounts(&api).await;
    let (status, _) = api
        .post(
            "/v1/policies/P1/cancellations",
            &key,
            json!({"effective": "2026-07-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        filtered(&api, &key, "policy=P1").await,
        pairs(&[
            ("transaction_issued", "policy/P1"),
            ("journal_entry_posted", "ledger"),
            ("transaction_issued", "policy/P1"),
            ("journal_entry_posted", "ledger"),
        ])
    );
    let (_, page) = api
        .get("/v1/events?policy=P1&kind=journal_entry_posted", &key)
        .await;
    let references: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["journal"]["reference"].as_str().unwrap())
        .collect();
    assert_eq!(references, ["P1-T1", "P1-T2"]);
    // Both filters apply together: P1 is not A2's.
    assert!(
        filtered(&api, &key, "policy=P1&account=A2")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_feed_keeps_kinds_categories_and_streams_asked_for() {
    let api = Api::new();
    let key = two_accounts(&api).await;
    assert_eq!(
        filtered(&api, &key, "kind=account_created,api_key_created").await,
        pairs(&[
            ("api_key_created", "api-key/key-1"),
            ("account_created", "account/A1"),
            ("account_created", "account/A2"),
        ])
    );
    assert_eq!(
        filtered(&api, &key, "category=configuration").await,
        pairs(&[
            ("api_key_created", "api-key/key-1"),
            ("product_deployed", "product/auto"),
        ])
    );
    assert_eq!(
        filtered(&api, &key, "stream=account/*").await,
        pairs(&[
            ("account_created", "account/A1"),
            ("account_created", "account/A2"),
        ])
    );
    assert_eq!(
        filtered(&api, &key, "stream=policy/P2").await,
        pairs(&[("transaction_issued", "policy/P2")])
    );
}

#[tokio::test]
async fn the_feed_between_two_times_holds_the_commands_issued_in_between() {
    let api = Api::new();
    let key = acme(&api).await;
    let (_, all) = api.get("/v1/events?limit=1000", &key).await;
    let all = all["data"].as_array().unwrap().clone();
    assert_eq!(all.len(), 3, "the key, the product and the account");
    let middle = all[1]["issued_at"].as_str().unwrap();
    let last = all[2]["issued_at"].as_str().unwrap();
    let since = |at: &str| format!("since={}", at.replace('+', "%2B"));
    assert_eq!(
        filtered(&api, &key, &since(middle)).await,
        pairs(&[
            ("product_deployed", "product/auto"),
            ("account_created", "account/A1"),
        ])
    );
    assert_eq!(
        filtered(&api, &key, &format!("{}&until={last}", since(middle))).await,
        pairs(&[("product_deployed", "product/auto")])
    );
    let today = chrono::Utc::now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    assert_eq!(
        filtered(&api, &key, &format!("since={today}")).await.len(),
        3
    );
    assert!(
        filtered(&api, &key, &format!("since={tomorrow}"))
            .await
            .is_empty()
    );
    assert!(
        filtered(&api, &key, &format!("until={today}"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn an_unknown_category_or_a_malformed_time_is_400_bad_query() {
    let api = Api::new();
    let key = acme(&api).await;
    for query in [
        "category=rates",
        "since=last-month",
        "until=2026-13-01",
        "colour=red",
    ] {
        let (status, problem) = api.get(&format!("/v1/events?{query}"), &key).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(problem["code"], "bad_query", "{query}");
    }
}

#[tokio::test]
async fn a_filtered_page_reads_a_bounded_part_of_the_log_and_goes_on_from_its_cursor() {
    let api = Api::new();
    let key = acme(&api).await;
    let meta = crate::engine::RequestMeta {
        actor: "test".into(),
        issued_at: chrono::Utc::now(),
        idempotency_key: None,
        arithmetic: crate::billing::Arithmetic::Written,
    };
    let accounts = crate::engine::FEED_SCAN_EVENTS_MAX + 5;
    for i in 0..accounts {
        let command = crate::policy::PolicyCommand::CreateAccount {
            locator: format!("B{i}"),
            name: "many".into(),
            currency: crate::domain::Currency::USD,
        };
        api.state
            .engine
            .execute("acme", &command.into(), &meta)
            .unwrap();
    }
    let last = format!("B{}", accounts - 1);
    let (_, first) = api
        .get(&format!("/v1/events?account={last}&limit=10"), &key)
        .await;
    assert!(first["data"].as_array().unwrap().is_empty());
    let cursor = first["next_cursor"].as_u64().unwrap();
    assert_eq!(cursor, crate::engine::FEED_SCAN_EVENTS_MAX as u64);
    let (_, second) = api
        .get(&format!("/v1/events?account={last}&after={cursor}"), &key)
        .await;
    assert_eq!(second["data"][0]["stream"], format!("account/{last}"));
    assert_eq!(second["next_cursor"], Value::Null);
}

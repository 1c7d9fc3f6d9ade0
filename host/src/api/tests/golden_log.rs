//! Stored formats are frozen: an event log written by this release (event
//! format 1) is checked in beside the state it rebuilds, and every build
//! must read it back the same. A serde rename, a changed tag or a field that
//! is no longer optional breaks these tests instead of breaking insurers'
//! data.
//!
//! `golden/log-format-1.jsonl` is one stored event a line (a test tenant
//! played through a year: products, policies, every kind of transaction,
//! billing runs, payments and their reversal, a plan change, holds,
//! configuration and API keys); `golden/state-format-1.json` is what the
//! rebuilt tenant shows (its policies, accounts' billing, the trial balance
//! and configuration). Both were written with
//! `PREMIA_WRITE_GOLDEN=1 cargo test -p premia --lib golden_log`; the log
//! must never be rewritten once released (a new format is a new file, read
//! beside it). The state may be rewritten only when a change adds to what
//! is shown, and the diff of that rewrite must show additions only.

use super::*;
use crate::boot::create_tenant_on;
use crate::store::{AppendRequest, CommandMeta, NewEvent, StoredEvent};

const LOG_PATH: &str = "src/api/tests/golden/log-format-1.jsonl";
const STATE_PATH: &str = "src/api/tests/golden/state-format-1.json";
const TENANT: &str = "golden";

async fn ok(api: &Api, key: &str, path: &str, body: Value) -> Value {
    let (status, answer) = api.post(path, key, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// Plays the tenant's year through the API.
async fn play(api: &Api) -> String {
    let key = create_tenant_on(&api.state, TENANT, Some("2025-12-15".parse().unwrap())).unwrap();
    ok(
        api,
        &key,
        "/v1/billing/settings",
        json!({"settings": {"invoice_due_days": 20}}),
    )
    .await;
    let mut product = product();
    product["charges"]["short-rate"] =
        json!({"category": "fee", "handling": "retention", "invoicing": "next"});
    product["cancellation"] = json!({
        "charge": "short-rate",
        "methods": {"insured_request": {"method": "pro_rata"}, "non_payment": {"method": "flat"}},
        "minimum_earned_percent": "10"
    });
    product["non_renewal_notice_days"] = json!(30);
    ok(api, &key, "/v1/products", product).await;
    for account in ["A1", "A2"] {
        ok(
            api,
            &key,
            "/v1/accounts",
            json!({"locator": account, "name": format!("Holder {account}"), "currency": "USD"}),
        )
        .await;
    }
    // Both pay up front; later a cheque of A1 bounces.
    for (account, amount) in [("A1", "2000.00"), ("A2", "600.00")] {
        ok(
            api,
            &key,
            "/v1/payments",
            json!({"account": account, "amount": amount, "received_on": "2025-12-15"}),
        )
        .await;
    }
    let mut monthly = policy("P1", "1200.00");
    monthly["plan"] = json!("monthly");
    ok(api, &key, "/v1/policies", monthly).await;
    let mut annual = policy("P2", "600.00");
    annual["account"] = json!("A2");
    annual["plan"] = json!("annual");
    ok(api, &key, "/v1/policies", annual).await;
    let endorsed = ok(
        api,
        &key,
        "/v1/policies/P1/endorsements",
        json!({"effective": "2026-03-01", "changes": [{"op": "set_peril_fields", "exposure": "V1",
            "peril": "V1-COLL", "fields": {"yearly_premium": ["1800.00"]}}]}),
    )
    .await;
    let endorsement = endorsed["transactions"][0]["locator"]
        .as_str()
        .unwrap()
        .to_string();
    for day in ["2026-01-01", "2026-02-01", "2026-03-01"] {
        ok(api, &key, "/v1/clock", json!({"today": day})).await;
        ok(api, &key, "/v1/billing/runs", json!({})).await;
    }
    let paid = ok(
        api,
        &key,
        "/v1/payments",
        json!({"account": "A1", "amount": "250.00", "received_on": "2026-03-01"}),
    )
    .await;
    let payment = paid["other_events"]
        .as_array()
        .and_then(|events| {
            events.iter().find_map(|e| {
                e["event"]["payment"]["locator"]
                    .as_str()
                    .or_else(|| e["collections"]["payment"]["locator"].as_str())
            })
        })
        .map(str::to_string);
    if let Some(payment) = payment {
        ok(
            api,
            &key,
            &format!("/v1/payments/{payment}/reversals"),
            json!({"account": "A1", "on": "2026-03-01", "reason": "returned cheque", "fee": "15.00"}),
        )
        .await;
    }
    ok(
        api,
        &key,
        "/v1/policies/P1/plan-changes",
        json!({"plan": "annual", "effective": "2026-04-01"}),
    )
    .await;
    ok(
        api,
        &key,
        "/v1/policies/P1/reversals",
        json!({"transaction": endorsement}),
    )
    .await;
    ok(
        api,
        &key,
        "/v1/policies/P2/cancellations",
        json!({"effective": "2026-06-01", "reason": "insured_request"}),
    )
    .await;
    ok(
        api,
        &key,
        "/v1/policies/P2/reinstatements",
        json!({"effective": "2026-06-01"}),
    )
    .await;
    ok(
        api,
        &key,
        "/v1/policies/P1/non-renewal",
        json!({"reason": "the risk moved out of state"}),
    )
    .await;
    ok(
        api,
        &key,
        "/v1/external-raters",
        json!({"name": "legacy", "url": "http://127.0.0.1:9/rate", "timeout_ms": 500,
               "headers": [["Authorization", "Bearer never-in-the-log"]]}),
    )
    .await;
    let created = ok(
        api,
        &key,
        "/v1/api-keys",
        json!({"role": "read_only", "label": "auditor"}),
    )
    .await;
    if let Some(id) = created["id"].as_str() {
        let (status, answer) = api
            .call(
                "DELETE",
                &format!("/v1/api-keys/{id}"),
                Some(&key),
                None,
                &[],
            )
            .await;
        assert!(status.is_success(), "{answer}");
    }
    for day in ["2026-04-01", "2026-05-01", "2026-06-01", "2026-07-01"] {
        ok(api, &key, "/v1/clock", json!({"today": day})).await;
        ok(api, &key, "/v1/billing/runs", json!({})).await;
    }
    key
}

/// What the rebuilt tenant shows: enough to notice any event read back
/// differently.
fn shown(api: &Api) -> Value {
    api.state
        .engine
        .read(TENANT, |s| {
            let accounts: BTreeMap<&String, Value> = s
                .collections
                .accounts
                .iter()
                .map(|(locator, account)| (locator, serde_json::to_value(account).unwrap()))
                .collect();
            json!({
                "policies": serde_json::to_value(&s.book.policies).unwrap(),
                "accounts": serde_json::to_value(&s.book.accounts).unwrap(),
                "billing": accounts,
                "trial_balance": serde_json::to_value(s.ledger.trial_balance(crate::domain::Currency::USD)).unwrap(),
                "plugins": serde_json::to_value(&s.config.plugins).unwrap(),
                "raters": serde_json::to_value(&s.config.raters).unwrap(),
                "keys": serde_json::to_value(s.keys.all()).unwrap(),
            })
        })
        .unwrap()
}

use std::collections::BTreeMap;

fn golden_log() -> Vec<StoredEvent> {
    let text = std::fs::read_to_string(LOG_PATH).unwrap();
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The checked-in log, appended command by command to an empty store.
fn append_golden(store: &dyn crate::store::Store, events: &[StoredEvent]) {
    let mut start = 0;
    while start < events.len() {
        let command = &events[start].command_id;
        let end = events[start..]
            .iter()
            .position(|e| &e.command_id != command)
            .map_or(events.len(), |n| start + n);
        let first = &events[start];
        store
            .append(AppendRequest {
                meta: CommandMeta {
                    tenant: TENANT.into(),
                    command_id: first.command_id.clone(),
                    actor: first.actor.clone(),
                    issued_at: first.issued_at,
                    idempotency_key: first.idempotency_key.clone(),
                    request_hash: "golden".into(),
                },
                expected_versions: Vec::new(),
                expected_last_sequence: None,
                chain: None,
                events: events[start..end]
                    .iter()
                    .map(|e| NewEvent::json(e.stream.clone(), e.kind.clone(), &e.payload))
                    .collect(),
                balance_lines: Vec::new(),
                response: Value::Null,
            })
            .unwrap();
        start = end;
    }
}

#[tokio::test]
async fn writes_the_golden_log_when_asked() {
    if std::env::var("PREMIA_WRITE_GOLDEN").as_deref() != Ok("1") {
        return;
    }
    let api = Api::over(Arc::new(crate::store::MemoryStore::default()));
    play(&api).await;
    let events = api.state.store.read(TENANT, 0, 100_000).unwrap();
    let lines: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    std::fs::write(LOG_PATH, lines.join("\n") + "\n").unwrap();
    std::fs::write(
        STATE_PATH,
        serde_json::to_string_pretty(&shown(&api)).unwrap() + "\n",
    )
    .unwrap();
}

#[tokio::test]
async fn the_event_log_of_format_1_rebuilds_the_state_it_was_written_with() {
    let events = golden_log();
    assert!(events.len() > 50, "a year of a tenant: {}", events.len());
    // Appended before the host starts: it rebuilds the tenant at start-up.
    let store = crate::store::test_store();
    append_golden(store.as_ref(), &events);
    let api = Api::over(store);
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(STATE_PATH).unwrap()).unwrap();
    assert_eq!(shown(&api), expected);
}

#[test]
fn every_event_of_format_1_reads_back_to_the_same_json() {
    let events = golden_log();
    let mut kinds = std::collections::BTreeSet::new();
    for stored in &events {
        assert_eq!(stored.format_version, 1);
        let event = crate::engine::decode_stored(stored).unwrap();
        let again = serde_json::to_value(&event).unwrap();
        assert_eq!(
            again, stored.payload,
            "{} #{}",
            stored.kind, stored.sequence
        );
        kinds.insert(stored.kind.clone());
    }
    // The kinds the log holds: each must keep being read.
    assert!(kinds.len() >= 15, "{kinds:?}");
}

/// Premium of the format-1 log was credited to `written_premium` (revenue
/// at once, before insurance accounting): an earnings run over it posts
/// nothing, so `unearned_premium` never goes below zero, while the premium
/// report still shows it written and earned by the formula.
#[tokio::test]
async fn an_earnings_run_leaves_premium_posted_as_revenue_by_older_logs_alone() {
    let store = crate::store::test_store();
    append_golden(store.as_ref(), &golden_log());
    let api = Api::over(store);
    let key = api.key(TENANT, Role::Admin);
    let (status, answer) = api
        .post(
            "/v1/accounting/earnings",
            &key,
            json!({"as_of": "2026-06-30"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["journal_entries"], json!([]));
    let (status, report) = api
        .get("/v1/accounting/premium?as_of=2026-06-30", &key)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let p1 = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["policy"] == "P1")
        .unwrap();
    assert_ne!(p1["written"], "0.00", "{report}");
    assert_ne!(p1["earned"], "0.00", "{report}");
}

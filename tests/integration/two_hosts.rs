//! Two Premia hosts on one PostgreSQL database: clients spread across both
//! send concurrent payments and endorsements on shared accounts and
//! policies. Afterwards the trial balance is zero, every acknowledged command
//! is in the log exactly once, the feed is gap-free, both hosts return the
//! same state, and the ledger projection in the database equals the ledger.
//! Needs `PREMIA_TEST_POSTGRES_URL` (see `premia::store::test_database_url`).

use crate::api_server::Server;
use crate::support::workspace;
use premia::boot::{DemoFiles, load_demo, open_data_dir_with};
use premia::store::{PgStore, fresh_schema_name, test_database_url, url_with_schema};
use reqwest::blocking::Client;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

/// One host: its own engine, store connections and HTTP server.
type Host = Server;

fn policy(locator: &str, account: &str) -> Value {
    json!({
        "locator": locator, "account": account, "product": "auto", "start": "2026-01-01",
        "time_zone": "America/New_York",
        "data": {"fields": {"territory": ["urban"], "producer": ["agency-7"]},
                 "exposures": {"V1": {"name": "vehicle", "fields": {"vehicle_class": ["sedan"], "driver_age": [30]},
                                      "perils": {"V1-BI": {"name": "bodily_injury"},
                                                 "V1-COLL": {"name": "collision", "fields": {"deductible": [500]}}}}}}
    })
}

/// Posts a command with an idempotency key, retrying (with the same key) on
/// a 5xx as a client would; returns the final status and body.
fn post(client: &Client, url: &str, key: &str, idempotency: &str, body: &Value) -> (u16, Value) {
    let mut last = (0, Value::Null);
    for _ in 0..5 {
        let response = client
            .post(url)
            .header("authorization", format!("Bearer {key}"))
            .header("idempotency-key", idempotency)
            .json(body)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().unwrap_or(Value::Null);
        last = (status, body);
        if status < 500 {
            break;
        }
    }
    last
}

fn get(client: &Client, host: &Host, key: &str, path: &str) -> Value {
    let response = client
        .get(host.url(path))
        .header("authorization", format!("Bearer {key}"))
        .send()
        .unwrap();
    assert!(
        response.status().is_success(),
        "GET {path}: {}",
        response.status()
    );
    response.json().unwrap()
}

fn feed(client: &Client, host: &Host, key: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = 0;
    loop {
        let page = get(
            client,
            host,
            key,
            &format!("/v1/events?after={after}&limit=1000"),
        );
        events.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    events
}

/// Two hosts (own engines, connections and HTTP servers) on a fresh schema
/// of the test database, the demo tenant loaded through the first.
struct TwoHosts {
    url: String,
    key: String,
    engines: [std::sync::Arc<premia::engine::Engine>; 2],
    /// Each host's rater directory (what it has in use).
    raters: [std::sync::Arc<premia::api::RaterDirectory>; 2],
    hosts: [Host; 2],
    _dirs: [tempfile::TempDir; 2],
}

/// [`TwoHosts`] on schema `<name>_...`, or `None` without a test database.
fn two_hosts(name: &str) -> Option<TwoHosts> {
    let url = url_with_schema(&test_database_url()?, &fresh_schema_name(name));
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let state_a = open_data_dir_with(dirs[0].path(), Some(&url)).unwrap();
    let files = DemoFiles {
        wasm_dir: premia_tests::PLUGINS_WASM_DIR.into(),
        plugins_dir: workspace().join("plugins"),
    };
    let key = load_demo(&state_a, &files).unwrap();
    // Hosts of one database share the key of the secret area.
    std::fs::copy(
        dirs[0]
            .path()
            .join(premia::config::secrets::SECRET_KEY_FILE),
        dirs[1]
            .path()
            .join(premia::config::secrets::SECRET_KEY_FILE),
    )
    .unwrap();
    let state_b = open_data_dir_with(dirs[1].path(), Some(&url)).unwrap();
    Some(TwoHosts {
        url,
        key,
        engines: [state_a.engine.clone(), state_b.engine.clone()],
        raters: [state_a.raters.clone(), state_b.raters.clone()],
        hosts: [Host::serve(state_a), Host::serve(state_b)],
        _dirs: dirs,
    })
}

const ACCOUNTS: usize = 3;
const CLIENTS: usize = 6;
const COMMANDS_PER_CLIENT: usize = 10;

#[test]
fn two_hosts_on_one_database_serialize_concurrent_payments_and_endorsements() {
    let Some(TwoHosts {
        url,
        key,
        engines,
        hosts,
        _dirs,
        ..
    }) = two_hosts("two_hosts")
    else {
        return;
    };
    let client = crate::support::http_client();

    // Accounts on one host, their policies on the other.
    for i in 0..ACCOUNTS {
        let account = format!("A-{i}");
        let (status, body) = post(
            &client,
            &hosts[i % 2].url("/v1/accounts"),
            &key,
            &format!("acct-{i}"),
            &json!({"locator": account, "name": "Shared", "currency": "USD"}),
        );
        assert_eq!(status, 201, "{body}");
        let (status, body) = post(
            &client,
            &hosts[(i + 1) % 2].url("/v1/policies"),
            &key,
            &format!("bind-{i}"),
            &policy(&format!("P-{i}"), &account),
        );
        assert_eq!(status, 201, "{body}");
    }

    // Clients spread across both hosts: every client alternates hosts, and
    // payments and endorsements land on the same few accounts and policies.
    let acknowledged: Vec<(String, String, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (hosts, key, client) = (&hosts, &key, &client);
                scope.spawn(move || {
                    let mut acked = Vec::new();
                    for n in 0..COMMANDS_PER_CLIENT {
                        let host = &hosts[(c + n) % 2];
                        let target = (c + n) % ACCOUNTS;
                        let (kind, idempotency, url, body) = if n % 2 == 0 {
                            (
                                "payment",
                                format!("pay-{c}-{n}"),
                                host.url("/v1/payments"),
                                json!({"account": format!("A-{target}"), "amount": format!("{}.{:02}", c + 1, n),
                                       "received_on": "2026-01-05"}),
                            )
                        } else {
                            let deductible = if (c + n) % 4 == 1 { 1000 } else { 250 };
                            (
                                "endorsement",
                                format!("end-{c}-{n}"),
                                host.url(&format!("/v1/policies/P-{target}/endorsements")),
                                json!({"effective": "2026-03-01", "changes": [{"op": "set_peril_fields",
                                       "exposure": "V1", "peril": "V1-COLL", "fields": {"deductible": [deductible]}}]}),
                            )
                        };
                        let (status, response) = post(client, &url, key, &idempotency, &body);
                        assert!(
                            (200..300).contains(&status),
                            "{kind} {idempotency}: {status} {response}"
                        );
                        acked.push((kind.to_string(), idempotency, target));
                    }
                    acked
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(acknowledged.len(), CLIENTS * COMMANDS_PER_CLIENT);
    eprintln!(
        "two hosts: {} commands decided again after the other host appended first",
        engines.iter().map(|e| e.commit_retries()).sum::<u64>()
    );

    // Both hosts return the same state.
    let trial = get(&client, &hosts[0], &key, "/v1/ledger/trial-balance");
    assert_eq!(
        trial,
        get(&client, &hosts[1], &key, "/v1/ledger/trial-balance")
    );
    for currency in trial.as_array().unwrap() {
        assert_eq!(
            currency["total_debits"], currency["total_credits"],
            "the trial balance is not zero: {currency}"
        );
    }
    for i in 0..ACCOUNTS {
        let path = format!("/v1/accounts/A-{i}/billing");
        assert_eq!(
            get(&client, &hosts[0], &key, &path),
            get(&client, &hosts[1], &key, &path)
        );
        let path = format!("/v1/policies/P-{i}");
        assert_eq!(
            get(&client, &hosts[0], &key, &path),
            get(&client, &hosts[1], &key, &path)
        );
    }

    // The feed: the same on both hosts, gap-free, every acknowledged command
    // in it exactly once (one contiguous run of events per key).
    let events = feed(&client, &hosts[0], &key);
    assert_eq!(events, feed(&client, &hosts[1], &key));
    let sequences: Vec<u64> = events
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(sequences, (1..=events.len() as u64).collect::<Vec<_>>());
    let mut by_key: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for event in &events {
        if let Some(key) = event["idempotency_key"].as_str() {
            by_key.entry(key.to_string()).or_default().push((
                event["sequence"].as_u64().unwrap(),
                event["kind"].as_str().unwrap().to_string(),
            ));
        }
    }
    let mut payments_per_account = [0usize; ACCOUNTS];
    for (kind, idempotency, target) in &acknowledged {
        let found = by_key
            .get(idempotency)
            .unwrap_or_else(|| panic!("acknowledged {idempotency} is not in the log"));
        let first = found[0].0;
        let contiguous: Vec<u64> = (first..first + found.len() as u64).collect();
        assert_eq!(
            found.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            contiguous,
            "{idempotency} was applied more than once"
        );
        let primary = if kind == "payment" {
            payments_per_account[*target] += 1;
            "payment_received"
        } else {
            "transaction_issued"
        };
        assert_eq!(
            found.iter().filter(|(_, k)| k == primary).count(),
            1,
            "{idempotency}: {found:?}"
        );
    }
    for (i, expected) in payments_per_account.iter().enumerate() {
        let billing = get(
            &client,
            &hosts[i % 2],
            &key,
            &format!("/v1/accounts/A-{i}/billing"),
        );
        assert_eq!(
            billing["payments"].as_array().unwrap().len(),
            *expected,
            "payments of A-{i}"
        );
    }

    // A retry on the other host is answered from the log, writing nothing.
    let (_, idempotency, target) = acknowledged
        .iter()
        .find(|(kind, _, _)| kind == "payment")
        .unwrap();
    let c: usize = idempotency[4..].split('-').next().unwrap().parse().unwrap();
    let n: usize = idempotency.rsplit('-').next().unwrap().parse().unwrap();
    for host in &hosts {
        let (status, _) = post(
            &client,
            &host.url("/v1/payments"),
            &key,
            idempotency,
            &json!({"account": format!("A-{target}"), "amount": format!("{}.{:02}", c + 1, n),
                    "received_on": "2026-01-05"}),
        );
        assert!((200..300).contains(&status));
    }
    assert_eq!(feed(&client, &hosts[1], &key).len(), events.len());

    // The ledger projection, kept in the same transactions, equals the
    // ledger's trial balance account by account.
    let store = PgStore::open(&url).unwrap();
    let mut projected: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for balance in store.ledger_balances("demo").unwrap() {
        assert_eq!(balance.currency, "USD");
        let row = projected.entry(balance.account).or_default();
        row.0 += Decimal::from_str(&balance.debits).unwrap();
        row.1 += Decimal::from_str(&balance.credits).unwrap();
    }
    let rows = trial[0]["rows"].as_array().unwrap();
    let accounts: BTreeSet<String> = rows
        .iter()
        .map(|r| r["account"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(accounts, projected.keys().cloned().collect());
    for row in rows {
        let (debits, credits) = projected[row["account"].as_str().unwrap()];
        assert_eq!(
            (debits, credits),
            (
                Decimal::from_str(row["debits"].as_str().unwrap()).unwrap(),
                Decimal::from_str(row["credits"].as_str().unwrap()).unwrap()
            ),
            "{row}"
        );
    }
    let total: Decimal = projected.values().map(|(d, c)| d - c).sum();
    assert_eq!(total, Decimal::ZERO);
}

#[test]
fn a_plugin_uploaded_activated_and_scheduled_and_a_rater_registered_through_one_host_take_effect_on_the_other_at_its_next_catch_up()
 {
    use crate::api_server::{auto_policy, deploy_auto_variant, upload_auto_rater};
    let Some(TwoHosts {
        key,
        hosts,
        raters,
        _dirs,
        ..
    }) = two_hosts("two_hosts_config")
    else {
        return;
    };
    let auth = format!("Bearer {key}");
    let client = crate::support::http_client();

    // Through host A: version 1 (urban 1.25), a product naming the plugin
    // without a version, an account.
    upload_auto_rater(&hosts[0], &auth, "rater-y", "1", "1.25");
    deploy_auto_variant(
        &hosts[0],
        &auth,
        "auto-y",
        json!({"kind": "plugin", "plugin": "rater-y"}),
    );
    let (status, body) = post(
        &client,
        &hosts[0].url("/v1/accounts"),
        &key,
        "acct-y",
        &json!({"locator": "A-Y", "name": "Ada", "currency": "USD"}),
    );
    assert_eq!(status, 201, "{body}");
    let premium_on = |host: &Host, product: &str| -> String {
        let mut policy = auto_policy("P-Y");
        policy["product"] = json!(product);
        policy["account"] = json!("A-Y");
        let response = client
            .post(host.url("/v1/quotes"))
            .header("authorization", &auth)
            .json(&policy)
            .send()
            .unwrap();
        let status = response.status();
        let quote: Value = response.json().unwrap();
        assert!(status.is_success(), "{status} {quote}");
        let total: Decimal = quote["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["charge"] == "premium")
            .map(|l| Decimal::from_str(l["amount"].as_str().unwrap()).unwrap())
            .sum();
        total.to_string()
    };
    assert_eq!(premium_on(&hosts[0], "auto-y"), "1462.50");
    // Host B's next read catches up with the log: the plugin is in use
    // there at once, with no restart and no polling.
    assert_eq!(premium_on(&hosts[1], "auto-y"), "1462.50");

    // Version 2 (urban 2.50) uploaded and activated through A: B follows.
    upload_auto_rater(&hosts[0], &auth, "rater-y", "2", "2.50");
    let activated = client
        .post(hosts[0].url("/v1/plugins/rater-y/2/activation"))
        .header("authorization", &auth)
        .send()
        .unwrap();
    assert!(activated.status().is_success());
    assert_eq!(premium_on(&hosts[0], "auto-y"), "2925.00");
    assert_eq!(premium_on(&hosts[1], "auto-y"), "2925.00");
    assert_eq!(
        crate::api_server::active_versions(&hosts[1], &auth, "rater-y"),
        ["2"]
    );

    // Version 1 scheduled back from a later day through B: A shows it.
    let scheduled = client
        .post(hosts[1].url("/v1/plugins/rater-y/1/schedule"))
        .header("authorization", &auth)
        .json(&json!({"from": "2099-01-01"}))
        .send()
        .unwrap();
    assert_eq!(scheduled.status(), 201);
    let detail = get(&client, &hosts[0], &key, "/v1/plugins/rater-y");
    let activations = detail["activations"].as_array().unwrap();
    assert_eq!(activations.last().unwrap()["from"], "2099-01-01");
    assert_eq!(activations.last().unwrap()["scheduled"], true);
    assert_eq!(detail["active_version"], "2", "until 2099");
    assert_eq!(premium_on(&hosts[0], "auto-y"), "2925.00");
    // On A, the schedule is in effect from its day: version 1 then.
    let day = |d: &str| d.parse::<chrono::NaiveDate>().unwrap();
    assert_eq!(
        raters[0]
            .active
            .active_on("demo/rater-y", day("2098-12-31"))
            .as_deref(),
        Some("2")
    );
    assert_eq!(
        raters[0]
            .active
            .active_on("demo/rater-y", day("2099-01-01"))
            .as_deref(),
        Some("1")
    );

    // An external rater registered through B prices on A.
    let (rater, _calls) = crate::api_server::socotra_rater();
    let (status, body) = post(
        &client,
        &hosts[1].url("/v1/external-raters"),
        &key,
        "rater-legacy",
        &json!({"name": "legacy", "url": format!("http://{rater}/rate"), "timeout_ms": 2000,
                "headers": [{"name": "Authorization", "value": "Basic c2VjcmV0LXRva2Vu"}]}),
    );
    assert_eq!(status, 201, "{body}");
    let product = json!({
        "name": "legacy-auto", "currency": "USD",
        "charges": {"premium": {"category": "premium"}},
        "rating": {"kind": "external", "rater": "legacy"},
        "plans": {"annual": {"cadence": "full-pay"}}, "default_plan": "annual"
    });
    let (status, body) = post(
        &client,
        &hosts[1].url("/v1/products"),
        &key,
        "legacy-auto",
        &product,
    );
    assert_eq!(status, 201, "{body}");
    let quote = client
        .post(hosts[0].url("/v1/quotes"))
        .header("authorization", &auth)
        .json(&json!({"locator": "P-9", "account": "A-Y", "product": "legacy-auto", "start": "2026-01-01",
                      "time_zone": "UTC", "data": {"exposures": {"V1": {"name": "vehicle",
                      "perils": {"V1-COLL": {"name": "collision", "fields": {"yearly_premium": ["1200.00"]}}}}}}}))
        .send()
        .unwrap();
    assert_eq!(quote.status(), 200);
    assert_eq!(quote.json::<Value>().unwrap()["total"], "1200.00");
    // Both hosts show the same configuration history.
    assert_eq!(
        get(&client, &hosts[0], &key, "/v1/external-raters/legacy"),
        get(&client, &hosts[1], &key, "/v1/external-raters/legacy")
    );
}

/// Sends `method path` with `key` to `host`; returns the status and body.
fn call(
    client: &Client,
    host: &Host,
    method: &str,
    key: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client
        .request(method, host.url(path))
        .header("authorization", format!("Bearer {key}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

#[test]
fn a_key_revoked_through_one_host_is_refused_401_by_the_other_at_its_next_request() {
    let Some(TwoHosts {
        key, hosts, _dirs, ..
    }) = two_hosts("key_revocation")
    else {
        return;
    };
    let client = crate::support::http_client();
    let (status, created) = call(
        &client,
        &hosts[0],
        "POST",
        &key,
        "/v1/api-keys",
        Some(json!({"role": "billing", "label": "ops"})),
    );
    assert_eq!(status, 201, "{created}");
    let secret = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    // Issued on host A, it opens host B (which learns its hash from the store).
    assert_eq!(
        call(&client, &hosts[1], "GET", &secret, "/v1/clock", None).0,
        200
    );
    let (_, listed) = call(&client, &hosts[1], "GET", &key, "/v1/api-keys", None);
    assert_eq!(listed[1]["id"], id.as_str());
    assert_eq!(listed[1]["revoked"], false);

    let (status, revoked) = call(
        &client,
        &hosts[0],
        "DELETE",
        &key,
        &format!("/v1/api-keys/{id}"),
        None,
    );
    assert_eq!(status, 200, "{revoked}");
    // Host B catches up with the log before it authenticates: refused at once.
    for host in &hosts {
        let (status, problem) = call(&client, host, "GET", &secret, "/v1/clock", None);
        assert_eq!(status, 401, "{problem}");
    }
    let (_, listed) = call(&client, &hosts[1], "GET", &key, "/v1/api-keys", None);
    assert_eq!(listed[1]["revoked"], true);
    assert_eq!(listed[1]["revoked_by"], "admin:demo admin");
    // Revoking it again through host B: 409, nothing appended.
    let (status, problem) = call(
        &client,
        &hosts[1],
        "DELETE",
        &key,
        &format!("/v1/api-keys/{id}"),
        None,
    );
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("api_key_revoked"))
    );
    let kinds: Vec<String> = feed(&client, &hosts[1], &key)
        .iter()
        .filter(|e| e["stream"] == format!("api-key/{id}"))
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["api_key_created", "api_key_revoked"]);

    // A rotation through B: the new secret opens A, the old one still does
    // during its grace, and not after a rotation without grace through A.
    let (_, other) = call(
        &client,
        &hosts[1],
        "POST",
        &key,
        "/v1/api-keys",
        Some(json!({"role": "read_only", "label": "audit"})),
    );
    let (old, other_id) = (
        other["key"].as_str().unwrap().to_string(),
        other["id"].as_str().unwrap().to_string(),
    );
    let (status, rotated) = call(
        &client,
        &hosts[1],
        "POST",
        &key,
        &format!("/v1/api-keys/{other_id}/rotation"),
        None,
    );
    assert_eq!(status, 201, "{rotated}");
    let new = rotated["key"].as_str().unwrap().to_string();
    assert_eq!(
        call(&client, &hosts[0], "GET", &new, "/v1/clock", None).0,
        200
    );
    assert_eq!(
        call(&client, &hosts[0], "GET", &old, "/v1/clock", None).0,
        200
    );
    let (status, _) = call(
        &client,
        &hosts[0],
        "POST",
        &key,
        &format!("/v1/api-keys/{other_id}/rotation"),
        Some(json!({"grace_seconds": 0})),
    );
    assert_eq!(status, 201);
    for secret in [&old, &new] {
        assert_eq!(
            call(&client, &hosts[1], "GET", secret, "/v1/clock", None).0,
            401
        );
    }
}

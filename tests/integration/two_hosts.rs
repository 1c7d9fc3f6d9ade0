//! Two Premia hosts on one PostgreSQL database: clients spread across both
//! send concurrent payments and endorsements on shared accounts and
//! policies. Afterwards the trial balance is zero, every acknowledged command
//! is in the log exactly once, the feed is gap-free, both hosts return the
//! same state, and the ledger projection in the database equals the ledger.
//! Needs `PREMIA_TEST_POSTGRES_URL` (see `premia::store::test_database_url`).

use crate::harness::{ApiClient, Server, feed};
use crate::support::workspace;
use premia::boot::{DemoFiles, load_demo, open_data_dir_with};
use premia::store::{PgStore, fresh_schema_name, test_database_url, url_with_schema};
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
fn post(admin: &ApiClient, path: &str, idempotency: &str, body: &Value) -> (u16, Value) {
    let mut last = (0, Value::Null);
    for _ in 0..5 {
        let (status, body) = admin.post_with_idempotency(path, idempotency, body);
        let status = status.as_u16();
        last = (status, body);
        if status < 500 {
            break;
        }
    }
    last
}

/// Two hosts (own engines, connections and HTTP servers) on a fresh schema
/// of the test database, the demo tenant loaded through the first.
struct TwoHosts {
    url: String,
    key: String,
    engines: [std::sync::Arc<premia::engine::Engine>; 2],
    /// Each host's rater directory (what it has in use).
    raters: [std::sync::Arc<premia::api::RaterDirectory>; 2],
    /// A client of each host as the demo's admin.
    admins: [ApiClient; 2],
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
    let engines = [state_a.engine.clone(), state_b.engine.clone()];
    let raters = [state_a.raters.clone(), state_b.raters.clone()];
    let hosts = [Host::serve(state_a), Host::serve(state_b)];
    Some(TwoHosts {
        url,
        admins: [hosts[0].client(&key), hosts[1].client(&key)],
        key,
        engines,
        raters,
        hosts,
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
        engines,
        admins,
        hosts: _hosts,
        _dirs,
        ..
    }) = two_hosts("two_hosts")
    else {
        return;
    };

    // Accounts on one host, their policies on the other.
    for i in 0..ACCOUNTS {
        let account = format!("A-{i}");
        let (status, body) = post(
            &admins[i % 2],
            "/v1/accounts",
            &format!("acct-{i}"),
            &json!({"locator": account, "name": "Shared", "currency": "USD"}),
        );
        assert_eq!(status, 201, "{body}");
        let (status, body) = post(
            &admins[(i + 1) % 2],
            "/v1/policies",
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
                let admins = &admins;
                scope.spawn(move || {
                    let mut acked = Vec::new();
                    for n in 0..COMMANDS_PER_CLIENT {
                        let admin = &admins[(c + n) % 2];
                        let target = (c + n) % ACCOUNTS;
                        let (kind, idempotency, path, body) = if n % 2 == 0 {
                            (
                                "payment",
                                format!("pay-{c}-{n}"),
                                "/v1/payments".to_string(),
                                json!({"account": format!("A-{target}"), "amount": format!("{}.{:02}", c + 1, n),
                                       "received_on": "2026-01-05"}),
                            )
                        } else {
                            let deductible = if (c + n) % 4 == 1 { 1000 } else { 250 };
                            (
                                "endorsement",
                                format!("end-{c}-{n}"),
                                format!("/v1/policies/P-{target}/endorsements"),
                                json!({"effective": "2026-03-01", "changes": [{"op": "set_peril_fields",
                                       "exposure": "V1", "peril": "V1-COLL", "fields": {"deductible": [deductible]}}]}),
                            )
                        };
                        let (status, response) = post(admin, &path, &idempotency, &body);
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
    let trial = admins[0].get_ok("/v1/ledger/trial-balance");
    assert_eq!(trial, admins[1].get_ok("/v1/ledger/trial-balance"));
    for currency in trial.as_array().unwrap() {
        assert_eq!(
            currency["total_debits"], currency["total_credits"],
            "the trial balance is not zero: {currency}"
        );
    }
    for i in 0..ACCOUNTS {
        let path = format!("/v1/accounts/A-{i}/billing");
        assert_eq!(admins[0].get_ok(&path), admins[1].get_ok(&path));
        let path = format!("/v1/policies/P-{i}");
        assert_eq!(admins[0].get_ok(&path), admins[1].get_ok(&path));
    }

    // The feed: the same on both hosts, gap-free, every acknowledged command
    // in it exactly once (one contiguous run of events per key).
    let events = feed(&admins[0]);
    assert_eq!(events, feed(&admins[1]));
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
        let billing = admins[i % 2].get_ok(&format!("/v1/accounts/A-{i}/billing"));
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
    for host in &admins {
        let (status, _) = post(
            host,
            "/v1/payments",
            idempotency,
            &json!({"account": format!("A-{target}"), "amount": format!("{}.{:02}", c + 1, n),
                    "received_on": "2026-01-05"}),
        );
        assert!((200..300).contains(&status));
    }
    assert_eq!(feed(&admins[1]).len(), events.len());

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
    use crate::harness::{auto_policy, quoted_premium, socotra_rater};
    let Some(TwoHosts {
        admins,
        raters,
        hosts: _hosts,
        _dirs,
        ..
    }) = two_hosts("two_hosts_config")
    else {
        return;
    };

    // Through host A: version 1 (urban 1.25), a product naming the plugin
    // without a version, an account.
    admins[0].upload_auto_rater("rater-y", "1", "1.25");
    admins[0].deploy_auto_variant("auto-y", json!({"kind": "plugin", "plugin": "rater-y"}));
    let (status, body) = post(
        &admins[0],
        "/v1/accounts",
        "acct-y",
        &json!({"locator": "A-Y", "name": "Ada", "currency": "USD"}),
    );
    assert_eq!(status, 201, "{body}");
    let premium_on = |host: &ApiClient, product: &str| -> String {
        let mut policy = auto_policy("P-Y");
        policy["product"] = json!(product);
        policy["account"] = json!("A-Y");
        let (status, quote) = host.post("/v1/quotes", &policy);
        assert!(status.is_success(), "{status} {quote}");
        quoted_premium(&quote)
    };
    assert_eq!(premium_on(&admins[0], "auto-y"), "1462.50");
    // Host B's next read catches up with the log: the plugin is in use
    // there at once, with no restart and no polling.
    assert_eq!(premium_on(&admins[1], "auto-y"), "1462.50");

    // Version 2 (urban 2.50) uploaded and activated through A: B follows.
    admins[0].upload_auto_rater("rater-y", "2", "2.50");
    let (status, _) = admins[0].post_empty("/v1/plugins/rater-y/2/activation");
    assert!(status.is_success());
    assert_eq!(premium_on(&admins[0], "auto-y"), "2925.00");
    assert_eq!(premium_on(&admins[1], "auto-y"), "2925.00");
    assert_eq!(admins[1].active_versions("rater-y"), ["2"]);

    // Version 1 scheduled back from a later day through B: A shows it.
    let (status, _) = admins[1].post(
        "/v1/plugins/rater-y/1/schedule",
        &json!({"from": "2099-01-01"}),
    );
    assert_eq!(status, 201);
    let detail = admins[0].get_ok("/v1/plugins/rater-y");
    let activations = detail["activations"].as_array().unwrap();
    assert_eq!(activations.last().unwrap()["from"], "2099-01-01");
    assert_eq!(activations.last().unwrap()["scheduled"], true);
    assert_eq!(detail["active_version"], "2", "until 2099");
    assert_eq!(premium_on(&admins[0], "auto-y"), "2925.00");
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
    let (rater, _calls) = socotra_rater();
    let (status, body) = post(
        &admins[1],
        "/v1/external-raters",
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
    let (status, body) = post(&admins[1], "/v1/products", "legacy-auto", &product);
    assert_eq!(status, 201, "{body}");
    let (status, quote) = admins[0].post(
        "/v1/quotes",
        &json!({"locator": "P-9", "account": "A-Y", "product": "legacy-auto", "start": "2026-01-01",
                "time_zone": "UTC", "data": {"exposures": {"V1": {"name": "vehicle",
                "perils": {"V1-COLL": {"name": "collision", "fields": {"yearly_premium": ["1200.00"]}}}}}}}),
    );
    assert_eq!(status, 200);
    assert_eq!(quote["total"], "1200.00");
    // Both hosts show the same configuration history.
    assert_eq!(
        admins[0].get_ok("/v1/external-raters/legacy"),
        admins[1].get_ok("/v1/external-raters/legacy")
    );
}

/// Sends `method path` with `key` to the host of `admin`; returns the
/// status and body.
fn call(
    admin: &ApiClient,
    method: &str,
    key: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let client = admin.with_key(key);
    let mut request = client.request(method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let (status, body) = client.send(request);
    (status.as_u16(), body)
}

#[test]
fn a_key_revoked_through_one_host_is_refused_401_by_the_other_at_its_next_request() {
    let Some(TwoHosts {
        key,
        admins,
        hosts: _hosts,
        _dirs,
        ..
    }) = two_hosts("key_revocation")
    else {
        return;
    };
    let (status, created) = call(
        &admins[0],
        "POST",
        &key,
        "/v1/api-keys",
        Some(json!({"role": "billing", "label": "ops"})),
    );
    assert_eq!(status, 201, "{created}");
    let secret = created["key"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    // Issued on host A, it opens host B (which learns its hash from the store).
    assert_eq!(call(&admins[1], "GET", &secret, "/v1/clock", None).0, 200);
    let (_, listed) = call(&admins[1], "GET", &key, "/v1/api-keys", None);
    assert_eq!(listed[1]["id"], id.as_str());
    assert_eq!(listed[1]["revoked"], false);

    let (status, revoked) = call(
        &admins[0],
        "DELETE",
        &key,
        &format!("/v1/api-keys/{id}"),
        None,
    );
    assert_eq!(status, 200, "{revoked}");
    // Host B catches up with the log before it authenticates: refused at once.
    for host in &admins {
        let (status, problem) = call(host, "GET", &secret, "/v1/clock", None);
        assert_eq!(status, 401, "{problem}");
    }
    let (_, listed) = call(&admins[1], "GET", &key, "/v1/api-keys", None);
    assert_eq!(listed[1]["revoked"], true);
    assert_eq!(listed[1]["revoked_by"], "admin:demo admin");
    // Revoking it again through host B: 409, nothing appended.
    let (status, problem) = call(
        &admins[1],
        "DELETE",
        &key,
        &format!("/v1/api-keys/{id}"),
        None,
    );
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("api_key_revoked"))
    );
    let kinds: Vec<String> = feed(&admins[1])
        .iter()
        .filter(|e| e["stream"] == format!("api-key/{id}"))
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["api_key_created", "api_key_revoked"]);

    // A rotation through B: the new secret opens A, the old one still does
    // during its grace, and not after a rotation without grace through A.
    let (_, other) = call(
        &admins[1],
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
        &admins[1],
        "POST",
        &key,
        &format!("/v1/api-keys/{other_id}/rotation"),
        None,
    );
    assert_eq!(status, 201, "{rotated}");
    let new = rotated["key"].as_str().unwrap().to_string();
    assert_eq!(call(&admins[0], "GET", &new, "/v1/clock", None).0, 200);
    assert_eq!(call(&admins[0], "GET", &old, "/v1/clock", None).0, 200);
    let (status, _) = call(
        &admins[0],
        "POST",
        &key,
        &format!("/v1/api-keys/{other_id}/rotation"),
        Some(json!({"grace_seconds": 0})),
    );
    assert_eq!(status, 201);
    for secret in [&old, &new] {
        assert_eq!(call(&admins[1], "GET", secret, "/v1/clock", None).0, 401);
    }
}

//! The crash loop (issue 7, item 1): a real `premia serve` process over a
//! sled data directory, concurrent clients sending policy and billing
//! commands with idempotency keys, and `kill -9` at a random moment of
//! every round; in half the rounds the restarting server is killed again
//! while it starts (opening the store, replaying the log, loading plugins)
//! before it is started for good. After each restart it checks what an
//! auditor would ask:
//!
//! - every acknowledged command is in the durable event feed, with exactly
//!   the journal entries its acknowledgement showed, once;
//! - every idempotency key is one contiguous run of events (no command was
//!   committed twice); retrying acknowledged keys answers `replayed` with the
//!   same effect; retrying unanswered keys either replays (committed before
//!   the kill) or commits once;
//! - a double click (the same key sent twice at once) commits once;
//! - every trial balance is zero, and each account's billed receivable in the
//!   ledger equals what its open invoices still owe;
//! - billing runs are idempotent across restarts;
//! - the projections the live server kept up to date event by event equal a
//!   replay of the event log (a quiescent snapshot, `kill -9`, restart, the
//!   same snapshot again).
//!
//! The same loop runs on PostgreSQL (2 rounds by default, with
//! `PREMIA_TEST_POSTGRES_URL`).
//!
//! Rounds: `PREMIA_CRASH_ROUNDS` (default 5); seed: `PREMIA_CRASH_SEED`
//! (printed). The server is the `premia` binary at `PREMIA_BIN` when set
//! (`scripts/crash-loop.sh` builds it), otherwise this test binary re-run as
//! `premia serve` through the same `premia::cli::run` the binary calls.

use crate::harness::{ApiClient, feed};
use crate::support::workspace;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SERVE_ENV: &str = "PREMIA_CRASH_SERVE";
const CLIENTS: usize = 4;

/// Not a test of its own: the server process of the crash loop when this
/// binary is re-run with `PREMIA_CRASH_SERVE` set (a JSON list of the
/// `premia` arguments); otherwise it does nothing.
#[test]
fn server_process() {
    let Ok(args) = std::env::var(SERVE_ENV) else {
        return;
    };
    let args: Vec<String> = serde_json::from_str(&args).unwrap();
    let cli = <premia::cli::Cli as clap::Parser>::try_parse_from(
        std::iter::once("premia".to_string()).chain(args),
    )
    .unwrap();
    premia::cli::run(cli, &mut std::io::stdout()).unwrap();
}

/// A small deterministic generator (splitmix64): the seed replays a run's
/// choices (not the scheduler's).
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len() as u64) as usize])
    }
}

/// A running server process.
struct Server {
    child: Child,
    address: SocketAddr,
}

impl Server {
    /// Starts `premia serve` over `data` on a free port; with `demo`, loads
    /// the demo tenant and returns its key.
    fn start(data: &Path, demo: bool) -> (Server, Option<String>) {
        let (mut command, address) = Server::command(data, demo);
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting premia serve");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut key = None;
        let mut previous = String::new();
        loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("premia serve exited: {:?}", child.wait()))
                .unwrap();
            if previous.contains("admin API key") && !line.trim().is_empty() {
                key = Some(line.trim().to_string());
            }
            if line.contains("premia listening on") {
                break;
            }
            if !line.trim().is_empty() {
                previous = line;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        (Server { child, address }, key)
    }

    /// Starts `premia serve` over `data` and `kill -9`s it after `after`:
    /// a kill while it opens the store, replays the log and loads the
    /// plugins. Returns whether it was still starting (not yet listening)
    /// when killed.
    fn start_and_kill_during_startup(data: &Path, after: Duration) -> bool {
        let mut child = Server::command(data, false)
            .0
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting premia serve");
        let listening = Arc::new(AtomicBool::new(false));
        let stdout = child.stdout.take().unwrap();
        let seen = Arc::clone(&listening);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("premia listening on") {
                    seen.store(true, Ordering::SeqCst);
                }
            }
        });
        std::thread::sleep(after);
        let was_listening = listening.load(Ordering::SeqCst);
        let _ = child.kill();
        let _ = child.wait();
        let _ = reader.join();
        !was_listening
    }

    /// `premia serve` over `data` on a free port, and that port.
    fn command(data: &Path, demo: bool) -> (Command, SocketAddr) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut args: Vec<String> = vec![
            "serve".into(),
            "--data".into(),
            data.display().to_string(),
            "--listen".into(),
            address.to_string(),
            "--demo-wasm-dir".into(),
            premia_tests::PLUGINS_WASM_DIR.into(),
            "--demo-plugins-dir".into(),
            workspace().join("plugins").display().to_string(),
        ];
        if let Some(store) = STORE.with(|store| store.borrow().clone()) {
            args.push("--store".into());
            args.push(store);
        }
        if demo {
            // A test tenant: billing runs past the wall clock move its
            // clock first.
            args.push("--demo".into());
            args.push("--demo-test".into());
        }
        let command = match std::env::var("PREMIA_BIN") {
            Ok(bin) if !bin.is_empty() => {
                let mut command = Command::new(bin);
                command.args(&args);
                command
            }
            _ => {
                let mut command = Command::new(std::env::current_exe().unwrap());
                command
                    .args([
                        "--exact",
                        "crash_loop::server_process",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env(SERVE_ENV, serde_json::to_string(&args).unwrap());
                command
            }
        };
        (command, address)
    }

    /// A client of this server with API key `key`.
    fn client(&self, key: &str) -> ApiClient {
        ApiClient::new(format!("http://{}", self.address), key)
    }

    /// `kill -9`.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A keyed command sent, and its answer if one came back.
#[derive(Debug, Clone)]
struct Sent {
    key: String,
    path: String,
    body: Value,
}

#[derive(Debug, Clone)]
struct Ack {
    sent: Sent,
    effect: Value,
}

/// What the clients know: acknowledged resources to act on, and every
/// acknowledged or unanswered command.
#[derive(Default)]
struct World {
    accounts: Vec<String>,
    policies: Vec<String>,
    /// Live endorsements: (policy, transaction).
    endorsements: Vec<(String, String)>,
    /// Payments not reversed: (account, payment).
    payments: Vec<(String, String)>,
    /// Drafted disbursements: (account, disbursement).
    drafts: Vec<(String, String)>,
    acks: Vec<Ack>,
    unanswered: Vec<Sent>,
    billing_dates: BTreeSet<String>,
    refused: u64,
    /// Refusals by endpoint and problem code, to see that each is a
    /// business answer (an invoice already paid, credit already used...).
    refusals: BTreeMap<String, u64>,
    double_clicks: u64,
}

struct Ctx {
    api: ApiClient,
    start: chrono::NaiveDate,
    today: chrono::NaiveDate,
    stop: AtomicBool,
    counter: AtomicU64,
}

impl Ctx {
    fn get(&self, path: &str) -> Value {
        let (status, body) = self
            .api
            .try_send(self.api.request(Method::GET, path))
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(status.is_success(), "GET {path}");
        body
    }

    fn post(&self, sent: &Sent) -> Result<(StatusCode, Value), reqwest::Error> {
        let response = self
            .api
            .request(Method::POST, &sent.path)
            .header("idempotency-key", &sent.key)
            .json(&sent.body)
            .send()?;
        let status = response.status();
        // Configuration commands answer the resource they changed, and say
        // a replay in a header: shown here as commands say it.
        let replayed = response
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true");
        let mut body = response.json().unwrap_or(Value::Null);
        if replayed && let Some(fields) = body.as_object_mut() {
            fields.entry("replayed").or_insert(Value::Bool(true));
        }
        Ok((status, body))
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }
}

fn auto_policy(locator: &str, account: &str, start: chrono::NaiveDate) -> Value {
    json!({
        "locator": locator, "account": account, "product": "auto", "start": start.to_string(),
        "time_zone": "America/New_York", "plan": "monthly",
        "data": {"fields": {"territory": ["urban"], "producer": ["agency-7"]},
                 "exposures": {"V1": {"name": "vehicle", "fields": {"vehicle_class": ["sedan"], "driver_age": [30]},
                                      "perils": {"V1-BI": {"name": "bodily_injury"},
                                                 "V1-COLL": {"name": "collision", "fields": {"deductible": [500]}}}}}}
    })
}

/// The collections events of an effect of a given type.
fn events_of<'a>(effect: &'a Value, kind: &str) -> Vec<&'a Value> {
    effect["other_events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter_map(|e| e.get("collections"))
                .filter(|e| e["type"] == kind)
                .collect()
        })
        .unwrap_or_default()
}

fn money(value: &Value) -> rust_decimal::Decimal {
    let text = value
        .as_str()
        .or_else(|| value["amount"].as_str())
        .unwrap_or("0");
    text.parse().unwrap()
}

/// One client: random commands until told to stop or the server is gone.
fn client_loop(ctx: &Ctx, world: &Mutex<World>, round: usize, thread: usize, mut rng: Rng) {
    while !ctx.stop.load(Ordering::Relaxed) {
        let n = ctx.next();
        let key = format!("r{round}-t{thread}-{n}");
        let op = rng.below(100);
        let (accounts, policies, endorsements, payments, drafts) = {
            let w = world.lock().unwrap();
            (
                w.accounts.clone(),
                w.policies.clone(),
                w.endorsements.clone(),
                w.payments.clone(),
                w.drafts.clone(),
            )
        };
        let today = ctx.today.to_string();
        let sent = if accounts.is_empty() || op < 8 {
            Sent {
                key,
                path: "/v1/accounts".into(),
                body: json!({"locator": format!("A{n}"), "name": "Crash Test", "currency": "USD"}),
            }
        } else if policies.len() < 2 || op < 22 {
            let account = rng.pick(&accounts).unwrap();
            Sent {
                key,
                path: "/v1/policies".into(),
                body: auto_policy(&format!("P{n}"), account, ctx.start),
            }
        } else if op < 36 {
            let policy = rng.pick(&policies).unwrap();
            let effective = ctx.start + chrono::Duration::days(1 + rng.below(300) as i64);
            let territory = if rng.chance(50) { "rural" } else { "urban" };
            Sent {
                key,
                path: format!("/v1/policies/{policy}/endorsements"),
                body: json!({"effective": effective.to_string(),
                             "changes": [{"op": "set_policy_fields", "fields": {"territory": [territory]}}]}),
            }
        } else if op < 42 && !endorsements.is_empty() {
            let (policy, transaction) = rng.pick(&endorsements).unwrap();
            Sent {
                key,
                path: format!("/v1/policies/{policy}/reversals"),
                body: json!({"transaction": transaction}),
            }
        } else if op < 62 {
            let account = rng.pick(&accounts).unwrap();
            let cents = 100 + rng.below(40_000);
            Sent {
                key,
                path: "/v1/payments".into(),
                body: json!({"account": account, "amount": format!("{}.{:02}", cents / 100, cents % 100),
                             "received_on": today, "reference": format!("chk-{n}")}),
            }
        } else if op < 68 && !payments.is_empty() {
            let (account, payment) = rng.pick(&payments).unwrap();
            let mut body = json!({"account": account, "on": today, "reason": "returned cheque"});
            if rng.chance(50) {
                body["fee"] = json!("15.00");
            }
            Sent {
                key,
                path: format!("/v1/payments/{payment}/reversals"),
                body,
            }
        } else if op < 72 && !drafts.is_empty() {
            let (account, disbursement) = rng.pick(&drafts).unwrap();
            Sent {
                key,
                path: format!("/v1/disbursements/{disbursement}/approvals"),
                body: json!({"account": account, "on": today}),
            }
        } else if op < 80 {
            // Billing runs have no key: idempotent by date. The demo is a
            // test tenant: its clock moves to the date first (another client
            // may have moved it further: 409 clock_backwards), as a run may
            // not pass today.
            let up_to = ctx.start + chrono::Duration::days(rng.below(200) as i64);
            match ctx
                .api
                .request(Method::POST, "/v1/clock")
                .json(&json!({"today": up_to.to_string()}))
                .send()
            {
                Ok(r) if r.status().is_success() || r.status() == StatusCode::CONFLICT => {}
                Ok(r) => panic!("moving the clock refused: {}", r.status()),
                Err(_) => return,
            }
            let response = ctx
                .api
                .request(Method::POST, "/v1/billing/runs")
                .json(&json!({"up_to": up_to.to_string()}))
                .send();
            match response {
                Ok(r) if r.status().is_success() => {
                    world
                        .lock()
                        .unwrap()
                        .billing_dates
                        .insert(up_to.to_string());
                }
                Ok(r) => panic!("billing run refused: {}", r.status()),
                Err(_) => return,
            }
            continue;
        } else if op < 82 {
            // Configuration: a new revision of one of three external
            // raters (its header value a secret), as a command of the log.
            Sent {
                key,
                path: "/v1/external-raters".into(),
                body: json!({"name": format!("rater-{}", n % 3), "url": "http://127.0.0.1:9/rate",
                             "headers": [{"name": "Authorization", "value": format!("Basic secret-{n}")}]}),
            }
        } else if op < 84 {
            // Configuration: the demo's rater version activated again.
            Sent {
                key,
                path: "/v1/plugins/auto-rater/1/activation".into(),
                body: Value::Null,
            }
        } else {
            // Write-offs and disbursements need the account's billing state.
            let account = rng.pick(&accounts).unwrap().clone();
            let Ok(response) = ctx
                .api
                .request(Method::GET, &format!("/v1/accounts/{account}/billing"))
                .send()
            else {
                return;
            };
            let billing: Value = response.json().unwrap_or(Value::Null);
            let credit = money(&billing["credit"]);
            let open: Vec<(String, rust_decimal::Decimal)> = billing["invoices"]
                .as_array()
                .map(|invoices| {
                    invoices
                        .iter()
                        .map(|i| {
                            (
                                i["invoice"]["locator"].as_str().unwrap_or("").to_string(),
                                money(&i["outstanding"]),
                            )
                        })
                        .filter(|(_, owed)| *owed > rust_decimal::Decimal::ZERO)
                        .collect()
                })
                .unwrap_or_default();
            if op < 89 {
                let Some((invoice, owed)) = rng.pick(&open).cloned() else {
                    continue;
                };
                let mut body = json!({"account": account, "invoice": invoice, "on": today, "reason": "small balance"});
                if rng.chance(70) {
                    body["amount"] =
                        json!(owed.min(rust_decimal::Decimal::new(750, 2)).to_string());
                }
                Sent {
                    key,
                    path: "/v1/write-offs".into(),
                    body,
                }
            } else {
                if credit <= rust_decimal::Decimal::ZERO {
                    continue;
                }
                let amount = credit.min(rust_decimal::Decimal::new(2000, 2));
                Sent {
                    key,
                    path: "/v1/disbursements".into(),
                    body: json!({"account": account, "amount": amount.to_string(), "on": today, "reason": "refund"}),
                }
            }
        };
        // A double click now and then: the same key twice at once.
        let double = rng.chance(5);
        let answers: Vec<Result<(StatusCode, Value), reqwest::Error>> = if double {
            std::thread::scope(|s| {
                let a = s.spawn(|| ctx.post(&sent));
                let b = s.spawn(|| ctx.post(&sent));
                vec![a.join().unwrap(), b.join().unwrap()]
            })
        } else {
            vec![ctx.post(&sent)]
        };
        let mut acked: Option<Value> = None;
        let mut statuses = Vec::new();
        let mut lost = false;
        let mut refusal = None;
        for answer in answers {
            match answer {
                Ok((status, effect)) if status.is_success() => {
                    statuses.push(status);
                    if let Some(first) = &acked {
                        assert_eq!(
                            first["journal_entries"], effect["journal_entries"],
                            "{sent:?}"
                        );
                    } else {
                        acked = Some(effect);
                    }
                }
                Ok((status, problem)) => {
                    assert!(
                        status.is_client_error(),
                        "{sent:?} answered {status} {problem}"
                    );
                    refusal = Some(format!(
                        "{} {}",
                        endpoint(&sent.path),
                        problem["code"].as_str().unwrap_or("?")
                    ));
                    statuses.push(status);
                }
                Err(_) => lost = true,
            }
        }
        let mut w = world.lock().unwrap();
        // (An activation answers 200 whether it committed or replayed.)
        if double && !lost && acked.is_some() && !sent.path.ends_with("/activation") {
            w.double_clicks += 1;
            let created = statuses
                .iter()
                .filter(|s| **s == StatusCode::CREATED)
                .count();
            assert_eq!(created, 1, "a double click commits once: {statuses:?}");
        }
        match acked {
            Some(effect) => {
                record_ack(&mut w, &sent, &effect);
                w.acks.push(Ack { sent, effect });
            }
            None if lost => {
                w.unanswered.push(sent);
                return;
            }
            None => {
                w.refused += 1;
                *w.refusals.entry(refusal.unwrap_or_default()).or_default() += 1;
            }
        }
    }
}

/// A path with its identifiers left out.
fn endpoint(path: &str) -> String {
    path.split('/')
        .enumerate()
        .map(|(i, part)| if i == 3 { "{id}" } else { part })
        .collect::<Vec<_>>()
        .join("/")
}

/// Remembers the resources an acknowledged command created or removed.
fn record_ack(w: &mut World, sent: &Sent, effect: &Value) {
    if sent.path == "/v1/accounts" {
        w.accounts
            .push(sent.body["locator"].as_str().unwrap().to_string());
    } else if sent.path == "/v1/policies" {
        w.policies
            .push(sent.body["locator"].as_str().unwrap().to_string());
    } else if sent.path.ends_with("/endorsements") {
        let policy = sent.path.split('/').nth(3).unwrap().to_string();
        if let Some(t) = effect["transactions"][0]["locator"].as_str() {
            w.endorsements.push((policy, t.to_string()));
        }
    } else if sent.path.ends_with("/reversals") && sent.path.starts_with("/v1/policies/") {
        let transaction = sent.body["transaction"].as_str().unwrap();
        w.endorsements.retain(|(_, t)| t != transaction);
    } else if sent.path == "/v1/payments" {
        for event in events_of(effect, "payment_received") {
            w.payments.push((
                event["payment"]["account"].as_str().unwrap().to_string(),
                event["payment"]["locator"].as_str().unwrap().to_string(),
            ));
        }
    } else if sent.path.starts_with("/v1/payments/") {
        let payment = sent.path.split('/').nth(3).unwrap();
        w.payments.retain(|(_, p)| p != payment);
    } else if sent.path == "/v1/disbursements" {
        for event in events_of(effect, "disbursement_drafted") {
            w.drafts.push((
                event["disbursement"]["account"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                event["disbursement"]["locator"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ));
        }
    } else if sent.path.starts_with("/v1/disbursements/") {
        let disbursement = sent.path.split('/').nth(3).unwrap();
        w.drafts.retain(|(_, d)| d != disbursement);
    }
}

/// The number of events an acknowledgement shows.
fn effect_events(sent: &Sent, effect: &Value) -> usize {
    // A configuration command answers its resource; it records one event.
    if sent.path == "/v1/external-raters" || sent.path.ends_with("/activation") {
        return 1;
    }
    let count = |field: &str| effect[field].as_array().map_or(0, Vec::len);
    // A transaction's charges travel inside its event; no flat charges are
    // added by hand here.
    count("products")
        + count("accounts")
        + count("transactions")
        + count("journal_entries")
        + count("other_events")
}

/// Checks the durable feed against what was acknowledged: every ack is
/// there once with its journal entries, and every key is one contiguous
/// run of events. Returns the feed's length.
fn check_feed(ctx: &Ctx, acks: &[Ack]) -> usize {
    let events = feed(&ctx.api);
    // The log has no holes: a torn write after a kill would leave one.
    for (i, event) in events.iter().enumerate() {
        assert_eq!(
            event["sequence"].as_u64(),
            Some(i as u64 + 1),
            "a gap in the log"
        );
    }
    // The ledger the server shows is the log's journal entries, in order.
    let logged_entries: Vec<&Value> = events
        .iter()
        .filter_map(|e| e["event"].get("journal"))
        .collect();
    let mut entries = Vec::new();
    let mut after = 0;
    loop {
        let page = ctx.get(&format!("/v1/ledger/entries?after={after}&limit=1000"));
        entries.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(
        entries.iter().collect::<Vec<_>>(),
        logged_entries,
        "the ledger differs from the log's journal entries"
    );
    let mut by_key: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for event in &events {
        if let Some(key) = event["idempotency_key"].as_str() {
            by_key.entry(key.to_string()).or_default().push(event);
        }
    }
    for (key, run) in &by_key {
        let first = run[0]["sequence"].as_u64().unwrap();
        let last = run[run.len() - 1]["sequence"].as_u64().unwrap();
        assert_eq!(
            last - first + 1,
            run.len() as u64,
            "key {key} committed more than once (or interleaved)"
        );
    }
    for ack in acks {
        let run = by_key
            .get(&ack.sent.key)
            .unwrap_or_else(|| panic!("acknowledged {:?} is not in the log", ack.sent));
        assert_eq!(
            run.len(),
            effect_events(&ack.sent, &ack.effect),
            "{:?}: events in the log differ from its acknowledgement",
            ack.sent
        );
        let logged: Vec<&Value> = run
            .iter()
            .filter_map(|e| e["event"].get("journal"))
            .collect();
        let acked: Vec<&Value> = ack.effect["journal_entries"]
            .as_array()
            .map(|entries| entries.iter().collect())
            .unwrap_or_default();
        assert_eq!(logged, acked, "{:?}: journal entries differ", ack.sent);
    }
    events.len()
}

/// Trial balance zero in every currency, and each account's billed
/// receivable equal to what its open invoices owe.
fn check_books(ctx: &Ctx, accounts: &[String]) {
    let trial = ctx.get("/v1/ledger/trial-balance");
    for currency in trial.as_array().unwrap() {
        assert_eq!(
            money(&currency["total_debits"]),
            money(&currency["total_credits"]),
            "trial balance not zero: {currency}"
        );
    }
    let balances = ctx.get("/v1/ledger/balances");
    for account in accounts {
        let billing = ctx.get(&format!("/v1/accounts/{account}/billing"));
        let owed: rust_decimal::Decimal = billing["invoices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| money(&i["outstanding"]))
            .sum();
        let receivable: rust_decimal::Decimal = balances
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| {
                b["account"]["account"] == "premium_receivable_billed"
                    && b["account"]["subledger"] == account.as_str()
            })
            .map(|b| money(&b["balance"]))
            .sum();
        assert_eq!(
            receivable, owed,
            "account {account}: receivable vs invoices"
        );
    }
}

/// Everything the API shows of the tenant's projections.
fn snapshot(ctx: &Ctx, accounts: &[String], policies: &[String]) -> Value {
    let mut entries = Vec::new();
    let mut after = 0;
    loop {
        let page = ctx.get(&format!("/v1/ledger/entries?after={after}&limit=1000"));
        entries.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    let accounts: BTreeMap<&String, Value> = accounts
        .iter()
        .map(|a| {
            (
                a,
                json!({"account": ctx.get(&format!("/v1/accounts/{a}")),
                       "billing": ctx.get(&format!("/v1/accounts/{a}/billing"))}),
            )
        })
        .collect();
    let policies: BTreeMap<&String, Value> = policies
        .iter()
        .map(|p| (p, ctx.get(&format!("/v1/policies/{p}"))))
        .collect();
    json!({
        "entries": entries,
        "balances": ctx.get("/v1/ledger/balances"),
        "trial_balance": ctx.get("/v1/ledger/trial-balance"),
        "accounts": accounts,
        "policies": policies,
        "external_raters": ctx.get("/v1/external-raters"),
        "auto_rater": ctx.get("/v1/plugins/auto-rater"),
        "products": ctx.get("/v1/products"),
    })
}

#[derive(Debug, Default)]
struct Figures {
    rounds: usize,
    kills: usize,
    /// Kills while a server was starting (store, replay, plugins).
    startup_kills: usize,
    acknowledged: usize,
    unanswered: usize,
    committed_unanswered: usize,
    retried_acknowledged: usize,
    refused: u64,
    double_clicks: u64,
    events: usize,
    refusals: BTreeMap<String, u64>,
    acknowledged_by_endpoint: BTreeMap<String, u64>,
}

fn context(server: &Server, key: &str, start: chrono::NaiveDate) -> Ctx {
    Ctx {
        api: server.client(key).with_http(
            crate::support::http_client_builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        ),
        start,
        today: chrono::Utc::now().date_naive(),
        stop: AtomicBool::new(false),
        counter: AtomicU64::new(0),
    }
}

/// An operator's first scrape of a host started with `premia serve`
/// already counts its start-up: the tenants it loaded and the demo's
/// commands, committed before anybody asked for `/metrics`.
#[test]
fn a_served_hosts_first_scrape_of_metrics_counts_what_it_did_since_it_started() {
    let data = tempfile::tempdir().unwrap();
    let (server, key) = Server::start(data.path(), true);
    let text = server
        .client(&key.expect("the demo's key"))
        .request(Method::GET, "/metrics")
        .send()
        .unwrap()
        .text()
        .unwrap();
    // The sum of a series' lines: `name{labels} value`, the labels in any
    // order.
    let value = |series: &str| -> f64 {
        let (name, label) = series.split_once('{').unwrap_or((series, ""));
        text.lines()
            .filter(|line| line.starts_with(name) && line.contains(label))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    assert!(value("premia_tenants_loaded ") >= 1.0, "{text}");
    assert!(
        value("premia_commands_total{outcome=\"committed\"") >= 1.0,
        "the demo's configuration commands: {text}"
    );
    assert!(value("premia_events_appended_total ") >= 1.0, "{text}");
}

#[test]
fn crash_loop_keeps_every_acknowledged_command_and_balanced_books() {
    crash_loop(5);
}

/// The same loop with the servers on PostgreSQL (a fresh schema of
/// `PREMIA_TEST_POSTGRES_URL`; skipped without it, required in CI): a
/// `kill -9` lands in the middle of the committer's batches, which commit
/// whole or not at all. Short: 2 rounds unless `PREMIA_CRASH_ROUNDS`.
#[test]
fn crash_loop_on_postgresql_keeps_every_acknowledged_command_and_balanced_books() {
    let Some(url) = premia::store::test_database_url() else {
        return;
    };
    let url = premia::store::url_with_schema(&url, &premia::store::fresh_schema_name("crash"));
    STORE.with(|store| *store.borrow_mut() = Some(url));
    crash_loop(2);
}

thread_local! {
    /// The `--store` of the servers this test thread starts (PostgreSQL), or
    /// `None` for sled in the data directory.
    static STORE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

fn crash_loop(default_rounds: usize) {
    let rounds: usize = std::env::var("PREMIA_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default_rounds);
    let seed: u64 = std::env::var("PREMIA_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    println!("crash loop: {rounds} rounds, PREMIA_CRASH_SEED={seed}");
    let began = Instant::now();
    let mut rng = Rng(seed);
    let data = tempfile::tempdir().unwrap();
    let (first, key) = Server::start(data.path(), true);
    let key = key.expect("the demo key");
    let mut server = Some(first);
    // Terms start in the future so that billing runs, not the clock, move
    // them through their installments.
    let start = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
    let world = Mutex::new(World::default());
    let mut figures = Figures::default();
    // How long the last restart took to listen: start-up kills land within it.
    let mut last_start_up = Duration::from_millis(200);
    let mut previous_snapshot: Option<Value> = None;
    let counter = Arc::new(AtomicU64::new(0));

    for round in 0..rounds {
        let ctx = context(server.as_ref().unwrap(), &key, start);
        ctx.counter
            .store(counter.load(Ordering::Relaxed), Ordering::Relaxed);
        // The projections rebuilt at start-up equal the ones the previous
        // server kept live.
        if let Some(before) = previous_snapshot.take() {
            let (accounts, policies) = {
                let w = world.lock().unwrap();
                (w.accounts.clone(), w.policies.clone())
            };
            let after = snapshot(&ctx, &accounts, &policies);
            assert_eq!(
                before, after,
                "round {round}: projections differ from a replay of the log"
            );
        }

        // Load, and kill -9 at a random moment.
        let kill_after = Duration::from_millis(150 + rng.below(1500));
        let seeds: Vec<Rng> = (0..CLIENTS).map(|_| Rng(rng.next())).collect();
        let unanswered_before = world.lock().unwrap().unanswered.len();
        std::thread::scope(|s| {
            for (thread, client_rng) in seeds.into_iter().enumerate() {
                let ctx = &ctx;
                let world = &world;
                s.spawn(move || client_loop(ctx, world, round, thread, client_rng));
            }
            std::thread::sleep(kill_after);
            // Stop the clients only after the kill, so the kill lands on
            // requests in flight.
            server.take().unwrap().kill();
            ctx.stop.store(true, Ordering::Relaxed);
        });
        figures.kills += 1;
        counter.store(ctx.counter.load(Ordering::Relaxed), Ordering::Relaxed);

        // Half the time, a kill during start-up first, at a random moment
        // of the last measured start-up.
        if rng.chance(50) {
            let start_up_ms = u64::try_from(last_start_up.as_millis()).unwrap_or(u64::MAX);
            let after = Duration::from_millis(rng.below(start_up_ms.max(1)));
            if Server::start_and_kill_during_startup(data.path(), after) {
                figures.startup_kills += 1;
            }
        }
        // Restart over the same directory: the state is a replay of the log.
        let restarted = Instant::now();
        server = Some(Server::start(data.path(), false).0);
        last_start_up = restarted.elapsed();
        let ctx = context(server.as_ref().unwrap(), &key, start);
        let acks = world.lock().unwrap().acks.clone();
        check_feed(&ctx, &acks);

        // Retry acknowledged keys: the same answer, nothing done again.
        let sample: Vec<Ack> = (0..acks.len().min(25))
            .map(|_| rng.pick(&acks).unwrap().clone())
            .collect();
        for ack in &sample {
            let (status, effect) = ctx.post(&ack.sent).unwrap();
            assert_eq!(status, StatusCode::OK, "{:?}: {effect}", ack.sent);
            assert_eq!(effect["replayed"], true);
            for field in ["journal_entries", "transactions", "other_events"] {
                assert_eq!(effect[field], ack.effect[field], "{:?}", ack.sent);
            }
            figures.retried_acknowledged += 1;
        }
        // The same key with another body is a conflict, and changes nothing.
        if let Some(ack) = rng.pick(&acks).cloned() {
            let before = feed(&ctx.api).len();
            let mut other = ack.sent.clone();
            other.path = "/v1/payments".into();
            other.body = json!({"account": "A-none", "amount": "1.00", "received_on": ctx.today.to_string()});
            let (status, problem) = ctx.post(&other).unwrap();
            assert_eq!(status, StatusCode::CONFLICT, "{problem}");
            assert_eq!(problem["code"], "idempotency_conflict");
            assert_eq!(feed(&ctx.api).len(), before);
        }
        // Retry the commands whose answer the kill cut off: committed before
        // the kill (replayed) or not (committed now), never twice.
        let unanswered: Vec<Sent> = world.lock().unwrap().unanswered[unanswered_before..].to_vec();
        for sent in unanswered {
            figures.unanswered += 1;
            let (status, effect) = ctx.post(&sent).unwrap();
            if status.is_success() {
                if effect["replayed"] == true {
                    figures.committed_unanswered += 1;
                }
                let mut w = world.lock().unwrap();
                record_ack(&mut w, &sent, &effect);
                w.acks.push(Ack { sent, effect });
            } else {
                assert!(status.is_client_error(), "{sent:?}: {status} {effect}");
            }
        }
        let (acks, accounts, policies, dates) = {
            let w = world.lock().unwrap();
            (
                w.acks.clone(),
                w.accounts.clone(),
                w.policies.clone(),
                w.billing_dates.clone(),
            )
        };
        let events = check_feed(&ctx, &acks);
        check_books(&ctx, &accounts);
        // Configuration commands are in the log; their secrets never are.
        let logged = feed(&ctx.api);
        assert!(
            !logged
                .iter()
                .any(|e| e.to_string().contains("Basic secret-")),
            "a rater's header value is in the log"
        );

        // Billing runs are idempotent across restarts: running the latest
        // date again adds nothing to the log.
        if let Some(last) = dates.iter().next_back() {
            let run = |up_to: &str| {
                let response = ctx
                    .api
                    .request(Method::POST, "/v1/billing/runs")
                    .json(&json!({"up_to": up_to}))
                    .send()
                    .unwrap();
                assert!(response.status().is_success());
                response.json::<Value>().unwrap()
            };
            run(last);
            let settled = feed(&ctx.api).len();
            let again = run(last);
            assert_eq!(again["events"], 0, "a billing run again: {again}");
            assert_eq!(again["failures"], json!([]), "{again}");
            assert_eq!(feed(&ctx.api).len(), settled);
            check_books(&ctx, &accounts);
        }

        // A quiescent snapshot of the live projections; the next round
        // compares it with the replay after another kill -9.
        previous_snapshot = Some(snapshot(&ctx, &accounts, &policies));
        server.take().unwrap().kill();
        figures.kills += 1;
        server = Some(Server::start(data.path(), false).0);
        figures.rounds += 1;
        figures.events = events;
        println!(
            "round {round}: killed after {kill_after:?}; {} acknowledged so far, {events} events",
            acks.len()
        );
    }
    // The last round's snapshot against its replay.
    let ctx = context(server.as_ref().unwrap(), &key, start);
    let w = world.lock().unwrap();
    if let Some(before) = previous_snapshot {
        assert_eq!(before, snapshot(&ctx, &w.accounts, &w.policies));
    }
    figures.acknowledged = w.acks.len();
    figures.refused = w.refused;
    figures.double_clicks = w.double_clicks;
    figures.refusals = w.refusals.clone();
    for ack in &w.acks {
        *figures
            .acknowledged_by_endpoint
            .entry(endpoint(&ack.sent.path))
            .or_default() += 1;
    }
    println!(
        "crash loop figures (seed {seed}, {:?}): {figures:?}",
        began.elapsed()
    );
    assert!(figures.acknowledged > 0);
}

/// A processor adapter on loopback that takes its time: each new attempt is
/// charged the moment it arrives and answered `succeeded` only after
/// `answer_after`, so a kill can land between the request and its answer.
/// It counts charges by idempotency key (the same key is one charge).
struct SlowProcessor {
    url: String,
    /// Idempotency keys charged, in order, and the invoice of each.
    charged: Arc<Mutex<Vec<(String, String)>>>,
    /// POSTs received (a re-sent key counts again).
    posts: Arc<AtomicU64>,
    _runtime: tokio::runtime::Runtime,
}

impl SlowProcessor {
    fn start(answer_after: Duration) -> SlowProcessor {
        use axum::extract::{Path as AxumPath, State as AxumState};
        type Book = Arc<Mutex<Vec<(String, String)>>>;
        let charged: Book = Arc::default();
        let posts = Arc::new(AtomicU64::new(0));
        let succeeded =
            |key: &str| json!({"status": "succeeded", "processor_reference": format!("ch_{key}")});
        let attempt = {
            let posts = Arc::clone(&posts);
            move |AxumState(book): AxumState<Book>, axum::Json(body): axum::Json<Value>| {
                let posts = Arc::clone(&posts);
                async move {
                    posts.fetch_add(1, Ordering::SeqCst);
                    let key = body["idempotency_key"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let invoice = body["invoice"].as_str().unwrap_or_default().to_string();
                    {
                        let mut book = book.lock().unwrap();
                        if !book.iter().any(|(k, _)| *k == key) {
                            book.push((key.clone(), invoice));
                        }
                    }
                    tokio::time::sleep(answer_after).await;
                    axum::Json(succeeded(&key))
                }
            }
        };
        // A look-up by attempt id: the attempt ids are the keys' first part.
        let lookup = move |AxumState(book): AxumState<Book>, AxumPath(id): AxumPath<String>| async move {
            let book = book.lock().unwrap();
            match book
                .iter()
                .find(|(key, _)| key == &id || key.starts_with(&format!("{id}/")))
            {
                Some((key, _)) => Ok(axum::Json(succeeded(key))),
                None => Err(axum::http::StatusCode::NOT_FOUND),
            }
        };
        let app = axum::Router::new()
            .route("/attempts", axum::routing::post(attempt))
            .route("/attempts/{id}", axum::routing::get(lookup))
            .with_state(Arc::clone(&charged));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        SlowProcessor {
            url,
            charged,
            posts,
            _runtime: runtime,
        }
    }
}

/// Autopay across `kill -9` (issue 20): the server is killed at a random
/// point between sending a collection request and receiving its answer,
/// and started again. The attempt's durable "sent" mark and the look-up
/// before any re-send mean the invoice is paid exactly once: one payment in
/// Premia, one charge at the processor (one idempotency key), whatever the
/// crash point. Rounds: `PREMIA_AUTOPAY_CRASH_ROUNDS` (default 3); seed:
/// `PREMIA_CRASH_SEED`.
#[test]
fn a_server_killed_between_a_collection_request_and_its_answer_never_collects_twice() {
    let rounds: u64 = std::env::var("PREMIA_AUTOPAY_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("PREMIA_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11);
    let mut rng = Rng(seed);
    let answer_after = Duration::from_millis(600);
    for round in 0..rounds {
        let processor = SlowProcessor::start(answer_after);
        let data = tempfile::tempdir().unwrap();
        let (server, key) = Server::start(data.path(), true);
        let key = key.expect("the demo's admin key");
        let api = server.client(&key);
        let (status, answer) = api.open_account("A-1");
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let (status, answer) = api.post(
            "/v1/payment-processor",
            &json!({"url": processor.url, "lead_days": 30}),
        );
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let card = json!({"type": "card", "token": "tok_round", "brand": "visa",
            "last_four": "4242", "exp_month": 12, "exp_year": 2030});
        let (status, answer) = api.post("/v1/accounts/A-1/payment-methods", &card);
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let (status, answer) = api.post(
            "/v1/accounts/A-1/autopay",
            &json!({"method": "pm_1", "enabled": true}),
        );
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let (status, answer) = api.post("/v1/policies", &crate::harness::auto_policy("P-1"));
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let (status, answer) = api.post("/v1/billing/runs", &json!({}));
        assert_eq!(status, StatusCode::OK, "{answer}");
        // The worker sends the request; kill somewhere before its answer.
        let started = Instant::now();
        while processor.posts.load(Ordering::SeqCst) == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no collection request came"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let kill_after = Duration::from_millis(rng.below(answer_after.as_millis() as u64));
        std::thread::sleep(kill_after);
        server.kill();
        let (server, _) = Server::start(data.path(), false);
        let api = server.client(&key);
        let started = Instant::now();
        let billing = loop {
            let (status, billing) = api.get("/v1/accounts/A-1/billing");
            assert_eq!(status, StatusCode::OK, "{billing}");
            let paid = billing["invoices"].as_array().is_some_and(|invoices| {
                !invoices.is_empty()
                    && invoices
                        .iter()
                        .all(|r| r["paid"] == r["invoice"]["total"]["amount"])
            });
            if paid || started.elapsed() > Duration::from_secs(60) {
                break billing;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let payments = billing["payments"].as_array().unwrap();
        let charged = processor.charged.lock().unwrap().clone();
        println!(
            "autopay crash round {round}: killed {} ms after the request, {} POSTs, {} charges, {} payments",
            kill_after.as_millis(),
            processor.posts.load(Ordering::SeqCst),
            charged.len(),
            payments.len()
        );
        let invoices = billing["invoices"].as_array().unwrap();
        let charged_invoices: BTreeSet<&str> = charged.iter().map(|(_, i)| i.as_str()).collect();
        assert!(!invoices.is_empty(), "{billing}");
        assert_eq!(
            charged_invoices.len(),
            charged.len(),
            "each invoice charged once at the processor: {charged:?}"
        );
        assert_eq!(charged.len(), invoices.len(), "{charged:?} {billing}");
        assert_eq!(
            payments.len(),
            invoices.len(),
            "one payment per invoice: {billing}"
        );
        for invoice in invoices {
            assert_eq!(
                invoice["paid"], invoice["invoice"]["total"]["amount"],
                "{billing}"
            );
        }
        server.kill();
    }
}

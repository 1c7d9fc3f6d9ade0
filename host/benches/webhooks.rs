//! Webhook delivery figures, against a real server on loopback (sled store,
//! durable) and a receiver on loopback that answers 204 at once:
//!
//! - throughput: 2,000 policies bound while no worker runs, then the worker
//!   started: deliveries per second until every `policy.issued` arrived;
//! - lag: policies bound at about 200 per second for 10 s with the worker
//!   running; lag = arrival at the receiver minus the bind's answer, p50,
//!   p99 and max.
//!
//! `cargo bench -p premia --bench webhooks` prints the figures.

// Floats only turn durations and counts into printed rates; no money.
#![allow(clippy::float_arithmetic)]

use premia::boot::{open_data_dir, start_webhooks};
use premia::keys::Role;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const THROUGHPUT_POLICIES: usize = 2_000;
const LAG_RATE_PER_SECOND: u64 = 200;
const LAG_SECONDS: u64 = 10;

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

fn policy(locator: &str) -> Value {
    json!({
        "locator": locator, "account": "A1", "product": "auto", "start": "2026-01-01", "time_zone": "UTC",
        "data": {"exposures": {"V1": {"name": "vehicle", "perils": {"V1-COLL": {"name": "collision", "fields": {"yearly_premium": ["1200.00"]}}}}}}
    })
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let data = tempfile::tempdir().unwrap();
    let state = open_data_dir(data.path()).unwrap();
    let key = state
        .keys
        .create_as("bench", Role::Admin, "bench", "premia:bench")
        .unwrap();
    let server = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", server.local_addr().unwrap());
    let router = premia::api::router(state.clone());
    runtime.spawn(async move { axum::serve(server, router).await.unwrap() });

    let arrivals: Arrivals = Arc::default();
    let got = Arc::clone(&arrivals);
    let receiver = axum::Router::new().route(
        "/in",
        axum::routing::post(move |body: axum::body::Bytes| {
            let got = Arc::clone(&got);
            async move {
                let message: Value = serde_json::from_slice(&body).unwrap();
                if message["type"] == "policy.issued" {
                    let policy = message["data"]["policy"].as_str().unwrap().to_string();
                    got.lock()
                        .unwrap()
                        .entry(policy)
                        .or_insert_with(Instant::now);
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/in", listener.local_addr().unwrap());
    runtime.spawn(async move { axum::serve(listener, receiver).await.unwrap() });

    premia::rating::external::install_tls_provider();
    let client = reqwest::blocking::Client::new();
    let post = |path: &str, body: Value| {
        let answer = client
            .post(format!("{base}{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
            .unwrap();
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
    };
    post(
        "/v1/products",
        json!({"name": "auto", "currency": "USD",
               "charges": {"premium": {"category": "premium"}},
               "rating": {"kind": "native", "rater": "field"},
               "plans": {"annual": {"cadence": "full-pay"}}, "default_plan": "annual"}),
    );
    post(
        "/v1/accounts",
        json!({"locator": "A1", "name": "Ada", "currency": "USD"}),
    );
    post(
        "/v1/webhooks/endpoints",
        json!({"url": url, "event_types": ["policy.issued"]}),
    );

    // Throughput: a backlog, then the worker.
    for n in 0..THROUGHPUT_POLICIES {
        post("/v1/policies", policy(&format!("T{n}")));
    }
    let started = Instant::now();
    let worker = start_webhooks(&state);
    while arrivals.lock().unwrap().len() < THROUGHPUT_POLICIES {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "deliveries stalled"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let spent = started.elapsed();
    println!(
        "webhooks/throughput: {THROUGHPUT_POLICIES} deliveries in {:.2} s = {:.0} deliveries/s",
        spent.as_secs_f64(),
        THROUGHPUT_POLICIES as f64 / spent.as_secs_f64()
    );

    // Lag at a steady rate.
    let count = (LAG_RATE_PER_SECOND * LAG_SECONDS) as usize;
    let interval = Duration::from_micros(1_000_000 / LAG_RATE_PER_SECOND);
    let mut bound: Vec<(String, Instant)> = Vec::with_capacity(count);
    let start = Instant::now();
    for n in 0..count {
        let due = start + interval * n as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let locator = format!("L{n}");
        post("/v1/policies", policy(&locator));
        bound.push((locator, Instant::now()));
    }
    let achieved = count as f64 / start.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(120);
    while arrivals.lock().unwrap().len() < THROUGHPUT_POLICIES + count {
        assert!(Instant::now() < deadline, "deliveries stalled");
        std::thread::sleep(Duration::from_millis(5));
    }
    let seen = arrivals.lock().unwrap();
    let mut lags: Vec<Duration> = bound
        .iter()
        .map(|(locator, at)| seen[locator].saturating_duration_since(*at))
        .collect();
    lags.sort();
    let percentile = |p: usize| lags[(lags.len() * p / 100).min(lags.len() - 1)];
    println!(
        "webhooks/lag at {achieved:.0} binds/s for {LAG_SECONDS} s: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        percentile(50).as_secs_f64() * 1e3,
        percentile(99).as_secs_f64() * 1e3,
        lags[lags.len() - 1].as_secs_f64() * 1e3
    );
    drop(worker);
}

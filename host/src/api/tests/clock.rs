//! Router tests of a tenant's "today": test tenants' own clocks, billing runs
//! refused past today, and billing-run previews that equal the run.

use super::{Api, policy};
use crate::api::auth::Role;
use crate::boot::create_tenant;
use axum::http::StatusCode;
use chrono::{Datelike, Months, NaiveDate, Utc};
use serde_json::{Value, json};

/// A test tenant with the product and account A1; returns its admin key.
async fn lab(api: &Api, tenant: &str) -> String {
    let key = create_tenant(&api.state, tenant, true).unwrap();
    super::with_product_and_account(api, key).await
}

/// The first day of the month after `day`.
fn first_of_next_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap() + Months::new(1)
}

fn monthly(locator: &str, yearly: &str, start: NaiveDate) -> Value {
    let mut body = policy(locator, yearly);
    body["plan"] = json!("monthly");
    body["start"] = json!(start.to_string());
    body
}

async fn set_clock(api: &Api, key: &str, today: NaiveDate) -> (StatusCode, Value) {
    api.post("/v1/clock", key, json!({"today": today})).await
}

async fn events(api: &Api, key: &str, after: u64) -> Vec<Value> {
    let (status, page) = api
        .get(&format!("/v1/events?after={after}&limit=1000"), key)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["data"].as_array().unwrap().clone()
}

async fn last_sequence(api: &Api, key: &str) -> u64 {
    events(api, key, 0)
        .await
        .last()
        .map(|e| e["sequence"].as_u64().unwrap())
        .unwrap_or(0)
}

async fn invoices(api: &Api, key: &str) -> Vec<Value> {
    let (status, billing) = api.get("/v1/accounts/A1/billing", key).await;
    assert_eq!(status, StatusCode::OK, "{billing}");
    billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["invoice"].clone())
        .collect()
}

fn date(value: &Value) -> NaiveDate {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_test_tenants_clock_starts_today_and_staff_move_it_forward_never_back() {
    let store = crate::store::test_store();
    let api = Api::over(std::sync::Arc::clone(&store));
    let key = create_tenant(&api.state, "lab", true).unwrap();
    let wall = Utc::now().date_naive();
    let (status, clock) = api.get("/v1/clock", &key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(clock, json!({"today": wall, "test": true}));

    let later = wall + chrono::Duration::days(40);
    let (status, clock) = set_clock(&api, &key, later).await;
    assert_eq!(status, StatusCode::OK, "{clock}");
    assert_eq!(clock, json!({"today": later, "test": true}));
    // The same day again is not backwards.
    assert_eq!(set_clock(&api, &key, later).await.0, StatusCode::OK);

    let (status, problem) = set_clock(&api, &key, later - chrono::Duration::days(1)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "clock_backwards");
    assert_eq!(api.get("/v1/clock", &key).await.1["today"], json!(later));

    // Admin and billing staff move it; a policy system or a reader may not.
    let billing = api.key("lab", Role::Billing);
    let (status, _) = set_clock(&api, &billing, later + chrono::Duration::days(1)).await;
    assert_eq!(status, StatusCode::OK);
    for role in [Role::PolicySystem, Role::ReadOnly] {
        let other = api.key("lab", role);
        let (status, problem) = set_clock(&api, &other, later + chrono::Duration::days(9)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
        assert_eq!(problem["code"], "forbidden");
        assert_eq!(api.get("/v1/clock", &other).await.0, StatusCode::OK);
    }

    // Every setting is an event of the tenant's log, with who sent it (the
    // feed filtered to the clock's category leaves out the keys made above).
    let (status, page) = api.get("/v1/events?category=clock&limit=1000", &key).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let log = page["data"].as_array().unwrap().clone();
    let kinds: Vec<&str> = log.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "test_clock_started",
            "clock_moved",
            "clock_moved",
            "clock_moved"
        ]
    );
    assert_eq!(log[3]["stream"], "clock");
    assert_eq!(log[3]["actor"], "billing:test");
    assert_eq!(
        log[3]["event"]["clock"],
        json!({"type": "clock_moved", "from": later, "today": later + chrono::Duration::days(1)})
    );

    // The clock survives a restart: the state is rebuilt from the log.
    drop(api);
    let again = Api::over(store);
    assert_eq!(
        again.get("/v1/clock", &key).await.1,
        json!({"today": later + chrono::Duration::days(1), "test": true})
    );
    let (status, problem) = set_clock(&again, &key, later).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("clock_backwards"))
    );
}

#[tokio::test]
async fn a_normal_tenant_has_the_wall_clock_and_cannot_set_it() {
    let api = Api::new();
    let key = api.key("acme", Role::Admin);
    let (status, clock) = api.get("/v1/clock", &key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(clock["test"], false);
    assert_eq!(date(&clock["today"]), Utc::now().date_naive());
    let (status, problem) = set_clock(&api, &key, Utc::now().date_naive()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "not_a_test_tenant");
    let kinds: Vec<String> = events(&api, &key, 0)
        .await
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        ["api_key_created"],
        "nothing but its key was written"
    );
}

#[tokio::test]
async fn a_billing_run_past_today_is_refused_and_changes_nothing() {
    let api = Api::new();
    // A normal tenant: today is the wall clock.
    let key = super::acme(&api).await;
    let today = Utc::now().date_naive();
    let mut body = policy("P1", "1200.00");
    body["plan"] = json!("monthly");
    body["start"] = json!(today.to_string());
    assert_eq!(
        api.post("/v1/policies", &key, body).await.0,
        StatusCode::CREATED
    );
    let before = last_sequence(&api, &key).await;
    let tomorrow = today + chrono::Duration::days(1);
    for path in ["/v1/billing/runs", "/v1/billing/runs?preview=true"] {
        let (status, problem) = api.post(path, &key, json!({"up_to": tomorrow})).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {problem}"
        );
        assert_eq!(problem["code"], "run_in_the_future");
        assert!(
            problem["detail"].as_str().unwrap().contains(&format!(
                "up to {tomorrow} is past the tenant's today ({today})"
            )),
            "{problem}"
        );
    }
    assert_eq!(last_sequence(&api, &key).await, before, "nothing changed");
    assert!(invoices(&api, &key).await.is_empty());

    // A test tenant: today is its clock, and a run may go up to it.
    let lab = lab(&api, "lab").await;
    let later = today + chrono::Duration::days(45);
    let (status, problem) = api
        .post("/v1/billing/runs", &lab, json!({"up_to": later}))
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("run_in_the_future"))
    );
    assert_eq!(set_clock(&api, &lab, later).await.0, StatusCode::OK);
    let (status, report) = api
        .post("/v1/billing/runs", &lab, json!({"up_to": later}))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["up_to"], json!(later));
    let (status, problem) = api
        .post(
            "/v1/billing/runs",
            &lab,
            json!({"up_to": later + chrono::Duration::days(1)}),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("run_in_the_future"))
    );
    // Without a date, a run goes to today.
    let (status, report) = api.post("/v1/billing/runs", &lab, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["up_to"], json!(later));
}

#[tokio::test]
async fn a_normal_tenant_whose_policies_are_ahead_of_utc_runs_up_to_its_own_today() {
    let api = Api::new();
    let key = super::acme(&api).await;
    let zone = crate::domain::parse_time_zone("Pacific/Kiritimati").unwrap();
    let now = Utc::now();
    let local = crate::domain::local_date(now, zone);
    let mut body = policy("P1", "1200.00");
    body["time_zone"] = json!("Pacific/Kiritimati");
    body["start"] = json!(local.to_string());
    assert_eq!(
        api.post("/v1/policies", &key, body).await.0,
        StatusCode::CREATED
    );
    // UTC+14: its today is never before the UTC date, and from 10:00 UTC it
    // is the next day.
    let (_, clock) = api.get("/v1/clock", &key).await;
    assert_eq!(clock, json!({"today": local, "test": false}));
    let (status, report) = api
        .post("/v1/billing/runs", &key, json!({"up_to": local}))
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let (status, problem) = api
        .post(
            "/v1/billing/runs",
            &key,
            json!({"up_to": local + chrono::Duration::days(1)}),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("run_in_the_future"))
    );
}

/// Previews the run to `today`, runs it, and checks the preview showed
/// exactly what the run appended; returns the preview.
async fn preview_then_run(api: &Api, key: &str, today: NaiveDate) -> Value {
    let before = last_sequence(api, key).await;
    let (status, preview) = api
        .post("/v1/billing/runs?preview=true", key, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["preview"], true);
    assert_eq!(preview["up_to"], json!(today));
    assert_eq!(
        last_sequence(api, key).await,
        before,
        "a preview keeps nothing"
    );
    let (status, report) = api.post("/v1/billing/runs", key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(preview["report"], report, "the preview reports the run");
    let appended: Vec<Value> = events(api, key, before)
        .await
        .into_iter()
        .map(|e| e["event"].clone())
        .collect();
    assert_eq!(
        preview["events"].as_array().unwrap(),
        &appended,
        "the run appended exactly the previewed events"
    );
    preview
}

#[tokio::test]
async fn a_billing_run_preview_shows_the_invoices_and_lapses_the_run_then_makes() {
    let api = Api::new();
    let key = lab(&api, "lab").await;
    let (status, settings) = api
        .post(
            "/v1/billing/settings",
            &key,
            json!({"settings": {"delinquency": {"grace_days": 30, "late_fee": "10.00"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{settings}");
    let start = first_of_next_month(Utc::now().date_naive());
    assert_eq!(
        api.post("/v1/policies", &key, monthly("P1", "1200.00", start))
            .await
            .0,
        StatusCode::CREATED
    );

    // The first installment: one invoice of 100.00 on the start date.
    assert_eq!(set_clock(&api, &key, start).await.0, StatusCode::OK);
    let preview = preview_then_run(&api, &key, start).await;
    let previewed = preview["invoices"].as_array().unwrap();
    assert_eq!(previewed.len(), 1, "{preview}");
    assert_eq!(previewed[0]["total"]["amount"], "100.00");
    assert_eq!(date(&previewed[0]["issue_date"]), start);
    assert_eq!(date(&previewed[0]["due_date"]), start);
    assert_eq!(previewed[0]["items"].as_array().unwrap().len(), 1);
    assert_eq!(previewed[0]["items"][0]["amount"]["amount"], "100.00");
    assert_eq!(invoices(&api, &key).await, previewed.clone());
    assert!(preview["lapses"].as_array().unwrap().is_empty());

    // Unpaid: 30 days of grace from the due date end on start + 30 days,
    // so a run a month later lapses the policy from the day after.
    let grace_end = start + chrono::Duration::days(30);
    let lapse_day = start + Months::new(2);
    assert_eq!(set_clock(&api, &key, lapse_day).await.0, StatusCode::OK);
    let preview = preview_then_run(&api, &key, lapse_day).await;
    let past_due = preview["past_due"].as_array().unwrap();
    // The first invoice is past due the day after its due date (later
    // invoices of the two months may follow it).
    assert_eq!(past_due[0]["invoice"], previewed[0]["locator"], "{preview}");
    assert_eq!(date(&past_due[0]["on"]), start + chrono::Duration::days(1));
    let delinquencies = preview["delinquencies"].as_array().unwrap();
    assert_eq!(delinquencies.len(), 1, "{preview}");
    assert_eq!(date(&delinquencies[0]["grace_end"]), grace_end);
    let fees = preview["fees"].as_array().unwrap();
    assert_eq!(fees.len(), 1, "{preview}");
    assert_eq!(fees[0]["amount"]["amount"], "10.00");
    assert_eq!(fees[0]["reason"]["kind"], "late_fee");
    assert_eq!(
        date(&fees[0]["booked_on"]),
        start + chrono::Duration::days(1)
    );
    let lapses = preview["lapses"].as_array().unwrap();
    assert_eq!(lapses.len(), 1, "{preview}");
    assert_eq!(
        date(&lapses[0]["effective"]),
        grace_end + chrono::Duration::days(1)
    );
    // The run works through the days up to its date: the lapse is made on
    // the day after grace ends.
    assert_eq!(
        date(&lapses[0]["on"]),
        grace_end + chrono::Duration::days(1)
    );
    assert_eq!(lapses[0]["cancellations"][0]["policy"], "P1");
    let cancellation = &preview["transactions"][0];
    assert_eq!(cancellation["kind"], "cancellation");
    assert_eq!(
        date(&cancellation["effective"]),
        grace_end + chrono::Duration::days(1)
    );
    assert_eq!(
        cancellation["locator"],
        lapses[0]["cancellations"][0]["transaction"]
    );
    // The run made the same: the policy system sees the lapse's cancellation.
    let (_, p1) = api.get("/v1/policies/P1", &key).await;
    let transactions = p1["transactions"].as_array().unwrap();
    assert_eq!(transactions.last().unwrap(), cancellation, "{p1}");
    let all = invoices(&api, &key).await;
    let issued = preview["invoices"].as_array().unwrap();
    assert_eq!(
        &all[1..],
        issued.as_slice(),
        "the run issued the previewed invoices"
    );
    // The late fee is billed on the next invoice, the second month's.
    assert_eq!(date(&issued[0]["issue_date"]), start + Months::new(1));
    assert!(
        issued[0]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["charge"] == "A1-X1" && item["amount"]["amount"] == "10.00"),
        "{}",
        issued[0]
    );
    for invoice in issued {
        let day = date(&invoice["issue_date"]);
        assert!(day > start && day <= lapse_day, "{invoice}");
    }
}

#[tokio::test]
async fn a_test_tenant_plays_a_year_of_monthly_invoices_on_its_clock() {
    let api = Api::new();
    let key = lab(&api, "lab").await;
    let start = first_of_next_month(Utc::now().date_naive());
    assert_eq!(
        api.post("/v1/policies", &key, monthly("P1", "1200.00", start))
            .await
            .0,
        StatusCode::CREATED
    );
    // Today (before the term) there is nothing to bill.
    let (status, report) = api.post("/v1/billing/runs", &key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["events"], 0);
    assert!(invoices(&api, &key).await.is_empty());

    for month in 0..12u32 {
        let day = start + Months::new(month);
        // The day before, the month's installment is not billed yet.
        if month > 0 {
            let eve = day - chrono::Duration::days(1);
            assert_eq!(set_clock(&api, &key, eve).await.0, StatusCode::OK);
            let (status, _) = api.post("/v1/billing/runs", &key, json!({})).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(invoices(&api, &key).await.len(), month as usize);
        }
        assert_eq!(set_clock(&api, &key, day).await.0, StatusCode::OK);
        let (status, report) = api.post("/v1/billing/runs", &key, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(date(&report["up_to"]), day);
        let all = invoices(&api, &key).await;
        assert_eq!(all.len(), month as usize + 1, "month {month}: {all:?}");
        let invoice = all.last().unwrap();
        assert_eq!(
            date(&invoice["issue_date"]),
            day,
            "dated on the clock's day"
        );
        assert_eq!(date(&invoice["due_date"]), day);
        assert_eq!(invoice["total"]["amount"], "100.00", "month {month}");
        let (status, paid) = api
            .post(
                "/v1/payments",
                &key,
                json!({"account": "A1", "amount": "100.00", "received_on": day}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
    }
    let all = invoices(&api, &key).await;
    let dates: Vec<NaiveDate> = all.iter().map(|i| date(&i["issue_date"])).collect();
    let expected: Vec<NaiveDate> = (0..12).map(|m| start + Months::new(m)).collect();
    assert_eq!(dates, expected);
    let total: rust_decimal::Decimal = all
        .iter()
        .map(|i| {
            i["total"]["amount"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(total, rust_decimal::Decimal::new(120000, 2));
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    for record in billing["invoices"].as_array().unwrap() {
        let outstanding: rust_decimal::Decimal =
            record["outstanding"].as_str().unwrap().parse().unwrap();
        assert_eq!(outstanding, rust_decimal::Decimal::ZERO, "{record}");
    }
    // The term is fully billed: a run at its end bills nothing more.
    let end = start + Months::new(12);
    assert_eq!(set_clock(&api, &key, end).await.0, StatusCode::OK);
    let (_, report) = api.post("/v1/billing/runs", &key, json!({})).await;
    assert_eq!(report["accounts_billed"], 0, "{report}");
    assert_eq!(invoices(&api, &key).await.len(), 12);
}

#[tokio::test]
async fn a_test_tenant_binding_back_dated_on_its_clock_bills_nothing_before_the_clocks_day() {
    // 1200.00 yearly, monthly, bound on the clock's day, three months and
    // 11 days into its term: the installments already due are billed on or
    // after the clock's day (DOMAIN [E16]), never on the days the wall
    // clock would have invoiced them, and by the next first of the month
    // January to May (500.00) are billed.
    let api = Api::new();
    let key = lab(&api, "lab").await;
    let start = first_of_next_month(Utc::now().date_naive());
    let bound_on = start + Months::new(3) + chrono::Duration::days(11);
    assert_eq!(set_clock(&api, &key, bound_on).await.0, StatusCode::OK);
    let (status, effect) = api
        .post("/v1/policies", &key, monthly("P1", "1200.00", start))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{effect}");
    // Charges are posted on the clock's day.
    let entry = &effect["journal_entries"][0];
    assert_eq!(date(&entry["posted_on"]), bound_on, "{entry}");
    let (status, report) = api.post("/v1/billing/runs", &key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let next = start + Months::new(4);
    assert_eq!(set_clock(&api, &key, next).await.0, StatusCode::OK);
    let (status, report) = api.post("/v1/billing/runs", &key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let all = invoices(&api, &key).await;
    assert!(!all.is_empty());
    for invoice in &all {
        let issued = date(&invoice["issue_date"]);
        assert!(
            issued == bound_on || issued == next,
            "issued {issued}, not on the clock's days {bound_on} or {next}: {invoice}"
        );
    }
    let total: rust_decimal::Decimal = all
        .iter()
        .map(|i| {
            i["total"]["amount"]
                .as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum();
    assert_eq!(total, rust_decimal::Decimal::new(50000, 2), "{all:?}");
}

//! Bundles of previews over HTTP: policy commands mixed with payments, plan
//! changes and billing runs, previewed in order on a copy of the tenant and
//! summarized per account (what it owes, its credit, the refund due or the
//! amount owed, the next invoice), with nothing kept. Amounts are worked out
//! by hand in the comments.
//!
//! The tenants are test tenants: their clock is moved to the days of a year
//! whose February has 28 days, so every figure is the same whatever year the
//! tests run in.

use super::*;
use chrono::{Datelike, NaiveDate, Utc};

/// The first January after today of a year whose February has 28 days.
fn plain_year() -> i32 {
    (Utc::now().year() + 1..)
        .find(|year| NaiveDate::from_ymd_opt(*year, 2, 29).is_none())
        .unwrap()
}

fn day(year: i32, month: u32, day: u32) -> String {
    NaiveDate::from_ymd_opt(year, month, day)
        .unwrap()
        .to_string()
}

async fn set_clock(api: &Api, key: &str, today: &str) {
    let (status, clock) = api.post("/v1/clock", key, json!({"today": today})).await;
    assert_eq!(status, StatusCode::OK, "{clock}");
}

async fn run_billing(api: &Api, key: &str) {
    let (status, report) = api.post("/v1/billing/runs", key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(
        report["failures"].as_array().unwrap().is_empty(),
        "{report}"
    );
}

async fn pay(api: &Api, key: &str, amount: &str, on: &str) {
    let payment = json!({"account": "A1", "amount": amount, "received_on": on});
    let (status, effect) = api.post("/v1/payments", key, payment).await;
    assert_eq!(status, StatusCode::CREATED, "{effect}");
}

/// Everything a preview must leave as it was: the feed, the account's
/// balances and billing, and the ledger's balances.
async fn everything(api: &Api, key: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        "/v1/events?limit=1000",
        "/v1/accounts/A1",
        "/v1/accounts/A1/billing",
        "/v1/ledger/balances",
    ] {
        let (status, body) = api.get(path, key).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        seen.push(body);
    }
    seen
}

/// The summary of account A1 in a preview.
fn summary_of_a1(effect: &Value) -> &Value {
    let summaries = effect["summaries"].as_array().expect("summaries");
    summaries
        .iter()
        .find(|s| s["account"] == "A1")
        .unwrap_or_else(|| panic!("no summary of A1 in {effect}"))
}

/// Seed 000's customer: test tenant `acme` (invoices due 20 days after they
/// are issued) with a monthly policy P1 of 1200.00 a year (100.00 a month)
/// from January 1st of a plain year, invoiced for January and February by
/// the runs of those days. The clock is left on February 15th. Returns the
/// admin key and the year.
async fn january_and_february_invoiced(api: &Api) -> (String, i32) {
    let key = test_acme(api).await;
    let settings = json!({"settings": {"invoice_due_days": 20}});
    let (status, answer) = api.post("/v1/billing/settings", &key, settings).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let year = plain_year();
    let mut monthly = policy("P1", "1200.00");
    monthly["plan"] = json!("monthly");
    monthly["start"] = json!(day(year, 1, 1));
    let (status, issued) = api.post("/v1/policies", &key, monthly).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    for first in [day(year, 1, 1), day(year, 2, 1)] {
        set_clock(api, &key, &first).await;
        run_billing(api, &key).await;
    }
    set_clock(api, &key, &day(year, 2, 15)).await;
    (key, year)
}

/// Money in an answer.
fn amount(value: &Value) -> rust_decimal::Decimal {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not an amount"))
        .parse()
        .unwrap()
}

/// An account position's figures: owed, credit, unbilled, refund due,
/// amount owed.
fn position(value: &Value) -> [rust_decimal::Decimal; 5] {
    [
        amount(&value["owed"]),
        amount(&value["credit"]),
        amount(&value["unbilled"]),
        amount(&value["refund_due"]),
        amount(&value["amount_owed"]),
    ]
}

fn money(text: &str) -> rust_decimal::Decimal {
    text.parse().unwrap()
}

/// Item amounts of an invoice, with the transaction each bills.
fn items(invoice: &Value) -> Vec<(String, String)> {
    invoice["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["transaction"].as_str().unwrap_or_default().to_string(),
                item["amount"]["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn seed_000_a_customer_who_underpaid_then_overpaid_and_cancels_today_is_owed_80() {
    let api = Api::new();
    let (key, year) = january_and_february_invoiced(&api).await;
    let today = day(year, 2, 15);
    let unchanged = everything(&api, &key).await;

    // Underpaid (80.00 of January's 100.00), overpaid (150.00 settles the 20.00
    // left of January and February's 100.00, and 30.00 goes to credit), then
    // cancelled from today: February 15th to March 1st is 14 of February's 28
    // days, so 50.00 of February's invoiced 100.00 comes back; March to
    // December (1000.00, not invoiced) is withdrawn, never billed.
    let bundle = json!({"commands": [
        {"command": "record_payment", "account": "A1", "amount": "80.00", "received_on": today},
        {"command": "record_payment", "account": "A1", "amount": "150.00", "received_on": today},
        {"command": "cancel", "policy": "P1", "effective": today},
    ]});
    let (status, effect) = api.post("/v1/previews", &key, bundle).await;
    assert_eq!(status, StatusCode::OK, "{effect}");
    assert_eq!(effect["preview"], true);
    assert_eq!(amounts(&effect, "premium"), vec!["-1050.00"]);
    let summary = summary_of_a1(&effect);
    // Before: January and February owed in full, March to December to come.
    let [owed, credit, unbilled, refund, owing] = position(&summary["before"]);
    assert_eq!(
        (owed, credit, unbilled, refund, owing),
        (
            money("200.00"),
            money("0"),
            money("1000.00"),
            money("0"),
            money("200.00")
        )
    );
    // After: nothing owed, 30.00 of credit refundable now, and February's
    // 50.00 waiting for the next invoice.
    let [owed, credit, unbilled, refund, owing] = position(&summary["after"]);
    assert_eq!(
        (owed, credit, unbilled, refund, owing),
        (
            money("0"),
            money("30.00"),
            money("-50.00"),
            money("30.00"),
            money("0")
        )
    );
    // The next invoice is tonight's: a credit of 50.00 for February, issued
    // today and due in 20 days, which turns into credit: 80.00 to refund.
    let next = &summary["next_invoice"];
    assert_eq!(next["issue_date"], today);
    assert_eq!(next["due_date"], day(year, 3, 7));
    assert_eq!(
        items(next),
        vec![("P1-T2".to_string(), "-50.00".to_string())]
    );
    assert_eq!(next["items"][0]["period"]["start"], day(year, 2, 1));
    assert_eq!(amount(&next["total"]["amount"]), money("-50.00"));
    assert_eq!(amount(&next["outstanding"]), money("0"));
    let [owed, credit, unbilled, refund, owing] = position(&next["after"]);
    assert_eq!(
        (owed, credit, unbilled, refund, owing),
        (
            money("0"),
            money("80.00"),
            money("0"),
            money("80.00"),
            money("0")
        )
    );
    assert_eq!(
        everything(&api, &key).await,
        unchanged,
        "the feed, the account and the ledger are as they were"
    );

    // Committing the same commands and running tonight's billing gives
    // what the preview showed.
    pay(&api, &key, "80.00", &today).await;
    pay(&api, &key, "150.00", &today).await;
    let cancellation = json!({"effective": today});
    let (status, cancelled) = api
        .post("/v1/policies/P1/cancellations", &key, cancellation)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{cancelled}");
    let (_, account) = api.get("/v1/accounts/A1", &key).await;
    assert_eq!(amount(&account["credit"]), money("30.00"));
    assert_eq!(amount(&account["receivable_unbilled"]), money("-50.00"));
    run_billing(&api, &key).await;
    let (_, account) = api.get("/v1/accounts/A1", &key).await;
    assert_eq!(amount(&account["credit"]), money("80.00"));
    assert_eq!(amount(&account["receivable_billed"]), money("0"));
}

#[tokio::test]
async fn a_single_preview_summarizes_the_account_with_its_next_invoice_and_keeps_nothing() {
    let api = Api::new();
    let (key, year) = january_and_february_invoiced(&api).await;
    let today = day(year, 2, 15);
    pay(&api, &key, "80.00", &today).await;
    let unchanged = everything(&api, &key).await;

    // 150.00 settles January's last 20.00 and February: 30.00 of credit.
    let payment = json!({"account": "A1", "amount": "150.00", "received_on": today});
    let (status, effect) = api.post("/v1/payments?preview=true", &key, payment).await;
    assert_eq!(status, StatusCode::OK, "{effect}");
    let summary = summary_of_a1(&effect);
    let [owed, credit, unbilled, refund, owing] = position(&summary["before"]);
    assert_eq!(
        (owed, credit, unbilled, refund, owing),
        (
            money("120.00"),
            money("0"),
            money("1000.00"),
            money("0"),
            money("120.00")
        )
    );
    let [owed, credit, unbilled, refund, owing] = position(&summary["after"]);
    assert_eq!(
        (owed, credit, unbilled, refund, owing),
        (
            money("0"),
            money("30.00"),
            money("1000.00"),
            money("30.00"),
            money("0")
        )
    );
    // March's installment is invoiced on March 1st, due 20 days later; the
    // credit is applied to it when it is generated: 70.00 left to pay.
    let next = &summary["next_invoice"];
    assert_eq!(next["issue_date"], day(year, 3, 1));
    assert_eq!(next["due_date"], day(year, 3, 21));
    assert_eq!(
        items(next),
        vec![("P1-T1".to_string(), "100.00".to_string())]
    );
    assert_eq!(next["items"][0]["period"]["start"], day(year, 3, 1));
    assert_eq!(amount(&next["total"]["amount"]), money("100.00"));
    assert_eq!(amount(&next["outstanding"]), money("70.00"));
    let [owed, credit, unbilled, refund, owing] = position(&next["after"]);
    assert_eq!(
        (owed, credit, unbilled, refund, owing),
        (
            money("70.00"),
            money("0"),
            money("900.00"),
            money("0"),
            money("70.00")
        )
    );
    assert_eq!(everything(&api, &key).await, unchanged, "nothing was kept");
}

#[tokio::test]
async fn a_bundle_mixing_an_endorsement_and_a_plan_change_bills_both_on_the_new_plans_invoice() {
    let api = Api::new();
    let key = test_acme(&api).await;
    let year = plain_year();
    let mut monthly = policy("P1", "1200.00");
    monthly["plan"] = json!("monthly");
    monthly["start"] = json!(day(year, 1, 1));
    let (status, issued) = api.post("/v1/policies", &key, monthly).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    set_clock(&api, &key, &day(year, 1, 1)).await;
    run_billing(&api, &key).await;
    pay(&api, &key, "100.00", &day(year, 1, 1)).await;
    set_clock(&api, &key, &day(year, 1, 10)).await;
    let unchanged = everything(&api, &key).await;

    // January is invoiced and paid; February to December (1100.00) are not.
    // The endorsement doubles the premium from July: 1200.00 a year more for
    // half a year is 600.00. The change to the annual plan from February 1st
    // puts everything not yet invoiced on its one installment, invoiced that
    // day: 1100.00 + 600.00.
    let bundle = json!({"commands": [
        {"command": "endorse", "policy": "P1", "effective": day(year, 7, 1), "changes": [
            {"op": "set_peril_fields", "exposure": "V1", "peril": "V1-COLL",
             "fields": {"yearly_premium": ["2400.00"]}}]},
        {"command": "change_plan", "policy": "P1", "plan": "annual", "effective": day(year, 2, 1)},
    ]});
    let (status, effect) = api.post("/v1/previews", &key, bundle).await;
    assert_eq!(status, StatusCode::OK, "{effect}");
    assert_eq!(amounts(&effect, "premium"), vec!["600.00"]);
    let summary = summary_of_a1(&effect);
    let [owed, credit, unbilled, refund, owing] = position(&summary["before"]);
    assert_eq!(
        (owed, credit, unbilled, refund, owing),
        (
            money("0"),
            money("0"),
            money("1100.00"),
            money("0"),
            money("0")
        )
    );
    let [owed, credit, unbilled, refund, owing] = position(&summary["after"]);
    assert_eq!(
        (owed, credit, unbilled, refund, owing),
        (
            money("0"),
            money("0"),
            money("1700.00"),
            money("0"),
            money("0")
        )
    );
    let next = &summary["next_invoice"];
    assert_eq!(next["issue_date"], day(year, 2, 1));
    assert_eq!(next["due_date"], day(year, 2, 1));
    assert_eq!(
        items(next),
        vec![
            ("P1-T1".to_string(), "1100.00".to_string()),
            ("P1-T2".to_string(), "600.00".to_string())
        ]
    );
    assert_eq!(amount(&next["total"]["amount"]), money("1700.00"));
    assert_eq!(amount(&next["outstanding"]), money("1700.00"));
    let [owed, credit, unbilled, refund, owing] = position(&next["after"]);
    assert_eq!(
        (owed, credit, unbilled, refund, owing),
        (
            money("1700.00"),
            money("0"),
            money("0"),
            money("0"),
            money("1700.00")
        )
    );
    assert_eq!(everything(&api, &key).await, unchanged, "nothing was kept");
}

#[tokio::test]
async fn a_bundle_runs_billing_up_to_today_after_a_payment_and_refuses_a_run_past_today() {
    let api = Api::new();
    let (key, year) = january_and_february_invoiced(&api).await;
    set_clock(&api, &key, &day(year, 3, 1)).await;
    let unchanged = everything(&api, &key).await;

    // 230.00 settles January and February and leaves 30.00 of credit, which
    // today's run applies to March's invoice.
    let bundle = json!({"commands": [
        {"command": "record_payment", "account": "A1", "amount": "230.00", "received_on": day(year, 2, 20)},
        {"command": "run_billing"},
    ]});
    let (status, effect) = api.post("/v1/previews", &key, bundle).await;
    assert_eq!(status, StatusCode::OK, "{effect}");
    let issued: Vec<&Value> = effect["other_events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["collections"]["type"] == "invoice_issued")
        .collect();
    assert_eq!(issued.len(), 1, "{effect}");
    assert_eq!(
        issued[0]["collections"]["invoice"]["issue_date"],
        day(year, 3, 1)
    );
    let summary = summary_of_a1(&effect);
    let [owed, credit, unbilled, refund, owing] = position(&summary["after"]);
    assert_eq!(
        (owed, credit, unbilled, refund, owing),
        (
            money("70.00"),
            money("0"),
            money("900.00"),
            money("0"),
            money("70.00")
        )
    );
    assert_eq!(summary["next_invoice"]["issue_date"], day(year, 4, 1));
    assert_eq!(everything(&api, &key).await, unchanged, "nothing was kept");

    // A run past today is refused in a bundle as the run itself refuses it.
    let tomorrow = day(year, 3, 2);
    let (status, refused) = api
        .post("/v1/billing/runs", &key, json!({"up_to": tomorrow}))
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("run_in_the_future"))
    );
    let bundle = json!({"commands": [
        {"command": "record_payment", "account": "A1", "amount": "230.00", "received_on": day(year, 2, 20)},
        {"command": "run_billing", "up_to": tomorrow},
    ]});
    let (status, problem) = api.post("/v1/previews", &key, bundle).await;
    assert_eq!(
        (status, &problem["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &refused["code"])
    );
    assert_eq!(everything(&api, &key).await, unchanged, "nothing was kept");
}

#[tokio::test]
async fn a_bundle_holding_a_command_the_commit_would_refuse_is_refused_with_the_same_problem() {
    let api = Api::new();
    let (key, year) = january_and_february_invoiced(&api).await;
    let today = day(year, 2, 15);
    let system = api.key("acme", Role::PolicySystem);
    let unchanged = everything(&api, &key).await;
    let cancel = json!({"command": "cancel", "policy": "P1", "effective": today});

    // A payment to an account that does not exist.
    let stranger = json!({"account": "A9", "amount": "10.00", "received_on": today});
    let (status, refused) = api.post("/v1/payments", &key, stranger.clone()).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("account_not_found")),
        "{refused}"
    );
    let mut entry = stranger;
    entry["command"] = json!("record_payment");
    let bundle = json!({"commands": [cancel, entry]});
    let (bundled, problem) = api.post("/v1/previews", &key, bundle).await;
    assert_eq!(
        (bundled, &problem["code"]),
        (status, &refused["code"]),
        "{problem}"
    );

    // A second cancellation of a policy the bundle has cancelled already:
    // each command sees the ones before it.
    let bundle = json!({"commands": [cancel, cancel]});
    let (twice, twice_problem) = api.post("/v1/previews", &key, bundle).await;
    assert_eq!(
        (twice, twice_problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("policy_not_in_force")),
        "{twice_problem}"
    );
    // A billing command's unknown field, as its endpoint refuses it.
    let bundle = json!({"commands": [cancel, {"command": "place_hold", "account": "A1",
        "kind": "invoicing", "from": today, "colour": "red"}]});
    let (status, problem) = api.post("/v1/previews", &key, bundle).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"))
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("commands[1]: "),
        "{problem}"
    );
    // A policy system may not record payments, so it may not preview one.
    let bundle = json!({"commands": [cancel, {"command": "record_payment", "account": "A1",
        "amount": "10.00", "received_on": today}]});
    let (status, problem) = api.post("/v1/previews", &system, bundle).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    assert_eq!(everything(&api, &key).await, unchanged, "nothing was kept");

    // The same second cancellation, committed, is refused with the code the
    // bundle answered.
    let body = json!({"effective": today});
    let (status, _) = api
        .post("/v1/policies/P1/cancellations", &key, body.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (again, committed) = api.post("/v1/policies/P1/cancellations", &key, body).await;
    assert_eq!(
        (twice, &twice_problem["code"]),
        (again, &committed["code"]),
        "{committed}"
    );
}

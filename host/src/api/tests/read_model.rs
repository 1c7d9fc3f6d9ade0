//! Router tests of billing staff's read model: account search and filters,
//! an account's whole picture (balances with past-due ageing, policies and
//! terms, upcoming installments, delinquency, holds, write-offs,
//! disbursements, settings in effect), invoices listed and in detail,
//! payments, a policy's timeline and the worklists; pages and cursors, a
//! read-only key, and another tenant seeing nothing.
//!
//! The book (a test tenant, clock moved to `today`, invoices due 15 days
//! after issue, 200 days of grace): S is the first of next month.
//! - A1 "Ada": P1, monthly, 1200.00 a year from S: seven invoices of 100.00
//!   issued S + k months (k = 0..6), due 15 days later. On today =
//!   S + 6 months + 10 days: A1-P1 pays 100.00 of A1-I2 (named),
//!   A1-W1 writes off A1-I3 whole, A1-P2 pays 70.00 to the oldest due
//!   (A1-I1, 30.00 left), A1-W2 writes off 40.00 of A1-I4 (60.00 left).
//! - A2 "Bob Builder": P2, annual, 240.00 from S, paid with 300.00 (60.00
//!   credit), a refund of 25.00 drafted, an invoicing hold from today,
//!   auto write-off up to 5.00 of its own.
//! - A3 "Adam Smith": no policy.

use super::{Api, policy};
use crate::api::auth::Role;
use crate::boot::create_tenant;
use axum::http::StatusCode;
use chrono::{Datelike, Months, NaiveDate, Utc};
use serde_json::{Value, json};

fn first_of_next_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap() + Months::new(1)
}

fn date(value: &Value) -> NaiveDate {
    value.as_str().unwrap().parse().unwrap()
}

async fn created(api: &Api, path: &str, key: &str, body: Value) {
    let (status, answer) = api.post(path, key, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
}

async fn ok(api: &Api, path: &str, key: &str) -> Value {
    let (status, answer) = api.get(path, key).await;
    assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    answer
}

fn locators(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.get("locator")
                .or_else(|| row.get("account"))
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

struct Book {
    api: Api,
    store: std::sync::Arc<dyn crate::store::Store>,
    key: String,
    start: NaiveDate,
    today: NaiveDate,
}

impl Book {
    /// The due date of A1's invoice `n` (from 1).
    fn due(&self, n: u32) -> NaiveDate {
        self.start + Months::new(n - 1) + chrono::Duration::days(15)
    }
}

async fn book() -> Book {
    let store = crate::store::test_store();
    let api = Api::over(std::sync::Arc::clone(&store));
    let key = create_tenant(&api.state, "lab", true).unwrap();
    let key = super::with_product_and_account(&api, key).await;
    created(
        &api,
        "/v1/billing/settings",
        &key,
        json!({"settings": {"invoice_due_days": 15, "delinquency": {"grace_days": 200}}}),
    )
    .await;
    for (locator, name) in [("A2", "Bob Builder"), ("A3", "Adam Smith")] {
        created(
            &api,
            "/v1/accounts",
            &key,
            json!({"locator": locator, "name": name, "currency": "USD"}),
        )
        .await;
    }
    let start = first_of_next_month(Utc::now().date_naive());
    let mut p1 = policy("P1", "1200.00");
    p1["plan"] = json!("monthly");
    p1["start"] = json!(start);
    created(&api, "/v1/policies", &key, p1).await;
    let mut p2 = policy("P2", "240.00");
    p2["account"] = json!("A2");
    p2["start"] = json!(start);
    created(&api, "/v1/policies", &key, p2).await;

    let today = start + Months::new(6) + chrono::Duration::days(10);
    created(&api, "/v1/clock", &key, json!({"today": today})).await;
    created(&api, "/v1/billing/runs", &key, json!({})).await;
    for (path, body) in [
        (
            "/v1/payments",
            json!({"account": "A1", "amount": "100.00", "received_on": today, "invoices": ["A1-I2"]}),
        ),
        (
            "/v1/write-offs",
            json!({"account": "A1", "invoice": "A1-I3", "on": today, "reason": "goodwill"}),
        ),
        (
            "/v1/payments",
            json!({"account": "A1", "amount": "70.00", "received_on": today}),
        ),
        (
            "/v1/write-offs",
            json!({"account": "A1", "invoice": "A1-I4", "amount": "40.00", "on": today}),
        ),
        (
            "/v1/payments",
            json!({"account": "A2", "amount": "300.00", "received_on": today}),
        ),
        (
            "/v1/disbursements",
            json!({"account": "A2", "amount": "25.00", "on": today}),
        ),
        (
            "/v1/holds",
            json!({"account": "A2", "kind": {"kind": "invoicing"}, "from": today}),
        ),
        (
            "/v1/accounts/A2/billing-settings",
            json!({"overrides": {"auto_write_off_up_to": "5.00"}}),
        ),
    ] {
        created(&api, path, &key, body).await;
    }
    Book {
        api,
        store,
        key,
        start,
        today,
    }
}

#[tokio::test]
async fn an_accounts_summary_ages_what_is_past_due_by_days_past_due_on_the_tenants_today() {
    let book = book().await;
    let reader = book.api.key("lab", Role::ReadOnly);
    let summary = ok(&book.api, "/v1/accounts/A1/summary?upcoming=3", &reader).await;
    assert_eq!(summary["account"], "A1");
    assert_eq!(summary["name"], "Ada");
    assert_eq!(date(&summary["today"]), book.today);

    // Days past due of each invoice, worked out from the dates: I6 is
    // 23-26 days past due, I5 54-57, I4 84-87, I1 170 or more.
    let days = |n: u32| (book.today - book.due(n)).num_days();
    assert!((23..=26).contains(&days(6)), "{}", days(6));
    assert!((54..=57).contains(&days(5)), "{}", days(5));
    assert!((84..=87).contains(&days(4)), "{}", days(4));
    assert!(days(1) >= 170);
    // 0-29: I6 100.00; 30-59: I5 100.00; 60-89: I4 100.00 - 40.00 written
    // off; 90+: I1 100.00 - 70.00 paid (I2 paid, I3 written off).
    let balances = &summary["balances"];
    assert_eq!(
        balances["ageing"],
        json!({"days_0_29": "100.00", "days_30_59": "100.00", "days_60_89": "60.00", "days_90_plus": "30.00"})
    );
    assert_eq!(balances["past_due"], "290.00");
    // And I7, issued S + 6 months, due in 5 days: 290.00 + 100.00.
    assert_eq!(balances["billed_outstanding"], "390.00");
    // Five installments of 100.00 not yet invoiced.
    assert_eq!(balances["unbilled"], "500.00");
    assert_eq!(balances["credit"], "0.00");

    // The open invoices, oldest due first.
    let open: Vec<(&str, &str, &str)> = summary["open_invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["locator"].as_str().unwrap(),
                r["outstanding"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        open,
        [
            ("A1-I1", "30.00", "past_due"),
            ("A1-I4", "60.00", "past_due"),
            ("A1-I5", "100.00", "past_due"),
            ("A1-I6", "100.00", "past_due"),
            ("A1-I7", "100.00", "open"),
        ]
    );
    assert_eq!(summary["open_invoices"][0]["days_past_due"], json!(days(1)));
    assert_eq!(summary["open_invoice_count"], 5);

    // P1 is in force with a delinquency in grace: pending lapse; its term
    // is not confirmed (its first invoice is not paid).
    let p1 = &summary["policies"][0];
    assert_eq!(p1["policy"], "P1");
    assert_eq!(p1["status"], "pending_lapse");
    assert_eq!(p1["terms"][0]["term"], 1);
    assert_eq!(p1["terms"][0]["confirmed"], false);
    assert_eq!(date(&p1["terms"][0]["period"]["start"]), book.start);
    assert_eq!(
        date(&p1["terms"][0]["period"]["end"]),
        book.start + Months::new(12)
    );

    // The next three installments: S + 7, 8 and 9 months, 100.00 each.
    let upcoming = summary["upcoming_installments"].as_array().unwrap();
    assert_eq!(upcoming.len(), 3);
    for (i, slice) in upcoming.iter().enumerate() {
        let month = book.start + Months::new(7 + i as u32);
        assert_eq!(slice["policy"], "P1");
        assert_eq!(slice["installment"], 7 + i as u64);
        assert_eq!(date(&slice["invoice_date"]), month);
        assert_eq!(slice["amount"]["amount"], "100.00");
        assert_eq!(date(&slice["period"]["start"]), month);
    }

    // The delinquency started the day after I1's due date; its grace ends
    // 200 days after that due date.
    let delinquency = &summary["delinquencies"][0];
    assert_eq!(delinquency["locator"], "A1-Q1");
    assert_eq!(delinquency["status"]["status"], "in_grace");
    assert_eq!(
        date(&delinquency["grace_end"]),
        book.due(1) + chrono::Duration::days(200)
    );
    assert_eq!(summary["delinquencies"].as_array().unwrap().len(), 1);

    let write_offs: Vec<(&str, &str, &str)> = summary["write_offs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["write_off"]["locator"].as_str().unwrap(),
                w["write_off"]["invoice"].as_str().unwrap(),
                w["write_off"]["amount"]["amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        write_offs,
        [("A1-W1", "A1-I3", "100.00"), ("A1-W2", "A1-I4", "40.00")]
    );
    assert_eq!(summary["holds"], json!([]));
    assert_eq!(summary["disbursements"], json!([]));
    assert_eq!(summary["settings"]["invoice_due_days"], 15);
    assert_eq!(summary["settings"]["delinquency"]["grace_days"], 200);
}

#[tokio::test]
async fn an_accounts_summary_shows_its_credit_refunds_holds_confirmed_terms_and_own_settings() {
    let book = book().await;
    let summary = ok(&book.api, "/v1/accounts/A2/summary", &book.key).await;
    let balances = &summary["balances"];
    // 300.00 paid, 240.00 of it to A2-I1: 60.00 credit, 25.00 of it held
    // back by the drafted refund.
    assert_eq!(balances["credit"], "60.00");
    assert_eq!(balances["available_credit"], "35.00");
    assert_eq!(balances["billed_outstanding"], "0.00");
    assert_eq!(balances["past_due"], "0.00");
    let p2 = &summary["policies"][0];
    assert_eq!(
        (p2["policy"].as_str(), p2["status"].as_str()),
        (Some("P2"), Some("in_force"))
    );
    assert_eq!(
        p2["terms"][0]["confirmed"], true,
        "its first invoice is paid"
    );
    assert_eq!(summary["active_holds"], json!(["A2-H1"]));
    assert_eq!(summary["holds"][0]["kind"]["kind"], "invoicing");
    assert_eq!(summary["disbursements"][0]["locator"], "A2-D1");
    assert_eq!(summary["disbursements"][0]["status"]["status"], "draft");
    assert_eq!(summary["disbursements"][0]["amount"]["amount"], "25.00");
    // Its delinquency ended with the payment.
    assert_eq!(summary["delinquencies"][0]["status"]["status"], "ended");
    // The tenant's settings with A2's override applied.
    assert_eq!(summary["settings"]["auto_write_off_up_to"], "5.00");
    assert_eq!(summary["settings"]["invoice_due_days"], 15);
    assert_eq!(summary["overrides"]["auto_write_off_up_to"], "5.00");
    assert_eq!(summary["upcoming_installments"], json!([]));
}

#[tokio::test]
async fn accounts_are_found_by_locator_or_name_prefix_in_any_case_and_paged_by_cursor() {
    let book = book().await;
    let (api, key) = (&book.api, &book.key);
    let names = |page: &Value| -> Vec<(String, String)> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["locator"].as_str().unwrap().to_string(),
                    r["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // "AD" starts the names Ada and Adam Smith, no locator.
    let page = ok(api, "/v1/accounts?q=AD", key).await;
    assert_eq!(
        names(&page),
        [
            ("A1".to_string(), "Ada".to_string()),
            ("A3".to_string(), "Adam Smith".to_string())
        ]
    );
    assert_eq!(page["next_cursor"], Value::Null);
    assert_eq!(locators(&ok(api, "/v1/accounts?q=bob", key).await), ["A2"]);
    assert_eq!(
        locators(&ok(api, "/v1/accounts?q=adam%20s", key).await),
        ["A3"]
    );
    assert_eq!(
        locators(&ok(api, "/v1/accounts?q=zed", key).await),
        Vec::<String>::new()
    );

    // "a" starts every locator (and two names, listed once by locator):
    // two pages of two and one.
    let first = ok(api, "/v1/accounts?q=a&limit=2", key).await;
    assert_eq!(locators(&first), ["A1", "A2"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let second = ok(
        api,
        &format!("/v1/accounts?q=a&limit=2&after={cursor}"),
        key,
    )
    .await;
    assert_eq!(locators(&second), ["A3"]);
    assert_eq!(second["next_cursor"], Value::Null);

    // The row's figures.
    let a1 = &ok(api, "/v1/accounts?q=a1", key).await["data"][0];
    assert_eq!(a1["billed_outstanding"], "390.00");
    assert_eq!(a1["past_due"], "290.00");
    assert_eq!(a1["delinquent"], true);
    assert_eq!(a1["on_hold"], false);

    // Every account, by locator, one a page.
    let mut seen = Vec::new();
    let mut path = "/v1/accounts?limit=1".to_string();
    loop {
        let page = ok(api, &path, key).await;
        seen.extend(locators(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/accounts?limit=1&after={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["A1", "A2", "A3"]);

    let (status, problem) = api.get("/v1/accounts?after=zz", key).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("bad_cursor"))
    );
}

#[tokio::test]
async fn account_filters_find_the_delinquent_the_past_due_those_with_credit_and_those_on_hold() {
    let book = book().await;
    let (api, key) = (&book.api, &book.key);
    for (filter, expected) in [
        ("delinquent", vec!["A1"]),
        ("past_due", vec!["A1"]),
        ("with_credit", vec!["A2"]),
        ("on_hold", vec!["A2"]),
        ("with_credit,on_hold", vec!["A2"]),
        ("delinquent,on_hold", vec![]),
    ] {
        let page = ok(api, &format!("/v1/accounts?filter={filter}"), key).await;
        assert_eq!(locators(&page), expected, "{filter}");
    }
    assert_eq!(
        locators(&ok(api, "/v1/accounts?q=ad&filter=past_due", key).await),
        ["A1"]
    );
    let (status, problem) = api.get("/v1/accounts?filter=rich", key).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_filter"))
    );
}

#[tokio::test]
async fn invoices_are_listed_by_status_and_due_date_for_an_account_and_for_the_tenant() {
    let book = book().await;
    let (api, key) = (&book.api, &book.key);
    let list = |query: &str| format!("/v1/invoices?{query}");
    for (query, expected) in [
        (
            "account=A1",
            vec![
                "A1-I1", "A1-I2", "A1-I3", "A1-I4", "A1-I5", "A1-I6", "A1-I7",
            ],
        ),
        (
            "account=A1&status=past_due",
            vec!["A1-I1", "A1-I4", "A1-I5", "A1-I6"],
        ),
        ("account=A1&status=open", vec!["A1-I7"]),
        ("account=A1&status=paid", vec!["A1-I2"]),
        ("account=A1&status=written_off", vec!["A1-I3"]),
        // The tenant's, by due date: A2-I1 is due with A1-I1, after it by account.
        ("status=paid", vec!["A2-I1", "A1-I2"]),
        ("status=past_due", vec!["A1-I1", "A1-I4", "A1-I5", "A1-I6"]),
        ("status=open", vec!["A1-I7"]),
    ] {
        let page = ok(api, &list(query), key).await;
        assert_eq!(locators(&page), expected, "{query}");
        assert_eq!(page["next_cursor"], Value::Null, "{query}");
    }
    // Due from I5's due date to I6's.
    let window = format!("account=A1&due_from={}&due_to={}", book.due(5), book.due(6));
    assert_eq!(
        locators(&ok(api, &list(&window), key).await),
        ["A1-I5", "A1-I6"]
    );
    let window = format!("due_from={}&due_to={}", book.due(5), book.due(7));
    assert_eq!(
        locators(&ok(api, &list(&window), key).await),
        ["A1-I5", "A1-I6", "A1-I7"],
        "still owing (past due or not) by due date"
    );

    // Pages of two past-due invoices, for the account and for the tenant.
    for scope in ["account=A1&", ""] {
        let first = ok(api, &list(&format!("{scope}status=past_due&limit=2")), key).await;
        assert_eq!(locators(&first), ["A1-I1", "A1-I4"], "{scope}");
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = ok(
            api,
            &list(&format!("{scope}status=past_due&limit=2&after={cursor}")),
            key,
        )
        .await;
        assert_eq!(locators(&second), ["A1-I5", "A1-I6"], "{scope}");
        assert_eq!(second["next_cursor"], Value::Null, "{scope}");
    }

    // A row's figures.
    let i4 = &ok(api, &list("account=A1&status=past_due"), key).await["data"][1];
    assert_eq!(i4["total"]["amount"], "100.00");
    assert_eq!(i4["written_off"], "40.00");
    assert_eq!(i4["outstanding"], "60.00");
    assert_eq!(date(&i4["due_date"]), book.due(4));
    assert_eq!(
        i4["days_past_due"],
        json!((book.today - book.due(4)).num_days())
    );

    let (status, problem) = api.get(&list("status=late"), key).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("unknown_invoice_status")
        )
    );
    let (status, problem) = api.get(&list("account=A9"), key).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_account"))
    );
}

#[tokio::test]
async fn an_invoice_in_detail_shows_what_its_items_bill_and_what_settled_it() {
    let book = book().await;
    let (api, key) = (&book.api, &book.key);
    let i4 = ok(api, "/v1/invoices/A1-I4", key).await;
    assert_eq!(i4["locator"], "A1-I4");
    assert_eq!(i4["status"], "past_due");
    assert_eq!(date(&i4["issue_date"]), book.start + Months::new(3));
    assert_eq!(i4["outstanding"], "60.00");
    let item = &i4["items"][0];
    assert_eq!(item["kind"], "installment");
    assert_eq!(item["amount"]["amount"], "100.00");
    assert_eq!(item["installment"]["installment"], 3);
    assert_eq!(item["installment"]["charge"], item["charge"]);
    assert_eq!(
        date(&item["installment"]["installment_period"]["start"]),
        book.start + Months::new(3)
    );
    assert_eq!(item["booked_by"]["locator"], "P1-T1");
    assert_eq!(date(&item["booked_by"]["effective"]), book.start);
    assert_eq!(i4["payments"], json!([]));
    assert_eq!(i4["write_offs"][0]["write_off"]["locator"], "A1-W2");
    assert_eq!(
        i4["write_offs"][0]["write_off"]["amount"]["amount"],
        "40.00"
    );
    assert_eq!(i4["corrects"], json!([]));
    assert_eq!(i4["corrected_by"], json!([]));

    let i1 = ok(api, "/v1/invoices/A1-I1", key).await;
    assert_eq!(
        i1["payments"],
        json!([{"payment": "A1-P2", "received_on": book.today, "amount": "70.00", "reversed_on": null}])
    );
    let i2 = ok(api, "/v1/invoices/A1-I2", key).await;
    assert_eq!(i2["status"], "paid");
    assert_eq!(i2["payments"][0]["payment"], "A1-P1");
    assert_eq!(i2["payments"][0]["amount"], "100.00");

    let (status, problem) = api.get("/v1/invoices/A1-I99", key).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_invoice"))
    );
}

#[tokio::test]
async fn an_accounts_payments_are_listed_with_their_allocations_one_page_at_a_time() {
    let book = book().await;
    let (api, key) = (&book.api, &book.key);
    let first = ok(api, "/v1/accounts/A1/payments?limit=1", key).await;
    assert_eq!(first["data"][0]["payment"]["locator"], "A1-P1");
    assert_eq!(
        first["data"][0]["payment"]["allocations"],
        json!([{"invoice": "A1-I2", "amount": "100.00"}])
    );
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = ok(
        api,
        &format!("/v1/accounts/A1/payments?limit=1&after={cursor}"),
        key,
    )
    .await;
    assert_eq!(second["data"][0]["payment"]["locator"], "A1-P2");
    assert_eq!(
        second["data"][0]["payment"]["allocations"],
        json!([{"invoice": "A1-I1", "amount": "70.00"}])
    );
    assert_eq!(second["next_cursor"], Value::Null);
    let a2 = ok(api, "/v1/accounts/A2/payments", key).await;
    assert_eq!(a2["data"][0]["payment"]["to_credit"], "60.00");
}

#[tokio::test]
async fn a_policys_timeline_lists_its_transactions_segments_and_charges() {
    let book = book().await;
    let timeline = ok(&book.api, "/v1/policies/P1/timeline", &book.key).await;
    assert_eq!(timeline["account"], "A1");
    assert_eq!(timeline["status"], "pending_lapse");
    assert_eq!(timeline["transactions"][0]["locator"], "P1-T1");
    assert_eq!(timeline["transactions"][0]["kind"], "new_business");
    assert_eq!(timeline["segments"][0]["term"], 1);
    assert_eq!(timeline["charges"][0]["amount"]["amount"], "1200.00");
    let timeline = ok(&book.api, "/v1/policies/P2/timeline", &book.key).await;
    assert_eq!(timeline["status"], "in_force");
    assert_eq!(timeline["terms"][0]["confirmed"], true);
}

#[tokio::test]
async fn worklists_list_delinquent_accounts_refunds_to_approve_holds_and_invoices_coming_due() {
    let book = book().await;
    let (api, key) = (&book.api, &book.key);
    let delinquent = ok(api, "/v1/worklists/delinquent-accounts", key).await;
    assert_eq!(
        delinquent["data"],
        json!([{
            "account": "A1", "delinquency": "A1-Q1", "started_on": book.due(1) + chrono::Duration::days(1),
            "due_date": book.due(1), "grace_end": book.due(1) + chrono::Duration::days(200),
            "policies": ["P1"], "billed_outstanding": "390.00"
        }])
    );
    let refunds = ok(api, "/v1/worklists/disbursements-awaiting-approval", key).await;
    assert_eq!(locators(&refunds), ["A2-D1"]);
    assert_eq!(refunds["data"][0]["amount"]["amount"], "25.00");
    let holds = ok(api, "/v1/worklists/active-holds", key).await;
    assert_eq!(locators(&holds), ["A2-H1"]);
    assert_eq!(holds["data"][0]["account"], "A2");
    // I7 is due in 5 days.
    assert_eq!((book.due(7) - book.today).num_days(), 5);
    let coming = ok(api, "/v1/worklists/invoices-coming-due", key).await;
    assert_eq!(locators(&coming), ["A1-I7"]);
    assert_eq!(coming["data"][0]["outstanding"], "100.00");
    let soon = ok(api, "/v1/worklists/invoices-coming-due?days=4", key).await;
    assert_eq!(soon["data"], json!([]));
    let plugins = ok(api, "/v1/worklists/quarantined-plugins", key).await;
    assert_eq!(plugins, json!({"data": [], "next_cursor": null}));
    let (status, problem) = api.get("/v1/worklists/chores", key).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_worklist"))
    );
}

#[tokio::test]
async fn another_tenant_sees_none_of_the_books_accounts_invoices_or_worklists() {
    let book = book().await;
    let other = book.api.key("globex", Role::ReadOnly);
    let api = &book.api;
    for path in [
        "/v1/accounts",
        "/v1/accounts?q=a",
        "/v1/accounts?filter=delinquent",
        "/v1/invoices",
        "/v1/invoices?status=past_due",
        "/v1/worklists/delinquent-accounts",
        "/v1/worklists/disbursements-awaiting-approval",
        "/v1/worklists/active-holds",
        "/v1/worklists/invoices-coming-due?days=366",
    ] {
        assert_eq!(
            ok(api, path, &other).await,
            json!({"data": [], "next_cursor": null}),
            "{path}"
        );
    }
    for path in [
        "/v1/accounts/A1/summary",
        "/v1/accounts/A1/payments",
        "/v1/invoices/A1-I1",
        "/v1/invoices?account=A1",
        "/v1/policies/P1/timeline",
    ] {
        let (status, problem) = api.get(path, &other).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {problem}");
        assert!(!problem.to_string().contains("Ada"), "{path}: {problem}");
    }
}

#[tokio::test]
async fn the_indexes_kept_in_apply_hold_what_the_accounts_say_and_are_rebuilt_from_the_log() {
    let book = book().await;
    let index = book
        .api
        .state
        .engine
        .read("lab", |s| {
            let c = &s.collections;
            let invoices: std::collections::BTreeSet<_> = c
                .accounts
                .values()
                .flat_map(|a| (0..a.invoices.len()).map(move |i| a.invoice_key(i)))
                .collect();
            assert_eq!(c.index.invoices, invoices);
            assert_eq!(invoices.len(), 8, "A1's seven and A2's one");
            let flagged =
                |set: &std::collections::BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>();
            assert_eq!(flagged(&c.index.delinquent), ["A1"]);
            assert_eq!(flagged(&c.index.with_credit), ["A2"]);
            assert_eq!(flagged(&c.index.held), ["A2"]);
            assert_eq!(flagged(&c.index.awaiting_approval), ["A2"]);
            let search: Vec<&str> = c.index.search.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(
                search,
                ["a1", "a2", "a3", "ada", "adam smith", "bob builder"]
            );
            c.index.clone()
        })
        .unwrap();
    drop(book.api);
    let again = Api::over(book.store);
    let rebuilt = again
        .state
        .engine
        .read("lab", |s| s.collections.index.clone())
        .unwrap();
    assert_eq!(rebuilt, index);
}

#[tokio::test]
async fn a_read_only_key_reads_every_view_and_changes_nothing() {
    let book = book().await;
    let reader = book.api.key("lab", Role::ReadOnly);
    let before = book.store.last_sequence("lab").unwrap();
    for path in [
        "/v1/accounts?q=a&filter=past_due",
        "/v1/accounts/A1/summary",
        "/v1/accounts/A1/payments",
        "/v1/invoices?account=A1&status=paid",
        "/v1/invoices?status=written_off",
        "/v1/invoices/A1-I3",
        "/v1/policies/P1/timeline",
        "/v1/worklists/delinquent-accounts",
        "/v1/worklists/disbursements-awaiting-approval",
        "/v1/worklists/active-holds",
        "/v1/worklists/invoices-coming-due",
        "/v1/worklists/quarantined-plugins",
    ] {
        ok(&book.api, path, &reader).await;
    }
    let written_off = ok(&book.api, "/v1/invoices?status=written_off", &reader).await;
    assert_eq!(locators(&written_off), ["A1-I3"]);
    assert_eq!(written_off["data"][0]["written_off"], "100.00");
    assert_eq!(written_off["data"][0]["outstanding"], "0.00");
    assert_eq!(book.store.last_sequence("lab").unwrap(), before);
}

#[tokio::test]
async fn an_invoice_in_detail_links_the_corrections_of_an_endorsement_caught_up_later() {
    let api = Api::new();
    let key = create_tenant(&api.state, "lab", true).unwrap();
    let key = super::with_product_and_account(&api, key).await;
    created(
        &api,
        "/v1/billing/settings",
        &key,
        json!({"settings": {"delinquency": {"grace_days": 200}}}),
    )
    .await;
    let start = first_of_next_month(Utc::now().date_naive());
    let mut p1 = policy("P1", "1200.00");
    p1["plan"] = json!("monthly");
    p1["start"] = json!(start);
    created(&api, "/v1/policies", &key, p1).await;
    let second = start + Months::new(1);
    created(&api, "/v1/clock", &key, json!({"today": second})).await;
    created(&api, "/v1/billing/runs", &key, json!({})).await;
    // From the second month on, 2400.00 a year: 100.00 more a month, the
    // second month's part caught up on the third month's invoice.
    created(
        &api,
        "/v1/policies/P1/endorsements",
        &key,
        json!({"effective": second, "changes": [{"op": "set_peril_fields", "exposure": "V1", "peril": "V1-COLL", "fields": {"yearly_premium": ["2400.00"]}}]}),
    )
    .await;
    let third = start + Months::new(2);
    created(&api, "/v1/clock", &key, json!({"today": third})).await;
    created(&api, "/v1/billing/runs", &key, json!({})).await;

    let i3 = ok(&api, "/v1/invoices/A1-I3", &key).await;
    assert_eq!(i3["total"]["amount"], "300.00");
    assert_eq!(i3["corrects"], json!(["A1-I2"]));
    let catch_up: Vec<&Value> = i3["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["corrects"] == "A1-I2-1")
        .collect();
    assert_eq!(catch_up.len(), 1, "{i3}");
    assert_eq!(catch_up[0]["amount"]["amount"], "100.00");
    assert_eq!(catch_up[0]["booked_by"]["locator"], "P1-T2");
    assert_eq!(catch_up[0]["booked_by"]["kind"], "endorsement");
    assert_eq!(date(&catch_up[0]["booked_by"]["effective"]), second);
    assert_eq!(date(&catch_up[0]["period"]["start"]), second);

    let i2 = ok(&api, "/v1/invoices/A1-I2", &key).await;
    assert_eq!(i2["corrected_by"], json!(["A1-I3"]));
    assert_eq!(
        i2["items"][0]["corrected_by"],
        json!([catch_up[0]["locator"]])
    );
    assert_eq!(i2["corrects"], json!([]));
}

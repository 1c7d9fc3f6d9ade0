//! What customers are billed through a policy's life, over HTTP, on test
//! tenants whose clock plays the year, against amounts worked out by hand
//! from DOMAIN section 5: [E14] (netting before spreading), [E16] (a
//! back-dated bind), levelling across transactions, the first/last residue
//! rule, zero-weight installments and a size that used to be refused.

use super::*;
use crate::boot::create_tenant_on;

/// A test tenant whose clock starts on `today`, with the product (plans
/// `monthly`, `annual` and whatever `plans` adds) and account A1; returns
/// its admin key.
async fn lab_on(api: &Api, today: &str, plans: Value) -> String {
    let key = create_tenant_on(&api.state, "lab", Some(today.parse().unwrap())).unwrap();
    let mut product = product();
    for (name, plan) in plans.as_object().unwrap() {
        product["plans"][name] = plan.clone();
    }
    let (status, answer) = api.post("/v1/products", &key, product).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let key = with_account(api, key).await;
    // Paid in advance: credit settles each invoice as it is issued, so
    // nothing here is ever past due.
    let (status, answer) = api
        .post(
            "/v1/payments",
            &key,
            json!({"account": "A1", "amount": "5000.00", "received_on": today}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    key
}

async fn issue(api: &Api, key: &str, yearly: &str, start: &str, plan: &str) -> Value {
    let mut body = policy("P1", yearly);
    body["plan"] = json!(plan);
    body["start"] = json!(start);
    let (status, answer) = api.post("/v1/policies", key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

/// Moves the clock to `day` and runs billing up to it.
async fn run_on(api: &Api, key: &str, day: &str) {
    let (status, answer) = api.post("/v1/clock", key, json!({"today": day})).await;
    assert!(status.is_success(), "{answer}");
    let (status, report) = api.post("/v1/billing/runs", key, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
}

/// Runs billing on the first of every month from `from` through `to`
/// (`YYYY-MM` both).
async fn run_monthly(api: &Api, key: &str, from: (i32, u32), to: (i32, u32)) {
    let (mut year, mut month) = from;
    while (year, month) <= to {
        run_on(api, key, &format!("{year}-{month:02}-01")).await;
        (year, month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
    }
}

/// Every invoice of A1: issue date, due date, total.
async fn invoices(api: &Api, key: &str) -> Vec<(String, String, String)> {
    let (status, billing) = api.get("/v1/accounts/A1/billing", key).await;
    assert_eq!(status, StatusCode::OK, "{billing}");
    billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let i = &r["invoice"];
            (
                i["issue_date"].as_str().unwrap().to_string(),
                i["due_date"].as_str().unwrap().to_string(),
                i["total"]["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(day: &str, total: &str) -> (String, String, String) {
    (day.to_string(), day.to_string(), total.to_string())
}

/// [E14]: 1000.00 a year, monthly from 2026-01-01 (83.33 for January to
/// August, 83.34 after), January to June invoiced; cancelled on 2026-06-15
/// effective 2026-07-01, before July is invoiced. The credit of 500.00
/// withdraws July to December (500.02 scheduled): no invoice is made for
/// them; the 0.02 still owed for January to June is billed once, on the next
/// invoice (the run of the day the cancellation arrives).
#[tokio::test]
async fn e14_a_cancellation_nets_the_months_after_it_and_bills_the_two_cents_once() {
    let api = Api::new();
    let key = lab_on(&api, "2025-12-15", json!({})).await;
    issue(&api, &key, "1000.00", "2026-01-01", "monthly").await;
    run_monthly(&api, &key, (2026, 1), (2026, 6)).await;
    run_on(&api, &key, "2026-06-15").await;
    let (status, cancellation) = api
        .post(
            "/v1/policies/P1/cancellations",
            &key,
            json!({"effective": "2026-07-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{cancellation}");
    run_on(&api, &key, "2026-06-15").await;
    run_monthly(&api, &key, (2026, 7), (2027, 1)).await;
    let mut expected: Vec<_> = (1..=6)
        .map(|m| row(&format!("2026-{m:02}-01"), "83.33"))
        .collect();
    expected.push(row("2026-06-15", "0.02"));
    assert_eq!(invoices(&api, &key).await, expected);
}

/// [E16]: 1200.00 a year, monthly (100.00 each), term
/// [2026-05-01, 2027-05-01), bound on 2026-08-12: one invoice of 400.00
/// (May to August) issued on 2026-08-12, then 100.00 on each first of the
/// month from 2026-09-01.
#[tokio::test]
async fn e16_a_back_dated_bind_bills_what_is_due_on_the_binding_day() {
    let api = Api::new();
    let key = lab_on(&api, "2026-08-12", json!({})).await;
    issue(&api, &key, "1200.00", "2026-05-01", "monthly").await;
    run_on(&api, &key, "2026-08-12").await;
    run_monthly(&api, &key, (2026, 9), (2027, 5)).await;
    let mut expected = vec![row("2026-08-12", "400.00")];
    for (year, month) in [(2026, 9), (2026, 10), (2026, 11), (2026, 12)]
        .into_iter()
        .chain((1..=4).map(|m| (2027, m)))
    {
        expected.push(row(&format!("{year}-{month:02}-01"), "100.00"));
    }
    assert_eq!(invoices(&api, &key).await, expected);
}

/// Levelling across transactions: 1000.00 a year monthly (83.33 x 8, 83.34
/// x 4), raised to 1001.00 from the start by an endorsement before anything
/// is invoiced: the twelve installments are levelled again over everything
/// they hold, 83.41 four times then 83.42 eight times (1001.00), never two
/// cents apart.
#[tokio::test]
async fn installments_are_levelled_again_over_everything_they_hold_after_an_endorsement() {
    let api = Api::new();
    let key = lab_on(&api, "2025-12-01", json!({})).await;
    issue(&api, &key, "1000.00", "2026-01-01", "monthly").await;
    let (status, answer) = api
        .post(
            "/v1/policies/P1/endorsements",
            &key,
            json!({"effective": "2026-01-01", "changes": [{"op": "set_peril_fields", "exposure": "V1", "peril": "V1-COLL", "fields": {"yearly_premium": ["1001.00"]}}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    run_monthly(&api, &key, (2026, 1), (2026, 12)).await;
    let totals: Vec<String> = invoices(&api, &key)
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    let mut expected = vec!["83.41".to_string(); 4];
    expected.extend(vec!["83.42".to_string(); 8]);
    assert_eq!(totals, expected);
}

/// The plan's residue on the last installment: the others are the level
/// share rounded to the nearest cent: 200.00 quarterly over a 9-month term
/// is 66.67, 66.67, 66.66 (not 66.66, 66.66, 66.68).
#[tokio::test]
async fn with_the_residue_last_the_others_are_rounded_to_the_nearest_cent() {
    let api = Api::new();
    let key = lab_on(
        &api,
        "2025-12-01",
        json!({"quarterly-last": {"cadence": "quarterly", "max_installments": 3, "residue": "last"}}),
    )
    .await;
    issue(&api, &key, "200.00", "2026-01-01", "quarterly-last").await;
    run_monthly(&api, &key, (2026, 1), (2026, 12)).await;
    let totals: Vec<String> = invoices(&api, &key)
        .await
        .into_iter()
        .map(|r| r.2)
        .collect();
    assert_eq!(totals, ["66.67", "66.67", "66.66"]);
}

/// A plan with weight-0 installments can be cancelled in its zero-weight
/// part (it used to answer 500 "charge covers no installment frame with a
/// positive weight"): quarterly weights [1, 1, 0, 0] bill 500.00 in January
/// and 500.00 in April. Cancelled from 2026-08-01, the credit touches only
/// zero-weight quarters; seven months in force cost 583.33 and 1000.00 was
/// invoiced, so 416.67 is credited once, on the day the cancellation arrives.
#[tokio::test]
async fn a_plan_with_weight_zero_installments_can_be_cancelled_in_its_zero_weight_part() {
    let api = Api::new();
    let key = lab_on(
        &api,
        "2025-12-01",
        json!({"weighted": {"cadence": "quarterly", "weights": ["1", "1", "0", "0"]}}),
    )
    .await;
    issue(&api, &key, "1000.00", "2026-01-01", "weighted").await;
    run_monthly(&api, &key, (2026, 1), (2026, 8)).await;
    let (status, cancellation) = api
        .post(
            "/v1/policies/P1/cancellations",
            &key,
            json!({"effective": "2026-08-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{cancellation}");
    run_on(&api, &key, "2026-08-01").await;
    run_monthly(&api, &key, (2026, 9), (2027, 1)).await;
    assert_eq!(
        invoices(&api, &key).await,
        vec![
            row("2026-01-01", "500.00"),
            row("2026-04-01", "500.00"),
            row("2026-08-01", "-416.67")
        ]
    );
}

/// [E5] weights on a cancellation: 1400.00 a year, quarterly with weights
/// `[3,2]` (600.00, 400.00, 200.00, 200.00), the first half invoiced and
/// cancelled effective 2026-07-01 before July is invoiced. The half year
/// costs 700.00 (months basis); 1000.00 was billed for it. The credit of
/// 700.00 withdraws the 400.00 scheduled for July to December (no invoice
/// for them) and the other 300.00 is refunded once, on the day the
/// cancellation arrives: 600.00 + 400.00 - 300.00 = 700.00.
#[tokio::test]
async fn a_weighted_plan_cancelled_mid_term_refunds_what_the_first_half_was_overbilled_once() {
    let api = Api::new();
    let key = lab_on(
        &api,
        "2025-12-01",
        json!({"weighted": {"cadence": "quarterly", "weights": ["3", "2"]}}),
    )
    .await;
    issue(&api, &key, "1400.00", "2026-01-01", "weighted").await;
    run_monthly(&api, &key, (2026, 1), (2026, 6)).await;
    run_on(&api, &key, "2026-06-20").await;
    let (status, cancellation) = api
        .post(
            "/v1/policies/P1/cancellations",
            &key,
            json!({"effective": "2026-07-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{cancellation}");
    run_on(&api, &key, "2026-06-20").await;
    run_monthly(&api, &key, (2026, 7), (2027, 1)).await;
    assert_eq!(
        invoices(&api, &key).await,
        vec![
            row("2026-01-01", "600.00"),
            row("2026-04-01", "400.00"),
            row("2026-06-20", "-300.00")
        ]
    );
}

/// The size cliff: a 12-month monthly policy with 16 rated perils, and a
/// weekly one with 6, used to be refused on commit (an event over 64 KiB)
/// after their preview answered 200. Both issue now, and the preview equals
/// the commit.
#[tokio::test]
async fn policies_with_many_perils_on_monthly_and_weekly_plans_issue() {
    let api = Api::new();
    let key = lab_on(&api, "2025-12-01", json!({"weekly": {"cadence": "weekly"}})).await;
    for (locator, plan, perils) in [("P16", "monthly", 16), ("P6W", "weekly", 6)] {
        let mut body = policy(locator, "1000.00");
        body["plan"] = json!(plan);
        let mut items = serde_json::Map::new();
        for n in 0..perils {
            items.insert(
                format!("V1-P{n}"),
                json!({"name": "collision", "fields": {"yearly_premium": [format!("{}.11", 100 + n)]}}),
            );
        }
        body["data"]["exposures"]["V1"]["perils"] = Value::Object(items);
        let (status, preview) = api
            .post("/v1/policies?preview=true", &key, body.clone())
            .await;
        assert_eq!(status, StatusCode::OK, "{preview}");
        let (status, committed) = api.post("/v1/policies", &key, body).await;
        assert_eq!(status, StatusCode::CREATED, "{locator}: {committed}");
        assert_eq!(preview["charges"], committed["charges"], "{locator}");
    }
}

//! Accounting periods over HTTP, the cases issue 21's "Tests" section
//! names: a closed month's GL export is the same file after later activity
//! (a late payment, a cancellation, another earnings run), and bad input
//! (closing out of order, closing a month not over, earnings dated into a
//! closed month, a mapping that leaves an account unmapped) is a clear
//! problem that changes nothing, previewed or not.
//!
//! The book: P1, 1200.00 a year from 2026-01-01 by months, written on
//! 2025-12-15; on 2026-02-01 December and January are closed (January
//! earns 100.00, dated 2026-01-31).

use super::*;
use crate::boot::create_tenant_on;

/// Every account of the chart mapped to its own code.
const MAPPING: &str = "\
account,product,currency,gl_account
cash,,,1000
premium_receivable_unbilled,,,1200
premium_receivable_billed,,,1210
customer_credit,,,2300
taxes_payable,,,2400
commission_payable,,,2500
ceded_premium_payable,,,2600
unearned_premium,,,2100
written_premium,,,4100
earned_premium,,,4000
surcharge_income,,,4200
fee_income,,,4300
deductible_recoveries,,,4400
commission_expense,,,5000
ceded_premium,,,5100
write_off_expense,,,5200
";

async fn send(
    api: &Api,
    key: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (StatusCode, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", content_type)
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, bytes.to_vec())
}

async fn post_ok(api: &Api, key: &str, path: &str, body: Value) -> Value {
    let (status, answer) = api.post(path, key, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// The book of the header, with `mapping` uploaded; the admin key.
async fn closed_through_january(api: &Api, mapping: &str) -> String {
    let key = create_tenant_on(&api.state, "lab", Some("2025-12-15".parse().unwrap())).unwrap();
    post_ok(api, &key, "/v1/products", product()).await;
    let key = with_account(api, key).await;
    let mut body = policy("P1", "1200.00");
    body["plan"] = json!("annual");
    post_ok(api, &key, "/v1/policies", body).await;
    post_ok(api, &key, "/v1/clock", json!({"today": "2026-02-01"})).await;
    for period in ["2025-12", "2026-01"] {
        post_ok(
            api,
            &key,
            &format!("/v1/accounting/periods/{period}/close"),
            json!({}),
        )
        .await;
    }
    let (status, answer) = send(
        api,
        &key,
        "PUT",
        "/v1/accounting/gl-mapping",
        "text/csv",
        mapping,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    key
}

async fn export(api: &Api, key: &str, file: &str) -> (StatusCode, Vec<u8>) {
    send(
        api,
        key,
        "GET",
        &format!("/v1/exports/{file}"),
        "text/plain",
        "",
    )
    .await
}

/// What a refusal must leave alone: the ledger's entries, the periods and
/// the mapping's version.
async fn footprint(api: &Api, key: &str) -> (Value, Value, Value) {
    let (_, entries) = api.get("/v1/ledger/entries", key).await;
    let (_, periods) = api.get("/v1/accounting/periods", key).await;
    let (_, mapping) = api.get("/v1/accounting/gl-mapping", key).await;
    (entries, periods, mapping["version"].clone())
}

#[tokio::test]
async fn a_closed_months_gl_export_is_the_same_file_after_later_activity() {
    let api = Api::new();
    let key = closed_through_january(&api, MAPPING).await;
    let (status, january_csv) = export(&api, &key, "gl-journal.csv?period=2026-01").await;
    assert_eq!(status, StatusCode::OK);
    let (_, january_parquet) = export(&api, &key, "gl-journal.parquet?period=2026-01").await;
    let text = String::from_utf8(january_csv.clone()).unwrap();
    // January's earnings: Dr unearned 100.00, Cr earned 100.00.
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains(",2100,unearned_premium,auto,,100.00,0.00"),
        "{text}"
    );
    assert!(
        text.contains(",4000,earned_premium,auto,,0.00,100.00"),
        "{text}"
    );

    // Later: a payment received in January (recorded now), a cancellation
    // effective in January, February's earnings.
    let paid = post_ok(
        &api,
        &key,
        "/v1/payments",
        json!({"account": "A1", "amount": "300.00", "received_on": "2026-01-20"}),
    )
    .await;
    assert_eq!(paid["journal_entries"][0]["accounting_date"], "2026-02-01");
    post_ok(
        &api,
        &key,
        "/v1/policies/P1/cancellations",
        json!({"effective": "2026-01-16", "reason": "insured_request"}),
    )
    .await;
    post_ok(&api, &key, "/v1/clock", json!({"today": "2026-03-01"})).await;
    post_ok(
        &api,
        &key,
        "/v1/accounting/earnings",
        json!({"as_of": "2026-02-28"}),
    )
    .await;

    let (_, again_csv) = export(&api, &key, "gl-journal.csv?period=2026-01").await;
    let (_, again_parquet) = export(&api, &key, "gl-journal.parquet?period=2026-01").await;
    assert_eq!(
        String::from_utf8(again_csv).unwrap(),
        text,
        "a closed month's export never changes"
    );
    assert_eq!(again_parquet, january_parquet);
    // The late payment is February's.
    let (_, february) = export(&api, &key, "gl-journal.csv?period=2026-02").await;
    let february = String::from_utf8(february).unwrap();
    assert!(
        february.contains("2026-02,")
            && february.contains(",2026-02-01,2026-01-20,payment_received,"),
        "{february}"
    );
}

#[tokio::test]
async fn bad_accounting_input_is_a_clear_problem_and_changes_nothing() {
    let api = Api::new();
    // Cash is left out of this mapping.
    let without_cash: String = MAPPING
        .lines()
        .filter(|l| !l.starts_with("cash,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let key = closed_through_january(&api, &without_cash).await;
    let before = footprint(&api, &key).await;

    for preview in ["", "?preview=true"] {
        for (path, body, status, code) in [
            // Out of order: February is next, not November (over, but
            // before the closed months).
            (
                "/v1/accounting/periods/2025-11/close",
                json!({}),
                StatusCode::CONFLICT,
                "period_out_of_order",
            ),
            // Not over: today is 2026-02-01 (and a month in the future).
            (
                "/v1/accounting/periods/2026-03/close",
                json!({}),
                StatusCode::CONFLICT,
                "period_not_over",
            ),
            (
                "/v1/accounting/periods/2026-02/close",
                json!({}),
                StatusCode::CONFLICT,
                "period_not_over",
            ),
            // Closed again.
            (
                "/v1/accounting/periods/2026-01/close",
                json!({}),
                StatusCode::CONFLICT,
                "period_out_of_order",
            ),
            // Earnings into January, closed.
            (
                "/v1/accounting/earnings",
                json!({"as_of": "2026-01-15"}),
                StatusCode::CONFLICT,
                "earnings_in_closed_period",
            ),
            (
                "/v1/accounting/earnings",
                json!({"as_of": "2026-01-31"}),
                StatusCode::CONFLICT,
                "earnings_in_closed_period",
            ),
            (
                "/v1/accounting/earnings",
                json!({"as_of": "2026-02-02"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "earnings_in_the_future",
            ),
        ] {
            let path = format!("{path}{preview}");
            let (answer_status, problem) = api.post(&path, &key, body).await;
            assert_eq!(answer_status, status, "{path}: {problem}");
            assert_eq!(problem["code"], code, "{path}");
            assert!(!problem["detail"].as_str().unwrap().is_empty());
        }
    }
    let (_, problem) = api
        .post(
            "/v1/accounting/earnings",
            &key,
            json!({"as_of": "2026-01-15"}),
        )
        .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("closed through 2026-01-31"),
        "{problem}"
    );

    assert_eq!(
        footprint(&api, &key).await,
        before,
        "refusals change nothing"
    );

    // A payment puts cash in February: the mapping leaves it unmapped.
    post_ok(
        &api,
        &key,
        "/v1/payments",
        json!({"account": "A1", "amount": "10.00", "received_on": "2026-02-01"}),
    )
    .await;
    let before = footprint(&api, &key).await;
    let (status, body) = export(&api, &key, "gl-journal.parquet?period=2026-02").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "gl_account_unmapped");
    assert!(
        problem["detail"].as_str().unwrap().contains("account cash"),
        "{problem}"
    );
    // January, with no cash, still exports.
    assert_eq!(
        export(&api, &key, "gl-journal.csv?period=2026-01").await.0,
        StatusCode::OK
    );
    assert_eq!(footprint(&api, &key).await, before, "nothing changed");
}

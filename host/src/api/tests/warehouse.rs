//! The warehouse exports over HTTP (issue 21 item 6): invoice lines,
//! payment allocations, write-offs, disbursements, installments, earned
//! premium by charge and commissions, as CSV and Parquet, filtered by days
//! and by the cursor a warehouse keeps between loads.
//!
//! The book, worked by hand: P1, 1200.00 a year from 2026-01-01 on the
//! monthly plan (12 installments of 100.00), written on 2025-12-15.
//! - 2026-01-01: the run issues A1-I1, 100.00 (installment 0, slice P1#0).
//! - 2026-01-05: a payment of 100.00 settles A1-I1 (one allocation).
//! - 2026-02-01: the run issues A1-I2, 100.00; written off whole on
//!   2026-02-02.
//! - 2026-02-03: a payment of 25.00 finds nothing open: all to credit; the
//!   25.00 is refunded (drafted, approved, executed by the run).
//! - Earned as of 2026-01-31 by months: 1200.00 / 12 = 100.00, unearned
//!   1100.00.

use super::*;
use crate::boot::create_tenant_on;

async fn lab(api: &Api) -> String {
    let key = create_tenant_on(&api.state, "lab", Some("2025-12-15".parse().unwrap())).unwrap();
    let (status, answer) = api.post("/v1/products", &key, product()).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    with_account(api, key).await
}

async fn post_ok(api: &Api, key: &str, path: &str, body: Value) -> Value {
    let (status, answer) = api.post(path, key, body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

/// GET `path`: status, the `Premia-Next-Cursor` header, the body.
async fn fetch(api: &Api, key: &str, path: &str) -> (StatusCode, Option<u64>, Vec<u8>) {
    let request = Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {key}"))
        .body(Body::empty())
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let cursor = response
        .headers()
        .get("premia-next-cursor")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, cursor, bytes.to_vec())
}

/// A CSV export as maps of column to value, and its cursor.
async fn rows(api: &Api, key: &str, path: &str) -> (Vec<BTreeMap<String, String>>, Option<u64>) {
    let (status, cursor, body) = fetch(api, key, path).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&body)
    );
    let mut reader = csv::Reader::from_reader(body.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect();
    (rows, cursor)
}

/// The named columns of each row.
fn pick(rows: &[BTreeMap<String, String>], columns: &[&str]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| columns.iter().map(|c| row[*c].clone()).collect())
        .collect()
}

fn strings(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| row.iter().map(|s| s.to_string()).collect())
        .collect()
}

use std::collections::BTreeMap;

/// The book of the header, through the refund's execution.
async fn book(api: &Api) -> String {
    let key = lab(api).await;
    let mut monthly = policy("P1", "1200.00");
    monthly["plan"] = json!("monthly");
    post_ok(api, &key, "/v1/policies", monthly).await;
    post_ok(api, &key, "/v1/clock", json!({"today": "2026-01-05"})).await;
    post_ok(
        api,
        &key,
        "/v1/billing/runs",
        json!({"up_to": "2026-01-05"}),
    )
    .await;
    post_ok(
        api,
        &key,
        "/v1/payments",
        json!({"account": "A1", "amount": "100.00", "received_on": "2026-01-05"}),
    )
    .await;
    post_ok(api, &key, "/v1/clock", json!({"today": "2026-02-03"})).await;
    post_ok(
        api,
        &key,
        "/v1/billing/runs",
        json!({"up_to": "2026-02-01"}),
    )
    .await;
    post_ok(
        api,
        &key,
        "/v1/write-offs",
        json!({"account": "A1", "invoice": "A1-I2", "on": "2026-02-02", "reason": "goodwill"}),
    )
    .await;
    post_ok(
        api,
        &key,
        "/v1/payments",
        json!({"account": "A1", "amount": "25.00", "received_on": "2026-02-03"}),
    )
    .await;
    let drafted = post_ok(
        api,
        &key,
        "/v1/disbursements",
        json!({"account": "A1", "amount": "25.00", "on": "2026-02-03", "reason": "refund"}),
    )
    .await;
    let disbursement = drafted.to_string();
    assert!(disbursement.contains("A1-D1"), "{drafted}");
    post_ok(
        api,
        &key,
        "/v1/disbursements/A1-D1/approvals",
        json!({"account": "A1", "on": "2026-02-03"}),
    )
    .await;
    post_ok(
        api,
        &key,
        "/v1/billing/runs",
        json!({"up_to": "2026-02-03"}),
    )
    .await;
    key
}

#[tokio::test]
async fn every_warehouse_export_holds_the_books_records_with_their_exact_amounts() {
    let api = Api::new();
    let key = book(&api).await;

    let (lines, _) = rows(&api, &key, "/v1/exports/invoice-lines.csv").await;
    assert_eq!(
        pick(
            &lines,
            &[
                "invoice",
                "issue_date",
                "kind",
                "policy",
                "transaction",
                "charge",
                "slice",
                "installment",
                "amount",
                "invoice_total"
            ]
        ),
        strings(&[
            &[
                "A1-I1",
                "2026-01-01",
                "installment",
                "P1",
                "P1-T1",
                "P1-T1-C1",
                "P1#0",
                "0",
                "100.00",
                "100.00"
            ],
            &[
                "A1-I2",
                "2026-02-01",
                "installment",
                "P1",
                "P1-T1",
                "P1-T1-C1",
                "P1#1",
                "1",
                "100.00",
                "100.00"
            ],
        ])
    );

    let (allocations, _) = rows(&api, &key, "/v1/exports/payment-allocations.csv").await;
    assert_eq!(
        pick(
            &allocations,
            &[
                "received_on",
                "payment_amount",
                "target",
                "invoice",
                "amount"
            ]
        ),
        strings(&[
            &["2026-01-05", "100.00", "invoice", "A1-I1", "100.00"],
            &["2026-02-03", "25.00", "customer_credit", "", "25.00"],
        ])
    );

    let (write_offs, _) = rows(&api, &key, "/v1/exports/write-offs.csv").await;
    assert_eq!(
        pick(
            &write_offs,
            &["invoice", "amount", "written_off_on", "automatic", "reason"]
        ),
        strings(&[&["A1-I2", "100.00", "2026-02-02", "false", "goodwill"]])
    );

    let (disbursements, _) = rows(&api, &key, "/v1/exports/disbursements.csv").await;
    assert_eq!(
        pick(
            &disbursements,
            &[
                "disbursement",
                "amount",
                "drafted_on",
                "status",
                "executed_on"
            ]
        ),
        strings(&[&["A1-D1", "25.00", "2026-02-03", "executed", "2026-02-03"]])
    );
    assert!(!disbursements[0]["entry_id"].is_empty());

    let (installments, _) = rows(&api, &key, "/v1/exports/installments.csv").await;
    assert_eq!(installments.len(), 12);
    assert_eq!(
        pick(
            &installments[..3],
            &[
                "slice",
                "installment",
                "installment_start",
                "amount",
                "invoice_date",
                "invoice",
                "invoice_line"
            ]
        ),
        strings(&[
            &[
                "P1#0",
                "0",
                "2026-01-01",
                "100.00",
                "2026-01-01",
                "A1-I1",
                &lines[0]["line"]
            ],
            &[
                "P1#1",
                "1",
                "2026-02-01",
                "100.00",
                "2026-02-01",
                "A1-I2",
                &lines[1]["line"]
            ],
            &["P1#2", "2", "2026-03-01", "100.00", "2026-03-01", "", ""],
        ])
    );
    let total: rust_decimal::Decimal = installments
        .iter()
        .map(|r| r["amount"].parse::<rust_decimal::Decimal>().unwrap())
        .sum();
    assert_eq!(total.to_string(), "1200.00");

    let (earned, cursor) = rows(
        &api,
        &key,
        "/v1/exports/earned-premium.csv?as_of=2026-01-31",
    )
    .await;
    assert_eq!(cursor, None, "a snapshot has no cursor");
    assert_eq!(
        pick(
            &earned,
            &[
                "charge",
                "product",
                "written",
                "earned",
                "unearned",
                "earned_posted"
            ]
        ),
        strings(&[&["P1-T1-C1", "auto", "1200.00", "100.00", "1100.00", "0.00"]])
    );
    // The product pays no commission: a header and no rows.
    let (commissions, _) = rows(&api, &key, "/v1/exports/commissions.csv").await;
    assert!(commissions.is_empty());
}

#[tokio::test]
async fn a_cursor_load_answers_only_what_posted_since_and_days_filter_each_datasets_own_day() {
    let api = Api::new();
    let key = book(&api).await;
    let (all, cursor) = rows(&api, &key, "/v1/exports/invoice-lines.csv").await;
    assert_eq!(all.len(), 2);
    let cursor = cursor.expect("a warehouse dataset answers its next cursor");
    let (_, _, entries) = fetch(&api, &key, "/v1/exports/ledger-lines.csv").await;
    let last_entry = String::from_utf8(entries)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse::<u64>().unwrap())
        .max()
        .unwrap();
    assert_eq!(cursor, last_entry, "the cursor is the book's last entry");

    // Nothing new: no rows, the same cursor.
    let (none, again) = rows(
        &api,
        &key,
        &format!("/v1/exports/invoice-lines.csv?after={cursor}"),
    )
    .await;
    assert!(none.is_empty());
    assert_eq!(again, Some(cursor));

    // March's invoice and a payment: only they come in the next load.
    post_ok(&api, &key, "/v1/clock", json!({"today": "2026-03-01"})).await;
    post_ok(
        &api,
        &key,
        "/v1/billing/runs",
        json!({"up_to": "2026-03-01"}),
    )
    .await;
    post_ok(
        &api,
        &key,
        "/v1/payments",
        json!({"account": "A1", "amount": "100.00", "received_on": "2026-03-01", "invoices": ["A1-I3"]}),
    )
    .await;
    let (new_lines, next) = rows(
        &api,
        &key,
        &format!("/v1/exports/invoice-lines.csv?after={cursor}"),
    )
    .await;
    assert_eq!(
        pick(&new_lines, &["invoice", "slice", "amount"]),
        strings(&[&["A1-I3", "P1#2", "100.00"]])
    );
    assert_eq!(
        next,
        Some(cursor + 2),
        "an invoice entry and a payment entry"
    );
    let (new_allocations, _) = rows(
        &api,
        &key,
        &format!("/v1/exports/payment-allocations.csv?after={cursor}"),
    )
    .await;
    assert_eq!(
        pick(&new_allocations, &["invoice", "amount"]),
        strings(&[&["A1-I3", "100.00"]])
    );
    let (new_installments, _) = rows(
        &api,
        &key,
        &format!("/v1/exports/installments.csv?after={cursor}"),
    )
    .await;
    assert!(
        new_installments.is_empty(),
        "no slice was written since: the schedule did not change"
    );

    // Days: February's invoice lines, January's payments.
    let (february, _) = rows(
        &api,
        &key,
        "/v1/exports/invoice-lines.csv?from=2026-02-01&to=2026-02-28",
    )
    .await;
    assert_eq!(pick(&february, &["invoice"]), strings(&[&["A1-I2"]]));
    let (january, _) = rows(
        &api,
        &key,
        "/v1/exports/payment-allocations.csv?to=2026-01-31",
    )
    .await;
    assert_eq!(
        pick(&january, &["received_on", "amount"]),
        strings(&[&["2026-01-05", "100.00"]])
    );
}

#[tokio::test]
async fn warehouse_exports_are_typed_parquet_and_refuse_parameters_they_do_not_take() {
    let api = Api::new();
    let key = book(&api).await;
    use parquet::basic::{LogicalType, Type as PhysicalType};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    for (dataset, count, money) in [
        ("invoice-lines", 2, "amount"),
        ("payment-allocations", 2, "amount"),
        ("write-offs", 1, "amount"),
        ("disbursements", 1, "amount"),
        ("installments", 12, "amount"),
        ("earned-premium", 1, "earned"),
        ("commissions", 0, "amount"),
    ] {
        let (status, _, bytes) = fetch(&api, &key, &format!("/v1/exports/{dataset}.parquet")).await;
        assert_eq!(status, StatusCode::OK, "{dataset}");
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &bytes).unwrap();
        let reader = SerializedFileReader::new(file).unwrap();
        let metadata = reader.metadata().file_metadata();
        assert_eq!(metadata.num_rows(), count, "{dataset}");
        let column = metadata
            .schema_descr()
            .columns()
            .iter()
            .find(|c| c.name() == money)
            .unwrap()
            .clone();
        assert_eq!(column.physical_type(), PhysicalType::INT64, "{dataset}");
        assert!(
            matches!(
                column.logical_type_ref(),
                Some(LogicalType::Decimal {
                    scale: 4,
                    precision: 18
                })
            ),
            "{dataset}: money is a decimal, never a float"
        );
    }

    for (path, code) in [
        (
            "/v1/exports/invoice-lines.csv?as_of=2026-01-31",
            "bad_query",
        ),
        ("/v1/exports/charges.csv?after=3", "bad_query"),
        (
            "/v1/exports/earned-premium.csv?from=2026-01-01",
            "bad_query",
        ),
        (
            "/v1/exports/write-offs.csv?from=2026-02-01&to=2026-01-01",
            "bad_query",
        ),
    ] {
        let (status, problem) = api.get(path, &key).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {problem}");
        assert_eq!(problem["code"], code, "{path}");
    }
    let (status, problem) = api.get("/v1/exports/installments.csv?after=x", &key).await;
    assert!(status.is_client_error(), "{problem}");

    // Another tenant reads only its own (empty) book.
    let other = api.key("other", Role::ReadOnly);
    for dataset in ["invoice-lines", "payment-allocations", "installments"] {
        let (other_rows, cursor) = rows(&api, &other, &format!("/v1/exports/{dataset}.csv")).await;
        assert!(other_rows.is_empty(), "{dataset}");
        assert_eq!(cursor, Some(0));
    }
}

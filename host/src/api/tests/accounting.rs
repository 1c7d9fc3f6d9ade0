//! Insurance accounting over HTTP (DOMAIN section 10, issue 21): earnings
//! runs and the written/earned/unearned report against [E10] worked by hand,
//! accounting periods closed in order with a late entry landing in the
//! first open one, and the general-ledger export through an uploaded
//! mapping.
//!
//! [E10], by hand: 1200.00 on `[2026-01-01, 2027-01-01)`.
//! - By months: January is 1 of 12 months, 1200.00 / 12 = 100.00; through
//!   February 2 months, 200.00; unearned then 1000.00.
//! - By days: January is 31 of 365 days, 1200.00 x 31 / 365 = 101.917... =
//!   101.92; through February 59 days, 1200.00 x 59 / 365 = 193.972... =
//!   193.97; unearned then 1006.03. February's run posts 193.97 - 101.92 =
//!   92.05.
//! - A cancellation effective 2026-07-01 by months refunds 6 of 12 months,
//!   -600.00 on `[2026-07-01, 2027-01-01)`: 600.00 written, and through
//!   2026-06-30 the original has earned 6 months (600.00) and the refund
//!   nothing: all 600.00 earned, 0.00 unearned, and so it stays.

use super::*;
use crate::boot::create_tenant_on;

/// A test tenant `lab` on 2025-12-15 with product `auto` (months), product
/// `auto-days` (days) and account A1; returns its admin key.
async fn lab(api: &Api) -> String {
    let key = create_tenant_on(&api.state, "lab", Some("2025-12-15".parse().unwrap())).unwrap();
    let (status, answer) = api.post("/v1/products", &key, product()).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let mut by_days = product();
    by_days["name"] = json!("auto-days");
    by_days["duration_basis"] = json!("days");
    let (status, answer) = api.post("/v1/products", &key, by_days).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    with_account(api, key).await
}

/// Issues `locator` of `product`, 1200.00 a year from 2026-01-01, paid in
/// full.
async fn issue(api: &Api, key: &str, locator: &str, product: &str) {
    let mut body = policy(locator, "1200.00");
    body["product"] = json!(product);
    body["plan"] = json!("annual");
    let (status, answer) = api.post("/v1/policies", key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(amounts(&answer, "premium"), ["1200.00"]);
}

async fn clock(api: &Api, key: &str, today: &str) {
    let (status, answer) = api.post("/v1/clock", key, json!({"today": today})).await;
    assert!(status.is_success(), "{answer}");
}

/// Runs earnings as of `as_of`; returns the amount each `premium_earned`
/// entry moved, by product (its reference), signed (positive: unearned to
/// earned).
async fn earn(api: &Api, key: &str, as_of: &str) -> Vec<(String, String)> {
    let (status, answer) = api
        .post("/v1/accounting/earnings", key, json!({"as_of": as_of}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    earned_entries(&answer)
}

fn earned_entries(effect: &Value) -> Vec<(String, String)> {
    effect["journal_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            assert_eq!(entry["kind"], "premium_earned", "{entry}");
            let line = &entry["lines"][0];
            let amount = line["amount"].as_str().unwrap();
            let signed = if line["account"]["account"] == "unearned_premium" {
                amount.to_string()
            } else {
                format!("-{amount}")
            };
            (entry["reference"].as_str().unwrap().to_string(), signed)
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The report's row of `policy`: (written, earned, unearned).
async fn premium(api: &Api, key: &str, as_of: &str, policy: &str) -> (String, String, String) {
    let (status, report) = api
        .get(&format!("/v1/accounting/premium?as_of={as_of}"), key)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let row = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["policy"] == policy)
        .unwrap_or_else(|| panic!("no row of {policy}: {report}"));
    let text = |field: &str| row[field].as_str().unwrap().to_string();
    (text("written"), text("earned"), text("unearned"))
}

fn triple(written: &str, earned: &str, unearned: &str) -> (String, String, String) {
    (written.into(), earned.into(), unearned.into())
}

/// The ledger's balance of an account with no subledger.
async fn balance(api: &Api, key: &str, account: &str) -> String {
    let (status, balances) = api.get("/v1/ledger/balances", key).await;
    assert_eq!(status, StatusCode::OK);
    balances
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["account"]["account"] == account)
        .map_or("0.00".to_string(), |b| {
            b["balance"].as_str().unwrap().to_string()
        })
}

#[tokio::test]
async fn premium_is_written_to_unearned_and_earns_by_months_and_by_days_as_e10_says() {
    let api = Api::new();
    let key = lab(&api).await;
    issue(&api, &key, "P1", "auto").await;
    issue(&api, &key, "P2", "auto-days").await;
    // Written: all unearned, nothing yet revenue.
    assert_eq!(balance(&api, &key, "unearned_premium").await, "2400.00");
    assert_eq!(balance(&api, &key, "written_premium").await, "0.00");
    assert_eq!(
        premium(&api, &key, "2025-12-31", "P1").await,
        triple("1200.00", "0.00", "1200.00")
    );

    // Not past the tenant's today.
    let (status, answer) = api
        .post(
            "/v1/accounting/earnings",
            &key,
            json!({"as_of": "2026-01-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "earnings_in_the_future");

    clock(&api, &key, "2026-02-01").await;
    // A preview shows the run and keeps nothing.
    let (status, preview) = api
        .post(
            "/v1/accounting/earnings?preview=true",
            &key,
            json!({"as_of": "2026-01-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        earned_entries(&preview),
        pairs(&[("auto", "100.00"), ("auto-days", "101.92")])
    );
    assert_eq!(balance(&api, &key, "earned_premium").await, "0.00");

    assert_eq!(
        earn(&api, &key, "2026-01-31").await,
        pairs(&[("auto", "100.00"), ("auto-days", "101.92")])
    );
    // Idempotent: the same day again posts nothing.
    assert_eq!(earn(&api, &key, "2026-01-31").await, pairs(&[]));
    assert_eq!(balance(&api, &key, "earned_premium").await, "201.92");

    clock(&api, &key, "2026-03-01").await;
    assert_eq!(
        earn(&api, &key, "2026-02-28").await,
        pairs(&[("auto", "100.00"), ("auto-days", "92.05")])
    );
    assert_eq!(
        premium(&api, &key, "2026-01-31", "P1").await,
        triple("1200.00", "100.00", "1100.00")
    );
    assert_eq!(
        premium(&api, &key, "2026-01-31", "P2").await,
        triple("1200.00", "101.92", "1098.08")
    );
    assert_eq!(
        premium(&api, &key, "2026-02-28", "P1").await,
        triple("1200.00", "200.00", "1000.00")
    );
    assert_eq!(
        premium(&api, &key, "2026-02-28", "P2").await,
        triple("1200.00", "193.97", "1006.03")
    );
    // The ledger agrees with the report: 200.00 + 193.97 earned.
    assert_eq!(balance(&api, &key, "earned_premium").await, "393.97");
    assert_eq!(balance(&api, &key, "unearned_premium").await, "2006.03");
    let (_, report) = api
        .get("/v1/accounting/premium?as_of=2026-02-28", &key)
        .await;
    let days = report["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["product"] == "auto-days")
        .unwrap();
    assert_eq!(days["earned"], "193.97");
    assert_eq!(report["totals"][0]["currency"], "USD");
    assert_eq!(report["totals"][0]["written"], "2400.00");
    assert_eq!(report["totals"][0]["earned"], "393.97");
    assert_eq!(report["totals"][0]["unearned"], "2006.03");

    let (_, trial) = api.get("/v1/ledger/trial-balance", &key).await;
    assert_eq!(trial[0]["total_debits"], trial[0]["total_credits"]);
}

#[tokio::test]
async fn a_cancellation_leaves_600_written_all_earned_by_the_end_of_june() {
    let api = Api::new();
    let key = lab(&api).await;
    issue(&api, &key, "P1", "auto").await;
    let (status, answer) = api
        .post(
            "/v1/policies/P1/cancellations",
            &key,
            json!({"effective": "2026-07-01", "reason": "insured_request"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(amounts(&answer, "premium"), ["-600.00"]);
    assert_eq!(
        premium(&api, &key, "2026-06-30", "P1").await,
        triple("600.00", "600.00", "0.00")
    );
    assert_eq!(
        premium(&api, &key, "2026-12-31", "P1").await,
        triple("600.00", "600.00", "0.00")
    );
    assert_eq!(
        premium(&api, &key, "2026-03-31", "P1").await,
        triple("600.00", "300.00", "300.00")
    );

    clock(&api, &key, "2026-07-01").await;
    assert_eq!(
        earn(&api, &key, "2026-06-30").await,
        pairs(&[("auto", "600.00")])
    );
    // After June the original and the refund earn +100.00 and -100.00 a
    // month: nothing more to post, ever.
    clock(&api, &key, "2027-01-01").await;
    assert_eq!(earn(&api, &key, "2026-12-31").await, pairs(&[]));
    assert_eq!(balance(&api, &key, "earned_premium").await, "600.00");
    assert_eq!(balance(&api, &key, "unearned_premium").await, "0.00");
}

#[tokio::test]
async fn months_close_in_order_and_a_late_entry_lands_in_the_first_open_one() {
    let store = crate::store::test_store();
    let api = Api::over(Arc::clone(&store));
    let key = lab(&api).await;
    // Written on 2025-12-15: December 2025 is the book's first month.
    issue(&api, &key, "P1", "auto").await;
    clock(&api, &key, "2026-02-01").await;

    let close = |period: &str| format!("/v1/accounting/periods/{period}/close");
    let (status, answer) = api.post(&close("2026-01"), &key, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "period_out_of_order");
    assert!(
        answer["detail"].as_str().unwrap().contains("2025-12"),
        "{answer}"
    );
    let (status, answer) = api.post(&close("2026-02"), &key, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "period_not_over");
    let (status, answer) = api.post(&close("2026-13"), &key, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "invalid_period");

    let (status, answer) = api.post(&close("2025-12"), &key, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // Nothing of a term starting 2026-01-01 is earned in December.
    assert_eq!(earned_entries(&answer), pairs(&[]));
    // Closing January first earns it: 100.00, dated 2026-01-31.
    let (status, answer) = api.post(&close("2026-01"), &key, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(earned_entries(&answer), pairs(&[("auto", "100.00")]));
    assert_eq!(answer["journal_entries"][0]["posted_on"], "2026-01-31");
    let (status, answer) = api.post(&close("2026-01"), &key, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "period_out_of_order");

    let (status, january) = api.get("/v1/accounting/periods/2026-01", &key).await;
    assert_eq!(status, StatusCode::OK, "{january}");
    assert_eq!(january["state"], "closed");
    let activity = &january["currencies"][0]["activity"];
    assert_eq!(activity["total_debits"], "100.00");
    let row = |balances: &Value, account: &str| {
        balances["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["account"] == account)
            .map(|r| (r["debits"].clone(), r["credits"].clone()))
    };
    assert_eq!(
        row(activity, "earned_premium"),
        Some((json!("0.00"), json!("100.00")))
    );
    let closing = &january["currencies"][0]["closing"];
    assert_eq!(
        row(closing, "unearned_premium"),
        Some((json!("100.00"), json!("1200.00")))
    );

    // A payment received in January, recorded in February: its entry keeps
    // its date and lands in February.
    let (status, answer) = api
        .post(
            "/v1/payments",
            &key,
            json!({"account": "A1", "amount": "50.00", "received_on": "2026-01-20"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let entry = &answer["journal_entries"][0];
    assert_eq!(entry["posted_on"], "2026-01-20");
    assert_eq!(entry["accounting_date"], "2026-02-01");
    let (_, again) = api.get("/v1/accounting/periods/2026-01", &key).await;
    assert_eq!(again, january, "a closed month reads the same forever");
    let (_, february) = api.get("/v1/accounting/periods/2026-02", &key).await;
    assert_eq!(february["state"], "open");
    assert_eq!(
        row(&february["currencies"][0]["activity"], "cash"),
        Some((json!("50.00"), json!("0.00")))
    );

    let (status, periods) = api.get("/v1/accounting/periods", &key).await;
    assert_eq!(status, StatusCode::OK, "{periods}");
    let states: Vec<(String, String)> = periods
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"].as_str().unwrap().to_string(),
                p["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        states,
        pairs(&[
            ("2025-12", "closed"),
            ("2026-01", "closed"),
            ("2026-02", "open")
        ])
    );
    assert_eq!(periods[1]["closed_by"], "admin:first admin");

    // A host started over the same log rebuilds the same periods, accounting
    // dates and trial balances (and refuses nothing it replays).
    let restarted = Api::over(store);
    let (_, replayed) = restarted.get("/v1/accounting/periods/2026-01", &key).await;
    assert_eq!(replayed, january);
    let (_, replayed) = restarted.get("/v1/accounting/periods", &key).await;
    assert_eq!(replayed, periods);
    let (_, entries) = restarted.get("/v1/ledger/entries", &key).await;
    let last = entries["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["accounting_date"], "2026-02-01");
    let (status, answer) = restarted.post(&close("2026-01"), &key, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");

    // Every event of the new kinds reads back to the same JSON it was
    // stored as (the golden-log rule for formats to come).
    let mut kinds = std::collections::BTreeSet::new();
    for stored in restarted.state.store.read("lab", 0, 100_000).unwrap() {
        let event = crate::engine::decode_stored(&stored).unwrap();
        assert_eq!(serde_json::to_value(&event).unwrap(), stored.payload);
        kinds.insert(stored.kind);
    }
    assert!(kinds.contains("premium_earned"), "{kinds:?}");
    assert!(kinds.contains("accounting_period_closed"), "{kinds:?}");
}

/// Sends `method path` with a raw body of `content_type`; the answer's
/// status and bytes.
async fn raw(
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

async fn put_mapping(api: &Api, key: &str, csv: &str) -> Value {
    let (status, body) = raw(
        api,
        key,
        "PUT",
        "/v1/accounting/gl-mapping",
        "text/csv",
        csv,
    )
    .await;
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

/// The GL journal of `period` as CSV rows (header first), or the problem.
async fn gl_journal(api: &Api, key: &str, period: &str) -> Result<Vec<Vec<String>>, Value> {
    let path = format!("/v1/exports/gl-journal.csv?period={period}");
    let (status, body) = raw(api, key, "GET", &path, "text/plain", "").await;
    if status != StatusCode::OK {
        return Err(serde_json::from_slice(&body).unwrap());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_slice());
    Ok(reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect())
}

/// (gl_account, account, product, debit, credit) of each row, and whether
/// debits equal credits per currency.
fn mapped(rows: &[Vec<String>]) -> Vec<(String, String, String, String, String)> {
    let header = &rows[0];
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut per_currency: BTreeMap<String, rust_decimal::Decimal> = BTreeMap::new();
    let lines = rows[1..]
        .iter()
        .map(|row| {
            let debit: rust_decimal::Decimal = row[at("debit")].parse().unwrap();
            let credit: rust_decimal::Decimal = row[at("credit")].parse().unwrap();
            *per_currency.entry(row[at("currency")].clone()).or_default() += debit - credit;
            (
                row[at("gl_account")].clone(),
                row[at("account")].clone(),
                row[at("product")].clone(),
                row[at("debit")].clone(),
                row[at("credit")].clone(),
            )
        })
        .collect();
    for (currency, net) in per_currency {
        assert!(net.is_zero(), "{currency} does not balance: {net}");
    }
    lines
}

fn line(
    gl: &str,
    account: &str,
    product: &str,
    debit: &str,
    credit: &str,
) -> (String, String, String, String, String) {
    (
        gl.into(),
        account.into(),
        product.into(),
        debit.into(),
        credit.into(),
    )
}

use std::collections::BTreeMap;

const MAPPING_V1: &str = "\
account,product,currency,gl_account
premium_receivable_unbilled,,,1200
unearned_premium,,,2100
earned_premium,auto,USD,4000-AUTO
earned_premium,,,4000
";

#[tokio::test]
async fn the_gl_export_maps_each_periods_lines_balanced_and_names_an_unmapped_account() {
    let api = Api::new();
    let key = lab(&api).await;
    issue(&api, &key, "P1", "auto").await;
    issue(&api, &key, "P2", "auto-days").await;
    clock(&api, &key, "2026-02-01").await;
    for period in ["2025-12", "2026-01"] {
        let (status, answer) = api
            .post(
                &format!("/v1/accounting/periods/{period}/close"),
                &key,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let problem = gl_journal(&api, &key, "2026-01").await.unwrap_err();
    assert_eq!(problem["code"], "gl_mapping_missing");

    // A bad upload is refused and keeps nothing.
    let (status, body) = raw(
        &api,
        &key,
        "PUT",
        "/v1/accounting/gl-mapping",
        "text/csv",
        "account,gl_account\npremium,4000\n",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "gl_mapping_unknown_account");

    let uploaded = put_mapping(&api, &key, MAPPING_V1).await;
    assert_eq!(uploaded["other_events"][0]["accounting"]["version"], 1);
    let (status, current) = api.get("/v1/accounting/gl-mapping", &key).await;
    assert_eq!(status, StatusCode::OK, "{current}");
    assert_eq!(current["version"], 1);
    assert_eq!(current["actor"], "admin:first admin");
    assert_eq!(current["mapping"]["rows"].as_array().unwrap().len(), 4);

    // December: the two policies written, 1200.00 each.
    let december = gl_journal(&api, &key, "2025-12").await.unwrap();
    assert_eq!(
        mapped(&december),
        [
            line(
                "1200",
                "premium_receivable_unbilled",
                "auto",
                "1200.00",
                "0.00"
            ),
            line("2100", "unearned_premium", "auto", "0.00", "1200.00"),
            line(
                "1200",
                "premium_receivable_unbilled",
                "auto-days",
                "1200.00",
                "0.00"
            ),
            line("2100", "unearned_premium", "auto-days", "0.00", "1200.00"),
        ]
    );
    // January: earned 100.00 (months) and 101.92 (days); `auto` has its own
    // revenue account.
    let january = gl_journal(&api, &key, "2026-01").await.unwrap();
    assert_eq!(
        mapped(&january),
        [
            line("2100", "unearned_premium", "auto", "100.00", "0.00"),
            line("4000-AUTO", "earned_premium", "auto", "0.00", "100.00"),
            line("2100", "unearned_premium", "auto-days", "101.92", "0.00"),
            line("4000", "earned_premium", "auto-days", "0.00", "101.92"),
        ]
    );

    // February holds a payment: cash and customer credit are not mapped.
    let (status, answer) = api
        .post(
            "/v1/payments",
            &key,
            json!({"account": "A1", "amount": "50.00", "received_on": "2026-02-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let problem = gl_journal(&api, &key, "2026-02").await.unwrap_err();
    assert_eq!(problem["code"], "gl_account_unmapped");
    assert_eq!(problem["status"], 422);
    assert!(
        problem["detail"].as_str().unwrap().contains("account cash"),
        "{problem}"
    );

    let second = format!("{MAPPING_V1}cash,,,1000\ncustomer_credit,,USD,2300\n");
    let uploaded = put_mapping(&api, &key, &second).await;
    assert_eq!(uploaded["other_events"][0]["accounting"]["version"], 2);
    let february = gl_journal(&api, &key, "2026-02").await.unwrap();
    assert_eq!(
        mapped(&february),
        [
            line("1000", "cash", "", "50.00", "0.00"),
            line("2300", "customer_credit", "", "0.00", "50.00"),
        ]
    );

    // The same lines as Parquet, typed, for a warehouse or DuckDB.
    let (status, bytes) = raw(
        &api,
        &key,
        "GET",
        "/v1/exports/gl-journal.parquet?period=2026-01",
        "text/plain",
        "",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&bytes[..4], b"PAR1");
    // `scripts/gl_journal_duckdb.py` reads this file with DuckDB.
    if let Ok(path) = std::env::var("PREMIA_GL_PARQUET_OUT") {
        std::fs::write(path, &bytes).unwrap();
    }
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let mut file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut file, &bytes).unwrap();
    let reader = SerializedFileReader::new(file).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), 4);
    let fields: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(fields[0], "period");
    assert!(fields.contains(&"gl_account".to_string()), "{fields:?}");

    let (status, answer) = api.get("/v1/exports/gl-journal.csv", &key).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, answer) = api
        .get("/v1/exports/ledger-lines.csv?period=2026-01", &key)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
}

//! The invoicing world's `schedule-dates`, end to end over HTTP: the
//! `date-mover` fixture (a real wasm invoicer) uploaded, a product naming it,
//! a policy bound and billed on a test tenant's clock. Its installments are
//! invoiced on the previous business day when they fall on a weekend and due
//! ten days after they start, on the stored schedule and on the invoices the
//! billing run issues. A weekly plan, whose installments cannot be due ten
//! days after they start, is refused with `invalid_installment_dates`.

use crate::harness::{ApiClient, TestHost, auto_policy};
use reqwest::StatusCode;
use serde_json::json;

/// Uploads the date-mover fixture as `date-mover@1` and deploys `dated`: the
/// demo's auto product invoiced by it, with a weekly plan besides its own.
fn deploy_dated_product(admin: &ApiClient) {
    let (status, _) = admin.upload_wasm("date-mover", "1", "fixture-date-mover");
    assert_eq!(status, StatusCode::CREATED);
    let (status, deployed) = admin.deploy_product_variant("auto", "dated", |product| {
        product["invoicing_plugin"] = json!("date-mover@1");
        product["plans"]["weekly"] = json!({"cadence": "weekly"});
    });
    assert_eq!(status, StatusCode::CREATED, "{deployed}");
}

#[test]
fn the_wasm_invoicing_plugin_moves_the_dates_of_the_invoices_a_billing_run_issues() {
    let host = TestHost::test_tenant();
    let admin = host.admin();
    deploy_dated_product(&admin);
    admin.open_account("A-1");
    admin.move_clock("2027-04-15");

    // Monthly from Saturday 2027-05-01.
    let mut policy = auto_policy("P-1");
    policy["product"] = json!("dated");
    policy["start"] = json!("2027-05-01");
    policy["plan"] = json!("monthly");
    let (status, bound) = admin.post("/v1/policies", &policy);
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    // Paid ahead, so nothing lapses.
    let (status, paid) = admin.post(
        "/v1/payments",
        &json!({"account": "A-1", "amount": "2000.00", "received_on": "2027-04-15", "reference": "prepaid"}),
    );
    assert_eq!(status, StatusCode::CREATED, "{paid}");

    admin.move_clock("2027-08-31");
    let (status, report) = admin.post("/v1/billing/runs", &json!({"up_to": "2027-08-31"}));
    assert_eq!(status, StatusCode::OK, "{report}");
    let (status, billing) = admin.get("/v1/accounts/A-1/billing");
    assert_eq!(status, StatusCode::OK);
    let issued: Vec<(&str, &str)> = billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["invoice"]["issue_date"].as_str().unwrap(),
                i["invoice"]["due_date"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        issued,
        vec![
            // May starts on a Saturday: invoiced the Friday before.
            ("2027-04-30", "2027-05-11"),
            ("2027-06-01", "2027-06-11"),
            ("2027-07-01", "2027-07-11"),
            // August starts on a Sunday.
            ("2027-07-30", "2027-08-11"),
        ],
        "{billing}"
    );
}

#[test]
fn a_weekly_plan_the_plugin_makes_due_after_each_week_is_refused_and_nothing_is_bound() {
    let host = TestHost::test_tenant();
    let admin = host.admin();
    deploy_dated_product(&admin);
    admin.open_account("A-1");
    admin.move_clock("2027-04-15");
    let mut policy = auto_policy("P-2");
    policy["product"] = json!("dated");
    policy["start"] = json!("2027-05-01");
    policy["plan"] = json!("weekly");
    let (status, problem) = admin.post("/v1/policies", &policy);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["code"], "invalid_installment_dates");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("due on 2027-05-11, after its last day 2027-05-07"),
        "{problem}"
    );
    let (status, _) = admin.get("/v1/policies/P-2");
    assert_eq!(status, StatusCode::NOT_FOUND);
}

//! Billing refusals through the API: each situation answers its own stable
//! `code` (not a catch-all), with the status its kind says, and changes
//! nothing; a billing inconsistency is a 500 whose text stays out of the
//! answer; and the status of errors of every module comes from their kind
//! (a rater's decline 409, its deadline 504, a quarantined plugin 503...).

use super::*;

/// Posts `body` to `path` and asserts the answer is `status` with `code`.
async fn refused(api: &Api, key: &str, path: &str, body: Value, status: StatusCode, code: &str) {
    let (got, problem) = api.post(path, key, body).await;
    assert_eq!(
        (got, problem["code"].as_str()),
        (status, Some(code)),
        "{path}: {problem}"
    );
    assert_eq!(problem["status"], status.as_u16(), "{problem}");
}

/// Records a payment of `amount` on A1, received on `on`.
async fn pay(api: &Api, key: &str, amount: &str, on: &str) {
    let (status, paid) = api
        .post(
            "/v1/payments",
            key,
            json!({"account": "A1", "amount": amount, "received_on": on}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
}

#[tokio::test]
async fn credit_and_refunds_beyond_what_the_account_has_are_refused_each_with_its_own_code() {
    let api = Api::new();
    let key = acme(&api).await;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    refused(
        &api,
        &key,
        "/v1/credit-distributions",
        json!({"account": "A1", "on": "2026-01-02"}),
        unprocessable,
        "no_credit_to_distribute",
    )
    .await;
    pay(&api, &key, "100.00", "2026-01-05").await;
    let before = api.get("/v1/events?limit=1000", &key).await.1;
    refused(
        &api,
        &key,
        "/v1/disbursements",
        json!({"account": "A1", "amount": "100.01", "on": "2026-01-05"}),
        unprocessable,
        "disbursement_exceeds_credit",
    )
    .await;
    refused(
        &api,
        &key,
        "/v1/credit-distributions",
        json!({"account": "A1", "on": "2026-01-05"}),
        unprocessable,
        "no_open_invoice",
    )
    .await;
    refused(
        &api,
        &key,
        "/v1/payments/A1-P1/reversals",
        json!({"account": "A1", "on": "2026-01-04"}),
        unprocessable,
        "date_before_record",
    )
    .await;
    let long = "x".repeat(crate::collections::decide::TEXT_BYTES_MAX + 1);
    refused(
        &api,
        &key,
        "/v1/payments",
        json!({"account": "A1", "amount": "1.00", "received_on": "2026-01-05", "reference": long}),
        unprocessable,
        "text_too_long",
    )
    .await;
    assert_eq!(
        api.get("/v1/events?limit=1000", &key).await.1,
        before,
        "nothing changed"
    );
}

#[tokio::test]
async fn a_plan_change_to_the_plan_in_force_or_outside_every_term_is_refused_with_its_own_code() {
    let api = Api::new();
    let key = acme(&api).await;
    let (status, issued) = api
        .post("/v1/policies", &key, policy("P1", "1200.00"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    refused(
        &api,
        &key,
        "/v1/policies/P1/plan-changes",
        json!({"plan": "annual", "effective": "2026-03-01"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "plan_unchanged",
    )
    .await;
    refused(
        &api,
        &key,
        "/v1/policies/P1/plan-changes",
        json!({"plan": "monthly", "effective": "2030-03-01"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "outside_term",
    )
    .await;
}

#[tokio::test]
async fn settings_and_holds_out_of_their_limits_are_refused_with_their_own_codes() {
    let api = Api::new();
    let key = acme(&api).await;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    refused(
        &api,
        &key,
        "/v1/billing/settings",
        json!({"settings": {"invoice_due_days": 10_000}}),
        unprocessable,
        "invalid_invoice_due_days",
    )
    .await;
    refused(
        &api,
        &key,
        "/v1/billing/settings",
        json!({"settings": {"delinquency": {"grace_days": 10_000}}}),
        unprocessable,
        "invalid_grace_days",
    )
    .await;
    refused(
        &api,
        &key,
        "/v1/holds",
        json!({
            "account": "A1",
            "kind": {"kind": "suspension", "until": "2026-02-01", "catch_up_due_days": 5},
            "from": "2026-02-01"
        }),
        unprocessable,
        "invalid_suspension_end",
    )
    .await;
    refused(
        &api,
        &key,
        "/v1/holds",
        json!({
            "account": "A1",
            "kind": {"kind": "suspension", "until": "2026-03-01", "catch_up_due_days": 10_000},
            "from": "2026-02-01"
        }),
        unprocessable,
        "invalid_catch_up_due_days",
    )
    .await;
}

#[tokio::test]
async fn a_billing_inconsistency_is_500_internal_and_its_text_stays_out_of_the_answer() {
    let error =
        crate::engine::EngineError::Billing(crate::collections::CollectionsError::Internal(
            "pending charge C-secret is not in the book".into(),
        ));
    let problem = error::ApiError::from(error);
    assert_eq!(
        (problem.status, problem.code.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal")
    );
    let response = axum::response::IntoResponse::into_response(problem);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let answer: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(answer["code"], "internal");
    assert_eq!(answer["detail"], "internal error");
    assert!(!String::from_utf8_lossy(&bytes).contains("secret"));
}

#[test]
fn each_error_answers_the_status_its_kind_says_with_its_own_code() {
    use crate::collections::CollectionsError;
    use crate::config::ConfigError;
    use crate::engine::{ClockError, EngineError};
    use crate::policy::{InstallmentDatesError, PolicyError};
    use crate::rating::{RaterFailure, RatingError};
    let rating = |error: RatingError| EngineError::Policy(PolicyError::Rating(error));
    let failed = |failure| rating(RatingError::failed("auto@1", failure, "it failed"));
    let dates = |error: InstallmentDatesError| EngineError::Billing(error.into());
    let cases: Vec<(EngineError, StatusCode, &str)> = vec![
        (
            rating(RatingError::Declined("no".into())),
            StatusCode::CONFLICT,
            "rating_declined",
        ),
        (
            rating(RatingError::InvalidInput("field".into())),
            StatusCode::UNPROCESSABLE_ENTITY,
            "rating_invalid_input",
        ),
        (
            failed(RaterFailure::Deadline),
            StatusCode::GATEWAY_TIMEOUT,
            "rater_deadline",
        ),
        (
            failed(RaterFailure::Trap),
            StatusCode::BAD_GATEWAY,
            "plugin_trap",
        ),
        (
            failed(RaterFailure::Quarantined),
            StatusCode::SERVICE_UNAVAILABLE,
            "plugin_quarantined",
        ),
        (
            dates(InstallmentDatesError::Failed {
                plugin: "fee".into(),
                message: "trap".into(),
            }),
            StatusCode::BAD_GATEWAY,
            "invoicing_plugin_failed",
        ),
        (
            dates(InstallmentDatesError::MovedTwice {
                plugin: "fee".into(),
                locator: "P1-T1-I1".into(),
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_installment_dates",
        ),
        (
            EngineError::Billing(CollectionsError::NoOpenInvoice),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no_open_invoice",
        ),
        (
            EngineError::Billing(CollectionsError::UnknownAccount("A9".into())),
            StatusCode::NOT_FOUND,
            "account_not_found",
        ),
        (
            EngineError::Clock(ClockError::TenantNotNew),
            StatusCode::CONFLICT,
            "tenant_not_new",
        ),
        (
            EngineError::Config(ConfigError::SecretArea("disk".into())),
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
        ),
        (
            EngineError::Store("disk".into()),
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
        ),
        (
            EngineError::TooLarge {
                what: "event",
                limit: 1,
                actual: 2,
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            EngineError::Corrupt("event 3".into()),
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
        ),
    ];
    for (error, status, code) in cases {
        let shown = format!("{error:?}");
        let problem = error::ApiError::from(error);
        assert_eq!(
            (problem.status, problem.code.as_str()),
            (status, code),
            "{shown}"
        );
    }
}

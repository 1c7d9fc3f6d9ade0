//! The staff console at the axum level: sign-in makes an HttpOnly,
//! SameSite=Strict session cookie; pages are HTML with the console's
//! security headers; an account's page shows its invoices and payments
//! with amounts; a payment recorded through the console's form goes through
//! the API once even when submitted twice; a forged form (CSRF) changes
//! nothing; a read-only key sees no action and the API refuses one anyway;
//! a revoked key ends its session; another tenant sees nothing.

use super::*;

/// A raw request to the router: (status, headers, body text).
pub(super) async fn send(
    api: &Api,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let body = match form {
        Some(form) => {
            request = request.header("content-type", "application/x-www-form-urlencoded");
            Body::from(form.to_string())
        }
        None => Body::empty(),
    };
    let response = api
        .router
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&bytes).into())
}

/// Signs in with `key`; returns the cookie to send.
pub(super) async fn sign_in(api: &Api, key: &str) -> String {
    let (status, headers, body) = send(
        api,
        "POST",
        "/console/sign-in",
        None,
        Some(&format!("key={key}")),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let set = headers["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set.contains("HttpOnly")
            && set.contains("SameSite=Strict")
            && set.contains("Path=/console"),
        "{set}"
    );
    set.split(';').next().unwrap().to_string()
}

pub(super) fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

/// The day every console test plays: the fixtures' dates (payments
/// received, holds released, suspensions' ends) are worked out from it, so
/// the tests read the same on any wall-clock day.
pub(super) const TODAY: &str = "2026-12-05";

/// [`acme`] as a test tenant whose clock stands at [`TODAY`]; returns its
/// admin key.
pub(super) async fn console_acme(api: &Api) -> String {
    let key =
        crate::boot::create_tenant_on(&api.state, "acme", Some(TODAY.parse().unwrap())).unwrap();
    with_product_and_account(api, key).await
}

/// [`console_acme`] with policy P1 (1200.00, annual, from 2026-01-01)
/// invoiced on [`TODAY`] (a back-dated bind bills on the binding day).
pub(super) async fn billed(api: &Api) -> String {
    let key = console_acme(api).await;
    let (status, _) = api
        .post("/v1/policies", &key, policy("P1", "1200.00"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api.post("/v1/billing/runs", &key, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    key
}

#[tokio::test]
async fn signing_in_opens_the_console_with_its_security_headers_and_a_bad_key_reads_an_error() {
    let api = Api::new();
    let key = console_acme(&api).await;
    let (status, headers, _) = send(&api, "GET", "/console", None, None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/console/sign-in");
    let (status, _, body) = send(
        &api,
        "POST",
        "/console/sign-in",
        None,
        Some("key=prm_forged"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("That key is not valid"), "{body}");
    let cookie = sign_in(&api, &key).await;
    let (status, headers, body) = send(&api, "GET", "/console", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("<h1>Today, ") && body.contains("Delinquent accounts"),
        "{body}"
    );
    assert!(!body.contains("<script"));
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-frame-options"], "DENY");
    let (status, headers, _) = send(&api, "GET", "/console/assets/console.css", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    // Signing out ends the session.
    let (_, _, page) = send(&api, "GET", "/console", Some(&cookie), None).await;
    let csrf = hidden(&page, "csrf");
    let (status, _, _) = send(
        &api,
        "POST",
        "/console/sign-out",
        Some(&cookie),
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = send(&api, "GET", "/console", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_payment_recorded_in_the_console_pays_the_invoice_once_even_when_submitted_twice() {
    let api = Api::new();
    let key = billed(&api).await;
    let cookie = sign_in(&api, &key).await;
    let (status, _, page) = send(&api, "GET", "/console/accounts/A1", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("A1-I1") && page.contains("1200.00 USD"),
        "{page}"
    );
    let form = format!(
        "csrf={}&idempotency_key={}&amount=1200.00&received_on=2026-01-05&invoices=A1-I1&reference=cheque+7",
        hidden(&page, "csrf"),
        hidden(&page, "idempotency_key")
    );
    for _ in 0..2 {
        let (status, headers, body) = send(
            &api,
            "POST",
            "/console/accounts/A1/payments",
            Some(&cookie),
            Some(&form),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(headers["location"], "/console/accounts/A1");
    }
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(
        billing["payments"].as_array().unwrap().len(),
        1,
        "{billing}"
    );
    assert_eq!(billing["invoices"][0]["paid"], "1200.00");
    let (_, _, page) = send(&api, "GET", "/console/accounts/A1", Some(&cookie), None).await;
    assert!(page.contains("A1-P1"), "{page}");
    // Nothing owed reads with the currency's two decimals.
    assert!(
        page.contains("<dt>Owed on open invoices</dt><dd class=\"amount\">0.00 USD</dd>")
            && !page.contains(">0 USD<"),
        "{page}"
    );
    // The API's refusal is shown as a readable error.
    let (_, _, page) = send(&api, "GET", "/console/accounts/A1", Some(&cookie), None).await;
    let form = format!(
        "csrf={}&idempotency_key={}&amount=0&received_on=2026-01-05",
        hidden(&page, "csrf"),
        hidden(&page, "idempotency_key")
    );
    let (status, _, body) = send(
        &api,
        "POST",
        "/console/accounts/A1/payments",
        Some(&cookie),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("Not done") && body.contains("invalid_amount"),
        "{body}"
    );
}

#[tokio::test]
async fn a_forged_form_is_refused_and_changes_nothing() {
    let api = Api::new();
    let key = billed(&api).await;
    let cookie = sign_in(&api, &key).await;
    let form = "csrf=forged&idempotency_key=k1&amount=10.00&received_on=2026-01-05";
    let (status, _, _) = send(
        &api,
        "POST",
        "/console/accounts/A1/payments",
        Some(&cookie),
        Some(form),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert!(billing["payments"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_read_only_key_sees_no_action_and_is_refused_one_anyway() {
    let api = Api::new();
    let key = billed(&api).await;
    let reader = api.key("acme", Role::ReadOnly);
    let cookie = sign_in(&api, &reader).await;
    let (_, _, page) = send(&api, "GET", "/console/accounts/A1", Some(&cookie), None).await;
    assert!(page.contains("A1-I1"));
    assert!(!page.contains("Record payment"), "{page}");
    let form = format!(
        "csrf={}&idempotency_key=k2&amount=10.00&received_on=2026-01-05",
        hidden(&page, "csrf")
    );
    let (status, _, body) = send(
        &api,
        "POST",
        "/console/accounts/A1/payments",
        Some(&cookie),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("forbidden"), "{body}");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert!(billing["payments"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_revoked_key_ends_its_session_and_another_tenant_sees_nothing() {
    let api = Api::new();
    let key = billed(&api).await;
    let other = api.key("globex", Role::Admin);
    let cookie = sign_in(&api, &other).await;
    let (status, _, body) = send(&api, "GET", "/console/accounts/A1", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("A1-I1"));
    let (_, _, body) = send(&api, "GET", "/console/search?q=A", Some(&cookie), None).await;
    assert!(body.contains("Nothing matches"), "{body}");
    let staff = api.key("acme", Role::Billing);
    let cookie = sign_in(&api, &staff).await;
    let (status, _, _) = send(&api, "GET", "/console", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, keys) = api.get("/v1/api-keys", &key).await;
    let id = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["role"] == "billing")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = api
        .call(
            "DELETE",
            &format!("/v1/api-keys/{id}"),
            Some(&key),
            None,
            &[],
        )
        .await;
    assert!(status.is_success());
    let (status, headers, _) = send(&api, "GET", "/console", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/console/sign-in");
}

#[tokio::test]
async fn search_opens_an_exact_match_and_a_policy_page_explains_each_charge() {
    let api = Api::new();
    let key = billed(&api).await;
    let cookie = sign_in(&api, &key).await;
    let (status, headers, _) = send(&api, "GET", "/console/search?q=P1", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/console/policies/P1");
    let (status, _, page) = send(&api, "GET", "/console/policies/P1", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("P1-T1-C1") && page.contains("1200.00 USD"),
        "{page}"
    );
    assert!(page.contains("<details>") && page.contains("/v1/policies/P1/charges/P1-T1-C1/audit"));
    let (_, _, page) = send(&api, "GET", "/console/search?q=a1-i", Some(&cookie), None).await;
    assert!(page.contains("A1-I1"), "{page}");
    let (status, _, page) = send(&api, "GET", "/console/ledger", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("USD · balanced"), "{page}");
}

#[tokio::test]
async fn a_payment_is_returned_with_its_fee_and_an_invoice_written_off_from_the_account_page() {
    let api = Api::new();
    let key = billed(&api).await;
    let (status, _) = api
        .post(
            "/v1/payments",
            &key,
            json!({"account": "A1", "amount": "1200.00", "received_on": "2026-12-05"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let cookie = sign_in(&api, &key).await;
    let (_, _, page) = send(&api, "GET", "/console/accounts/A1", Some(&cookie), None).await;
    let csrf = hidden(&page, "csrf");
    let form = format!("csrf={csrf}&idempotency_key=ret-1&fee=25.00&reason=insufficient+funds");
    let (status, _, body) = send(
        &api,
        "POST",
        "/console/accounts/A1/payments/A1-P1/return",
        Some(&cookie),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(
        billing["payments"][0]["reversed_on"], "2026-12-05",
        "{billing}"
    );
    assert_eq!(billing["invoices"][0]["paid"], "0.00");
    // 1200.00 owed again; 300.00 of it written off with a reason.
    let form = format!("csrf={csrf}&idempotency_key=wo-1&amount=300.00&reason=goodwill");
    let (status, _, body) = send(
        &api,
        "POST",
        "/console/accounts/A1/invoices/A1-I1/write-off",
        Some(&cookie),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["invoices"][0]["written_off"], "300.00", "{billing}");
}

#[tokio::test]
async fn a_cancellation_is_shown_as_a_preview_first_then_committed_with_one_click() {
    let api = Api::new();
    let key = billed(&api).await;
    let cookie = sign_in(&api, &key).await;
    let (_, _, page) = send(&api, "GET", "/console/policies/P1", Some(&cookie), None).await;
    let csrf = hidden(&page, "csrf");
    let (status, _, preview) = send(
        &api,
        "POST",
        "/console/policies/P1/cancellation-preview",
        Some(&cookie),
        Some(&format!("csrf={csrf}&effective=2026-07-02")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    // 1200.00 a year by months, from 2026-07-02: 1200.00 x (5 + 30/31) / 12.
    assert!(
        preview.contains("-596.77 USD") && preview.contains("Commit the cancellation"),
        "{preview}"
    );
    // No fee is kept: the customer's net is the refund itself.
    assert!(
        preview.contains("Net for the customer")
            && preview.contains("Net: 596.77 USD back to the customer"),
        "{preview}"
    );
    let (_, policy) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(
        policy["transactions"].as_array().unwrap().len(),
        1,
        "a preview keeps nothing"
    );
    let form = format!(
        "csrf={csrf}&idempotency_key={}&effective=2026-07-02",
        hidden(&preview, "idempotency_key")
    );
    for _ in 0..2 {
        let (status, headers, body) = send(
            &api,
            "POST",
            "/console/policies/P1/cancellations",
            Some(&cookie),
            Some(&form),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(headers["location"], "/console/policies/P1");
    }
    let (_, policy) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(
        policy["transactions"].as_array().unwrap().len(),
        2,
        "committed once: {policy}"
    );
}

#[tokio::test]
async fn free_credit_is_applied_and_a_hold_placed_and_released_from_the_account_page() {
    let api = Api::new();
    let key = billed(&api).await;
    // Credit is applied by hand here, not when an invoice is issued.
    let settings = json!({"settings": {"credit": {"apply_on_invoice_generation": false}}});
    let (status, _) = api.post("/v1/billing/settings", &key, settings).await;
    assert_eq!(status, StatusCode::CREATED);
    // 1500.00 paid with nothing named: 1200.00 pays A1-I1, 300.00 is credit;
    // then a 100.00 fee billed at once (A1-I2) stays open.
    let (status, _) = api
        .post(
            "/v1/payments",
            &key,
            json!({"account": "A1", "amount": "1500.00", "received_on": "2026-12-05"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api
        .post("/v1/charges", &key, json!({"account": "A1", "charge": "policy-fee", "amount": "100.00", "invoicing": "immediate"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let cookie = sign_in(&api, &key).await;
    let (_, _, page) = send(&api, "GET", "/console/accounts/A1", Some(&cookie), None).await;
    assert!(
        page.contains("Apply credit") && page.contains("300.00 USD of free credit"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");
    let form = format!("csrf={csrf}&idempotency_key=credit-1");
    let (status, _, body) = send(
        &api,
        "POST",
        "/console/accounts/A1/credit",
        Some(&cookie),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(billing["invoices"][1]["credited"], "100.00", "{billing}");
    assert_eq!(billing["credit"], "200.00", "{billing}");
    let form = format!("csrf={csrf}&idempotency_key=hold-1&kind=invoicing&reason=disputed+invoice");
    let (status, _, body) = send(
        &api,
        "POST",
        "/console/accounts/A1/holds",
        Some(&cookie),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, _, page) = send(&api, "GET", "/console/accounts/A1", Some(&cookie), None).await;
    assert!(page.contains("A1-H1") && page.contains("Release"), "{page}");
    let form = format!("csrf={csrf}&idempotency_key=release-1");
    let (status, _, body) = send(
        &api,
        "POST",
        "/console/accounts/A1/holds/A1-H1/release",
        Some(&cookie),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, _, page) = send(&api, "GET", "/console/accounts/A1", Some(&cookie), None).await;
    assert!(
        page.contains("A1-H1 (invoicing) from 2026-12-05: disputed invoice, released 2026-12-05"),
        "the hold's kind in words: {page}"
    );
}

//! The console's screens at the axum level: a policy's terms (confirmed
//! or not), its timeline in effect order and each charge's explanation;
//! every policy transaction previewed then committed once; the ledger's
//! entries linked to what they record; an invoice linked to its
//! neighbours; an account's lists and event history paged; credit sent to
//! the invoices chosen; search resolving any locator; the worklists; and
//! look and safety (labels, amounts with currency, no inline script or
//! style, a read-only key refused, another tenant seeing nothing).

use super::console::{billed, console_acme, hidden, send, sign_in};
use super::*;

/// What a page shows of an HTML attribute-free check: every `<input>`
/// (but hidden ones), `<select>` and `<textarea>` has an id and a
/// `<label for>` naming it; nothing is inline (script or style); every
/// amount cell ends with its currency.
fn assert_accessible(page: &str) {
    assert!(!page.contains("<script"), "no script: {page}");
    assert!(!page.contains(" style="), "no inline style: {page}");
    for tag in ["<input ", "<select ", "<textarea "] {
        for (at, _) in page.match_indices(tag) {
            let element = &page[at..at + page[at..].find('>').unwrap()];
            if element.contains("type=\"hidden\"") {
                continue;
            }
            let id = element
                .split("id=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("{element} has no id"));
            assert!(
                page.contains(&format!("for=\"{id}\"")),
                "{element} has no label"
            );
        }
    }
    for cell in ["<td class=\"amount\">", "<dd class=\"amount\">"] {
        for (at, _) in page.match_indices(cell) {
            let inner = &page[at + cell.len()..];
            let inner = &inner[..inner.find("</").unwrap()];
            if inner.trim().is_empty() {
                continue;
            }
            let code = inner.trim().rsplit(' ').next().unwrap();
            assert!(
                code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()),
                "an amount without its currency: {inner:?}"
            );
        }
    }
}

async fn get(api: &Api, path: &str, cookie: &str) -> String {
    let (status, _, page) = send(api, "GET", path, Some(cookie), None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {page}");
    page
}

/// Posts `form` with the page's CSRF token; the status, headers and body.
async fn post(
    api: &Api,
    path: &str,
    cookie: &str,
    csrf: &str,
    form: &str,
) -> (StatusCode, axum::http::HeaderMap, String) {
    send(
        api,
        "POST",
        path,
        Some(cookie),
        Some(&format!("csrf={csrf}&{form}")),
    )
    .await
}

fn transactions(policy: &Value) -> usize {
    policy["transactions"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_policy_page_shows_whether_terms_are_confirmed_the_timeline_in_effect_order_and_each_charge_opens_its_arithmetic()
 {
    let api = Api::new();
    let key = billed(&api).await;
    // Cancelled from 2026-07-02, then an endorsement effective earlier
    // (2026-06-01) is issued later: effect order puts it before.
    let (status, _) = api
        .post(
            "/v1/policies/P1/cancellations",
            &key,
            json!({"effective": "2026-07-02"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let cookie = sign_in(&api, &key).await;
    let page = get(&api, "/console/policies/P1", &cookie).await;
    assert_accessible(&page);
    assert!(page.contains("not yet"), "unpaid: not confirmed: {page}");
    let t1 = page.find("id=\"P1-T1\"").unwrap();
    let t2 = page.find("id=\"P1-T2\"").unwrap();
    assert!(t1 < t2);
    assert!(page.contains("/console/ledger?reference=P1-T2"), "{page}");
    let row = &page[t2..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("href=\"/console/policies/P1/charges/P1-T2-C1\""),
        "a transaction links to its charges: {row}"
    );
    assert!(page.contains("href=\"/console/accounts/A1\""));
    // The refund: 1200.00 x (5 + 30/31) / 12 = 596.77 back.
    assert!(page.contains("-596.77 USD"), "{page}");
    let charge = get(&api, "/console/policies/P1/charges/P1-T2-C1", &cookie).await;
    assert_accessible(&charge);
    assert!(
        charge.contains("-596.77 USD")
            && charge.contains("<h2>Arithmetic</h2>")
            && charge.contains("<li><code>")
            && charge.contains("href=\"/console/policies/P1#P1-T2\""),
        "{charge}"
    );
    let premium = get(&api, "/console/policies/P1/charges/P1-T1-C1", &cookie).await;
    assert!(
        premium.contains("Rating calls")
            && premium.contains("Response")
            && premium.contains("yearly_premium")
            && premium.contains("href=\"/console/invoices/A1-I1#A1-I1-1\""),
        "the rating call's request, and the invoice item billing it: {premium}"
    );
    // Paid: the term is confirmed.
    let (status, _) = api
        .post(
            "/v1/payments",
            &key,
            json!({"account": "A1", "amount": "1200.00", "received_on": "2026-07-01", "invoices": ["A1-I1"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let page = get(&api, "/console/policies/P1", &cookie).await;
    assert!(page.contains("yes (first invoice paid)"), "{page}");
    let (status, _, _) = send(
        &api,
        "GET",
        "/console/policies/P1/charges/P1-T9-C1",
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn endorse_reverse_change_plan_and_reinstate_are_each_previewed_then_committed_once() {
    let api = Api::new();
    let key = console_acme(&api).await;
    let (status, _) = api
        .post("/v1/policies", &key, policy("P1", "1200.00"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let cookie = sign_in(&api, &key).await;
    let page = get(&api, "/console/policies/P1", &cookie).await;
    assert_accessible(&page);
    let csrf = hidden(&page, "csrf");
    // Changes that are not JSON: a readable error, nothing sent.
    let (status, _, body) = post(
        &api,
        "/console/policies/P1/endorsement-preview",
        &cookie,
        &csrf,
        "effective=2026-07-01&changes=not+json",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("Not done") && body.contains("bad_form"),
        "{body}"
    );
    // 1200.00 -> 2400.00 a year from 2026-07-01: 600.00 more.
    let changes = "%5B%7B%22op%22%3A%22set_peril_fields%22%2C%22exposure%22%3A%22V1%22%2C%22peril%22%3A%22V1-COLL%22%2C%22fields%22%3A%7B%22yearly_premium%22%3A%5B%222400.00%22%5D%7D%7D%5D";
    let (status, _, preview) = post(
        &api,
        "/console/policies/P1/endorsement-preview",
        &cookie,
        &csrf,
        &format!("effective=2026-07-01&changes={changes}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_accessible(&preview);
    assert!(
        preview.contains("600.00 USD")
            && preview.contains("Commit the endorsement")
            && preview.contains("Journal entries"),
        "{preview}"
    );
    let (_, found) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(transactions(&found), 1, "a preview keeps nothing");
    let commit = |preview: &str, fields: &str| {
        format!(
            "idempotency_key={}&{fields}",
            hidden(preview, "idempotency_key")
        )
    };
    let form = commit(&preview, &format!("effective=2026-07-01&changes={changes}"));
    for _ in 0..2 {
        let (status, headers, body) = post(
            &api,
            "/console/policies/P1/endorsements",
            &cookie,
            &csrf,
            &form,
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(headers["location"], "/console/policies/P1");
    }
    let (_, found) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(transactions(&found), 2, "committed once: {found}");
    // The endorsement reversed: 600.00 back.
    let (status, _, preview) = post(
        &api,
        "/console/policies/P1/reversal-preview",
        &cookie,
        &csrf,
        "transaction=P1-T2",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert!(
        preview.contains("-600.00 USD") && preview.contains("Commit the reversal"),
        "{preview}"
    );
    let form = commit(&preview, "transaction=P1-T2");
    for _ in 0..2 {
        let (status, _, body) = post(
            &api,
            "/console/policies/P1/reversals",
            &cookie,
            &csrf,
            &form,
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    }
    let (_, found) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(transactions(&found), 3, "{found}");
    assert_eq!(found["transactions"][1]["reversed_by"], "P1-T3", "{found}");
    // The annual plan becomes monthly.
    let (status, _, preview) = post(
        &api,
        "/console/policies/P1/plan-change-preview",
        &cookie,
        &csrf,
        "plan=monthly&effective=2026-01-01",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert!(preview.contains("Commit the plan change"), "{preview}");
    let form = commit(&preview, "plan=monthly&effective=2026-01-01");
    let (status, _, body) = post(
        &api,
        "/console/policies/P1/plan-changes",
        &cookie,
        &csrf,
        &form,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, timeline) = api.get("/v1/policies/P1/timeline", &key).await;
    assert_eq!(timeline["terms"][0]["plan"], "monthly", "{timeline}");
    // Reinstating a policy in force is the API's refusal, shown readable.
    let (status, _, body) = post(
        &api,
        "/console/policies/P1/reinstatement-preview",
        &cookie,
        &csrf,
        "effective=2026-07-02",
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(
        body.contains("Not done") && body.contains("role=\"alert\""),
        "{body}"
    );
    // Cancelled from 2026-07-02, then reinstated: the refund comes back.
    let (_, _, preview) = post(
        &api,
        "/console/policies/P1/cancellation-preview",
        &cookie,
        &csrf,
        "effective=2026-07-02&reason=underwriting",
    )
    .await;
    assert!(preview.contains("-596.77 USD"), "{preview}");
    let form = commit(&preview, "effective=2026-07-02&reason=underwriting");
    let (status, _, body) = post(
        &api,
        "/console/policies/P1/cancellations",
        &cookie,
        &csrf,
        &form,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (status, _, preview) = post(
        &api,
        "/console/policies/P1/reinstatement-preview",
        &cookie,
        &csrf,
        "effective=2026-07-02",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert!(
        preview.contains("596.77 USD") && preview.contains("Commit the reinstatement"),
        "{preview}"
    );
    let form = commit(&preview, "effective=2026-07-02");
    for _ in 0..2 {
        let (status, _, body) = post(
            &api,
            "/console/policies/P1/reinstatements",
            &cookie,
            &csrf,
            &form,
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    }
    // New business, endorsement, its reversal, cancellation, reinstatement
    // (a plan change is billing's, not a policy transaction).
    let (_, found) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(transactions(&found), 5, "{found}");
    assert_eq!(found["transactions"][4]["kind"], "reinstatement");
}

#[tokio::test]
async fn the_ledger_links_each_entry_to_what_it_records_and_an_invoice_to_its_neighbours() {
    let api = Api::new();
    let key = billed(&api).await;
    let (status, _) = api
        .post(
            "/v1/payments",
            &key,
            json!({"account": "A1", "amount": "1000.00", "received_on": "2026-03-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let cookie = sign_in(&api, &key).await;
    let ledger = get(&api, "/console/ledger", &cookie).await;
    assert_accessible(&ledger);
    assert!(
        ledger.contains("USD · balanced")
            && ledger.contains("id=\"E1\"")
            && ledger.contains("href=\"/console/policies/P1#P1-T1\"")
            && ledger.contains("href=\"/console/invoices/A1-I1\"")
            && ledger.contains("href=\"/console/accounts/A1#A1-P1\"")
            && ledger.contains("1000.00 USD"),
        "{ledger}"
    );
    let only = get(&api, "/console/ledger?reference=A1-P1", &cookie).await;
    assert!(
        only.contains("Journal entries of A1-P1") && only.contains("1000.00 USD"),
        "{only}"
    );
    assert!(!only.contains("href=\"/console/invoices/A1-I1\""), "{only}");
    let invoice = get(&api, "/console/invoices/A1-I1", &cookie).await;
    assert_accessible(&invoice);
    for link in [
        "/console/accounts/A1",
        "/console/policies/P1",
        "/console/policies/P1#P1-T1",
        "/console/policies/P1/charges/P1-T1-C1",
        "/console/accounts/A1#A1-P1",
        "/console/ledger?reference=A1-I1",
    ] {
        assert!(
            invoice.contains(&format!("href=\"{link}\"")),
            "{link}: {invoice}"
        );
    }
    // 1200.00 billed, 1000.00 paid: 200.00 outstanding.
    assert!(
        invoice.contains("1200.00 USD") && invoice.contains("200.00 USD"),
        "{invoice}"
    );
    let (status, _, _) = send(&api, "GET", "/console/invoices/A1-I9", Some(&cookie), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_large_account_pages_its_payments_and_its_event_history() {
    let api = Api::new();
    let key = billed(&api).await;
    for n in 1..=55 {
        let (status, _) = api
            .post(
                "/v1/payments",
                &key,
                json!({"account": "A1", "amount": "1.00", "received_on": "2026-03-01", "reference": format!("r{n}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let cookie = sign_in(&api, &key).await;
    let page = get(&api, "/console/accounts/A1", &cookie).await;
    assert_accessible(&page);
    assert!(page.contains("id=\"A1-P50\"") && !page.contains("id=\"A1-P51\""));
    let next = page
        .split("href=\"/console/accounts/A1?payments_after=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no next page of payments: {page}"));
    let second = get(
        &api,
        &format!("/console/accounts/A1?payments_after={next}"),
        &cookie,
    )
    .await;
    assert!(
        second.contains("id=\"A1-P51\"")
            && second.contains("id=\"A1-P55\"")
            && !second.contains("id=\"A1-P50\""),
        "{second}"
    );
    assert!(page.contains("href=\"/console/accounts/A1/events\""));
    let events = get(&api, "/console/accounts/A1/events", &cookie).await;
    assert!(
        events.contains("Event history of")
            && events.contains("href=\"/console/policies/P1\"")
            && events.contains("Next page"),
        "{events}"
    );
    let next = events
        .split("href=\"/console/accounts/A1/events?after=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    let later = get(
        &api,
        &format!("/console/accounts/A1/events?after={next}"),
        &cookie,
    )
    .await;
    assert!(
        later.contains("First page") && later.contains("payment"),
        "{later}"
    );
    // The ledger opens on its latest entries (the 55 payments' among them),
    // earlier ones a link away.
    let ledger = get(&api, "/console/ledger", &cookie).await;
    assert!(
        ledger.contains("Earlier entries") && !ledger.contains("id=\"E1\""),
        "{ledger}"
    );
    let oldest = get(&api, "/console/ledger?after=0", &cookie).await;
    assert!(
        oldest.contains("id=\"E1\"") && oldest.contains("Next page"),
        "{oldest}"
    );
    let (status, _, _) = send(
        &api,
        "GET",
        "/console/accounts/A9/events",
        Some(&cookie),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn credit_goes_to_the_invoices_chosen_each_up_to_the_amount_given() {
    let api = Api::new();
    let key = billed(&api).await;
    let settings = json!({"settings": {"credit": {"apply_on_invoice_generation": false}}});
    let (status, _) = api.post("/v1/billing/settings", &key, settings).await;
    assert_eq!(status, StatusCode::CREATED);
    // 1500.00 pays A1-I1 (1200.00) and leaves 300.00 of credit; then two
    // fees billed at once: A1-I2 (100.00) and A1-I3 (50.00).
    let (status, _) = api
        .post(
            "/v1/payments",
            &key,
            json!({"account": "A1", "amount": "1500.00", "received_on": "2026-03-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    for fee in ["100.00", "50.00"] {
        let (status, _) = api
            .post("/v1/charges", &key, json!({"account": "A1", "charge": "policy-fee", "amount": fee, "invoicing": "immediate"}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let cookie = sign_in(&api, &key).await;
    let page = get(&api, "/console/accounts/A1", &cookie).await;
    assert_accessible(&page);
    assert!(
        page.contains("id=\"credit-A1-I2\"") && page.contains("id=\"credit-A1-I3\""),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");
    // The later invoice first, whole.
    let (status, _, body) = post(
        &api,
        "/console/accounts/A1/credit",
        &cookie,
        &csrf,
        "idempotency_key=c1&invoice=A1-I3&amount-A1-I3=",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, i2) = api.get("/v1/invoices/A1-I2", &key).await;
    let (_, i3) = api.get("/v1/invoices/A1-I3", &key).await;
    assert_eq!(
        (i2["credited"].as_str(), i3["credited"].as_str()),
        (Some("0.00"), Some("50.00"))
    );
    // Then 30.00 of A1-I2.
    let (status, _, body) = post(
        &api,
        "/console/accounts/A1/credit",
        &cookie,
        &csrf,
        "idempotency_key=c2&invoice=A1-I2&amount-A1-I2=30.00",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, i2) = api.get("/v1/invoices/A1-I2", &key).await;
    assert_eq!(i2["credited"], "30.00", "{i2}");
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert_eq!(
        billing["credit"], "220.00",
        "300.00 - 50.00 - 30.00: {billing}"
    );
}

#[tokio::test]
async fn a_suspension_is_placed_until_a_date_from_the_account_page() {
    let api = Api::new();
    let key = billed(&api).await;
    let cookie = sign_in(&api, &key).await;
    let page = get(&api, "/console/accounts/A1", &cookie).await;
    let csrf = hidden(&page, "csrf");
    let (status, _, body) = post(
        &api,
        "/console/accounts/A1/holds",
        &cookie,
        &csrf,
        "idempotency_key=s1&kind=suspension&until=2027-02-01&catch_up_due_days=10&reason=hardship",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, summary) = api.get("/v1/accounts/A1/summary", &key).await;
    assert_eq!(
        summary["holds"][0]["kind"],
        json!({"kind": "suspension", "until": "2027-02-01", "catch_up_due_days": 10}),
        "{summary}"
    );
    // Without its end date: the API's refusal, readable.
    let (status, _, body) = post(
        &api,
        "/console/accounts/A1/holds",
        &cookie,
        &csrf,
        "idempotency_key=s2&kind=suspension&until=&catch_up_due_days=10&reason=hardship",
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(
        body.contains("Not done") && body.contains("role=\"alert\""),
        "{body}"
    );
}

#[tokio::test]
async fn search_resolves_an_account_policy_or_invoice_locator_in_any_case_and_lists_names() {
    let api = Api::new();
    let key = billed(&api).await;
    let cookie = sign_in(&api, &key).await;
    for (q, target) in [
        ("A1-I1", "/console/invoices/A1-I1"),
        ("a1-i1", "/console/invoices/A1-I1"),
        ("a1", "/console/accounts/A1"),
        ("p1", "/console/policies/P1"),
    ] {
        let (status, headers, _) = send(
            &api,
            "GET",
            &format!("/console/search?q={q}"),
            Some(&cookie),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{q}");
        assert_eq!(headers["location"], target, "{q}");
    }
    // The account's name, any case, by prefix.
    let page = get(&api, "/console/search?q=ad", &cookie).await;
    assert_accessible(&page);
    assert!(
        page.contains("href=\"/console/accounts/A1\"") && page.contains("Ada"),
        "{page}"
    );
    let page = get(&api, "/console/search?q=zz", &cookie).await;
    assert!(page.contains("Nothing matches"), "{page}");
}

#[tokio::test]
async fn the_home_page_lists_worklists_with_failing_webhook_endpoints_and_quarantined_plugins() {
    let api = Api::new();
    let key = billed(&api).await;
    let cookie = sign_in(&api, &key).await;
    let home = get(&api, "/console", &cookie).await;
    assert_accessible(&home);
    assert!(
        home.contains("Every endpoint is enabled.")
            && home.contains("No plugin is in quarantine.")
            && home.contains("Invoices coming due"),
        "{home}"
    );
    let (status, body) = api
        .post(
            "/v1/webhooks/endpoints",
            &key,
            json!({"url": "https://hooks.example/in", "event_types": ["invoice.issued"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let (status, _) = api
        .post(
            &format!("/v1/webhooks/endpoints/{id}/disable"),
            &key,
            json!({}),
        )
        .await;
    assert!(status.is_success());
    let home = get(&api, "/console", &cookie).await;
    assert_accessible(&home);
    assert!(
        home.contains("https://hooks.example/in") && home.contains("disabled (reason requested)"),
        "{home}"
    );
}

#[tokio::test]
async fn a_read_only_key_sees_no_policy_action_and_the_server_refuses_its_preview_and_commit() {
    let api = Api::new();
    let key = billed(&api).await;
    let reader = api.key("acme", Role::ReadOnly);
    let cookie = sign_in(&api, &reader).await;
    for path in [
        "/console/policies/P1",
        "/console/accounts/A1",
        "/console/invoices/A1-I1",
        "/console/ledger",
    ] {
        let page = get(&api, path, &cookie).await;
        assert_eq!(
            page.matches("method=\"post\"").count(),
            1,
            "only sign-out on {path}: {page}"
        );
    }
    let page = get(&api, "/console/policies/P1", &cookie).await;
    let csrf = hidden(&page, "csrf");
    let (status, _, body) = post(
        &api,
        "/console/policies/P1/cancellation-preview",
        &cookie,
        &csrf,
        "effective=2026-07-02",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, body) = post(
        &api,
        "/console/policies/P1/cancellations",
        &cookie,
        &csrf,
        "idempotency_key=k1&effective=2026-07-02",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("forbidden"), "{body}");
    let (status, _, _) = post(
        &api,
        "/console/accounts/A1/credit",
        &cookie,
        &csrf,
        "idempotency_key=k2",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, found) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(transactions(&found), 1);
}

#[tokio::test]
async fn another_tenant_sees_no_invoice_policy_charge_event_or_journal_entry_and_changes_none() {
    let api = Api::new();
    let key = billed(&api).await;
    let other = api.key("globex", Role::Admin);
    let cookie = sign_in(&api, &other).await;
    for path in [
        "/console/invoices/A1-I1",
        "/console/policies/P1",
        "/console/policies/P1/charges/P1-T1-C1",
        "/console/accounts/A1/events",
        "/console/accounts/A1",
    ] {
        let (status, _, body) = send(&api, "GET", path, Some(&cookie), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains("1200.00"), "{path}: {body}");
    }
    let ledger = get(&api, "/console/ledger", &cookie).await;
    assert!(
        ledger.contains("Nothing posted yet.") && ledger.contains("No journal entry here."),
        "{ledger}"
    );
    let page = get(&api, "/console/search?q=A1-I1", &cookie).await;
    assert!(page.contains("Nothing matches"), "{page}");
    let page = get(&api, "/console/ledger?reference=P1-T1", &cookie).await;
    assert!(!page.contains("E1"), "{page}");
    // Its forms on acme's locators change nothing.
    let csrf = hidden(&page, "csrf");
    let (status, _, _) = post(
        &api,
        "/console/policies/P1/cancellations",
        &cookie,
        &csrf,
        "idempotency_key=x1&effective=2026-07-02",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = post(
        &api,
        "/console/accounts/A1/payments",
        &cookie,
        &csrf,
        "idempotency_key=x2&amount=10.00&received_on=2026-03-01",
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    let (_, found) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(transactions(&found), 1);
    let (_, billing) = api.get("/v1/accounts/A1/billing", &key).await;
    assert!(billing["payments"].as_array().unwrap().is_empty());
}

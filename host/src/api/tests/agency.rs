//! Agency bill and commission payments over HTTP (DOMAIN section 10, [E11];
//! issue 21 items 4 and 5).
//!
//! By hand ([E11]): 1200.00 a year from 2026-01-01, 10% commission to
//! `agency-7`: 1200.00 x 10 / 100 = 120.00 commission; the agency owes the
//! net 1200.00 - 120.00 = 1080.00. Bound on 2025-12-15 with statement day
//! 20, the item goes on the statement of 2025-12-20 (the first 20th on or
//! after the 15th). Remitting 1080.00: Dr cash 1080.00, Dr commission
//! payable/agency-7 120.00, Cr agency receivable/agency-7 1200.00, leaving
//! both at 0.00. Cancelled on 2026-01-05 effective 2026-07-01 (6 of 12
//! months): -600.00 premium and -60.00 commission, net -540.00, on the
//! statement of 2026-01-20 (the first 20th on or after 2026-01-05).

use super::*;
use crate::boot::create_tenant_on;
use rust_decimal::Decimal;
use std::str::FromStr;

/// A test tenant `lab` on 2025-12-15 with product `auto` (months) booking
/// commissions, account A1, and `agency-7` configured for agency bill with
/// statement day 20; returns its admin key.
async fn lab(api: &Api, billing_methods: Option<Value>) -> String {
    let key = create_tenant_on(&api.state, "lab", Some("2025-12-15".parse().unwrap())).unwrap();
    let mut product = product();
    product["charges"]["commission"] = json!({"category": "commission"});
    product["commission_charge"] = json!("commission");
    if let Some(methods) = billing_methods {
        product["billing_methods"] = methods;
    }
    let (status, answer) = api.post("/v1/products", &key, product).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = api
        .call(
            "PUT",
            "/v1/producers/agency-7/agency",
            Some(&key),
            Some(json!({"statement_day": 20})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    with_account(api, key).await
}

/// P1's body: 1200.00 a year from 2026-01-01, 10% commission to `agency-7`.
fn agency_policy(method: Option<&str>, producer: Option<&str>) -> Value {
    let mut body = policy("P1", "1200.00");
    body["plan"] = json!("annual");
    body["data"]["fields"] = json!({"commission_percent": ["10"], "producer": ["agency-7"]});
    if let Some(method) = method {
        body["billing_method"] = json!(method);
    }
    if let Some(producer) = producer {
        body["producer"] = json!(producer);
    }
    body
}

async fn bind_agency(api: &Api, key: &str) {
    let (status, answer) = api
        .post(
            "/v1/policies",
            key,
            agency_policy(Some("agency"), Some("agency-7")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(amounts(&answer, "premium"), ["1200.00"]);
    assert_eq!(amounts(&answer, "commission"), ["120.00"]);
}

async fn set_today(api: &Api, key: &str, today: &str) {
    let (status, answer) = api.post("/v1/clock", key, json!({"today": today})).await;
    assert!(status.is_success(), "{answer}");
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// The ledger balance of `account` (with `subledger`), 0 when absent.
async fn balance(api: &Api, key: &str, account: &str, subledger: Option<&str>) -> Decimal {
    let (status, balances) = api.get("/v1/ledger/balances", key).await;
    assert_eq!(status, StatusCode::OK, "{balances}");
    balances
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["account"]["account"] == account)
        .filter(|b| b["account"]["subledger"].as_str() == subledger)
        .map(|b| dec(b["balance"].as_str().unwrap()))
        .sum()
}

async fn assert_trial_balance_is_zero(api: &Api, key: &str) {
    let (status, trial) = api.get("/v1/ledger/trial-balance", key).await;
    assert_eq!(status, StatusCode::OK, "{trial}");
    for currency in trial.as_array().unwrap() {
        assert_eq!(
            dec(currency["total_debits"].as_str().unwrap()),
            dec(currency["total_credits"].as_str().unwrap()),
            "{trial}"
        );
    }
}

async fn entries(api: &Api, key: &str) -> usize {
    let (status, answer) = api.get("/v1/ledger/entries?limit=100", key).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["data"].as_array().unwrap().len()
}

async fn statement(api: &Api, key: &str, date: &str) -> Value {
    let (status, answer) = api
        .get(
            &format!("/v1/producers/agency-7/agency-statements/{date}"),
            key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

/// `[gross, commission, net, paid, open]` of a statement's USD totals.
fn totals(statement: &Value) -> [String; 5] {
    let totals = statement["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 1, "{statement}");
    assert_eq!(totals[0]["currency"], "USD");
    ["gross", "commission", "net", "paid", "open"]
        .map(|field| totals[0][field].as_str().unwrap().to_string())
}

fn figures(values: [&str; 5]) -> [String; 5] {
    values.map(str::to_string)
}

async fn remit(api: &Api, key: &str, body: Value) -> (StatusCode, Value) {
    api.post("/v1/producers/agency-7/remittances", key, body)
        .await
}

#[tokio::test]
async fn e11_agency_bill_statement_remittance_and_chargeback_on_the_next_statement() {
    let api = Api::new();
    let key = lab(&api, None).await;

    // Billing options at quote time: agency needs a producer configured for it.
    let (status, options) = api
        .get("/v1/products/auto/billing-options?producer=agency-7", &key)
        .await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert_eq!(
        options,
        json!({"product": "auto", "producer": "agency-7", "methods": ["direct", "agency"], "statement_day": 20})
    );
    let (_, options) = api.get("/v1/products/auto/billing-options", &key).await;
    assert_eq!(options["methods"], json!(["direct"]));
    // The quote's billing options (seed 002) say the same.
    let mut quote = agency_policy(None, Some("agency-7"));
    quote["account"] = json!("");
    let (status, options) = api.post("/v1/quotes/billing-options", &key, quote).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert_eq!(
        options["billing_methods"],
        json!(["direct_bill", "agency_bill"])
    );

    bind_agency(&api, &key).await;
    let (_, bound) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(bound["header"]["billing_method"], "agency", "{bound}");
    assert_eq!(bound["header"]["producer"], "agency-7");

    // The agency owes the gross; the insured owes nothing.
    assert_eq!(
        balance(&api, &key, "agency_receivable", Some("agency-7")).await,
        dec("1200.00")
    );
    assert_eq!(
        balance(&api, &key, "premium_receivable_unbilled", Some("A1")).await,
        Decimal::ZERO
    );
    assert_eq!(
        balance(&api, &key, "commission_payable", Some("agency-7")).await,
        dec("120.00")
    );
    assert_trial_balance_is_zero(&api, &key).await;

    // The statement of 2025-12-20 is upcoming on the 15th: no remittance yet.
    let (_, list) = api
        .get("/v1/producers/agency-7/agency-statements", &key)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["date"], "2025-12-20");
    assert_eq!(list[0]["state"], "upcoming");
    let (status, answer) = remit(
        &api,
        &key,
        json!({"statement": "2025-12-20", "amount": "1080.00", "currency": "USD"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "agency_statement_not_issued");

    set_today(&api, &key, "2025-12-20").await;
    // No invoice for the insured: the billing run bills nothing.
    let (status, run) = api
        .post("/v1/billing/runs", &key, json!({"up_to": "2025-12-20"}))
        .await;
    assert!(status.is_success(), "{run}");
    let (_, invoices) = api.get("/v1/invoices?account=A1", &key).await;
    assert_eq!(invoices["data"], json!([]), "{invoices}");

    let december = statement(&api, &key, "2025-12-20").await;
    assert_eq!(december["state"], "issued");
    assert_eq!(
        totals(&december),
        figures(["1200.00", "120.00", "1080.00", "0.00", "1080.00"])
    );
    let item = &december["items"][0];
    assert_eq!(item["policy"], "P1");
    assert_eq!(item["posted_on"], "2025-12-15");
    assert_eq!(
        [&item["gross"], &item["commission"], &item["net"]],
        ["1200.00", "120.00", "1080.00"]
    );

    // The agency remits the net: receivable and commission payable settled.
    let (status, answer) = remit(
        &api,
        &key,
        json!({"statement": "2025-12-20", "amount": "1080.00", "currency": "USD", "reference": "chq 881"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let entry = &answer["journal_entries"][0];
    assert_eq!(entry["kind"], "remittance_received");
    let lines: Vec<(String, String, String)> = entry["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["account"]["account"].as_str().unwrap().to_string(),
                l["side"].as_str().unwrap().to_string(),
                l["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("cash".into(), "debit".into(), "1080.00".into()),
            ("commission_payable".into(), "debit".into(), "120.00".into()),
            (
                "agency_receivable".into(),
                "credit".into(),
                "1200.00".into()
            ),
        ]
    );
    let event = &answer["other_events"][0]["accounting"];
    assert_eq!(event["type"], "remittance_received");
    assert_eq!(event["actor"].as_str().map(|a| !a.is_empty()), Some(true));
    assert!(event["at"].is_string());
    assert_eq!(
        balance(&api, &key, "agency_receivable", Some("agency-7")).await,
        Decimal::ZERO
    );
    assert_eq!(
        balance(&api, &key, "commission_payable", Some("agency-7")).await,
        Decimal::ZERO
    );
    assert_eq!(balance(&api, &key, "cash", None).await, dec("1080.00"));
    assert_trial_balance_is_zero(&api, &key).await;
    assert_eq!(
        totals(&statement(&api, &key, "2025-12-20").await),
        figures(["1200.00", "120.00", "1080.00", "1080.00", "0.00"])
    );
    let (_, producers) = api.get("/v1/producers", &key).await;
    assert_eq!(
        producers,
        json!([{"producer": "agency-7", "currency": "USD", "written": "120.00",
                "charged_back": "0.00", "paid": "120.00", "payable": "0.00"}])
    );

    // A mid-term cancellation: its chargeback goes on the next statement.
    set_today(&api, &key, "2026-01-05").await;
    let (status, answer) = api
        .post(
            "/v1/policies/P1/cancellations",
            &key,
            json!({"effective": "2026-07-01", "reason": "insured_request"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(amounts(&answer, "premium"), ["-600.00"]);
    assert_eq!(amounts(&answer, "commission"), ["-60.00"]);
    assert_trial_balance_is_zero(&api, &key).await;
    assert_eq!(
        balance(&api, &key, "agency_receivable", Some("agency-7")).await,
        dec("-600.00")
    );
    // The December statement is as it was.
    assert_eq!(
        totals(&statement(&api, &key, "2025-12-20").await),
        figures(["1200.00", "120.00", "1080.00", "1080.00", "0.00"])
    );
    set_today(&api, &key, "2026-01-20").await;
    // P1 never reached the insured's invoices; a direct-billed P2 on the
    // same account does.
    let mut direct = policy("P2", "600.00");
    direct["plan"] = json!("annual");
    let (status, answer) = api.post("/v1/policies", &key, direct).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, run) = api
        .post("/v1/billing/runs", &key, json!({"up_to": "2026-01-20"}))
        .await;
    assert!(status.is_success(), "{run}");
    let (_, invoices) = api.get("/v1/invoices?account=A1", &key).await;
    let invoices = invoices["data"].as_array().unwrap().clone();
    assert_eq!(invoices.len(), 1, "{invoices:?}");
    assert_eq!(invoices[0]["total"]["amount"], "600.00", "{invoices:?}");
    assert_eq!(
        balance(&api, &key, "premium_receivable_billed", Some("A1")).await,
        dec("600.00")
    );
    assert_trial_balance_is_zero(&api, &key).await;
    let january = statement(&api, &key, "2026-01-20").await;
    assert_eq!(january["state"], "issued");
    assert_eq!(
        totals(&january),
        figures(["-600.00", "-60.00", "-540.00", "0.00", "-540.00"])
    );

    // Owed to the agency: paying it 540.00 settles both sides.
    let (status, answer) = remit(
        &api,
        &key,
        json!({"statement": "2026-01-20", "amount": "-540.00", "currency": "USD"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        balance(&api, &key, "agency_receivable", Some("agency-7")).await,
        Decimal::ZERO
    );
    assert_eq!(
        balance(&api, &key, "commission_payable", Some("agency-7")).await,
        Decimal::ZERO
    );
    assert_eq!(balance(&api, &key, "cash", None).await, dec("540.00"));
    assert_trial_balance_is_zero(&api, &key).await;
    let (_, producers) = api.get("/v1/producers", &key).await;
    assert_eq!(producers[0]["paid"], "60.00");
    assert_eq!(producers[0]["payable"], "0.00");
}

#[tokio::test]
async fn a_short_paid_item_stays_open_as_an_exception_until_its_last_cent_nets_the_commission() {
    let api = Api::new();
    let key = lab(&api, None).await;
    bind_agency(&api, &key).await;
    set_today(&api, &key, "2025-12-22").await;
    let item = statement(&api, &key, "2025-12-20").await["items"][0]["item"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, answer) = remit(
        &api,
        &key,
        json!({"statement": "2025-12-20", "amount": "1000.00", "currency": "USD",
               "allocations": [{"item": item, "amount": "1000.00"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let december = statement(&api, &key, "2025-12-20").await;
    assert_eq!(
        totals(&december),
        figures(["1200.00", "120.00", "1080.00", "1000.00", "80.00"])
    );
    assert_eq!(december["items"][0]["state"], "short_paid");
    // Short-paid: the commission is not netted yet.
    assert_eq!(
        balance(&api, &key, "agency_receivable", Some("agency-7")).await,
        dec("200.00")
    );
    assert_eq!(
        balance(&api, &key, "commission_payable", Some("agency-7")).await,
        dec("120.00")
    );
    assert_trial_balance_is_zero(&api, &key).await;
    let (status, exceptions) = api.get("/v1/agency-exceptions", &key).await;
    assert_eq!(status, StatusCode::OK, "{exceptions}");
    assert_eq!(exceptions.as_array().unwrap().len(), 1, "{exceptions}");
    assert_eq!(exceptions[0]["producer"], "agency-7");
    assert_eq!(exceptions[0]["item"], item.as_str());
    assert_eq!(exceptions[0]["open"], "80.00");
    assert_eq!(exceptions[0]["state"], "short_paid");

    // The last 80.00 closes the item and nets its commission.
    let (status, answer) = remit(
        &api,
        &key,
        json!({"statement": "2025-12-20", "amount": "80.00", "currency": "USD"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        balance(&api, &key, "agency_receivable", Some("agency-7")).await,
        Decimal::ZERO
    );
    assert_eq!(
        balance(&api, &key, "commission_payable", Some("agency-7")).await,
        Decimal::ZERO
    );
    assert_trial_balance_is_zero(&api, &key).await;
    assert_eq!(api.get("/v1/agency-exceptions", &key).await.1, json!([]));
}

#[tokio::test]
async fn a_commission_payment_is_drafted_approved_and_executed_and_never_over_the_payable() {
    let api = Api::new();
    let key = lab(&api, None).await;
    // Direct bill: the insured is invoiced, agency-7 is owed 120.00.
    let (status, answer) = api
        .post("/v1/policies", &key, agency_policy(None, None))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let payments = "/v1/producers/agency-7/commission-payments";

    let before = entries(&api, &key).await;
    let (status, answer) = api
        .post(
            payments,
            &key,
            json!({"amount": "150.00", "currency": "USD"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "commission_payment_over_payable");
    assert_eq!(api.get(payments, &key).await.1, json!([]));
    assert_eq!(entries(&api, &key).await, before);

    let (status, answer) = api
        .post(
            payments,
            &key,
            json!({"amount": "100.00", "currency": "USD", "reason": "December"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let drafted = &answer["other_events"][0]["accounting"];
    assert_eq!(drafted["type"], "commission_payment_drafted");
    assert_eq!(drafted["payment"]["locator"], "agency-7-CP1");
    assert_eq!(drafted["payment"]["status"], "draft");
    assert!(drafted["at"].is_string());

    // Only 20.00 is left beside the pending draft.
    let (status, answer) = api
        .post(
            payments,
            &key,
            json!({"amount": "30.00", "currency": "USD"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "commission_payment_over_payable");
    // Not approved yet: it cannot be executed.
    let (status, answer) = api
        .post(
            &format!("{payments}/agency-7-CP1/executions"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "commission_payment_wrong_state");

    let (status, answer) = api
        .post(
            &format!("{payments}/agency-7-CP1/approvals"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (status, answer) = api
        .post(
            &format!("{payments}/agency-7-CP1/executions"),
            &key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["journal_entries"][0]["kind"], "commission_paid");
    let executed = &answer["other_events"][0]["accounting"];
    assert_eq!(executed["type"], "commission_payment_executed");
    assert_eq!(executed["on"], "2025-12-15");

    assert_eq!(
        balance(&api, &key, "commission_payable", Some("agency-7")).await,
        dec("20.00")
    );
    assert_eq!(balance(&api, &key, "cash", None).await, dec("-100.00"));
    assert_trial_balance_is_zero(&api, &key).await;
    let (_, list) = api.get(payments, &key).await;
    assert_eq!(list[0]["status"], "executed", "{list}");
    let (_, december) = api
        .get("/v1/producers/agency-7/statements/2025-12", &key)
        .await;
    let total = &december["totals"][0];
    assert_eq!(
        [
            &total["opening"],
            &total["written"],
            &total["paid"],
            &total["closing"]
        ],
        ["0.00", "120.00", "100.00", "20.00"]
    );
    let (_, producers) = api.get("/v1/producers", &key).await;
    assert_eq!(producers[0]["paid"], "100.00");
    assert_eq!(producers[0]["payable"], "20.00");

    // A wrong currency is over what is payable in it (nothing is).
    let (status, answer) = api
        .post(
            payments,
            &key,
            json!({"amount": "10.00", "currency": "EUR"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["code"], "commission_payment_over_payable");
}

#[tokio::test]
async fn agency_bill_without_a_producer_or_for_one_not_configured_or_a_product_without_it_is_refused()
 {
    let api = Api::new();
    let key = lab(&api, None).await;
    let (status, answer) = api
        .post("/v1/policies", &key, agency_policy(Some("agency"), None))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "agency_without_producer");
    let (status, answer) = api
        .post(
            "/v1/policies",
            &key,
            agency_policy(Some("agency"), Some("agency-9")),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "agency_producer_unknown");
    // A quote answers the same.
    let (status, answer) = api
        .post(
            "/v1/quotes",
            &key,
            agency_policy(Some("agency"), Some("agency-9")),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "agency_producer_unknown");
    let (status, _) = api.get("/v1/policies/P1", &key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, answer) = api
        .call(
            "PUT",
            "/v1/producers/agency-7/agency",
            Some(&key),
            Some(json!({"statement_day": 32})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "invalid_statement_day");

    let api = Api::new();
    let key = lab(&api, Some(json!(["direct"]))).await;
    let (_, options) = api
        .get("/v1/products/auto/billing-options?producer=agency-7", &key)
        .await;
    assert_eq!(options["methods"], json!(["direct"]), "{options}");
    let (status, answer) = api
        .post(
            "/v1/policies",
            &key,
            agency_policy(Some("agency"), Some("agency-7")),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "billing_method_not_allowed");
}

#[tokio::test]
async fn a_remittance_over_the_statement_in_another_currency_or_badly_allocated_changes_nothing() {
    let api = Api::new();
    let key = lab(&api, None).await;
    bind_agency(&api, &key).await;
    set_today(&api, &key, "2025-12-20").await;
    let before = entries(&api, &key).await;
    let refusals = [
        (
            json!({"statement": "2025-12-20", "amount": "1080.01", "currency": "USD"}),
            "remittance_over_statement",
        ),
        (
            json!({"statement": "2025-12-20", "amount": "-10.00", "currency": "USD"}),
            "remittance_over_statement",
        ),
        (
            json!({"statement": "2025-12-20", "amount": "1080.00", "currency": "EUR"}),
            "remittance_currency_mismatch",
        ),
        (
            json!({"statement": "2025-12-20", "amount": "100.00", "currency": "USD",
                   "allocations": [{"item": "P9-T1", "amount": "100.00"}]}),
            "remittance_allocation_invalid",
        ),
        (
            json!({"statement": "2025-12-20", "amount": "100.00", "currency": "USD",
                   "allocations": [{"item": "P1-T1", "amount": "90.00"}]}),
            "remittance_allocation_invalid",
        ),
        (
            json!({"statement": "2025-12-20", "amount": "0.00", "currency": "USD"}),
            "invalid_amount",
        ),
    ];
    for (body, code) in refusals {
        let (status, answer) = remit(&api, &key, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert_eq!(answer["code"], code, "{body}");
    }
    let (status, answer) = remit(
        &api,
        &key,
        json!({"statement": "2025-12-21", "amount": "10.00", "currency": "USD"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["code"], "agency_statement_not_found");
    let (status, answer) = api
        .post(
            "/v1/producers/agency-9/remittances",
            &key,
            json!({"statement": "2025-12-20", "amount": "10.00", "currency": "USD"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["code"], "agency_producer_unknown");
    assert_eq!(entries(&api, &key).await, before);
    assert_eq!(
        totals(&statement(&api, &key, "2025-12-20").await),
        figures(["1200.00", "120.00", "1080.00", "0.00", "1080.00"])
    );
    assert_trial_balance_is_zero(&api, &key).await;
}

#[tokio::test]
async fn a_new_statement_day_is_a_new_version_that_moves_only_items_posted_from_then_on() {
    let api = Api::new();
    let key = lab(&api, None).await;
    bind_agency(&api, &key).await;
    set_today(&api, &key, "2025-12-16").await;
    let (status, answer) = api
        .call(
            "PUT",
            "/v1/producers/agency-7/agency",
            Some(&key),
            Some(json!({"statement_day": 5})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, versions) = api.get("/v1/producers/agency-7/agency", &key).await;
    assert_eq!(status, StatusCode::OK, "{versions}");
    let versions = versions.as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        [&versions[0]["statement_day"], &versions[1]["statement_day"]],
        [20, 5]
    );
    assert_eq!(
        [&versions[0]["effective"], &versions[1]["effective"]],
        ["2025-12-15", "2025-12-16"]
    );
    assert!(versions[1]["actor"].is_string() && versions[1]["at"].is_string());

    let mut second = agency_policy(Some("agency"), Some("agency-7"));
    second["locator"] = json!("P2");
    let (status, answer) = api.post("/v1/policies", &key, second).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let (_, list) = api
        .get("/v1/producers/agency-7/agency-statements", &key)
        .await;
    let dates: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["date"].as_str().unwrap())
        .collect();
    assert_eq!(dates, ["2025-12-20", "2026-01-05"]);
    assert_eq!(
        totals(&list[1]),
        figures(["1200.00", "120.00", "1080.00", "0.00", "1080.00"])
    );
}

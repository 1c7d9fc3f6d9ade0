//! End to end against a running server on loopback: the demo tenant with
//! the auto-rater plugin, quote and bind over real HTTP, plugin upload with
//! golden cases, and a restart that keeps everything.

use crate::harness::*;
use crate::support::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[test]
fn quote_and_bind_over_http_are_priced_by_the_auto_rater_plugin_and_survive_a_restart() {
    let host = TestHost::demo();
    let admin = host.admin();
    let (status, _) = admin.open_account("A-1");
    assert_eq!(status, StatusCode::CREATED);
    let (_, quote) = admin.post("/v1/quotes", &auto_policy("P-1"));
    // 410 × 1.25, 612 × 1.25, 148 × 1.25 (urban, age 30, deductible 500),
    // and the 25.00 policy fee.
    let mut quoted: Vec<&str> = quote["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["charge"] == "premium")
        .map(|l| l["amount"].as_str().unwrap())
        .collect();
    quoted.sort();
    assert_eq!(quoted, vec!["185.00", "512.50", "765.00"]);
    assert_eq!(quote["total"], "1487.50");
    // Monthly plan: its twelve installments, each billed once; a term
    // already begun bills its past months on one catch-up invoice.
    let billed: Vec<u64> = quote["installments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["installments"].as_array().unwrap().iter())
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(billed, (1..=12).collect::<Vec<u64>>(), "{quote}");
    let (status, bound) =
        admin.post_with_idempotency("/v1/policies", "bind-p1", &auto_policy("P-1"));
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        premiums(&bound),
        vec!["185.00", "512.50", "765.00"],
        "the bind prices as the quote did"
    );
    let (_, audit) = admin.get("/v1/policies/P-1/charges/P-1-T1-C1/audit");
    assert_eq!(audit["rating_calls"][0]["rater"]["kind"], "plugin");
    assert_eq!(
        audit["rating_calls"][0]["rater"]["plugin_id"],
        "demo/auto-rater@1"
    );
    // Restart over the same data directory: the plugin is re-registered, the
    // policy rebuilt from the log, the key still valid.
    let host = host.restart();
    let admin = host.admin();
    let (_, policy) = admin.get("/v1/policies/P-1");
    assert_eq!(policy["transactions"].as_array().unwrap().len(), 1);
    let (status, endorsement) = admin.post(
        "/v1/policies/P-1/endorsements",
        &json!({"effective": "2026-07-01", "changes": [{"op": "set_policy_fields", "fields": {"territory": ["rural"]}}]}),
    );
    assert_eq!(status, StatusCode::CREATED);
    // Rural (0.85) instead of urban (1.25) for the second half of the year:
    // 612, 148 and 410 × −0.40 × 6/12 (sorted as text).
    assert_eq!(premiums(&endorsement), vec!["-122.40", "-29.60", "-82.00"]);
}

#[test]
fn a_plugin_is_uploaded_checked_against_its_golden_cases_and_a_bad_one_is_refused() {
    let host = TestHost::demo();
    let admin = host.admin();
    let (status, _) = admin.upload_wasm("auto-copy", "2", "auto-rater");
    assert_eq!(status, StatusCode::CREATED);
    for table in AUTO_RATER_TABLES {
        let (status, _) = admin.put_text(
            &format!("/v1/plugins/auto-copy/2/tables/{table}"),
            auto_rater_table(table),
        );
        assert_eq!(status, StatusCode::OK);
    }
    let cases = json!([{
        "name": "one sedan, urban",
        "request": serde_json::to_value(golden_request("one-sedan-urban")).unwrap(),
        "expected": golden_expected("one-sedan-urban")
    }]);
    let (status, results) = admin.post("/v1/plugins/auto-copy/2/golden", &cases);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(results[0]["passed"], true);

    let (status, problem) = admin.send(
        admin
            .request(Method::POST, "/v1/plugins?name=evil&version=1")
            .body(wasm("fixture-forbidden-import")),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["code"], "plugin_incompatible");
    let (_, listed) = admin.get("/v1/plugins");
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"auto-copy@2") && !names.iter().any(|n| n.starts_with("evil")),
        "{names:?}"
    );
}

#[test]
fn a_product_naming_a_plugin_without_a_version_prices_with_the_active_version_until_another_is_activated()
 {
    let host = TestHost::demo();
    let admin = host.admin();
    let first = admin.upload_auto_rater("rater-x", "1", "1.25");
    assert_eq!(
        first["active"], true,
        "the first version of a name is active"
    );
    let second = admin.upload_auto_rater("rater-x", "2", "2.50");
    assert_eq!(
        second["active"], false,
        "a later version waits for activation"
    );

    admin.deploy_auto_variant("auto-x", json!({"kind": "plugin", "plugin": "rater-x"}));
    let (status, _) = admin.open_account("A-1");
    assert_eq!(status, StatusCode::CREATED);
    // The premiums of the quote, summed (the policy fee and commissions aside).
    let premium = |admin: &ApiClient| -> String {
        let mut policy = auto_policy("P-X");
        policy["product"] = json!("auto-x");
        let (_, quote) = admin.post("/v1/quotes", &policy);
        quoted_premium(&quote)
    };
    // 185.00 + 512.50 + 765.00 with version 1 (urban factor 1.25).
    assert_eq!(premium(&admin), "1462.50");

    // A preview shows the event an activation would record, and keeps
    // nothing.
    let (status, previewed) = admin.post_empty("/v1/plugins/rater-x/2/activation?preview=true");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(previewed["preview"], true);
    assert_eq!(
        previewed["other_events"][0]["config"]["type"],
        "version_activated"
    );
    let (status, _) = admin.post_empty("/v1/plugins/rater-x/9/activation");
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        premium(&admin),
        "1462.50",
        "refused activations change nothing"
    );

    let (status, activated) = admin.post_empty("/v1/plugins/rater-x/2/activation");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(activated["active"], true);
    // Twice as much with version 2 (urban factor 2.50).
    assert_eq!(premium(&admin), "2925.00");
    let active = admin.active_versions("rater-x");
    assert_eq!(active, ["2"]);

    let host = host.restart();
    assert_eq!(
        premium(&host.admin()),
        "2925.00",
        "the activation survives a restart"
    );
}

#[test]
fn a_plugin_uploaded_with_a_pooled_instance_policy_keeps_it_across_restarts_and_a_bad_policy_is_refused()
 {
    let host = TestHost::demo();
    let admin = host.admin();
    let upload = |query: &str| {
        admin.send(
            admin
                .request(Method::POST, &format!("/v1/plugins?{query}"))
                .header("content-type", "application/wasm")
                .body(wasm("auto-rater")),
        )
    };
    let (status, refused) = upload("name=pooled&version=1&instance_policy=pooled:0:5");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["code"], "invalid_instance_policy");
    let (status, accepted) = upload("name=pooled&version=1&instance_policy=pooled:2:100");
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(accepted["instance_policy"], "pooled:2:100");
    let host = host.restart();
    let (_, listed) = host.admin().get("/v1/plugins");
    let policies: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["instance_policy"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        policies.contains(&("pooled", "pooled:2:100")),
        "{policies:?}"
    );
    assert!(policies.contains(&("auto-rater", "fresh")), "{policies:?}");
}

#[test]
fn plugin_uploads_tables_and_activations_are_in_the_feed_and_the_plugins_history_and_replay_under_their_key()
 {
    let host = TestHost::demo();
    let admin = host.admin();
    let upload = |version: &str, idempotency: &str, bytes: Vec<u8>| {
        admin
            .request(
                Method::POST,
                &format!("/v1/plugins?name=rater-h&version={version}"),
            )
            .header("idempotency-key", idempotency)
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
            .unwrap()
    };
    let first = upload("1", "up-1", wasm("auto-rater"));
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().unwrap();
    // The same key and bytes: the first answer again, nothing recorded twice.
    let again = upload("1", "up-1", wasm("auto-rater"));
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().unwrap(), first);
    // The same key with another body: 409; the same version under another
    // key: 409 too (a version is immutable).
    let conflict = upload("1", "up-1", wasm("faulty"));
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert_eq!(
        conflict.json::<Value>().unwrap()["code"],
        "idempotency_conflict"
    );
    let exists = upload("1", "up-1-again", wasm("faulty"));
    assert_eq!(exists.status(), StatusCode::CONFLICT);
    assert_eq!(
        exists.json::<Value>().unwrap()["code"],
        "plugin_version_exists"
    );
    assert_eq!(
        upload("2", "up-2", wasm("auto-rater")).status(),
        StatusCode::CREATED
    );
    let csv = std::fs::read(workspace().join("plugins/auto-rater/tables/territory.csv")).unwrap();
    let put = admin
        .request(Method::PUT, "/v1/plugins/rater-h/2/tables/territory")
        .header("idempotency-key", "table-2")
        .body(csv.clone())
        .send()
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let replaced = admin
        .request(Method::PUT, "/v1/plugins/rater-h/2/tables/territory")
        .body(b"territory,factor\nurban,9\n".to_vec())
        .send()
        .unwrap();
    assert_eq!(replaced.status(), StatusCode::CONFLICT);
    assert_eq!(
        replaced.json::<Value>().unwrap()["code"],
        "plugin_version_immutable"
    );
    let scheduled = admin
        .request(Method::POST, "/v1/plugins/rater-h/2/schedule")
        .header("idempotency-key", "schedule-2")
        .json(&json!({"from": "2099-06-01"}))
        .send()
        .unwrap();
    assert_eq!(scheduled.status(), StatusCode::CREATED);

    let (_, history) = admin.get("/v1/plugins/rater-h");
    assert_eq!(history["active_version"], "1");
    let version = &history["versions"]["2"];
    assert_eq!(version["component_sha256"], first["content_sha256"]);
    assert_eq!(version["world"], "rater");
    assert_eq!(version["uploaded"]["by"], "admin:demo admin");
    let territory = premia::plugin::content_sha256(&csv);
    assert_eq!(version["tables"]["territory"], territory.as_str());
    let activations: Vec<(String, String, bool)> = history["activations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["version"].as_str().unwrap().to_string(),
                a["from"].as_str().unwrap().to_string(),
                a["scheduled"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(activations.len(), 2);
    assert_eq!(activations[1], ("2".into(), "2099-06-01".into(), true));

    let (_, feed) = admin.get("/v1/events?after=0&limit=1000");
    let keyed: Vec<(String, String, String)> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["stream"] == "plugin/rater-h")
        .map(|e| {
            assert_eq!(e["actor"], "admin:demo admin");
            assert!(e["issued_at"].is_string());
            (
                e["kind"].as_str().unwrap().to_string(),
                e["idempotency_key"].as_str().unwrap_or("").to_string(),
                e["event"]["config"]["version"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("plugin_uploaded", "up-1", "1"),
        ("plugin_version_activated", "up-1", "1"),
        ("plugin_uploaded", "up-2", "2"),
        ("rate_table_attached", "table-2", "2"),
        ("plugin_version_scheduled", "schedule-2", "2"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(keyed, expected);
}

#[test]
fn loading_the_demo_again_records_no_configuration_twice() {
    let data = tempfile::tempdir().unwrap();
    let kinds = |host: &TestHost| -> Vec<String> {
        let (_, feed) = host.admin().get("/v1/events?after=0&limit=1000");
        feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let host = TestHost::builder().demo().over(data.path()).start();
    let first = kinds(&host);
    assert_eq!(first.iter().filter(|k| *k == "plugin_uploaded").count(), 2);
    assert_eq!(
        first.iter().filter(|k| *k == "rate_table_attached").count(),
        5
    );
    drop(host);
    // Loading the demo again records no configuration twice; it issues a
    // fresh demo admin key (a secret is shown once, so the new start prints
    // a new one), and only that.
    let host = TestHost::builder().demo().over(data.path()).start();
    let again = kinds(&host);
    let (keys, configuration): (Vec<String>, Vec<String>) =
        again.into_iter().partition(|k| k == "api_key_created");
    let first_keys = first.iter().filter(|k| *k == "api_key_created").count();
    assert_eq!(keys.len(), first_keys + 1);
    let first_configuration: Vec<String> = first
        .into_iter()
        .filter(|k| k != "api_key_created")
        .collect();
    assert_eq!(configuration, first_configuration);
}

#[test]
fn a_socotra_external_rater_prices_declines_with_409_and_times_out_with_504_without_leaking_its_credentials()
 {
    let (rater, calls) = socotra_rater();
    let host = TestHost::demo();
    let admin = host.admin();
    let register = admin
        .request(Method::POST, "/v1/external-raters")
        .json(
            &json!({"name": "legacy", "url": format!("http://{rater}/rate"), "timeout_ms": 500,
                      "headers": [{"name": "Authorization", "value": "Basic c2VjcmV0LXRva2Vu"}]}),
        )
        .send()
        .unwrap();
    assert_eq!(register.status(), StatusCode::CREATED);
    let shown = register.text().unwrap();
    assert!(
        !shown.contains("c2VjcmV0LXRva2Vu"),
        "header values are never returned: {shown}"
    );
    let listed = admin
        .request(Method::GET, "/v1/external-raters")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        listed.contains("Authorization") && !listed.contains("c2VjcmV0LXRva2Vu"),
        "{listed}"
    );

    let product = json!({
        "name": "legacy-auto", "currency": "USD",
        "charges": {"premium": {"category": "premium"}},
        "rating": {"kind": "external", "rater": "legacy"},
        "plans": {"annual": {"cadence": "full-pay"}}, "default_plan": "annual"
    });
    let (status, _) = admin.post("/v1/products", &product);
    assert_eq!(status, StatusCode::CREATED);
    admin.open_account("A-1");
    let policy = |fields: Value| {
        json!({"locator": "P-9", "account": "A-1", "product": "legacy-auto", "start": "2026-01-01", "time_zone": "UTC",
               "data": {"fields": fields, "exposures": {"V1": {"name": "vehicle",
                        "perils": {"V1-COLL": {"name": "collision", "fields": {"yearly_premium": ["1200.00"]}}}}}}})
    };
    let (_, quote) = admin.post("/v1/quotes", &policy(json!({})));
    assert_eq!(quote["total"], "1200.00", "{quote}");

    let (status, problem) = admin.post(
        "/v1/quotes",
        &policy(json!({"decline": ["no fleets in this state"]})),
    );
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["detail"], "no fleets in this state");

    let (status, problem) = admin.post("/v1/quotes", &policy(json!({"slow": ["yes"]})));
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(problem["code"], "rater_deadline");
    assert!(!problem.to_string().contains("c2VjcmV0LXRva2Vu"));
    assert!(calls.load(std::sync::atomic::Ordering::SeqCst) >= 3);
}

/// The installment fees of each invoice billing an installment, over HTTP:
/// a monthly policy starting in 30 days, billed through its second month
/// with the demo's wasm `installment-fee` plugin (WIT 0.2); paid up front
/// or never paid.
fn installment_fees_over_http(paid_up_front: bool) -> Vec<Vec<String>> {
    // The demo as a test tenant: its clock moves to the run's date first.
    let host = TestHost::test_tenant();
    let admin = host.admin();
    admin.open_account("A-1");
    // Commands are issued now: start the term in the future so nothing is
    // caught up, and bill its first two monthly installments.
    let start = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
    let mut policy = auto_policy("P-1");
    policy["start"] = json!(start.to_string());
    policy["plan"] = json!("monthly");
    let (status, _) = admin.post("/v1/policies", &policy);
    assert_eq!(status, StatusCode::CREATED);
    if paid_up_front {
        let (status, paid) = admin.post(
            "/v1/payments",
            &json!({"account": "A-1", "amount": "5000.00",
                      "received_on": chrono::Utc::now().date_naive().to_string(),
                      "reference": "prepaid"}),
        );
        assert!(status.is_success(), "{paid}");
    }
    let second_month = chrono::Months::new(1);
    let up_to = start.checked_add_months(second_month).unwrap();
    admin.move_clock(&up_to.to_string());
    let (status, _) = admin.post("/v1/billing/runs", &json!({"up_to": up_to.to_string()}));
    assert_eq!(status, StatusCode::OK);
    let (_, billing) = admin.get("/v1/accounts/A-1/billing");
    let invoices = billing["invoices"].as_array().unwrap();
    let fees = |invoice: &Value| -> Vec<String> {
        invoice["invoice"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|item| item["charge_name"] == "installment-fee")
            .map(|item| item["amount"]["amount"].as_str().unwrap().to_string())
            .collect()
    };
    let installment_invoices: Vec<&Value> = invoices
        .iter()
        .filter(|i| {
            i["invoice"]["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|item| item["slice"].is_object())
        })
        .collect();
    assert!(installment_invoices.len() >= 2, "{billing}");
    installment_invoices.into_iter().map(fees).collect()
}

#[test]
fn billing_runs_over_http_call_the_wasm_invoicing_plugin_for_its_installment_fee() {
    let fees = installment_fees_over_http(true);
    assert_eq!(
        fees[0],
        Vec::<String>::new(),
        "no fee on the first invoice of the term"
    );
    assert_eq!(fees[1], vec!["5.00"], "the plugin's fee on the second");
}

/// Never paid, the policy lapses for non-payment on the day its second
/// invoice is issued: the plugin sees it lapsed and charges no fee.
#[test]
fn the_wasm_invoicing_plugin_charges_no_fee_on_the_invoice_of_a_policy_lapsed_for_non_payment() {
    let fees = installment_fees_over_http(false);
    assert_eq!(
        fees[0],
        Vec::<String>::new(),
        "no fee on the first invoice of the term"
    );
    assert_eq!(
        fees[1],
        Vec::<String>::new(),
        "no fee once the policy has lapsed"
    );
}

/// The schedule a quote shows is what is billed (seed 002): the demo product
/// (the wasm auto rater's 25.00 policy fee, the installment-fee plugin),
/// monthly, quoted and bound today over HTTP from the first of the month
/// three months back. The quote's first installment is the catch-up invoice
/// of the binding day with the policy fee, and the billing run of today
/// issues exactly it; every later one is a month's premium with the plugin's
/// 5.00. (Runs after today are refused outside test tenants, so the rest of
/// the term is compared in `collections::tests::schedule`.)
#[test]
fn the_quoted_schedule_over_http_is_what_the_billing_run_issues() {
    use chrono::Datelike;
    let host = TestHost::demo();
    let admin = host.admin();
    admin.open_account("A-1");
    let today = chrono::Utc::now().date_naive();
    let this_month = today.with_day(1).unwrap();
    let start = this_month - chrono::Months::new(3);
    let mut policy = auto_policy("P-1");
    policy["start"] = json!(start.to_string());
    policy["plan"] = json!("monthly");
    policy["time_zone"] = json!("UTC");

    let (status, quote) = admin.post("/v1/quotes", &policy);
    assert_eq!(status, StatusCode::OK, "{quote}");
    let quoted: Vec<(String, String, rust_decimal::Decimal)> = quote["installments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["invoice_date"].as_str().unwrap().to_string(),
                i["due_date"].as_str().unwrap().to_string(),
                i["amount"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    let (status, bound) = admin.post("/v1/policies", &policy);
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    let (status, report) = admin.post("/v1/billing/runs", &json!({"up_to": today.to_string()}));
    assert_eq!(status, StatusCode::OK, "{report}");
    let (_, billing) = admin.get("/v1/accounts/A-1/billing");
    let billed: Vec<(String, String, rust_decimal::Decimal)> = billing["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["invoice"]["issue_date"].as_str().unwrap().to_string(),
                i["invoice"]["due_date"].as_str().unwrap().to_string(),
                i["invoice"]["total"]["amount"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap(),
            )
        })
        .collect();
    let due_by_today: Vec<_> = quoted
        .iter()
        .filter(|q| q.0 <= today.to_string())
        .cloned()
        .collect();
    assert!(!due_by_today.is_empty(), "{quote}");
    assert_eq!(
        billed, due_by_today,
        "every invoice issued so far was quoted"
    );
    let first_items = billing["invoices"][0]["invoice"]["items"]
        .as_array()
        .unwrap();
    assert!(
        first_items
            .iter()
            .any(|i| i["charge_name"] == "policy-fee" && i["amount"]["amount"] == "25.00"),
        "the policy fee is on the first invoice: {billing}"
    );
    assert_eq!(
        quoted.len() - due_by_today.len(),
        8,
        "the eight months after this one are still to come: {quote}"
    );
    for later in &quoted[due_by_today.len()..] {
        let premium = later.2 - rust_decimal_macros::dec!(5.00);
        let monthly = quoted[due_by_today.len()].2 - rust_decimal_macros::dec!(5.00);
        assert!(
            (premium - monthly).abs() <= rust_decimal_macros::dec!(0.01),
            "a later installment is a month's premium and the plugin's 5.00: {later:?}"
        );
        assert!(later.0.ends_with("-01"), "billed on the first: {later:?}");
    }
}

//! Rate versions pinned to the term, through the HTTP API (DOMAIN section 9
//! and [E9]): the auto-rater plugin uploaded twice with different rate
//! tables, version 2 scheduled for new business and renewals, terms rated
//! by the version in effect on their rating date, a rate correction, and
//! the refusals (overlapping schedules, unknown versions, a product naming
//! a plugin or rater that does not exist, tables added to a version that
//! has rated a term).
//!
//! [E9]'s dates are 2026; a test tenant's clock starts on the real today
//! and never goes back, so the same example runs one year after today's
//! year (`Y`): version 2 from Y-06-01, policy A from Y-01-01, and so on.

use crate::harness::{ApiClient, TestHost};
use chrono::Datelike;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The tables of a version pricing a vehicle and a trailer at `vehicle`
/// and `trailer` a year (bodily injury: no deductible factor; suburban
/// territory and a 30-year-old driver: factors 1.00).
fn upload_version(admin: &ApiClient, version: &str, vehicle: &str, trailer: &str) -> StatusCode {
    let (status, _) = admin.upload_wasm("rater", version, "auto-rater");
    if status != StatusCode::CREATED {
        return status;
    }
    let base = format!("vehicle_class,bodily_injury\nvehicle,{vehicle}\ntrailer,{trailer}\n");
    for (table, csv) in [
        ("base-rates", base),
        ("territory", "territory,factor\nsuburban,1.00\n".to_string()),
        ("driver-age", "band,factor\n25-64,1.00\n".to_string()),
        ("deductible", "deductible,factor\n500,1.00\n".to_string()),
    ] {
        admin.put_table("rater", version, table, csv);
    }
    StatusCode::CREATED
}

fn exposure(class: &str, peril: &str) -> Value {
    json!({"name": class, "fields": {"vehicle_class": [class], "driver_age": [30]},
           "perils": {peril: {"name": "bodily_injury"}}})
}

/// The premium charges of a committed effect: (item, amount), sorted.
fn premiums(effect: &Value) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = effect["charges"]
        .as_array()
        .unwrap_or_else(|| panic!("no charges in {effect}"))
        .iter()
        .filter(|c| c["charge"] == "premium")
        .map(|c| {
            (
                c["item"].as_str().unwrap_or_default().to_string(),
                c["amount"]["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

fn policy_term(admin: &ApiClient, policy: &str, term: usize) -> Value {
    let (_, read) = admin.get(&format!("/v1/policies/{policy}"));
    read["terms"][term].clone()
}

#[test]
fn e9_terms_keep_the_version_of_their_rating_date_and_a_rate_correction_books_the_difference() {
    let host = TestHost::test_tenant();
    let admin = host.admin();
    let y = chrono::Utc::now().date_naive().year() + 1;
    let day = |md: &str| format!("{y}-{md}");

    assert_eq!(
        upload_version(&admin, "1", "1200.00", "600.00"),
        StatusCode::CREATED
    );
    assert_eq!(
        upload_version(&admin, "2", "1800.00", "900.00"),
        StatusCode::CREATED
    );
    // Version 2 from Y-06-01 for new business and renewals.
    let (status, body) = admin.post(
        "/v1/plugins/rater/2/schedule",
        &json!({"new_business_from": day("06-01"), "renewals_from": day("06-01")}),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    admin.deploy_auto_variant("auto-e9", json!({"kind": "plugin", "plugin": "rater"}));
    let (status, _) = admin.open_account("A-1");
    assert_eq!(status, StatusCode::CREATED);

    // Policy A, new business [Y-01-01, Y+1-01-01) with the vehicle: 1200.00.
    let policy_a = json!({"locator": "A", "account": "A-1", "product": "auto-e9",
        "start": day("01-01"), "time_zone": "UTC",
        "data": {"fields": {"territory": ["suburban"]},
                 "exposures": {"V": exposure("vehicle", "V-BI")}}});
    let (status, bound) = admin.post("/v1/policies", &policy_a);
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    assert_eq!(
        premiums(&bound),
        [("V-BI".to_string(), "1200.00".to_string())]
    );
    let term = policy_term(&admin, "A", 0);
    assert_eq!(term["rate_version"], "1");
    assert_eq!(term["rating_date"], day("01-01"));

    // Issued on Y-09-01, after version 2 is in effect, an endorsement
    // effective Y-07-01 adds the trailer: 300.00 by version 1 (6 of 12
    // months); the vehicle is not priced again.
    admin.move_clock(&day("09-01"));
    let (status, endorsed) = admin.post(
        "/v1/policies/A/endorsements",
        &json!({"effective": day("07-01"), "changes": [
            {"op": "add_exposure", "locator": "T", "exposure": exposure("trailer", "T-BI")}]}),
    );
    assert_eq!(status, StatusCode::CREATED, "{endorsed}");
    assert_eq!(
        premiums(&endorsed),
        [("T-BI".to_string(), "300.00".to_string())]
    );

    // Policy B, new business from Y-06-15: 1800.00 by version 2.
    let policy_b = json!({"locator": "B", "account": "A-1", "product": "auto-e9",
        "start": day("06-15"), "time_zone": "UTC",
        "data": {"fields": {"territory": ["suburban"]},
                 "exposures": {"V": exposure("vehicle", "V-BI")}}});
    let (status, bound_b) = admin.post("/v1/policies", &policy_b);
    assert_eq!(status, StatusCode::CREATED, "{bound_b}");
    assert_eq!(
        premiums(&bound_b),
        [("V-BI".to_string(), "1800.00".to_string())]
    );
    assert_eq!(policy_term(&admin, "B", 0)["rate_version"], "2");

    // A rate correction of A's first term with version 2: previewed first
    // (nothing kept), then committed with the same amounts: +600.00 for
    // the vehicle, +150.00 for the trailer (300.00 x 6/12).
    let correction =
        json!({"term": 1, "version": "2", "reason": "rate filing 2 approved retroactively"});
    let (status, previewed) =
        admin.post("/v1/policies/A/rate-corrections?preview=true", &correction);
    assert_eq!(status, StatusCode::OK, "{previewed}");
    assert_eq!(policy_term(&admin, "A", 0)["rate_version"], "1");

    // A's renewal [Y+1-01-01, Y+2-01-01): 1800.00 + 900.00 by version 2.
    let (status, renewed) = admin.post("/v1/policies/A/renewals", &json!({}));
    assert_eq!(status, StatusCode::CREATED, "{renewed}");
    assert_eq!(
        premiums(&renewed),
        [
            ("T-BI".to_string(), "900.00".to_string()),
            ("V-BI".to_string(), "1800.00".to_string())
        ]
    );
    assert_eq!(policy_term(&admin, "A", 1)["rate_version"], "2");

    let (status, corrected) = admin.post("/v1/policies/A/rate-corrections", &correction);
    assert_eq!(status, StatusCode::CREATED, "{corrected}");
    let expected = [
        ("T-BI".to_string(), "150.00".to_string()),
        ("V-BI".to_string(), "600.00".to_string()),
    ];
    assert_eq!(premiums(&previewed), expected);
    assert_eq!(premiums(&corrected), expected);
    assert_eq!(policy_term(&admin, "A", 0)["rate_version"], "2");
    let transaction = &corrected["transactions"][0];
    assert_eq!(transaction["kind"], "rate_correction", "{corrected}");
    assert_eq!(
        transaction["change"]["reason"],
        "rate filing 2 approved retroactively"
    );
    assert_eq!(transaction["change"]["previous_version"], "1");

    // The same correction again: the term is already rated by version 2.
    let (status, again) = admin.post("/v1/policies/A/rate-corrections", &correction);
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["code"], "rate_version_unchanged");
    // A correction naming a missing version, or a missing term: refused,
    // nothing changed.
    let (status, missing) = admin.post(
        "/v1/policies/A/rate-corrections",
        &json!({"term": 2, "version": "9", "reason": "typo"}),
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{missing}");
    assert_eq!(missing["code"], "rate_version_unknown");
    let (status, missing) = admin.post(
        "/v1/policies/A/rate-corrections",
        &json!({"term": 7, "version": "1", "reason": "typo"}),
    );
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert_eq!(missing["code"], "term_not_found");
    assert_eq!(policy_term(&admin, "A", 1)["rate_version"], "2");
}

#[test]
fn schedules_versions_and_products_naming_what_does_not_exist_are_refused_with_nothing_changed() {
    let host = TestHost::test_tenant();
    let admin = host.admin();
    let y = chrono::Utc::now().date_naive().year() + 1;

    assert_eq!(
        upload_version(&admin, "1", "1200.00", "600.00"),
        StatusCode::CREATED
    );
    assert_eq!(
        upload_version(&admin, "2", "1800.00", "900.00"),
        StatusCode::CREATED
    );
    assert_eq!(
        upload_version(&admin, "3", "2400.00", "1200.00"),
        StatusCode::CREATED
    );
    let (status, body) = admin.post(
        "/v1/plugins/rater/2/schedule",
        &json!({"from": format!("{y}-06-01")}),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Another version from the same day for renewals: which would rate?
    let (status, clash) = admin.post(
        "/v1/plugins/rater/3/schedule",
        &json!({"renewals_from": format!("{y}-06-01")}),
    );
    assert_eq!(status, StatusCode::CONFLICT, "{clash}");
    assert_eq!(clash["code"], "schedule_overlaps");
    // Neither day given, or both forms at once.
    for body in [
        json!({}),
        json!({"from": format!("{y}-07-01"), "renewals_from": format!("{y}-07-01")}),
    ] {
        let (status, refused) = admin.post("/v1/plugins/rater/3/schedule", &body);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["code"], "invalid_schedule");
    }
    let (_, history) = admin.get("/v1/plugins/rater");
    assert_eq!(
        history["activations"].as_array().unwrap().len(),
        2,
        "{history}"
    );
    assert_eq!(history["activations"][1]["applies_to"], "all");

    // A product naming a plugin, a version or a rater that does not exist.
    let auto = admin.product("auto");
    for (rating, named) in [
        (json!({"kind": "plugin", "plugin": "nothing"}), "nothing"),
        (json!({"kind": "plugin", "plugin": "rater@9"}), "rater@9"),
        (json!({"kind": "external", "rater": "nobody"}), "nobody"),
        (
            json!({"kind": "plugin_with_fallback", "plugin": "rater", "fallback": "nobody"}),
            "nobody",
        ),
    ] {
        let mut product = auto.clone();
        product["name"] = json!("auto-bad");
        product["rating"] = rating;
        let (status, refused) = admin.post("/v1/products", &product);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert_eq!(refused["code"], "product_rater_unknown");
        assert!(
            refused["detail"].as_str().unwrap().contains(named),
            "{refused}"
        );
    }
    let (status, _) = admin.get("/v1/products/auto-bad");
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Once a version has rated a term, its tables are fixed.
    admin.deploy_auto_variant("auto-v", json!({"kind": "plugin", "plugin": "rater"}));
    admin.open_account("A-1");
    let (status, bound) = admin.post(
        "/v1/policies",
        &json!({"locator": "P", "account": "A-1", "product": "auto-v",
               "start": format!("{y}-01-01"), "time_zone": "UTC",
               "data": {"fields": {"territory": ["suburban"]},
                        "exposures": {"V": exposure("vehicle", "V-BI")}}}),
    );
    assert_eq!(status, StatusCode::CREATED, "{bound}");
    let (status, put) = admin.put_text("/v1/plugins/rater/1/tables/extra", "a,b\nc,1\n");
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(put["code"], "plugin_version_immutable");
}

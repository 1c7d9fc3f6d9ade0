//! The auto rater and the installment-fee invoicer, run as components in the
//! host's sandbox, give exact figures.

use crate::support::*;
use chrono::NaiveDate;
use premia::plugin::{
    Coverage, DraftInvoice, DraftItem, PluginError, PluginRater, PluginWorld, PolicyStatus,
};
use premia::rating::{Premium, Rater, RaterIdentity, RatingError, Segment};
use rust_decimal_macros::dec;

#[test]
fn the_auto_rater_prices_an_urban_sedan_exactly() {
    let runtime = runtime();
    let (response, report) = runtime
        .rate("auto@1", &golden_request("one-sedan-urban"))
        .unwrap();
    let premiums: Vec<Premium> = response.items.iter().map(|i| i.premium).collect();
    assert_eq!(
        premiums,
        vec![
            Premium::Yearly(dec!(512.50)),
            Premium::Yearly(dec!(765.00)),
            Premium::Yearly(dec!(185.00))
        ]
    );
    assert_eq!(response.flat_charges[0].amount, dec!(25.00));
    assert_eq!(response.flat_charges[0].charge, "policy-fee");
    assert!(report.fuel_consumed > 0);
    assert!(report.memory_peak_bytes > 0);
}

#[test]
fn the_auto_rater_matches_every_golden_case() {
    let runtime = runtime();
    for case in golden_cases() {
        let (response, _) = runtime.rate("auto@1", &golden_request(&case)).unwrap();
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            golden_expected(&case),
            "golden case {case}"
        );
    }
}

#[test]
fn the_same_request_always_gives_the_same_answer() {
    let runtime = runtime();
    let request = golden_request("four-vehicles-rural");
    let first = runtime.rate("auto@1", &request).unwrap().0;
    for _ in 0..20 {
        assert_eq!(runtime.rate("auto@1", &request).unwrap().0, first);
    }
}

#[test]
fn a_plugin_rater_names_its_plugin_and_hash_for_the_audit_trail() {
    let runtime = runtime();
    let rater = PluginRater::new(runtime.clone(), "auto@1").unwrap();
    let response = rater.rate(&golden_request("one-sedan-urban")).unwrap();
    assert_eq!(response.items.len(), 3);
    let expected_sha = premia::plugin::content_sha256(&wasm("auto-rater"));
    assert_eq!(
        rater.identity(),
        RaterIdentity::Plugin {
            plugin_id: "auto@1".into(),
            content_sha256: expected_sha,
            edition_sha256: None,
        }
    );
}

#[test]
fn a_declined_driver_is_a_business_error_not_a_failure() {
    let runtime = runtime();
    let mut request = golden_request("one-sedan-urban");
    request.policy.exposures[0].characteristics.fields.insert(
        "driver_age".into(),
        vec![premia::rating::FieldValue::Integer(15)],
    );
    let rater = PluginRater::new(runtime, "auto@1").unwrap();
    assert_eq!(
        rater.rate(&request).unwrap_err(),
        RatingError::Declined("vehicle V1: drivers under 16 are not insurable".into())
    );
}

fn draft(previous_invoice_count: u32) -> DraftInvoice {
    let date = |d| NaiveDate::from_ymd_opt(2025, 2, d).unwrap();
    DraftInvoice {
        account: "A1".into(),
        currency: "USD".into(),
        invoice_date: date(1),
        due_date: date(15),
        previous_invoice_count,
        items: vec![DraftItem {
            locator: "I2".into(),
            policy: Some("P1".into()),
            charge: "premium".into(),
            category: "premium".into(),
            amount: dec!(83.34),
            period: Some(Segment {
                start: date(1),
                end: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
            }),
            installment_number: Some(2),
        }],
        policies: vec![PolicyStatus {
            policy: "P1".into(),
            term: 1,
            coverage: Coverage::InForce,
        }],
    }
}

/// [`draft`] of a policy in `coverage` on the invoice date.
fn draft_of_a_policy(coverage: Coverage, previous_invoice_count: u32) -> DraftInvoice {
    let mut draft = draft(previous_invoice_count);
    draft.policies[0].coverage = coverage;
    draft
}

#[test]
fn the_installment_fee_plugin_is_an_invoicer_of_wit_0_2() {
    let runtime = runtime();
    let info = runtime.plugin("fee@1").unwrap();
    assert_eq!(info.wit_version, "0.2.0");
    assert!(
        info.imports
            .contains(&"premia:plugin/host@0.2.0".to_string()),
        "{:?}",
        info.imports
    );
    assert_eq!(runtime.plugin("auto@1").unwrap().wit_version, "0.1.0");
}

#[test]
fn the_wasm_invoicing_plugin_charges_no_fee_on_the_invoice_of_a_cancelled_or_lapsed_policy() {
    let runtime = runtime();
    let effective = NaiveDate::from_ymd_opt(2025, 1, 20).unwrap();
    for coverage in [
        Coverage::Cancelled { effective },
        Coverage::Lapsed { effective },
        Coverage::Expired,
    ] {
        let (adjustments, _) = runtime
            .adjust_invoice("fee@1", &draft_of_a_policy(coverage, 1))
            .unwrap();
        assert_eq!(adjustments.lines, [], "{coverage:?}");
    }
    let (in_force, _) = runtime
        .adjust_invoice("fee@1", &draft_of_a_policy(Coverage::InForce, 1))
        .unwrap();
    assert_eq!(in_force.lines.len(), 1);
    assert_eq!(in_force.lines[0].amount, dec!(5.00));
}

#[test]
fn the_invoicing_plugin_adds_its_fee_to_every_invoice_but_the_first() {
    let runtime = runtime();
    assert_eq!(
        runtime.plugin("fee@1").unwrap().world,
        PluginWorld::Invoicer
    );
    let (first, _) = runtime.adjust_invoice("fee@1", &draft(0)).unwrap();
    assert!(first.lines.is_empty());
    let (second, _) = runtime.adjust_invoice("fee@1", &draft(1)).unwrap();
    assert_eq!(second.lines.len(), 1);
    assert_eq!(second.lines[0].charge, "installment-fee");
    assert_eq!(second.lines[0].amount, dec!(5.00));
    assert_eq!(second.lines[0].policy.as_deref(), Some("P1"));
    assert_eq!(second.due_date, None);
}

#[test]
fn the_invoicing_plugin_keeps_installment_dates_by_default() {
    let runtime = runtime();
    let (moved, _) = runtime.schedule_dates("fee@1", "USD", &[]).unwrap();
    assert!(moved.is_empty());
}

#[test]
fn a_plugin_of_one_world_cannot_be_called_as_the_other() {
    let runtime = runtime();
    let error = runtime
        .rate("fee@1", &golden_request("one-sedan-urban"))
        .unwrap_err();
    assert_eq!(error.code(), "plugin_wrong_world");
    let error = runtime.adjust_invoice("auto@1", &draft(1)).unwrap_err();
    assert!(matches!(error, PluginError::WrongWorld { .. }));
}

/// A rater built against WIT 0.2 (the fixture `rater-v0-2`, 120.00 a year an
/// item) is accepted and called in its version, like the 0.1 auto rater.
#[test]
fn a_rater_of_wit_0_2_prices_like_a_rater_of_0_1() {
    let runtime =
        premia::plugin::PluginRuntime::new(premia::plugin::PluginLimits::default()).unwrap();
    let info = runtime
        .register(
            "flat",
            "1",
            &wasm("fixture-rater-v0-2"),
            premia_plugin_sdk::tables::RateTables::new(),
        )
        .unwrap();
    assert_eq!(info.world, PluginWorld::Rater);
    assert_eq!(info.wit_version, "0.2.0");
    let (response, report) = runtime
        .rate("flat@1", &golden_request("one-sedan-urban"))
        .unwrap();
    let premiums: Vec<Premium> = response.items.iter().map(|i| i.premium).collect();
    assert_eq!(premiums, vec![Premium::Yearly(dec!(120.00)); 3]);
    assert_eq!(
        response.items[0].commissions[0].amount,
        Premium::Yearly(dec!(12.00))
    );
    assert_eq!(response.flat_charges[0].charge, "policy-fee");
    assert_eq!(response.flat_charges[0].amount, dec!(25.00));
    assert_eq!(report.logs[0].message, "3 items");
}

//! The demo tenant: the example plugins with their rate tables, the `auto`
//! product, and an admin key shown once (`premia serve` on an empty store,
//! or `--demo`).

use super::error::BootError;
use super::tenant::make_test_tenant;
use crate::api::auth::Role;
use crate::api::state::{AppState, qualified};
use crate::billing::{Cadence, InstallmentPlan};
use crate::domain::{Currency, RoundingMode};
use crate::engine::{EngineCommand, RequestMeta};
use crate::policy::{
    CancellationRetention, ChargeCategory, ChargeDef, Handling, Invoicing, PolicyCommand,
    ProductConfig, RatingChain,
};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The tenant the demo loads.
pub const DEMO_TENANT: &str = "demo";

/// The demo's auto product: premium, a flat policy fee on the next invoice,
/// commissions, a 10% short-rate holdback on cancellation; monthly, quarterly
/// and annual plans; rated by the auto-rater plugin; the installment-fee
/// invoicing plugin.
pub fn demo_product() -> ProductConfig {
    let def = |category, handling, invoicing| ChargeDef {
        category,
        handling,
        invoicing,
    };
    let mut charges = BTreeMap::new();
    charges.insert(
        "premium".to_string(),
        def(
            ChargeCategory::Premium,
            Handling::Normal,
            Invoicing::Scheduled,
        ),
    );
    charges.insert(
        "policy-fee".to_string(),
        def(ChargeCategory::FlatFee, Handling::Flat, Invoicing::Next),
    );
    charges.insert(
        "installment-fee".to_string(),
        def(ChargeCategory::InvoiceFee, Handling::Flat, Invoicing::Next),
    );
    charges.insert(
        "commission".to_string(),
        def(
            ChargeCategory::Commission,
            Handling::Normal,
            Invoicing::Scheduled,
        ),
    );
    charges.insert(
        "short-rate".to_string(),
        def(ChargeCategory::Fee, Handling::Retention, Invoicing::Next),
    );
    let mut plans = BTreeMap::new();
    plans.insert(
        "monthly".to_string(),
        InstallmentPlan::new(Cadence::Monthly),
    );
    plans.insert(
        "quarterly".to_string(),
        InstallmentPlan::new(Cadence::Quarterly),
    );
    plans.insert("annual".to_string(), InstallmentPlan::new(Cadence::FullPay));
    ProductConfig {
        name: "auto".into(),
        currency: Currency::USD,
        duration_basis: Default::default(),
        rounding_mode: RoundingMode::HalfAwayFromZero,
        charges,
        premium_charge: "premium".into(),
        commission_charge: Some("commission".into()),
        rating: RatingChain::Plugin {
            plugin: "auto-rater@1".into(),
        },
        plans,
        default_plan: "monthly".into(),
        cancellation_retention: Some(CancellationRetention {
            charge: "short-rate".into(),
            holdback_percent: Decimal::TEN,
        }),
        cancellation: None,
        non_renewal_notice_days: 0,
        invoicing_plugin: Some("installment-fee@1".into()),
        term_months: 12,
        rating_date: Default::default(),
        shadow: None,
        billing_methods: Vec::new(),
    }
}

/// Where the demo finds the example plugins and their tables.
#[derive(Debug, Clone)]
pub struct DemoFiles {
    /// The directory of the compiled components (`auto_rater.wasm`, ...).
    pub wasm_dir: PathBuf,
    /// The `plugins/` directory of the repository (for rate tables).
    pub plugins_dir: PathBuf,
}

/// Loads the demo tenant: the example plugins with their tables, the auto
/// product, and an admin key, which is returned (shown once).
pub fn load_demo(state: &AppState, files: &DemoFiles) -> Result<String, BootError> {
    load_demo_as(state, files, false)
}

/// [`load_demo`], as a test tenant with a clock of its own when `test` (and
/// the demo tenant's log is still empty).
pub fn load_demo_as(state: &AppState, files: &DemoFiles, test: bool) -> Result<String, BootError> {
    if test {
        make_test_tenant(state, DEMO_TENANT)?;
    }
    for (crate_name, id) in [
        ("auto-rater", "auto-rater@1"),
        ("installment-fee", "installment-fee@1"),
    ] {
        let wasm = files
            .wasm_dir
            .join(format!("{}.wasm", crate_name.replace('-', "_")));
        let bytes = std::fs::read(&wasm).map_err(|source| BootError::DemoPlugin {
            path: wasm.clone(),
            source,
        })?;
        let Some((name, version)) = id.split_once('@') else {
            unreachable!("demo plugin ids are name@version");
        };
        let dir = files.plugins_dir.join(crate_name).join("tables");
        let mut tables = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(BootError::io(&dir))? {
            let path = entry.map_err(BootError::io(&dir))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("csv") {
                continue;
            }
            let Some(table) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            tables.push((
                table.to_string(),
                std::fs::read(&path).map_err(BootError::io(&path))?,
            ));
        }
        tables.sort();
        state.engine.upload_plugin_with_tables(
            DEMO_TENANT,
            &state.raters.plugins,
            name,
            version,
            &bytes,
            &tables,
            "premia:demo",
        )?;
    }
    let mut product = demo_product();
    product.rating = RatingChain::Plugin {
        plugin: qualified(DEMO_TENANT, "auto-rater@1"),
    };
    product.invoicing_plugin = Some(qualified(DEMO_TENANT, "installment-fee@1"));
    let meta = RequestMeta {
        actor: "premia:demo".into(),
        issued_at: chrono::Utc::now(),
        idempotency_key: Some("demo-product".into()),
        arithmetic: crate::billing::Arithmetic::Written,
    };
    state.engine.execute(
        DEMO_TENANT,
        &EngineCommand::from(PolicyCommand::DeployProduct { product }),
        &meta,
    )?;
    Ok(state
        .keys
        .create_as(DEMO_TENANT, Role::Admin, "demo admin", "premia:demo")?)
}

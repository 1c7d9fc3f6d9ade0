//! `premia serve`: opens the event store (sled in the data directory, or a
//! PostgreSQL database with `--store postgres://...`) and the data directory
//! (compiled plugin artifacts), re-registers every tenant's plugins, rebuilds
//! every tenant from its log, loads a demo tenant on first run, and serves
//! the API.

use super::auth::{KeyRing, Role, SYSTEM_TENANT};
use super::state::{AppState, RaterDirectory, qualified};
use crate::billing::{Cadence, InstallmentPlan};
use crate::config::{HostConfig, secrets::SecretBox};
use crate::domain::{Currency, RoundingMode};
use crate::engine::{Engine, EngineCommand, RequestMeta};
use crate::plugin::{PluginLimits, PluginRuntime};
use crate::policy::{
    CancellationRetention, ChargeCategory, ChargeDef, Handling, Invoicing, PolicyCommand,
    ProductConfig, RatingChain,
};
use crate::store::{PgStore, SledStore, Store};
use anyhow::Context;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The tenant the demo loads.
pub const DEMO_TENANT: &str = "demo";

/// Opens the state over a store: keys, plugin runtime (with the artifact
/// cache in `artifacts`, if given), every stored plugin, the engine.
pub fn open_state(
    store: Arc<dyn Store>,
    artifacts: Option<&Path>,
    limits: PluginLimits,
) -> anyhow::Result<AppState> {
    let keys = Arc::new(KeyRing::load(Arc::clone(&store))?);
    let mut runtime = PluginRuntime::new(limits)?;
    if let Some(dir) = artifacts {
        runtime = runtime.with_artifact_dir(dir)?;
    }
    let runtime = Arc::new(runtime);
    // The secret key lives in the data directory (beside `artifacts/`), or
    // in the environment.
    let secrets = SecretBox::load(artifacts.and_then(Path::parent))?;
    let raters = Arc::new(RaterDirectory::with_secrets(Arc::clone(&runtime), secrets));
    let adjuster = Arc::new(
        crate::engine::PluginInvoiceAdjuster::new(runtime)
            .with_active_versions(Arc::clone(&raters.active)),
    );
    // Each tenant's configuration events put its plugins and raters in use
    // on this host, now and whenever they move (a command, a catch-up).
    let sink = Arc::new(HostConfig::new(Arc::clone(&store), Arc::clone(&raters)));
    let engine = Arc::new(
        Engine::open(Arc::clone(&store), raters.clone())?
            .with_invoice_adjuster(adjuster)
            .with_config_sink(sink),
    );
    let state = AppState {
        engine,
        raters,
        keys,
        store: Arc::clone(&store),
    };
    for tenant in store.tenants()?.into_iter().filter(|t| t != SYSTEM_TENANT) {
        // A previous release's configuration blobs become events, once.
        state
            .engine
            .carry_legacy_config(&tenant, &state.raters.plugins, &state.raters.secrets)?;
    }
    Ok(state)
}

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
        invoicing_plugin: Some("installment-fee@1".into()),
        term_months: 12,
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
pub fn load_demo(state: &AppState, files: &DemoFiles) -> anyhow::Result<String> {
    load_demo_as(state, files, false)
}

/// [`load_demo`], as a test tenant with a clock of its own when `test` (and
/// the demo tenant's log is still empty).
pub fn load_demo_as(state: &AppState, files: &DemoFiles, test: bool) -> anyhow::Result<String> {
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
        let bytes = std::fs::read(&wasm).with_context(|| {
            format!(
                "{}: build the example plugins first (scripts/demo.sh does)",
                wasm.display()
            )
        })?;
        let (name, version) = id.split_once('@').context("plugin id")?;
        let dir = files.plugins_dir.join(crate_name).join("tables");
        let mut tables = Vec::new();
        for entry in std::fs::read_dir(&dir).with_context(|| format!("{}", dir.display()))? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) == Some("csv") {
                let table = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .context("table name")?;
                tables.push((table.to_string(), std::fs::read(&path)?));
            }
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
    Ok(state.keys.create(DEMO_TENANT, Role::Admin, "demo admin")?)
}

/// Creates a tenant's first admin key (`premia tenant create [--test]`); a
/// test tenant gets a clock of its own first, starting at today's (UTC)
/// date.
pub fn create_tenant(state: &AppState, tenant: &str, test: bool) -> anyhow::Result<String> {
    let today = test.then(|| chrono::Utc::now().date_naive());
    create_tenant_on(state, tenant, today)
}

/// Creates `tenant`; with `test_today`, a test tenant whose clock starts on
/// that day (any day: a test may play a past year, say 2026 from
/// 2025-12-15, then moves the clock forward only).
pub fn create_tenant_on(
    state: &AppState,
    tenant: &str,
    test_today: Option<chrono::NaiveDate>,
) -> anyhow::Result<String> {
    anyhow::ensure!(
        super::auth::valid_tenant(tenant),
        "tenant {tenant:?}: use 1-32 lower-case letters, digits or '-'"
    );
    anyhow::ensure!(
        !state.keys.has_tenant(tenant),
        "tenant {tenant} already exists"
    );
    if let Some(today) = test_today {
        make_test_tenant_on(state, tenant, today)?;
    }
    Ok(state.keys.create(tenant, Role::Admin, "first admin")?)
}

/// Makes `tenant` a test tenant whose clock starts at today's (UTC) date;
/// nothing to do when it already is one. Refused (`tenant_not_new`) when
/// its log already holds anything.
pub fn make_test_tenant(state: &AppState, tenant: &str) -> anyhow::Result<()> {
    make_test_tenant_on(state, tenant, chrono::Utc::now().date_naive())
}

/// [`make_test_tenant`] with the clock starting on `today`.
pub fn make_test_tenant_on(
    state: &AppState,
    tenant: &str,
    today: chrono::NaiveDate,
) -> anyhow::Result<()> {
    if state.engine.clock(tenant)?.1 {
        return Ok(());
    }
    let now = chrono::Utc::now();
    let meta = RequestMeta {
        actor: "premia:tenant-create".into(),
        issued_at: now,
        idempotency_key: Some(format!("test-clock/{today}")),
        arithmetic: crate::billing::Arithmetic::Written,
    };
    let command = EngineCommand::Clock(crate::engine::ClockCommand::StartTestClock { today });
    state.engine.execute(tenant, &command, &meta)?;
    Ok(())
}

/// Options of `premia serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub data: PathBuf,
    pub listen: SocketAddr,
    pub demo: bool,
    /// Load the demo tenant as a test tenant (a clock of its own).
    pub demo_test: bool,
    pub demo_files: DemoFiles,
    /// The event store: `None` or `sled` for sled in `data/store`, or a
    /// `postgres://` URL.
    pub store: Option<String>,
}

/// Opens the event store `store` names: sled in `data/store` (`None` or
/// `"sled"`), or a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn open_store(data: &Path, store: Option<&str>) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match store {
        None | Some("sled") => Arc::new(SledStore::open(data.join("store"))?),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Arc::new(PgStore::open(url).context("opening the PostgreSQL store")?)
        }
        Some(other) => anyhow::bail!(
            "--store {:?}: use `sled` or a postgres:// URL",
            other.split('@').next_back().unwrap_or_default()
        ),
    })
}

/// Opens a data directory: `store/` (sled) and `artifacts/` (compiled plugins).
pub fn open_data_dir(data: &Path) -> anyhow::Result<AppState> {
    open_data_dir_with(data, None)
}

/// Opens a data directory (`artifacts/` for compiled plugins) with the event
/// store `store` names (see [`open_store`]).
pub fn open_data_dir_with(data: &Path, store: Option<&str>) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    let store = open_store(data, store)?;
    open_state(
        store,
        Some(&data.join("artifacts")),
        PluginLimits::default(),
    )
}

/// Runs the server until Ctrl-C.
pub async fn serve(options: ServeOptions) -> anyhow::Result<()> {
    let data = options.data.clone();
    let store = options.store.clone();
    let state =
        tokio::task::spawn_blocking(move || open_data_dir_with(&data, store.as_deref())).await??;
    if options.demo || state.keys.is_empty() {
        let demo_state = state.clone();
        let files = options.demo_files.clone();
        let test = options.demo_test;
        let key =
            tokio::task::spawn_blocking(move || load_demo_as(&demo_state, &files, test)).await??;
        println!(
            "Loaded the demo tenant `{DEMO_TENANT}` (auto product, auto-rater and installment-fee plugins)."
        );
        println!("Its admin API key, shown once:\n\n    {key}\n");
        println!(
            "Try: curl -H 'Authorization: Bearer {key}' http://{}/v1/products",
            options.listen
        );
    }
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("binding {}", options.listen))?;
    println!("premia listening on http://{}", listener.local_addr()?);
    axum::serve(listener, super::router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

//! Tenants made from the command line (`premia tenant create [--test]`):
//! a first admin key, and for a test tenant a clock of its own.

use super::error::BootError;
use crate::api::auth::Role;
use crate::api::state::AppState;
use crate::engine::{EngineCommand, RequestMeta};

/// Creates a tenant's first admin key (`premia tenant create [--test]`); a
/// test tenant gets a clock of its own first, starting at today's (UTC)
/// date.
pub fn create_tenant(state: &AppState, tenant: &str, test: bool) -> Result<String, BootError> {
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
) -> Result<String, BootError> {
    if !crate::api::auth::valid_tenant(tenant) {
        return Err(BootError::InvalidTenant(tenant.to_string()));
    }
    if state.keys.has_tenant(tenant)? {
        return Err(BootError::TenantExists(tenant.to_string()));
    }
    if let Some(today) = test_today {
        make_test_tenant_on(state, tenant, today)?;
    }
    Ok(state
        .keys
        .create_as(tenant, Role::Admin, "first admin", "premia:tenant-create")?)
}

/// Makes `tenant` a test tenant whose clock starts at today's (UTC) date;
/// nothing to do when it already is one. Refused (`tenant_not_new`) when
/// its log already holds anything.
pub fn make_test_tenant(state: &AppState, tenant: &str) -> Result<(), BootError> {
    make_test_tenant_on(state, tenant, chrono::Utc::now().date_naive())
}

/// [`make_test_tenant`] with the clock starting on `today`.
pub fn make_test_tenant_on(
    state: &AppState,
    tenant: &str,
    today: chrono::NaiveDate,
) -> Result<(), BootError> {
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

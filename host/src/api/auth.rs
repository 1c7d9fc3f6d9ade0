//! Who is calling: the `Authorization: Bearer <secret>` of a request opens
//! one key of one tenant with one role ([`crate::engine::KeyRing`]); every
//! request is scoped to its key's tenant, nothing crosses tenants, and a
//! missing, unknown, revoked or expired secret is 401. A command endpoint
//! takes its caller as [`Allowed`], which checks the role from the request's
//! head, before the body is read: a key that may not do it gets 403 whatever
//! body it sends.

use super::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::marker::PhantomData;
use std::sync::Arc;

pub use crate::engine::{KeyRing, SYSTEM_TENANT};
pub use crate::keys::{Access, Role};

/// Whether a tenant id is acceptable: 1-32 lower-case letters, digits or '-'.
pub fn valid_tenant(tenant: &str) -> bool {
    (1..=32).contains(&tenant.len())
        && tenant
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The caller of a request: its tenant and role, from its API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant: String,
    /// The id of the key the request was sent with.
    pub key: String,
    pub role: Role,
    pub label: String,
    /// On a shared store, what it answered when the caller was checked:
    /// the request's command decides on it instead of asking again.
    pub fresh: Option<crate::engine::Fresh>,
}

impl Caller {
    /// Refuses the request unless the caller's role allows one of `accesses`.
    pub fn require_any(&self, accesses: &[Access]) -> Result<(), ApiError> {
        if accesses.iter().any(|a| self.role.allows(*a)) {
            Ok(())
        } else {
            Err(ApiError::forbidden(self.role.name()))
        }
    }

    /// Refuses the request unless the caller's role allows `access`.
    pub fn require(&self, access: Access) -> Result<(), ApiError> {
        if self.role.allows(access) {
            Ok(())
        } else {
            Err(ApiError::forbidden(self.role.name()))
        }
    }
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync + AsRef<Arc<KeyRing>>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(|secret| secret.trim().to_string())
            .ok_or_else(ApiError::unauthorized)?;
        // Asked together with the caller's key on a shared store (a bad
        // key is refused by the command's own extractor).
        let idempotency_key = super::extract::IdempotencyKey::of(&parts.headers)
            .ok()
            .and_then(|key| key.0);
        let keys = Arc::clone(state.as_ref());
        // Answered on the async worker when nothing waits (a local store,
        // the tenant not locked by a command); else on the blocking pool (a
        // shared store asks the database, a commit may hold the tenant's
        // lock while it waits on an external rater).
        let found = match keys.authenticate_without_waiting(&secret) {
            Some(found) => found,
            None => tokio::task::spawn_blocking(move || {
                keys.authenticate_for(&secret, idempotency_key.as_deref())
            })
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?,
        };
        let found = found.ok_or_else(ApiError::unauthorized)?;
        Ok(Caller {
            tenant: found.tenant,
            key: found.key,
            role: found.role,
            label: found.label,
            fresh: found.fresh,
        })
    }
}

/// What an endpoint needs of its caller's role: one of [`Needs::ANY_OF`].
/// The markers are in [`can`].
pub trait Needs: Send + Sync + 'static {
    const ANY_OF: &'static [Access];
}

/// The needs of endpoints, as types for [`Allowed`].
pub mod can {
    use super::{Access, Needs};

    /// Products, plugins, raters, settings, keys (admin).
    #[derive(Debug, Clone, Copy)]
    pub struct Configure;
    /// Policies and their transactions, plan changes (policy system).
    #[derive(Debug, Clone, Copy)]
    pub struct Transact;
    /// Payments, credit, write-offs, disbursements, holds, runs (billing).
    #[derive(Debug, Clone, Copy)]
    pub struct Collect;
    /// Flat charges and their reversal (policy system or billing).
    #[derive(Debug, Clone, Copy)]
    pub struct TransactOrCollect;
    /// A bundle of previews: any key that may commit something (each entry
    /// is checked against its own endpoint's needs too).
    #[derive(Debug, Clone, Copy)]
    pub struct CommitSomething;

    impl Needs for Configure {
        const ANY_OF: &'static [Access] = &[Access::Configure];
    }
    impl Needs for Transact {
        const ANY_OF: &'static [Access] = &[Access::Transact];
    }
    impl Needs for Collect {
        const ANY_OF: &'static [Access] = &[Access::Collect];
    }
    impl Needs for TransactOrCollect {
        const ANY_OF: &'static [Access] = &[Access::Transact, Access::Collect];
    }
    impl Needs for CommitSomething {
        const ANY_OF: &'static [Access] = &[Access::Transact, Access::Collect, Access::Configure];
    }
}

/// The [`Caller`] of a request, whose role allows what `N` names: checked
/// as the request's head is read, so before its body is parsed (axum runs
/// the body extractor last). Dereferences to the caller.
#[derive(Debug, Clone)]
pub struct Allowed<N>(pub Caller, PhantomData<N>);

impl<N> std::ops::Deref for Allowed<N> {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl<S, N> FromRequestParts<S> for Allowed<N>
where
    S: Send + Sync + AsRef<Arc<KeyRing>>,
    N: Needs,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require_any(N::ANY_OF)?;
        Ok(Allowed(caller, PhantomData))
    }
}

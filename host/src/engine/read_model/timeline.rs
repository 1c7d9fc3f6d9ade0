//! A policy's timeline: its terms and standing, its transactions in effect
//! order, the priced segments of each term and every charge booked.

use super::ReadError;
use super::accounts::{PolicyStatus, TermView, policy_status, term_views};
use crate::engine::state::TenantState;
use crate::policy::{Charge, PricedSegment, Transaction};
use chrono::NaiveDate;
use serde::Serialize;

/// A term's priced segments.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermSegments {
    pub term: u32,
    pub segments: Vec<PricedSegment>,
}

/// A policy's timeline on the tenant's today.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyTimeline {
    pub policy: String,
    pub account: String,
    pub status: PolicyStatus,
    pub terms: Vec<TermView>,
    /// Every transaction by effective date, then issue order (reversed ones
    /// and reversals included, with `reversed_by`).
    pub transactions: Vec<Transaction>,
    pub segments: Vec<TermSegments>,
    /// Every charge, in the order booked.
    pub charges: Vec<Charge>,
}

pub fn policy_timeline(
    state: &TenantState,
    policy: &str,
    today: NaiveDate,
) -> Result<PolicyTimeline, ReadError> {
    let found = state
        .book
        .policies
        .get(policy)
        .ok_or_else(|| ReadError::UnknownPolicy(policy.to_string()))?;
    let account = state
        .collections
        .accounts
        .get(&found.header.account)
        .map(Box::as_ref);
    let mut transactions = found.transactions.clone();
    transactions.sort_by_key(|t| (t.effective, t.sequence));
    Ok(PolicyTimeline {
        policy: found.locator().to_string(),
        account: found.header.account.clone(),
        status: policy_status(found, account, today),
        terms: term_views(found, account),
        transactions,
        segments: found
            .priced
            .iter()
            .map(|(term, segments)| TermSegments {
                term: *term,
                segments: segments.clone(),
            })
            .collect(),
        charges: found.charges.clone(),
    })
}

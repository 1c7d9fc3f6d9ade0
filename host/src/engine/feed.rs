//! The event feed with filters: a tenant's events in log order from a
//! cursor, only those of some kinds, a category, a stream, a billing
//! account, a policy, or a time window (of when their command was issued).
//!
//! What `account=A-1` matches: the account's stream (`account/A-1`: its
//! creation, invoices, payments, credit, holds, ...), the streams of its
//! policies (`policy/<p>`: transactions, flat charges, plan changes), and
//! every journal entry with a line in its subledger. What `policy=P-1`
//! matches: its stream, and the journal entries its transactions and
//! charges posted (by their reference). Invoices are the account's.
//!
//! A filtered page reads at most [`FEED_SCAN_EVENTS_MAX`] events of the log;
//! it may then hold fewer than `limit` events (even none) with a
//! `next_cursor` to go on from. The feed ends when `next_cursor` is absent.

use super::service::{Engine, decode, store_error};
use super::state::{EngineError, TenantEvent};
use crate::policy::BookEvent;
use crate::store::StoredEvent;
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// The most events of the log one filtered page reads.
pub const FEED_SCAN_EVENTS_MAX: usize = 10_000;
/// Events read from the store at a time while filtering.
const FEED_BATCH_EVENTS: usize = 1_000;

/// Which events a page keeps; an empty filter keeps all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedFilter {
    /// Any of these kinds (`api_key_revoked`, `transaction_issued`, ...).
    pub kinds: BTreeSet<String>,
    /// Of this category (see [`TenantEvent::category`]).
    pub category: Option<String>,
    /// Of this stream exactly, or of every stream starting with it when it
    /// ends with `*` (`api-key/*`).
    pub stream: Option<String>,
    /// Touching this billing account.
    pub account: Option<String>,
    /// Touching this policy.
    pub policy: Option<String>,
    /// Issued at or after.
    pub since: Option<DateTime<Utc>>,
    /// Issued before.
    pub until: Option<DateTime<Utc>>,
}

impl FeedFilter {
    fn is_empty(&self) -> bool {
        *self == FeedFilter::default()
    }
}

/// One event of the feed, with its place in the log and its command's
/// actor, time and idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub stored: StoredEvent,
    pub event: TenantEvent,
}

/// A page of the feed and where the next one starts (absent at the end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    pub events: Vec<FeedEntry>,
    pub next_cursor: Option<u64>,
}

/// What an account or policy filter needs from the tenant's state.
#[derive(Debug, Default)]
struct Touching {
    /// Streams whose events touch the account or policy.
    streams: BTreeSet<String>,
    /// The account whose subledger lines count.
    subledger: Option<String>,
    /// Journal references (transaction and charge locators) that count.
    references: BTreeSet<String>,
}

impl Engine {
    /// Up to `limit` events after sequence `after` that `filter` keeps.
    pub fn feed(
        &self,
        tenant: &str,
        filter: &FeedFilter,
        after: u64,
        limit: usize,
    ) -> Result<FeedPage, EngineError> {
        let touching = self.touching(tenant, filter)?;
        let mut events = Vec::new();
        let mut cursor = after;
        let mut scanned = 0;
        let budget = if filter.is_empty() {
            limit + 1
        } else {
            FEED_SCAN_EVENTS_MAX
        };
        loop {
            let want = FEED_BATCH_EVENTS.min(budget - scanned).max(1);
            let batch = self
                .store()
                .read(tenant, cursor, want)
                .map_err(store_error)?;
            let at_end = batch.len() < want;
            for stored in batch {
                scanned += 1;
                cursor = stored.sequence;
                let event = decode(&stored)?;
                if keeps(filter, &touching, &stored, &event) {
                    events.push(FeedEntry { stored, event });
                    if events.len() > limit {
                        events.truncate(limit);
                        let next = events.last().map(|e| e.stored.sequence);
                        return Ok(FeedPage {
                            events,
                            next_cursor: next,
                        });
                    }
                }
                if scanned >= budget {
                    break;
                }
            }
            if at_end {
                return Ok(FeedPage {
                    events,
                    next_cursor: None,
                });
            }
            if scanned >= budget {
                // The scan stopped before the end of the log: go on from
                // the last event read.
                return Ok(FeedPage {
                    events,
                    next_cursor: Some(cursor),
                });
            }
        }
    }

    /// What the account and the policy filters match, from the tenant's
    /// state.
    fn touching(
        &self,
        tenant: &str,
        filter: &FeedFilter,
    ) -> Result<[Option<Touching>; 2], EngineError> {
        if filter.account.is_none() && filter.policy.is_none() {
            return Ok([None, None]);
        }
        self.read(tenant, |state| {
            let account = filter.account.as_ref().map(|account| {
                let mut touching = Touching::default();
                touching.streams.insert(format!("account/{account}"));
                touching.subledger = Some(account.clone());
                for policy in state.book.policies.values() {
                    if &policy.header.account == account {
                        touching
                            .streams
                            .insert(format!("policy/{}", policy.locator()));
                    }
                }
                touching
            });
            let policy = filter.policy.as_ref().map(|locator| {
                let mut touching = Touching::default();
                touching.streams.insert(format!("policy/{locator}"));
                if let Some(policy) = state.book.policies.get(locator) {
                    touching
                        .references
                        .extend(policy.transactions.iter().map(|t| t.locator.clone()));
                    touching
                        .references
                        .extend(policy.charges.iter().map(|c| c.locator.clone()));
                }
                touching
            });
            [account, policy]
        })
    }
}

/// Whether `filter` keeps an event.
fn keeps(
    filter: &FeedFilter,
    touching: &[Option<Touching>; 2],
    stored: &StoredEvent,
    event: &TenantEvent,
) -> bool {
    if !filter.kinds.is_empty() && !filter.kinds.contains(&stored.kind) {
        return false;
    }
    if let Some(category) = &filter.category
        && event.category() != category
    {
        return false;
    }
    if let Some(stream) = &filter.stream {
        let matches = match stream.strip_suffix('*') {
            Some(prefix) => stored.stream.starts_with(prefix),
            None => &stored.stream == stream,
        };
        if !matches {
            return false;
        }
    }
    if filter.since.is_some_and(|since| stored.issued_at < since)
        || filter.until.is_some_and(|until| stored.issued_at >= until)
    {
        return false;
    }
    touching
        .iter()
        .flatten()
        .all(|touching| touching.matches(stored, event))
}

impl Touching {
    fn matches(&self, stored: &StoredEvent, event: &TenantEvent) -> bool {
        self.streams.contains(&stored.stream)
            || match event {
                TenantEvent::Journal(entry) => {
                    self.references.contains(&entry.reference)
                        || self.subledger.as_ref().is_some_and(|account| {
                            entry
                                .lines
                                .iter()
                                .any(|line| line.account.subledger.as_ref() == Some(account))
                        })
                }
                TenantEvent::Book(BookEvent::TransactionIssued { record }) => self
                    .subledger
                    .as_ref()
                    .zip(record.opened.as_ref())
                    .is_some_and(|(account, header)| &header.account == account),
                _ => false,
            }
    }
}

//! How a [`TenantState`] is cut into the parts of a snapshot, each encoded
//! and decoded on its own so that start-up decodes them in parallel.
//!
//! The large collections (the ledger's journal entries, the book's policies
//! and accounts, the billing accounts) are cut into pieces of about
//! [`SNAPSHOT_PIECE_BYTES`] each, a piece being its items one after another
//! in MessagePack (`rmp-serde`, field names kept, so the state types'
//! `skip_serializing_if` and untagged enums read back as they were written);
//! everything else (products, settings, the billing read index, keys,
//! configuration, the ledger without its entries, the [`Extras`]) is the
//! `head`, one part. Decoding the parts in any order and putting them back in
//! their order gives the state: pieces of a map hold consecutive keys, so
//! concatenating them keeps the map's order.
//!
//! Example: the start-up benchmark's tenant (10,000 policies, 1,000,001
//! events, about 500,000 journal entries) gives a head and 39 pieces, 314 MB
//! in all; on two threads they decoded 1.34 times faster than the same state
//! as one value on one thread, on a machine other builds kept busy.

use super::{Extras, SnapshotError};
use crate::collections::{AccountBilling, BillingSettings, ReadIndex};
use crate::config::ConfigState;
use crate::engine::accounting::Accounting;
use crate::engine::auto_bind::PendingTransactions;
use crate::engine::clock::TenantClock;
use crate::engine::shadow_report::ShadowReports;
use crate::engine::state::TenantState;
use crate::keys::ApiKeys;
use crate::ledger::{JournalEntry, Ledger, LedgerHead};
use crate::payments::Payments;
use crate::policy::{Account, Charge, PolicyBook, PolicyState, ProductConfig};
use crate::webhooks::WebhookEndpoints;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bytes after which a piece of a large collection is closed (it ends with
/// the item that crossed it). Small enough that two to sixteen cores share
/// the pieces evenly, large enough that a piece is one blob read.
pub const SNAPSHOT_PIECE_BYTES: usize = 8 * 1024 * 1024;

/// What a part of a snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Everything but the large collections, and the [`Extras`].
    Head,
    /// Consecutive journal entries of the ledger.
    LedgerEntries,
    /// Consecutive policies of the book, by locator.
    BookPolicies,
    /// Consecutive accounts of the book, by locator.
    BookAccounts,
    /// Consecutive billing accounts, by locator.
    BillingAccounts,
}

/// One encoded part: its section, how many items it holds (1 for the
/// head) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPart {
    pub section: Section,
    pub items: u64,
    pub bytes: Vec<u8>,
}

/// A state's snapshot bytes, part by part (see the module header). The
/// same state always gives the same parts (every map in it is ordered), so
/// two states are equal when their encodings are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub parts: Vec<EncodedPart>,
}

impl Encoded {
    /// The bytes of every part.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|part| part.bytes.len()).sum()
    }

    /// Whether there are no bytes at all (never, for a real state).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The head, as written (borrowing the state).
#[derive(Serialize)]
struct HeadRef<'a> {
    products: &'a BTreeMap<String, ProductConfig>,
    account_charges: &'a Vec<Charge>,
    product_revisions: &'a BTreeMap<String, u32>,
    ledger: LedgerHead,
    billing_settings: &'a BillingSettings,
    billing_index: &'a ReadIndex,
    clock: &'a TenantClock,
    events_applied: u64,
    keys: &'a ApiKeys,
    config: &'a ConfigState,
    shadow: &'a ShadowReports,
    pending: &'a PendingTransactions,
    webhooks: &'a WebhookEndpoints,
    accounting: &'a Accounting,
    payments: &'a Payments,
    extras: Extras,
}

/// The head, as read.
#[derive(Deserialize)]
struct Head {
    products: BTreeMap<String, ProductConfig>,
    account_charges: Vec<Charge>,
    product_revisions: BTreeMap<String, u32>,
    ledger: LedgerHead,
    billing_settings: BillingSettings,
    billing_index: ReadIndex,
    clock: TenantClock,
    events_applied: u64,
    keys: ApiKeys,
    config: ConfigState,
    shadow: ShadowReports,
    pending: PendingTransactions,
    webhooks: WebhookEndpoints,
    accounting: Accounting,
    payments: Payments,
    extras: Extras,
}

fn encode_error(error: rmp_serde::encode::Error) -> SnapshotError {
    SnapshotError::Encode(error.to_string())
}

fn decode_error(error: rmp_serde::decode::Error) -> SnapshotError {
    SnapshotError::Decode(error.to_string())
}

/// `items` cut into pieces of about `piece_bytes`.
fn pieces<T: Serialize>(
    section: Section,
    items: impl Iterator<Item = T>,
    piece_bytes: usize,
) -> Result<Vec<EncodedPart>, SnapshotError> {
    let mut parts = Vec::new();
    let mut bytes = Vec::new();
    let mut count = 0_u64;
    for item in items {
        rmp_serde::encode::write_named(&mut bytes, &item).map_err(encode_error)?;
        count += 1;
        if bytes.len() >= piece_bytes {
            parts.push(EncodedPart {
                section,
                items: count,
                bytes: std::mem::take(&mut bytes),
            });
            count = 0;
        }
    }
    if count > 0 {
        parts.push(EncodedPart {
            section,
            items: count,
            bytes,
        });
    }
    Ok(parts)
}

/// The state's parts: the head, then the pieces of each large collection in
/// order. The collections are encoded in parallel (the caller may hold the
/// tenant's lock).
pub fn encode(state: &TenantState) -> Result<Encoded, SnapshotError> {
    encode_in_pieces_of(state, SNAPSHOT_PIECE_BYTES)
}

/// [`encode`] with pieces of about `piece_bytes`.
pub(super) fn encode_in_pieces_of(
    state: &TenantState,
    piece_bytes: usize,
) -> Result<Encoded, SnapshotError> {
    let book = &state.book;
    let head = || {
        let head = HeadRef {
            products: &book.products,
            account_charges: &book.account_charges,
            product_revisions: &book.product_revisions,
            ledger: state.ledger.head(),
            billing_settings: &state.collections.settings,
            billing_index: &state.collections.index,
            clock: &state.clock,
            events_applied: state.events_applied,
            keys: &state.keys,
            config: &state.config,
            shadow: &state.shadow,
            pending: &state.pending,
            webhooks: &state.webhooks,
            accounting: &state.accounting,
            payments: &state.payments,
            extras: Extras::of(state),
        };
        let bytes = rmp_serde::to_vec_named(&head).map_err(encode_error)?;
        Ok(vec![EncodedPart {
            section: Section::Head,
            items: 1,
            bytes,
        }])
    };
    let entries = || {
        pieces(
            Section::LedgerEntries,
            state.ledger.entries().iter(),
            piece_bytes,
        )
    };
    let policies = || pieces(Section::BookPolicies, book.policies.iter(), piece_bytes);
    let accounts = || pieces(Section::BookAccounts, book.accounts.iter(), piece_bytes);
    let billing = || {
        pieces(
            Section::BillingAccounts,
            state.collections.accounts.iter(),
            piece_bytes,
        )
    };
    let ((head, entries), (policies, (accounts, billing))) = rayon::join(
        || rayon::join(head, entries),
        || rayon::join(policies, || rayon::join(accounts, billing)),
    );
    let mut parts = head?;
    for section in [entries?, policies?, accounts?, billing?] {
        parts.extend(section);
    }
    Ok(Encoded { parts })
}

/// A part, decoded.
#[derive(Debug)]
pub enum Decoded {
    Head(Box<HeadState>),
    LedgerEntries(Vec<JournalEntry>),
    BookPolicies(Vec<(String, PolicyState)>),
    BookAccounts(Vec<(String, Account)>),
    BillingAccounts(Vec<(String, AccountBilling)>),
}

/// A decoded head (opaque outside this module).
pub struct HeadState(Head);

impl std::fmt::Debug for HeadState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeadState")
    }
}

fn items<T: DeserializeOwned>(items: u64, bytes: &[u8]) -> Result<Vec<T>, SnapshotError> {
    let count = usize::try_from(items).map_err(|_| SnapshotError::Decode("items".into()))?;
    // Never trust a count for an allocation larger than the bytes can hold.
    let mut decoded = Vec::with_capacity(count.min(bytes.len()));
    let mut deserializer = rmp_serde::Deserializer::from_read_ref(bytes);
    for _ in 0..count {
        decoded.push(T::deserialize(&mut deserializer).map_err(decode_error)?);
    }
    Ok(decoded)
}

/// Decodes one part.
pub fn decode_part(section: Section, count: u64, bytes: &[u8]) -> Result<Decoded, SnapshotError> {
    Ok(match section {
        Section::Head => Decoded::Head(Box::new(HeadState(
            rmp_serde::from_slice(bytes).map_err(decode_error)?,
        ))),
        Section::LedgerEntries => Decoded::LedgerEntries(items(count, bytes)?),
        Section::BookPolicies => Decoded::BookPolicies(items(count, bytes)?),
        Section::BookAccounts => Decoded::BookAccounts(items(count, bytes)?),
        Section::BillingAccounts => {
            let mut accounts: Vec<(String, AccountBilling)> = items(count, bytes)?;
            for (_, account) in &mut accounts {
                account.share_locators();
            }
            Decoded::BillingAccounts(accounts)
        }
    })
}

/// The state of the decoded parts, in their order.
pub fn assemble(parts: Vec<Decoded>) -> Result<TenantState, SnapshotError> {
    let mut head = None;
    let mut entries = Vec::new();
    let mut policies = Vec::new();
    let mut accounts = Vec::new();
    let mut billing = Vec::new();
    for part in parts {
        match part {
            Decoded::Head(decoded) if head.is_none() => head = Some(decoded.0),
            Decoded::Head(_) => return Err(SnapshotError::Decode("two heads".into())),
            Decoded::LedgerEntries(mut items) => entries.append(&mut items),
            Decoded::BookPolicies(mut items) => policies.append(&mut items),
            Decoded::BookAccounts(mut items) => accounts.append(&mut items),
            Decoded::BillingAccounts(mut items) => billing.append(&mut items),
        }
    }
    let head = head.ok_or_else(|| SnapshotError::Decode("no head".into()))?;
    let ledger = Ledger::from_head(head.ledger, entries)
        .ok_or_else(|| SnapshotError::Decode("journal entries do not fit the ledger".into()))?;
    let mut state = TenantState {
        book: PolicyBook {
            products: head.products,
            accounts: accounts.into_iter().collect(),
            policies: policies
                .into_iter()
                .map(|(k, v)| (k, Box::new(v)))
                .collect(),
            account_charges: head.account_charges,
            product_revisions: head.product_revisions,
        },
        ledger,
        collections: crate::collections::Collections {
            settings: head.billing_settings,
            accounts: billing.into_iter().map(|(k, v)| (k, Box::new(v))).collect(),
            index: head.billing_index,
        },
        clock: head.clock,
        events_applied: head.events_applied,
        keys: head.keys,
        config: head.config,
        shadow: head.shadow,
        pending: head.pending,
        webhooks: head.webhooks,
        accounting: head.accounting,
        payments: head.payments,
    };
    head.extras.restore(&mut state);
    Ok(state)
}

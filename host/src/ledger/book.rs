//! The [`Ledger`]: one tenant's book of journal entries, in every currency, with the
//! running debit and credit totals of every account key.
//!
//! Entries are numbered 1, 2, 3, ... in posting order and never change. `post` and
//! `reverse` both go through `apply`, the same path that rebuilds a book from its
//! event log ([`Ledger::from_entries`]), so a replayed book is the book.
//!
//! Balances are signed by the account's normal side: a positive receivable is owed
//! by the customer, a positive customer credit is owed to the customer, a negative
//! one means the customer owes (for example after a returned cheque whose credit was
//! already spent).

use crate::domain::Currency;
use crate::ledger::account::{AccountKey, LedgerAccount, Side, is_valid_name};
use crate::ledger::entry::{EntryDraft, EntryId, JournalEntry, at_currency_scale};
use crate::ledger::error::LedgerError;
use crate::ledger::trial::{TrialBalance, TrialBalanceRow};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The most entries one tenant's book holds (see [`crate::ledger::AMOUNT_MAX`] for
/// why totals cannot overflow within it).
pub const ENTRIES_MAX: usize = 10_000_000;

/// The longest tenant name, in bytes.
pub const TENANT_LEN_MAX: usize = 64;

/// Running totals of the debit and credit lines of one account key or currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Turnover {
    debits: Decimal,
    credits: Decimal,
}

impl Turnover {
    fn add(&mut self, side: Side, amount: Decimal) {
        // Cannot overflow: ENTRIES_MAX * LINES_PER_ENTRY_MAX * AMOUNT_MAX < 3.2e23.
        match side {
            Side::Debit => self.debits += amount,
            Side::Credit => self.credits += amount,
        }
    }

    fn balance(&self, normal_side: Side) -> Decimal {
        match normal_side {
            Side::Debit => self.debits - self.credits,
            Side::Credit => self.credits - self.debits,
        }
    }
}

/// One tenant's double-entry book.
///
/// ```
/// use chrono::NaiveDate;
/// use premia::domain::{Currency, Money};
/// use premia::ledger::{ChargeCategory, Ledger, LedgerAccount, postings};
/// use rust_decimal::Decimal;
///
/// let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
/// let usd = |cents| Money::new(Decimal::new(cents, 2), Currency::USD);
/// let mut ledger = Ledger::new("acme").unwrap();
/// let charges = [(ChargeCategory::Premium, usd(100_000))];
/// let entry = postings::charges_written("BA-1", &charges, day, "TX-1").unwrap().unwrap();
/// ledger.post(entry).unwrap();
/// ledger.post(postings::invoice_issued("BA-1", usd(25_000), day, "INV-1").unwrap().unwrap()).unwrap();
/// ledger.post(postings::payment_received("BA-1", usd(30_000), usd(25_000), day, "PAY-1").unwrap()).unwrap();
///
/// let credit = ledger.balance_of(LedgerAccount::CustomerCredit, Currency::USD, Some("BA-1"));
/// assert_eq!(credit, Decimal::new(5_000, 2));
/// assert!(ledger.trial_balance(Currency::USD).is_balanced());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    tenant: String,
    entries: Vec<JournalEntry>,
    /// `reversed_by[i]` is the entry reversing entry `i + 1`, if any.
    reversed_by: Vec<Option<EntryId>>,
    turnover: BTreeMap<AccountKey, Turnover>,
    currency_turnover: BTreeMap<Currency, Turnover>,
}

impl Ledger {
    /// An empty book for `tenant` (1 to [`TENANT_LEN_MAX`] printable bytes).
    pub fn new(tenant: &str) -> Result<Ledger, LedgerError> {
        if !is_valid_name(tenant, TENANT_LEN_MAX) {
            return Err(LedgerError::InvalidTenant {
                tenant: tenant.chars().take(TENANT_LEN_MAX + 1).collect(),
            });
        }
        Ok(Ledger {
            tenant: tenant.to_owned(),
            entries: Vec::new(),
            reversed_by: Vec::new(),
            turnover: BTreeMap::new(),
            currency_turnover: BTreeMap::new(),
        })
    }

    /// Rebuilds a book from its entries, in order (a replay of the event log). Each
    /// entry is checked exactly as when it was first posted; the first that fails
    /// stops the replay with [`LedgerError::Replay`].
    pub fn from_entries(
        tenant: &str,
        entries: impl IntoIterator<Item = JournalEntry>,
    ) -> Result<Ledger, LedgerError> {
        let mut ledger = Ledger::new(tenant)?;
        for (position, entry) in entries.into_iter().enumerate() {
            ledger.apply(entry).map_err(|source| LedgerError::Replay {
                position,
                source: Box::new(source),
            })?;
        }
        Ok(ledger)
    }

    /// The tenant whose book this is.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The id the next posted entry will get.
    pub fn next_id(&self) -> EntryId {
        EntryId(self.entries.len() as u64 + 1)
    }

    /// Checks that `draft` would post, without posting it (for previews).
    pub fn check(&self, draft: &EntryDraft) -> Result<(), LedgerError> {
        draft.validate()?;
        self.check_capacity()
    }

    /// Posts a draft as the next entry and returns its id. Refused drafts change
    /// nothing.
    pub fn post(&mut self, draft: EntryDraft) -> Result<EntryId, LedgerError> {
        draft.validate()?;
        let entry = JournalEntry {
            id: self.next_id(),
            tenant: self.tenant.clone(),
            currency: draft.currency,
            posted_on: draft.posted_on,
            kind: draft.kind,
            reference: draft.reference,
            reverses: None,
            lines: draft.lines,
            memo: draft.memo,
        };
        self.apply(entry)
    }

    /// Posts the exact contra of entry `id`, dated `posted_on`, recording `reference`
    /// (what caused the reversal, e.g. the returned-cheque locator), and returns its
    /// id. Its kind is the reversal kind of the original's kind
    /// (`payment_received` -> `payment_reversed`, ...).
    ///
    /// Refused, changing nothing, when the entry does not exist, is itself a
    /// reversal, is already reversed, or is dated after `posted_on`.
    ///
    /// Example: entry 3 is Dr cash 300.00 / Cr billed 250.00 / Cr credit 50.00;
    /// `reverse(3, ...)` posts entry 4: Cr cash 300.00 / Dr billed 250.00 / Dr credit
    /// 50.00, `payment_reversed`, reversing 3. A second `reverse(3, ...)` and any
    /// `reverse(4, ...)` are errors.
    pub fn reverse(
        &mut self,
        id: EntryId,
        posted_on: NaiveDate,
        reference: &str,
    ) -> Result<EntryId, LedgerError> {
        let original = self.entry(id).ok_or(LedgerError::UnknownEntry(id))?;
        if original.reverses.is_some() {
            return Err(LedgerError::CannotReverseReversal(id));
        }
        if let Some(reversal) = self.reversal_of(id) {
            return Err(LedgerError::AlreadyReversed {
                entry: id,
                reversal,
            });
        }
        let contra = original
            .contra(self.next_id(), posted_on, reference)
            .ok_or(LedgerError::CannotReverseReversal(id))?;
        self.apply(contra)
    }

    /// Records a complete entry: the one path by which entries enter the book, for
    /// posting, reversing and replaying. The entry must carry the next id and this
    /// book's tenant, obey every shape rule, and, if it reverses an entry, be that
    /// entry's exact contra of the right kind, dated no earlier, and the first
    /// reversal of it. Refused entries change nothing.
    pub fn apply(&mut self, entry: JournalEntry) -> Result<EntryId, LedgerError> {
        self.check_entry(&entry)?;
        let lines = at_currency_scale(entry.lines, entry.currency);
        let entry = JournalEntry { lines, ..entry };
        Ok(self.record(entry))
    }

    /// Every entry, in posting order.
    pub fn entries(&self) -> &[JournalEntry] {
        &self.entries
    }

    /// The entry with id `id`.
    pub fn entry(&self, id: EntryId) -> Option<&JournalEntry> {
        let index = usize::try_from(id.0.checked_sub(1)?).ok()?;
        self.entries.get(index)
    }

    /// The entry that reversed entry `id`, if it has been reversed.
    pub fn reversal_of(&self, id: EntryId) -> Option<EntryId> {
        let index = usize::try_from(id.0.checked_sub(1)?).ok()?;
        self.reversed_by.get(index).copied().flatten()
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the book has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The balance of exactly this key, signed by the account's normal side and
    /// written at the currency's scale. A key without a subledger is the account's
    /// lines that name none; use [`Ledger::balance_of`] for the total over
    /// subledgers.
    pub fn balance(&self, key: &AccountKey) -> Decimal {
        let balance = self.turnover.get(key).map_or(Decimal::ZERO, |turnover| {
            turnover.balance(key.account.normal_side())
        });
        at_scale(balance, key.currency)
    }

    /// The balance of `account` in `currency`, signed by its normal side: for one
    /// subledger (`Some("BA-1")`, e.g. what billing account BA-1 owes), or over all
    /// of them and the lines naming none (`None`, the account overall).
    pub fn balance_of(
        &self,
        account: LedgerAccount,
        currency: Currency,
        subledger: Option<&str>,
    ) -> Decimal {
        match subledger {
            Some(subledger) => {
                self.balance(&AccountKey::with_subledger(account, currency, subledger))
            }
            None => {
                let balance = self
                    .account_range(account, currency)
                    .map(|(_, turnover)| turnover.balance(account.normal_side()))
                    .sum();
                at_scale(balance, currency)
            }
        }
    }

    /// Every subledger of `account` in `currency` with its balance, in subledger
    /// order (e.g. the receivable of every billing account).
    pub fn subledger_balances(
        &self,
        account: LedgerAccount,
        currency: Currency,
    ) -> Vec<(&str, Decimal)> {
        self.account_range(account, currency)
            .filter_map(|(key, turnover)| {
                let balance = turnover.balance(account.normal_side());
                Some((key.subledger.as_deref()?, at_scale(balance, currency)))
            })
            .collect()
    }

    /// Every account key with a line, with its balance (signed by normal side).
    pub fn balances(&self) -> impl Iterator<Item = (&AccountKey, Decimal)> {
        self.turnover.iter().map(|(key, turnover)| {
            let balance = turnover.balance(key.account.normal_side());
            (key, at_scale(balance, key.currency))
        })
    }

    /// The currencies the book has entries in.
    pub fn currencies(&self) -> impl Iterator<Item = Currency> {
        self.currency_turnover.keys().copied()
    }

    /// The trial balance of `currency`: debit and credit totals per account over
    /// every subledger, in chart order. Always balanced.
    pub fn trial_balance(&self, currency: Currency) -> TrialBalance {
        let mut per_account: BTreeMap<LedgerAccount, Turnover> = BTreeMap::new();
        for (key, turnover) in &self.turnover {
            if key.currency == currency {
                let row = per_account.entry(key.account).or_default();
                row.debits += turnover.debits;
                row.credits += turnover.credits;
            }
        }
        let rows: Vec<TrialBalanceRow> = per_account
            .into_iter()
            .map(|(account, turnover)| TrialBalanceRow {
                account,
                debits: at_scale(turnover.debits, currency),
                credits: at_scale(turnover.credits, currency),
            })
            .collect();
        let total = self
            .currency_turnover
            .get(&currency)
            .cloned()
            .unwrap_or_default();
        let trial_balance = TrialBalance {
            currency,
            rows,
            total_debits: at_scale(total.debits, currency),
            total_credits: at_scale(total.credits, currency),
        };
        assert!(trial_balance.is_balanced(), "trial balance of {currency}");
        assert_eq!(trial_balance.net(), Decimal::ZERO);
        trial_balance
    }

    fn account_range(
        &self,
        account: LedgerAccount,
        currency: Currency,
    ) -> impl Iterator<Item = (&AccountKey, &Turnover)> {
        // Keys order by account, currency, then subledger with `None` first: the keys
        // of one account in one currency are one contiguous range from this one.
        self.turnover
            .range(AccountKey::new(account, currency)..)
            .take_while(move |(key, _)| key.account == account && key.currency == currency)
    }

    fn check_capacity(&self) -> Result<(), LedgerError> {
        if self.entries.len() >= ENTRIES_MAX {
            return Err(LedgerError::BookFull);
        }
        Ok(())
    }

    fn check_entry(&self, entry: &JournalEntry) -> Result<(), LedgerError> {
        self.check_capacity()?;
        let expected = self.next_id();
        if entry.id != expected {
            return Err(LedgerError::UnexpectedEntryId {
                expected,
                found: entry.id,
            });
        }
        if entry.tenant != self.tenant {
            return Err(LedgerError::TenantMismatch {
                expected: self.tenant.clone(),
                found: entry.tenant.clone(),
            });
        }
        entry.validate()?;
        let Some(original_id) = entry.reverses else {
            return Ok(());
        };
        let original = self
            .entry(original_id)
            .ok_or(LedgerError::UnknownEntry(original_id))?;
        if original.reverses.is_some() {
            return Err(LedgerError::CannotReverseReversal(original_id));
        }
        if let Some(reversal) = self.reversal_of(original_id) {
            return Err(LedgerError::AlreadyReversed {
                entry: original_id,
                reversal,
            });
        }
        if entry.posted_on < original.posted_on {
            return Err(LedgerError::ReversalPredatesEntry {
                entry: original_id,
                posted_on: original.posted_on,
                reversal_posted_on: entry.posted_on,
            });
        }
        if original.kind.reversal_kind() != Some(entry.kind) || !entry.is_contra_of(original) {
            return Err(LedgerError::NotExactContra {
                entry: original_id,
                reversal: entry.id,
            });
        }
        Ok(())
    }

    /// Records a checked entry and asserts the book's invariants.
    fn record(&mut self, entry: JournalEntry) -> EntryId {
        assert_eq!(entry.id, self.next_id());
        assert!(entry.is_balanced(), "entry {} is unbalanced", entry.id);
        let id = entry.id;
        let currency = entry.currency;
        let currency_turnover = self.currency_turnover.entry(currency).or_default();
        for line in &entry.lines {
            assert!(line.amount > Decimal::ZERO);
            assert_eq!(line.account.currency, currency);
            currency_turnover.add(line.side, line.amount);
        }
        for line in &entry.lines {
            self.turnover
                .entry(line.account.clone())
                .or_default()
                .add(line.side, line.amount);
        }
        if let Some(original) = entry.reverses {
            let index = usize::try_from(original.0 - 1).expect("checked entry id");
            assert!(self.reversed_by[index].is_none());
            self.reversed_by[index] = Some(id);
        }
        self.entries.push(entry);
        self.reversed_by.push(None);

        assert_eq!(self.entries.len(), self.reversed_by.len());
        let totals = &self.currency_turnover[&currency];
        assert_eq!(
            totals.debits, totals.credits,
            "the book of {currency} is unbalanced after entry {id}"
        );
        id
    }
}

/// `value` written with the currency's minor-unit scale (`0` -> `0.00`).
fn at_scale(mut value: Decimal, currency: Currency) -> Decimal {
    let scale = currency.minor_unit_scale();
    if value.scale() < scale {
        value.rescale(scale);
    }
    value
}

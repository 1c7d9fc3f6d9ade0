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
pub const TENANT_BYTES_MAX: usize = 64;

/// The journal entry a financial event posts, before it is numbered: a new
/// balanced entry, or the exact contra of an earlier one. Which event posts
/// what is for the module of the event (`collections::CollectionsEvent::posting`,
/// the engine's postings of policy transactions); how it becomes an entry of
/// the book is [`Ledger::entry_for`], here only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posting {
    Entry(EntryDraft),
    /// The exact contra of an earlier entry.
    Contra {
        original: EntryId,
        posted_on: NaiveDate,
        reference: String,
    },
}

/// Running totals of the debit and credit lines of one account key or currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
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

/// A [`Ledger`] without its entries: what a snapshot stores beside them
/// (see [`Ledger::head`] and [`Ledger::from_head`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct LedgerHead {
    tenant: String,
    reversed_by: Vec<Option<EntryId>>,
    turnover: BTreeMap<AccountKey, Turnover>,
    currency_turnover: BTreeMap<Currency, Turnover>,
    closed_through: Option<NaiveDate>,
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Ledger {
    tenant: String,
    entries: Vec<JournalEntry>,
    /// `reversed_by[i]` is the entry reversing entry `i + 1`, if any.
    reversed_by: Vec<Option<EntryId>>,
    turnover: BTreeMap<AccountKey, Turnover>,
    currency_turnover: BTreeMap<Currency, Turnover>,
    /// The last day of the last closed accounting period: no entry is ever given
    /// an accounting date on or before it.
    closed_through: Option<NaiveDate>,
}

impl Ledger {
    /// An empty book for `tenant` (1 to [`TENANT_BYTES_MAX`] printable bytes).
    pub fn new(tenant: &str) -> Result<Ledger, LedgerError> {
        if !is_valid_name(tenant, TENANT_BYTES_MAX) {
            return Err(LedgerError::InvalidTenant {
                tenant: tenant.chars().take(TENANT_BYTES_MAX + 1).collect(),
            });
        }
        Ok(Ledger {
            tenant: tenant.to_owned(),
            entries: Vec::new(),
            reversed_by: Vec::new(),
            turnover: BTreeMap::new(),
            currency_turnover: BTreeMap::new(),
            closed_through: None,
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
        let entry = self.draft_entry(draft, self.next_id())?;
        self.apply(entry)
    }

    /// The entry `posting` makes when numbered `id`, checked as [`Ledger::post`]
    /// and [`Ledger::reverse`] check it, without posting anything: how a
    /// decision builds the entries it will post, numbering them from
    /// [`Ledger::next_id`] on before any is applied. The one place a draft or a
    /// contra becomes a [`JournalEntry`].
    ///
    /// Example: with entries 1 and 2 in the book, a draft of a payment of 300.00
    /// numbered 3 is entry 3 of this tenant, `reverses: null`; then
    /// `Contra { original: 2, .. }` numbered 4 is entry 2's exact contra,
    /// reversing 2. A contra of a missing entry, of a reversal, or of an entry
    /// already reversed is refused.
    pub fn entry_for(&self, posting: Posting, id: EntryId) -> Result<JournalEntry, LedgerError> {
        match posting {
            Posting::Entry(draft) => self.draft_entry(draft, id),
            Posting::Contra {
                original,
                posted_on,
                reference,
            } => self.contra_entry(original, id, posted_on, &reference),
        }
    }

    /// The last day of the last closed accounting period, if any is closed.
    pub fn closed_through(&self) -> Option<NaiveDate> {
        self.closed_through
    }

    /// The accounting date an entry posted on `posted_on` gets when it is not that
    /// day: the first day of the first open period when `posted_on` falls in a
    /// closed one (the entry keeps `posted_on`, its effective date).
    ///
    /// Example: closed through 2025-12-31, an entry posted on 2025-12-20 gets
    /// `Some(2026-01-01)`; one posted on 2026-01-05 gets `None` (its own day).
    pub fn accounting_date_for(&self, posted_on: NaiveDate) -> Option<NaiveDate> {
        let closed_through = self.closed_through?;
        (posted_on <= closed_through).then(|| closed_through.succ_opt().unwrap_or(closed_through))
    }

    /// Closes the accounting periods through `last_day` (the last day of a month):
    /// from now on no entry is dated on or before it. Periods close in order, so a
    /// day not after the current close is refused.
    pub fn close_through(&mut self, last_day: NaiveDate) -> Result<(), LedgerError> {
        if let Some(closed_through) = self.closed_through
            && last_day <= closed_through
        {
            return Err(LedgerError::PeriodAlreadyClosed {
                closed_through,
                asked: last_day,
            });
        }
        self.closed_through = Some(last_day);
        Ok(())
    }

    /// The trial balance of the entries of `currency` whose accounting date is in
    /// `[from, through]` (`from` `None`: from the first entry): a period's activity,
    /// or, from the start, the balances at its end.
    ///
    /// Example: with premium of 1200.00 written on 2025-12-15 and 100.00 earned on
    /// 2026-01-31, January 2026 alone shows `unearned_premium` debits 100.00 and
    /// `earned_premium` credits 100.00.
    pub fn trial_balance_between(
        &self,
        currency: Currency,
        from: Option<NaiveDate>,
        through: NaiveDate,
    ) -> TrialBalance {
        let mut per_account: BTreeMap<LedgerAccount, Turnover> = BTreeMap::new();
        let mut total = Turnover::default();
        for entry in &self.entries {
            let day = entry.accounting_date();
            if entry.currency != currency || day > through || from.is_some_and(|from| day < from) {
                continue;
            }
            for line in &entry.lines {
                per_account
                    .entry(line.account.account)
                    .or_default()
                    .add(line.side, line.amount);
                total.add(line.side, line.amount);
            }
        }
        let rows = per_account
            .into_iter()
            .map(|(account, turnover)| TrialBalanceRow {
                account,
                debits: at_scale(turnover.debits, currency),
                credits: at_scale(turnover.credits, currency),
            })
            .collect();
        TrialBalance {
            currency,
            rows,
            total_debits: at_scale(total.debits, currency),
            total_credits: at_scale(total.credits, currency),
        }
    }

    /// A checked draft as entry `id` of this book.
    fn draft_entry(&self, draft: EntryDraft, id: EntryId) -> Result<JournalEntry, LedgerError> {
        self.check(&draft)?;
        let accounting_date = self.accounting_date_for(draft.posted_on);
        Ok(JournalEntry {
            id,
            tenant: self.tenant.clone(),
            currency: draft.currency,
            posted_on: draft.posted_on,
            kind: draft.kind,
            reference: draft.reference,
            reverses: None,
            lines: draft.lines,
            memo: draft.memo,
            accounting_date,
        })
    }

    /// The exact contra of entry `original`, numbered `id`; refused when the
    /// entry does not exist, is itself a reversal, or is already reversed.
    fn contra_entry(
        &self,
        original: EntryId,
        id: EntryId,
        posted_on: NaiveDate,
        reference: &str,
    ) -> Result<JournalEntry, LedgerError> {
        let entry = self
            .entry(original)
            .ok_or(LedgerError::UnknownEntry(original))?;
        if entry.reverses.is_some() {
            return Err(LedgerError::CannotReverseReversal(original));
        }
        if let Some(reversal) = self.reversal_of(original) {
            return Err(LedgerError::AlreadyReversed {
                entry: original,
                reversal,
            });
        }
        let mut contra = entry
            .contra(id, posted_on, reference)
            .ok_or(LedgerError::CannotReverseReversal(original))?;
        contra.accounting_date = self.accounting_date_for(posted_on);
        Ok(contra)
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
        let contra = self.contra_entry(id, self.next_id(), posted_on, reference)?;
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

    /// The book without its entries (a snapshot stores the entries apart,
    /// in pieces decoded in parallel, see `engine::snapshot`).
    pub fn head(&self) -> LedgerHead {
        LedgerHead {
            tenant: self.tenant.clone(),
            reversed_by: self.reversed_by.clone(),
            turnover: self.turnover.clone(),
            currency_turnover: self.currency_turnover.clone(),
            closed_through: self.closed_through,
        }
    }

    /// The book of [`Ledger::head`] and its entries, in posting order;
    /// `None` when they do not fit together (not as many entries as the
    /// head knows, or not numbered 1, 2, 3, ...).
    ///
    /// Example: the head of a book of 3 entries with the entries 1 to 3 is
    /// that book again; with 2 of them it is `None`.
    pub fn from_head(head: LedgerHead, entries: Vec<JournalEntry>) -> Option<Ledger> {
        let numbered = entries
            .iter()
            .enumerate()
            .all(|(index, entry)| usize::try_from(entry.id.0) == Ok(index + 1));
        if entries.len() != head.reversed_by.len() || !numbered {
            return None;
        }
        Some(Ledger {
            tenant: head.tenant,
            entries,
            reversed_by: head.reversed_by,
            turnover: head.turnover,
            currency_turnover: head.currency_turnover,
            closed_through: head.closed_through,
        })
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

    /// The currencies the book has entries in, in code order.
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
        if let Some(closed_through) = self.closed_through
            && entry.accounting_date() <= closed_through
        {
            return Err(LedgerError::DatedIntoClosedPeriod {
                entry: entry.id,
                accounting_date: entry.accounting_date(),
                closed_through,
            });
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Money;
    use crate::ledger::category::ChargeCategory;
    use crate::ledger::entry::{EntryKind, JournalLine, LINES_PER_ENTRY_MAX};
    use crate::ledger::postings;
    use rust_decimal_macros::dec;

    const BA: &str = "BA-1";

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, d).unwrap()
    }

    fn usd(amount: Decimal) -> Money {
        Money::new(amount, Currency::USD)
    }

    fn key(account: LedgerAccount) -> AccountKey {
        if account.requires_subledger() {
            AccountKey::with_subledger(account, Currency::USD, BA)
        } else {
            AccountKey::new(account, Currency::USD)
        }
    }

    /// Charge 1000.00 premium, invoice 250.00, pay 300.00: entries 1, 2, 3.
    fn book() -> Ledger {
        let mut ledger = Ledger::new("acme").unwrap();
        let charges = [(ChargeCategory::Premium, usd(dec!(1000.00)))];
        let drafts = [
            postings::charges_written(BA, &charges, day(1), "TX-1")
                .unwrap()
                .unwrap(),
            postings::invoice_issued(BA, usd(dec!(250.00)), day(2), "INV-1")
                .unwrap()
                .unwrap(),
            postings::payment_received(BA, usd(dec!(300.00)), usd(dec!(250.00)), day(3), "PAY-1")
                .unwrap(),
        ];
        for draft in drafts {
            ledger.post(draft).unwrap();
        }
        ledger
    }

    fn unbalanced() -> EntryDraft {
        EntryDraft::new(
            Currency::USD,
            day(4),
            EntryKind::WriteOff,
            "WO-1",
            vec![
                JournalLine::debit(key(LedgerAccount::WriteOffExpense), dec!(10.00)),
                JournalLine::credit(key(LedgerAccount::PremiumReceivableBilled), dec!(9.00)),
            ],
        )
    }

    #[test]
    fn posting_numbers_entries_from_one_and_stamps_the_tenant() {
        let ledger = book();
        assert_eq!(ledger.len(), 3);
        let ids: Vec<_> = ledger.entries().iter().map(|entry| entry.id).collect();
        assert_eq!(ids, [EntryId(1), EntryId(2), EntryId(3)]);
        let payment = ledger.entry(EntryId(3)).unwrap();
        assert_eq!(payment.tenant, "acme");
        assert_eq!(payment.kind, EntryKind::PaymentReceived);
        assert_eq!(payment.reference, "PAY-1");
        assert_eq!(payment.reverses, None);
        assert!(payment.is_balanced());
        assert_eq!(ledger.next_id(), EntryId(4));
        assert!(ledger.entry(EntryId(0)).is_none());
        assert!(ledger.entry(EntryId(4)).is_none());
    }

    #[test]
    fn balances_are_signed_by_the_normal_side_per_billing_account_and_overall() {
        let ledger = book();
        assert_eq!(ledger.balance(&key(LedgerAccount::Cash)), dec!(300.00));
        assert_eq!(
            ledger.balance(&key(LedgerAccount::PremiumReceivableUnbilled)),
            dec!(750.00)
        );
        assert_eq!(
            ledger.balance(&key(LedgerAccount::PremiumReceivableBilled)),
            dec!(0.00)
        );
        assert_eq!(
            ledger.balance(&key(LedgerAccount::CustomerCredit)),
            dec!(50.00)
        );
        assert_eq!(
            ledger.balance(&key(LedgerAccount::UnearnedPremium)),
            dec!(1000.00)
        );
        assert_eq!(
            ledger.balance_of(LedgerAccount::CustomerCredit, Currency::USD, None),
            dec!(50.00)
        );
        assert_eq!(
            ledger.balance_of(LedgerAccount::CustomerCredit, Currency::USD, Some("BA-2")),
            dec!(0.00)
        );
        assert_eq!(
            ledger.balance_of(LedgerAccount::CustomerCredit, Currency::EUR, None),
            dec!(0.00)
        );
        assert_eq!(
            ledger
                .balance(&key(LedgerAccount::PremiumReceivableBilled))
                .to_string(),
            "0.00"
        );
    }

    #[test]
    fn the_overall_balance_sums_every_billing_account() {
        let mut ledger = book();
        let draft =
            postings::payment_received("BA-2", usd(dec!(20.00)), usd(dec!(0)), day(5), "PAY-2")
                .unwrap();
        ledger.post(draft).unwrap();
        assert_eq!(
            ledger.balance_of(LedgerAccount::CustomerCredit, Currency::USD, None),
            dec!(70.00)
        );
        assert_eq!(
            ledger.subledger_balances(LedgerAccount::CustomerCredit, Currency::USD),
            [("BA-1", dec!(50.00)), ("BA-2", dec!(20.00))]
        );
    }

    #[test]
    fn the_trial_balance_lists_debit_and_credit_totals_in_chart_order() {
        let trial_balance = book().trial_balance(Currency::USD);
        let rows: Vec<_> = trial_balance
            .rows
            .iter()
            .map(|row| (row.account, row.debits, row.credits, row.balance()))
            .collect();
        use LedgerAccount::*;
        assert_eq!(
            rows,
            [
                (Cash, dec!(300.00), dec!(0.00), dec!(300.00)),
                (
                    PremiumReceivableUnbilled,
                    dec!(1000.00),
                    dec!(250.00),
                    dec!(750.00)
                ),
                (
                    PremiumReceivableBilled,
                    dec!(250.00),
                    dec!(250.00),
                    dec!(0.00)
                ),
                (CustomerCredit, dec!(0.00), dec!(50.00), dec!(50.00)),
                (UnearnedPremium, dec!(0.00), dec!(1000.00), dec!(1000.00)),
            ]
        );
        assert_eq!(trial_balance.total_debits, dec!(1550.00));
        assert_eq!(trial_balance.total_credits, dec!(1550.00));
        assert!(trial_balance.is_balanced());
        assert_eq!(trial_balance.net(), dec!(0));
        let empty = book().trial_balance(Currency::EUR);
        assert!(empty.rows.is_empty() && empty.is_balanced());
    }

    #[test]
    fn refused_entries_change_nothing() {
        let mut ledger = book();
        let before = ledger.clone();
        let mixed = EntryDraft::new(
            Currency::USD,
            day(4),
            EntryKind::WriteOff,
            "WO-1",
            vec![
                JournalLine::debit(key(LedgerAccount::WriteOffExpense), dec!(10.00)),
                JournalLine::credit(
                    AccountKey::with_subledger(
                        LedgerAccount::PremiumReceivableBilled,
                        Currency::EUR,
                        BA,
                    ),
                    dec!(10.00),
                ),
            ],
        );
        let zero = EntryDraft::new(
            Currency::USD,
            day(4),
            EntryKind::WriteOff,
            "WO-1",
            vec![
                JournalLine::debit(key(LedgerAccount::WriteOffExpense), dec!(0)),
                JournalLine::credit(key(LedgerAccount::PremiumReceivableBilled), dec!(0)),
            ],
        );
        let mut negative = unbalanced();
        negative.lines[0].amount = dec!(-10.00);
        negative.lines[1].amount = dec!(-10.00);
        let mut too_many = unbalanced();
        too_many.lines = (0..=LINES_PER_ENTRY_MAX)
            .map(|_| JournalLine::debit(key(LedgerAccount::Cash), dec!(1.00)))
            .collect();
        let cases = [
            (
                unbalanced(),
                LedgerError::Unbalanced {
                    debits: dec!(10.00),
                    credits: dec!(9.00),
                },
            ),
            (
                mixed,
                LedgerError::CurrencyMismatch {
                    line: 1,
                    expected: Currency::USD,
                    found: Currency::EUR,
                },
            ),
            (
                zero,
                LedgerError::NonPositiveAmount {
                    line: 0,
                    amount: dec!(0.00),
                },
            ),
            (
                negative,
                LedgerError::NonPositiveAmount {
                    line: 0,
                    amount: dec!(-10.00),
                },
            ),
            (
                too_many,
                LedgerError::LineCount {
                    count: LINES_PER_ENTRY_MAX + 1,
                },
            ),
        ];
        for (draft, error) in cases {
            assert_eq!(ledger.check(&draft), Err(error.clone()));
            assert_eq!(ledger.post(draft), Err(error));
            assert_eq!(ledger, before);
        }
    }

    #[test]
    fn checking_a_valid_draft_posts_nothing() {
        let ledger = book();
        let draft = postings::write_off(BA, usd(dec!(1.00)), day(4), "WO-1").unwrap();
        assert_eq!(ledger.check(&draft), Ok(()));
        assert_eq!(ledger.len(), 3);
    }

    #[test]
    fn reversing_posts_the_exact_contra_and_links_it() {
        let mut ledger = book();
        let id = ledger.reverse(EntryId(3), day(10), "RET-1").unwrap();
        assert_eq!(id, EntryId(4));
        let original = ledger.entry(EntryId(3)).unwrap().clone();
        let contra = ledger.entry(id).unwrap();
        assert_eq!(contra.kind, EntryKind::PaymentReversed);
        assert_eq!(contra.reverses, Some(EntryId(3)));
        assert_eq!(contra.reference, "RET-1");
        assert_eq!(contra.posted_on, day(10));
        assert_eq!(contra.memo, "reverses entry 3");
        let lines: Vec<_> = contra
            .lines
            .iter()
            .map(|line| (line.account.account, line.side, line.amount))
            .collect();
        use LedgerAccount::*;
        assert_eq!(
            lines,
            [
                (Cash, Side::Credit, dec!(300.00)),
                (PremiumReceivableBilled, Side::Debit, dec!(250.00)),
                (CustomerCredit, Side::Debit, dec!(50.00)),
            ]
        );
        assert!(contra.is_contra_of(&original));
        assert_eq!(ledger.reversal_of(EntryId(3)), Some(EntryId(4)));
        assert_eq!(ledger.reversal_of(EntryId(4)), None);
        assert_eq!(ledger.balance(&key(Cash)), dec!(0.00));
        assert_eq!(ledger.balance(&key(PremiumReceivableBilled)), dec!(250.00));
        assert_eq!(ledger.balance(&key(CustomerCredit)), dec!(0.00));
    }

    #[test]
    fn an_entry_for_a_posting_is_exactly_what_posting_or_reversing_records() {
        let ledger = book();
        let draft = postings::write_off(BA, usd(dec!(5.00)), day(4), "WO-1").unwrap();
        let decided = ledger
            .entry_for(Posting::Entry(draft.clone()), EntryId(4))
            .unwrap();
        let mut posted = ledger.clone();
        posted.post(draft).unwrap();
        assert_eq!(posted.entry(EntryId(4)), Some(&decided));
        assert_eq!((decided.tenant.as_str(), decided.reverses), ("acme", None));
        // Numbered ahead: a decision posting two entries numbers them 4 and 5
        // before either is applied.
        let contra = ledger
            .entry_for(
                Posting::Contra {
                    original: EntryId(3),
                    posted_on: day(10),
                    reference: "RET-1".into(),
                },
                EntryId(5),
            )
            .unwrap();
        assert_eq!(contra.reverses, Some(EntryId(3)));
        assert_eq!(contra.kind, EntryKind::PaymentReversed);
        let mut reversed = ledger.clone();
        reversed.reverse(EntryId(3), day(10), "RET-1").unwrap();
        assert_eq!(
            reversed.entry(EntryId(4)),
            Some(&JournalEntry {
                id: EntryId(4),
                ..contra
            })
        );
        // The refusals of `reverse`, and of `post` for a draft.
        let contra_of = |ledger: &Ledger, original| {
            ledger.entry_for(
                Posting::Contra {
                    original,
                    posted_on: day(10),
                    reference: "RET-2".into(),
                },
                ledger.next_id(),
            )
        };
        assert_eq!(
            contra_of(&ledger, EntryId(9)),
            Err(LedgerError::UnknownEntry(EntryId(9)))
        );
        assert_eq!(
            contra_of(&reversed, EntryId(3)),
            Err(LedgerError::AlreadyReversed {
                entry: EntryId(3),
                reversal: EntryId(4)
            })
        );
        assert_eq!(
            contra_of(&reversed, EntryId(4)),
            Err(LedgerError::CannotReverseReversal(EntryId(4)))
        );
        assert!(
            ledger
                .entry_for(Posting::Entry(unbalanced()), EntryId(4))
                .is_err()
        );
        assert_eq!(ledger.len(), 3);
    }

    #[test]
    fn the_reversal_kind_follows_the_original_kind() {
        let mut ledger = book();
        ledger
            .post(postings::write_off(BA, usd(dec!(5.00)), day(4), "WO-1").unwrap())
            .unwrap();
        ledger
            .post(postings::disbursement_executed(BA, usd(dec!(5.00)), day(4), "D-1").unwrap())
            .unwrap();
        let cases = [
            (EntryId(1), EntryKind::Reversal),
            (EntryId(2), EntryKind::Reversal),
            (EntryId(4), EntryKind::WriteOffReversed),
            (EntryId(5), EntryKind::DisbursementReversed),
        ];
        for (original, kind) in cases {
            let id = ledger.reverse(original, day(20), "UNDO").unwrap();
            assert_eq!(ledger.entry(id).unwrap().kind, kind);
        }
    }

    #[test]
    fn reversing_twice_or_reversing_a_reversal_is_refused() {
        let mut ledger = book();
        ledger.reverse(EntryId(3), day(10), "RET-1").unwrap();
        let before = ledger.clone();
        assert_eq!(
            ledger.reverse(EntryId(3), day(11), "RET-2"),
            Err(LedgerError::AlreadyReversed {
                entry: EntryId(3),
                reversal: EntryId(4)
            })
        );
        assert_eq!(
            ledger.reverse(EntryId(4), day(11), "RET-3"),
            Err(LedgerError::CannotReverseReversal(EntryId(4)))
        );
        assert_eq!(
            ledger.reverse(EntryId(9), day(11), "RET-4"),
            Err(LedgerError::UnknownEntry(EntryId(9)))
        );
        assert_eq!(ledger, before);
    }

    #[test]
    fn a_reversal_dated_before_its_original_is_refused() {
        let mut ledger = book();
        let before = ledger.clone();
        assert_eq!(
            ledger.reverse(EntryId(3), day(2), "RET-1"),
            Err(LedgerError::ReversalPredatesEntry {
                entry: EntryId(3),
                posted_on: day(3),
                reversal_posted_on: day(2)
            })
        );
        assert_eq!(ledger, before);
        assert!(ledger.reverse(EntryId(3), day(3), "RET-1").is_ok());
    }

    #[test]
    fn rebuilding_from_entries_gives_the_same_book() {
        let mut ledger = book();
        ledger.reverse(EntryId(2), day(5), "INV-1-VOID").unwrap();
        let json = serde_json::to_string(ledger.entries()).unwrap();
        let entries: Vec<JournalEntry> = serde_json::from_str(&json).unwrap();
        let rebuilt = Ledger::from_entries("acme", entries).unwrap();
        assert_eq!(rebuilt, ledger);
        assert_eq!(rebuilt.reversal_of(EntryId(2)), Some(EntryId(4)));
    }

    #[test]
    fn replay_refuses_gaps_other_tenants_and_forged_contras() {
        let mut ledger = book();
        ledger.reverse(EntryId(3), day(10), "RET-1").unwrap();
        let entries = ledger.entries().to_vec();

        let gap = vec![entries[0].clone(), entries[2].clone()];
        assert_eq!(
            Ledger::from_entries("acme", gap),
            Err(LedgerError::Replay {
                position: 1,
                source: Box::new(LedgerError::UnexpectedEntryId {
                    expected: EntryId(2),
                    found: EntryId(3)
                })
            })
        );
        assert_eq!(
            Ledger::from_entries("other", entries.clone()),
            Err(LedgerError::Replay {
                position: 0,
                source: Box::new(LedgerError::TenantMismatch {
                    expected: "other".into(),
                    found: "acme".into()
                })
            })
        );

        let mut forged = entries.clone();
        forged[3].lines[1].amount = dec!(240.00);
        forged[3].lines[2].amount = dec!(60.00);
        let error = LedgerError::NotExactContra {
            entry: EntryId(3),
            reversal: EntryId(4),
        };
        assert_eq!(
            Ledger::from_entries("acme", forged),
            Err(LedgerError::Replay {
                position: 3,
                source: Box::new(error.clone())
            })
        );
        let mut wrong_kind = entries.clone();
        wrong_kind[3].kind = EntryKind::Reversal;
        assert_eq!(
            Ledger::from_entries("acme", wrong_kind),
            Err(LedgerError::Replay {
                position: 3,
                source: Box::new(error)
            })
        );
        let mut unlinked = entries;
        unlinked[3].reverses = None;
        assert!(Ledger::from_entries("acme", unlinked).is_err());
    }

    #[test]
    fn a_tenant_name_is_short_and_printable() {
        assert!(Ledger::new("acme").is_ok());
        for bad in ["", " acme", "ac\tme", &"t".repeat(TENANT_BYTES_MAX + 1)] {
            assert!(matches!(
                Ledger::new(bad),
                Err(LedgerError::InvalidTenant { .. })
            ));
        }
    }

    #[test]
    fn currencies_are_kept_apart() {
        let mut ledger = book();
        let yen = Money::new(dec!(5000), Currency::JPY);
        let charges = [(ChargeCategory::Premium, yen)];
        let draft = postings::charges_written(BA, &charges, day(4), "TX-9")
            .unwrap()
            .unwrap();
        ledger.post(draft).unwrap();
        assert_eq!(
            ledger.currencies().collect::<Vec<_>>(),
            [Currency::JPY, Currency::USD]
        );
        assert_eq!(
            ledger.balance_of(LedgerAccount::UnearnedPremium, Currency::JPY, None),
            dec!(5000)
        );
        assert_eq!(
            ledger.balance_of(LedgerAccount::UnearnedPremium, Currency::USD, None),
            dec!(1000.00)
        );
        assert!(ledger.trial_balance(Currency::JPY).is_balanced());
    }
}

//! The policy book: accounts, policies and their transactions, charges and
//! installment slices, as a state machine. Commands are *decided* against
//! the current state (rating happens here) into events; events are *applied*
//! to the state without any rating, so replaying the log rebuilds the state
//! exactly. Preview and commit are the same code: a preview decides and
//! applies on a copy and throws it away.

use super::cancellation::CancellationReason;
use super::charges::{Charge, ChargeExplanation, timeline_difference};
use super::data::{DataChange, PolicyData};
use super::dates::{InstallmentDater, KeepDates, PluginDates, dated_slices_for_term};
use super::error::PolicyError;
use super::pricing::{PricedSegment, PricingContext, price_segments, price_timeline};
use super::product::{Handling, Invoicing, ProductConfig, RatingDate};
use super::rating_record::policy_record;
use super::schedule::{HeldState, InstallmentSlice, TermSlicing, is_spread, spread_period};
use super::timeline::{Segment, cancellation_at, in_effect_order, is_cancelled_at, segments};
use super::transaction::{Transaction, TransactionChange, TransactionKind};
use crate::billing::Arithmetic;
use crate::domain::{Currency, Money, Period, add_months_clamped, local_date, parse_time_zone};
use crate::rating::{CallLocators, RatedFor, Rater, RatingChain};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

mod correct;
mod decide;
mod flat_charges;
mod issue;
mod non_renewal;
mod support;
mod transact;
mod transactions;

use support::*;

/// The most transactions one policy may have.
pub const TRANSACTIONS_PER_POLICY_MAX: usize = 10_000;
/// The most terms one policy may have.
pub const TERMS_PER_POLICY_MAX: usize = 100;

/// A billing account: who pays.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub locator: String,
    pub name: String,
    pub currency: Currency,
}

/// A term of a policy.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub number: u32,
    pub period: Period,
    pub plan: String,
    /// The version of the product's plugin that rates this term, chosen
    /// when it was opened by its rating date (DOMAIN section 9) and used by
    /// every later transaction of the term; absent when the product rates
    /// with no plugin (or on terms opened before versions were pinned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_version: Option<String>,
    /// The day that chose `rate_version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating_date: Option<NaiveDate>,
    /// The day the term was bound: the tenant's today when its new
    /// business or renewal was issued (seed 002's `BoundDate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_on: Option<NaiveDate>,
}

/// What is fixed when a policy is created: the product is copied onto it so
/// later product changes never reprice it.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyHeader {
    pub locator: String,
    pub account: String,
    /// Shared by every policy issued under the same product revision
    /// ([`super::shared`]); written and read as the product itself.
    #[serde(with = "super::shared")]
    #[schema(value_type = ProductConfig)]
    pub product: Arc<ProductConfig>,
    pub time_zone: String,
    /// The revision of the product (1 for its first deployment) the policy
    /// was issued under; absent on policies issued before revisions were
    /// counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_revision: Option<u32>,
    /// Whether the policy system is told when a term is confirmed.
    #[serde(default, skip_serializing_if = "is_not_notified")]
    pub confirmation_notification: ConfirmationNotification,
    /// How the policy is billed (seed 002): `direct` (the account is
    /// invoiced; the default, not written) or `agency` (its producer of
    /// record is billed on its agency statement).
    #[serde(default, skip_serializing_if = "BillingMethod::is_direct")]
    pub billing_method: BillingMethod,
    /// The producer of record of an agency-billed policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
}

impl PolicyHeader {
    /// The producer that is billed for the policy, when it is agency billed.
    pub fn agency(&self) -> Option<&str> {
        match self.billing_method {
            BillingMethod::Agency => self.producer.as_deref(),
            BillingMethod::Direct => None,
        }
    }
}

/// A policy's billing method, chosen at bind (seed 002; DOMAIN section 10).
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum BillingMethod {
    /// The billing account is invoiced.
    #[default]
    Direct,
    /// The producer of record is billed on a statement cycle for the gross
    /// less its commission, and remits the net ([E11]).
    Agency,
}

impl BillingMethod {
    /// Every method, in order.
    pub const ALL: [BillingMethod; 2] = [BillingMethod::Direct, BillingMethod::Agency];

    fn is_direct(&self) -> bool {
        *self == BillingMethod::Direct
    }
}

fn is_not_notified(notification: &ConfirmationNotification) -> bool {
    *notification == ConfirmationNotification::None
}

/// Characters of an account's name, at most.
pub const ACCOUNT_NAME_CHARS_MAX: usize = 200;

/// A policy as the book knows it.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyState {
    pub header: PolicyHeader,
    pub terms: Vec<Term>,
    pub transactions: Vec<Transaction>,
    /// The current priced timeline, per term (a `CompactMap`: one pair per
    /// term instead of an eleven-slot B-tree node; same JSON).
    #[schema(value_type = BTreeMap<u32, Vec<PricedSegment>>)]
    pub priced: crate::domain::CompactMap<u32, Vec<PricedSegment>>,
    pub charges: Vec<Charge>,
    /// Written as a plain array; read with the slices of one charge sharing
    /// one locator allocation (as when scheduled).
    #[serde(deserialize_with = "super::compact_slices::deserialize_shared")]
    pub slices: Vec<InstallmentSlice>,
    /// Positions of the slices netted (never invoiced): in frames that no
    /// longer bill anything, or superseded by a plan change together with
    /// the slices withdrawing them, they sum to zero.
    #[serde(default)]
    pub netted: std::collections::BTreeSet<u32>,
    /// The notice that the policy will not be renewed after its last term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_renewal: Option<NonRenewal>,
}

/// Characters of a non-renewal's reason, at most.
pub const NON_RENEWAL_REASON_CHARS_MAX: usize = 500;

/// A notice of non-renewal: the policy ends with `term`, not renewed.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonRenewal {
    pub term: u32,
    /// The day the policy ends (the term's end).
    pub ends_on: NaiveDate,
    pub reason: String,
    /// The day notice was given (the tenant's today).
    pub notice_on: NaiveDate,
    pub actor: String,
    pub issued_at: DateTime<Utc>,
}

impl PolicyState {
    pub fn locator(&self) -> &str {
        &self.header.locator
    }

    pub fn transaction(&self, locator: &str) -> Option<&Transaction> {
        self.transactions.iter().find(|t| t.locator == locator)
    }

    fn term_of(&self, date: NaiveDate) -> Option<&Term> {
        self.terms.iter().find(|t| t.period.contains(date))
    }

    /// The number of the term `date` falls in, or why there is none.
    fn term_number_at(&self, date: NaiveDate) -> Result<u32, PolicyError> {
        self.term_of(date)
            .map(|term| term.number)
            .ok_or_else(|| PolicyError::OutsideTerm {
                policy: self.header.locator.clone(),
                date,
            })
    }

    /// Whether the policy covers `date`: a term holds it and it is not
    /// cancelled then.
    pub fn is_in_force(&self, date: NaiveDate) -> bool {
        self.term_of(date)
            .is_some_and(|term| !is_cancelled_at(&self.transactions, term.number, date))
    }

    /// The cancellation that leaves term `term` uncovered on `date`, if it
    /// is cancelled (and not reinstated) then. Its actor tells a lapse for
    /// non-payment (`crate::engine::LAPSE_ACTOR`) from a cancellation on
    /// request.
    pub fn cancellation_on(&self, term: u32, date: NaiveDate) -> Option<&Transaction> {
        cancellation_at(&self.transactions, term, date)
    }

    /// The sum of the policy's charges of `charge` (for example "premium").
    pub fn charge_total(&self, charge: &str) -> Decimal {
        self.charges
            .iter()
            .filter(|c| c.charge == charge)
            .map(|c| c.amount.amount)
            .sum()
    }

    /// The policy data in force on `date` (whatever the coverage).
    pub fn data_at(&self, date: NaiveDate) -> PolicyData {
        let mut data = PolicyData::default();
        for t in in_effect_order(&self.transactions)
            .into_iter()
            .take_while(|t| t.effective <= date)
        {
            match &t.change {
                TransactionChange::NewBusiness { data: d, .. } => data = d.clone(),
                TransactionChange::Endorsement { changes }
                | TransactionChange::Renewal { changes, .. } => {
                    changes.iter().for_each(|c| data.apply(c))
                }
                _ => {}
            }
        }
        data
    }
}

/// Everything a transaction did: the record stored in the event log.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionRecord {
    pub policy: String,
    /// Present on new business: the policy it opens.
    pub opened: Option<PolicyHeader>,
    /// Present on new business and renewal: the term it opens.
    pub term: Option<Term>,
    pub transaction: Transaction,
    pub charges: Vec<Charge>,
    /// Stored as a frame table and runs of equal amounts (see
    /// `compact_slices`): `{"currency", "charges", "frames", "runs"}`.
    #[serde(with = "super::compact_slices")]
    #[schema(value_type = Object)]
    pub slices: Vec<InstallmentSlice>,
    /// Positions, among the policy's slices once these are appended, of the
    /// slices that net to nothing in a frame that no longer bills anything
    /// (withdrawn pending installments and the parts withdrawing them): never
    /// invoiced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub netted: Vec<u32>,
    /// The priced timeline after the transaction, for each term it changed.
    pub priced: Vec<TermTimeline>,
}

impl TransactionRecord {
    /// Whether the transaction leaves installments to invoice: a slice not
    /// zero and not netted. `base` is the position of its first slice among
    /// the policy's (how many the policy held before it).
    pub fn bills_installments(&self, base: usize) -> bool {
        self.slices.iter().enumerate().any(|(offset, slice)| {
            !slice.amount.is_zero() && !self.netted.contains(&((base + offset) as u32))
        })
    }
}

/// The priced timeline of one term.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermTimeline {
    pub term: u32,
    pub segments: Vec<PricedSegment>,
}

/// An event of the policy book.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum BookEvent {
    /// The policy system is told that a term is confirmed (its first
    /// invoice paid), for a policy bound with
    /// `notify_upon_sufficient_payment` (seed 002).
    PolicySystemNotified {
        policy: String,
        term: u32,
        /// The first invoice whose payment confirmed it.
        invoice: String,
        on: NaiveDate,
    },
    ProductDeployed {
        product: ProductConfig,
    },
    AccountCreated {
        account: Account,
    },
    TransactionIssued {
        record: Box<TransactionRecord>,
    },
    FlatChargeAdded {
        charge: Charge,
    },
    /// A live term moved to another payment plan (decided by the billing
    /// system, which knows what is invoiced): the `superseded` slices (not yet
    /// invoiced) are withdrawn by the inverse slices `withdrawn`, and their
    /// amounts re-spread as `slices` over the new plan.
    PlanChanged {
        policy: String,
        term: u32,
        plan: String,
        effective: NaiveDate,
        superseded: Vec<u32>,
        #[serde(deserialize_with = "super::compact_slices::deserialize_shared")]
        withdrawn: Vec<InstallmentSlice>,
        #[serde(deserialize_with = "super::compact_slices::deserialize_shared")]
        slices: Vec<InstallmentSlice>,
    },
    /// Notice that a policy will not be renewed after its last term.
    NonRenewed {
        policy: String,
        notice: NonRenewal,
    },
}

/// A command to the policy book.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum PolicyCommand {
    DeployProduct {
        product: ProductConfig,
    },
    CreateAccount {
        locator: String,
        name: String,
        currency: Currency,
    },
    IssuePolicy {
        locator: String,
        account: String,
        product: String,
        start: NaiveDate,
        #[serde(default)]
        plan: Option<String>,
        time_zone: String,
        data: PolicyData,
        /// What the policy system sends at bind besides the policy (seed
        /// 002): the account's details when the billing system may not know
        /// it, and whether to be told when the term is confirmed.
        #[serde(default, skip_serializing_if = "BindOptions::is_default")]
        bind: BindOptions,
    },
    Endorse {
        policy: String,
        effective: NaiveDate,
        changes: Vec<DataChange>,
    },
    Renew {
        policy: String,
        #[serde(default)]
        plan: Option<String>,
        #[serde(default)]
        changes: Vec<DataChange>,
    },
    Cancel {
        policy: String,
        effective: NaiveDate,
        /// Why: chooses the product's refund method (insured request by
        /// default).
        #[serde(default)]
        reason: CancellationReason,
    },
    Reinstate {
        policy: String,
        effective: NaiveDate,
    },
    Reverse {
        policy: String,
        transaction: String,
    },
    /// A flat charge added by hand, not from rating (seed 001's Add Charges):
    /// invoiced `next` or `immediate` (`scheduled` becomes `next`).
    AddFlatCharge {
        account: String,
        #[serde(default)]
        policy: Option<String>,
        charge: String,
        amount: Decimal,
        #[serde(default)]
        invoicing: Option<Invoicing>,
        #[serde(default)]
        description: String,
    },
    /// Books inverse charges for flat charges (seed 001's Reverse Charges).
    /// A reverse charge cannot itself be reversed.
    ReverseCharges {
        account: String,
        charges: Vec<String>,
    },
    /// Gives notice that the policy will not be renewed after its last term:
    /// at least the product's `non_renewal_notice_days` before its end; a
    /// renewal is then refused.
    NonRenew {
        policy: String,
        reason: String,
    },
    /// Re-rates a term with a named version of the product's plugin and
    /// books the differences as charges (DOMAIN section 9: a rate
    /// correction). Later transactions of the term use that version.
    CorrectRates {
        policy: String,
        term: u32,
        version: String,
        reason: String,
    },
    /// A rate correction of every policy of `product` in force on the
    /// tenant's today: the term in force that day, unless it is already
    /// rated by `version`.
    CorrectProductRates {
        product: String,
        version: String,
        reason: String,
    },
}

/// What a bind carries besides the policy (seed 002).
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindOptions {
    /// The account to create when the billing system does not know it (an
    /// account it knows is used as it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_account: Option<AccountDetails>,
    /// Whether the policy system is told when a term is confirmed (seed
    /// 002's `ConfirmationNotificationState`).
    #[serde(default)]
    pub confirmation_notification: ConfirmationNotification,
    /// `direct` (the default) or `agency`.
    #[serde(default)]
    pub billing_method: BillingMethod,
    /// The producer of record (required for agency bill).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
}

impl BindOptions {
    fn is_default(&self) -> bool {
        *self == BindOptions::default()
    }
}

/// An account's details sent with a bind.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountDetails {
    pub name: String,
    /// The product's currency when absent; another than the product's is
    /// refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
}

/// Whether the policy system is told that a term is confirmed (its first
/// invoice paid): a `policy_system_notified` event in the feed, which
/// webhooks deliver.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmationNotification {
    /// Not told (it reads the feed or the policy when it wants).
    #[default]
    None,
    /// Told when payment sufficient to confirm the term is received.
    NotifyUponSufficientPayment,
}

/// Characters of a rate correction's reason, at most.
pub const CORRECTION_REASON_CHARS_MAX: usize = 500;

/// Who sent a command, when, and with which idempotency key.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandContext {
    pub actor: String,
    pub issued_at: DateTime<Utc>,
    pub idempotency_key: Option<String>,
    /// Whether charges carry their arithmetic in words. Only a quote, whose
    /// events are thrown away, skips it; never stored.
    #[serde(skip)]
    #[schema(ignore)]
    pub arithmetic: Arithmetic,
    /// The slices of each policy still waiting to be invoiced (positions in
    /// its slices), as billing knows them. Without it a slice counts as
    /// pending until its invoice date. Never stored.
    #[serde(skip)]
    #[schema(ignore)]
    pub pending_slices: Option<PendingSlices>,
    /// A test tenant's today (its own clock): the day transactions arrive
    /// on. `None` for a normal tenant: the local date of `issued_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub today: Option<NaiveDate>,
}

/// Per policy, the positions of its slices not yet invoiced.
pub type PendingSlices = Arc<BTreeMap<String, std::collections::BTreeSet<u32>>>;

/// Finds the rater a product's rating chain names (see
/// [`crate::rating::chain`]).
pub use crate::rating::RaterResolver;

/// Accounts, products and policies of one tenant.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyBook {
    pub products: BTreeMap<String, ProductConfig>,
    pub accounts: BTreeMap<String, Account>,
    /// Boxed: a map node holds eleven entries, most of them empty slots,
    /// and a policy's state is hundreds of bytes wide.
    pub policies: BTreeMap<String, Box<PolicyState>>,
    /// Charges added by command (not by a transaction), by account.
    pub account_charges: Vec<Charge>,
    /// How many times each product was deployed: its current revision.
    #[serde(default)]
    pub product_revisions: BTreeMap<String, u32>,
}

impl PolicyBook {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn policy(&self, locator: &str) -> Result<&PolicyState, PolicyError> {
        self.policies
            .get(locator)
            .map(Box::as_ref)
            .ok_or_else(|| PolicyError::UnknownPolicy(locator.to_string()))
    }

    /// Whether `version` of plugin `plugin` (as the tenant names it) rates
    /// a term of some policy: it is then immutable.
    pub fn version_has_rated(&self, plugin: &str, version: &str) -> bool {
        self.policies.values().any(|policy| {
            let named = match &policy.header.product.rating {
                RatingChain::Plugin { plugin } | RatingChain::PluginWithFallback { plugin, .. } => {
                    plugin
                }
                _ => return false,
            };
            let bare = named.rsplit_once('/').map_or(named.as_str(), |(_, n)| n);
            let bare = bare.split_once('@').map_or(bare, |(n, _)| n);
            bare == plugin
                && policy
                    .terms
                    .iter()
                    .any(|t| t.rate_version.as_deref() == Some(version))
        })
    }

    /// Decides a command, then applies its events.
    pub fn execute(
        &mut self,
        command: &PolicyCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let events = self.decide(command, context, raters)?;
        events.iter().for_each(|event| self.apply(event));
        Ok(events)
    }

    /// Runs commands on a copy of the book and returns the copy and the
    /// events: the full effect of the commands, with nothing kept. The same
    /// code path as [`PolicyBook::execute`], so a preview equals a commit.
    pub fn preview(
        &self,
        commands: &[PolicyCommand],
        context: &CommandContext,
        raters: &dyn RaterResolver,
    ) -> Result<(PolicyBook, Vec<BookEvent>), PolicyError> {
        let mut copy = self.clone();
        let mut events = Vec::new();
        for command in commands {
            events.extend(copy.execute(command, context, raters)?);
        }
        Ok((copy, events))
    }

    /// Applies an event. Events were validated when decided; applying never fails.
    pub fn apply(&mut self, event: &BookEvent) {
        match event {
            BookEvent::ProductDeployed { product } => {
                *self
                    .product_revisions
                    .entry(product.name.clone())
                    .or_default() += 1;
                self.products.insert(product.name.clone(), product.clone());
            }
            BookEvent::AccountCreated { account } => {
                self.accounts
                    .insert(account.locator.clone(), account.clone());
            }
            BookEvent::FlatChargeAdded { charge } => match charge
                .policy
                .as_ref()
                .and_then(|p| self.policies.get_mut(p))
            {
                Some(policy) => policy.charges.push(charge.clone()),
                None => self.account_charges.push(charge.clone()),
            },
            BookEvent::PlanChanged {
                policy,
                term,
                plan,
                superseded,
                withdrawn,
                slices,
                ..
            } => {
                if let Some(policy) = self.policies.get_mut(policy) {
                    if let Some(term) = policy.terms.iter_mut().find(|t| t.number == *term) {
                        term.plan = plan.clone();
                    }
                    // The superseded installments and the slices withdrawing
                    // them sum to zero, frame by frame, and are never
                    // invoiced: netted, so that later transactions do not
                    // take their frames for invoiced ones.
                    let base = policy.slices.len() as u32;
                    policy.netted.extend(superseded.iter().copied());
                    policy
                        .netted
                        .extend((0..withdrawn.len() as u32).map(|offset| base + offset));
                    policy.slices.extend(withdrawn.iter().cloned());
                    policy.slices.extend(slices.iter().cloned());
                }
            }
            BookEvent::NonRenewed { policy, notice } => {
                if let Some(policy) = self.policies.get_mut(policy) {
                    policy.non_renewal = Some(notice.clone());
                }
            }
            // A message to the policy system: it changes nothing here.
            BookEvent::PolicySystemNotified { .. } => {}
            BookEvent::TransactionIssued { record } => {
                if let Some(header) = &record.opened {
                    self.policies.insert(
                        header.locator.clone(),
                        Box::new(PolicyState {
                            header: header.clone(),
                            terms: Vec::new(),
                            transactions: Vec::new(),
                            priced: crate::domain::CompactMap::new(),
                            charges: Vec::new(),
                            slices: Vec::new(),
                            netted: Default::default(),
                            non_renewal: None,
                        }),
                    );
                }
                let policy = self
                    .policies
                    .get_mut(&record.policy)
                    .expect("a decided transaction has its policy");
                if let Some(term) = &record.term {
                    policy.terms.push(term.clone());
                }
                if let TransactionChange::Reversal { target } = &record.transaction.change
                    && let Some(reversed) = policy
                        .transactions
                        .iter_mut()
                        .find(|t| &t.locator == target)
                {
                    reversed.reversed_by = Some(record.transaction.locator.clone());
                }
                if let TransactionChange::RateCorrection { version, .. } =
                    &record.transaction.change
                    && let Some(term) = policy
                        .terms
                        .iter_mut()
                        .find(|t| t.number == record.transaction.term)
                {
                    term.rate_version = Some(version.clone());
                }
                extend_compact(
                    &mut policy.transactions,
                    std::slice::from_ref(&record.transaction),
                );
                for timeline in &record.priced {
                    policy
                        .priced
                        .insert(timeline.term, timeline.segments.clone());
                }
                extend_compact(&mut policy.charges, &record.charges);
                extend_compact(&mut policy.slices, &record.slices);
                policy.netted.extend(record.netted.iter().copied());
            }
        }
    }
}

/// Items a policy's vectors hold at exact capacity; past it they grow as
/// vectors do (doubling), so a policy of thousands of transactions is not
/// copied on every one.
pub const COMPACT_ITEMS_MAX: usize = 16;

/// Appends `items` to `vec` without the spare capacity a growing vector
/// keeps while it stays small: most policies hold one transaction and one
/// charge, and a vector's first growth makes room for four (an empty 408-byte
/// charge slot is wasted memory, times every policy).
fn extend_compact<T: Clone>(vec: &mut Vec<T>, items: &[T]) {
    if vec.len() + items.len() <= COMPACT_ITEMS_MAX {
        vec.reserve_exact(items.len());
    }
    vec.extend_from_slice(items);
}

/// Whether a charge stands: no standing charge inverts it. A holdback given
/// back on reinstatement (inverted) and kept again when that reinstatement is
/// reversed (the inverse inverted) stands.
pub fn is_standing(charges: &[Charge], locator: &str) -> bool {
    fn standing(charges: &[Charge], locator: &str, depth: u32) -> bool {
        assert!(depth < 1_000, "inversion chains are short");
        !charges
            .iter()
            .filter(|c| c.reverses.as_deref() == Some(locator))
            .any(|inverse| standing(charges, &inverse.locator, depth + 1))
    }
    standing(charges, locator, 0)
}

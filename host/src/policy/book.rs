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
    pub product: ProductConfig,
    pub time_zone: String,
    /// The revision of the product (1 for its first deployment) the policy
    /// was issued under; absent on policies issued before revisions were
    /// counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_revision: Option<u32>,
    /// Whether the policy system is told when a term is confirmed.
    #[serde(default, skip_serializing_if = "is_not_notified")]
    pub confirmation_notification: ConfirmationNotification,
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
    /// The current priced timeline, per term.
    pub priced: BTreeMap<u32, Vec<PricedSegment>>,
    pub charges: Vec<Charge>,
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
        withdrawn: Vec<InstallmentSlice>,
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
    pub policies: BTreeMap<String, PolicyState>,
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
                        PolicyState {
                            header: header.clone(),
                            terms: Vec::new(),
                            transactions: Vec::new(),
                            priced: BTreeMap::new(),
                            charges: Vec::new(),
                            slices: Vec::new(),
                            netted: Default::default(),
                            non_renewal: None,
                        },
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
                policy.transactions.push(record.transaction.clone());
                for timeline in &record.priced {
                    policy
                        .priced
                        .insert(timeline.term, timeline.segments.clone());
                }
                policy.charges.extend(record.charges.iter().cloned());
                policy.slices.extend(record.slices.iter().cloned());
                policy.netted.extend(record.netted.iter().copied());
            }
        }
    }

    /// Checks a command against the state and computes its events, every
    /// installment on its plan's dates (see [`PolicyBook::decide_dated`]).
    pub fn decide(
        &self,
        command: &PolicyCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        self.decide_dated(command, context, raters, &KeepDates)
    }

    /// Checks a command against the state and computes its events; the
    /// installments of a product with an invoicing plugin are dated by it
    /// through `dater` (its `schedule-dates`), here and never when applying.
    pub fn decide_dated(
        &self,
        command: &PolicyCommand,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        dater: &dyn InstallmentDater,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        match command {
            PolicyCommand::DeployProduct { product } => {
                product.validate()?;
                if let Some(name) = raters.missing_rater(&product.rating) {
                    return Err(PolicyError::UnknownRater(name));
                }
                Ok(vec![BookEvent::ProductDeployed {
                    product: product.clone(),
                }])
            }
            PolicyCommand::CreateAccount {
                locator,
                name,
                currency,
            } => {
                check_locator(locator)?;
                if self.accounts.contains_key(locator) {
                    return Err(PolicyError::DuplicateAccount(locator.clone()));
                }
                Ok(vec![BookEvent::AccountCreated {
                    account: Account {
                        locator: locator.clone(),
                        name: name.clone(),
                        currency: *currency,
                    },
                }])
            }
            PolicyCommand::IssuePolicy {
                locator,
                account,
                product,
                start,
                plan,
                time_zone,
                data,
                bind,
            } => self.issue_policy(
                locator,
                account,
                product,
                *start,
                plan.as_deref(),
                time_zone,
                data,
                bind,
                context,
                raters,
                dater,
            ),
            PolicyCommand::Endorse {
                policy,
                effective,
                changes,
            } => {
                let state = self.policy(policy)?;
                let term = state.term_number_at(*effective)?;
                if is_cancelled_at(&state.transactions, term, *effective) {
                    return Err(PolicyError::NotInForce {
                        policy: policy.clone(),
                        date: *effective,
                    });
                }
                let mut data = state.data_at(*effective);
                for change in changes {
                    data.check(change)?;
                    data.apply(change);
                }
                let change = TransactionChange::Endorsement {
                    changes: changes.clone(),
                };
                let transaction = new_transaction(
                    state,
                    TransactionKind::Endorsement,
                    *effective,
                    term,
                    change,
                    context,
                );
                Ok(vec![self.transact(
                    state,
                    transaction,
                    None,
                    context,
                    raters,
                    dater,
                )?])
            }
            PolicyCommand::Renew {
                policy,
                plan,
                changes,
            } => {
                let state = self.policy(policy)?;
                let last = state
                    .terms
                    .last()
                    .ok_or_else(|| PolicyError::Internal("policy without term".into()))?;
                if state.terms.len() >= TERMS_PER_POLICY_MAX {
                    return Err(PolicyError::TooManyTerms(TERMS_PER_POLICY_MAX));
                }
                let last_day = last.period.end().pred_opt().expect("a term has a last day");
                if is_cancelled_at(&state.transactions, last.number, last_day) {
                    return Err(PolicyError::NotInForce {
                        policy: policy.clone(),
                        date: last_day,
                    });
                }
                if let Some(notice) = &state.non_renewal {
                    return Err(PolicyError::NotRenewed {
                        policy: policy.clone(),
                        ends_on: notice.ends_on,
                    });
                }
                let plan = plan.clone().unwrap_or_else(|| last.plan.clone());
                let product = &state.header.product;
                if !product.plans.contains_key(&plan) {
                    return Err(PolicyError::UnknownPlan {
                        product: product.name.clone(),
                        plan,
                    });
                }
                let start = last.period.end();
                let term_period = term_period(start, product.term_months)?;
                let mut data = state.data_at(start);
                for change in changes {
                    data.check(change)?;
                    data.apply(change);
                }
                let (rate_version, rating_date) = rate_version_of(
                    product,
                    term_period,
                    RatedFor::Renewal,
                    &state.header.time_zone,
                    context,
                    raters,
                )?;
                let term = Term {
                    number: last.number + 1,
                    period: term_period,
                    plan: plan.clone(),
                    rate_version,
                    rating_date: Some(rating_date),
                    bound_on: Some(today_of(context, &state.header.time_zone)?),
                };
                let change = TransactionChange::Renewal {
                    term: term_period,
                    plan,
                    changes: changes.clone(),
                };
                let transaction = new_transaction(
                    state,
                    TransactionKind::Renewal,
                    start,
                    term.number,
                    change,
                    context,
                );
                Ok(vec![self.transact(
                    state,
                    transaction,
                    Some(term),
                    context,
                    raters,
                    dater,
                )?])
            }
            PolicyCommand::NonRenew { policy, reason } => {
                let state = self.policy(policy)?;
                let reason = reason.trim();
                if reason.is_empty() || reason.chars().count() > NON_RENEWAL_REASON_CHARS_MAX {
                    return Err(PolicyError::BadNonRenewalReason(
                        NON_RENEWAL_REASON_CHARS_MAX,
                    ));
                }
                let last = state
                    .terms
                    .last()
                    .ok_or_else(|| PolicyError::Internal("policy without term".into()))?;
                let ends_on = last.period.end();
                if let Some(notice) = &state.non_renewal {
                    return Err(PolicyError::NotRenewed {
                        policy: policy.clone(),
                        ends_on: notice.ends_on,
                    });
                }
                let last_day = ends_on.pred_opt().expect("a term has a last day");
                if is_cancelled_at(&state.transactions, last.number, last_day) {
                    return Err(PolicyError::NotInForce {
                        policy: policy.clone(),
                        date: last_day,
                    });
                }
                let zone = parse_time_zone(&state.header.time_zone)
                    .map_err(|e| PolicyError::BadTimeZone(e.to_string()))?;
                let today = context
                    .today
                    .unwrap_or_else(|| local_date(context.issued_at, zone));
                let notice_days = state.header.product.non_renewal_notice_days;
                if today + chrono::Duration::days(i64::from(notice_days)) > ends_on {
                    return Err(PolicyError::NoticeTooLate {
                        policy: policy.clone(),
                        notice_days,
                        ends_on,
                        today,
                    });
                }
                Ok(vec![BookEvent::NonRenewed {
                    policy: policy.clone(),
                    notice: NonRenewal {
                        term: last.number,
                        ends_on,
                        reason: reason.to_string(),
                        notice_on: today,
                        actor: context.actor.clone(),
                        issued_at: context.issued_at,
                    },
                }])
            }
            PolicyCommand::Cancel {
                policy,
                effective,
                reason,
            } => {
                let state = self.policy(policy)?;
                let term = state.term_number_at(*effective)?;
                if is_cancelled_at(&state.transactions, term, *effective) {
                    return Err(PolicyError::NotInForce {
                        policy: policy.clone(),
                        date: *effective,
                    });
                }
                let transaction = new_transaction(
                    state,
                    TransactionKind::Cancellation,
                    *effective,
                    term,
                    TransactionChange::Cancellation { reason: *reason },
                    context,
                );
                Ok(vec![self.transact(
                    state,
                    transaction,
                    None,
                    context,
                    raters,
                    dater,
                )?])
            }
            PolicyCommand::Reinstate { policy, effective } => {
                let state = self.policy(policy)?;
                let term = state.term_number_at(*effective)?;
                if !is_cancelled_at(&state.transactions, term, *effective) {
                    return Err(PolicyError::NotCancelled {
                        policy: policy.clone(),
                        date: *effective,
                    });
                }
                let transaction = new_transaction(
                    state,
                    TransactionKind::Reinstatement,
                    *effective,
                    term,
                    TransactionChange::Reinstatement,
                    context,
                );
                Ok(vec![self.transact(
                    state,
                    transaction,
                    None,
                    context,
                    raters,
                    dater,
                )?])
            }
            PolicyCommand::Reverse {
                policy,
                transaction,
            } => {
                let state = self.policy(policy)?;
                let target = state
                    .transaction(transaction)
                    .ok_or_else(|| PolicyError::UnknownTransaction(transaction.clone()))?;
                if target.kind == TransactionKind::Reversal {
                    return Err(PolicyError::ReversalOfReversal(transaction.clone()));
                }
                if target.kind == TransactionKind::RateCorrection {
                    return Err(PolicyError::CorrectionNotReversible(transaction.clone()));
                }
                if target.reversed_by.is_some() {
                    return Err(PolicyError::AlreadyReversed(transaction.clone()));
                }
                let change = TransactionChange::Reversal {
                    target: transaction.clone(),
                };
                let reversal = new_transaction(
                    state,
                    TransactionKind::Reversal,
                    target.effective,
                    target.term,
                    change,
                    context,
                );
                Ok(vec![
                    self.transact(state, reversal, None, context, raters, dater)?,
                ])
            }
            PolicyCommand::AddFlatCharge {
                account,
                policy,
                charge,
                amount,
                invoicing,
                description,
            } => self.add_flat_charge(
                account,
                policy.as_deref(),
                charge,
                *amount,
                *invoicing,
                description,
                context,
            ),
            PolicyCommand::ReverseCharges { account, charges } => {
                self.reverse_charges(account, charges, context)
            }
            PolicyCommand::CorrectRates {
                policy,
                term,
                version,
                reason,
            } => self.correct_rates(policy, *term, version, reason, context, raters, dater),
            PolicyCommand::CorrectProductRates {
                product,
                version,
                reason,
            } => {
                let deployed = self
                    .products
                    .get(product)
                    .ok_or_else(|| PolicyError::UnknownProduct(product.clone()))?;
                // Refused alike with or without policies to correct.
                let plugin = match crate::rating::chain::pinned(&deployed.rating, Some(version)) {
                    RatingChain::Plugin { plugin }
                    | RatingChain::PluginWithFallback { plugin, .. }
                        if plugin.contains('@') && !plugin_of(&deployed.rating).contains('@') =>
                    {
                        plugin
                    }
                    _ => return Err(PolicyError::RateCorrectionUnsupported(product.clone())),
                };
                raters
                    .resolve(&RatingChain::Plugin {
                        plugin: plugin.clone(),
                    })
                    .map_err(|error| PolicyError::UnknownRateVersion {
                        plugin: plugin.split('@').next().unwrap_or_default().to_string(),
                        version: version.clone(),
                        detail: error.to_string(),
                    })?;
                let mut events = Vec::new();
                for state in self.policies.values() {
                    if &state.header.product.name != product {
                        continue;
                    }
                    let zone = parse_time_zone(&state.header.time_zone)
                        .map_err(|e| PolicyError::BadTimeZone(e.to_string()))?;
                    let today = context
                        .today
                        .unwrap_or_else(|| local_date(context.issued_at, zone));
                    let Some(term) = state.term_of(today) else {
                        continue;
                    };
                    if is_cancelled_at(&state.transactions, term.number, today)
                        || term.rate_version.as_deref() == Some(version.as_str())
                    {
                        continue;
                    }
                    events.extend(self.correct_rates(
                        state.locator(),
                        term.number,
                        version,
                        reason,
                        context,
                        raters,
                        dater,
                    )?);
                }
                Ok(events)
            }
        }
    }

    /// Re-rates term `term` of `policy` with `version` of its product's
    /// plugin. Worked example ([E9]): a term rated by `rater@1` (vehicle
    /// 1200.00, trailer 600.00 a year, the trailer from mid-term) corrected
    /// to `rater@2` (1800.00 and 900.00) books +600.00 for the vehicle and
    /// +150.00 for the trailer (300.00 x 6/12).
    #[allow(clippy::too_many_arguments)]
    fn correct_rates(
        &self,
        policy: &str,
        term: u32,
        version: &str,
        reason: &str,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        dater: &dyn InstallmentDater,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let state = self.policy(policy)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > CORRECTION_REASON_CHARS_MAX {
            return Err(PolicyError::BadCorrectionReason(
                CORRECTION_REASON_CHARS_MAX,
            ));
        }
        let found = state
            .terms
            .iter()
            .find(|t| t.number == term)
            .ok_or_else(|| PolicyError::UnknownTerm {
                policy: policy.to_string(),
                term,
            })?;
        let product = &state.header.product;
        let chain = crate::rating::chain::pinned(&product.rating, Some(version));
        let plugin = match &chain {
            RatingChain::Plugin { plugin } | RatingChain::PluginWithFallback { plugin, .. }
                if chain != product.rating =>
            {
                plugin.clone()
            }
            _ => return Err(PolicyError::RateCorrectionUnsupported(product.name.clone())),
        };
        if found.rate_version.as_deref() == Some(version) {
            return Err(PolicyError::RateVersionUnchanged {
                term,
                version: version.to_string(),
            });
        }
        let plugin_only = RatingChain::Plugin {
            plugin: plugin.clone(),
        };
        raters
            .resolve(&plugin_only)
            .map_err(|error| PolicyError::UnknownRateVersion {
                plugin: plugin.split('@').next().unwrap_or_default().to_string(),
                version: version.to_string(),
                detail: error.to_string(),
            })?;
        let change = TransactionChange::RateCorrection {
            version: version.to_string(),
            previous_version: found.rate_version.clone(),
            reason: reason.to_string(),
        };
        let transaction = new_transaction(
            state,
            TransactionKind::RateCorrection,
            found.period.start(),
            term,
            change,
            context,
        );
        Ok(vec![self.transact(
            state,
            transaction,
            None,
            context,
            raters,
            dater,
        )?])
    }

    #[allow(clippy::too_many_arguments)]
    fn issue_policy(
        &self,
        locator: &str,
        account: &str,
        product: &str,
        start: NaiveDate,
        plan: Option<&str>,
        time_zone: &str,
        data: &PolicyData,
        bind: &BindOptions,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        dater: &dyn InstallmentDater,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        check_locator(locator)?;
        if self.policies.contains_key(locator) {
            return Err(PolicyError::DuplicatePolicy(locator.to_string()));
        }
        let product = self
            .products
            .get(product)
            .ok_or_else(|| PolicyError::UnknownProduct(product.to_string()))?;
        // The account: known, or created from the bind's details (seed
        // 002: "if the account is unknown, create account").
        let (account_currency, created) = match (self.accounts.get(account), &bind.new_account) {
            (Some(known), details) => {
                if let Some(wanted) = details.as_ref().and_then(|d| d.currency)
                    && wanted != known.currency
                {
                    return Err(PolicyError::CurrencyMismatch {
                        what: format!("account {account}"),
                        currency: known.currency,
                        product: product.name.clone(),
                        product_currency: wanted,
                    });
                }
                (known.currency, None)
            }
            (None, Some(details)) => {
                check_locator(account)?;
                let name = details.name.trim();
                if name.is_empty() || name.chars().count() > ACCOUNT_NAME_CHARS_MAX {
                    return Err(PolicyError::BadAccountName(ACCOUNT_NAME_CHARS_MAX));
                }
                let currency = details.currency.unwrap_or(product.currency);
                let created = Account {
                    locator: account.to_string(),
                    name: name.to_string(),
                    currency,
                };
                (currency, Some(created))
            }
            (None, None) => return Err(PolicyError::UnknownAccount(account.to_string())),
        };
        if account_currency != product.currency {
            return Err(PolicyError::CurrencyMismatch {
                what: format!("account {account}"),
                currency: account_currency,
                product: product.name.clone(),
                product_currency: product.currency,
            });
        }
        parse_time_zone(time_zone).map_err(|e| PolicyError::BadTimeZone(e.to_string()))?;
        data.validate()?;
        let plan = plan.unwrap_or(&product.default_plan).to_string();
        if !product.plans.contains_key(&plan) {
            return Err(PolicyError::UnknownPlan {
                product: product.name.clone(),
                plan,
            });
        }
        let header = PolicyHeader {
            locator: locator.to_string(),
            account: account.to_string(),
            product: product.clone(),
            time_zone: time_zone.to_string(),
            product_revision: self.product_revisions.get(&product.name).copied(),
            confirmation_notification: bind.confirmation_notification,
        };
        let period = term_period(start, product.term_months)?;
        let (rate_version, rating_date) = rate_version_of(
            product,
            period,
            RatedFor::NewBusiness,
            time_zone,
            context,
            raters,
        )?;
        let term = Term {
            number: 1,
            period,
            plan: plan.clone(),
            rate_version,
            rating_date: Some(rating_date),
            bound_on: Some(today_of(context, time_zone)?),
        };
        let empty = PolicyState {
            header: header.clone(),
            terms: Vec::new(),
            transactions: Vec::new(),
            priced: BTreeMap::new(),
            charges: Vec::new(),
            slices: Vec::new(),
            netted: Default::default(),
            non_renewal: None,
        };
        let change = TransactionChange::NewBusiness {
            term: term.period,
            plan,
            data: data.clone(),
        };
        let transaction = new_transaction(
            &empty,
            TransactionKind::NewBusiness,
            start,
            1,
            change,
            context,
        );
        let mut event = self.transact(&empty, transaction, Some(term), context, raters, dater)?;
        if let BookEvent::TransactionIssued { record } = &mut event {
            record.opened = Some(header);
        }
        Ok(created
            .map(|account| BookEvent::AccountCreated { account })
            .into_iter()
            .chain([event])
            .collect())
    }

    #[allow(clippy::too_many_arguments)]
    fn add_flat_charge(
        &self,
        account: &str,
        policy: Option<&str>,
        charge: &str,
        amount: Decimal,
        invoicing: Option<Invoicing>,
        description: &str,
        context: &CommandContext,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        let account_state = self
            .accounts
            .get(account)
            .ok_or_else(|| PolicyError::UnknownAccount(account.to_string()))?;
        let (product, policy_state) = match policy {
            Some(locator) => {
                let state = self.policy(locator)?;
                if state.header.account != account {
                    return Err(PolicyError::PolicyNotOnAccount {
                        policy: locator.to_string(),
                        account: account.to_string(),
                    });
                }
                (state.header.product.clone(), Some(state))
            }
            None => {
                let product = self
                    .products
                    .values()
                    .find(|p| {
                        p.charges
                            .get(charge)
                            .is_some_and(|d| d.handling == Handling::Flat)
                    })
                    .ok_or_else(|| PolicyError::UndefinedCharge(charge.to_string()))?;
                (product.clone(), None)
            }
        };
        let def = product
            .charge(charge)
            .filter(|d| d.handling == Handling::Flat)
            .ok_or_else(|| PolicyError::UndefinedCharge(charge.to_string()))?;
        let money = Money::new(amount, account_state.currency);
        if !money.is_in_minor_units() || amount.is_zero() {
            return Err(PolicyError::BadAmount {
                amount,
                currency: account_state.currency,
            });
        }
        // Seed 001: flat charges added by command are `next` or `immediate`;
        // a `scheduled` one becomes `next`.
        let invoicing = match invoicing.unwrap_or(def.invoicing) {
            Invoicing::Scheduled => Invoicing::Next,
            other => other,
        };
        let count = policy_state.map_or(self.account_charges.len(), |p| p.charges.len());
        let owner = policy.unwrap_or(account);
        let locator = format!("{owner}-F{}", count + 1);
        Ok(vec![BookEvent::FlatChargeAdded {
            charge: Charge {
                locator: locator.clone(),
                policy: policy.map(str::to_string),
                account: account.to_string(),
                transaction: format!(
                    "command:{}",
                    context.idempotency_key.clone().unwrap_or(locator)
                ),
                term: None,
                item: None,
                charge: charge.to_string(),
                category: def.category,
                handling: Handling::Flat,
                invoicing,
                recipient: None,
                amount: money,
                technical_premium: None,
                period: None,
                reverses: None,
                description: if description.is_empty() {
                    charge.to_string()
                } else {
                    description.to_string()
                },
                explanation: ChargeExplanation {
                    arithmetic: vec![format!(
                        "added by {} at {}",
                        context.actor, context.issued_at
                    )],
                    ..ChargeExplanation::default()
                },
            },
        }])
    }

    fn reverse_charges(
        &self,
        account: &str,
        locators: &[String],
        context: &CommandContext,
    ) -> Result<Vec<BookEvent>, PolicyError> {
        if !self.accounts.contains_key(account) {
            return Err(PolicyError::UnknownAccount(account.to_string()));
        }
        if locators.is_empty() || locators.len() > 1_000 {
            return Err(PolicyError::BadChargeList(1_000));
        }
        let mut events = Vec::with_capacity(locators.len());
        let mut seen = std::collections::BTreeSet::new();
        for locator in locators {
            if !seen.insert(locator) {
                return Err(PolicyError::ChargeNamedTwice(locator.to_string()));
            }
            let (pool, owner_count, owner): (&[Charge], usize, String) =
                match self.policies.values().find(|p| {
                    p.header.account == account && p.charges.iter().any(|c| &c.locator == locator)
                }) {
                    Some(policy) => (
                        &policy.charges,
                        policy.charges.len(),
                        policy.header.locator.clone(),
                    ),
                    None => (
                        &self.account_charges,
                        self.account_charges.len(),
                        account.to_string(),
                    ),
                };
            let charge = pool
                .iter()
                .find(|c| &c.locator == locator && c.account == account)
                .ok_or_else(|| PolicyError::UnknownCharge {
                    charge: locator.to_string(),
                    account: account.to_string(),
                })?;
            if charge.handling != Handling::Flat {
                return Err(PolicyError::NotAFlatCharge(locator.to_string()));
            }
            if charge.reverses.is_some() {
                return Err(PolicyError::ReverseOfReverseCharge(locator.to_string()));
            }
            if !is_standing(pool, locator) {
                return Err(PolicyError::ChargeAlreadyReversed(locator.to_string()));
            }
            let new_locator = format!("{owner}-F{}", owner_count + 1 + events.len());
            let transaction = format!(
                "command:{}",
                context
                    .idempotency_key
                    .clone()
                    .unwrap_or(new_locator.clone())
            );
            let mut inverse = charge.inverse(new_locator, &transaction, "reverse charge");
            // Reverse charges are invoiced like flat charges added by command.
            if inverse.invoicing == Invoicing::Scheduled {
                inverse.invoicing = Invoicing::Next;
            }
            events.push(BookEvent::FlatChargeAdded { charge: inverse });
        }
        Ok(events)
    }

    /// Prices the timeline with `transaction` added and books the
    /// difference, the flat, retention and reverse charges, and the
    /// installment slices.
    ///
    /// A rating result belongs to a characteristic (DOMAIN section 9): only
    /// items whose input no recorded result of the term covers are sent to
    /// the rater (see [`price_timeline`] and docs/rating.md); the rater is
    /// resolved only then. Worked example: 1200.00 yearly on [2026-01-01,
    /// 2027-01-01) asked once by new business; an endorsement raising it to
    /// 1800.00 from 07-01 asks once about [07-01, 2027-01-01) (+300.00); a
    /// cancellation from 10-01, its reinstatement and the endorsement's
    /// reversal ask nothing (−450.00, +450.00, −300.00).
    fn transact(
        &self,
        policy: &PolicyState,
        transaction: Transaction,
        opened_term: Option<Term>,
        context: &CommandContext,
        raters: &dyn RaterResolver,
        dater: &dyn InstallmentDater,
    ) -> Result<BookEvent, PolicyError> {
        if policy.transactions.len() >= TRANSACTIONS_PER_POLICY_MAX {
            return Err(PolicyError::TooManyTransactions(
                TRANSACTIONS_PER_POLICY_MAX,
            ));
        }
        let header = &policy.header;
        let product = &header.product;
        // Resolved only when something needs pricing (a cancellation, a
        // lapse or a reversal usually needs none), once per rate version:
        // each term rates with the version recorded on it.
        let mut resolved: Vec<(Option<String>, Arc<dyn Rater>)> = Vec::new();
        let mut transactions = policy.transactions.clone();
        if let TransactionChange::Reversal { target } = &transaction.change
            && let Some(t) = transactions.iter_mut().find(|t| &t.locator == target)
        {
            t.reversed_by = Some(transaction.locator.clone());
        }
        transactions.push(transaction.clone());
        let mut terms = policy.terms.clone();
        terms.extend(opened_term.iter().cloned());
        // A rate correction re-rates its term with its version, asking the
        // rater about every item again (no recorded result is reused).
        let corrected = match &transaction.change {
            TransactionChange::RateCorrection { version, .. } => {
                let term = terms
                    .iter_mut()
                    .find(|t| t.number == transaction.term)
                    .ok_or_else(|| PolicyError::Internal("a correction of no term".into()))?;
                term.rate_version = Some(version.clone());
                Some(transaction.term)
            }
            _ => None,
        };

        let currency_code = product.currency.code().to_string();
        let mut priced_after = BTreeMap::new();
        let mut drafts = Vec::new();
        // Data and coverage change from the transaction's effective date on
        // (a reversal's: its target's), so a term ending by then keeps its
        // priced timeline: it is not priced again (an endorsement of the
        // last term of a ten-term policy prices one term).
        let changes_from = match &transaction.change {
            TransactionChange::Reversal { target } => policy
                .transaction(target)
                .map_or(transaction.effective, |t| t.effective),
            _ => transaction.effective,
        };
        for term in &terms {
            if term.period.end() <= changes_from
                && term.number != transaction.term
                && corrected != Some(term.number)
            {
                continue;
            }
            let version = term.rate_version.clone();
            let mut rater = || -> Result<Arc<dyn Rater>, crate::rating::RatingError> {
                if let Some((_, rater)) = resolved.iter().find(|(v, _)| *v == version) {
                    return Ok(rater.clone());
                }
                let chain = crate::rating::chain::pinned(&product.rating, version.as_deref());
                let rater = raters.resolve(&chain)?;
                resolved.push((version.clone(), rater.clone()));
                Ok(rater)
            };
            let context_for_term = PricingContext {
                policy_locator: &header.locator,
                product_name: &product.name,
                currency: &currency_code,
                time_zone: &header.time_zone,
                term: term.period,
            };
            let after_segments = segments(&transactions, term.number, term.period);
            let before = policy.priced.get(&term.number).cloned().unwrap_or_default();
            let previous_plan = policy.terms.last().map(|t| t.plan.as_str());
            // Built once per term, only for a call to a rater that reads it.
            let record = std::cell::OnceCell::new();
            let locators = |segment: &Segment<'_>, with_record: bool| crate::rating::RatingCall {
                locators: call_locators(&transactions, &transaction, segment, previous_plan),
                record: if with_record {
                    record
                        .get_or_init(|| {
                            policy_record(policy, &transactions, &transaction, &terms, term)
                        })
                        .clone()
                } else {
                    crate::rating::PolicyRecord::default()
                },
            };
            let reusable: &[PricedSegment] = if corrected == Some(term.number) {
                &[]
            } else {
                &before
            };
            let (after, _calls) = price_timeline(
                &mut rater,
                &context_for_term,
                &after_segments,
                reusable,
                &locators,
            )?;
            if after == before {
                continue;
            }
            let term_drafts = timeline_difference(
                &before,
                &after,
                product,
                product.duration_basis,
                product.rounding_mode,
                context.arithmetic,
            )
            .map_err(PolicyError::Internal)?;
            drafts.extend(term_drafts.into_iter().map(|d| (term.number, d)));
            priced_after.insert(term.number, after);
        }

        let mut charges: Vec<Charge> = Vec::new();
        let mut next_locator = {
            let prefix = transaction.locator.clone();
            let mut n = 0;
            move || {
                n += 1;
                format!("{prefix}-C{n}")
            }
        };
        for (term, draft) in drafts {
            let def = product
                .charge(&draft.charge)
                .ok_or_else(|| PolicyError::UndefinedCharge(draft.charge.clone()))?;
            if def.handling != Handling::Normal {
                return Err(PolicyError::UndefinedCharge(draft.charge.clone()));
            }
            let description = match &draft.recipient {
                Some(recipient) => format!("{} to {recipient} for {}", draft.charge, draft.period),
                None => format!("{} for {}", draft.charge, draft.period),
            };
            charges.push(Charge {
                locator: next_locator(),
                policy: Some(header.locator.clone()),
                account: header.account.clone(),
                transaction: transaction.locator.clone(),
                term: Some(term),
                item: draft.item,
                charge: draft.charge,
                category: def.category,
                handling: Handling::Normal,
                invoicing: def.invoicing,
                recipient: draft.recipient,
                amount: Money::new(draft.amount, product.currency),
                technical_premium: draft.technical_premium,
                period: Some(draft.period),
                reverses: None,
                description,
                explanation: ChargeExplanation {
                    rater: draft.rater,
                    rating_segments: draft.rating_segments,
                    duration_basis: Some(product.duration_basis),
                    arithmetic: draft.arithmetic,
                },
            });
        }

        // Flat charges come only from the segment the transaction itself
        // starts: re-applied transactions keep their original flat charges.
        for priced in priced_after
            .values()
            .flatten()
            .filter(|s| s.started_by == transaction.locator)
        {
            for flat in &priced.response.flat_charges {
                let def = product
                    .charge(&flat.charge)
                    .filter(|d| d.handling == Handling::Flat)
                    .ok_or_else(|| PolicyError::UndefinedCharge(flat.charge.clone()))?;
                charges.push(Charge {
                    locator: next_locator(),
                    policy: Some(header.locator.clone()),
                    account: header.account.clone(),
                    transaction: transaction.locator.clone(),
                    term: Some(transaction.term),
                    item: flat.item.clone(),
                    charge: flat.charge.clone(),
                    category: def.category,
                    handling: Handling::Flat,
                    invoicing: def.invoicing,
                    recipient: None,
                    amount: Money::new(flat.amount, product.currency)
                        .rounded(product.rounding_mode),
                    technical_premium: None,
                    period: None,
                    reverses: None,
                    description: if flat.description.is_empty() {
                        flat.charge.clone()
                    } else {
                        flat.description.clone()
                    },
                    explanation: ChargeExplanation {
                        rater: Some(priced.rater.clone()),
                        rating_segments: vec![priced.period],
                        duration_basis: None,
                        arithmetic: vec![format!(
                            "flat {} from the rating of {}",
                            flat.amount, priced.period
                        )],
                    },
                });
            }
        }

        // The rater of the transaction's own term (a holdback is priced
        // with the term's version).
        let term_version = terms
            .iter()
            .find(|t| t.number == transaction.term)
            .and_then(|t| t.rate_version.clone());
        let mut rater = || -> Result<Arc<dyn Rater>, crate::rating::RatingError> {
            if let Some((_, rater)) = resolved.iter().find(|(v, _)| *v == term_version) {
                return Ok(rater.clone());
            }
            let chain = crate::rating::chain::pinned(&product.rating, term_version.as_deref());
            raters.resolve(&chain)
        };
        match &transaction.change {
            TransactionChange::Cancellation { .. } => {
                charges.extend(self.retention_charges(
                    policy,
                    &transaction,
                    &charges,
                    &mut rater,
                    &mut next_locator,
                )?);
            }
            TransactionChange::Reinstatement => {
                // The reinstated cancellation's holdback is given back ([E3]).
                let cancellation = in_effect_order(&policy.transactions)
                    .into_iter()
                    .rev()
                    .find(|t| {
                        t.kind == TransactionKind::Cancellation
                            && t.term == transaction.term
                            && t.effective <= transaction.effective
                    })
                    .map(|t| t.locator.clone());
                if let Some(cancellation) = cancellation {
                    for retained in live_charges(policy, &cancellation, Handling::Retention) {
                        charges.push(retained.inverse(
                            next_locator(),
                            &transaction.locator,
                            "holdback returned on reinstatement",
                        ));
                    }
                }
            }
            TransactionChange::Reversal { target } => {
                // Reverse charges for everything the target booked outside
                // the timeline (flat charges, holdbacks, and the inverses it
                // booked, so a holdback it gave back is kept again).
                for charge in policy
                    .charges
                    .iter()
                    .filter(|c| &c.transaction == target && c.handling != Handling::Normal)
                {
                    if is_standing(&policy.charges, &charge.locator) {
                        charges.push(charge.inverse(
                            next_locator(),
                            &transaction.locator,
                            "reversed",
                        ));
                    }
                }
            }
            _ => {}
        }

        // Installment slices, per term: the transaction's scheduled charges
        // follow the coverage's cost, open installments are levelled again,
        // and what now bills nothing is netted (see `billing::reschedule`).
        let zone = parse_time_zone(&header.time_zone)
            .map_err(|e| PolicyError::BadTimeZone(e.to_string()))?;
        let arrival = context
            .today
            .unwrap_or_else(|| local_date(context.issued_at, zone));
        let pending_here = context
            .pending_slices
            .as_ref()
            .map(|pending| pending.get(&header.locator));
        let held: Vec<(&InstallmentSlice, HeldState)> = policy
            .slices
            .iter()
            .enumerate()
            .map(|(position, slice)| {
                let position = position as u32;
                let pending = match pending_here {
                    Some(set) => set.is_some_and(|set| set.contains(&position)),
                    None => slice.invoice_date >= arrival,
                };
                let state = if policy.netted.contains(&position) {
                    HeldState::Netted
                } else if pending {
                    HeldState::Pending
                } else {
                    HeldState::Invoiced
                };
                (slice, state)
            })
            .collect();
        let dates = PluginDates {
            dater,
            plugin: product.invoicing_plugin.as_deref(),
            policy: &header.locator,
            currency: &currency_code,
        };
        let mut slices = Vec::new();
        let mut netted = Vec::new();
        for term in &terms {
            let effective_of = |charge: &Charge| {
                policy
                    .transaction(&charge.transaction)
                    .map_or(transaction.effective, |t| t.effective)
            };
            let old: Vec<(&Charge, Period)> = policy
                .charges
                .iter()
                .filter(|c| c.term == Some(term.number) && is_spread(c))
                .map(|c| (c, spread_period(c, effective_of(c), term.period)))
                .collect();
            let new: Vec<(&Charge, Period)> = charges
                .iter()
                .filter(|c| c.term == Some(term.number) && is_spread(c))
                .map(|c| (c, spread_period(c, transaction.effective, term.period)))
                .collect();
            let plan = product
                .plans
                .get(&term.plan)
                .ok_or_else(|| PolicyError::UnknownPlan {
                    product: product.name.clone(),
                    plan: term.plan.clone(),
                })?;
            let covered: Vec<Period> = priced_after
                .get(&term.number)
                .or_else(|| policy.priced.get(&term.number))
                .map(|segments| segments.iter().map(|s| s.period).collect())
                .unwrap_or_default();
            let slicing = TermSlicing {
                number: term.number,
                period: term.period,
                plan,
                arrival,
                opens_term: opened_term
                    .as_ref()
                    .is_some_and(|t| t.number == term.number),
                covered: &covered,
                frames: None,
            };
            let base = policy.slices.len() + slices.len();
            let (term_slices, term_netted) =
                dated_slices_for_term(&held, &old, &new, &slicing, base, &dates)?;
            slices.extend(term_slices);
            netted.extend(term_netted);
        }

        Ok(BookEvent::TransactionIssued {
            record: Box::new(TransactionRecord {
                policy: header.locator.clone(),
                opened: None,
                term: opened_term,
                transaction,
                charges,
                slices,
                netted,
                priced: priced_after
                    .into_iter()
                    .map(|(term, segments)| TermTimeline { term, segments })
                    .collect(),
            }),
        })
    }

    /// The holdback a cancellation keeps: the product's percentage of the
    /// premium it returns, or, when the product sets none, what the rater
    /// asks for when pricing the cancelled span as a cancellation.
    ///
    /// Worked example ([E3]): 1000.00 a year cancelled at mid-term returns
    /// 500.00 of premium; a 10% holdback keeps 50.00.
    fn retention_charges(
        &self,
        policy: &PolicyState,
        cancellation: &Transaction,
        booked: &[Charge],
        rater: &mut dyn FnMut() -> Result<Arc<dyn Rater>, crate::rating::RatingError>,
        next_locator: &mut dyn FnMut() -> String,
    ) -> Result<Vec<Charge>, PolicyError> {
        let header = &policy.header;
        let product = &header.product;
        let mut retention_charge = |charge: &str,
                                    amount: Decimal,
                                    arithmetic: String,
                                    rater|
         -> Result<Charge, PolicyError> {
            let def = product
                .charge(charge)
                .filter(|d| d.handling == Handling::Retention)
                .ok_or_else(|| PolicyError::UndefinedCharge(charge.to_string()))?;
            Ok(Charge {
                locator: next_locator(),
                policy: Some(header.locator.clone()),
                account: header.account.clone(),
                transaction: cancellation.locator.clone(),
                term: Some(cancellation.term),
                item: None,
                charge: charge.to_string(),
                category: def.category,
                handling: Handling::Retention,
                invoicing: def.invoicing,
                recipient: None,
                amount: Money::new(amount, product.currency).rounded(product.rounding_mode),
                technical_premium: None,
                period: None,
                reverses: None,
                description: format!("{charge} kept on cancellation"),
                explanation: ChargeExplanation {
                    rater,
                    arithmetic: vec![arithmetic],
                    ..ChargeExplanation::default()
                },
            })
        };
        if let Some(rules) = &product.cancellation {
            let reason = match cancellation.change {
                TransactionChange::Cancellation { reason } => reason,
                _ => CancellationReason::default(),
            };
            let premium = |c: &&Charge| {
                c.handling == Handling::Normal
                    && c.charge == product.premium_charge
                    && c.term == Some(cancellation.term)
            };
            let written: Decimal = policy
                .charges
                .iter()
                .filter(premium)
                .map(|c| c.amount.amount)
                .sum();
            let returned: Decimal = -booked
                .iter()
                .filter(premium)
                .map(|c| c.amount.amount)
                .sum::<Decimal>();
            let start = policy
                .terms
                .iter()
                .find(|t| t.number == cancellation.term)
                .map_or(cancellation.effective, |t| t.period.start());
            let days_in_force =
                u32::try_from((cancellation.effective - start).num_days()).unwrap_or(0);
            let kept = rules.kept(reason, written, returned, days_in_force);
            if kept.amount.is_zero() {
                return Ok(Vec::new());
            }
            return Ok(vec![retention_charge(
                &rules.charge,
                kept.amount,
                kept.arithmetic,
                None,
            )?]);
        }
        if let Some(retention) = &product.cancellation_retention {
            let returned: Decimal = -booked
                .iter()
                .filter(|c| c.handling == Handling::Normal && c.charge == product.premium_charge)
                .map(|c| c.amount.amount)
                .sum::<Decimal>();
            if returned <= Decimal::ZERO || retention.holdback_percent.is_zero() {
                return Ok(Vec::new());
            }
            let amount = returned * retention.holdback_percent / Decimal::ONE_HUNDRED;
            let arithmetic = format!(
                "{}% of {returned} returned premium = {amount}",
                retention.holdback_percent
            );
            return Ok(vec![retention_charge(
                &retention.charge,
                amount,
                arithmetic,
                None,
            )?]);
        }
        // No product holdback: ask the rater, pricing the cancelled span;
        // a product with no retention charge has nothing to ask for.
        if !product
            .charges
            .values()
            .any(|d| d.handling == Handling::Retention)
        {
            return Ok(Vec::new());
        }
        let Some(term) = policy.terms.iter().find(|t| t.number == cancellation.term) else {
            return Ok(Vec::new());
        };
        let Ok(span) = Period::new(cancellation.effective, term.period.end()) else {
            return Ok(Vec::new());
        };
        let segment = Segment {
            period: span,
            started_by: cancellation.locator.clone(),
            operation: crate::rating::Operation::Cancellation,
            data: std::borrow::Cow::Owned(policy.data_at(cancellation.effective)),
        };
        let currency_code = product.currency.code().to_string();
        let context = PricingContext {
            policy_locator: &header.locator,
            product_name: &product.name,
            currency: &currency_code,
            time_zone: &header.time_zone,
            term: term.period,
        };
        let priced = price_segments(rater()?.as_ref(), &context, &[segment])?;
        let mut retained = Vec::new();
        for flat in &priced[0].response.flat_charges {
            if product
                .charge(&flat.charge)
                .is_some_and(|d| d.handling == Handling::Retention)
            {
                let arithmetic = format!(
                    "{} asked by the rater for the cancelled span {span}",
                    flat.amount
                );
                retained.push(retention_charge(
                    &flat.charge,
                    flat.amount,
                    arithmetic,
                    Some(priced[0].rater.clone()),
                )?);
            }
        }
        Ok(retained)
    }
}

/// Charges of `handling` a transaction booked that still stand.
fn live_charges<'a>(
    policy: &'a PolicyState,
    transaction: &str,
    handling: Handling,
) -> Vec<&'a Charge> {
    policy
        .charges
        .iter()
        .filter(|c| c.transaction == transaction && c.handling == handling && c.reverses.is_none())
        .filter(|c| is_standing(&policy.charges, &c.locator))
        .collect()
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

fn check_locator(locator: &str) -> Result<(), PolicyError> {
    let valid = !locator.is_empty()
        && locator.len() <= 64
        && locator
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(PolicyError::BadLocator(locator.to_string()))
    }
}

/// The plugin reference a rating chain names ("" for none).
fn plugin_of(chain: &RatingChain) -> &str {
    match chain {
        RatingChain::Plugin { plugin } | RatingChain::PluginWithFallback { plugin, .. } => plugin,
        RatingChain::External { .. } | RatingChain::Native { .. } => "",
    }
}

/// The tenant's today for a command: a test tenant's clock, or the local
/// date of its issue in the policy's time zone.
fn today_of(context: &CommandContext, time_zone: &str) -> Result<NaiveDate, PolicyError> {
    match context.today {
        Some(today) => Ok(today),
        None => {
            let zone =
                parse_time_zone(time_zone).map_err(|e| PolicyError::BadTimeZone(e.to_string()))?;
            Ok(local_date(context.issued_at, zone))
        }
    }
}

/// The rate version of a term opened for `kind` over `period`, and its
/// rating date: the term's start, or the tenant's today when the product
/// says so ([`super::product::RatingDate`]).
fn rate_version_of(
    product: &ProductConfig,
    period: Period,
    kind: RatedFor,
    time_zone: &str,
    context: &CommandContext,
    raters: &dyn RaterResolver,
) -> Result<(Option<String>, NaiveDate), PolicyError> {
    let day = match product.rating_date {
        RatingDate::TermStart => period.start(),
        RatingDate::Issued => today_of(context, time_zone)?,
    };
    let version = crate::rating::chain::term_version(&product.rating, raters, day, kind);
    Ok((version, day))
}

fn term_period(start: NaiveDate, months: u32) -> Result<Period, PolicyError> {
    let end = add_months_clamped(start, months as i32)
        .map_err(|e| PolicyError::BadTerm(e.to_string()))?;
    Period::new(start, end).map_err(|e| PolicyError::BadTerm(e.to_string()))
}

/// The Socotra locators sent with a rating call for `segment` (seed 004):
/// those of the transaction being issued, or, when that one (a
/// cancellation or a reversal) has none, of the transaction starting the
/// segment. New business and quotes send `quoteLocator`; a renewal onto
/// another plan also sends `newPaymentScheduleName`.
fn call_locators(
    transactions: &[Transaction],
    issued: &Transaction,
    segment: &Segment<'_>,
    previous_plan: Option<&str>,
) -> CallLocators {
    let by_kind = |t: &Transaction| {
        let locator = Some(t.locator.clone());
        match &t.change {
            TransactionChange::NewBusiness { .. } => Some(CallLocators {
                quote_locator: locator,
                ..CallLocators::default()
            }),
            TransactionChange::Endorsement { .. } => Some(CallLocators {
                endorsement_locator: locator,
                ..CallLocators::default()
            }),
            TransactionChange::Renewal { plan, .. } => Some(CallLocators {
                renewal_locator: locator,
                new_payment_schedule_name: (previous_plan != Some(plan.as_str()))
                    .then(|| plan.clone()),
                ..CallLocators::default()
            }),
            TransactionChange::Reinstatement => Some(CallLocators {
                reinstatement_locator: locator,
                ..CallLocators::default()
            }),
            TransactionChange::Cancellation { .. }
            | TransactionChange::Reversal { .. }
            | TransactionChange::RateCorrection { .. } => None,
        }
    };
    by_kind(issued)
        .or_else(|| {
            transactions
                .iter()
                .find(|t| t.locator == segment.started_by)
                .and_then(by_kind)
        })
        .unwrap_or_default()
}

fn new_transaction(
    policy: &PolicyState,
    kind: TransactionKind,
    effective: NaiveDate,
    term: u32,
    change: TransactionChange,
    context: &CommandContext,
) -> Transaction {
    let sequence = policy.transactions.len() as u32 + 1;
    Transaction {
        locator: format!("{}-T{sequence}", policy.header.locator),
        sequence,
        kind,
        effective,
        term,
        change,
        issued_at: context.issued_at,
        actor: context.actor.clone(),
        idempotency_key: context.idempotency_key.clone(),
        reversed_by: None,
    }
}

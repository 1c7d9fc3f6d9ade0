//! A lifecycle property test beside the model-based one: random products and
//! plans (duration basis months or days; cadence monthly, quarterly,
//! semi-annual, weekly or every two weeks; weights; anchors on the term's
//! start or a day of month, 29-31 included; lead days; a maximum number of
//! installments; where the residue goes) and a random policy (one to three
//! perils, a start date, bound ahead of its start or back-dated) on a test
//! tenant whose clock only moves forward, driven through random endorsements
//! (out of sequence too), reversals, cancellations, reinstatements, plan
//! changes and payments, with a billing run every day.
//!
//! After every step (and, for what an invoice shows, after every day's run):
//!
//! 1. today's invariants (trial balance zero, billed receivable is what open
//!    invoices owe, preview equals commit: checked by [`World`] after every
//!    command; premium charges sum to the re-priced timeline; every spread
//!    charge's slices sum to it; replaying the log rebuilds the state);
//! 2. nothing is invoiced for a frame the policy has no coverage in when the
//!    invoice is issued: its regular installment items net to zero, no
//!    invoice consists only of them, and no more than rounding is billed for
//!    it as caught up (DOMAIN section 5, netting before spreading, [E14]);
//! 3. the installments still pending of full frames of equal weight whose
//!    coverage costs the same are at most one cent apart (levelling across
//!    transactions, [E7], [E8]), per term on the plan in force;
//! 4. each frame's billed amount (all its slices, wherever invoiced) is its
//!    coverage's cost within rounding, the cost computed here from the priced
//!    timeline alone (DOMAIN sections 3 and 5: each rate's run of coverage
//!    priced by the duration basis, spread by weight and overlap);
//! 5. after a reinstatement, a delinquency for the same invoice lapses only
//!    after a fresh full grace period from the reinstatement day, and the
//!    delinquency the reinstatement closed never lapses again ([E15]);
//! 6. the schedule quoted at binding is, invoice for invoice (dates, due
//!    dates, amounts), what the runs issue while nothing else happens to the
//!    policy ([E16] for back-dated binds).
//!
//! `PROPTEST_CASES` (default 128) sets the number of cases.

use super::support::*;
use crate::billing::{Anchor, Cadence, DurationBasis, InstallmentFrame, InstallmentPlan};
use crate::collections::{
    BillingCommand, BillingSettings, CollectionsEvent, DelinquencyPlan, DelinquencyScope,
    DelinquencyStatus,
};
use crate::domain::allocation::ResiduePlacement;
use crate::domain::{Period, add_months_clamped};
use crate::engine::{EngineCommand, TenantEvent, TenantState};
use crate::policy::{
    DataChange, ExposureData, Fields, PerilData, PolicyCommand, PolicyData, PolicyState,
    TransactionKind, is_spread,
};
use crate::rating::{FieldValue, Premium};
use crate::test_support::env_or;
use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

const POLICY: &str = "P1";

// ---------------------------------------------------------------------------
// What is generated.

#[derive(Debug, Clone)]
struct Case {
    days_basis: bool,
    plan_a: InstallmentPlan,
    plan_b: InstallmentPlan,
    /// Yearly premiums in cents, one per peril.
    perils: Vec<u32>,
    /// Day of 2026 the term starts on.
    start: u32,
    /// Days from the start to the binding day: negative ahead of the start,
    /// positive back-dated ([E16]).
    bind: i32,
    grace: u32,
    late_fee: bool,
    per_invoice: bool,
    steps: Vec<Step>,
}

#[derive(Debug, Clone)]
enum Step {
    /// The clock moves this many days, with a billing run every day.
    Advance(u32),
    /// Peril `peril`'s yearly premium becomes `cents` from today + `offset`
    /// days (before an earlier endorsement's date: out of sequence).
    Endorse {
        offset: i32,
        peril: usize,
        cents: u32,
    },
    /// Reverses one of the transactions in effect (not the new business).
    Reverse(usize),
    /// Cancels from today + `offset` days.
    Cancel(i32),
    /// Reinstates the latest cancellation, `gap` days after its date.
    Reinstate(u32),
    /// Moves the term to the other plan, from today.
    ChangePlan,
    Pay(u32),
    PayAll,
}

fn plan() -> impl Strategy<Value = InstallmentPlan> {
    let cadence = prop_oneof![
        3 => Just(Cadence::Monthly),
        2 => Just(Cadence::Quarterly),
        1 => Just(Cadence::SemiAnnual),
        1 => Just(Cadence::Weekly),
        1 => Just(Cadence::EveryTwoWeeks),
    ];
    let anchor = prop_oneof![
        3 => Just(Anchor::TermStart),
        1 => Just(Anchor::DayOfMonth(1)),
        1 => Just(Anchor::DayOfMonth(15)),
        1 => (28u8..=31).prop_map(Anchor::DayOfMonth),
        1 => Just(Anchor::LastDayOfMonth),
    ];
    let weights = prop_oneof![
        4 => Just(vec![]),
        1 => Just(vec![3, 2]),
        1 => Just(vec![1, 0, 1, 1]),
    ];
    let residue = prop_oneof![
        3 => Just(ResiduePlacement::LargestRemainder),
        1 => Just(ResiduePlacement::First),
        1 => Just(ResiduePlacement::Last),
    ];
    (
        cadence,
        anchor,
        weights,
        0u32..=20,
        0u32..=20,
        proptest::option::weighted(0.25, 2u32..=12),
        residue,
    )
        .prop_map(|(cadence, anchor, weights, generate, due, max, residue)| {
            let months = matches!(
                cadence,
                Cadence::Monthly | Cadence::Quarterly | Cadence::SemiAnnual
            );
            InstallmentPlan {
                cadence,
                anchor: if months { anchor } else { Anchor::TermStart },
                max_installments: max,
                weights: weights.into_iter().map(Decimal::from).collect(),
                generate_lead_days: generate,
                due_lead_days: due.min(generate),
                residue,
            }
        })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (1u32..=35).prop_map(Step::Advance),
        4 => (-150i32..=45, 0usize..3, 6_000u32..=600_000)
            .prop_map(|(offset, peril, cents)| Step::Endorse { offset, peril, cents }),
        2 => (0usize..8).prop_map(Step::Reverse),
        2 => (-45i32..=30).prop_map(Step::Cancel),
        2 => prop_oneof![2 => Just(0u32), 1 => 1u32..=20].prop_map(Step::Reinstate),
        1 => Just(Step::ChangePlan),
        2 => (1u32..=150_000).prop_map(Step::Pay),
        3 => Just(Step::PayAll),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        plan(),
        plan(),
        proptest::collection::vec(12_000u32..=600_000, 1..=3),
        0u32..365,
        prop_oneof![3 => -40i32..=0, 1 => 1i32..=120],
        5u32..=30,
        any::<bool>(),
        proptest::bool::weighted(0.25),
        proptest::collection::vec(step(), 1..=24),
    )
        .prop_map(
            |(
                days_basis,
                plan_a,
                plan_b,
                perils,
                start,
                bind,
                grace,
                late_fee,
                per_invoice,
                steps,
            )| {
                Case {
                    days_basis,
                    plan_a,
                    plan_b,
                    perils,
                    start,
                    bind,
                    grace,
                    late_fee,
                    per_invoice,
                    steps,
                }
            },
        )
}

// ---------------------------------------------------------------------------
// The reference model: what the coverage costs, frame by frame, from the
// priced timeline alone (DOMAIN sections 3 and 5), written here without the
// production proration, spreading or scheduling code.

/// The fraction of a year `period` is under the basis: `days / 365`, or
/// whole months from its start (clamped to short months, each counted from
/// the start) plus the remaining days over the month-long interval after
/// them, over 12.
fn year_fraction(days_basis: bool, period: Period) -> Decimal {
    if days_basis {
        return Decimal::from(period.days()) / Decimal::from(365);
    }
    let start = period.start();
    let mut whole = 0;
    while add_months_clamped(start, whole + 1).unwrap() <= period.end() {
        whole += 1;
    }
    let from = add_months_clamped(start, whole).unwrap();
    let to = add_months_clamped(start, whole + 1).unwrap();
    let remaining = Decimal::from((period.end() - from).num_days());
    let unit = Decimal::from((to - from).num_days());
    (Decimal::from(whole) + remaining / unit) / Decimal::from(12)
}

/// What `piece` of a run of one rate costs: a run is priced from its own
/// start ([E1]: its parts sum to it), so a piece is the run's price up to
/// the piece's end less its price up to the piece's start.
fn piece_cost(days_basis: bool, run: &(Period, Decimal), piece: Period) -> Decimal {
    let (period, rate) = run;
    let upto = |day: NaiveDate| {
        if day <= period.start() {
            Decimal::ZERO
        } else {
            year_fraction(days_basis, Period::new(period.start(), day).unwrap())
        }
    };
    *rate * (upto(piece.end()) - upto(piece.start()))
}

/// Runs of one yearly rate per item: contiguous segments with the same rate.
fn rate_runs(policy: &PolicyState, term: u32) -> BTreeMap<String, Vec<(Period, Decimal)>> {
    let mut runs: BTreeMap<String, Vec<(Period, Decimal)>> = BTreeMap::new();
    for segment in policy.priced.get(&term).into_iter().flatten() {
        let mut rates: BTreeMap<String, Decimal> = BTreeMap::new();
        for item in &segment.response.items {
            if item.charge.as_deref().is_some_and(|c| c != "premium") {
                continue;
            }
            let Premium::Yearly(yearly) = item.premium else {
                panic!("the field rater prices yearly premiums");
            };
            *rates.entry(item.locator.clone()).or_default() += yearly;
        }
        for (item, rate) in rates {
            let item_runs = runs.entry(item).or_default();
            match item_runs.last_mut() {
                Some((period, last)) if period.end() == segment.period.start() && *last == rate => {
                    *period = Period::new(period.start(), segment.period.end()).unwrap();
                }
                _ => item_runs.push((segment.period, rate)),
            }
        }
    }
    runs
}

/// The run of `runs` that holds `day`.
fn run_on(runs: &[(Period, Decimal)], day: NaiveDate) -> Option<&(Period, Decimal)> {
    runs.iter().find(|(p, _)| p.contains(day))
}

/// What a transaction charges, by DOMAIN sections 3 to 5 ("charges follow
/// the coverage"): per item, the timeline cut at every run boundary before
/// and after; each piece costs its price after less its price before (each
/// run priced from its own start); contiguous pieces whose yearly rate
/// changed by the same amount are one charge.
fn timeline_charges(
    days_basis: bool,
    before: &BTreeMap<String, Vec<(Period, Decimal)>>,
    after: &BTreeMap<String, Vec<(Period, Decimal)>>,
) -> Vec<(Period, Decimal)> {
    let empty = Vec::new();
    let cuts: BTreeSet<NaiveDate> = before
        .values()
        .chain(after.values())
        .flatten()
        .flat_map(|(p, _)| [p.start(), p.end()])
        .collect();
    let cuts: Vec<NaiveDate> = cuts.into_iter().collect();
    let items: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut charges = Vec::new();
    for item in items {
        let was = before.get(item).unwrap_or(&empty);
        let is = after.get(item).unwrap_or(&empty);
        // (period, amount, rate change)
        let mut open: Option<(Period, Decimal, Decimal)> = None;
        for pair in cuts.windows(2) {
            let piece = Period::new(pair[0], pair[1]).unwrap();
            let (new, old) = (run_on(is, pair[0]), run_on(was, pair[0]));
            let price = |run: Option<&(Period, Decimal)>| {
                run.map_or(Decimal::ZERO, |r| piece_cost(days_basis, r, piece))
            };
            let amount = price(new) - price(old);
            let change = new.map_or(Decimal::ZERO, |r| r.1) - old.map_or(Decimal::ZERO, |r| r.1);
            if amount.is_zero() {
                charges.extend(open.take().map(|(p, a, _)| (p, a)));
                continue;
            }
            match &mut open {
                Some((period, total, rate)) if period.end() == piece.start() && *rate == change => {
                    *period = Period::new(period.start(), piece.end()).unwrap();
                    *total += amount;
                }
                _ => {
                    charges.extend(open.take().map(|(p, a, _)| (p, a)));
                    open = Some((piece, amount, change));
                }
            }
        }
        charges.extend(open.map(|(p, a, _)| (p, a)));
    }
    charges
}

/// Spreads `amount` for `period` over `frames` by DOMAIN section 5: each
/// frame's share is its weight times the overlap over its full cadence
/// period; a run touching only zero-weight frames goes on the next frame of
/// positive weight. Adds to `costs`, or returns the amount no frame takes.
fn spread_cost(
    amount: Decimal,
    period: Period,
    frames: &[InstallmentFrame],
    costs: &mut [Decimal],
) -> Decimal {
    let mut shares: Vec<Decimal> = frames
        .iter()
        .map(|f| {
            f.weight * Decimal::from(f.period.overlap_days(&period))
                / Decimal::from(f.full_period.days())
        })
        .collect();
    if shares.iter().all(|s| s.is_zero()) {
        match frames
            .iter()
            .position(|f| !f.weight.is_zero() && f.period.end() > period.start())
        {
            Some(next) => shares[next] = Decimal::ONE,
            None => return amount,
        }
    }
    let total: Decimal = shares.iter().sum();
    for (cost, share) in costs.iter_mut().zip(&shares) {
        *cost += amount * *share / total;
    }
    Decimal::ZERO
}

/// The term's coverage cost from its current priced timeline alone, each
/// rate's run priced by the duration basis and spread: the term's total.
fn coverage_costs(
    policy: &PolicyState,
    term: u32,
    frames: &[InstallmentFrame],
    days_basis: bool,
) -> (Vec<Decimal>, Decimal) {
    let mut costs = vec![Decimal::ZERO; frames.len()];
    let mut unplaced = Decimal::ZERO;
    for (period, yearly) in rate_runs(policy, term).into_values().flatten() {
        let amount = yearly * year_fraction(days_basis, period);
        unplaced += spread_cost(amount, period, frames, &mut costs);
    }
    (costs, unplaced)
}

/// Each frame's cost as DOMAIN bills it: the sum, over the transactions so
/// far, of each change of rate priced over its run and spread over the
/// frames. Under the days basis, or frames not on month boundaries, this is
/// not the same as pricing the final timeline frame by frame (a full month
/// always gets a twelfth of a yearly charge spread over a year, whatever its
/// days), so the model follows the transactions.
#[derive(Debug, Clone, Default)]
struct FrameCosts {
    /// The rate runs per item seen at the last look.
    runs: BTreeMap<String, Vec<(Period, Decimal)>>,
    costs: Vec<Decimal>,
    unplaced: Decimal,
}

/// The periods the term is in force.
fn covered(policy: &PolicyState, term: u32) -> Vec<Period> {
    policy
        .priced
        .get(&term)
        .into_iter()
        .flatten()
        .map(|s| s.period)
        .collect()
}

fn has_coverage(covered: &[Period], period: &Period) -> bool {
    covered.iter().any(|c| c.overlap_days(period) > 0)
}

fn cents(value: u32) -> Decimal {
    Decimal::new(value.into(), 2)
}

fn cent() -> Decimal {
    Decimal::new(1, 2)
}

// ---------------------------------------------------------------------------
// The harness.

struct Life {
    world: World,
    case: Case,
    today: NaiveDate,
    term: Period,
    /// The schedule quoted at binding: invoice date, due date, amount.
    quote: Vec<(NaiveDate, NaiveDate, Decimal)>,
    /// Nothing but runs and payments has happened since the binding, and no
    /// fee was charged: the invoices are still the quote's.
    undisturbed: bool,
    quote_checked_whole: bool,
    /// Invoices already checked for property 2.
    seen: usize,
    /// Delinquencies closed by a reinstatement: on which day.
    closed: BTreeMap<String, NaiveDate>,
    /// Log events already scanned for property 5.
    scanned: usize,
    /// Terms whose plan changed (property 4 is then checked on the term's
    /// total only: what was billed on the old plan stays).
    plan_changed: BTreeSet<u32>,
    /// The steps done (and refused), for the report.
    trace: Vec<String>,
    /// Whether properties 3 and 4 are checked frame by frame, and property 2
    /// on caught-up parts too.
    strict: bool,
    /// Each term's frame costs, transaction by transaction.
    frame_costs: BTreeMap<u32, FrameCosts>,
}

fn peril_locator(index: usize) -> String {
    format!("V1-P{index}")
}

fn yearly_fields(value: Decimal) -> Fields {
    let mut fields = Fields::new();
    fields.insert(
        "yearly_premium".into(),
        vec![FieldValue::Text(value.to_string())],
    );
    fields
}

fn policy_data(perils: &[u32]) -> PolicyData {
    let perils = perils
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                peril_locator(i),
                PerilData {
                    name: "collision".into(),
                    fields: yearly_fields(cents(*c)),
                },
            )
        })
        .collect();
    let mut exposures = BTreeMap::new();
    exposures.insert(
        "V1".to_string(),
        ExposureData {
            name: "vehicle".into(),
            fields: Fields::new(),
            perils,
        },
    );
    PolicyData {
        fields: Fields::new(),
        exposures: exposures.into(),
    }
}

impl Life {
    fn new(case: Case, strict: bool) -> Life {
        let mut product = monthly_product();
        product.duration_basis = if case.days_basis {
            DurationBasis::Days
        } else {
            DurationBasis::Months
        };
        product.plans.clear();
        product.plans.insert("a".into(), case.plan_a.clone());
        product.plans.insert("b".into(), case.plan_b.clone());
        product.default_plan = "a".into();
        let start = date(2026, 1, 1) + Duration::days(i64::from(case.start));
        let bind = start + Duration::days(i64::from(case.bind));
        let first = bind - Duration::days(1);
        let mut world = World::test_tenant(product, first);
        world.exec(
            BillingCommand::ConfigureBilling {
                settings: BillingSettings {
                    delinquency: DelinquencyPlan {
                        grace_days: case.grace,
                        late_fee: if case.late_fee {
                            cents(500)
                        } else {
                            Decimal::ZERO
                        },
                        scope: if case.per_invoice {
                            DelinquencyScope::PerInvoice
                        } else {
                            DelinquencyScope::PerPolicy
                        },
                        ..DelinquencyPlan::default()
                    },
                    ..BillingSettings::default()
                },
            },
            first,
        );
        let issue: EngineCommand = PolicyCommand::IssuePolicy {
            locator: POLICY.into(),
            account: "A1".into(),
            product: "auto".into(),
            start,
            plan: None,
            time_zone: "UTC".into(),
            data: policy_data(&case.perils),
            bind: Default::default(),
        }
        .into();
        // The schedule quoted before binding, on the binding day.
        let context = world.context(bind);
        let adjuster = world.adjuster.as_ref();
        let decided = world
            .state
            .decide_with(&issue, &context, &FieldRaters, adjuster)
            .unwrap();
        let quote = world
            .state
            .scheduled_invoices(&decided, &context, &FieldRaters, adjuster)
            .unwrap()
            .into_iter()
            .map(|i| (i.invoice_date, i.due_date, i.amount))
            .collect();
        world.exec(issue, bind);
        let term = world.state.book.policy(POLICY).unwrap().terms[0].period;
        let mut life = Life {
            world,
            case,
            today: bind,
            term,
            quote,
            undisturbed: true,
            quote_checked_whole: false,
            seen: 0,
            closed: BTreeMap::new(),
            scanned: 0,
            plan_changed: BTreeSet::new(),
            trace: Vec::new(),
            strict,
            frame_costs: BTreeMap::new(),
        };
        life.track_costs();
        life.run_day();
        life
    }

    fn policy(&self) -> &PolicyState {
        self.world.state.book.policy(POLICY).unwrap()
    }

    /// Adds what the transactions since the last look charge to each
    /// term's frame costs (on the plan in force: terms whose plan changed
    /// are checked on their total only).
    fn track_costs(&mut self) {
        let policy = self.world.state.book.policy(POLICY).unwrap();
        for term in &policy.terms {
            let plan = &policy.header.product.plans[&term.plan];
            let frames = plan.frames(term.period).unwrap();
            let runs = rate_runs(policy, term.number);
            let tracked = self.frame_costs.entry(term.number).or_default();
            if tracked.costs.len() != frames.len() {
                tracked.costs = vec![Decimal::ZERO; frames.len()];
            }
            for (period, amount) in timeline_charges(self.case.days_basis, &tracked.runs, &runs) {
                tracked.unplaced += spread_cost(amount, period, &frames, &mut tracked.costs);
            }
            tracked.runs = runs;
        }
    }

    /// A day's billing run, and what must hold of the invoices it issued.
    fn run_day(&mut self) {
        let events = self.world.run(self.today);
        self.track_costs();
        let disturbing = events.iter().any(|e| {
            matches!(e, TenantEvent::Book(_))
                || matches!(
                    e,
                    TenantEvent::Collections(CollectionsEvent::FeesCharged { .. })
                )
        });
        if disturbing {
            self.undisturbed = false;
        }
        self.check_new_invoices();
        self.check_quote();
        self.check_lapses();
    }

    fn clamp_to_term(&self, day: NaiveDate) -> NaiveDate {
        day.clamp(self.term.start(), self.term.end() - Duration::days(1))
    }

    fn apply(&mut self, step: &Step) {
        let day = self.today;
        let command: EngineCommand = match step {
            Step::Advance(days) => {
                for _ in 0..*days {
                    self.today += Duration::days(1);
                    self.run_day();
                }
                return;
            }
            Step::Endorse {
                offset,
                peril,
                cents: value,
            } => {
                let perils = self.case.perils.len();
                PolicyCommand::Endorse {
                    policy: POLICY.into(),
                    effective: self.clamp_to_term(day + Duration::days(i64::from(*offset))),
                    changes: vec![DataChange::SetPerilFields {
                        exposure: "V1".into(),
                        peril: peril_locator(peril % perils),
                        fields: yearly_fields(cents(*value)),
                    }],
                }
                .into()
            }
            Step::Reverse(pick) => {
                let candidates: Vec<String> = self
                    .policy()
                    .transactions
                    .iter()
                    .filter(|t| t.is_in_effect() && t.kind != TransactionKind::NewBusiness)
                    .map(|t| t.locator.clone())
                    .collect();
                if candidates.is_empty() {
                    return;
                }
                PolicyCommand::Reverse {
                    policy: POLICY.into(),
                    transaction: candidates[pick % candidates.len()].clone(),
                }
                .into()
            }
            Step::Cancel(offset) => PolicyCommand::Cancel {
                policy: POLICY.into(),
                effective: self.clamp_to_term(day + Duration::days(i64::from(*offset))),
                reason: Default::default(),
            }
            .into(),
            Step::Reinstate(gap) => {
                let Some(cancelled) = self
                    .policy()
                    .transactions
                    .iter()
                    .filter(|t| t.is_in_effect() && t.kind == TransactionKind::Cancellation)
                    .map(|t| t.effective)
                    .max()
                else {
                    return;
                };
                PolicyCommand::Reinstate {
                    policy: POLICY.into(),
                    effective: self.clamp_to_term(cancelled + Duration::days(i64::from(*gap))),
                }
                .into()
            }
            Step::ChangePlan => {
                let Some(term) = self
                    .policy()
                    .terms
                    .iter()
                    .find(|t| t.period.contains(day))
                    .cloned()
                else {
                    return;
                };
                let plan = if term.plan == "a" { "b" } else { "a" };
                if self.case.plan_a == self.case.plan_b {
                    return;
                }
                BillingCommand::ChangePlan {
                    policy: POLICY.into(),
                    plan: plan.into(),
                    effective: day,
                }
                .into()
            }
            Step::Pay(value) => BillingCommand::RecordPayment {
                for_deductibles: false,
                reserved_for: None,
                account: "A1".into(),
                amount: cents(*value),
                received_on: day,
                invoices: vec![],
                reference: String::new(),
            }
            .into(),
            Step::PayAll => {
                let owed: Decimal = self
                    .world
                    .account()
                    .invoices
                    .iter()
                    .map(|r| r.outstanding())
                    .filter(|o| *o > Decimal::ZERO)
                    .sum();
                if owed <= Decimal::ZERO {
                    return;
                }
                BillingCommand::RecordPayment {
                    for_deductibles: false,
                    reserved_for: None,
                    account: "A1".into(),
                    amount: owed,
                    received_on: day,
                    invoices: vec![],
                    reference: String::new(),
                }
                .into()
            }
        };
        let transacts = !matches!(step, Step::Pay(_) | Step::PayAll);
        let shown = format!("{command:?}");
        match self.world.try_exec(command.clone(), day) {
            Ok(events) => {
                if transacts {
                    self.undisturbed = false;
                }
                if let EngineCommand::Billing(BillingCommand::ChangePlan { .. }) = command {
                    for event in &events {
                        if let TenantEvent::Book(crate::policy::BookEvent::PlanChanged {
                            term,
                            ..
                        }) = event
                        {
                            self.plan_changed.insert(*term);
                        }
                    }
                }
                self.trace.push(format!("{day}: {shown}"));
            }
            Err(error) => self.trace.push(format!("{day}: refused {shown}: {error}")),
        }
        self.track_costs();
        self.check_new_invoices();
        self.check_quote();
        self.check_lapses();
    }

    fn context(&self) -> String {
        format!(
            "\ncase: basis days {}, plan a {:?}, plan b {:?}, term {}\nsteps:\n  {}",
            self.case.days_basis,
            self.case.plan_a,
            self.case.plan_b,
            self.term,
            self.trace.join("\n  ")
        )
    }

    // -- Property 1 ---------------------------------------------------------

    fn check_invariants(&self) {
        let state = &self.world.state;
        let policy = self.policy();
        let product = &policy.header.product;
        let repriced: Decimal = policy
            .priced
            .values()
            .map(|after| crate::policy::repriced_total(after, product, "premium"))
            .sum();
        assert_eq!(
            policy.charge_total("premium"),
            repriced,
            "premium charges sum to the re-priced timeline{}",
            self.context()
        );
        for charge in policy.charges.iter().filter(|c| is_spread(c)) {
            let total: Decimal = policy
                .slices
                .iter()
                .filter(|s| s.charge == charge.locator)
                .map(|s| s.amount.amount)
                .sum();
            assert_eq!(
                total,
                charge.amount.amount,
                "the slices of {} sum to it{}",
                charge.locator,
                self.context()
            );
        }
        let mut rebuilt = TenantState::new("tenant").unwrap();
        for event in &self.world.log {
            rebuilt.apply(event).unwrap();
        }
        assert!(rebuilt.book == state.book, "a replay rebuilds the book");
        assert!(
            rebuilt.ledger.entries() == state.ledger.entries(),
            "a replay rebuilds the ledger"
        );
        assert!(
            rebuilt.collections == state.collections,
            "a replay rebuilds billing"
        );
        assert_eq!(rebuilt.clock, state.clock, "a replay rebuilds the clock");
    }

    // -- Property 2 ---------------------------------------------------------

    /// The invoices issued since the last look: nothing billed for frames
    /// with no coverage when they were issued.
    fn check_new_invoices(&mut self) {
        let account = self.world.account();
        let policy = self.policy();
        for record in account.invoices.iter().skip(self.seen) {
            let invoice = &record.invoice;
            let mut regular: BTreeMap<(u32, Period), Decimal> = BTreeMap::new();
            let mut caught_up: BTreeMap<(u32, Period), Decimal> = BTreeMap::new();
            let mut others = 0;
            for item in &invoice.items {
                let Some(reference) = item.slice.as_ref().filter(|r| r.policy == POLICY) else {
                    others += 1;
                    continue;
                };
                let slice = &policy.slices[reference.index as usize];
                let key = (slice.term, slice.installment_period);
                if has_coverage(&covered(policy, slice.term), &slice.installment_period) {
                    others += 1;
                } else if slice.caught_up {
                    *caught_up.entry(key).or_default() += item.amount.amount;
                    others += 1;
                } else {
                    *regular.entry(key).or_default() += item.amount.amount;
                }
            }
            for ((term, period), total) in &regular {
                assert!(
                    total.is_zero(),
                    "{} (issued {}) bills {total} of installment {period} of term {term}, \
                     which has no coverage{}",
                    invoice.locator,
                    invoice.issue_date,
                    self.context()
                );
            }
            assert!(
                regular.is_empty() || others > 0,
                "{} (issued {}) is made only of installments of frames with no coverage{}",
                invoice.locator,
                invoice.issue_date,
                self.context()
            );
            // A caught-up part that brings a frame with no coverage back to
            // nothing (it corrects what an earlier transaction billed there,
            // a weighted credit larger than the frame's share) bills nothing.
            let frame_total = |(term, period): &(u32, Period)| -> Decimal {
                policy
                    .slices
                    .iter()
                    .enumerate()
                    .filter(|(i, s)| {
                        s.term == *term
                            && s.installment_period == *period
                            && !policy.netted.contains(&(*i as u32))
                    })
                    .map(|(_, s)| s.amount.amount)
                    .sum()
            };
            let billed: Decimal = caught_up
                .iter()
                .filter(|(key, v)| {
                    **v > Decimal::ZERO && frame_total(key).abs() > cent() * Decimal::from(5)
                })
                .map(|(_, v)| *v)
                .sum();
            assert!(
                !self.strict || billed <= cent() * Decimal::from(5),
                "{} (issued {}) bills {billed} caught up for frames with no coverage: \
                 {caught_up:?}{}",
                invoice.locator,
                invoice.issue_date,
                self.context()
            );
        }
        self.seen = account.invoices.len();
    }

    // -- Property 3 ---------------------------------------------------------

    fn check_level(&self) {
        let policy = self.policy();
        let account = self.world.account();
        let pending: BTreeSet<u32> = account
            .pending_slices
            .iter()
            .filter(|s| s.policy == POLICY)
            .map(|s| s.index)
            .collect();
        for term in &policy.terms {
            let plan = &policy.header.product.plans[&term.plan];
            let frames = plan.frames(term.period).unwrap();
            // After a plan change the model has no frame costs of the new
            // plan (what was billed on the old plan stays). Frames then
            // compare when every charge of the term covers each of them
            // wholly or not at all, in the same pattern: the same charges in
            // full, so the same cost (the first pending one, which takes
            // what was caught up, apart).
            let changed = self.plan_changed.contains(&term.number);
            let charges: Vec<Period> = policy
                .charges
                .iter()
                .filter(|c| c.term == Some(term.number) && is_spread(c))
                .filter_map(|c| c.period)
                .collect();
            let pattern = |frame: &InstallmentFrame| -> Option<String> {
                let mut key = String::new();
                for period in &charges {
                    match frame.period.overlap_days(period) {
                        0 => key.push('0'),
                        d if d == frame.period.days() => key.push('1'),
                        _ => return None,
                    }
                }
                Some(key)
            };
            let costs = &self.frame_costs[&term.number].costs;
            // Each pending frame's installment total (its own slices, not
            // the caught-up ones nor the netted ones).
            let mut totals: Vec<Option<Decimal>> = vec![None; frames.len()];
            for (i, frame) in frames.iter().enumerate() {
                let own: Vec<(usize, Decimal)> = policy
                    .slices
                    .iter()
                    .enumerate()
                    .filter(|(p, s)| {
                        s.term == term.number
                            && s.installment_period == frame.period
                            && !s.caught_up
                            && !policy.netted.contains(&(*p as u32))
                    })
                    .map(|(p, s)| (p, s.amount.amount))
                    .collect();
                if !own.is_empty() && own.iter().all(|(p, _)| pending.contains(&(*p as u32))) {
                    totals[i] = Some(own.iter().map(|(_, a)| *a).sum());
                }
            }
            // The frame the plan puts the whole residue on is not level.
            let candidates: Vec<usize> = (0..frames.len())
                .filter(|i| totals[*i].is_some_and(|t| !t.is_zero()))
                .collect();
            let residue_frame = match plan.residue {
                ResiduePlacement::LargestRemainder => None,
                ResiduePlacement::First => candidates.first().copied(),
                ResiduePlacement::Last => candidates.last().copied(),
            };
            let first_pending = (0..frames.len()).find(|i| totals[*i].is_some());
            let mut groups: BTreeMap<(Decimal, String), Vec<(usize, Decimal)>> = BTreeMap::new();
            for (i, frame) in frames.iter().enumerate() {
                let Some(total) = totals[i] else { continue };
                if frame.is_stub() || frame.weight.is_zero() || Some(i) == residue_frame {
                    continue;
                }
                let key = if changed {
                    match pattern(frame) {
                        Some(key) if Some(i) != first_pending => key,
                        _ => continue,
                    }
                } else {
                    costs[i].round_dp(6).to_string()
                };
                groups
                    .entry((frame.weight, key))
                    .or_default()
                    .push((i, total));
            }
            for ((weight, cost), members) in groups {
                let least = members.iter().map(|(_, t)| *t).min().unwrap();
                let most = members.iter().map(|(_, t)| *t).max().unwrap();
                assert!(
                    most - least <= cent(),
                    "pending full installments of weight {weight} whose coverage costs {cost} \
                     are not level on {}: {members:?} (frame, total){}",
                    self.today,
                    self.context(),
                );
            }
        }
    }

    // -- Property 4 ---------------------------------------------------------

    /// The term's total always; each frame's only when `strict`.
    fn check_coverage_cost(&self, strict: bool) {
        let policy = self.policy();
        for term in &policy.terms {
            let plan = &policy.header.product.plans[&term.plan];
            let frames = plan.frames(term.period).unwrap();
            let (costs, unplaced) =
                coverage_costs(policy, term.number, &frames, self.case.days_basis);
            let slices: Vec<_> = policy
                .slices
                .iter()
                .filter(|s| s.term == term.number)
                .collect();
            let total: Decimal = slices.iter().map(|s| s.amount.amount).sum();
            let cost: Decimal = costs.iter().sum::<Decimal>() + unplaced;
            let transactions = policy
                .transactions
                .iter()
                .filter(|t| t.term == term.number)
                .count();
            // Each priced segment's amount is rounded to the cent, per item.
            let rounded: usize = policy
                .priced
                .get(&term.number)
                .into_iter()
                .flatten()
                .map(|s| s.response.items.len())
                .sum();
            assert!(
                (total - cost).abs() <= cent() * Decimal::from(transactions.max(rounded)),
                "term {} bills {total} for coverage costing {cost}{}\ncharges: {:?}\nrates: {:?}",
                term.number,
                self.context(),
                policy
                    .charges
                    .iter()
                    .map(|c| (c.period, c.amount.amount))
                    .collect::<Vec<_>>(),
                rate_runs(policy, term.number)
            );
            let tracked = &self.frame_costs[&term.number];
            // Amounts no frame can take are billed on the next invoice: not
            // checked frame by frame.
            if !strict
                || self.plan_changed.contains(&term.number)
                || !unplaced.is_zero()
                || !tracked.unplaced.is_zero()
            {
                continue;
            }
            let costs = &tracked.costs;
            // Rounding: a cent per transaction, and the remainder of a catch-up
            // (half a cent per frame it bills) on one frame.
            let tolerance = cent() * Decimal::from(1 + transactions + frames.len().div_ceil(2));
            // Frames with no day in force bill nothing (netting before
            // spreading). What the weighted spread of a credit would leave on
            // them (a weighted plan's credit for the months after a
            // cancellation is shared by weight, not as the original charge
            // was) is billed once, on frames with coverage: their deviation
            // may add up to it.
            let in_force = covered(policy, term.number);
            let moved: Decimal = frames
                .iter()
                .zip(costs)
                .filter(|(f, _)| !has_coverage(&in_force, &f.period))
                .map(|(_, c)| *c)
                .sum();
            for (frame, cost) in frames.iter().zip(costs) {
                let billed: Decimal = slices
                    .iter()
                    .filter(|s| s.installment_period == frame.period)
                    .map(|s| s.amount.amount)
                    .sum();
                let (expected, allowed) = if has_coverage(&in_force, &frame.period) {
                    (*cost, tolerance + moved.abs())
                } else {
                    (Decimal::ZERO, tolerance)
                };
                assert!(
                    (billed - expected).abs() <= allowed,
                    "installment {} ({}) of term {} bills {billed} for coverage costing {} \
                     (by the spread {}, {} moved from frames without coverage){}",
                    frame.index,
                    frame.period,
                    term.number,
                    expected.round_dp(4),
                    cost.round_dp(4),
                    moved.round_dp(4),
                    self.context(),
                );
            }
        }
    }

    // -- Property 5 ---------------------------------------------------------

    fn check_lapses(&mut self) {
        let grace = Duration::days(i64::from(self.case.grace));
        let account = self.world.account();
        for event in &self.world.log[self.scanned..] {
            match event {
                TenantEvent::Collections(CollectionsEvent::DelinquencyClosedByReinstatement {
                    delinquency,
                    on,
                    ..
                }) => {
                    self.closed.insert(delinquency.clone(), *on);
                }
                TenantEvent::Collections(CollectionsEvent::DelinquencyLapsed {
                    delinquency,
                    on,
                    effective,
                    ..
                }) => {
                    assert!(
                        !self.closed.contains_key(delinquency),
                        "{delinquency}, closed by a reinstatement, lapses again on {on}{}",
                        self.context()
                    );
                    let lapsed = account.delinquency(delinquency).unwrap();
                    for (closed, reinstated) in &self.closed {
                        let before = account.delinquency(closed).unwrap();
                        if !before.invoices.iter().any(|i| lapsed.invoices.contains(i)) {
                            continue;
                        }
                        // A new grace period: a successor started on the
                        // reinstatement day, or one already in grace whose
                        // grace the reinstatement renewed.
                        assert!(
                            lapsed.grace_end >= *reinstated + grace
                                && *on > *reinstated + grace
                                && *effective > *reinstated + grace,
                            "{delinquency} lapses on {on} (effective {effective}, grace to {}) \
                             for an invoice of {closed}, whose lapse a reinstatement closed on \
                             {reinstated}: a fresh grace of {} days runs to {}{}",
                            lapsed.grace_end,
                            self.case.grace,
                            *reinstated + grace,
                            self.context()
                        );
                    }
                }
                _ => {}
            }
        }
        self.scanned = self.world.log.len();
        for delinquency in &account.delinquencies {
            if self.closed.contains_key(&delinquency.locator) {
                assert!(
                    matches!(
                        delinquency.status,
                        DelinquencyStatus::ClosedByReinstatement { .. }
                    ),
                    "{} was closed by a reinstatement and is now {:?}{}",
                    delinquency.locator,
                    delinquency.status,
                    self.context()
                );
            }
        }
    }

    // -- Property 6 ---------------------------------------------------------

    fn check_quote(&mut self) {
        if !self.undisturbed {
            return;
        }
        let issued: Vec<(NaiveDate, NaiveDate, Decimal)> = rows(self.world.account())
            .into_iter()
            .map(|r| (r.1, r.2, r.3))
            .collect();
        assert!(
            issued.len() <= self.quote.len() && issued[..] == self.quote[..issued.len()],
            "the runs issued {issued:?} but the quote at binding showed {:?}{}",
            self.quote,
            self.context()
        );
        let last = self.quote.iter().map(|q| q.0).max();
        if !self.quote_checked_whole && last.is_some_and(|last| self.today >= last) {
            assert_eq!(
                issued,
                self.quote,
                "every quoted invoice is issued{}",
                self.context()
            );
            self.quote_checked_whole = true;
        }
    }

    fn check_all(&self) {
        self.check_invariants();
        self.check_coverage_cost(self.strict);
        if self.strict {
            self.check_level();
        }
    }
}

/// Lives `case`, checking after every step: properties 1, 2 (regular
/// installments), 5 and 6, and 4 on each term's total; with `strict`, 3, 4
/// frame by frame and 2 on caught-up parts, too.
fn live(case: Case, strict: bool) {
    let steps = case.steps.clone();
    let mut life = Life::new(case, strict);
    life.check_all();
    for step in &steps {
        life.apply(step);
        life.check_all();
    }
    // Run on to see what the last steps leave to bill.
    life.apply(&Step::Advance(45));
    life.check_all();
    life.world.assert_replay_rebuilds();
}

fn run_cases(strict: bool) {
    // The default run of the strict test uses a fixed seed, so CI is
    // reproducible; `LIFECYCLE_RANDOM=1` explores (docs/lifecycle-findings.md).
    let rng_seed = if strict && std::env::var("LIFECYCLE_RANDOM").is_err() {
        proptest::test_runner::RngSeed::Fixed(20_261_205)
    } else {
        proptest::test_runner::RngSeed::Random
    };
    let config = ProptestConfig {
        cases: env_or("PROPTEST_CASES", 128),
        failure_persistence: None,
        rng_seed,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&case(), |case| {
        live(case, strict);
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn random_lifecycles_keep_billing_to_the_coverage_after_every_step() {
    run_cases(false);
}

/// Properties 3, 4 frame by frame and 2 on caught-up parts: installment
/// totals level across transactions, each frame billed what its coverage
/// costs by DOMAIN's spread (transaction by transaction), nothing caught up
/// for frames with no coverage. Terms whose plan changed are checked on
/// their total and on levelling among frames the same charges cover wholly
/// (docs/lifecycle-findings.md).
#[test]
fn random_lifecycles_level_installments_and_bill_each_frame_its_cost() {
    run_cases(true);
}

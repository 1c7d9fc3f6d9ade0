//! What a preview tells about each billing account its commands touch: what
//! the account owes and holds in credit before and after the commands, the
//! refund due or the amount still owed, and the invoice the next billing run
//! would issue with the account as it leaves it (see [`super::next_invoice`]).
//!
//! Figures are read from the billing state and the ledger, never worked out
//! again: `owed` is what the open invoices still owe (the billed receivable),
//! `credit` the account's customer credit, `unbilled` what is charged but not
//! yet invoiced (future installments, charges waiting for an invoice).

use super::next_invoice::NextInvoice;
use super::state::{TenantEvent, TenantState};
use crate::collections::Collections;
use crate::domain::Currency;
use crate::ledger::{Ledger, LedgerAccount};
use crate::policy::BookEvent;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeSet;

/// An account's position at one moment.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct AccountPosition {
    /// What its open invoices still owe, together.
    pub owed: Decimal,
    /// Its customer credit (overpayments, credit invoices), drafted and
    /// approved refunds included.
    pub credit: Decimal,
    /// Credit not held back by drafted or approved refunds: what may settle
    /// invoices or be refunded.
    pub available_credit: Decimal,
    /// Charged but not yet invoiced (installments to come, charges waiting
    /// for an invoice); negative for credits waiting for one.
    pub unbilled: Decimal,
    /// The available credit left once it has settled what the open invoices
    /// owe: what could be refunded (a disbursement). Zero when the customer
    /// owes.
    pub refund_due: Decimal,
    /// What the open invoices owe beyond the available credit. Zero when a
    /// refund is due.
    pub amount_owed: Decimal,
}

impl AccountPosition {
    /// The position of `account` in a billing state and ledger; all zero
    /// for an account they do not hold.
    pub fn of(collections: &Collections, ledger: &Ledger, account: &str) -> AccountPosition {
        let Some(billing) = collections.accounts.get(account) else {
            return AccountPosition::default();
        };
        let owed = billing.open_balance();
        let available_credit = billing.available_credit();
        // Positive when the customer owes, negative when a refund is due.
        let net = owed - available_credit;
        AccountPosition {
            owed,
            credit: billing.credit,
            available_credit,
            unbilled: ledger.balance_of(
                LedgerAccount::PremiumReceivableUnbilled,
                billing.currency,
                Some(account),
            ),
            refund_due: (-net).max(Decimal::ZERO),
            amount_owed: net.max(Decimal::ZERO),
        }
    }
}

/// One account's summary in a preview.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSummary {
    pub account: String,
    pub currency: Currency,
    /// Before the previewed commands.
    pub before: AccountPosition,
    /// Right after them: what is owed, the credit, and the refund due or the
    /// amount owed. Credits the commands leave waiting for an invoice (a
    /// cancellation's credit for a month already invoiced) are `unbilled`
    /// until the next invoice bills them: see `next_invoice.after`.
    pub after: AccountPosition,
    /// The invoice the next billing run would issue for the account after
    /// the commands, and the account once it is issued; none when nothing
    /// is left to invoice.
    pub next_invoice: Option<NextInvoice>,
    /// Why the next invoice could not be worked out (a billing run of the
    /// account would fail the same way); the rest of the preview stands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_invoice_unavailable: Option<String>,
}

impl AccountSummary {
    /// The summary of `account` from its position before (in `collections`
    /// and `ledger`) and after (in `after`), without its next invoice.
    pub fn new(
        account: &str,
        collections: &Collections,
        ledger: &Ledger,
        after: &TenantState,
    ) -> Option<AccountSummary> {
        let currency = after.collections.accounts.get(account)?.currency;
        Some(AccountSummary {
            account: account.to_string(),
            currency,
            before: AccountPosition::of(collections, ledger, account),
            after: AccountPosition::of(&after.collections, &after.ledger, account),
            next_invoice: None,
            next_invoice_unavailable: None,
        })
    }
}

/// The billing accounts `events` touch, sorted: accounts created, the
/// accounts of policies transacted on or re-planned, of flat charges, and of
/// every billing event. `state` is the state after the events (it knows the
/// policies they opened).
pub fn touched_accounts(state: &TenantState, events: &[TenantEvent]) -> BTreeSet<String> {
    let account_of_policy = |policy: &str| {
        state
            .book
            .policies
            .get(policy)
            .map(|p| p.header.account.clone())
    };
    events
        .iter()
        .filter_map(|event| match event {
            TenantEvent::Book(BookEvent::AccountCreated { account }) => {
                Some(account.locator.clone())
            }
            TenantEvent::Book(BookEvent::TransactionIssued { record }) => record
                .opened
                .as_ref()
                .map(|header| header.account.clone())
                .or_else(|| account_of_policy(&record.policy)),
            TenantEvent::Book(BookEvent::FlatChargeAdded { charge }) => {
                Some(charge.account.clone())
            }
            TenantEvent::Book(
                BookEvent::PlanChanged { policy, .. }
                | BookEvent::NonRenewed { policy, .. }
                | BookEvent::PolicySystemNotified { policy, .. },
            ) => account_of_policy(policy),
            TenantEvent::Collections(event) => event.account().map(str::to_string),
            TenantEvent::Binding(event) => Some(event.account().to_string()),
            TenantEvent::Payments(event) => {
                event.stream().strip_prefix("account/").map(str::to_string)
            }
            TenantEvent::Book(BookEvent::ProductDeployed { .. })
            | TenantEvent::Journal(_)
            | TenantEvent::Clock(_)
            | TenantEvent::Keys(_)
            | TenantEvent::Config(_)
            | TenantEvent::Webhooks(_)
            | TenantEvent::Accounting(_)
            | TenantEvent::Shadow(_) => None,
        })
        .collect()
}

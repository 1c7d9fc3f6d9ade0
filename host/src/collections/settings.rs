//! Billing settings: tenant-level defaults with per-account overrides (seed 003's
//! "Default Bill To Party Settings" and their per-party custom settings).
//!
//! A tenant with no configuration bills every installment on its own invoice
//! date (no billing calendar), one invoice per account and date, due on the
//! installment's due date; sends invoices with nothing outstanding; applies
//! credit to invoices as they are generated; gives 30 days of grace per policy
//! with no minimum and no late fee; and never writes off automatically.

use super::error::CollectionsError;
use crate::billing::calendar::DUE_DAYS_MAX;
use crate::billing::{BillingCalendar, CalendarOverrides, GracePeriod, grace::GRACE_DAYS_MAX};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The grace period of the default delinquency plan, in days.
pub const DEFAULT_GRACE_DAYS: u32 = 30;

/// The most decimal places a configured amount may have (the largest minor unit
/// of a supported currency: BHD's three).
pub const SETTINGS_AMOUNT_SCALE_MAX: u32 = 3;

/// How generated invoices are separated ("Separate Invoices By", seed 003).
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum SeparateBy {
    /// One invoice per account and billing date, every policy together. The default.
    #[default]
    Account,
    /// One invoice per policy and billing date.
    Policy,
    /// One invoice per currency and billing date (an account bills in one
    /// currency, so this is the same as `account` today).
    Currency,
}

/// When customer credit is used without being told (seed 003's "Automatic
/// Account Balance Allocation").
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditOptions {
    /// Apply available credit to each invoice as it is generated. Default yes.
    #[serde(default = "yes")]
    pub apply_on_invoice_generation: bool,
    /// Apply available credit to open invoices once the term they bill has
    /// started. Default no.
    #[serde(default)]
    pub apply_when_term_effective: bool,
    /// What a payment made for a term or a transaction leaves over pays that
    /// scope's next installments in full at once (needs
    /// `apply_on_invoice_generation`). Default no.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub apply_to_future_installments: bool,
    /// With `apply_to_future_installments`: the rest pays part of the next
    /// installment too. Default no.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub apply_remainder_to_next_charges: bool,
}

impl CreditOptions {
    /// Refuses options seed 003 never shows together.
    pub fn check(&self) -> Result<(), CollectionsError> {
        if self.apply_to_future_installments && !self.apply_on_invoice_generation {
            return Err(CollectionsError::InvalidCreditOptions(
                "apply_to_future_installments needs apply_on_invoice_generation",
            ));
        }
        if self.apply_remainder_to_next_charges && !self.apply_to_future_installments {
            return Err(CollectionsError::InvalidCreditOptions(
                "apply_remainder_to_next_charges needs apply_to_future_installments",
            ));
        }
        Ok(())
    }
}

impl Default for CreditOptions {
    fn default() -> Self {
        CreditOptions {
            apply_on_invoice_generation: true,
            apply_when_term_effective: false,
            apply_to_future_installments: false,
            apply_remainder_to_next_charges: false,
        }
    }
}

/// Whether a delinquency follows a policy or an invoice.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DelinquencyScope {
    /// One delinquency per policy at a time: every past-due invoice billing the
    /// policy joins it, and it ends when all of them are paid. The default.
    #[default]
    PerPolicy,
    /// One delinquency per past-due invoice; it lapses every policy the invoice
    /// bills.
    PerInvoice,
}

/// What happens when an invoice is not paid by its due date.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelinquencyPlan {
    /// Whether past-due invoices start delinquencies at all. Default yes.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Days after the due date before the policy lapses ([E6]).
    #[serde(default = "default_grace_days")]
    pub grace_days: u32,
    /// Below this past-due amount nothing happens. Default 0.
    #[serde(default)]
    pub minimum: Decimal,
    /// A fee charged when a delinquency starts, billed on the next invoice.
    #[serde(default)]
    pub late_fee: Decimal,
    #[serde(default)]
    pub scope: DelinquencyScope,
}

impl Default for DelinquencyPlan {
    fn default() -> Self {
        DelinquencyPlan {
            enabled: true,
            grace_days: DEFAULT_GRACE_DAYS,
            minimum: Decimal::ZERO,
            late_fee: Decimal::ZERO,
            scope: DelinquencyScope::PerPolicy,
        }
    }
}

impl DelinquencyPlan {
    /// The grace period.
    pub fn grace(&self) -> GracePeriod {
        GracePeriod {
            grace_days: self.grace_days,
        }
    }
}

/// A tenant's billing settings.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingSettings {
    /// The billing calendar; none bills each installment on its own invoice date.
    #[serde(default)]
    pub calendar: Option<BillingCalendar>,
    #[serde(default)]
    pub separate_invoices_by: SeparateBy,
    /// Whether invoices with nothing outstanding (after credit) are sent. They are
    /// issued either way (their items are billed); this only flags them. Default
    /// yes. Takes the place of the calendar's own field.
    #[serde(default = "yes")]
    pub send_zero_outstanding_invoices: bool,
    /// Days from an invoice's issue date to its due date, at least; an
    /// installment is never due earlier than its plan says. Default 0. Takes the
    /// place of the calendar's own field.
    #[serde(default)]
    pub invoice_due_days: u32,
    /// Days from a deductible invoice's issue date to its due date (seed 003's
    /// "Deductible Billing Settings": the deductible invoice is issued this
    /// many days before its charges are due). None uses `invoice_due_days`.
    /// Example: 30 bills a deductible booked on 2026-03-10 on a deductible
    /// invoice issued 2026-03-10 and due 2026-04-09.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deductible_invoice_due_days: Option<u32>,
    #[serde(default)]
    pub credit: CreditOptions,
    #[serde(default)]
    pub delinquency: DelinquencyPlan,
    /// Past-due balances at or below this are written off automatically; zero
    /// (the default) never writes off.
    #[serde(default)]
    pub auto_write_off_up_to: Decimal,
    /// The fee charged when a collected payment is returned or charged
    /// back (DOMAIN section 11), billed on the next invoice; zero (the
    /// default) charges none. Example: 25.00 ([E13]).
    #[serde(default, skip_serializing_if = "Decimal::is_zero")]
    pub returned_payment_fee: Decimal,
    /// Whether billing runs generate invoices (seed 003's "Enable Automatic
    /// Billing"; default yes). An account turned off gets an invoicing hold
    /// (installments and fees accumulate uninvoiced; due dates, grace and
    /// disbursements still run); turned back on, the hold is released and
    /// everything that accumulated is billed at once on one catch-up
    /// invoice issued that day (seed 003's note).
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    pub automatic_billing: bool,
    /// How the bill-to party wants to hear from the billing entity (seed
    /// 003's "Communication Preference"; default email).
    #[serde(default, skip_serializing_if = "Communication::is_email")]
    pub communication: Communication,
    /// The transaction types held until a payment covers their first
    /// invoice, then bound automatically (seed 003's "Auto Bind Setting");
    /// none binds every transaction at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_bind: Option<AutoBind>,
}

/// The reason of the invoicing hold of an account whose automatic billing
/// is turned off.
pub const AUTOMATIC_BILLING_OFF: &str = "automatic billing turned off";

/// A bill-to party's communication preference (seed 003): with email, the
/// party is eligible for invoice emails.
#[derive(
    utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Communication {
    #[default]
    Email,
    Fax,
    Mail,
}

impl Communication {
    fn is_email(&self) -> bool {
        *self == Communication::Email
    }
}

fn is_yes(value: &bool) -> bool {
    *value
}

/// The most days a held transaction may wait for its payment.
pub const AUTO_BIND_DAYS_MAX: u32 = 366;

/// A policy transaction type that can be held for automatic binding.
#[derive(
    utoipa::ToSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AutoBindType {
    NewBusiness,
    Renewal,
    Endorsement,
    Cancellation,
    Reinstatement,
}

/// Automatic binding after payment (seed 003): a policy command of a listed
/// type is held as pending until a payment covers the amount its first
/// invoice bills, then bound; never paid, it expires `expire_after_days`
/// after it arrived.
///
/// Example: `{"transactions": ["endorsement"], "expire_after_days": 30}`
/// holds an endorsement sent on 2026-03-10 until a payment covers it, and a
/// billing run on or after 2026-04-09 expires it if none has.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoBind {
    /// The types held; the others bind at once.
    pub transactions: Vec<AutoBindType>,
    /// Days from arrival after which an unpaid one expires (1 to 366).
    pub expire_after_days: u32,
}

impl AutoBind {
    /// Whether transactions of `kind` are held.
    pub fn holds(&self, kind: AutoBindType) -> bool {
        self.transactions.contains(&kind)
    }
}

impl Default for BillingSettings {
    fn default() -> Self {
        BillingSettings {
            calendar: None,
            separate_invoices_by: SeparateBy::Account,
            send_zero_outstanding_invoices: true,
            invoice_due_days: 0,
            deductible_invoice_due_days: None,
            credit: CreditOptions::default(),
            delinquency: DelinquencyPlan::default(),
            auto_write_off_up_to: Decimal::ZERO,
            returned_payment_fee: Decimal::ZERO,
            automatic_billing: true,
            communication: Communication::Email,
            auto_bind: None,
        }
    }
}

/// Per-account changes to the tenant's settings; `None` keeps the tenant's value.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountOverrides {
    /// Replaces the tenant's calendar.
    pub calendar: Option<BillingCalendar>,
    /// Changes to the calendar in use (the tenant's or `calendar`).
    pub calendar_changes: Option<CalendarOverrides>,
    pub separate_invoices_by: Option<SeparateBy>,
    pub send_zero_outstanding_invoices: Option<bool>,
    pub invoice_due_days: Option<u32>,
    /// The bill-to party's own deductible invoice due days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deductible_invoice_due_days: Option<u32>,
    pub credit: Option<CreditOptions>,
    pub delinquency: Option<DelinquencyPlan>,
    pub auto_write_off_up_to: Option<Decimal>,
    /// The bill-to party's own "Enable Automatic Billing" (seed 003).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatic_billing: Option<bool>,
    /// The bill-to party's own communication preference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub communication: Option<Communication>,
}

fn yes() -> bool {
    true
}

fn default_grace_days() -> u32 {
    DEFAULT_GRACE_DAYS
}

/// Refuses the two calendar fields the billing settings own, whichever is
/// given (`Some`): the due days and whether zero invoices are sent are read
/// from [`BillingSettings::invoice_due_days`] and
/// [`BillingSettings::send_zero_outstanding_invoices`] only (one rule, one
/// place), so a calendar naming them would be silently ignored.
///
/// Example: `{"calendar": {"frequency": "monthly", "day": {"day-of-month": 1},
/// "invoice_due_days": 15}}` is refused with `calendar_field_in_settings`;
/// `{"calendar": {"frequency": "monthly", "day": {"day-of-month": 1}},
/// "invoice_due_days": 15}` bills an installment run on 2026-03-02 due
/// 2026-03-17. The calendar's defaults (0 due days, zero invoices sent), which
/// every stored calendar serialises, pass.
fn refuse_calendar_fields(
    invoice_due_days: Option<()>,
    send_zero_outstanding_invoices: Option<()>,
) -> Result<(), CollectionsError> {
    if invoice_due_days.is_some() {
        return Err(CollectionsError::CalendarFieldInSettings {
            field: "invoice_due_days",
        });
    }
    if send_zero_outstanding_invoices.is_some() {
        return Err(CollectionsError::CalendarFieldInSettings {
            field: "send_zero_outstanding_invoices",
        });
    }
    Ok(())
}

impl AccountOverrides {
    /// Checks what the overrides themselves say, before they are merged with
    /// the tenant's settings: calendar changes may not name the two fields
    /// the settings own (see [`refuse_calendar_fields`]; the account's own
    /// `invoice_due_days` and `send_zero_outstanding_invoices` are the place).
    pub fn validate(&self) -> Result<(), CollectionsError> {
        if let Some(credit) = &self.credit {
            credit.check()?;
        }
        if let Some(changes) = &self.calendar_changes {
            refuse_calendar_fields(
                changes.invoice_due_days.map(|_| ()),
                changes.send_zero_outstanding_invoices.map(|_| ()),
            )?;
        }
        Ok(())
    }
}

impl BillingSettings {
    /// The settings of an account: these with its overrides.
    pub fn for_account(&self, overrides: &AccountOverrides) -> BillingSettings {
        let calendar = overrides
            .calendar
            .clone()
            .or_else(|| self.calendar.clone())
            .map(|calendar| match &overrides.calendar_changes {
                Some(changes) => calendar.with_overrides(changes),
                None => calendar,
            });
        BillingSettings {
            calendar,
            separate_invoices_by: overrides
                .separate_invoices_by
                .unwrap_or(self.separate_invoices_by),
            send_zero_outstanding_invoices: overrides
                .send_zero_outstanding_invoices
                .unwrap_or(self.send_zero_outstanding_invoices),
            invoice_due_days: overrides.invoice_due_days.unwrap_or(self.invoice_due_days),
            deductible_invoice_due_days: overrides
                .deductible_invoice_due_days
                .or(self.deductible_invoice_due_days),
            credit: overrides.credit.unwrap_or(self.credit),
            delinquency: overrides
                .delinquency
                .clone()
                .unwrap_or_else(|| self.delinquency.clone()),
            auto_write_off_up_to: overrides
                .auto_write_off_up_to
                .unwrap_or(self.auto_write_off_up_to),
            returned_payment_fee: self.returned_payment_fee,
            automatic_billing: overrides
                .automatic_billing
                .unwrap_or(self.automatic_billing),
            communication: overrides.communication.unwrap_or(self.communication),
            auto_bind: self.auto_bind.clone(),
        }
    }

    /// Days from a deductible invoice's issue date to its due date.
    pub fn deductible_due_days(&self) -> u32 {
        self.deductible_invoice_due_days
            .unwrap_or(self.invoice_due_days)
    }

    /// Checks every setting.
    pub fn validate(&self) -> Result<(), CollectionsError> {
        self.credit.check()?;
        if let Some(calendar) = &self.calendar {
            calendar
                .validate()
                .map_err(|e| CollectionsError::InvalidCalendar(e.to_string()))?;
            refuse_calendar_fields(
                (calendar.invoice_due_days != 0).then_some(()),
                (!calendar.send_zero_outstanding_invoices).then_some(()),
            )?;
        }
        if self.invoice_due_days > DUE_DAYS_MAX {
            return Err(CollectionsError::InvalidInvoiceDueDays {
                days: self.invoice_due_days,
            });
        }
        if let Some(days) = self.deductible_invoice_due_days
            && days > DUE_DAYS_MAX
        {
            return Err(CollectionsError::InvalidDeductibleDueDays { days });
        }
        if let Some(auto_bind) = &self.auto_bind
            && !(1..=AUTO_BIND_DAYS_MAX).contains(&auto_bind.expire_after_days)
        {
            return Err(CollectionsError::InvalidAutoBind(format!(
                "expire_after_days {} must be from 1 to {AUTO_BIND_DAYS_MAX}",
                auto_bind.expire_after_days
            )));
        }
        let plan = &self.delinquency;
        if plan.grace_days > GRACE_DAYS_MAX {
            return Err(CollectionsError::InvalidGraceDays {
                days: plan.grace_days,
            });
        }
        for (what, amount) in [
            ("delinquency minimum", plan.minimum),
            ("late fee", plan.late_fee),
            ("automatic write-off threshold", self.auto_write_off_up_to),
            ("returned payment fee", self.returned_payment_fee),
        ] {
            if amount.is_sign_negative() || amount.scale() > SETTINGS_AMOUNT_SCALE_MAX {
                return Err(CollectionsError::InvalidSettingAmount { what, amount });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_tenant_with_no_configuration_gets_the_documented_defaults() {
        let settings: BillingSettings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings, BillingSettings::default());
        assert_eq!(settings.delinquency.grace_days, 30);
        assert!(settings.credit.apply_on_invoice_generation);
        assert!(!settings.credit.apply_when_term_effective);
        assert!(settings.send_zero_outstanding_invoices);
    }

    #[test]
    fn an_account_override_replaces_only_what_it_names() {
        let tenant = BillingSettings {
            invoice_due_days: 10,
            ..BillingSettings::default()
        };
        let overrides = AccountOverrides {
            separate_invoices_by: Some(SeparateBy::Policy),
            auto_write_off_up_to: Some(dec!(5.00)),
            ..AccountOverrides::default()
        };
        let account = tenant.for_account(&overrides);
        assert_eq!(account.invoice_due_days, 10);
        assert_eq!(account.separate_invoices_by, SeparateBy::Policy);
        assert_eq!(account.auto_write_off_up_to, dec!(5.00));
    }

    #[test]
    fn deductible_due_days_fall_back_to_invoice_due_days_and_an_account_may_override_them() {
        let tenant = BillingSettings {
            invoice_due_days: 15,
            ..BillingSettings::default()
        };
        assert_eq!(tenant.deductible_due_days(), 15);
        let tenant = BillingSettings {
            deductible_invoice_due_days: Some(30),
            ..tenant
        };
        assert_eq!(tenant.deductible_due_days(), 30);
        let overrides = AccountOverrides {
            deductible_invoice_due_days: Some(45),
            ..AccountOverrides::default()
        };
        assert_eq!(tenant.for_account(&overrides).deductible_due_days(), 45);
        let json = serde_json::to_value(BillingSettings::default()).unwrap();
        assert!(json.get("deductible_invoice_due_days").is_none(), "{json}");
    }

    #[test]
    fn deductible_due_days_over_366_are_refused_with_their_own_code() {
        let settings = BillingSettings {
            deductible_invoice_due_days: Some(367),
            ..BillingSettings::default()
        };
        let error = settings.validate().unwrap_err();
        assert_eq!(error.code(), "invalid_deductible_due_days");
        let settings = BillingSettings {
            deductible_invoice_due_days: Some(366),
            ..BillingSettings::default()
        };
        assert!(settings.validate().is_ok());
    }

    #[test]
    fn calendar_due_days_and_zero_invoices_are_refused_but_their_defaults_pass() {
        let monthly = BillingCalendar::new(
            crate::billing::BillingFrequency::Monthly,
            crate::billing::BillingDay::DayOfMonth(1),
        );
        let settings = BillingSettings {
            calendar: Some(monthly.clone()),
            invoice_due_days: 15,
            send_zero_outstanding_invoices: false,
            ..BillingSettings::default()
        };
        assert!(settings.validate().is_ok());
        for (calendar, field) in [
            (
                BillingCalendar {
                    invoice_due_days: 15,
                    ..monthly.clone()
                },
                "invoice_due_days",
            ),
            (
                BillingCalendar {
                    send_zero_outstanding_invoices: false,
                    ..monthly.clone()
                },
                "send_zero_outstanding_invoices",
            ),
        ] {
            let settings = BillingSettings {
                calendar: Some(calendar),
                ..BillingSettings::default()
            };
            let error = settings.validate().unwrap_err();
            assert_eq!(error, CollectionsError::CalendarFieldInSettings { field });
            assert_eq!(error.code(), "calendar_field_in_settings");
        }
        let overrides = AccountOverrides {
            calendar_changes: Some(CalendarOverrides {
                send_zero_outstanding_invoices: Some(true),
                ..CalendarOverrides::default()
            }),
            ..AccountOverrides::default()
        };
        assert_eq!(
            overrides.validate(),
            Err(CollectionsError::CalendarFieldInSettings {
                field: "send_zero_outstanding_invoices"
            })
        );
    }

    #[test]
    fn a_negative_late_fee_is_refused() {
        let mut settings = BillingSettings::default();
        settings.delinquency.late_fee = dec!(-1);
        assert!(settings.validate().is_err());
    }
}

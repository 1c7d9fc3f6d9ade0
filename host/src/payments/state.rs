//! A tenant's payment methods, autopay enrolments, processor adapter and
//! collection attempts as a state machine: method, autopay and processor
//! commands are checked and decided here into events; every event is
//! applied without checks, so the log rebuilds the state exactly. Attempt
//! outcomes are decided by the engine (`engine::payments`), which records
//! and reverses payments with them.

use super::attempt::{AttemptStatus, CollectionAttempt};
use super::card::first_card_number;
use super::command::{PaymentCommand, PaymentEvent};
use super::error::PaymentError;
use super::retry::{RETRY_DAYS_MAX, SOFT_DECLINE_RETRIES_MAX};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The most payment methods attached to one account at a time.
pub const METHODS_PER_ACCOUNT_MAX: usize = 20;
/// The most characters of a processor token.
pub const TOKEN_CHARS_MAX: usize = 500;
/// The most characters of a brand.
pub const BRAND_CHARS_MAX: usize = 40;
/// The most days before the due date a collection may be made.
pub const LEAD_DAYS_MAX: u32 = 30;
/// The most characters of a processor adapter's URL.
pub const PROCESSOR_URL_CHARS_MAX: usize = 2_000;

/// What kind of payment method a token stands for.
#[derive(utoipa::ToSchema, Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodType {
    Card,
    BankAccount,
}

/// A payment method: a processor's token (by reference) and what is shown.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    /// `pm_<n>`, per tenant.
    pub id: String,
    pub account: String,
    pub method_type: MethodType,
    /// The reference of the sealed token (not the token); answers show
    /// `api::routes::payments::MethodView`, without it.
    pub token_ref: String,
    pub brand: String,
    pub last_four: String,
    pub exp_month: Option<u32>,
    pub exp_year: Option<u32>,
    pub attached_at: DateTime<Utc>,
    pub attached_by: String,
}

/// An account's autopay enrolment.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Autopay {
    pub enabled: bool,
    pub method: Option<String>,
}

/// The tenant's payment processor adapter (its secret by reference).
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessorConfig {
    pub url: String,
    /// The reference of the sealed processor secret (not the secret).
    pub secret_ref: String,
    pub lead_days: u32,
    pub soft_decline_retry_days: Vec<u32>,
}

/// A tenant's payments.
#[derive(utoipa::ToSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payments {
    /// Attached methods by id (detached ones are removed).
    pub methods: BTreeMap<String, PaymentMethod>,
    /// Methods ever attached (ids are never reused).
    pub methods_made: u32,
    /// Each account's default method.
    pub defaults: BTreeMap<String, String>,
    pub autopay: BTreeMap<String, Autopay>,
    pub processor: Option<ProcessorConfig>,
    /// Attempts by id.
    pub attempts: BTreeMap<String, CollectionAttempt>,
    pub attempts_made: u32,
    /// Processor events applied (each once).
    pub processor_events: BTreeSet<String>,
}

fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), PaymentError> {
    if value.chars().count() > max {
        return Err(PaymentError::BadMethod {
            field,
            why: format!("at most {max} characters"),
        });
    }
    Ok(())
}

/// Refuses a request any of whose `fields` looks like a full card number
/// (see [`super::card`]).
pub fn refuse_card_numbers(fields: &[(&str, &str)]) -> Result<(), PaymentError> {
    match first_card_number(fields) {
        Some(field) => Err(PaymentError::CardNumber {
            field: field.to_string(),
        }),
        None => Ok(()),
    }
}

/// Checks a processor adapter's URL and retry days.
pub fn check_processor(url: &str, lead_days: u32, retry_days: &[u32]) -> Result<(), PaymentError> {
    let bad = |field, why: &str| PaymentError::BadProcessor {
        field,
        why: why.to_string(),
    };
    if url.len() > PROCESSOR_URL_CHARS_MAX {
        return Err(bad("url", "too long"));
    }
    match url::Url::parse(url) {
        Ok(parsed)
            if matches!(parsed.scheme(), "http" | "https")
                && parsed.host().is_some()
                && parsed.username().is_empty()
                && parsed.password().is_none() => {}
        _ => {
            return Err(bad(
                "url",
                "an http or https URL with a host and no user name",
            ));
        }
    }
    if lead_days > LEAD_DAYS_MAX {
        return Err(bad("lead_days", "at most 30"));
    }
    if retry_days.len() > SOFT_DECLINE_RETRIES_MAX
        || retry_days.windows(2).any(|w| w[0] >= w[1])
        || retry_days.iter().any(|d| *d == 0 || *d > RETRY_DAYS_MAX)
    {
        return Err(bad(
            "soft_decline_retry_days",
            "at most 10 increasing days from 1 to 60",
        ));
    }
    Ok(())
}

impl Payments {
    /// An account's attached method.
    pub fn method(&self, account: &str, id: &str) -> Result<&PaymentMethod, PaymentError> {
        self.methods
            .get(id)
            .filter(|m| m.account == account)
            .ok_or_else(|| PaymentError::UnknownMethod {
                account: account.chars().take(100).collect(),
                method: id.chars().take(100).collect(),
            })
    }

    /// An account's methods, in the order they were attached.
    pub fn methods_of(&self, account: &str) -> Vec<&PaymentMethod> {
        let mut found: Vec<&PaymentMethod> = self
            .methods
            .values()
            .filter(|m| m.account == account)
            .collect();
        found.sort_by_key(|m| m.id[3..].parse::<u32>().unwrap_or(u32::MAX));
        found
    }

    /// An attempt by id.
    pub fn attempt(&self, id: &str) -> Result<&CollectionAttempt, PaymentError> {
        self.attempts
            .get(id)
            .ok_or_else(|| PaymentError::UnknownAttempt(id.chars().take(100).collect()))
    }

    /// The attempts at one invoice, oldest first.
    pub fn attempts_of(&self, invoice: &str) -> Vec<&CollectionAttempt> {
        let mut found: Vec<&CollectionAttempt> = self
            .attempts
            .values()
            .filter(|a| a.invoice == invoice)
            .collect();
        found.sort_by_key(|a| a.number);
        found
    }

    /// The event of a method, autopay or processor command by `actor` at
    /// `at`; attempt commands are the engine's.
    pub fn decide(
        &self,
        command: &PaymentCommand,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<PaymentEvent, PaymentError> {
        let actor = actor.to_string();
        match command {
            PaymentCommand::AttachMethod {
                account,
                method_type,
                token_ref,
                brand,
                last_four,
                exp_month,
                exp_year,
                make_default,
            } => {
                refuse_card_numbers(&[("brand", brand), ("last_four", last_four)])?;
                check_text("brand", brand, BRAND_CHARS_MAX)?;
                if !(last_four.is_empty()
                    || (last_four.len() == 4 && last_four.bytes().all(|b| b.is_ascii_digit())))
                {
                    return Err(PaymentError::BadMethod {
                        field: "last_four",
                        why: "four digits".to_string(),
                    });
                }
                if exp_month.is_some_and(|m| !(1..=12).contains(&m)) {
                    return Err(PaymentError::BadMethod {
                        field: "exp_month",
                        why: "1 to 12".to_string(),
                    });
                }
                if exp_year.is_some_and(|y| !(2000..=2100).contains(&y)) {
                    return Err(PaymentError::BadMethod {
                        field: "exp_year",
                        why: "a four-digit year from 2000 to 2100".to_string(),
                    });
                }
                if self.methods_of(account).len() >= METHODS_PER_ACCOUNT_MAX {
                    return Err(PaymentError::TooManyMethods {
                        max: METHODS_PER_ACCOUNT_MAX,
                    });
                }
                Ok(PaymentEvent::MethodAttached {
                    account: account.clone(),
                    method: format!("pm_{}", self.methods_made + 1),
                    method_type: *method_type,
                    token_ref: token_ref.clone(),
                    brand: brand.clone(),
                    last_four: last_four.clone(),
                    exp_month: *exp_month,
                    exp_year: *exp_year,
                    default: *make_default || !self.defaults.contains_key(account),
                    actor,
                    at,
                })
            }
            PaymentCommand::DetachMethod { account, method } => {
                let found = self.method(account, method)?;
                if self
                    .autopay
                    .get(account)
                    .is_some_and(|a| a.enabled && a.method.as_deref() == Some(&found.id))
                {
                    return Err(PaymentError::MethodInAutopay {
                        method: found.id.clone(),
                    });
                }
                Ok(PaymentEvent::MethodDetached {
                    account: account.clone(),
                    method: found.id.clone(),
                    actor,
                    at,
                })
            }
            PaymentCommand::SetAutopay {
                account,
                method,
                enabled,
            } => {
                let method = match method {
                    Some(method) => Some(self.method(account, method)?.id.clone()),
                    None => self.defaults.get(account).cloned(),
                };
                if *enabled && method.is_none() {
                    return Err(PaymentError::NoAutopayMethod);
                }
                Ok(PaymentEvent::AutopaySet {
                    account: account.clone(),
                    method,
                    enabled: *enabled,
                    actor,
                    at,
                })
            }
            PaymentCommand::ConfigureProcessor {
                url,
                secret_ref,
                lead_days,
                soft_decline_retry_days,
            } => {
                check_processor(url, *lead_days, soft_decline_retry_days)?;
                Ok(PaymentEvent::ProcessorConfigured {
                    url: url.clone(),
                    secret_ref: secret_ref.clone(),
                    lead_days: *lead_days,
                    soft_decline_retry_days: soft_decline_retry_days.clone(),
                    actor,
                    at,
                })
            }
            PaymentCommand::RecordAnswer { .. } | PaymentCommand::RecordProcessorEvent { .. } => {
                unreachable!("attempt outcomes are decided by the engine")
            }
        }
    }

    pub fn apply(&mut self, event: &PaymentEvent) {
        match event {
            PaymentEvent::MethodAttached {
                account,
                method,
                method_type,
                token_ref,
                brand,
                last_four,
                exp_month,
                exp_year,
                default,
                actor,
                at,
            } => {
                self.methods_made += 1;
                self.methods.insert(
                    method.clone(),
                    PaymentMethod {
                        id: method.clone(),
                        account: account.clone(),
                        method_type: *method_type,
                        token_ref: token_ref.clone(),
                        brand: brand.clone(),
                        last_four: last_four.clone(),
                        exp_month: *exp_month,
                        exp_year: *exp_year,
                        attached_at: *at,
                        attached_by: actor.clone(),
                    },
                );
                if *default {
                    self.defaults.insert(account.clone(), method.clone());
                }
            }
            PaymentEvent::MethodDetached {
                account, method, ..
            } => {
                self.methods.remove(method);
                if self.defaults.get(account) == Some(method) {
                    self.defaults.remove(account);
                }
                if let Some(autopay) = self.autopay.get_mut(account)
                    && autopay.method.as_ref() == Some(method)
                {
                    autopay.method = None;
                    autopay.enabled = false;
                }
            }
            PaymentEvent::AutopaySet {
                account,
                method,
                enabled,
                ..
            } => {
                self.autopay.insert(
                    account.clone(),
                    Autopay {
                        enabled: *enabled,
                        method: method.clone(),
                    },
                );
            }
            PaymentEvent::ProcessorConfigured {
                url,
                secret_ref,
                lead_days,
                soft_decline_retry_days,
                ..
            } => {
                self.processor = Some(ProcessorConfig {
                    url: url.clone(),
                    secret_ref: secret_ref.clone(),
                    lead_days: *lead_days,
                    soft_decline_retry_days: soft_decline_retry_days.clone(),
                });
            }
            PaymentEvent::CollectionAttemptRequested {
                attempt,
                idempotency_key,
                account,
                invoice,
                amount,
                method,
                number,
                first_requested_on,
                requested_on,
                at,
                ..
            } => {
                self.attempts_made += 1;
                self.attempts.insert(
                    attempt.clone(),
                    CollectionAttempt {
                        id: attempt.clone(),
                        idempotency_key: idempotency_key.clone(),
                        account: account.clone(),
                        invoice: invoice.clone(),
                        amount: *amount,
                        method: method.clone(),
                        number: *number,
                        first_requested_on: *first_requested_on,
                        requested_on: *requested_on,
                        requested_at: *at,
                        status: AttemptStatus::Requested,
                    },
                );
            }
            PaymentEvent::CollectionAttemptPending { attempt, .. } => {
                if let Some(found) = self.attempts.get_mut(attempt) {
                    found.status = AttemptStatus::Pending;
                }
            }
            PaymentEvent::CollectionAttemptSucceeded {
                attempt,
                payment,
                on,
                processor_event,
                ..
            } => {
                if let Some(found) = self.attempts.get_mut(attempt) {
                    found.status = AttemptStatus::Succeeded {
                        payment: payment.clone(),
                        on: *on,
                    };
                }
                self.processor_events.extend(processor_event.clone());
            }
            PaymentEvent::CollectionAttemptFailed {
                attempt,
                code,
                class,
                on,
                retry_on,
                processor_event,
                ..
            } => {
                if let Some(found) = self.attempts.get_mut(attempt) {
                    found.status = AttemptStatus::Failed {
                        code: code.clone(),
                        class: *class,
                        on: *on,
                        retry_on: *retry_on,
                    };
                }
                self.processor_events.extend(processor_event.clone());
            }
            PaymentEvent::CollectionPaymentReturned {
                attempt,
                payment,
                kind,
                code,
                on,
                processor_event,
                ..
            } => {
                if let Some(found) = self.attempts.get_mut(attempt) {
                    found.status = AttemptStatus::Returned {
                        payment: payment.clone(),
                        kind: *kind,
                        code: code.clone(),
                        on: *on,
                    };
                }
                self.processor_events.insert(processor_event.clone());
            }
        }
    }
}

//! Conversions between the WIT versions the host speaks. The host converts
//! its native types to and from the newest version only; a plugin built
//! against an older version gets the newest types converted down (fields it
//! does not know are left out) and its answers converted up. Types of the
//! shared `types` interface are the same Rust types in every version (see
//! `bindings`), so only the records of `rating` and `invoicing` convert.

use super::bindings::{
    wit_invoicing as wi, wit_invoicing_v0_1 as wi1, wit_rating as wr1, wit_rating_v0_2 as wr2,
};

/// A 0.1 rating request as 0.2 (the records are the same).
pub(super) fn rate_request_to_v0_2(request: &wr1::RateRequest) -> wr2::RateRequest {
    wr2::RateRequest {
        operation: request.operation,
        policy: request.policy.clone(),
        items: request
            .items
            .iter()
            .map(|i| wr2::RateItem {
                locator: i.locator.clone(),
                policy_characteristics: i.policy_characteristics.clone(),
                exposure_characteristics: i.exposure_characteristics.clone(),
                peril_characteristics: i.peril_characteristics.clone(),
            })
            .collect(),
        segment: request.segment,
        currency: request.currency.clone(),
        time_zone: request.time_zone.clone(),
    }
}

/// A 0.2 rating response as 0.1 (the records are the same).
pub(super) fn rate_response_from_v0_2(response: wr2::RateResponse) -> wr1::RateResponse {
    wr1::RateResponse {
        items: response
            .items
            .into_iter()
            .map(|i| wr1::PricedItem {
                locator: i.locator,
                charge: i.charge,
                premium: i.premium,
                technical_premium: i.technical_premium,
                commissions: i
                    .commissions
                    .into_iter()
                    .map(|c| wr1::Commission {
                        recipient: c.recipient,
                        amount: c.amount,
                    })
                    .collect(),
            })
            .collect(),
        flat_charges: response
            .flat_charges
            .into_iter()
            .map(|f| wr1::FlatCharge {
                charge: f.charge,
                amount: f.amount,
                item: f.item,
                description: f.description,
            })
            .collect(),
    }
}

/// A 0.2 draft invoice as 0.1: without its net, credit flag and policies.
pub(super) fn draft_to_v0_1(draft: &wi::DraftInvoice) -> wi1::DraftInvoice {
    wi1::DraftInvoice {
        account: draft.account.clone(),
        currency: draft.currency.clone(),
        invoice_date: draft.invoice_date,
        due_date: draft.due_date,
        previous_invoice_count: draft.previous_invoice_count,
        items: draft
            .items
            .iter()
            .map(|i| wi1::DraftItem {
                locator: i.locator.clone(),
                policy: i.policy.clone(),
                charge: i.charge.clone(),
                category: i.category.clone(),
                amount: i.amount.clone(),
                period: i.period,
                installment_number: i.installment_number,
            })
            .collect(),
    }
}

/// A 0.1 plugin's adjustments as 0.2 (the records are the same).
pub(super) fn adjustments_from_v0_1(
    adjustments: wi1::InvoiceAdjustments,
) -> wi::InvoiceAdjustments {
    wi::InvoiceAdjustments {
        lines: adjustments
            .lines
            .into_iter()
            .map(|l| wi::InvoiceLine {
                charge: l.charge,
                amount: l.amount,
                policy: l.policy,
                description: l.description,
            })
            .collect(),
        due_date: adjustments.due_date,
    }
}

/// 0.2 installments as 0.1 (the records are the same).
pub(super) fn installments_to_v0_1(installments: &[wi::Installment]) -> Vec<wi1::Installment> {
    installments
        .iter()
        .map(|i| wi1::Installment {
            locator: i.locator.clone(),
            policy: i.policy.clone(),
            number: i.number,
            period: i.period,
            generate_date: i.generate_date,
            due_date: i.due_date,
            amount: i.amount.clone(),
        })
        .collect()
}

/// A 0.1 plugin's new installment dates as 0.2 (the records are the same).
pub(super) fn installment_dates_from_v0_1(
    moved: Vec<wi1::InstallmentDates>,
) -> Vec<wi::InstallmentDates> {
    moved
        .into_iter()
        .map(|m| wi::InstallmentDates {
            locator: m.locator,
            generate_date: m.generate_date,
            due_date: m.due_date,
        })
        .collect()
}

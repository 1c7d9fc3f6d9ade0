//! The installment-fee invoicer (WIT `premia:plugin@0.2.0`): adds an
//! installment fee to every invoice of a term but the first, so customers who
//! pay in full pay no fee, and only to invoices that bill premium of a policy
//! in force: their premium lines (`premium` and `flatPremium`) net to more
//! than zero, and the policy the fee goes to is in force on the invoice date.
//! A credit invoice, an invoice whose premium nets to zero (an installment and
//! its withdrawal after a cancellation), one of only fees or taxes, and the
//! invoices of a cancelled, lapsed or expired policy get no fee.
//!
//! The fee per currency comes from the `fees` rate table. Worked example: the
//! second monthly invoice of a USD policy, 83.34 of premium, gets a 5.00
//! `installment-fee` line; the first invoice gets none.

use premia_plugin_sdk::invoicing::*;

/// The installment-fee invoicer.
pub struct InstallmentFee;

/// The categories of premium lines.
const PREMIUM_CATEGORIES: [&str; 2] = ["premium", "flatPremium"];

/// What the invoice's premium lines come to together.
fn premium_net(invoice: &DraftInvoice) -> Result<Decimal, PluginError> {
    invoice
        .items
        .iter()
        .filter(|item| PREMIUM_CATEGORIES.contains(&item.category.as_str()))
        .try_fold(Decimal::ZERO, |net, item| {
            let what = format!("item {}", item.locator);
            let amount = parse_decimal(&item.amount, &what).map_err(PluginError::InvalidInput)?;
            Ok(net + amount)
        })
}

impl Invoicer for InstallmentFee {
    fn adjust_invoice(invoice: DraftInvoice) -> Result<InvoiceAdjustments, PluginError> {
        let bills_an_installment = invoice
            .items
            .iter()
            .any(|item| item.installment_number.is_some());
        if invoice.credit
            || invoice.previous_invoice_count == 0
            || !bills_an_installment
            || premium_net(&invoice)? <= Decimal::ZERO
        {
            return Ok(InvoiceAdjustments::none());
        }
        let policy = invoice.items.iter().find_map(|item| item.policy.clone());
        let in_force = match &policy {
            Some(policy) => invoice
                .policy_status(policy)
                .is_some_and(|status| status.coverage.is_in_force()),
            None => invoice.all_policies_in_force(),
        };
        if !in_force {
            return Ok(InvoiceAdjustments::none());
        }
        let fee = lookup_decimal("fees", &[invoice.currency.as_str()], "installment_fee")
            .map_err(PluginError::InvalidInput)?;
        let mut adjustments =
            InvoiceAdjustments::none().line("installment-fee", fee, "Installment fee");
        adjustments.lines[0].policy = policy;
        Ok(adjustments)
    }
}

premia_plugin_sdk::register_invoicer!(InstallmentFee);

#[cfg(test)]
mod tests {
    use super::*;
    use premia_plugin_sdk::testing;

    /// A draft of `policy-1`'s installment 2 (83.34 of premium), the policy
    /// in force in its first term.
    fn draft(currency: &str, previous_invoice_count: u32) -> DraftInvoice {
        DraftInvoice {
            account: "account-1".into(),
            currency: currency.into(),
            invoice_date: Date::new(2025, 2, 1),
            due_date: Date::new(2025, 2, 15),
            previous_invoice_count,
            items: vec![DraftItem {
                locator: "installment-2".into(),
                policy: Some("policy-1".into()),
                charge: "premium".into(),
                category: "premium".into(),
                amount: "83.34".into(),
                period: Some(Period {
                    start: Date::new(2025, 2, 1),
                    end: Date::new(2025, 3, 1),
                }),
                installment_number: Some(2),
            }],
            net: "83.34".into(),
            credit: false,
            policies: vec![PolicyStatus {
                policy: "policy-1".into(),
                term: 1,
                coverage: Coverage::InForce,
            }],
        }
    }

    /// `invoice` with `policy-1` in `coverage` on the invoice date.
    fn with_coverage(mut invoice: DraftInvoice, coverage: Coverage) -> DraftInvoice {
        invoice.policies[0].coverage = coverage;
        invoice
    }

    /// The fee lines `adjust_invoice` adds to `invoice`, as (charge, amount).
    fn fees(invoice: DraftInvoice) -> Vec<(String, String)> {
        InstallmentFee::adjust_invoice(invoice)
            .unwrap()
            .lines
            .into_iter()
            .map(|line| (line.charge, line.amount))
            .collect()
    }

    #[test]
    fn a_normal_second_installment_gets_the_5_00_fee() {
        load_tables();
        assert_eq!(
            fees(draft("USD", 1)),
            [("installment-fee".to_string(), "5.00".to_string())]
        );
    }

    #[test]
    fn an_invoice_the_host_marks_as_a_credit_gets_no_fee() {
        load_tables();
        let mut invoice = draft("USD", 1);
        invoice.items[0].amount = "-83.34".into();
        invoice.net = "-83.34".into();
        invoice.credit = true;
        assert_eq!(fees(invoice), []);
    }

    #[test]
    fn the_invoices_of_a_cancelled_policy_get_no_fee() {
        load_tables();
        let cancelled = Coverage::Cancelled(Date::new(2025, 1, 20));
        assert_eq!(fees(with_coverage(draft("USD", 1), cancelled)), []);
    }

    #[test]
    fn the_invoices_of_a_lapsed_policy_get_no_fee() {
        load_tables();
        let lapsed = Coverage::Lapsed(Date::new(2025, 1, 31));
        assert_eq!(fees(with_coverage(draft("USD", 1), lapsed)), []);
    }

    #[test]
    fn the_invoices_of_an_expired_policy_get_no_fee() {
        load_tables();
        assert_eq!(fees(with_coverage(draft("USD", 1), Coverage::Expired)), []);
    }

    #[test]
    fn the_first_invoice_of_a_renewal_term_gets_no_fee() {
        load_tables();
        let mut invoice = draft("USD", 0);
        invoice.policies[0].term = 2;
        assert_eq!(fees(invoice), []);
    }

    fn load_tables() {
        testing::load_tables_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tables"));
    }

    #[test]
    fn the_first_invoice_of_a_term_has_no_fee() {
        load_tables();
        assert_eq!(
            InstallmentFee::adjust_invoice(draft("USD", 0)).unwrap(),
            InvoiceAdjustments::none()
        );
    }

    #[test]
    fn later_invoices_get_the_fee_of_their_currency() {
        load_tables();
        let adjustments = InstallmentFee::adjust_invoice(draft("EUR", 3)).unwrap();
        assert_eq!(adjustments.lines.len(), 1);
        assert_eq!(adjustments.lines[0].charge, "installment-fee");
        assert_eq!(adjustments.lines[0].amount, "4.50");
        assert_eq!(adjustments.lines[0].policy.as_deref(), Some("policy-1"));
        assert_eq!(adjustments.due_date, None);
    }

    #[test]
    fn an_invoice_of_only_flat_charges_gets_no_fee() {
        load_tables();
        let mut invoice = draft("USD", 2);
        invoice.items[0].installment_number = None;
        assert!(
            InstallmentFee::adjust_invoice(invoice)
                .unwrap()
                .lines
                .is_empty()
        );
    }

    /// A premium line of `amount` for installment `number`.
    fn premium(locator: &str, amount: &str, number: u32) -> DraftItem {
        DraftItem {
            locator: locator.into(),
            amount: amount.into(),
            installment_number: Some(number),
            ..draft("USD", 1).items[0].clone()
        }
    }

    #[test]
    fn an_invoice_whose_premium_nets_to_zero_gets_no_fee() {
        load_tables();
        let mut invoice = draft("USD", 4);
        invoice.items = vec![
            premium("installment-5", "100.00", 5),
            premium("withdrawal-5", "-100.00", 5),
        ];
        assert_eq!(
            InstallmentFee::adjust_invoice(invoice).unwrap(),
            InvoiceAdjustments::none()
        );
    }

    #[test]
    fn a_credit_invoice_gets_no_fee() {
        load_tables();
        let mut invoice = draft("USD", 4);
        invoice.items = vec![
            premium("installment-5", "83.34", 5),
            DraftItem {
                locator: "cancellation-credit".into(),
                amount: "-583.38".into(),
                period: None,
                installment_number: None,
                ..draft("USD", 4).items[0].clone()
            },
        ];
        assert_eq!(
            InstallmentFee::adjust_invoice(invoice).unwrap(),
            InvoiceAdjustments::none()
        );
    }

    #[test]
    fn an_invoice_of_premium_and_a_smaller_withdrawal_still_gets_the_fee() {
        load_tables();
        let mut invoice = draft("USD", 4);
        invoice.items = vec![
            premium("installment-5", "100.00", 5),
            premium("withdrawal-5", "-40.00", 5),
        ];
        let adjustments = InstallmentFee::adjust_invoice(invoice).unwrap();
        assert_eq!(adjustments.lines.len(), 1);
        assert_eq!(adjustments.lines[0].amount, "5.00");
    }

    #[test]
    fn a_currency_without_a_fee_is_invalid_input() {
        load_tables();
        let error = InstallmentFee::adjust_invoice(draft("CHF", 1)).unwrap_err();
        assert_eq!(
            error,
            PluginError::InvalidInput("fees[CHF].installment_fee: no such row".into())
        );
    }
}

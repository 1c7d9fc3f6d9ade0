"""The installment-fee invoicer in Python: the same as plugins/installment-fee
(Rust). Adds an installment fee to every invoice of a term but the first, so
customers who pay in full pay no fee, and only to invoices that bill premium:
their premium lines (`premium` and `flatPremium`) net to more than zero. A
credit invoice, an invoice whose premium nets to zero (an installment and its
withdrawal after a cancellation), and one of only fees or taxes get no fee.
The fee per currency comes from the `fees` rate table: the second monthly
invoice of a USD policy gets a 5.00 `installment-fee` line; the first invoice
gets none.
"""

from wit_world import exports
from wit_world.exports import invoicing

from premia import lookup_decimal, money, parse_decimal

PREMIUM_CATEGORIES = ("premium", "flatPremium")


def premium_net(invoice: invoicing.DraftInvoice):
    """What the invoice's premium lines come to together."""
    return sum(
        (
            parse_decimal(item.amount, f"item {item.locator}")
            for item in invoice.items
            if item.category in PREMIUM_CATEGORIES
        ),
        parse_decimal("0"),
    )


class Invoicing(exports.Invoicing):
    def adjust_invoice(self, invoice: invoicing.DraftInvoice) -> invoicing.InvoiceAdjustments:
        bills_an_installment = any(
            item.installment_number is not None for item in invoice.items
        )
        if (
            invoice.previous_invoice_count == 0
            or not bills_an_installment
            or premium_net(invoice) <= 0
        ):
            return invoicing.InvoiceAdjustments(lines=[], due_date=None)
        fee = lookup_decimal("fees", [invoice.currency], "installment_fee")
        policy = next((item.policy for item in invoice.items if item.policy is not None), None)
        line = invoicing.InvoiceLine(
            charge="installment-fee", amount=money(fee), policy=policy, description="Installment fee"
        )
        return invoicing.InvoiceAdjustments(lines=[line], due_date=None)

    def schedule_dates(self, currency, installments):
        # Installment dates are kept as billing computed them.
        return []

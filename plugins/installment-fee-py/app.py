"""The installment-fee invoicer in Python: the same as plugins/installment-fee
(Rust). Adds an installment fee to every invoice of a term but the first, so
customers who pay in full pay no fee. The fee per currency comes from the
`fees` rate table: the second monthly invoice of a USD policy gets a 5.00
`installment-fee` line; the first invoice gets none.
"""

from wit_world import exports
from wit_world.exports import invoicing

from premia import lookup_decimal, money


class Invoicing(exports.Invoicing):
    def adjust_invoice(self, invoice: invoicing.DraftInvoice) -> invoicing.InvoiceAdjustments:
        bills_an_installment = any(
            item.installment_number is not None for item in invoice.items
        )
        if invoice.previous_invoice_count == 0 or not bills_an_installment:
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

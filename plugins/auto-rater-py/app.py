"""The auto rater in Python: the same rating as plugins/auto-rater (Rust),
passing the same golden cases (plugins/golden/auto-rater).

yearly premium = base rate [vehicle class, peril] x territory factor
  x driver age factor x deductible factor (collision and comprehensive),
  rounded to cents. New business carries a flat 25.00 policy fee; a
`producer` on the policy earns 10% commission. Drivers under 16 are declined.
"""

from decimal import Decimal

from wit_world import exports
from wit_world.exports import rating
from wit_world.imports import types

from premia import (
    declined, has, integer, log, lookup_decimal, money, peril_of, round_money, text, yearly,
)

COMMISSION_RATE = Decimal("0.10")
POLICY_FEE = Decimal("25.00")
DRIVER_AGE_MIN = 16


def age_band(age: int) -> str:
    """The driver-age table's band for an age."""
    if age <= 20:
        return "16-20"
    if age <= 24:
        return "21-24"
    if age <= 64:
        return "25-64"
    return "65+"


class Rating(exports.Rating):
    def rate(self, request: rating.RateRequest) -> rating.RateResponse:
        policy_fields = request.policy.characteristics
        territory = text(policy_fields, "territory")
        territory_factor = lookup_decimal("territory", [territory], "factor")
        producer = text(policy_fields, "producer") if has(policy_fields, "producer") else None

        items = []
        for item in request.items:
            exposure, peril = peril_of(request, item)
            vehicle = exposure.characteristics
            driver_age = integer(vehicle, "driver_age")
            if driver_age < DRIVER_AGE_MIN:
                raise declined(
                    f"vehicle {exposure.locator}: drivers under {DRIVER_AGE_MIN} are not insurable"
                )
            base = lookup_decimal("base-rates", [text(vehicle, "vehicle_class")], peril.name)
            age_factor = lookup_decimal("driver-age", [age_band(driver_age)], "factor")
            deductible_factor = Decimal(1)
            if peril.name != "bodily_injury":
                deductible = (
                    integer(peril.characteristics, "deductible")
                    if has(peril.characteristics, "deductible")
                    else 500
                )
                deductible_factor = lookup_decimal("deductible", [deductible], "factor")
            premium = round_money(base * territory_factor * age_factor * deductible_factor)
            commissions = []
            if producer is not None:
                commissions.append(
                    rating.Commission(
                        recipient=producer, amount=yearly(round_money(premium * COMMISSION_RATE))
                    )
                )
            items.append(
                rating.PricedItem(
                    locator=item.locator,
                    charge=None,
                    premium=yearly(premium),
                    technical_premium=yearly(round_money(base * territory_factor)),
                    commissions=commissions,
                )
            )

        flat_charges = []
        if request.operation == types.Operation.NEW_BUSINESS:
            flat_charges.append(
                rating.FlatCharge(
                    charge="policy-fee", amount=money(POLICY_FEE), item=None, description="Policy fee"
                )
            )
        log("debug", f"rated {len(request.items)} items")
        return rating.RateResponse(items=items, flat_charges=flat_charges)

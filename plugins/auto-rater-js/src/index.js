// The auto rater in JavaScript: the same rating as plugins/auto-rater (Rust),
// passing the same golden cases (plugins/golden/auto-rater).
//
// yearly premium = base rate [vehicle class, peril] × territory factor
//   × driver age factor × deductible factor (collision and comprehensive),
//   rounded to cents. New business carries a flat 25.00 policy fee; a
//   `producer` on the policy earns 10% commission. Drivers under 16 are declined.

import {
  Decimal, dec, declined, has, integer, log, lookupDecimal, perilOf, text, yearly,
} from './premia.js';

const COMMISSION_RATE = dec('0.10');
const POLICY_FEE = dec('25.00');
const DRIVER_AGE_MIN = 16n;

/** The driver-age table's band for an age (a BigInt). */
function ageBand(age) {
  if (age <= 20n) return '16-20';
  if (age <= 24n) return '21-24';
  if (age <= 64n) return '25-64';
  return '65+';
}

export const rating = {
  rate(request) {
    const policyFields = request.policy.characteristics;
    const territory = text(policyFields, 'territory');
    const territoryFactor = lookupDecimal('territory', [territory], 'factor');
    const producer = has(policyFields, 'producer') ? text(policyFields, 'producer') : undefined;

    const items = request.items.map((item) => {
      const [exposure, peril] = perilOf(request, item);
      const vehicle = exposure.characteristics;
      const driverAge = integer(vehicle, 'driver_age');
      if (driverAge < DRIVER_AGE_MIN) {
        throw declined(`vehicle ${exposure.locator}: drivers under ${DRIVER_AGE_MIN} are not insurable`);
      }
      const base = lookupDecimal('base-rates', [text(vehicle, 'vehicle_class')], peril.name);
      const ageFactor = lookupDecimal('driver-age', [ageBand(driverAge)], 'factor');
      let deductibleFactor = Decimal.of(1);
      if (peril.name !== 'bodily_injury') {
        const deductible = has(peril.characteristics, 'deductible')
          ? integer(peril.characteristics, 'deductible')
          : 500n;
        deductibleFactor = lookupDecimal('deductible', [deductible.toString()], 'factor');
      }
      const premium = base.times(territoryFactor).times(ageFactor).times(deductibleFactor).round(2);
      return {
        locator: item.locator,
        charge: undefined,
        premium: yearly(premium),
        technicalPremium: yearly(base.times(territoryFactor).round(2)),
        commissions: producer === undefined
          ? []
          : [{ recipient: producer, amount: yearly(premium.times(COMMISSION_RATE).round(2)) }],
      };
    });

    const flatCharges = request.operation === 'new-business'
      ? [{ charge: 'policy-fee', amount: POLICY_FEE.toString(), item: undefined, description: 'Policy fee' }]
      : [];
    log('debug', `rated ${request.items.length} items`);
    return { items, flatCharges };
  },
};

// The faulty rater in JavaScript: misbehaves on purpose, so the sandbox's
// typed errors can be tested on a JavaScript engine (see plugins/faulty).
//
// The policy text field `mode` picks the misbehaviour:
//   ok        prices every item at 100.00 a year      (no error)
//   loop      spins forever                           (out of fuel / deadline)
//   allocate  allocates memory without bound          (memory limit)
//   trap      throws an exception that is no PluginError (trap)
//   decline   declines the request                    (declined)
//   counter   prices at the number of calls this instance has served
//             (shows state kept between calls by a pooled instance)

import { declined, invalidInput, text, yearly } from './premia.js';

let callsServed = 0;

export const rating = {
  rate(request) {
    callsServed += 1;
    const mode = text(request.policy.characteristics, 'mode');
    const priceAll = (amount) => ({
      items: request.items.map((item) => ({
        locator: item.locator,
        charge: undefined,
        premium: yearly(amount),
        technicalPremium: undefined,
        commissions: [],
      })),
      flatCharges: [],
    });
    switch (mode) {
      case 'ok':
        return priceAll('100.00');
      case 'loop': {
        let counter = 0;
        for (;;) counter = (counter + 1) | 0;
      }
      case 'allocate': {
        // Large buffers: the limit is on memory growth, reached in few steps.
        const hoard = [];
        for (;;) hoard.push(new ArrayBuffer(8 * 1024 * 1024));
      }
      case 'trap':
        throw new TypeError('faulty plugin trapped on purpose');
      case 'decline':
        throw declined('faulty plugin declines on purpose');
      case 'counter':
        return priceAll(String(callsServed));
      default:
        throw invalidInput(`unknown mode ${JSON.stringify(mode)}`);
    }
  },
};

// Premia plugin SDK for JavaScript (premia:plugin@0.1.0).
//
// Copy this file next to your plugin's `index.js` (`premia plugin new --lang js`
// does it for you). It has no dependencies and runs inside the component.
//
// - Money is a decimal string across the boundary ("1234.56"); `Decimal` does
//   exact arithmetic on it with BigInt (never use JavaScript numbers for money).
// - Dates are `{ year, month, day }` records; `isoDate` / `parseIsoDate` convert.
// - Integer fields (`s64`) arrive as BigInt; `integer()` returns a BigInt.
// - Throw `declined(message)` or `invalidInput(message)` to return an error.

import { log as hostLog, lookup as hostLookup } from 'premia:plugin/host@0.1.0';

/** An exact decimal number: `coefficient × 10^-scale`, with BigInt. */
export class Decimal {
  constructor(coefficient, scale) {
    this.coefficient = coefficient;
    this.scale = scale;
  }

  /** Parses "1234.56", "-0.5" or "7"; throws invalidInput naming `what` otherwise. */
  static parse(text, what = 'value') {
    const match = /^\s*([+-]?)(\d+)(?:\.(\d+))?\s*$/.exec(String(text));
    if (!match) {
      throw invalidInput(`${what}: ${JSON.stringify(String(text))} is not a decimal number`);
    }
    const fraction = match[3] ?? '';
    const coefficient = BigInt(match[2] + fraction) * (match[1] === '-' ? -1n : 1n);
    return new Decimal(coefficient, fraction.length);
  }

  /** A decimal from a BigInt or a safe integer (never a fractional number). */
  static of(value) {
    if (value instanceof Decimal) return value;
    if (typeof value === 'bigint') return new Decimal(value, 0);
    if (typeof value === 'number' && Number.isSafeInteger(value)) return new Decimal(BigInt(value), 0);
    return Decimal.parse(value);
  }

  #aligned(other) {
    const b = Decimal.of(other);
    const scale = Math.max(this.scale, b.scale);
    return [
      this.coefficient * 10n ** BigInt(scale - this.scale),
      b.coefficient * 10n ** BigInt(scale - b.scale),
      scale,
    ];
  }

  plus(other) {
    const [a, b, scale] = this.#aligned(other);
    return new Decimal(a + b, scale);
  }

  minus(other) {
    const [a, b, scale] = this.#aligned(other);
    return new Decimal(a - b, scale);
  }

  times(other) {
    const b = Decimal.of(other);
    return new Decimal(this.coefficient * b.coefficient, this.scale + b.scale);
  }

  /** -1, 0 or 1. */
  compare(other) {
    const [a, b] = this.#aligned(other);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** Rounds to `scale` decimal places, half away from zero (as the host does). */
  round(scale = 2) {
    if (scale >= this.scale) {
      return new Decimal(this.coefficient * 10n ** BigInt(scale - this.scale), scale);
    }
    const divisor = 10n ** BigInt(this.scale - scale);
    const negative = this.coefficient < 0n;
    const magnitude = negative ? -this.coefficient : this.coefficient;
    let quotient = magnitude / divisor;
    if ((magnitude % divisor) * 2n >= divisor) quotient += 1n;
    return new Decimal(negative ? -quotient : quotient, scale);
  }

  /** The decimal string the host expects: no exponent, `.` separator. */
  toString() {
    const negative = this.coefficient < 0n;
    let digits = (negative ? -this.coefficient : this.coefficient).toString();
    if (this.scale > 0) {
      digits = digits.padStart(this.scale + 1, '0');
      digits = `${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`;
    }
    return negative ? `-${digits}` : digits;
  }
}

/** `Decimal.parse` for literals: dec("0.10"). */
export const dec = (text) => Decimal.parse(text);

/** An error the plugin returns: `throw declined("drivers under 16 ...")`. */
export class PluginError extends Error {
  constructor(tag, message) {
    super(message);
    // componentize-js returns an exception's `payload` as the result's error.
    Object.defineProperty(this, 'payload', { value: { tag, val: message }, enumerable: true });
  }
}

/** A refusal on business grounds, shown to the user as it is. */
export const declined = (message) => new PluginError('declined', message);
/** A complaint about the request, naming the field. */
export const invalidInput = (message) => new PluginError('invalid-input', message);

/** Writes a line to the host's log (bounded). level: trace|debug|info|warn|error. */
export function log(level, message) {
  hostLog(level, String(message));
}

/** A rate-table cell as text; throws invalidInput "table[keys].column: no such row". */
export function lookup(table, keys, column) {
  try {
    return hostLookup(table, keys.map(String), column);
  } catch (error) {
    const reason = error && Object.hasOwn(error, 'payload') ? error.payload : error;
    throw invalidInput(`${table}[${keys.join(', ')}].${column}: ${String(reason).replaceAll('-', ' ')}`);
  }
}

/** A rate-table cell as a Decimal. */
export function lookupDecimal(table, keys, column) {
  return Decimal.parse(lookup(table, keys, column), `${table}[${keys.join(', ')}].${column}`);
}

function firstValue(characteristics, name) {
  const field = characteristics.fields.find((f) => f.name === name);
  if (!field || field.values.length === 0) {
    throw invalidInput(`${characteristics.locator}: missing field ${name}`);
  }
  return field.values[0];
}

/** A text field's first value. */
export function text(characteristics, name) {
  const value = firstValue(characteristics, name);
  if (value.tag !== 'text') {
    throw invalidInput(`${characteristics.locator}: field ${name} is ${value.tag}, not text`);
  }
  return value.val;
}

/** An integer field's first value, as a BigInt (a text holding an integer is accepted). */
export function integer(characteristics, name) {
  const value = firstValue(characteristics, name);
  if (value.tag === 'integer') return value.val;
  if (value.tag === 'text' && /^\s*-?\d+\s*$/.test(value.val)) return BigInt(value.val.trim());
  throw invalidInput(`${characteristics.locator}: field ${name} is ${JSON.stringify(value.val)}, not an integer`);
}

/** A number field's first value, as a Decimal. */
export function number(characteristics, name) {
  const value = firstValue(characteristics, name);
  if (value.tag === 'number' || value.tag === 'text') return Decimal.parse(value.val, `${characteristics.locator}.${name}`);
  if (value.tag === 'integer') return Decimal.of(value.val);
  throw invalidInput(`${characteristics.locator}: field ${name} is ${value.tag}, not a number`);
}

/** Whether the field is present with at least one value. */
export function has(characteristics, name) {
  return characteristics.fields.some((f) => f.name === name && f.values.length > 0);
}

/** The exposure and peril an item prices: `[exposure, peril]`. */
export function perilOf(request, item) {
  const wanted = item.perilCharacteristics;
  if (wanted === undefined || wanted === null) {
    throw invalidInput(`item ${item.locator}: no peril characteristics`);
  }
  for (const exposure of request.policy.exposures) {
    for (const peril of exposure.perils) {
      if (peril.characteristics.locator === wanted) return [exposure, peril];
    }
  }
  throw invalidInput(`item ${item.locator}: unknown peril characteristics ${wanted}`);
}

/** A yearly amount (prorated by the host). */
export const yearly = (value) => ({ tag: 'yearly', val: Decimal.of(value).toString() });
/** An exact amount for the segment (not prorated). */
export const exact = (value) => ({ tag: 'exact', val: Decimal.of(value).toString() });

/** "2025-01-31" from a WIT date. */
export const isoDate = ({ year, month, day }) =>
  `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;

/** A WIT date from "2025-01-31". */
export function parseIsoDate(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) throw invalidInput(`${JSON.stringify(text)} is not a date (YYYY-MM-DD)`);
  return { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
}

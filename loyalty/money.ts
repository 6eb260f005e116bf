/**
 * Money as integer minor units of an explicit ISO 4217 currency (docs/decisions/005-integer-money.md).
 *
 * Text is parsed digit by digit — never parseFloat — so `120.10` is exactly 12010 cents.
 * Accepted: `12`, `12.5`, `12.50`, `0.99`, `007` (leading zeros are harmless).
 * Rejected: empty text, signs (`+1`, `-1`), exponents (`1e3`), thousands separators (`1,000`),
 * surrounding spaces, a missing integer part (`.5`) or fraction (`12.`), more significant decimals
 * than the currency has (`1.234` in USD), and values above Number.MAX_SAFE_INTEGER minor units.
 * Zero padding past the currency's digits (`1.230` in USD, `1200.00` in JPY) is accepted because it
 * is exact: no rounding ever happens.
 */

/** Thrown by {@link parseMoney}; `reason` is the short human part ("has 3 decimal places; USD allows 2"). */
export class MoneyError extends Error {
  readonly reason: string;
  readonly text: string;
  readonly currency: string;
  constructor(text: string, currency: string, reason: string) {
    super(`amount '${text}' ${reason}`);
    this.name = 'MoneyError';
    this.reason = reason;
    this.text = text;
    this.currency = currency;
  }
}

// ISO 4217 minor-unit digits for active codes (plus a few recently withdrawn ones that still appear
// in historical order data). Everything not listed as 0, 3 or 4 has 2.
const ZERO_DIGITS = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF'.split(
  ' ',
);
const THREE_DIGITS = 'BHD IQD JOD KWD LYD OMR TND'.split(' ');
const FOUR_DIGITS = 'CLF UYW'.split(' ');
const TWO_DIGITS = (
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN ' +
  'BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP ' +
  'GBP GEL GHS GIP GMD GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT ' +
  'LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO ' +
  'NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS ' +
  'SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD ' +
  'XCG YER ZAR ZMW ZWG ZWL'
).split(' ');

const DIGITS = new Map<string, number>();
for (const code of ZERO_DIGITS) DIGITS.set(code, 0);
for (const code of TWO_DIGITS) DIGITS.set(code, 2);
for (const code of THREE_DIGITS) DIGITS.set(code, 3);
for (const code of FOUR_DIGITS) DIGITS.set(code, 4);

/** True when `code` is an ISO 4217 currency this module knows. Codes are upper case (`USD`). */
export function isKnownCurrency(code: string): boolean {
  return DIGITS.has(code);
}

/** Minor-unit digits of an ISO 4217 currency (JPY 0, USD 2, KWD 3). Throws on an unknown code. */
export function currencyDigits(code: string): number {
  const digits = DIGITS.get(code);
  if (digits === undefined) {
    throw new MoneyError('', code, `currency '${code}' is not an ISO 4217 code`);
  }
  return digits;
}

/** Error codes returned (negated) by {@link parseMoneyBytes}. */
export const MoneyParseCode = {
  EMPTY: -1,
  INVALID: -2,
  TOO_MANY_DECIMALS: -3,
  TOO_LARGE: -4,
} as const;

const POW10 = [1, 10, 100, 1000, 10000];

/**
 * Allocation-free parse of ASCII bytes `buf[start..end)` as a plain decimal amount with `digits`
 * minor digits. Returns minor units (≥ 0) or a negative {@link MoneyParseCode}. For the CSV hot
 * loop; call {@link parseMoney} on the text to get the human reason when this fails.
 */
export function parseMoneyBytes(
  buf: Uint8Array,
  start: number,
  end: number,
  digits: number,
): number {
  if (start >= end) return MoneyParseCode.EMPTY;
  let value = 0;
  let i = start;
  // Integer part: at least one digit.
  let c = buf[i]!;
  if (c < 48 || c > 57) return MoneyParseCode.INVALID;
  while (i < end) {
    c = buf[i]!;
    if (c < 48 || c > 57) break;
    value = value * 10 + (c - 48);
    if (value > Number.MAX_SAFE_INTEGER) return MoneyParseCode.TOO_LARGE;
    i++;
  }
  let fractionDigits = 0;
  if (i < end) {
    if (buf[i] !== 46) return MoneyParseCode.INVALID;
    i++;
    if (i === end) return MoneyParseCode.INVALID; // `12.`
    for (; i < end; i++) {
      c = buf[i]!;
      if (c < 48 || c > 57) return MoneyParseCode.INVALID;
      if (fractionDigits < digits) {
        value = value * 10 + (c - 48);
        if (value > Number.MAX_SAFE_INTEGER) return MoneyParseCode.TOO_LARGE;
        fractionDigits++;
      } else if (c !== 48) {
        return MoneyParseCode.TOO_MANY_DECIMALS;
      }
    }
  }
  if (fractionDigits < digits) {
    value *= POW10[digits - fractionDigits]!;
    if (value > Number.MAX_SAFE_INTEGER) return MoneyParseCode.TOO_LARGE;
  }
  return value;
}

const PLAIN = /^[0-9]+(\.[0-9]+)?$/;

/** Why `text` is not a plain decimal amount (only called on the error path). */
function reasonFor(text: string, currency: string, digits: number): string {
  if (text === '') return 'is empty';
  if (text.trim() !== text) return 'has leading or trailing spaces';
  if (text.startsWith('-')) return 'is negative';
  if (text.startsWith('+')) return "has a '+' sign; write the plain number";
  if (/[eE]/.test(text) && /[0-9]/.test(text)) return 'uses an exponent; write the plain number';
  if (text.includes(',')) return "contains ','; use '.' for decimals and no thousands separators";
  if (text.startsWith('.')) return "has no digit before '.'; write 0.5, not .5";
  if (text.endsWith('.')) return "has no digit after '.'";
  if (!PLAIN.test(text)) return 'is not a plain decimal number';
  const fraction = text.slice(text.indexOf('.') + 1).replace(/0+$/, '');
  if (text.includes('.') && fraction.length > digits) {
    const places = fraction.length === 1 ? '1 decimal place' : `${fraction.length} decimal places`;
    return `has ${places}; ${currency} allows ${digits}`;
  }
  return 'is too large';
}

/**
 * Parses a plain decimal amount in `currency` into integer minor units.
 * `parseMoney('120.10', 'USD')` → 12010; `parseMoney('1200', 'JPY')` → 1200; `parseMoney('1.5', 'KWD')` → 1500.
 * Throws {@link MoneyError} naming what is wrong.
 */
export function parseMoney(text: string, currency: string): number {
  const digits = currencyDigits(currency);
  // Non-ASCII text can never be a valid amount; the byte parser only sees char codes < 128.
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    bytes[i] = code < 128 ? code : 0;
  }
  const minor = parseMoneyBytes(bytes, 0, bytes.length, digits);
  if (minor < 0) throw new MoneyError(text, currency, reasonFor(text, currency, digits));
  return minor;
}

/**
 * Formats integer minor units as a plain decimal string with the currency's digits:
 * `formatMoney(12010, 'USD')` → `120.10`, `formatMoney(-5, 'USD')` → `-0.05`, `formatMoney(1200, 'JPY')` → `1200`.
 * No symbol or grouping, so the result round-trips through {@link parseMoney} (when ≥ 0).
 */
export function formatMoney(minor: number, currency: string): string {
  if (!Number.isSafeInteger(minor)) {
    throw new MoneyError(String(minor), currency, 'is not a whole number of minor units');
  }
  const digits = currencyDigits(currency);
  const sign = minor < 0 ? '-' : '';
  const abs = String(Math.abs(minor));
  if (digits === 0) return sign + abs;
  const padded = abs.padStart(digits + 1, '0');
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

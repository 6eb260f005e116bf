/**
 * "This order earns N points" at checkout: the program summary Laurel writes as an app metafield
 * (loyalty/program-summary.ts) and the maths of loyalty/earn.ts `earnPoints` over its bands — the
 * same few lines the theme's laurel.js runs, kept here in TypeScript because an extension bundle
 * cannot import the theme's asset. tests/earn-parity.test.ts proves, with fast-check, that this
 * equals `earnPoints` for any program and amount.
 *
 * The summary arrives as a metafield string, so nothing in it is trusted for its shape: one field
 * of the wrong type, an unsafe number or unsorted bands rejects it, and the checkout then shows no
 * earn line rather than a wrong one.
 */

/** The shape of loyalty/program-summary.ts `ProgramSummary` that the earn maths reads. */
export interface ProgramSummary {
  version: number;
  currency: string;
  /** Minor digits of `currency` (USD 2, JPY 0, KWD 3). */
  digits: number;
  earnOn: 'subtotal_after_discounts' | 'total';
  unitMinor: number;
  /** Sorted by `over`, non-overlapping; amounts in minor units of `currency`. */
  bands: { over: number; upTo: number | null; pointsPerUnit: number }[];
}

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isWhole = (value: unknown, min: number): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= min;

// loyalty/program.ts caps a program at a few bands; more is not a summary Laurel wrote.
const MAX_BANDS = 50;

/** The metafield's JSON value as a summary, or null when it is not one Laurel would write. */
export function parseProgramSummary(value: string): ProgramSummary | null {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return null;
  }
  if (!isRecord(raw)) return null;
  const { version, currency, digits, earnOn, unitMinor, bands } = raw;
  if (!isWhole(version, 1) || typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
    return null;
  }
  if (!isWhole(digits, 0) || digits > 4 || !isWhole(unitMinor, 1)) return null;
  if (earnOn !== 'subtotal_after_discounts' && earnOn !== 'total') return null;
  if (!Array.isArray(bands) || bands.length === 0 || bands.length > MAX_BANDS) return null;
  const parsed: ProgramSummary['bands'] = [];
  let floor = 0;
  for (const band of bands) {
    if (!isRecord(band)) return null;
    const { over, upTo, pointsPerUnit } = band;
    if (!isWhole(over, floor) || !isWhole(pointsPerUnit, 0)) return null;
    if (upTo !== null && !isWhole(upTo, over + 1)) return null;
    // Only the last band may be open-ended; the next starts at or after this one's ceiling.
    if (upTo === null && parsed.length !== bands.length - 1) return null;
    parsed.push({ over, upTo, pointsPerUnit });
    floor = upTo ?? over;
  }
  return { version, currency, digits, earnOn, unitMinor, bands: parsed };
}

/**
 * Base points for `amountMinor` (a non-negative safe integer), exactly as `earnPoints` of
 * loyalty/earn.ts computes them from the compiled program. Null when the result would not be a
 * safe integer (the server refuses those too).
 */
export function earnFromSummary(summary: ProgramSummary, amountMinor: number): number | null {
  let points = 0;
  for (const band of summary.bands) {
    if (amountMinor <= band.over) break; // sorted: no later band can earn
    const top = band.upTo !== null && band.upTo < amountMinor ? band.upTo : amountMinor;
    points += Math.floor((top - band.over) / summary.unitMinor) * band.pointsPerUnit;
  }
  return Number.isSafeInteger(points) ? points : null;
}

/**
 * Checkout's Money `amount` (a decimal number: 29.99) as whole minor units of a currency with
 * `digits` decimals, or null when it is not exactly that (a fraction of a cent, a negative or
 * absurd amount). 29.99 × 100 is 2998.9999999999995 in floating point, so the product is rounded
 * and kept only if dividing back gives the very same number: division is correctly rounded, so
 * 2999 / 100 is the double nearest 29.99, which is what Shopify's JSON 29.99 parsed to.
 */
export function amountToMinor(amount: number, digits: number): number | null {
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) return null;
  const minor = Math.round(amount * 10 ** digits);
  return Number.isSafeInteger(minor) && minor / 10 ** digits === amount ? minor : null;
}

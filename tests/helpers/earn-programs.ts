/**
 * Programs for the earn parity tests — every place that recomputes loyalty/earn.ts `earnPoints`
 * outside the server (the theme's Liquid and laurel.js: tests/theme/earn-parity.test.ts; the
 * checkout extension's src/earn.ts: extensions/laurel-checkout/tests/earn-parity.test.ts) is
 * checked against it on the same generated programs and the same reference examples.
 */
import fc from 'fast-check';
import { currencyDigits, formatMoney } from '../../loyalty/money';
import type { ProgramDefinition } from '../../loyalty/program';

/** Currencies with 0 (JPY), 2 (USD, EUR), 3 (KWD, BHD) and 4 (CLF) minor digits. */
export const CURRENCIES = ['USD', 'EUR', 'JPY', 'KWD', 'BHD', 'CLF'] as const;

/** The reference program (loyalty/program.ts): USD minor units → points. */
export const REFERENCE_EARN_EXAMPLES = [
  [12_000, 90],
  [5_000, 0],
  [5_099, 0],
  [5_100, 1],
  [10_000, 50],
  [0, 0],
] as const;

/**
 * A valid program definition: sorted bands, gaps allowed, the last open-ended or capped.
 * `scaleByDigits`: in currencies with more than 2 minor digits, every amount is multiplied by
 * 10^(digits − 2), so the bands stand at like major amounts in every currency (the theme test draws
 * its prices the same way in each); otherwise amounts are the drawn minor units as they are.
 */
export function programDefinitions(
  options: { scaleByDigits?: boolean } = {},
): fc.Arbitrary<ProgramDefinition> {
  return fc
    .record({
      currency: fc.constantFrom(...CURRENCIES),
      unit: fc.integer({ min: 1, max: 5000 }),
      steps: fc.array(fc.integer({ min: 1, max: 50_000 }), { minLength: 1, maxLength: 5 }),
      start: fc.integer({ min: 0, max: 20_000 }),
      gaps: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
      points: fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 5, maxLength: 5 }),
      openEnded: fc.boolean(),
    })
    .map(({ currency, unit, steps, start, gaps, points, openEnded }): ProgramDefinition => {
      const scale = options.scaleByDigits ? 10 ** Math.max(0, currencyDigits(currency) - 2) : 1;
      const minor = (n: number) => formatMoney(n * scale, currency);
      const bands: ProgramDefinition['earn']['bands'] = [];
      let over = start;
      steps.forEach((step, i) => {
        const upTo = over + step;
        bands.push(
          i === steps.length - 1 && openEnded
            ? { over: minor(over), pointsPerUnit: points[i]! }
            : { over: minor(over), upTo: minor(upTo), pointsPerUnit: points[i]! },
        );
        over = gaps[i] ? upTo + step : upTo;
      });
      return { name: 'Generated', currency, earn: { unit: minor(unit), bands } };
    });
}

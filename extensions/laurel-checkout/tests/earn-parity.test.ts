/**
 * "This order earns N points" is computed at checkout by src/earn.ts from the program summary
 * metafield. It must equal loyalty/earn.ts `earnPoints` — what the order will be awarded — for any
 * program and amount, in currencies with 0, 2, 3 and 4 minor digits; and checkout's decimal Money
 * amount must come back as exactly the minor units it stands for.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { earnPoints } from '../../../loyalty/earn';
import { currencyDigits, formatMoney } from '../../../loyalty/money';
import { parseProgram } from '../../../loyalty/program';
import { programSummary } from '../../../loyalty/program-summary';
import {
  CURRENCIES,
  programDefinitions,
  REFERENCE_EARN_EXAMPLES,
} from '../../../tests/helpers/earn-programs';
import { amountToMinor, earnFromSummary, parseProgramSummary } from '../src/earn';
import { REFERENCE_SUMMARY } from './helpers/host';

const programs = programDefinitions();

/** Minor units: small, near band edges, and up to a few million of the major unit. */
const amounts = fc.oneof(
  fc.integer({ min: 0, max: 300_000 }),
  fc.integer({ min: 0, max: 5_000_000_000 }),
);

describe('earn parity: the checkout extension against loyalty/earn.ts', () => {
  it('agrees on the reference program', () => {
    for (const [minor, points] of REFERENCE_EARN_EXAMPLES) {
      expect(earnFromSummary(parseProgramSummary(JSON.stringify(REFERENCE_SUMMARY))!, minor)).toBe(
        points,
      );
    }
  });

  it('agrees for any program and amount, through the metafield JSON the sync writes', () => {
    fc.assert(
      fc.property(
        programs,
        amounts,
        fc.integer({ min: 1, max: 1000 }),
        (definition, minor, version) => {
          const compiled = parseProgram(definition);
          const summary = parseProgramSummary(JSON.stringify(programSummary(compiled, version)));
          expect(summary).not.toBeNull();
          expect(earnFromSummary(summary!, minor)).toBe(earnPoints(compiled, minor));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("reads checkout's decimal amount back as exactly its minor units", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CURRENCIES),
        fc.integer({ min: 0, max: 10 ** 12 }),
        (currency, minor) => {
          const digits = currencyDigits(currency);
          // What Shopify's JSON carries: the decimal text, parsed as a number.
          const amount = Number(formatMoney(minor, currency));
          expect(amountToMinor(amount, digits)).toBe(minor);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses amounts that are not whole minor units, negative or not numbers', () => {
    expect(amountToMinor(120.005, 2)).toBeNull();
    expect(amountToMinor(0.5, 0)).toBeNull();
    expect(amountToMinor(1.0001, 3)).toBeNull();
    expect(amountToMinor(-1, 2)).toBeNull();
    expect(amountToMinor(Number.NaN, 2)).toBeNull();
    expect(amountToMinor(Number.POSITIVE_INFINITY, 2)).toBeNull();
    expect(amountToMinor(29.99, 2)).toBe(2999);
    expect(amountToMinor(0.07, 2)).toBe(7);
    expect(amountToMinor(1.005, 3)).toBe(1005);
  });
});

describe('parseProgramSummary: only a summary Laurel would write', () => {
  const valid = JSON.stringify(REFERENCE_SUMMARY);
  const patched = (patch: Record<string, unknown>) =>
    JSON.stringify({ ...REFERENCE_SUMMARY, ...patch });
  const bands = (...list: unknown[]) => patched({ bands: list });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['a lower-case currency', patched({ currency: 'usd' })],
    ['5 minor digits', patched({ digits: 5 })],
    ['a zero unit', patched({ unitMinor: 0 })],
    ['an unknown earnOn', patched({ earnOn: 'gross' })],
    ['no bands', bands()],
    ['a band as a string', bands('5000-10000')],
    ['a negative floor', bands({ over: -1, upTo: null, pointsPerUnit: 1 })],
    ['a ceiling under the floor', bands({ over: 100, upTo: 100, pointsPerUnit: 1 })],
    ['an open band before the last', bands({ over: 0, upTo: null, pointsPerUnit: 1 }, { over: 100, upTo: null, pointsPerUnit: 1 })], // prettier-ignore
    ['overlapping bands', bands({ over: 0, upTo: 200, pointsPerUnit: 1 }, { over: 100, upTo: null, pointsPerUnit: 1 })], // prettier-ignore
    ['fractional points', bands({ over: 0, upTo: null, pointsPerUnit: 1.5 })],
    ['a version 0', patched({ version: 0 })],
  ])('%s: null', (_, value) => {
    expect(parseProgramSummary(value)).toBeNull();
  });

  it('keeps what the maths needs and ignores the rest', () => {
    expect(parseProgramSummary(valid)).toEqual({
      version: 3,
      currency: 'USD',
      digits: 2,
      earnOn: 'subtotal_after_discounts',
      unitMinor: 100,
      bands: REFERENCE_SUMMARY.bands,
    });
  });
});

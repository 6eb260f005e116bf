import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeEarn, earnPoints, EarnError } from './earn';
import { parseMoney } from './money';
import { parseProgram, referenceProgram, type ProgramDefinition } from './program';

const reference = parseProgram(referenceProgram);
const usd = (text: string) => parseMoney(text, 'USD');

describe('reference program: 2 points per whole dollar over $100, 1 per whole dollar from $50 to $100', () => {
  it.each([
    ['0', 0],
    ['49.99', 0],
    ['50.00', 0],
    ['50.99', 0],
    ['51', 1],
    ['51.00', 1],
    ['99.99', 49],
    ['100', 50],
    ['100.99', 50],
    ['101', 52],
    ['120', 90],
    ['120.00', 90],
    ['250.00', 350],
  ])('$%s earns %i points', (amount, points) => {
    expect(earnPoints(reference, usd(amount))).toBe(points);
    expect(computeEarn(reference, usd(amount)).points).toBe(points);
  });

  it('explains $120 → 2×20 + 1×50 = 90 band by band', () => {
    expect(computeEarn(reference, usd('120.00'))).toEqual({
      points: 90,
      basePoints: 90,
      amountMinor: 12000,
      currency: 'USD',
      unitMinor: 100,
      bands: [
        { over: 5000, upTo: 10000, wholeUnits: 50, pointsPerUnit: 1, points: 50 },
        { over: 10000, upTo: null, wholeUnits: 20, pointsPerUnit: 2, points: 40 },
      ],
      multipliers: [],
    });
  });
});

describe('other programs', () => {
  const program = (definition: Partial<ProgramDefinition> & Pick<ProgramDefinition, 'earn'>) =>
    parseProgram({ name: 'Test', currency: 'USD', ...definition });

  it('a flat rule is one band from 0', () => {
    const flat = program({ earn: { unit: '1.00', bands: [{ over: '0', pointsPerUnit: 3 }] } });
    expect(earnPoints(flat, usd('0.99'))).toBe(0);
    expect(earnPoints(flat, usd('1.00'))).toBe(3);
    expect(earnPoints(flat, usd('10.50'))).toBe(30);
  });

  it('spend in a gap between bands earns nothing', () => {
    const gapped = program({
      earn: {
        unit: '1.00',
        bands: [
          { over: '0', upTo: '10.00', pointsPerUnit: 1 },
          { over: '20.00', pointsPerUnit: 5 },
        ],
      },
    });
    expect(earnPoints(gapped, usd('15.00'))).toBe(10);
    expect(earnPoints(gapped, usd('22.00'))).toBe(20);
  });

  it('uses the unit in the program currency (¥100 steps in JPY)', () => {
    const yen = parseProgram({
      name: 'Yen',
      currency: 'JPY',
      earn: { unit: '100', bands: [{ over: '0', pointsPerUnit: 1 }] },
    });
    expect(earnPoints(yen, 250)).toBe(2);
    expect(earnPoints(yen, 99)).toBe(0);
  });
});

describe('multipliers', () => {
  it('applies basis points with one floor at the end', () => {
    const tier = { source: 'tier', id: 'gold', factorBps: 15000 };
    expect(computeEarn(reference, usd('120.00'), [tier]).points).toBe(135);
    // $51 → 1 point; ×1.5 ×2 = 3 with a single floor (stepwise flooring would give 2).
    const result = computeEarn(reference, usd('51.00'), [
      { source: 'tier', id: 'silver', factorBps: 15000 },
      { source: 'campaign', id: 'double-days', factorBps: 20000 },
    ]);
    expect(result.basePoints).toBe(1);
    expect(result.points).toBe(3);
    expect(result.multipliers).toEqual([
      { source: 'tier', id: 'silver', factorBps: 15000 },
      { source: 'campaign', id: 'double-days', factorBps: 20000 },
    ]);
  });

  it('stays exact when the intermediate product passes 2^53', () => {
    const amount = usd('9000000000.00'); // base ≈ 1.8e10 points
    const factors = [15000, 17500, 12345];
    const result = computeEarn(
      reference,
      amount,
      factors.map((factorBps, i) => ({ source: 'campaign', id: `c${i}`, factorBps })),
    );
    const expected =
      (BigInt(result.basePoints) * factors.reduce((p, f) => p * BigInt(f), 1n)) / 10000n ** 3n;
    expect(BigInt(result.points)).toBe(expected);
  });

  it('rejects fractional or negative factors', () => {
    expect(() =>
      computeEarn(reference, 12000, [{ source: 'tier', id: 't', factorBps: 1.5 }]),
    ).toThrow(EarnError);
    expect(() =>
      computeEarn(reference, 12000, [{ source: 'tier', id: 't', factorBps: -1 }]),
    ).toThrow(EarnError);
  });
});

describe('invalid amounts', () => {
  it.each([-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])(
    'computeEarn rejects %d',
    (amount) => {
      expect(() => computeEarn(reference, amount)).toThrow(EarnError);
    },
  );
});

describe('properties', () => {
  // Random valid programs: sorted, non-overlapping bands with optional gaps, last one open or not.
  const programArb = fc
    .record({
      unitMinor: fc.integer({ min: 1, max: 1000 }),
      edges: fc.uniqueArray(fc.integer({ min: 0, max: 100_000 }), { minLength: 2, maxLength: 7 }),
      rates: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 6, maxLength: 6 }),
      openEnded: fc.boolean(),
    })
    .map(({ unitMinor, edges, rates, openEnded }) => {
      const sorted = [...edges].sort((a, b) => a - b);
      const bands: { over: number; upTo: number | null; pointsPerUnit: number }[] = [];
      for (let i = 0; i + 1 < sorted.length; i += 2) {
        bands.push({ over: sorted[i]!, upTo: sorted[i + 1]!, pointsPerUnit: rates[bands.length]! });
      }
      if (openEnded) bands[bands.length - 1]!.upTo = null;
      const cents = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, '0')}`;
      return {
        bands,
        unitMinor,
        program: parseProgram({
          name: 'Random',
          currency: 'USD',
          earn: {
            unit: cents(unitMinor),
            bands: bands.map((b) =>
              b.upTo === null
                ? { over: cents(b.over), pointsPerUnit: b.pointsPerUnit }
                : { over: cents(b.over), upTo: cents(b.upTo), pointsPerUnit: b.pointsPerUnit },
            ),
          },
        }),
      };
    });

  it('earnPoints equals computeEarn and an independent BigInt computation', () => {
    fc.assert(
      fc.property(
        programArb,
        fc.integer({ min: 0, max: 200_000 }),
        ({ bands, unitMinor, program }, amount) => {
          let expected = 0n;
          for (const b of bands) {
            if (amount <= b.over) continue;
            const top = b.upTo === null ? amount : Math.min(amount, b.upTo);
            expected += (BigInt(top - b.over) / BigInt(unitMinor)) * BigInt(b.pointsPerUnit);
          }
          const result = computeEarn(program, amount);
          expect(BigInt(earnPoints(program, amount))).toBe(expected);
          expect(result.points).toBe(Number(expected));
          expect(result.bands.reduce((sum, b) => sum + b.points, 0)).toBe(result.basePoints);
        },
      ),
    );
  });

  it('spending more never earns fewer points', () => {
    fc.assert(
      fc.property(programArb, fc.nat(200_000), fc.nat(200_000), ({ program }, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(earnPoints(program, low)).toBeLessThanOrEqual(earnPoints(program, high));
      }),
    );
  });
});

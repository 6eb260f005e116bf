import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { netMovement, type Movements } from './ledger-movements';
import { amountOf, estimateBreakage, netOfBreakage, rollforward, scaleRounded } from './liability';

const points = fc.integer({ min: 0, max: 10_000_000 });
const movements: fc.Arbitrary<Movements> = fc.record({
  issued: points,
  reversed: points,
  redeemed: fc.integer({ min: -1000, max: 10_000_000 }),
  expired: points,
  adjusted: fc.integer({ min: -10_000_000, max: 10_000_000 }),
});

const USD = { amountMinor: 500, points: 500, currency: 'USD', rewardId: 1, rewardTitle: '$5 off' };

describe('rollforward', () => {
  it('is the worked example of docs/liability.md', () => {
    const rows = rollforward(
      [
        {
          month: '2026-10',
          movements: { issued: 1200, reversed: 100, redeemed: 500, expired: 0, adjusted: 0 },
        },
        {
          month: '2026-11',
          movements: { issued: 800, reversed: 0, redeemed: 1000, expired: 150, adjusted: -50 },
        },
      ],
      2200,
    );
    expect(rows).toEqual([
      {
        month: '2026-10',
        opening: 2000,
        issued: 1200,
        reversed: 100,
        redeemed: 500,
        expired: 0,
        adjusted: 0,
        closing: 2600,
      },
      {
        month: '2026-11',
        opening: 2600,
        issued: 800,
        reversed: 0,
        redeemed: 1000,
        expired: 150,
        adjusted: -50,
        closing: 2200,
      },
    ]);
  });

  it('telescopes: each month opens at the last closing, and the first opening plus every movement is the last closing', () => {
    fc.assert(
      fc.property(
        fc.array(movements, { minLength: 1, maxLength: 24 }),
        fc.integer({ min: -1e9, max: 1e9 }),
        (list, closing) => {
          const rows = rollforward(
            list.map((m, i) => ({
              month: `2026-${String((i % 12) + 1).padStart(2, '0')}`,
              movements: m,
            })),
            closing,
          );
          expect(rows.at(-1)!.closing).toBe(closing);
          for (const [i, row] of rows.entries()) {
            expect(row.closing).toBe(
              row.opening + row.issued - row.reversed - row.redeemed - row.expired + row.adjusted,
            );
            if (i > 0) expect(row.opening).toBe(rows[i - 1]!.closing);
          }
          expect(rows[0]!.opening + list.reduce((s, m) => s + netMovement(m), 0)).toBe(closing);
        },
      ),
    );
  });
});

describe('breakage', () => {
  it('is 1 − redeemed / (redeemed + expired + dormant)', () => {
    const estimate = estimateBreakage({ redeemed: 6000, expired: 1500, dormant: 2500 });
    expect(estimate).toMatchObject({ status: 'estimated', redemptionRate: 0.6 });
    expect(estimate.status === 'estimated' && estimate.breakage).toBeCloseTo(0.4, 12);
    // $22.00 of points expected to cost 60% of it.
    expect(netOfBreakage(2200, estimate, USD)).toEqual({ points: 1320, minor: 1320 });
    expect(netOfBreakage(2200, estimate, null)).toEqual({ points: 1320, minor: null });
  });

  it('says the history is too thin rather than invent a figure', () => {
    const thin = estimateBreakage({ redeemed: 0, expired: 0, dormant: 0 });
    expect(thin).toMatchObject({
      status: 'insufficient',
      reason: expect.stringMatching(/too thin/),
    });
    expect(netOfBreakage(100, thin, USD)).toBeNull();
    expect(estimateBreakage({ redeemed: -5, expired: 0, dormant: 10 }).status).toBe('insufficient');
  });

  it('keeps the rate between 0 and 1 and the net liability below the gross', () => {
    fc.assert(
      fc.property(points, points, points, points, (redeemed, expired, dormant, closing) => {
        const e = estimateBreakage({ redeemed, expired, dormant });
        if (redeemed + expired + dormant === 0) return e.status === 'insufficient';
        if (e.status !== 'estimated') return false;
        const net = netOfBreakage(closing, e, USD)!;
        return (
          e.redemptionRate >= 0 &&
          e.redemptionRate <= 1 &&
          net.points <= closing &&
          net.points >= 0 &&
          net.minor! <= amountOf(closing, USD).minor!
        );
      }),
    );
  });
});

describe('scaleRounded', () => {
  it('rounds half away from zero, exactly past 2^53', () => {
    expect(scaleRounded(5, 1, 2)).toBe(3);
    expect(scaleRounded(-5, 1, 2)).toBe(-3);
    expect(scaleRounded(4, 1, 3)).toBe(1);
    expect(scaleRounded(1_000_000_000_000, 999_999_999, 1_000_000_000)).toBe(999_999_999_000);
    fc.assert(
      fc.property(
        fc.integer({ min: -1e6, max: 1e6 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 1000 }),
        (v, n, d) => {
          const exact = (v * n) / d;
          const r = scaleRounded(v, n, d);
          return (
            Math.abs(r - exact) <= 0.5 &&
            (Math.abs(r - exact) < 0.5 || Math.abs(r) > Math.abs(exact))
          );
        },
      ),
    );
  });
});

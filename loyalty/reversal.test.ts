import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  explainReversal,
  ReversalError,
  reversalDelta,
  targetReversed,
  type AwardBasis,
} from './reversal';

/** Posts refunds (cumulative merchandise) one by one, as the workers do; returns each delta. */
function applyRefunds(award: AwardBasis, refunds: number[], cancelAfter?: number): number[] {
  const deltas: number[] = [];
  let refunded = 0;
  let reversed = 0;
  let cancelled = false;
  refunds.forEach((amount, i) => {
    refunded += amount;
    const delta = reversalDelta({
      award,
      refundedMinorTotal: refunded,
      cancelled,
      alreadyReversed: reversed,
    });
    deltas.push(delta);
    reversed += delta;
    if (cancelAfter === i) {
      cancelled = true;
      const rest = reversalDelta({
        award,
        refundedMinorTotal: refunded,
        cancelled,
        alreadyReversed: reversed,
      });
      deltas.push(rest);
      reversed += rest;
    }
  });
  return deltas;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('targetReversed', () => {
  it('reverses in proportion to the refunded merchandise, rounding down', () => {
    // $120 earned 90 points: $20 back is 1/6 → 15; $50 back is 37.5 → 37.
    expect(targetReversed(90, 12_000, 2_000, false)).toBe(15);
    expect(targetReversed(90, 12_000, 5_000, false)).toBe(37);
    expect(targetReversed(90, 12_000, 0, false)).toBe(0);
  });

  it('reverses everything once the whole amount is refunded, or more, or the order is cancelled', () => {
    expect(targetReversed(90, 12_000, 12_000, false)).toBe(90);
    expect(targetReversed(90, 12_000, 15_000, false)).toBe(90);
    expect(targetReversed(90, 12_000, 0, true)).toBe(90);
  });

  it('treats a zero-amount award as unrefundable except by cancellation', () => {
    expect(targetReversed(5, 0, 1_000, false)).toBe(0);
    expect(targetReversed(5, 0, 0, true)).toBe(5);
    expect(targetReversed(0, 0, 0, true)).toBe(0);
  });

  it('stays exact where P × refunded passes 2^53', () => {
    const points = 999_999_999;
    const amount = Number.MAX_SAFE_INTEGER; // 3 × 3002399751580330 + 1
    const refunded = 3_002_399_751_580_330; // just under a third of the amount
    // P × r / A is just under P / 3 = 333333333, so the floor is 333333332; floats round up to the third.
    expect(Math.floor((points * refunded) / amount)).toBe(333_333_333);
    expect(targetReversed(points, amount, refunded, false)).toBe(333_333_332);
    expect(targetReversed(points, amount, amount - 1, false)).toBe(points - 1);
  });

  it('names the input that is not a whole non-negative number', () => {
    expect(() => targetReversed(-1, 100, 0, false)).toThrow(ReversalError);
    expect(() => targetReversed(1.5, 100, 0, false)).toThrow(/award points .*1\.5/);
    expect(() => targetReversed(10, Number.NaN, 0, false)).toThrow(/award amountMinor/);
    expect(() => targetReversed(10, 100, -5, false)).toThrow(/refundedMinorTotal .*-5/);
    expect(() => targetReversed(10, 100, 2 ** 60, false)).toThrow(/refundedMinorTotal/);
  });

  it('is the floor of the exact fraction (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000_000 }),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (points, amount, share) => {
          const refunded = Math.min(amount - 1, Math.floor(amount * share));
          const t = BigInt(targetReversed(points, amount, refunded, false));
          const p = BigInt(points) * BigInt(refunded);
          // t is the largest whole number with t × A ≤ P × refunded.
          expect(t * BigInt(amount) <= p).toBe(true);
          expect((t + 1n) * BigInt(amount) > p).toBe(true);
        },
      ),
    );
  });

  it('never decreases as more is refunded (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000_000 }),
        fc.integer({ min: 0, max: 10 ** 12 }),
        fc.integer({ min: 0, max: 2 * 10 ** 12 }),
        fc.integer({ min: 0, max: 10 ** 12 }),
        (points, amount, refunded, more) => {
          const before = targetReversed(points, amount, refunded, false);
          const after = targetReversed(points, amount, refunded + more, false);
          expect(after).toBeGreaterThanOrEqual(before);
          expect(after).toBeLessThanOrEqual(points);
        },
      ),
    );
  });
});

describe('reversalDelta', () => {
  const award = { points: 90, amountMinor: 12_000 };

  it('follows the worked example in docs/earning-rules.md', () => {
    // $120 → 90 points; refund $20 → reverse 15; refund the remaining $100 → reverse 75.
    expect(applyRefunds(award, [2_000, 10_000])).toEqual([15, 75]);
  });

  it('nets to zero when the same refunds arrive the other way round', () => {
    expect(applyRefunds(award, [10_000, 2_000])).toEqual([75, 15]);
  });

  it('lets a cancellation after a partial refund take exactly the remainder', () => {
    expect(applyRefunds(award, [2_000], 0)).toEqual([15, 75]);
  });

  it('posts nothing for refunds after a cancellation reversed everything', () => {
    expect(
      reversalDelta({ award, refundedMinorTotal: 2_000, cancelled: true, alreadyReversed: 90 }),
    ).toBe(0);
  });

  it('keeps a fractional point until the refunds complete', () => {
    // 10 points on $3.00: each $1.00 refund is 3⅓ points → 3, 3, then the last takes 4.
    expect(applyRefunds({ points: 10, amountMinor: 300 }, [100, 100, 100])).toEqual([3, 3, 4]);
  });

  it('never posts a negative delta nor reverses beyond the award', () => {
    // More already reversed than the target (e.g. a manual correction): nothing comes back.
    expect(
      reversalDelta({ award, refundedMinorTotal: 2_000, cancelled: false, alreadyReversed: 40 }),
    ).toBe(0);
    // Already past P (a corrupted history): still nothing more.
    expect(
      reversalDelta({ award, refundedMinorTotal: 12_000, cancelled: true, alreadyReversed: 95 }),
    ).toBe(0);
  });

  it('refuses a negative or fractional alreadyReversed and a non-boolean cancelled', () => {
    expect(() =>
      reversalDelta({ award, refundedMinorTotal: 0, cancelled: false, alreadyReversed: -1 }),
    ).toThrow(/alreadyReversed/);
    expect(() =>
      reversalDelta({
        award,
        refundedMinorTotal: 0,
        cancelled: 'yes' as unknown as boolean,
        alreadyReversed: 0,
      }),
    ).toThrow(/cancelled must be true or false/);
  });

  it('explains itself with everything needed to re-derive the entry', () => {
    const input = { award, refundedMinorTotal: 2_000, cancelled: false, alreadyReversed: 0 };
    const explanation = explainReversal(input);
    expect(explanation).toEqual({
      rule: 'proportional-cumulative-floor',
      awardPoints: 90,
      awardAmountMinor: 12_000,
      refundedMinorTotal: 2_000,
      cancelled: false,
      alreadyReversed: 0,
      targetReversed: 15,
      delta: 15,
    });
    // Plain JSON (stored as jsonb inputs) and deterministic (same input, same inputs).
    expect(JSON.parse(JSON.stringify(explanation))).toEqual(explanation);
    expect(explainReversal(input)).toEqual(explanation);
    expect(reversalDelta(input)).toBe(explanation.delta);
  });
});

describe('reversal properties', () => {
  const awardArb = fc.record({
    points: fc.integer({ min: 0, max: 1_000_000_000 }),
  });
  /** A split of the award amount into positive partial refunds, plus a shuffled delivery order. */
  const splitArb = fc
    .array(fc.integer({ min: 1, max: 10 ** 12 }), { minLength: 1, maxLength: 12 })
    .chain((parts) =>
      fc.record({
        parts: fc.constant(parts),
        order: fc.shuffledSubarray(parts, { minLength: parts.length, maxLength: parts.length }),
      }),
    );

  it('reverses exactly P when partial refunds add up to A, in any order', () => {
    fc.assert(
      fc.property(awardArb, splitArb, ({ points }, { parts, order }) => {
        const award = { points, amountMinor: sum(parts) };
        const deltas = applyRefunds(award, order);
        expect(deltas.every((d) => d >= 0)).toBe(true);
        // Award +P, reversals −Σdelta: the customer's net from this order is zero.
        expect(points - sum(deltas)).toBe(0);
      }),
    );
  });

  it('never reverses more than P, whatever is refunded and whenever the order is cancelled', () => {
    fc.assert(
      fc.property(
        awardArb,
        fc.integer({ min: 0, max: 10 ** 12 }),
        fc.array(fc.integer({ min: 0, max: 10 ** 12 }), { maxLength: 12 }),
        fc.option(fc.nat({ max: 11 }), { nil: undefined }),
        ({ points }, amountMinor, refunds, cancelAt) => {
          const award = { points, amountMinor };
          const deltas = applyRefunds(award, refunds, cancelAt);
          let running = 0;
          for (const delta of deltas) {
            expect(delta).toBeGreaterThanOrEqual(0);
            running += delta;
            expect(running).toBeLessThanOrEqual(points);
          }
          // The running total always equals the cumulative target: nothing is lost to rounding.
          const cancelled = cancelAt !== undefined && cancelAt < refunds.length;
          expect(running).toBe(targetReversed(points, amountMinor, sum(refunds), cancelled));
        },
      ),
    );
  });

  it('nets to zero when the order is cancelled after any partial refunds', () => {
    fc.assert(
      fc.property(awardArb, splitArb, fc.nat(), ({ points }, { parts, order }, cut) => {
        const award = { points, amountMinor: sum(parts) };
        const partial = order.slice(0, cut % order.length);
        const deltas = applyRefunds(award, [...partial, 0], partial.length);
        expect(sum(deltas)).toBe(points);
      }),
    );
  });

  it('reaches the same total whatever order the same refunds arrive in', () => {
    fc.assert(
      fc.property(
        awardArb,
        splitArb,
        fc.nat({ max: 10 ** 12 }),
        ({ points }, { parts, order }, extra) => {
          // The amount need not equal the refunds here: partial coverage, or over-refunding.
          const award = { points, amountMinor: sum(parts) + extra };
          expect(sum(applyRefunds(award, order))).toBe(sum(applyRefunds(award, parts)));
        },
      ),
    );
  });
});

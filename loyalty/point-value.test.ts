import { describe, expect, it } from 'vitest';
import { pointsToMinor, pointValueOf, type CatalogReward } from './point-value';
import { parseRewardDefinition } from './rewards';

function reward(id: number, input: Record<string, unknown>): CatalogReward {
  return { id, definition: parseRewardDefinition(input, 'USD') };
}

describe('pointValueOf', () => {
  it('takes the best money rate in the catalog', () => {
    const catalog = [
      reward(1, { type: 'percentage', title: '10% off', pointsCost: 100, percentage: 10 }),
      reward(2, { type: 'fixed_amount', title: '$5 off', pointsCost: 500, amountMinor: 500 }),
      reward(3, { type: 'fixed_amount', title: '$12 off', pointsCost: 1000, amountMinor: 1200 }),
      reward(4, { type: 'free_shipping', title: 'Free shipping', pointsCost: 200 }),
    ];
    expect(pointValueOf(catalog, 'USD')).toEqual({
      amountMinor: 1200,
      points: 1000,
      currency: 'USD',
      rewardId: 3,
      rewardTitle: '$12 off',
    });
  });

  it('reads a slider as one major unit per pointsPerUnit', () => {
    const slider = reward(7, {
      type: 'points_slider',
      title: 'Pick your discount',
      slider: { pointsPerUnit: 100, minPoints: 100, maxPoints: 5000, stepPoints: 100 },
    });
    expect(pointValueOf([slider], 'USD')).toMatchObject({ amountMinor: 100, points: 100 });
  });

  it('has no value without a money reward', () => {
    expect(pointValueOf([], 'USD')).toBeNull();
    const shipping = reward(4, { type: 'free_shipping', title: 'Free shipping', pointsCost: 200 });
    expect(pointValueOf([shipping], 'USD')).toBeNull();
  });
});

describe('pointsToMinor', () => {
  it('rounds half away from zero, exact when the product passes 2^53', () => {
    expect(pointsToMinor(1, { amountMinor: 1, points: 2 })).toBe(1);
    expect(pointsToMinor(-1, { amountMinor: 1, points: 2 })).toBe(-1);
    expect(pointsToMinor(1, { amountMinor: 1, points: 3 })).toBe(0);
    expect(pointsToMinor(12_345, { amountMinor: 500, points: 500 })).toBe(12_345);
    // 1e9 × 9,999,999 = 9.999999e15 > 2^53: a float product would be off by one.
    expect(pointsToMinor(1_000_000_001, { amountMinor: 9_999_999, points: 3 })).toBe(
      3_333_333_003_333_333,
    );
  });
});

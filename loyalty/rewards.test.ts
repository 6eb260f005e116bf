import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CODE_RANDOM_BYTES,
  DEFAULT_EXPIRY_DAYS,
  expiryOf,
  generateRewardCode,
  issuedValue,
  issuesCode,
  parseRewardDefinition,
  redemptionPoints,
  REWARD_TYPES,
  RewardError,
  rewardAvailability,
  type MemberStanding,
  type RewardDefinition,
  type RewardIssue,
} from './rewards';

/** The issues parseRewardDefinition reports for `input`, or [] when it is valid. */
function issuesOf(input: unknown, currency = 'USD'): RewardIssue[] {
  try {
    parseRewardDefinition(input, currency);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(RewardError);
    return (error as RewardError).issues;
  }
}

const paths = (input: unknown, currency = 'USD') => issuesOf(input, currency).map((i) => i.path);

/** One valid input per type: the smallest a merchant can write. */
const MINIMAL: Record<(typeof REWARD_TYPES)[number], Record<string, unknown>> = {
  fixed_amount: { type: 'fixed_amount', title: '$5 off', pointsCost: 500, amountMinor: 500 },
  percentage: { type: 'percentage', title: '10% off', pointsCost: 800, percentage: 10 },
  free_shipping: { type: 'free_shipping', title: 'Free shipping', pointsCost: 300 },
  free_product: {
    type: 'free_product',
    title: 'A free coffee',
    pointsCost: 100,
    variantId: 'gid://shopify/ProductVariant/4242',
  },
  store_credit: { type: 'store_credit', title: '$10 credit', pointsCost: 1000, amountMinor: 1000 },
  points_slider: {
    type: 'points_slider',
    title: 'Points off your order',
    slider: { pointsPerUnit: 100, minPoints: 100, maxPoints: 5000, stepPoints: 100 },
  },
};

const slider = (
  values: Partial<{
    pointsPerUnit: number;
    minPoints: number;
    maxPoints: number;
    stepPoints: number;
  }>,
) => ({
  ...MINIMAL.points_slider,
  slider: { pointsPerUnit: 100, minPoints: 100, maxPoints: 5000, stepPoints: 100, ...values },
});

describe('parseRewardDefinition', () => {
  it('accepts the minimal definition of every type and fills the defaults', () => {
    expect(parseRewardDefinition(MINIMAL.fixed_amount, 'USD')).toEqual({
      type: 'fixed_amount',
      title: '$5 off',
      pointsCost: 500,
      amountMinor: 500,
      percentage: null,
      variantId: null,
      slider: null,
      minimumOrderMinor: null,
      limitPerCustomer: null,
      limitPerPeriod: null,
      tiers: null,
      expiryDays: DEFAULT_EXPIRY_DAYS,
      refundPointsOnExpiry: false,
      combinesWith: { orderDiscounts: false, productDiscounts: true, shippingDiscounts: true },
    });
    const percentage = parseRewardDefinition(MINIMAL.percentage, 'USD');
    expect(percentage).toMatchObject({ percentage: 10, amountMinor: null, pointsCost: 800 });
    const shipping = parseRewardDefinition(MINIMAL.free_shipping, 'USD');
    expect(shipping.combinesWith).toEqual({
      orderDiscounts: true,
      productDiscounts: true,
      shippingDiscounts: false,
    });
    const product = parseRewardDefinition(MINIMAL.free_product, 'USD');
    expect(product.variantId).toBe('gid://shopify/ProductVariant/4242');
    expect(product.combinesWith.productDiscounts).toBe(false);
    // Store credit never expires unless the merchant says so, and combines with nothing.
    const credit = parseRewardDefinition(MINIMAL.store_credit, 'USD');
    expect(credit).toMatchObject({ expiryDays: null, amountMinor: 1000, minimumOrderMinor: null });
    const slide = parseRewardDefinition(MINIMAL.points_slider, 'USD');
    expect(slide).toMatchObject({
      pointsCost: null,
      slider: { pointsPerUnit: 100, minPoints: 100, maxPoints: 5000, stepPoints: 100 },
      expiryDays: DEFAULT_EXPIRY_DAYS,
    });
  });

  it('keeps every optional field the merchant sets, trimmed and deduplicated', () => {
    const definition = parseRewardDefinition(
      {
        ...MINIMAL.fixed_amount,
        title: '  $5 off  ',
        minimumOrderMinor: 2500,
        limitPerCustomer: 3,
        limitPerPeriod: { count: 1, days: 30 },
        tiers: ['Gold', ' Gold ', 'Silver'],
        expiryDays: 365,
        refundPointsOnExpiry: true,
        combinesWith: { orderDiscounts: true },
      },
      'USD',
    );
    expect(definition).toMatchObject({
      title: '$5 off',
      minimumOrderMinor: 2500,
      limitPerCustomer: 3,
      limitPerPeriod: { count: 1, days: 30 },
      tiers: ['Gold', 'Silver'],
      expiryDays: 365,
      refundPointsOnExpiry: true,
      combinesWith: { orderDiscounts: true, productDiscounts: true, shippingDiscounts: true },
    });
  });

  it('refuses what is not an object, or an unknown type', () => {
    for (const input of [null, 'fixed_amount', 42, [MINIMAL.fixed_amount]]) {
      expect(paths(input)).toEqual(['']);
    }
    expect(paths({ ...MINIMAL.fixed_amount, type: 'bogus' })).toEqual(['type']);
    expect(paths({ title: 'x', pointsCost: 1 })).toEqual(['type']);
    // Unknown fields are reported with the type problem, not lost.
    expect(paths({ type: 'nope', colour: 'red' })).toEqual(['colour', 'type']);
  });

  it('names every problem of a definition at once', () => {
    const issues = issuesOf({
      type: 'fixed_amount',
      title: '',
      pointsCost: 0,
      amountMinor: 1.5,
      percentage: 10,
      extra: true,
    });
    expect(issues.map((i) => i.path).sort()).toEqual(
      ['amountMinor', 'extra', 'percentage', 'pointsCost', 'title'].sort(),
    );
    expect(issues.find((i) => i.path === 'percentage')!.message).toBe(
      'does not apply to a fixed_amount reward',
    );
    const error = (() => {
      try {
        parseRewardDefinition({ type: 'fixed_amount', title: 'x', amountMinor: 100 }, 'USD');
      } catch (e) {
        return e as RewardError;
      }
    })();
    expect(error?.message).toBe('pointsCost: is required for this type');
  });

  it('checks the title: present, at most 80 characters, one line', () => {
    expect(paths({ ...MINIMAL.free_shipping, title: '   ' })).toEqual(['title']);
    expect(paths({ ...MINIMAL.free_shipping, title: 7 })).toEqual(['title']);
    expect(paths({ ...MINIMAL.free_shipping, title: 'x'.repeat(80) })).toEqual([]);
    expect(paths({ ...MINIMAL.free_shipping, title: 'x'.repeat(81) })).toEqual(['title']);
    for (const bad of ['a\nb', 'a\tb', 'a\u0000b', 'a\u007fb']) {
      expect(paths({ ...MINIMAL.free_shipping, title: bad })).toEqual(['title']);
    }
  });

  it.each([
    ['pointsCost', 0],
    ['pointsCost', -5],
    ['pointsCost', 1.5],
    ['pointsCost', '500'],
    ['pointsCost', 10_000_001],
    ['pointsCost', Number.NaN],
  ])('fixed costs are whole points from 1: %s = %s refused', (field, value) => {
    expect(paths({ ...MINIMAL.fixed_amount, [field]: value })).toEqual([field]);
  });

  it('requires each type its own value and refuses the others', () => {
    expect(paths({ ...MINIMAL.fixed_amount, amountMinor: undefined })).toEqual(['amountMinor']);
    expect(paths({ ...MINIMAL.fixed_amount, amountMinor: 0 })).toEqual(['amountMinor']);
    expect(paths({ ...MINIMAL.store_credit, amountMinor: '10.00' })).toEqual(['amountMinor']);
    expect(paths({ ...MINIMAL.percentage, percentage: undefined })).toEqual(['percentage']);
    expect(paths({ ...MINIMAL.percentage, percentage: 0 })).toEqual(['percentage']);
    expect(paths({ ...MINIMAL.percentage, percentage: 101 })).toEqual(['percentage']);
    expect(paths({ ...MINIMAL.percentage, percentage: 12.5 })).toEqual(['percentage']);
    expect(paths({ ...MINIMAL.percentage, percentage: 100 })).toEqual([]);
    expect(paths({ ...MINIMAL.free_product, variantId: undefined })).toEqual(['variantId']);
    for (const bad of [
      '4242',
      'gid://shopify/Product/4242',
      'gid://shopify/ProductVariant/0',
      'gid://shopify/ProductVariant/12a',
    ]) {
      expect(paths({ ...MINIMAL.free_product, variantId: bad })).toEqual(['variantId']);
    }
    expect(paths({ ...MINIMAL.free_shipping, amountMinor: 100 })).toEqual(['amountMinor']);
    expect(
      paths({ ...MINIMAL.free_shipping, variantId: 'gid://shopify/ProductVariant/1' }),
    ).toEqual(['variantId']);
    expect(paths({ ...MINIMAL.fixed_amount, slider: MINIMAL.points_slider.slider })).toEqual([
      'slider',
    ]);
    expect(paths({ ...MINIMAL.points_slider, pointsCost: 100 })).toEqual(['pointsCost']);
    // Null is "not set", never a problem for a field that does not apply.
    expect(paths({ ...MINIMAL.free_shipping, amountMinor: null, percentage: null })).toEqual([]);
  });

  it('store credit takes no minimum order and gives no points back on expiry', () => {
    expect(paths({ ...MINIMAL.store_credit, minimumOrderMinor: 100 })).toEqual([
      'minimumOrderMinor',
    ]);
    expect(paths({ ...MINIMAL.store_credit, refundPointsOnExpiry: true })).toEqual([
      'refundPointsOnExpiry',
    ]);
    expect(paths({ ...MINIMAL.store_credit, expiryDays: 90 })).toEqual([]);
    expect(
      parseRewardDefinition({ ...MINIMAL.store_credit, expiryDays: 90 }, 'USD').expiryDays,
    ).toBe(90);
  });

  it('a code always expires: 1 to 365 days', () => {
    expect(paths({ ...MINIMAL.fixed_amount, expiryDays: null })).toEqual(['expiryDays']);
    expect(paths({ ...MINIMAL.fixed_amount, expiryDays: 0 })).toEqual(['expiryDays']);
    expect(paths({ ...MINIMAL.fixed_amount, expiryDays: 366 })).toEqual(['expiryDays']);
    expect(paths({ ...MINIMAL.fixed_amount, expiryDays: 1 })).toEqual([]);
    expect(paths({ ...MINIMAL.store_credit, expiryDays: null })).toEqual([]);
  });

  it('checks limits, tiers, refund flag and combinations', () => {
    expect(paths({ ...MINIMAL.fixed_amount, limitPerCustomer: 0 })).toEqual(['limitPerCustomer']);
    expect(paths({ ...MINIMAL.fixed_amount, limitPerPeriod: 3 })).toEqual(['limitPerPeriod']);
    expect(paths({ ...MINIMAL.fixed_amount, limitPerPeriod: { count: 1 } })).toEqual([
      'limitPerPeriod.days',
    ]);
    expect(paths({ ...MINIMAL.fixed_amount, limitPerPeriod: { count: 0, days: 400 } })).toEqual([
      'limitPerPeriod.count',
      'limitPerPeriod.days',
    ]);
    expect(paths({ ...MINIMAL.fixed_amount, tiers: [] })).toEqual(['tiers']);
    expect(paths({ ...MINIMAL.fixed_amount, tiers: ['Gold', ''] })).toEqual(['tiers']);
    expect(paths({ ...MINIMAL.fixed_amount, tiers: 'Gold' })).toEqual(['tiers']);
    expect(paths({ ...MINIMAL.fixed_amount, refundPointsOnExpiry: 'yes' })).toEqual([
      'refundPointsOnExpiry',
    ]);
    expect(paths({ ...MINIMAL.fixed_amount, combinesWith: [] })).toEqual(['combinesWith']);
    expect(paths({ ...MINIMAL.fixed_amount, combinesWith: { orderDiscounts: 'no' } })).toEqual([
      'combinesWith.orderDiscounts',
    ]);
    expect(paths({ ...MINIMAL.fixed_amount, combinesWith: { giftCards: true } })).toEqual([
      'combinesWith.giftCards',
    ]);
    expect(paths({ ...MINIMAL.fixed_amount, minimumOrderMinor: 0 })).toEqual(['minimumOrderMinor']);
  });

  describe('points slider', () => {
    it('needs all four numbers, whole and positive', () => {
      expect(paths({ ...MINIMAL.points_slider, slider: undefined })).toEqual(['slider']);
      expect(paths({ ...MINIMAL.points_slider, slider: [100] })).toEqual(['slider']);
      expect(paths(slider({ stepPoints: undefined }))).toEqual(['slider.stepPoints']);
      // A slider given but invalid reports the bad number, not "slider is required".
      expect(issuesOf(slider({ pointsPerUnit: -1 }))).toEqual([
        { path: 'slider.pointsPerUnit', message: 'must be a whole number from 1 to 1000000' },
      ]);
      expect(paths(slider({ minPoints: 0.5 }))).toEqual(['slider.minPoints']);
    });

    it('max is min plus whole steps', () => {
      expect(paths(slider({ minPoints: 500, maxPoints: 400 }))).toEqual(['slider.maxPoints']);
      expect(paths(slider({ minPoints: 100, maxPoints: 1050, stepPoints: 100 }))).toEqual([
        'slider.maxPoints',
      ]);
      expect(paths(slider({ minPoints: 100, maxPoints: 100, stepPoints: 100 }))).toEqual([]);
    });

    it('every value is a whole amount of money in the shop currency (USD, JPY, KWD)', () => {
      // USD, 2 digits: 1 point = 1 cent at 100 points per dollar; at 3 per dollar, 1 point is 33.3¢.
      expect(
        paths(slider({ pointsPerUnit: 100, minPoints: 1, stepPoints: 1, maxPoints: 10 })),
      ).toEqual([]);
      expect(
        paths(slider({ pointsPerUnit: 3, minPoints: 3, stepPoints: 1, maxPoints: 30 }), 'USD'),
      ).toEqual(['slider.stepPoints']);
      expect(
        paths(slider({ pointsPerUnit: 3, minPoints: 1, stepPoints: 3, maxPoints: 31 }), 'USD'),
      ).toEqual(['slider.minPoints']);
      // JPY, no minor unit: 100 points per yen needs steps of 100 points.
      expect(
        paths(
          slider({ pointsPerUnit: 100, minPoints: 100, stepPoints: 50, maxPoints: 1000 }),
          'JPY',
        ),
      ).toEqual(['slider.stepPoints']);
      expect(
        paths(
          slider({ pointsPerUnit: 100, minPoints: 100, stepPoints: 100, maxPoints: 1000 }),
          'JPY',
        ),
      ).toEqual([]);
      // KWD, 3 digits: 8 points per dinar makes 1 point 125 fils: always whole.
      expect(
        paths(slider({ pointsPerUnit: 8, minPoints: 1, stepPoints: 1, maxPoints: 1000 }), 'KWD'),
      ).toEqual([]);
      expect(
        paths(slider({ pointsPerUnit: 3, minPoints: 3, stepPoints: 1, maxPoints: 30 }), 'KWD'),
      ).toEqual(['slider.stepPoints']);
    });
  });

  it('refuses an unknown currency rather than guessing its digits', () => {
    expect(() => parseRewardDefinition(MINIMAL.points_slider, 'XYZ')).toThrow(/ISO 4217/);
  });
});

describe('redemptionPoints', () => {
  const fixed = parseRewardDefinition(MINIMAL.fixed_amount, 'USD');
  const slide = parseRewardDefinition(
    slider({ pointsPerUnit: 100, minPoints: 200, maxPoints: 2000, stepPoints: 300 }),
    'USD',
  );
  const refusal = (reward: RewardDefinition, requested: unknown): string => {
    try {
      redemptionPoints(reward, requested);
    } catch (error) {
      expect(error).toBeInstanceOf(RewardError);
      expect((error as RewardError).issues[0]!.path).toBe('points');
      return (error as RewardError).message;
    }
    throw new Error(`${String(requested)} was accepted`);
  };

  it('a fixed-cost reward costs its cost; points can be left out or repeated, not chosen', () => {
    expect(redemptionPoints(fixed, undefined)).toBe(500);
    expect(redemptionPoints(fixed, null)).toBe(500);
    expect(redemptionPoints(fixed, 500)).toBe(500);
    for (const bad of [499, 501, 0, -500, 500.5, '500', Number.NaN]) {
      expect(refusal(fixed, bad)).toBe(
        'points: this reward costs 500 points; points cannot be chosen',
      );
    }
  });

  it('a slider takes a whole number within min..max on a step from min', () => {
    for (const ok of [200, 500, 800, 1100, 1400, 1700, 2000]) {
      expect(redemptionPoints(slide, ok)).toBe(ok);
    }
    expect(refusal(slide, undefined)).toBe('points: choose how many points to spend');
    expect(refusal(slide, null)).toBe('points: choose how many points to spend');
    for (const bad of ['500', 500.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, true, {}]) {
      expect(refusal(slide, bad)).toBe('points: must be a whole number of points');
    }
    for (const bad of [-500, 0, 199, 2001, 2300]) {
      expect(refusal(slide, bad)).toBe('points: must be from 200 to 2000');
    }
    for (const bad of [201, 300, 1999]) {
      expect(refusal(slide, bad)).toBe('points: must be 200 plus a multiple of 300');
    }
  });
});

describe('issuedValue', () => {
  it('asks Shopify for exactly what the reward says', () => {
    const at = (input: Record<string, unknown>, currency = 'USD', points?: number) => {
      const reward = parseRewardDefinition(input, currency);
      return issuedValue(reward, redemptionPoints(reward, points), currency);
    };
    expect(at(MINIMAL.fixed_amount)).toEqual({
      kind: 'amount_off_order',
      amountMinor: 500,
      currency: 'USD',
    });
    expect(at(MINIMAL.percentage)).toEqual({ kind: 'percentage_off_order', percentage: 10 });
    expect(at(MINIMAL.free_shipping)).toEqual({ kind: 'free_shipping' });
    expect(at(MINIMAL.free_product)).toEqual({
      kind: 'free_product',
      variantId: 'gid://shopify/ProductVariant/4242',
    });
    expect(at(MINIMAL.store_credit, 'EUR')).toEqual({
      kind: 'store_credit',
      amountMinor: 1000,
      currency: 'EUR',
    });
    // 1,300 points at 100 per dollar: $13.00; in JPY ¥13; at 8 per dinar in KWD: 162.500 KWD.
    expect(at(MINIMAL.points_slider, 'USD', 1300)).toEqual({
      kind: 'amount_off_order',
      amountMinor: 1300,
      currency: 'USD',
    });
    expect(at(MINIMAL.points_slider, 'JPY', 1300)).toEqual({
      kind: 'amount_off_order',
      amountMinor: 13,
      currency: 'JPY',
    });
    const kwd = slider({ pointsPerUnit: 8, minPoints: 1, stepPoints: 1, maxPoints: 2000 });
    expect(at(kwd, 'KWD', 1300)).toEqual({
      kind: 'amount_off_order',
      amountMinor: 162_500,
      currency: 'KWD',
    });
  });

  it('every value a valid slider allows is a whole, positive number of minor units', () => {
    const currencies = fc.constantFrom('USD', 'JPY', 'KWD', 'EUR', 'BHD', 'KRW');
    fc.assert(
      fc.property(
        currencies,
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        (currency, pointsPerUnit, minPoints, stepPoints, steps, pick) => {
          const input = slider({
            pointsPerUnit,
            minPoints,
            stepPoints,
            maxPoints: minPoints + steps * stepPoints,
          });
          let reward: RewardDefinition;
          try {
            reward = parseRewardDefinition(input, currency);
          } catch (error) {
            // Refused only for money that would not be whole.
            expect((error as RewardError).issues.map((i) => i.path)).not.toContain(
              'slider.maxPoints',
            );
            return;
          }
          const points = minPoints + Math.min(pick, steps) * stepPoints;
          const value = issuedValue(reward, redemptionPoints(reward, points), currency);
          expect(value.kind).toBe('amount_off_order');
          const amount = (value as { amountMinor: number }).amountMinor;
          expect(Number.isSafeInteger(amount)).toBe(true);
          expect(amount).toBeGreaterThan(0);
          // Exact: amount / 10^digits major units = points / pointsPerUnit.
          const digits = { USD: 2, EUR: 2, JPY: 0, KRW: 0, KWD: 3, BHD: 3 }[currency]!;
          expect(BigInt(amount) * BigInt(pointsPerUnit)).toBe(
            BigInt(points) * 10n ** BigInt(digits),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('rewardAvailability', () => {
  const member = (overrides: Partial<MemberStanding> = {}): MemberStanding => ({
    balance: 10_000,
    tier: null,
    redeemedTotal: 0,
    redeemedInPeriod: 0,
    ...overrides,
  });
  const limited = parseRewardDefinition(
    {
      ...MINIMAL.fixed_amount,
      limitPerCustomer: 2,
      limitPerPeriod: { count: 1, days: 7 },
      tiers: ['Gold'],
    },
    'USD',
  );

  it('may redeem when every condition holds', () => {
    expect(rewardAvailability(limited, member({ tier: 'Gold' }))).toEqual({ canRedeem: true });
    expect(
      rewardAvailability(
        parseRewardDefinition(MINIMAL.fixed_amount, 'USD'),
        member({ balance: 500 }),
      ),
    ).toEqual({ canRedeem: true });
  });

  it('gives the first reason in order: tier, limit, period limit, balance', () => {
    const everything = { tier: null, redeemedTotal: 2, redeemedInPeriod: 1, balance: 0 };
    expect(rewardAvailability(limited, member(everything))).toEqual({
      canRedeem: false,
      reason: 'TIER',
    });
    expect(rewardAvailability(limited, member({ ...everything, tier: 'Silver' }))).toEqual({
      canRedeem: false,
      reason: 'TIER',
    });
    expect(rewardAvailability(limited, member({ ...everything, tier: 'Gold' }))).toEqual({
      canRedeem: false,
      reason: 'LIMIT_REACHED',
    });
    expect(
      rewardAvailability(limited, member({ ...everything, tier: 'Gold', redeemedTotal: 1 })),
    ).toEqual({ canRedeem: false, reason: 'PERIOD_LIMIT_REACHED' });
    expect(
      rewardAvailability(
        limited,
        member({ ...everything, tier: 'Gold', redeemedTotal: 1, redeemedInPeriod: 0 }),
      ),
    ).toEqual({ canRedeem: false, reason: 'INSUFFICIENT_BALANCE' });
  });

  it('compares the balance with the cost, the chosen slider points, or the slider minimum', () => {
    const fixed = parseRewardDefinition(MINIMAL.fixed_amount, 'USD');
    expect(rewardAvailability(fixed, member({ balance: 499 }))).toEqual({
      canRedeem: false,
      reason: 'INSUFFICIENT_BALANCE',
    });
    const slide = parseRewardDefinition(MINIMAL.points_slider, 'USD');
    expect(rewardAvailability(slide, member({ balance: 100 })).canRedeem).toBe(true);
    expect(rewardAvailability(slide, member({ balance: 99 })).canRedeem).toBe(false);
    expect(rewardAvailability(slide, member({ balance: 1000 }), 1000).canRedeem).toBe(true);
    expect(rewardAvailability(slide, member({ balance: 1000 }), 1100)).toEqual({
      canRedeem: false,
      reason: 'INSUFFICIENT_BALANCE',
    });
    // A negative balance (a refund after spending) never redeems.
    expect(rewardAvailability(fixed, member({ balance: -20 })).canRedeem).toBe(false);
  });
});

describe('expiryOf and issuesCode', () => {
  it('a code expires expiryDays after issue; store credit may never expire', () => {
    const issuedAt = new Date('2026-03-01T10:00:00Z');
    const fixed = parseRewardDefinition({ ...MINIMAL.fixed_amount, expiryDays: 30 }, 'USD');
    expect(expiryOf(fixed, issuedAt)).toEqual(new Date('2026-03-31T10:00:00Z'));
    expect(expiryOf(parseRewardDefinition(MINIMAL.store_credit, 'USD'), issuedAt)).toBeNull();
  });

  it('every type but store credit issues a code', () => {
    expect(REWARD_TYPES.filter(issuesCode)).toEqual([
      'fixed_amount',
      'percentage',
      'free_shipping',
      'free_product',
      'points_slider',
    ]);
  });
});

describe('generateRewardCode', () => {
  const FORMAT = /^LRL-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;

  it('is LRL- and three groups of four Crockford characters, never I, L, O or U', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: CODE_RANDOM_BYTES, maxLength: CODE_RANDOM_BYTES }),
        (bytes) => {
          const code = generateRewardCode(bytes);
          expect(code).toMatch(FORMAT);
          expect(code.slice(4)).not.toMatch(/[ILOU]/);
          expect(code).toBe(code.toUpperCase());
        },
      ),
    );
  });

  it('maps the bytes to characters: all zeros, all ones, each of the 32 symbols', () => {
    expect(generateRewardCode(new Uint8Array(12))).toBe('LRL-0000-0000-0000');
    expect(generateRewardCode(new Uint8Array(12).fill(255))).toBe('LRL-ZZZZ-ZZZZ-ZZZZ');
    const symbols = new Set<string>();
    for (let b = 0; b < 32; b++) {
      symbols.add(generateRewardCode(new Uint8Array(12).fill(b))[4]!);
    }
    expect([...symbols].join('')).toBe('0123456789ABCDEFGHJKMNPQRSTVWXYZ');
    // Different bytes, different code: twelve characters of five bits each.
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(generateRewardCode(bytes)).toBe('LRL-1234-5678-9ABC');
  });

  it('refuses fewer than 12 random bytes', () => {
    expect(() => generateRewardCode(new Uint8Array(11))).toThrow(RangeError);
  });
});

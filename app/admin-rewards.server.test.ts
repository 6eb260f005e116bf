/**
 * The reward form's reading (text → definition, per currency), the catalog's issues → fields, and
 * the redemptions page's query string. The routes through the real server: tests/routes/admin-rewards.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers',
    LOG_LEVEL: 'silent',
  });
});

import { parseRewardDefinition, RewardError, type RewardDefinition } from '../loyalty/rewards';
import { parseRedemptionQuery, redemptionFilter } from './admin-redemptions.server';
import {
  DEFAULT_COMBINATIONS,
  FIELDS_BY_TYPE,
  issuesToFieldErrors,
  newRewardForm,
  parseRewardForm,
  rewardFormValues,
  rewardRow,
  type RewardFormValues,
} from './admin-rewards.server';

/** A form as the browser posts it: every shown field as text, checked boxes as `on`. */
function posted(values: Partial<RewardFormValues>): Record<string, string> {
  const all = { ...newRewardForm(values.type), ...values };
  const form: Record<string, string> = {};
  for (const field of FIELDS_BY_TYPE[all.type]) {
    const value = all[field];
    if (typeof value === 'boolean') {
      if (value) form[field] = 'on';
    } else {
      form[field] = value;
    }
  }
  return form;
}

describe('parseRewardForm', () => {
  it.each([
    ['USD', '5', 500],
    ['USD', '5.5', 550],
    ['USD', '12.34', 1234],
    ['USD', ' 7.00 ', 700],
    ['JPY', '500', 500],
    ['JPY', '500.00', 500],
    ['KWD', '1.5', 1500],
    ['KWD', '0.125', 125],
  ])('reads the amount in %s: %j → %d minor units', (currency, amount, minor) => {
    const { definition, errors } = parseRewardForm(
      posted({ title: 'Off', pointsCost: '100', amount }),
      currency,
    );
    expect(errors).toEqual({});
    expect(definition.amountMinor).toBe(minor);
    expect(parseRewardDefinition(definition, currency).amountMinor).toBe(minor);
  });

  it.each([
    ['USD', '1.234', 'Amount has 3 decimal places; USD allows 2'],
    ['JPY', '500.5', 'Amount has 1 decimal place; JPY allows 0'],
    ['KWD', '1.2345', 'Amount has 4 decimal places; KWD allows 3'],
    ['USD', '-5', 'Amount is negative'],
    ['USD', '1,000', "Amount contains ','; use '.' for decimals and no thousands separators"],
    ['USD', 'five', 'Amount is not a plain decimal number'],
  ])('names what is wrong with an amount in %s: %j', (currency, amount, message) => {
    const { errors } = parseRewardForm(posted({ title: 'x', pointsCost: '1', amount }), currency);
    expect(errors).toEqual({ amount: message });
  });

  it('turns empty optional fields into null, and leaves out what the type does not have', () => {
    const { definition, errors } = parseRewardForm(
      {
        ...posted({ title: ' 10% off ', pointsCost: '250', percentage: '10', type: 'percentage' }),
        amount: '5',
      },
      'USD',
    );
    expect(errors).toEqual({});
    expect(definition).toEqual({
      type: 'percentage',
      title: ' 10% off ',
      pointsCost: 250,
      percentage: 10,
      minimumOrderMinor: null,
      limitPerCustomer: null,
      limitPerPeriod: null,
      tiers: null,
      expiryDays: 30,
      refundPointsOnExpiry: false,
      combinesWith: DEFAULT_COMBINATIONS.percentage,
    });
    expect(parseRewardDefinition(definition, 'USD').title).toBe('10% off');
  });

  it('reads every field of a fully specified reward', () => {
    const { definition, errors } = parseRewardForm(
      posted({
        type: 'fixed_amount',
        title: '$5 off',
        pointsCost: '500',
        amount: '5',
        minimumOrder: '25.00',
        limitPerCustomer: '3',
        periodCount: '1',
        periodDays: '30',
        tiers: ' Gold, Silver ,, ',
        expiryDays: '14',
        refundPointsOnExpiry: true,
        combinesOrder: true,
        combinesProduct: false,
        combinesShipping: false,
      }),
      'USD',
    );
    expect(errors).toEqual({});
    expect(parseRewardDefinition(definition, 'USD')).toEqual({
      type: 'fixed_amount',
      title: '$5 off',
      pointsCost: 500,
      amountMinor: 500,
      percentage: null,
      variantId: null,
      slider: null,
      minimumOrderMinor: 2500,
      limitPerCustomer: 3,
      limitPerPeriod: { count: 1, days: 30 },
      tiers: ['Gold', 'Silver'],
      expiryDays: 14,
      refundPointsOnExpiry: true,
      combinesWith: { orderDiscounts: true, productDiscounts: false, shippingDiscounts: false },
    } satisfies RewardDefinition);
  });

  it('accepts a variant as a gid or a plain number', () => {
    for (const variantId of ['gid://shopify/ProductVariant/4242', '4242']) {
      const { definition } = parseRewardForm(
        posted({ type: 'free_product', title: 'Free tea', pointsCost: '100', variantId }),
        'USD',
      );
      expect(definition.variantId).toBe('gid://shopify/ProductVariant/4242');
    }
  });

  it('reads a slider; an untouched slider is null (the catalog says it is required)', () => {
    const slider = parseRewardForm(
      posted({
        type: 'points_slider',
        title: 'Spend points',
        sliderPointsPerUnit: '100',
        sliderMinPoints: '100',
        sliderMaxPoints: '5000',
        sliderStepPoints: '50',
      }),
      'USD',
    );
    expect(slider.errors).toEqual({});
    expect(slider.definition.slider).toEqual({
      pointsPerUnit: 100,
      minPoints: 100,
      maxPoints: 5000,
      stepPoints: 50,
    });
    expect(slider.definition).not.toHaveProperty('pointsCost');
    const empty = parseRewardForm(posted({ type: 'points_slider', title: 'x' }), 'USD');
    expect(empty.definition.slider).toBeNull();
  });

  it('store credit: an empty expiry is "never", and it has no code fields', () => {
    const { definition, errors } = parseRewardForm(
      {
        ...posted({ type: 'store_credit', title: 'Credit', pointsCost: '1000', amount: '10' }),
        minimumOrder: '5',
        refundPointsOnExpiry: 'on',
      },
      'USD',
    );
    expect(errors).toEqual({});
    expect(definition.expiryDays).toBeNull();
    expect(definition).not.toHaveProperty('minimumOrderMinor');
    expect(definition).not.toHaveProperty('refundPointsOnExpiry');
    expect(definition).not.toHaveProperty('combinesWith');
    expect(parseRewardDefinition(definition, 'USD').expiryDays).toBeNull();
  });

  it.each([
    ['pointsCost', '12.5'],
    ['pointsCost', '-3'],
    ['pointsCost', '1e3'],
    ['limitPerCustomer', 'two'],
    ['periodDays', '7 days'],
    ['expiryDays', '3.0'],
  ] as const)('a bad whole number in %s (%j) is a field error', (field, value) => {
    const { errors } = parseRewardForm(
      posted({ title: 'x', pointsCost: '1', amount: '1', [field]: value }),
      'USD',
    );
    expect(errors).toEqual({ [field]: expect.stringMatching(/ must be a whole number$/) });
  });

  it('refuses an unknown type', () => {
    const { errors } = parseRewardForm({ type: 'bogus', title: 'x' }, 'USD');
    expect(errors.type).toMatch(/^Type must be one of: Fixed amount off, /);
  });

  it('round-trips a stored definition through the edit form', () => {
    for (const currency of ['USD', 'JPY', 'KWD']) {
      const stored = parseRewardDefinition(
        {
          type: 'fixed_amount',
          title: 'Off',
          pointsCost: 300,
          amountMinor: 1500,
          minimumOrderMinor: 10_000,
          limitPerPeriod: { count: 2, days: 7 },
          tiers: ['Gold'],
        },
        currency,
      );
      const again = parseRewardForm(posted(rewardFormValues(stored, currency)), currency);
      expect(again.errors).toEqual({});
      expect(parseRewardDefinition(again.definition, currency)).toEqual(stored);
    }
  });
});

describe('issuesToFieldErrors', () => {
  function issuesOf(input: unknown, currency = 'USD') {
    try {
      parseRewardDefinition(input, currency);
    } catch (error) {
      return (error as RewardError).issues;
    }
    throw new Error('expected issues');
  }

  it("puts the catalog's issues beside their fields, in the form's words", () => {
    const issues = issuesOf({
      type: 'fixed_amount',
      title: '',
      pointsCost: 0,
      amountMinor: null,
      limitPerPeriod: { count: 2, days: null },
      minimumOrderMinor: 0,
      combinesWith: { orderDiscounts: 'yes' },
    });
    expect(issuesToFieldErrors(issues, 'USD')).toEqual({
      title: 'Title is required',
      pointsCost: 'Points cost must be a whole number from 1 to 10000000',
      amount: 'Amount is required',
      minimumOrder: 'Minimum order must be more than 0.00 USD',
      periodDays: 'Period (days) is required for a period limit',
      combinesOrder: 'Combines with order discounts must be true or false',
    });
  });

  it('maps slider paths to the slider fields', () => {
    const issues = issuesOf({
      type: 'points_slider',
      title: 'x',
      slider: { pointsPerUnit: 3, minPoints: 100, maxPoints: 50, stepPoints: 10 },
    });
    expect(issuesToFieldErrors(issues, 'USD')).toEqual({
      sliderMaxPoints: 'Maximum points must be at least minPoints',
      sliderMinPoints: 'Minimum points is not a whole amount of money at 3 points per unit',
      sliderStepPoints: 'Step is not a whole amount of money at 3 points per unit',
    });
  });

  it('keeps the form error of a field and puts unknown paths on the form', () => {
    expect(
      issuesToFieldErrors(
        [
          { path: 'amountMinor', message: 'is required for a fixed_amount reward' },
          { path: 'color', message: 'is not a reward field' },
          { path: '', message: 'a reward must be a JSON object' },
        ],
        'USD',
        { amount: 'Amount is negative' },
      ),
    ).toEqual({
      amount: 'Amount is negative',
      form: 'color is not a reward field; a reward must be a JSON object',
    });
  });
});

describe('rewardRow', () => {
  const reward = (definition: unknown, currency = 'USD') => ({
    id: 7,
    version: 2,
    position: 1,
    archivedAt: null,
    definition: parseRewardDefinition(definition, currency),
    createdAt: new Date(),
    updatedAt: new Date(),
  });

  it('shows cost, value in the shop currency, limits and expiry', () => {
    expect(
      rewardRow(
        reward({
          type: 'fixed_amount',
          title: '$5 off',
          pointsCost: 1500,
          amountMinor: 500,
          limitPerCustomer: 1,
          limitPerPeriod: { count: 2, days: 30 },
          minimumOrderMinor: 2000,
          refundPointsOnExpiry: true,
        }),
        'USD',
      ),
    ).toEqual({
      id: 7,
      title: '$5 off',
      type: 'Fixed amount off',
      cost: '1,500 points',
      value: '$5.00 off',
      limits: '1 per customer · 2 per 30 days · min. order $20.00',
      expiry: '30 days, points back if unused',
      archived: false,
      version: 2,
    });
  });

  it('shows a slider range in JPY and store credit that never expires', () => {
    const slider = rewardRow(
      reward(
        {
          type: 'points_slider',
          title: 'Spend',
          slider: { pointsPerUnit: 10, minPoints: 100, maxPoints: 1000, stepPoints: 10 },
        },
        'JPY',
      ),
      'JPY',
    );
    expect(slider).toMatchObject({
      cost: '100–1,000 points, step 10 (10 points = ¥1)',
      value: '¥10–¥100 off',
    });
    const credit = rewardRow(
      reward({ type: 'store_credit', title: 'Credit', pointsCost: 100, amountMinor: 1500 }, 'KWD'),
      'KWD',
    );
    expect(credit).toMatchObject({
      // Intl puts a no-break space after a currency code.
      value: 'KWD\u00a01.500 store credit',
      expiry: 'Never',
      limits: 'No limit',
    });
  });
});

describe('parseRedemptionQuery', () => {
  const query = (search: string) => parseRedemptionQuery(new URLSearchParams(search));

  it('reads statuses (both spellings), reward, customer and paging', () => {
    const q = query(
      'status=issued&status[]=used&status=issued&reward=4&customer=+ada@x.com+&before=99',
    );
    expect(q).toEqual({
      statuses: ['issued', 'used'],
      rewardId: 4,
      customer: 'ada@x.com',
      beforeId: 99,
    });
    expect(redemptionFilter(q)).toEqual({
      statuses: ['issued', 'used'],
      rewardId: 4,
      customerSearch: 'ada@x.com',
      beforeId: 99,
      limit: 51,
    });
    expect(redemptionFilter(query(''))).toEqual({ limit: 51 });
  });

  it.each([
    ['status=lost', /^status must be one of pending, issued/],
    ['reward=abc', /^reward must be a positive whole number$/],
    ['before=0', /^before must be a positive whole number$/],
    [`customer=${'x'.repeat(201)}`, /^customer must be at most 200 characters$/],
  ])('refuses %s with a 400 and a reason', async (search, reason) => {
    let thrown: unknown;
    try {
      query(search);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Response);
    expect((thrown as Response).status).toBe(400);
    const body = (await (thrown as Response).json()) as { error: string; code: string };
    expect(body.code).toBe('VALIDATION');
    expect(body.error).toMatch(reason);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FOUR_TIERS } from '../tests/helpers/tiers';
import {
  activityNeededFrom,
  describeTierChange,
  evaluateTier,
  formatMultiplier,
  metricValue,
  parseMultiplier,
  parseTierProgram,
  qualifiedUntil,
  qualifyingTier,
  rollingActivityEnd,
  TierProgramError,
  tierMultiplier,
  tierProgress,
  windowStart,
  type CompiledTierProgram,
  type TierActivity,
  type TierProgramDefinition,
  type TierStanding,
  type TierWindow,
} from './tiers';
import { wallTimeOf } from './time';

const NY = 'America/New_York';
const USD = { shopCurrency: 'USD' };
const iso = (text: string) => Date.parse(text);
const program = (definition: unknown = FOUR_TIERS) => parseTierProgram(definition, USD);
const names = (p: CompiledTierProgram) => new Map(p.tiers.map((t) => [t.key, t.name]));

/** The issues parseTierProgram reports, as `path: message`. */
function issuesOf(definition: unknown, shopCurrency = 'USD'): string[] {
  try {
    parseTierProgram(definition, { shopCurrency });
  } catch (error) {
    expect(error).toBeInstanceOf(TierProgramError);
    return (error as TierProgramError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected the program to be refused');
}

const withTiers = (tiers: unknown[], extra: Record<string, unknown> = {}) => ({
  ...FOUR_TIERS,
  ...extra,
  tiers,
});

describe('parseTierProgram', () => {
  it('compiles the four demo tiers: thresholds in minor units, multipliers in bps, tags', () => {
    const p = program();
    expect(
      p.tiers.map((t) => [t.key, t.rank, t.threshold, t.multiplierBps, t.entryPoints]),
    ).toEqual([
      ['bronze', 0, 0, 10_000, 0],
      ['silver', 1, 25_000, 12_500, 50],
      ['gold', 2, 100_000, 15_000, 200],
      ['platinum', 3, 500_000, 20_000, 500],
    ]);
    expect(p.tiers[2]).toMatchObject({ tag: 'laurel-tier-gold', freeShipping: true });
    expect(p).toMatchObject({ metric: 'spend', window: 'calendar_year', currency: 'USD' });
    // The stored definition has every default filled in, and compiles to the same program.
    expect(p.definition.tiers[0]).toEqual({
      key: 'bronze',
      name: 'Bronze',
      threshold: '0.00',
      multiplier: '1',
      freeShipping: false,
    });
    expect(program(p.definition)).toEqual(p);
  });

  it('refuses unordered and overlapping thresholds, naming the tier they must exceed', () => {
    const [bronze, silver, gold] = FOUR_TIERS.tiers;
    expect(issuesOf(withTiers([bronze, gold, silver]))).toEqual([
      "tiers[2].threshold: must be above Gold's (1000.00): list tiers from lowest to highest, each threshold higher than the last",
    ]);
    expect(issuesOf(withTiers([bronze, silver, { ...gold, threshold: '250.00' }]))).toEqual([
      "tiers[2].threshold: must be above Silver's (250.00): list tiers from lowest to highest, each threshold higher than the last",
    ]);
  });

  it('refuses duplicate keys and names, and malformed keys', () => {
    const [bronze, silver] = FOUR_TIERS.tiers;
    expect(issuesOf(withTiers([bronze, { ...silver, key: 'bronze', name: 'BRONZE' }]))).toEqual([
      "tiers[1].key: 'bronze' is already tiers[0]",
      "tiers[1].name: 'BRONZE' is already tiers[0]",
    ]);
    expect(issuesOf(withTiers([{ ...bronze, key: 'Gold Tier' }]))).toEqual([
      'tiers[0].key: must be 1–32 lower-case letters, digits or "-" (e.g. "gold")',
    ]);
  });

  it('refuses multipliers outside 1–10 or with more than 4 decimals', () => {
    for (const multiplier of ['0.5', '11', '1.23456', 'abc', '', '-1']) {
      expect(issuesOf(withTiers([{ ...FOUR_TIERS.tiers[0], multiplier }]))).toEqual([
        `tiers[0].multiplier: '${multiplier}' must be a number from 1 to 10 with at most 4 decimals`,
      ]);
    }
    expect(issuesOf(withTiers([{ ...FOUR_TIERS.tiers[0], multiplier: 1.5 }]))).toEqual([
      'tiers[0].multiplier: must be decimal text such as "1.5"',
    ]);
    expect(parseMultiplier('10')).toBe(100_000);
    expect(parseMultiplier('1.0001')).toBe(10_001);
    expect(formatMultiplier(12_500)).toBe('1.25');
    expect(formatMultiplier(20_000)).toBe('2');
  });

  it('needs the shop currency for spend, and only the shop currency', () => {
    const { currency: _omitted, ...noCurrency } = FOUR_TIERS;
    expect(issuesOf(noCurrency)).toEqual(['currency: is required when the metric is "spend"']);
    expect(issuesOf({ ...FOUR_TIERS, currency: 'EUR' })).toEqual([
      "currency: must be the shop's currency (USD): spend is counted in it",
    ]);
    expect(issuesOf({ ...FOUR_TIERS, currency: 'XYZ' })).toEqual([
      "currency: 'XYZ' is not an ISO 4217 currency code",
    ]);
    // JPY has no minor unit: a threshold with cents is not an amount of it.
    expect(
      issuesOf(
        withTiers([{ key: 'a', name: 'A', threshold: '10.50' }], { currency: 'JPY' }),
        'JPY',
      ),
    ).toEqual([expect.stringMatching(/^tiers\[0\]\.threshold: '10\.50' /)]);
  });

  it('wants money as text for spend and whole numbers for points and orders', () => {
    expect(issuesOf(withTiers([{ key: 'a', name: 'A', threshold: 100 }]))).toEqual([
      'tiers[0].threshold: must be a decimal amount as text, e.g. "1000.00"',
    ]);
    const points = { metric: 'points', window: 'lifetime', tiers: [] as unknown[] };
    expect(issuesOf({ ...points, tiers: [{ key: 'a', name: 'A', threshold: '100' }] })).toEqual([
      'tiers[0].threshold: must be a whole number from 0 to 1000000000 of points',
    ]);
    expect(issuesOf({ ...points, tiers: [{ key: 'a', name: 'A', threshold: 1.5 }] })).toEqual([
      'tiers[0].threshold: must be a whole number from 0 to 1000000000 of points',
    ]);
    expect(
      parseTierProgram({ ...points, tiers: [{ key: 'a', name: 'A', threshold: 500 }] }, USD)
        .tiers[0]!.threshold,
    ).toBe(500);
  });

  it('lists every problem at once, unknown fields and bad windows included', () => {
    expect(
      issuesOf({
        metric: 'visits',
        window: 'forever',
        graceDays: -1,
        tagPrefix: 'Laurel Tier',
        colour: 'gold',
        tiers: [],
      }),
    ).toEqual([
      'metric: must be "points", "spend" or "orders"',
      'window: must be "lifetime", "calendar_year" or "rolling_12_months"',
      'graceDays: must not be negative',
      'tiers: needs at least one tier',
      'colour: is not a known field',
      'tagPrefix: must be 1–40 lower-case letters, digits, "-" or "_", starting with a letter or digit',
    ]);
    expect(issuesOf('not a program')).toEqual([expect.stringMatching(/^: /)]);
  });
});

describe('windows in a shop timezone (America/New_York)', () => {
  const at = (text: string, value = 1): TierActivity => ({ at: iso(text), value });

  it('lifetime counts everything up to now', () => {
    const activity = [at('2001-05-01T00:00:00Z', 5), at('2026-05-01T00:00:00Z', 7)];
    expect(metricValue('lifetime', activity, iso('2026-06-01T00:00:00Z'), NY)).toBe(12);
    // Activity later than now (a clock behind the order's time) does not count yet.
    expect(metricValue('lifetime', activity, iso('2026-04-30T00:00:00Z'), NY)).toBe(5);
    expect(windowStart('lifetime', 0, NY)).toBe(-Infinity);
  });

  it('calendar year starts at local midnight of January 1, not UTC midnight', () => {
    const now = iso('2026-06-01T12:00:00Z');
    // 2026-01-01 00:00 in New York is 05:00 UTC.
    expect(windowStart('calendar_year', now, NY)).toBe(iso('2026-01-01T05:00:00Z'));
    const activity = [
      at('2026-01-01T04:59:59.999Z', 100), // Dec 31, 23:59:59.999 local: last year
      at('2026-01-01T05:00:00Z', 10), // the year's first instant
      at('2026-05-31T00:00:00Z', 1),
    ];
    expect(metricValue('calendar_year', activity, now, NY)).toBe(11);
    expect(metricValue('calendar_year', activity, now, 'UTC')).toBe(111);
    // New Year's Eve 23:59:59.999 local is already January 1 in UTC: still last year's window.
    expect(metricValue('calendar_year', activity, iso('2026-01-01T04:59:59.999Z'), NY)).toBe(100);
  });

  it('rolling 12 months follows the wall clock across the March change', () => {
    // DST began on 8 March 2026 but on 9 March 2025: noon on 8 March was EST in 2025, EDT in 2026.
    const now = iso('2026-03-08T16:00:00Z'); // 12:00 EDT
    expect(windowStart('rolling_12_months', now, NY)).toBe(iso('2025-03-08T17:00:00Z')); // 12:00 EST
    const activity = [
      at('2025-03-08T16:30:00Z', 100), // 11:30 local: 12 months and a half hour ago — gone
      at('2025-03-08T17:00:00Z', 10), // exactly 12 months ago: leaves now
      at('2025-03-08T17:00:00.001Z', 1), // still in
    ];
    expect(metricValue('rolling_12_months', activity, now, NY)).toBe(1);
    expect(metricValue('rolling_12_months', activity, now - 1, NY)).toBe(11);
    // Counting 365 × 24 hours back would have kept the 11:30 activity.
    expect(now - 365 * 86_400_000).toBeLessThan(iso('2025-03-08T16:30:00Z'));
    expect(rollingActivityEnd(iso('2025-03-08T17:00:00Z'), NY)).toBe(now);
  });

  it('rolling 12 months follows the wall clock across the November change', () => {
    // Noon on 1 November was EDT in 2025 (DST ended 2 November) and is EST in 2026 (ended 1 Nov).
    const activity = [at('2025-11-01T16:00:00Z', 3)];
    const end = rollingActivityEnd(iso('2025-11-01T16:00:00Z'), NY);
    expect(end).toBe(iso('2026-11-01T17:00:00Z')); // 12:00 EST
    expect(metricValue('rolling_12_months', activity, iso('2026-11-01T16:30:00Z'), NY)).toBe(3);
    expect(metricValue('rolling_12_months', activity, end, NY)).toBe(0);
  });

  it('rolling 12 months from a leap day ends on February 28 at the same time', () => {
    const leap = iso('2028-02-29T15:00:00Z'); // 10:00 EST
    expect(rollingActivityEnd(leap, NY)).toBe(iso('2029-02-28T15:00:00Z'));
    const activity = [{ at: leap, value: 1 }];
    expect(metricValue('rolling_12_months', activity, iso('2029-02-28T14:59:59Z'), NY)).toBe(1);
    expect(metricValue('rolling_12_months', activity, iso('2029-02-28T15:00:00Z'), NY)).toBe(0);
  });

  it('activityNeededFrom reaches at least as far back as anything that counts', () => {
    const now = iso('2026-03-08T16:00:00Z');
    expect(activityNeededFrom('calendar_year', now, NY)).toBe(iso('2026-01-01T05:00:00Z'));
    expect(activityNeededFrom('rolling_12_months', now, NY)).toBeLessThan(
      iso('2025-03-08T17:00:00Z'),
    );
    expect(activityNeededFrom('lifetime', now, NY)).toBe(-Infinity);
  });
});

describe('qualifiedUntil', () => {
  it('calendar year: the start of the next local year', () => {
    expect(qualifiedUntil('calendar_year', [], 100, iso('2026-06-01T00:00:00Z'), NY)).toBe(
      iso('2027-01-01T05:00:00Z'),
    );
  });

  it('lifetime and a threshold of 0: never', () => {
    expect(qualifiedUntil('lifetime', [], 100, iso('2026-06-01T00:00:00Z'), NY)).toBeNull();
    expect(qualifiedUntil('rolling_12_months', [], 0, iso('2026-06-01T00:00:00Z'), NY)).toBeNull();
  });

  it('rolling: when the activity that keeps the sum at the threshold leaves', () => {
    const activity = [
      { at: iso('2025-08-10T16:00:00Z'), value: 40_000 },
      { at: iso('2025-12-01T17:00:00Z'), value: 70_000 },
      { at: iso('2026-02-01T17:00:00Z'), value: 50_000 },
      { at: iso('2025-01-01T17:00:00Z'), value: 999_999 }, // already out of the window
    ];
    const now = iso('2026-03-01T17:00:00Z');
    expect(metricValue('rolling_12_months', activity, now, NY)).toBe(160_000);
    // 100,000: losing August's 40,000 leaves 120,000; losing December's leaves 50,000 < 100,000.
    const until = qualifiedUntil('rolling_12_months', activity, 100_000, now, NY)!;
    expect(until).toBe(iso('2026-12-01T17:00:00Z'));
    expect(metricValue('rolling_12_months', activity, until - 1, NY)).toBeGreaterThanOrEqual(
      100_000,
    );
    expect(metricValue('rolling_12_months', activity, until, NY)).toBeLessThan(100_000);
    // 150,000: August's leaving is enough (across the November change: 12:00 EDT → 12:00 EDT).
    expect(qualifiedUntil('rolling_12_months', activity, 150_000, now, NY)).toBe(
      iso('2026-08-10T16:00:00Z'),
    );
  });

  it('rolling: activity at one instant leaves together', () => {
    const t = iso('2025-09-01T16:00:00Z');
    const activity = [
      { at: t, value: 60 },
      { at: t, value: -10 },
      { at: iso('2026-01-05T17:00:00Z'), value: 60 },
    ];
    expect(
      qualifiedUntil('rolling_12_months', activity, 100, iso('2026-02-01T00:00:00Z'), NY),
    ).toBe(rollingActivityEnd(t, NY));
  });
});

describe('evaluateTier', () => {
  const p = program();
  const spend = (text: string, dollars: number): TierActivity => ({
    at: iso(text),
    value: dollars * 100,
  });

  it('moves a new member up to the highest tier met, with the reason', () => {
    const activity = [spend('2026-02-01T15:00:00Z', 400), spend('2026-03-01T15:00:00Z', 700)];
    const now = iso('2026-03-01T16:00:00Z');
    const result = evaluateTier(p, activity, null, now, NY);
    expect(result).toMatchObject({
      value: 110_000,
      tier: { key: 'gold' },
      heldUntil: iso('2027-01-01T05:00:00Z'),
      downgradeAt: null,
      change: {
        from: null,
        to: 'gold',
        direction: 'up',
        reason: {
          metric: 'spend',
          window: 'calendar_year',
          value: 110_000,
          threshold: 100_000,
          year: 2026,
          currency: 'USD',
          heldUntil: null,
          graceEndedAt: null,
        },
      },
    });
    expect(describeTierChange(result.change!, names(p))).toBe(
      'Reached Gold: $1,000.00 spent in 2026',
    );
  });

  it('keeps a tier for the rest of the year and the grace period, then moves down exactly then', () => {
    const standing: TierStanding = { tierKey: 'gold', heldUntil: iso('2027-01-01T05:00:00Z') };
    const activity = [spend('2026-03-01T15:00:00Z', 1_100), spend('2027-01-10T15:00:00Z', 300)];
    // January 2027: only $300 this year (Silver), but Gold is held for 2026 plus 30 days.
    const january = evaluateTier(p, activity, standing, iso('2027-01-15T12:00:00Z'), NY);
    const graceEnd = iso('2027-01-31T05:00:00Z'); // Jan 31, 00:00 local
    expect(january).toMatchObject({
      value: 30_000,
      qualifying: { key: 'silver' },
      tier: { key: 'gold' },
      heldUntil: standing.heldUntil,
      downgradeAt: graceEnd,
      change: null,
    });
    expect(evaluateTier(p, activity, standing, graceEnd - 1, NY).change).toBeNull();
    const after = evaluateTier(p, activity, standing, graceEnd, NY);
    expect(after).toMatchObject({
      tier: { key: 'silver' },
      heldUntil: iso('2028-01-01T05:00:00Z'),
      downgradeAt: null,
      change: {
        from: 'gold',
        to: 'silver',
        direction: 'down',
        reason: {
          value: 30_000,
          threshold: 100_000,
          year: 2027,
          heldUntil: standing.heldUntil,
          graceEndedAt: graceEnd,
        },
      },
    });
    expect(describeTierChange(after.change!, names(p))).toBe(
      'Moved from Gold to Silver: below $1,000.00 spent in 2027 after the grace period',
    );
  });

  it('counts grace days on the local calendar across the March change', () => {
    const rolling = program({ ...FOUR_TIERS, window: 'rolling_12_months', graceDays: 30 });
    // Protected until Feb 20, 12:00 EST; 30 local days later is Mar 22, 12:00 EDT (16:00 UTC).
    const standing = { tierKey: 'gold', heldUntil: iso('2026-02-20T17:00:00Z') };
    const now = iso('2026-03-01T00:00:00Z');
    const result = evaluateTier(rolling, [], standing, now, NY);
    expect(result).toMatchObject({
      tier: { key: 'gold' },
      downgradeAt: iso('2026-03-22T16:00:00Z'),
    });
    expect(
      evaluateTier(rolling, [], standing, iso('2026-03-22T15:59:59.999Z'), NY).change,
    ).toBeNull();
    expect(
      evaluateTier(rolling, [], standing, iso('2026-03-22T16:00:00Z'), NY).change,
    ).toMatchObject({
      from: 'gold',
      to: 'bronze',
      direction: 'down',
    });
  });

  it('a lifetime tier lost to a refund starts its grace period at the evaluation', () => {
    const lifetime = program({ ...FOUR_TIERS, window: 'lifetime', graceDays: 10 });
    const activity = [spend('2026-03-01T15:00:00Z', 1_000)];
    const gold = evaluateTier(lifetime, activity, null, iso('2026-03-02T00:00:00Z'), NY);
    expect(gold).toMatchObject({ tier: { key: 'gold' }, heldUntil: null });
    expect(describeTierChange(gold.change!, names(lifetime))).toBe('Reached Gold: $1,000.00 spent');
    const refunded = [...activity, spend('2026-03-01T15:00:00Z', -1)];
    const now = iso('2026-03-05T17:00:00Z');
    const kept = evaluateTier(lifetime, refunded, { tierKey: 'gold', heldUntil: null }, now, NY);
    expect(kept).toMatchObject({
      tier: { key: 'gold' },
      heldUntil: now,
      downgradeAt: iso('2026-03-15T16:00:00Z'), // 10 local days, across the March change
    });
    // Stored and evaluated again later, the grace period does not restart.
    const later = evaluateTier(
      lifetime,
      refunded,
      { tierKey: 'gold', heldUntil: kept.heldUntil },
      iso('2026-03-10T00:00:00Z'),
      NY,
    );
    expect(later.downgradeAt).toBe(kept.downgradeAt);
  });

  it('a tier the new version removed is left, up or down', () => {
    const result = evaluateTier(
      p,
      [spend('2026-03-01T15:00:00Z', 300)],
      { tierKey: 'diamond', heldUntil: null },
      iso('2026-03-02T00:00:00Z'),
      NY,
    );
    expect(result.change).toMatchObject({ from: 'diamond', to: 'silver', direction: 'up' });
    const bronze = evaluateTier(p, [], null, iso('2026-03-02T00:00:00Z'), NY);
    expect(describeTierChange(bronze.change!, names(p))).toBe('Reached Bronze');
    const pointsProgram = program({
      metric: 'points',
      window: 'lifetime',
      tiers: [{ key: 'gold', name: 'Gold', threshold: 1000 }],
    });
    const none = evaluateTier(pointsProgram, [], { tierKey: 'vip', heldUntil: null }, 0, NY);
    expect(none).toMatchObject({
      tier: null,
      change: { from: 'vip', to: null, direction: 'down' },
    });
    expect(describeTierChange(none.change!, names(pointsProgram))).toBe(
      'Moved from vip to no tier',
    );
  });

  it('describes points and orders windows', () => {
    const orders = program({
      metric: 'orders',
      window: 'rolling_12_months',
      tiers: [
        { key: 'regular', name: 'Regular', threshold: 1 },
        { key: 'loyal', name: 'Loyal', threshold: 5 },
      ],
    });
    const five = Array.from({ length: 5 }, (_, i) => ({
      at: iso(`2026-0${i + 1}-10T12:00:00Z`),
      value: 1,
    }));
    const up = evaluateTier(orders, five, null, iso('2026-06-01T00:00:00Z'), NY);
    expect(describeTierChange(up.change!, names(orders))).toBe(
      'Reached Loyal: 5 orders placed in the last 12 months',
    );
    const points = program({
      metric: 'points',
      window: 'calendar_year',
      tiers: [{ key: 'one', name: 'One', threshold: 1 }],
    });
    const one = evaluateTier(points, [{ at: 0, value: 1 }], null, 1, 'UTC');
    expect(describeTierChange(one.change!, names(points))).toBe(
      'Reached One: 1 point earned in 1970',
    );
  });
});

describe('evaluateTier properties', () => {
  const WINDOWS: TierWindow[] = ['lifetime', 'calendar_year', 'rolling_12_months'];
  const ZONES = ['UTC', NY, 'America/Santiago', 'Asia/Kathmandu'];
  const T0 = iso('2025-01-01T00:00:00Z');
  const SPAN = 3 * 365 * 86_400_000;
  const arbActivity = fc.array(
    fc.record({
      at: fc.integer({ min: T0, max: T0 + SPAN }),
      value: fc.integer({ min: -20_000, max: 150_000 }),
    }),
    { maxLength: 12 },
  );
  const arbStanding = fc.option(
    fc.record({
      tierKey: fc.constantFrom<string | null>(null, 'bronze', 'silver', 'gold', 'platinum', 'gone'),
      heldUntil: fc.option(fc.integer({ min: T0, max: T0 + SPAN }), { nil: null }),
    }),
    { nil: null },
  );
  const arbCase = fc.record({
    window: fc.constantFrom(...WINDOWS),
    tz: fc.constantFrom(...ZONES),
    graceDays: fc.integer({ min: 0, max: 60 }),
    activity: arbActivity,
    standing: arbStanding,
    now: fc.integer({ min: T0, max: T0 + SPAN }),
  });

  it('evaluating the result again at the same time changes nothing', () => {
    fc.assert(
      fc.property(arbCase, ({ window, tz, graceDays, activity, standing, now }) => {
        const p = program({ ...FOUR_TIERS, window, graceDays });
        const first = evaluateTier(p, activity, standing, now, tz);
        const again = evaluateTier(
          p,
          activity,
          { tierKey: first.tier?.key ?? null, heldUntil: first.heldUntil },
          now,
          tz,
        );
        expect(again.change).toBeNull();
        expect(again.tier).toEqual(first.tier);
        expect(again.heldUntil).toBe(first.heldUntil);
        expect(again.downgradeAt).toBe(first.downgradeAt);
      }),
      { numRuns: 300 },
    );
  });

  it('nobody holds a tier above what they qualify for once the grace period has ended', () => {
    fc.assert(
      fc.property(arbCase, ({ window, tz, graceDays, activity, standing, now }) => {
        const p = program({ ...FOUR_TIERS, window, graceDays });
        const result = evaluateTier(p, activity, standing, now, tz);
        const qualifying = qualifyingTier(p, metricValue(window, activity, now, tz));
        expect(result.qualifying).toEqual(qualifying);
        if ((result.tier?.rank ?? -1) > (qualifying?.rank ?? -1)) {
          // Only a protected member: the tier is the one they held, and the grace has not ended.
          expect(result.tier?.key).toBe(standing?.tierKey);
          expect(result.downgradeAt).not.toBeNull();
          expect(now).toBeLessThan(result.downgradeAt!);
        } else {
          expect(result.tier).toEqual(qualifying);
        }
        // A move up is always to what the window meets now.
        if (result.change?.direction === 'up') expect(result.change.to).toBe(qualifying?.key);
      }),
      { numRuns: 300 },
    );
  });

  it('the rolling value equals the activity whose 12 months have not ended', () => {
    fc.assert(
      fc.property(
        arbActivity,
        fc.constantFrom(...ZONES),
        fc.integer({ min: T0, max: T0 + SPAN }),
        (activity, tz, now) => {
          const expected = activity
            .filter((a) => a.at <= now && now < rollingActivityEnd(a.at, tz))
            .reduce((s, a) => s + a.value, 0);
          expect(metricValue('rolling_12_months', activity, now, tz)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('tierMultiplier and tierProgress', () => {
  const p = program();
  it('names the tier and version; ×1 is no multiplier', () => {
    expect(tierMultiplier(p.tiers[2]!, 3)).toEqual({
      source: 'tier',
      id: 'gold@v3',
      factorBps: 15_000,
    });
    expect(tierMultiplier(p.tiers[0]!, 3)).toBeNull();
    expect(tierMultiplier(null, 3)).toBeNull();
  });

  it('says how far the next tier is', () => {
    expect(tierProgress(p, 'silver', 82_000)).toEqual({
      current: { key: 'silver', name: 'Silver' },
      next: { key: 'gold', name: 'Gold', threshold: 100_000 },
      value: 82_000,
      remaining: 18_000,
    });
    expect(tierProgress(p, 'platinum', 900_000)).toMatchObject({ next: null, remaining: 0 });
    // A protected Gold member below Gold's threshold: the next tier is still Platinum.
    expect(tierProgress(p, 'gold', 30_000).next?.key).toBe('platinum');
  });
});

describe('wall time sanity for the fixtures above', () => {
  it('reads the instants used as New York wall times', () => {
    expect(wallTimeOf(iso('2026-03-08T16:00:00Z'), NY)).toMatchObject({ day: 8, hour: 12 });
    expect(wallTimeOf(iso('2025-03-08T17:00:00Z'), NY)).toMatchObject({ day: 8, hour: 12 });
    expect(wallTimeOf(iso('2026-11-01T17:00:00Z'), NY)).toMatchObject({ day: 1, hour: 12 });
  });
});

// Keeps the definition type honest: FOUR_TIERS is a TierProgramDefinition.
const _typed: TierProgramDefinition = FOUR_TIERS;
void _typed;

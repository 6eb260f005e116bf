import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  campaignDays,
  CampaignError,
  campaignsInForce,
  campaignStatus,
  earnWithCampaigns,
  eligibleAmount,
  parseCampaign,
  parseCampaignFactor,
  type CampaignDefinition,
  type CampaignRule,
} from './campaigns';
import { computeEarn } from './earn';
import { parseProgram, referenceProgram } from './program';

const reference = parseProgram(referenceProgram);
const NY = 'America/New_York';
const NOW = Date.parse('2026-03-01T12:00:00Z');
const context = { timeZone: NY, currency: 'USD', now: NOW };

const weekend: CampaignDefinition = {
  name: 'Double points weekend',
  kind: 'multiplier',
  multiplier: '2',
  scope: 'all',
  startsAt: '2026-03-07T12:00',
  endsAt: '2026-03-08T12:30',
};

function issuesOf(def: unknown, ctx = context): Record<string, string> {
  try {
    parseCampaign(def, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(CampaignError);
    return Object.fromEntries((error as CampaignError).issues.map((i) => [i.path, i.message]));
  }
  throw new Error('expected a CampaignError');
}

const rule = (over: Partial<CampaignRule> = {}): CampaignRule => ({
  id: 1,
  name: 'Double points weekend',
  kind: 'multiplier',
  factorBps: 20_000,
  bonusPoints: null,
  minimumMinor: null,
  scope: 'all',
  productIds: null,
  stacking: 'multiply',
  startsAt: 0,
  endsAt: 1,
  ...over,
});
const gold = { source: 'tier', id: 'gold@v1', factorBps: 15_000 };

describe('parseCampaign', () => {
  it('compiles a mid-day window across the DST start in New York', () => {
    const c = parseCampaign(weekend, context);
    // 12:00 EST (UTC−5) on Saturday; 12:30 EDT (UTC−4) on Sunday, after clocks went forward.
    expect(new Date(c.startsAt).toISOString()).toBe('2026-03-07T17:00:00.000Z');
    expect(new Date(c.endsAt).toISOString()).toBe('2026-03-08T16:30:00.000Z');
    expect(c).toMatchObject({
      kind: 'multiplier',
      factorBps: 20_000,
      stacking: 'multiply',
      scope: 'all',
      targetIds: [],
      startsAtLocal: '2026-03-07T12:00:00',
    });
  });

  it('names every bad field at once', () => {
    expect(
      issuesOf({ ...weekend, name: ' ', kind: 'cashback', scope: 'tags', stacking: 'add' }),
    ).toEqual({
      name: 'must not be empty',
      kind: '\'cashback\' is not a kind: use "multiplier" or "bonus"',
      scope: '\'tags\' is not a scope: use "all", "products" or "collections"',
      stacking: '\'add\' is not a stacking rule: use "multiply" or "best"',
    });
  });

  it('refuses an end at or before the start', () => {
    expect(issuesOf({ ...weekend, endsAt: '2026-03-07T12:00' })).toEqual({
      endsAt: 'must be after the start',
    });
    expect(issuesOf({ ...weekend, endsAt: '2026-03-06T23:59' })).toEqual({
      endsAt: 'must be after the start',
    });
  });

  it('refuses a new campaign starting in the past, unless the data is historical', () => {
    const past = { ...weekend, startsAt: '2026-02-28T00:00', endsAt: '2026-03-02T00:00' };
    expect(issuesOf(past).startsAt).toMatch(/must not be in the past/);
    expect(parseCampaign(past, { ...context, allowPastStart: true }).startsAtLocal).toBe(
      '2026-02-28T00:00:00',
    );
  });

  it.each([
    ['0', /more than 0/],
    ['-2', /more than 0/],
    ['0.5', /more than 1/],
    ['1', /more than 1/],
    ['10.5', /at most 10/],
    ['two', /a number such as/],
    ['', /is required/],
  ])('refuses the multiplier %j', (multiplier, message) => {
    expect(issuesOf({ ...weekend, multiplier }).multiplier).toMatch(message);
  });

  it('reads multipliers in basis points', () => {
    expect(parseCampaignFactor('2')).toBe(20_000);
    expect(parseCampaignFactor('1.25')).toBe(12_500);
    expect(parseCampaignFactor('10')).toBe(100_000);
  });

  it('checks bonus points and the minimum amount', () => {
    const bonus = { ...weekend, kind: 'bonus', multiplier: null };
    expect(issuesOf({ ...bonus, bonusPoints: 0 }).bonusPoints).toMatch(/from 1 to 1,000,000/);
    expect(issuesOf({ ...bonus, bonusPoints: 1_000_001 }).bonusPoints).toMatch(/from 1/);
    expect(issuesOf({ ...bonus, bonusPoints: 2.5 }).bonusPoints).toMatch(/whole number/);
    expect(issuesOf({ ...bonus }).bonusPoints).toBe('is required');
    expect(issuesOf({ ...bonus, bonusPoints: 50, minimumAmount: '12.345' }).minimumAmount).toMatch(
      /not an amount in USD/,
    );
    expect(
      parseCampaign({ ...bonus, bonusPoints: 50, minimumAmount: '50' }, context),
    ).toMatchObject({ kind: 'bonus', bonusPoints: 50, minimumMinor: 5000, factorBps: null });
  });

  it('needs at least one valid product or collection for a scoped campaign', () => {
    expect(issuesOf({ ...weekend, scope: 'products', targetIds: [] })).toEqual({
      targetIds: 'choose at least one product',
    });
    expect(issuesOf({ ...weekend, scope: 'collections', targetIds: [' '] })).toEqual({
      targetIds: 'choose at least one collection',
    });
    expect(issuesOf({ ...weekend, scope: 'products', targetIds: ['12', 'abc'] })).toEqual({
      'targetIds[1]': "'abc' is not a product id (a number or its gid)",
    });
    const ok = parseCampaign(
      { ...weekend, scope: 'products', targetIds: ['gid://shopify/Product/12', '12', '34'] },
      context,
    );
    expect(ok.targetIds).toEqual(['12', '34']);
  });

  it('refuses what is not a definition, naming the field', () => {
    expect(issuesOf({ ...weekend, startsAt: 5 })).toHaveProperty('startsAt');
    expect(issuesOf({ ...weekend, startsAt: '2026-02-30T10:00' })).toEqual({
      startsAt: 'is not a real date and time',
    });
  });
});

describe('the window [startsAt, endsAt), to the millisecond', () => {
  const c = parseCampaign(weekend, context);
  const r = rule({ startsAt: c.startsAt, endsAt: c.endsAt });

  it('counts an order at the start, not one a millisecond before', () => {
    expect(campaignsInForce([r], c.startsAt - 1)).toEqual([]);
    expect(campaignsInForce([r], c.startsAt)).toEqual([r]);
  });

  it('counts an order a millisecond before the end, not one at the end', () => {
    expect(campaignsInForce([r], c.endsAt - 1)).toEqual([r]);
    expect(campaignsInForce([r], c.endsAt)).toEqual([]);
    expect(campaignStatus(r, c.endsAt - 1)).toBe('active');
    expect(campaignStatus(r, c.endsAt)).toBe('ended');
    expect(campaignStatus(r, c.startsAt - 1)).toBe('upcoming');
  });

  it('lists the local days it touches (an end at midnight does not touch that day)', () => {
    expect(campaignDays(c.startsAt, c.endsAt, NY)).toEqual(['2026-03-07', '2026-03-08']);
    const sat = parseCampaign(
      { ...weekend, startsAt: '2026-03-07T00:00', endsAt: '2026-03-09T00:00' },
      context,
    );
    expect(campaignDays(sat.startsAt, sat.endsAt, NY)).toEqual(['2026-03-07', '2026-03-08']);
  });
});

describe('earnWithCampaigns', () => {
  const base = { program: reference, amountMinor: 12_000, lines: null, tier: null };

  it('doubles $120 (90 points) to 180 and records the campaign', () => {
    const result = earnWithCampaigns({ ...base, campaigns: [rule()] });
    expect(result.points).toBe(180);
    expect(result.earn.multipliers).toEqual([
      { source: 'campaign', id: 'campaign:1', factorBps: 20_000 },
    ]);
    expect(result.campaigns).toEqual([
      {
        id: 1,
        name: 'Double points weekend',
        kind: 'multiplier',
        factorBps: 20_000,
        scope: 'all',
        stacking: 'multiply',
        eligibleAmountMinor: 12_000,
      },
    ]);
  });

  it('multiplies with the tier under `multiply`, takes the best under `best`', () => {
    const tier = gold;
    expect(earnWithCampaigns({ ...base, tier, campaigns: [rule()] }).points).toBe(270);
    const best = earnWithCampaigns({ ...base, tier, campaigns: [rule({ stacking: 'best' })] });
    expect(best.points).toBe(180);
    expect(best.tierSkipped).toBe(true);
    expect(best.earn.multipliers.map((m) => m.source)).toEqual(['campaign']);
    // ×1.25 under best loses to Gold ×1.5: the campaign is not applied, the tier is.
    const loses = earnWithCampaigns({
      ...base,
      tier,
      campaigns: [rule({ stacking: 'best', factorBps: 12_500 })],
    });
    expect(loses.points).toBe(135);
    expect(loses.campaigns).toEqual([]);
    expect(loses.earn.multipliers.map((m) => m.source)).toEqual(['tier']);
  });

  it('multiplies only the eligible share of a scoped campaign, with one floor', () => {
    const lines = [
      { productId: '1', amountMinor: 8_000 },
      { productId: '2', amountMinor: 4_000 },
    ];
    const scoped = rule({ scope: 'products', productIds: new Set(['2']) });
    // 90 + 90 × 4000/12000 × (2 − 1) = 120.
    const result = earnWithCampaigns({ ...base, lines, campaigns: [scoped] });
    expect(result.points).toBe(120);
    expect(result.campaigns[0]!.eligibleAmountMinor).toBe(4_000);
    expect(result.earn.multipliers[0]!.share).toEqual({
      eligibleMinor: 4_000,
      amountMinor: 12_000,
    });
    // No line of its products, or lines unknown: the campaign does not apply.
    expect(earnWithCampaigns({ ...base, lines: null, campaigns: [scoped] }).points).toBe(90);
    expect(
      earnWithCampaigns({ ...base, lines: [lines[0]!], campaigns: [scoped] }).campaigns,
    ).toEqual([]);
  });

  it('applies the best of overlapping multipliers, never both', () => {
    const result = earnWithCampaigns({
      ...base,
      campaigns: [
        rule({ id: 1, factorBps: 15_000 }),
        rule({ id: 2, factorBps: 30_000, name: 'Triple' }),
        rule({ id: 3, factorBps: 20_000 }),
      ],
    });
    expect(result.points).toBe(270);
    expect(result.campaigns.map((c) => c.id)).toEqual([2]);
  });

  it('adds every qualifying bonus after the multipliers, never multiplied', () => {
    const bonus = rule({ id: 7, kind: 'bonus', factorBps: null, bonusPoints: 50, name: 'Bonus' });
    const result = earnWithCampaigns({
      ...base,
      tier: gold,
      campaigns: [rule(), bonus, rule({ ...bonus, id: 8, minimumMinor: 15_000 })],
    });
    expect(result.points).toBe(270 + 50);
    expect(result.bonusPoints).toBe(50);
    expect(result.campaigns.map((c) => [c.id, c.kind, c.points ?? c.factorBps])).toEqual([
      [1, 'multiplier', 20_000],
      [7, 'bonus', 50],
    ]);
  });

  it('is the tier-only award when no campaign is in force', () => {
    const result = earnWithCampaigns({ ...base, tier: gold, campaigns: [] });
    expect(result).toMatchObject({
      points: 135,
      bonusPoints: 0,
      campaigns: [],
      tierSkipped: false,
    });
  });

  const amounts = fc.integer({ min: 0, max: 5_000_000 });
  const factors = fc.integer({ min: 10_001, max: 100_000 });
  const tiers = fc.option(fc.integer({ min: 10_000, max: 100_000 }), { nil: null });

  it('property: an all-products multiplier is floor(base × tier × factor), one floor', () => {
    fc.assert(
      fc.property(amounts, factors, tiers, (amount, factor, tierBps) => {
        const tier = tierBps === null ? null : { ...gold, factorBps: tierBps };
        const result = earnWithCampaigns({
          ...base,
          amountMinor: amount,
          tier,
          campaigns: [rule({ factorBps: factor })],
        });
        const b = BigInt(computeEarn(reference, amount).basePoints);
        const expected = Number((b * BigInt(tierBps ?? 10_000) * BigInt(factor)) / 100_000_000n);
        expect(result.points).toBe(expected);
      }),
    );
  });

  it('property: `best` gives max(tier only, campaign only); a scoped share lies between ×1 and all', () => {
    fc.assert(
      fc.property(
        amounts,
        factors,
        tiers,
        fc.integer({ min: 0, max: 100 }),
        (amount, factor, tierBps, percent) => {
          const tier = tierBps === null ? null : { ...gold, factorBps: tierBps };
          const b = computeEarn(reference, amount).basePoints;
          const tierOnly = Math.floor((b * (tierBps ?? 10_000)) / 10_000);
          const campaignOnly = Math.floor((b * factor) / 10_000);
          const best = earnWithCampaigns({
            ...base,
            amountMinor: amount,
            tier,
            campaigns: [rule({ factorBps: factor, stacking: 'best' })],
          });
          expect(best.points).toBe(Math.max(tierOnly, campaignOnly));

          const eligible = Math.floor((amount * percent) / 100);
          const lines = [
            { productId: '1', amountMinor: eligible },
            { productId: '2', amountMinor: amount - eligible },
          ];
          const scoped = earnWithCampaigns({
            ...base,
            amountMinor: amount,
            lines,
            campaigns: [rule({ factorBps: factor, productIds: new Set(['1']), scope: 'products' })],
          });
          expect(scoped.points).toBeGreaterThanOrEqual(b);
          expect(scoped.points).toBeLessThanOrEqual(campaignOnly);
          const exact =
            amount === 0
              ? 0
              : Number(
                  (BigInt(b) * BigInt(10_000 * (amount - eligible) + factor * eligible)) /
                    BigInt(10_000 * amount),
                );
          expect(scoped.points).toBe(eligible === 0 ? b : exact);
        },
      ),
    );
  });

  it('eligibleAmount never exceeds the amount', () => {
    const c = { productIds: new Set(['1']) };
    expect(eligibleAmount(c, 100, [{ productId: '1', amountMinor: 150 }])).toBe(100);
    expect(eligibleAmount(c, 100, [{ productId: null, amountMinor: 50 }])).toBe(0);
    expect(eligibleAmount({ productIds: null }, 100, null)).toBe(100);
  });
});

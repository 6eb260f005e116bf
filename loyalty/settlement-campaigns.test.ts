import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { settlementOrder } from '../tests/fixtures/settlement';
import type { CampaignRule } from './campaigns';
import { explainEntry } from './explain';
import { parseProgram, referenceProgram } from './program';
import {
  planOrderSettlement,
  type EntryDraft,
  type SettlementInput,
  type SettlementRefund,
} from './settlement';

const reference = { version: 3, program: parseProgram(referenceProgram) };
// The fixture order: #1001, $120.00 subtotal, processed 2026-03-14T14:15:00Z.
const processedAt = Date.parse('2026-03-14T14:15:00Z');

function input(overrides: Partial<SettlementInput> = {}): SettlementInput {
  return {
    order: settlementOrder(),
    testOrdersEarn: false,
    program: reference,
    award: null,
    postedReversalKeys: new Set(),
    alreadyReversed: 0,
    refunds: [],
    ...overrides,
  };
}

const weekend: CampaignRule = {
  id: 12,
  name: 'Double points weekend',
  kind: 'multiplier',
  factorBps: 20_000,
  bonusPoints: null,
  minimumMinor: null,
  scope: 'all',
  productIds: null,
  stacking: 'multiply',
  // Mid-day to mid-day around the order.
  startsAt: processedAt - 3_600_000,
  endsAt: processedAt + 3_600_000,
};
const gold = { key: 'gold', name: 'Gold', version: 2, multiplierBps: 15_000 };

const refund = (refundId: string, merchandiseMinor: number): SettlementRefund => ({
  refundId,
  merchandiseMinor,
  processedAt: new Date('2026-03-20T10:00:00Z'),
});
const asPosted = (award: EntryDraft) => ({
  id: 41,
  customerId: 7,
  points: award.points,
  amountMinor: 12_000,
  programVersion: award.programVersion,
});
const explain = (entry: EntryDraft, locale: 'en' | 'fr' = 'en') =>
  explainEntry(
    { source: entry.source, points: entry.points, inputs: entry.inputs, orderName: '#1001' },
    { locale, shopCurrency: 'USD' },
  );

describe('planOrderSettlement with campaigns', () => {
  it('doubles the award in the window and records the campaign on it', () => {
    const award = planOrderSettlement(input({ campaigns: [weekend] })).award!;
    expect(award.points).toBe(180);
    expect(award.inputs).toMatchObject({
      basePoints: 90,
      points: 180,
      multipliers: [{ source: 'campaign', id: 'campaign:12', factorBps: 20_000 }],
      campaigns: [
        {
          id: 12,
          name: 'Double points weekend',
          kind: 'multiplier',
          factorBps: 20_000,
          scope: 'all',
          stacking: 'multiply',
          eligibleAmountMinor: 12_000,
        },
      ],
    });
    expect(explain(award)).toBe('Order #1001, $120.00 → 180 points (Double points weekend ×2)');
    expect(explain(award, 'fr')).toBe(
      'Commande #1001, 120,00\u00a0$US → 180 points (Double points weekend ×2)',
    );
  });

  it('ignores a campaign that ended at the order’s instant or starts a millisecond after it', () => {
    for (const c of [
      { ...weekend, endsAt: processedAt },
      { ...weekend, startsAt: processedAt + 1 },
    ]) {
      const award = planOrderSettlement(input({ campaigns: [c] })).award!;
      expect(award.points).toBe(90);
      expect(award.inputs).not.toHaveProperty('campaigns');
    }
    const atStart = planOrderSettlement(
      input({ campaigns: [{ ...weekend, startsAt: processedAt }] }),
    );
    expect(atStart.award!.points).toBe(180);
  });

  it('Gold ×1.5 with ×2: 270 under multiply, 180 under best (the tier not applied)', () => {
    const multiply = planOrderSettlement(input({ tier: gold, campaigns: [weekend] })).award!;
    expect(multiply.points).toBe(270);
    expect(multiply.inputs).toMatchObject({ tier: { key: 'gold', name: 'Gold' } });
    expect(explain(multiply)).toBe(
      'Order #1001, $120.00 → 270 points (Gold ×1.5) (Double points weekend ×2)',
    );

    const best = planOrderSettlement(
      input({ tier: gold, campaigns: [{ ...weekend, stacking: 'best' }] }),
    ).award!;
    expect(best.points).toBe(180);
    expect(best.inputs).not.toHaveProperty('tier');
    expect(best.inputs).toMatchObject({
      tierSkipped: { key: 'gold', name: 'Gold', factorBps: 15_000 },
    });
    expect(explain(best)).toBe('Order #1001, $120.00 → 180 points (Double points weekend ×2)');
  });

  it('a scoped campaign counts the order’s lines of its products', () => {
    const order = {
      ...settlementOrder(),
      lines: [
        { productId: '111', amountMinor: 8_000 },
        { productId: '222', amountMinor: 4_000 },
      ],
    };
    const scoped = { ...weekend, scope: 'products' as const, productIds: new Set(['222']) };
    const award = planOrderSettlement(input({ order, campaigns: [scoped] })).award!;
    expect(award.points).toBe(120);
    expect(award.inputs).toMatchObject({
      campaigns: [{ id: 12, scope: 'products', eligibleAmountMinor: 4_000 }],
    });
    expect(explain(award)).toBe(
      'Order #1001, $120.00 → 120 points (Double points weekend ×2 on $40.00)',
    );
  });

  it('adds a bonus campaign’s points and says so', () => {
    const bonus: CampaignRule = {
      ...weekend,
      id: 13,
      name: 'Spring bonus',
      kind: 'bonus',
      factorBps: null,
      bonusPoints: 50,
      minimumMinor: 10_000,
    };
    const award = planOrderSettlement(input({ campaigns: [bonus] })).award!;
    expect(award.points).toBe(140);
    expect(award.inputs).toMatchObject({ points: 140, basePoints: 90, bonusPoints: 50 });
    expect(explain(award)).toBe('Order #1001, $120.00 → 140 points (Spring bonus +50)');
    expect(explain(award, 'fr')).toMatch(/\(Spring bonus \+50\)$/);
  });

  it('campaign award, partial refund, then the rest: nets to zero', () => {
    const award = planOrderSettlement(input({ tier: gold, campaigns: [weekend] })).award!;
    expect(award.points).toBe(270);
    const refunds = [refund('r1', 3_000)];
    const first = planOrderSettlement(input({ award: asPosted(award), refunds })).reversals;
    // floor(270 × 3000 / 12000) = 67.
    expect(first.map((r) => r.points)).toEqual([-67]);
    const second = planOrderSettlement(
      input({
        award: asPosted(award),
        refunds: [...refunds, refund('r2', 9_000)],
        postedReversalKeys: new Set(first.map((r) => r.idempotencyKey)),
        alreadyReversed: 67,
      }),
    ).reversals;
    expect(award.points + [...first, ...second].reduce((s, r) => s + r.points, 0)).toBe(0);
  });

  it('property: any refunds adding up to the amount net any campaign award to zero', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10_001, max: 100_000 }),
        fc.constantFrom<'multiply' | 'best'>('multiply', 'best'),
        fc.array(fc.integer({ min: 1, max: 12_000 }), { minLength: 1, maxLength: 5 }),
        (factorBps, stacking, cuts) => {
          const award = planOrderSettlement(
            input({ tier: gold, campaigns: [{ ...weekend, factorBps, stacking }] }),
          ).award!;
          // Split $120.00 into refunds at the given cut points.
          const points = [...new Set(cuts)].sort((a, b) => a - b);
          const edges = [0, ...points.filter((p) => p < 12_000), 12_000];
          const refunds = edges.slice(1).map((e, i) => refund(`r${i}`, e - edges[i]!));
          const plan = planOrderSettlement(input({ award: asPosted(award), refunds }));
          expect(award.points + plan.reversals.reduce((s, r) => s + r.points, 0)).toBe(0);
        },
      ),
    );
  });
});

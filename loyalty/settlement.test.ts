import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { settlementOrder } from '../tests/fixtures/settlement';
import { parseProgram, referenceProgram } from './program';
import {
  awardKey,
  cancellationKey,
  planOrderSettlement,
  refundReversalKey,
  SettlementError,
  type EntryDraft,
  type SettlementInput,
  type SettlementRefund,
} from './settlement';

const reference = { version: 1, program: parseProgram(referenceProgram) };

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

const refund = (refundId: string, merchandiseMinor: number): SettlementRefund => ({
  refundId,
  merchandiseMinor,
  processedAt: new Date('2026-03-20T10:00:00Z'),
});

describe('planOrderSettlement', () => {
  it('awards a paid order on its subtotal with the program version and the earn working', () => {
    const plan = planOrderSettlement(input());
    expect(plan.noAwardReason).toBeNull();
    expect(plan.customerId).toBe(7);
    expect(plan.reversals).toEqual([]);
    expect(plan.award).toMatchObject({
      idempotencyKey: 'order:1001:earn',
      source: 'order',
      points: 90,
      programVersion: 1,
      subjectId: '1001',
      occurredAt: new Date('2026-03-14T14:15:00Z'),
      inputs: {
        rule: 'earn-bands',
        orderId: '1001',
        orderName: '#1001',
        earnOn: 'subtotal_after_discounts',
        amountMinor: 12_000,
        currency: 'USD',
        basePoints: 90,
        points: 90,
        sourceName: 'web',
      },
    });
  });

  it('earns on the total when the program says so', () => {
    const totalProgram = {
      version: 2,
      program: parseProgram({ ...referenceProgram, earnOn: 'total' }),
    };
    const plan = planOrderSettlement(input({ program: totalProgram }));
    // $135.00: 50 + 2 × 35
    expect(plan.award?.points).toBe(120);
    expect(plan.award?.inputs.amountMinor).toBe(13_500);
    expect(plan.award?.programVersion).toBe(2);
  });

  it.each([
    ['no-order', { order: null }],
    ['not-paid', { order: settlementOrder({ paid: false }) }],
    ['guest', { order: settlementOrder({ customerId: null }) }],
    ['test-order', { order: settlementOrder({ test: true }) }],
    ['no-program', { program: null }],
    [
      'pos-order',
      {
        order: settlementOrder({ sourceName: 'pos' }),
        program: {
          version: 2,
          program: parseProgram({ ...referenceProgram, posOrders: 'exclude' }),
        },
      },
    ],
    ['zero-points', { order: settlementOrder({ earnAmountMinor: 5_000 }) }],
  ] as const)('plans nothing for %s', (reason, overrides) => {
    const plan = planOrderSettlement(input({ ...overrides, refunds: [refund('r1', 100)] }));
    expect(plan).toEqual({ award: null, customerId: null, reversals: [], noAwardReason: reason });
  });

  it('lets test orders earn when the shop opted in; POS orders earn like online ones', () => {
    expect(
      planOrderSettlement(input({ order: settlementOrder({ test: true }), testOrdersEarn: true }))
        .award?.points,
    ).toBe(90);
    expect(
      planOrderSettlement(input({ order: settlementOrder({ sourceName: 'pos' }) })).award?.points,
    ).toBe(90);
  });

  it('excludes only POS orders when the version in force says so; online orders still earn', () => {
    const excluding = {
      version: 2,
      program: parseProgram({ ...referenceProgram, posOrders: 'exclude' }),
    };
    expect(
      planOrderSettlement(
        input({ program: excluding, order: settlementOrder({ sourceName: 'web' }) }),
      ).award?.points,
    ).toBe(90);
    // An award already posted (under a version that let POS earn) is still reversed by its refund.
    const plan = planOrderSettlement(
      input({
        program: excluding,
        order: settlementOrder({ sourceName: 'pos' }),
        award: { id: 5, customerId: 7, points: 90, amountMinor: 12_000, programVersion: 1 },
        refunds: [refund('r1', 12_000)],
      }),
    );
    expect(plan.reversals.map((r) => r.points)).toEqual([-90]);
  });

  it('refuses an order in another currency than the program', () => {
    expect(() =>
      planOrderSettlement(input({ order: settlementOrder({ currency: 'EUR' }) })),
    ).toThrow(SettlementError);
  });

  it('reverses refunds recorded before the award right after it, cumulatively', () => {
    const plan = planOrderSettlement(
      input({ refunds: [refund('r1', 2_000), refund('r2', 10_000)] }),
    );
    expect(plan.award?.points).toBe(90);
    expect(plan.reversals.map((r) => [r.idempotencyKey, r.points])).toEqual([
      ['refund:r1:reverse', -15],
      ['refund:r2:reverse', -75],
    ]);
    expect(plan.reversals[1]!.inputs).toMatchObject({
      rule: 'proportional-cumulative-floor',
      awardPoints: 90,
      awardAmountMinor: 12_000,
      refundedMinorTotal: 12_000,
      alreadyReversed: 15,
      delta: 75,
      refundId: 'r2',
      refundMerchandiseMinor: 10_000,
    });
  });

  it("uses the award's recorded maths, not the program, for later refunds", () => {
    const plan = planOrderSettlement(
      input({
        // Today's program would give a different award; it must not matter.
        program: { version: 9, program: parseProgram({ ...referenceProgram, earnOn: 'total' }) },
        award: { id: 55, customerId: 7, points: 90, amountMinor: 12_000, programVersion: 1 },
        refunds: [refund('r1', 6_000)],
      }),
    );
    expect(plan.award).toBeNull();
    expect(plan.customerId).toBe(7);
    expect(plan.reversals).toHaveLength(1);
    expect(plan.reversals[0]).toMatchObject({ points: -45, programVersion: 1 });
  });

  it('skips reversals already posted and continues from what they took', () => {
    const plan = planOrderSettlement(
      input({
        award: { id: 55, customerId: 7, points: 90, amountMinor: 12_000, programVersion: 1 },
        postedReversalKeys: new Set([refundReversalKey('r1')]),
        alreadyReversed: 15,
        refunds: [refund('r1', 2_000), refund('r2', 2_000)],
      }),
    );
    expect(plan.reversals.map((r) => [r.idempotencyKey, r.points])).toEqual([
      ['refund:r2:reverse', -15],
    ]);
  });

  it('cancellation takes the remainder; refunds after it reverse 0', () => {
    const cancelled = settlementOrder({ cancelledAt: new Date('2026-03-21T09:00:00Z') });
    const first = planOrderSettlement(input({ order: cancelled, refunds: [refund('r1', 2_000)] }));
    expect(first.reversals.map((r) => [r.idempotencyKey, r.source, r.points])).toEqual([
      ['refund:r1:reverse', 'refund', -15],
      ['order:1001:cancel', 'cancellation', -75],
    ]);
    expect(first.reversals[1]!.occurredAt).toEqual(new Date('2026-03-21T09:00:00Z'));
    const later = planOrderSettlement(
      input({
        order: cancelled,
        award: { id: 1, customerId: 7, points: 90, amountMinor: 12_000, programVersion: 1 },
        postedReversalKeys: new Set([refundReversalKey('r1'), cancellationKey('1001')]),
        alreadyReversed: 90,
        refunds: [refund('r1', 2_000), refund('r2', 10_000)],
      }),
    );
    expect(later.reversals.map((r) => [r.idempotencyKey, r.points])).toEqual([
      ['refund:r2:reverse', -0],
    ]);
  });
});

/**
 * A model of the ledger for one order: each delivery adds a fact, then the plan is posted. Whatever
 * the order of deliveries and however often each repeats, the ledger ends the same.
 */
type Event =
  | { kind: 'paid' }
  | { kind: 'refund'; refundId: string; merchandiseMinor: number }
  | { kind: 'cancel' };

function replay(amountMinor: number, events: Event[]) {
  const entries = new Map<string, EntryDraft>();
  let paid = false;
  let cancelled = false;
  const refunds: SettlementRefund[] = [];
  for (const event of events) {
    if (event.kind === 'paid') paid = true;
    else if (event.kind === 'cancel') cancelled = true;
    else if (!refunds.some((r) => r.refundId === event.refundId)) {
      refunds.push(refund(event.refundId, event.merchandiseMinor));
    }
    const awardEntry = entries.get(awardKey('1001'));
    const posted = [...entries.values()].filter((e) => e.source !== 'order');
    const plan = planOrderSettlement(
      input({
        order: settlementOrder({
          paid,
          earnAmountMinor: amountMinor,
          cancelledAt: cancelled ? new Date('2026-03-22T00:00:00Z') : null,
        }),
        award: awardEntry
          ? {
              id: 1,
              customerId: 7,
              points: awardEntry.points,
              amountMinor: awardEntry.inputs.amountMinor as number,
              programVersion: 1,
            }
          : null,
        postedReversalKeys: new Set(posted.map((e) => e.idempotencyKey)),
        alreadyReversed: -posted.reduce((sum, e) => sum + e.points, 0),
        refunds,
      }),
    );
    for (const draft of [...(plan.award ? [plan.award] : []), ...plan.reversals]) {
      expect(entries.has(draft.idempotencyKey)).toBe(false);
      entries.set(draft.idempotencyKey, draft);
    }
  }
  return entries;
}

/** Splits `total` into 1–4 positive refund amounts (the last part may be 0). */
const splits = (total: number) =>
  fc.array(fc.integer({ min: 0, max: total }), { minLength: 0, maxLength: 3 }).map((cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), total];
    return points.slice(1).map((p, i) => p - points[i]!);
  });

describe('planOrderSettlement, any delivery order', () => {
  it('refunds adding up to the order net to zero, in any order and with repeats', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 100_000 })
          .chain((amount) =>
            fc.tuple(fc.constant(amount), splits(amount), fc.boolean(), fc.integer()),
          ),
        ([amount, parts, cancel, seed]) => {
          const events: Event[] = [
            { kind: 'paid' },
            ...parts.map((m, i) => ({
              kind: 'refund' as const,
              refundId: `r${i}`,
              merchandiseMinor: m,
            })),
            ...(cancel ? [{ kind: 'cancel' as const }] : []),
          ];
          // Shuffle deterministically from the seed, then repeat some deliveries.
          const shuffled = events
            .map((e, i) => ({
              e,
              k: (Math.imul(seed ^ (i * 2654435761), 2246822519) >>> 0) % 1000,
            }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.e);
          const delivered = [...shuffled, ...shuffled.filter((_, i) => (seed >>> i) & 1)];
          const entries = replay(amount, delivered);
          const total = [...entries.values()].reduce((sum, e) => sum + e.points, 0);
          expect(total).toBe(0);
          // Never reverses more than awarded, never gives points back.
          for (const e of entries.values()) {
            if (e.source !== 'order') expect(e.points).toBeLessThanOrEqual(0);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a partial refund leaves the same balance whichever comes first, refund or paid', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 5_001, max: 1_000_000 })
          .chain((amount) =>
            fc.tuple(fc.constant(amount), fc.integer({ min: 0, max: amount - 1 })),
          ),
        ([amount, refunded]) => {
          const r: Event = { kind: 'refund', refundId: 'r1', merchandiseMinor: refunded };
          const a = replay(amount, [{ kind: 'paid' }, r]);
          const b = replay(amount, [r, { kind: 'paid' }, r]);
          const sum = (m: Map<string, EntryDraft>) =>
            [...m.values()].reduce((s, e) => s + e.points, 0);
          expect(sum(b)).toBe(sum(a));
          const points = a.get(awardKey('1001'))?.points ?? 0;
          expect(sum(a)).toBe(points - Math.floor((points * refunded) / amount));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('planOrderSettlement: tier multipliers', () => {
  const gold = { key: 'gold', name: 'Gold', version: 3, multiplierBps: 15_000 };
  /** The award as the ledger would hand it back to later settlements. */
  const asPosted = (award: EntryDraft) => ({
    id: 41,
    customerId: 7,
    points: award.points,
    amountMinor: 12_000,
    programVersion: award.programVersion,
  });

  it('multiplies the award by the tier held and records the multiplier and the tier', () => {
    const plan = planOrderSettlement(input({ tier: gold }));
    expect(plan.award).toMatchObject({
      points: 135, // floor(90 × 1.5)
      inputs: {
        basePoints: 90,
        points: 135,
        multipliers: [{ source: 'tier', id: 'gold@v3', factorBps: 15_000 }],
        tier: { key: 'gold', name: 'Gold' },
      },
    });
    // ×1 (or no tier) records nothing: the award's inputs are what they were before tiers.
    const plain = planOrderSettlement(input()).award!;
    expect(planOrderSettlement(input({ tier: { ...gold, multiplierBps: 10_000 } })).award).toEqual(
      plain,
    );
    expect(plain.inputs).not.toHaveProperty('tier');
    expect(plain.inputs.multipliers).toEqual([]);
  });

  it('a partial then a full refund of a ×1.5 award nets to zero, whatever the tier is by then', () => {
    const award = planOrderSettlement(input({ tier: gold })).award!;
    const refunds = [refund('r1', 3_000), refund('r2', 9_000)];
    // Later the member is Platinum ×2 or has no tier: reversals read only the recorded award.
    for (const laterTier of [gold, { ...gold, key: 'platinum', multiplierBps: 20_000 }, null]) {
      const partial = planOrderSettlement(
        input({ tier: laterTier, award: asPosted(award), refunds: refunds.slice(0, 1) }),
      );
      expect(partial.award).toBeNull();
      expect(partial.reversals.map((r) => r.points)).toEqual([-33]); // floor(135 × 30 / 120)
      const full = planOrderSettlement(
        input({
          tier: laterTier,
          award: asPosted(award),
          refunds,
          postedReversalKeys: new Set([refundReversalKey('r1')]),
          alreadyReversed: 33,
        }),
      );
      expect(full.reversals.map((r) => r.points)).toEqual([-102]);
      expect(award.points - 33 - 102).toBe(0);
    }
  });

  it('award then any refunds and a cancellation nets to zero with any multiplier', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10_000, max: 100_000 }),
        fc.array(fc.integer({ min: 0, max: 12_000 }), { maxLength: 4 }),
        (multiplierBps, amounts) => {
          const plan = planOrderSettlement(
            input({
              tier: { ...gold, multiplierBps },
              order: settlementOrder({ cancelledAt: new Date('2026-03-30T00:00:00Z') }),
              refunds: amounts.map((a, i) => refund(`r${i}`, a)),
            }),
          );
          const total = plan.award!.points + plan.reversals.reduce((s, r) => s + r.points, 0);
          expect(total).toBe(0);
          expect(plan.award!.points).toBe(Math.floor((90 * multiplierBps) / 10_000));
        },
      ),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseProgram, referenceProgram, type CompiledProgram } from './program';
import { planOrderSettlement } from './settlement';
import { replayAward, simulate, type SimulationOrder } from './simulation';

const reference = parseProgram(referenceProgram);
/** The draft of docs/program-editor.md's worked example: band 2 at 3 points per $1. */
const richer = parseProgram({
  ...referenceProgram,
  earn: {
    unit: '1.00',
    bands: [
      { over: '50.00', upTo: '100.00', pointsPerUnit: 1 },
      { over: '100.00', pointsPerUnit: 3 },
    ],
  },
});

const at = (iso: string) => Date.parse(iso);

function order(overrides: Partial<SimulationOrder> = {}): SimulationOrder {
  return {
    processedAt: at('2026-10-10T15:00:00Z'),
    customerId: 1,
    paid: true,
    test: false,
    pos: false,
    cancelledAt: null,
    earnAmountMinor: 12_000,
    totalMinor: 13_500,
    multipliersBps: [],
    refunds: [],
    ...overrides,
  };
}

const base = {
  months: ['2026-10', '2026-11', '2026-12'],
  timezone: 'America/New_York',
  currentAt: () => reference,
  draft: richer,
  testOrdersEarn: { current: false, draft: false },
  pointValue: { amountMinor: 500, points: 500 }, // $5 off for 500 points: 1 cent a point
};

describe('simulate', () => {
  it('the worked example: three orders, a partial refund in the next month, a cancellation', () => {
    const result = simulate({
      ...base,
      orders: [
        // $120 → 90 now (50×1 + 20×2), 110 under the draft (50×1 + 20×3); $60 refunded in November.
        order({ refunds: [{ processedAt: at('2026-11-02T15:00:00Z'), merchandiseMinor: 6_000 }] }),
        // $80 → 30 under both: member 2 is not affected.
        order({ customerId: 2, earnAmountMinor: 8_000 }),
        // $200 on Nov 30 at 23:00 in New York (Dec 1 UTC): 250 → 350, cancelled in December.
        order({
          customerId: 3,
          processedAt: at('2026-12-01T04:00:00Z'),
          earnAmountMinor: 20_000,
          cancelledAt: at('2026-12-03T15:00:00Z'),
        }),
        // A guest order and an unpaid one: nothing under either.
        order({ customerId: null }),
        order({ customerId: 4, paid: false }),
      ],
    });
    const [oct, nov, dec] = result.months;
    expect(oct).toEqual({
      month: '2026-10',
      orders: 4,
      current: { issued: 120, reversed: 0, net: 120, costMinor: 120, awardedOrders: 2 },
      draft: { issued: 140, reversed: 0, net: 140, costMinor: 140, awardedOrders: 2 },
      membersAffected: 1,
    });
    // November: order 3 (Nov 30 local) earns; the refund of half of order 1 takes 45 / 55 back.
    expect(nov).toEqual({
      month: '2026-11',
      orders: 1,
      current: { issued: 250, reversed: 45, net: 205, costMinor: 205, awardedOrders: 1 },
      draft: { issued: 350, reversed: 55, net: 295, costMinor: 295, awardedOrders: 1 },
      membersAffected: 2,
    });
    expect(dec).toMatchObject({
      orders: 0,
      current: { issued: 0, reversed: 250, net: -250 },
      draft: { issued: 0, reversed: 350, net: -350 },
      membersAffected: 1,
    });
    // Over the period member 3 nets 0 under both (awarded then cancelled): only member 1 differs.
    expect(result.totals).toMatchObject({
      orders: 5,
      current: { issued: 370, reversed: 295, net: 75, costMinor: 75 },
      draft: { issued: 490, reversed: 405, net: 85, costMinor: 85 },
      membersAffected: 1,
    });
    expect(result.members).toBe(3);
    expect(result.refunds).toBe(1);
  });

  it('judges POS and test orders by each side’s own setting', () => {
    const excludingPos = parseProgram({ ...referenceProgram, posOrders: 'exclude' });
    const result = simulate({
      ...base,
      draft: excludingPos,
      testOrdersEarn: { current: false, draft: true },
      orders: [order({ pos: true }), order({ customerId: 2, test: true })],
    });
    expect(result.totals.current.issued).toBe(90); // the POS order; the test order is excluded
    expect(result.totals.draft.issued).toBe(90); // the test order; the POS order is excluded
    expect(result.totals.membersAffected).toBe(2);
  });

  it('uses the version in force when each order was placed for the current side', () => {
    const result = simulate({
      ...base,
      currentAt: (instant) => (instant < at('2026-11-01T04:00:00Z') ? reference : richer),
      orders: [order(), order({ processedAt: at('2026-11-10T15:00:00Z') })],
    });
    expect(result.months.map((m) => m.current.issued)).toEqual([90, 110, 0]);
    expect(result.months.map((m) => m.draft.issued)).toEqual([110, 110, 0]);
  });

  it('applies the multiplier the real award recorded, after the bands, with one floor', () => {
    const result = simulate({ ...base, orders: [order({ multipliersBps: [15_000] })] });
    expect(result.totals.current.issued).toBe(135); // floor(90 × 1.5)
    expect(result.totals.draft.issued).toBe(165); // floor(110 × 1.5)
  });

  it('gives points only when there is no redemption value', () => {
    const result = simulate({ ...base, pointValue: null, orders: [order()] });
    expect(result.totals.current.costMinor).toBeNull();
    expect(result.totals.current.net).toBe(90);
  });
});

// ---------------------------------------------------------------------------------------------
// The replay is settlement: on random orders, the points it counts for an order equal the sum of
// the entries planOrderSettlement would post for it.

const programArb: fc.Arbitrary<CompiledProgram> = fc
  .record({
    cut: fc.integer({ min: 1, max: 300 }),
    low: fc.integer({ min: 1, max: 5 }),
    high: fc.integer({ min: 1, max: 5 }),
    earnOn: fc.constantFrom('subtotal_after_discounts' as const, 'total' as const),
    posOrders: fc.constantFrom('earn' as const, 'exclude' as const),
  })
  .map(({ cut, low, high, earnOn, posOrders }) =>
    parseProgram({
      ...referenceProgram,
      earnOn,
      posOrders,
      earn: {
        unit: '1.00',
        bands: [
          { over: '0.00', upTo: `${cut}.00`, pointsPerUnit: low },
          { over: `${cut}.00`, pointsPerUnit: high },
        ],
      },
    }),
  );

const orderArb = fc.record({
  customerId: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
  paid: fc.boolean(),
  test: fc.boolean(),
  pos: fc.boolean(),
  cancelled: fc.boolean(),
  earnAmountMinor: fc.integer({ min: 0, max: 100_000 }),
  extraMinor: fc.integer({ min: 0, max: 5_000 }),
  multiplierBps: fc.constantFrom(10_000, 12_500, 15_000, 20_000),
  refunds: fc.array(fc.integer({ min: 0, max: 60_000 }), { maxLength: 4 }),
});

describe('replay ≡ settlement', () => {
  it('counts for every order exactly what planOrderSettlement posts', () => {
    fc.assert(
      fc.property(programArb, orderArb, fc.boolean(), (program, o, testOrdersEarn) => {
        const processedAt = at('2026-10-10T15:00:00Z');
        const refunds = o.refunds.map((merchandiseMinor, i) => ({
          processedAt: processedAt + (i + 1) * 86_400_000,
          merchandiseMinor,
        }));
        const cancelledAt = o.cancelled ? processedAt + 10 * 86_400_000 : null;
        const replayed: SimulationOrder = {
          processedAt,
          customerId: o.customerId,
          paid: o.paid,
          test: o.test,
          pos: o.pos,
          cancelledAt,
          earnAmountMinor: o.earnAmountMinor,
          totalMinor: o.earnAmountMinor + o.extraMinor,
          multipliersBps: o.multiplierBps === 10_000 ? [] : [o.multiplierBps],
          refunds,
        };
        const plan = planOrderSettlement({
          order: {
            orderId: '1',
            name: '#1',
            customerId: o.customerId,
            paid: o.paid,
            test: o.test,
            sourceName: o.pos ? 'pos' : 'web',
            processedAt: new Date(processedAt),
            cancelledAt: cancelledAt === null ? null : new Date(cancelledAt),
            currency: 'USD',
            earnAmountMinor: o.earnAmountMinor,
            totalMinor: o.earnAmountMinor + o.extraMinor,
          },
          testOrdersEarn,
          program: { version: 1, program },
          award: null,
          postedReversalKeys: new Set(),
          alreadyReversed: 0,
          refunds: refunds.map((r, i) => ({
            refundId: `r${i}`,
            merchandiseMinor: r.merchandiseMinor,
            processedAt: new Date(r.processedAt),
          })),
          tier: { key: 'gold', name: 'Gold', version: 1, multiplierBps: o.multiplierBps },
        });
        const posted = [plan.award, ...plan.reversals].reduce((s, e) => s + (e?.points ?? 0), 0);
        const result = simulate({
          ...base,
          months: ['2026-10'],
          currentAt: () => program,
          draft: program,
          testOrdersEarn: { current: testOrdersEarn, draft: testOrdersEarn },
          orders: [replayed],
        });
        expect(result.totals.current.net).toBe(posted);
        expect(result.totals.current.issued).toBe(plan.award?.points ?? 0);
        expect(replayAward(replayed, program, testOrdersEarn).points).toBe(plan.award?.points ?? 0);
        expect(result.totals.membersAffected).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});

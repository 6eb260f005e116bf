import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MOVEMENT_KINDS,
  MOVEMENT_SOURCES,
  MovementTimeline,
  addMovements,
  movementAmount,
  movementKind,
  movementsOf,
  netMovement,
  noMovements,
  type Movements,
} from './ledger-movements';

const entry = fc.record({
  source: fc.constantFrom(...MOVEMENT_SOURCES),
  points: fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
});

/** One entry's columns, as the database would sum it alone. */
const single = (e: { source: string; points: number }) =>
  movementsOf([{ source: e.source, credit: e.points >= 0, points: e.points }]);

describe('movementKind', () => {
  it('puts each source and sign where docs/liability.md says', () => {
    expect(movementKind('order', 120)).toBe('issued');
    expect(movementKind('order', -40)).toBe('reversed');
    expect(movementKind('bonus', 50)).toBe('issued');
    expect(movementKind('referral', 500)).toBe('issued');
    expect(movementKind('referral', -500)).toBe('reversed');
    expect(movementKind('tier', 0)).toBe('issued');
    expect(movementKind('refund', -90)).toBe('reversed');
    expect(movementKind('cancellation', -90)).toBe('reversed');
    expect(movementKind('redemption', -500)).toBe('redeemed');
    expect(movementKind('redemption', 500)).toBe('redeemed');
    expect(movementKind('expiry', -10)).toBe('expired');
    expect(movementKind('adjustment', -10)).toBe('adjusted');
    expect(movementKind('adjustment', 10)).toBe('adjusted');
    expect(() => movementKind('gift', 1)).toThrow(/no movement column/);
  });

  it('counts a redemption net of the points given back, and takes-away columns as positives', () => {
    const m = movementsOf([
      { source: 'redemption', credit: false, points: -1500 },
      { source: 'redemption', credit: true, points: 500 },
      { source: 'expiry', credit: false, points: -30 },
      { source: 'order', credit: true, points: 900 },
      { source: 'order', credit: false, points: -100 },
      { source: 'refund', credit: false, points: -200 },
      { source: 'adjustment', credit: false, points: -5 },
    ]);
    expect(m).toEqual({ issued: 900, reversed: 300, redeemed: 1000, expired: 30, adjusted: -5 });
    expect(netMovement(m)).toBe(900 - 1500 + 500 - 30 - 100 - 200 - 5);
  });
});

describe('properties', () => {
  it('every entry falls in exactly one column, with its points', () => {
    fc.assert(
      fc.property(entry, (e) => {
        const m = single(e);
        const touched = MOVEMENT_KINDS.filter((k) => m[k] !== 0);
        if (e.points === 0) return touched.length === 0;
        const kind = movementKind(e.source, e.points);
        return (
          touched.length === 1 &&
          touched[0] === kind &&
          m[kind] === movementAmount(kind, e.points) &&
          Math.abs(m[kind]) === Math.abs(e.points)
        );
      }),
    );
  });

  it('the columns net to the sum of the entries, however they are grouped', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 60 }), (entries) => {
        const one = entries.reduce((sum, e) => addMovements(sum, single(e)), noMovements());
        // Grouped by source and sign, as the projection and the SQL sum them.
        const groups = new Map<string, { source: string; credit: boolean; points: number }>();
        for (const e of entries) {
          const key = `${e.source} ${e.points >= 0}`;
          const g = groups.get(key) ?? { source: e.source, credit: e.points >= 0, points: 0 };
          g.points += e.points;
          groups.set(key, g);
        }
        const grouped = movementsOf(groups.values());
        const total = entries.reduce((s, e) => s + e.points, 0);
        expect(grouped).toEqual(one);
        expect(netMovement(one)).toBe(total);
      }),
    );
  });

  it('a timeline range is the sum of its intervals, and intervals split any range', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 2, maxLength: 8 }),
        fc.array(fc.record({ at: fc.integer({ min: -10, max: 1010 }), e: entry }), {
          maxLength: 40,
        }),
        (raw, entries) => {
          const boundaries = [-Infinity, ...raw.sort((a, b) => a - b), Infinity];
          const timeline = new MovementTimeline(boundaries);
          for (const { at, e } of entries) {
            const i = timeline.intervalOf(at);
            const m: Movements = timeline.intervals[i]!;
            Object.assign(m, addMovements(m, single(e)));
          }
          const all = timeline.between(-Infinity, Infinity);
          expect(netMovement(all)).toBe(entries.reduce((s, x) => s + x.e.points, 0));
          const mid = boundaries[Math.floor(boundaries.length / 2)]!;
          expect(
            addMovements(timeline.between(-Infinity, mid), timeline.between(mid, Infinity)),
          ).toEqual(all);
        },
      ),
    );
  });
});

describe('MovementTimeline', () => {
  it('finds the interval of an instant and refuses ranges that are not boundaries', () => {
    const t = new MovementTimeline([0, 10, 20]);
    expect([
      t.intervalOf(-1),
      t.intervalOf(0),
      t.intervalOf(9),
      t.intervalOf(10),
      t.intervalOf(20),
    ]).toEqual([-1, 0, 0, 1, -1]);
    expect(() => t.between(0, 15)).toThrow(/boundaries/);
    expect(() => new MovementTimeline([0, 0])).toThrow(/ascending/);
  });
});

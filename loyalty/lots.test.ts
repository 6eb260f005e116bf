import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeLots,
  dueExpiries,
  expiringBetween,
  expiryAfter,
  ExpiryPolicyError,
  nextExpiry,
  parseExpiryPolicy,
  type ExpiryPolicy,
  type LotEntry,
} from './lots';
import { ExpirySettingsError, parseExpirySettings } from './expiry-settings';

let nextId = 1;
function entry(
  source: string,
  points: number,
  at: string,
  extra: Partial<LotEntry> = {},
): LotEntry {
  return { id: nextId++, source, points, occurredAt: new Date(at), inputs: {}, ...extra };
}

const NEVER: ExpiryPolicy = { mode: 'never' };

describe('parseExpiryPolicy', () => {
  it('accepts never, lot and inactivity with 1–120 months', () => {
    expect(parseExpiryPolicy({ mode: 'never', months: 0 })).toEqual({ mode: 'never' });
    expect(parseExpiryPolicy({ mode: 'lot', months: 1 })).toEqual({ mode: 'lot', months: 1 });
    expect(parseExpiryPolicy({ mode: 'inactivity', months: 120 })).toEqual({
      mode: 'inactivity',
      months: 120,
    });
  });

  it.each([0, -1, 121, 1.5, '12', null])('refuses months %s, naming the field', (months) => {
    let error: unknown;
    try {
      parseExpiryPolicy({ mode: 'lot', months });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExpiryPolicyError);
    expect((error as ExpiryPolicyError).field).toBe('months');
    expect((error as Error).message).toMatch(/months must be a whole number from 1 to 120/);
  });

  it('refuses an unknown mode', () => {
    expect(() => parseExpiryPolicy({ mode: 'sometimes', months: 3 })).toThrow(
      /mode must be one of/,
    );
  });
});

describe('lot consumption', () => {
  it('spends the oldest lots first, whatever order the entries come in', () => {
    const a = entry('order', 100, '2025-01-10T10:00:00Z');
    const b = entry('bonus', 50, '2025-02-10T10:00:00Z');
    const c = entry('order', 70, '2025-03-10T10:00:00Z');
    const spend = entry('redemption', -120, '2025-04-01T10:00:00Z');
    const state = computeLots([spend, c, a, b], NEVER, 'UTC');
    expect(state.lots.map((l) => [l.entryId, l.remaining])).toEqual([
      [a.id, 0],
      [b.id, 30],
      [c.id, 70],
    ]);
    expect(state.balance).toBe(100);
    expect(state.debt).toBe(0);
  });

  it('ties on occurredAt are broken by entry id', () => {
    const first = entry('order', 10, '2025-01-10T10:00:00Z');
    const second = entry('order', 10, '2025-01-10T10:00:00Z');
    const spend = entry('redemption', -10, '2025-01-11T10:00:00Z');
    const state = computeLots([second, spend, first], NEVER, 'UTC');
    expect(state.lots.find((l) => l.entryId === first.id)!.remaining).toBe(0);
    expect(state.lots.find((l) => l.entryId === second.id)!.remaining).toBe(10);
  });

  it('a reversal takes from its own award first, then the oldest', () => {
    const old = entry('order', 100, '2025-01-10T10:00:00Z');
    const award = entry('order', 60, '2025-02-10T10:00:00Z');
    const refund = entry('refund', -80, '2025-02-12T10:00:00Z', { reversesEntryId: award.id });
    const state = computeLots([old, award, refund], NEVER, 'UTC');
    expect(state.lots.map((l) => l.remaining)).toEqual([80, 0]);
  });

  it('an expiry takes exactly the lots it names', () => {
    const a = entry('order', 100, '2025-01-10T10:00:00Z');
    const b = entry('order', 40, '2025-02-10T10:00:00Z');
    const expiry = entry('expiry', -40, '2025-03-01T00:00:00Z', {
      inputs: { lots: [{ entryId: b.id, points: 40 }] },
    });
    const state = computeLots([a, b, expiry], NEVER, 'UTC');
    expect(state.lots.map((l) => l.remaining)).toEqual([100, 0]);
  });

  it('a debit beyond the lots leaves a debt that the next lot pays first', () => {
    const a = entry('order', 50, '2025-01-10T10:00:00Z');
    const spend = entry('redemption', -50, '2025-01-11T10:00:00Z');
    const refund = entry('refund', -30, '2025-01-12T10:00:00Z', { reversesEntryId: a.id });
    const later = entry('order', 100, '2025-02-01T10:00:00Z');
    const owing = computeLots([a, spend, refund], NEVER, 'UTC');
    expect(owing.debt).toBe(30);
    expect(owing.balance).toBe(-30);
    const paid = computeLots([a, spend, refund, later], NEVER, 'UTC');
    expect(paid.debt).toBe(0);
    expect(paid.lots.at(-1)!.remaining).toBe(70);
    expect(paid.balance).toBe(70);
  });

  it('points returned by a redemption refund are a new lot', () => {
    const a = entry('order', 50, '2025-01-10T10:00:00Z');
    const spend = entry('redemption', -50, '2025-01-11T10:00:00Z');
    const back = entry('redemption', 50, '2025-03-11T10:00:00Z', { reversesEntryId: spend.id });
    const state = computeLots([a, spend, back], { mode: 'lot', months: 12 }, 'UTC');
    expect(state.lots.map((l) => [l.entryId, l.remaining, l.lastDay])).toEqual([
      [a.id, 0, '2026-01-10'],
      [back.id, 50, '2026-03-11'],
    ]);
  });
});

describe('expiry instants', () => {
  it('clamps to the end of the month: Jan 31 + 1 month is usable through Feb 28 (29 in leap years)', () => {
    expect(expiryAfter('2025-01-31', 1, 'UTC')).toEqual({
      lastDay: '2025-02-28',
      expiresAt: new Date('2025-03-01T00:00:00Z'),
    });
    expect(expiryAfter('2024-01-31', 1, 'UTC').lastDay).toBe('2024-02-29');
  });

  it('lot mode in America/New_York: a lot earned the evening of Mar 9 local expires at local midnight after Mar 9 + 12 months', () => {
    // 2025-03-09 22:30 EDT is 2025-03-10 02:30 UTC: the local day is Mar 9 (the day DST began).
    const lot = entry('order', 100, '2025-03-10T02:30:00Z');
    const state = computeLots([lot], { mode: 'lot', months: 12 }, 'America/New_York');
    expect(state.lots[0]!.earnedDay).toBe('2025-03-09');
    expect(state.lots[0]!.lastDay).toBe('2026-03-09');
    // 2026-03-10 00:00 EDT (DST began Mar 8, 2026) = 04:00 UTC.
    const at = new Date('2026-03-10T04:00:00Z');
    expect(state.lots[0]!.expiresAt).toEqual(at);
    expect(dueExpiries(state, new Date(at.getTime() - 1))).toEqual([]);
    const due = dueExpiries(state, at);
    expect(due).toHaveLength(1);
    expect(due[0]!.points).toBe(100);
  });

  it('lot mode in America/New_York across the autumn change: earned in EDT, expiring in EST', () => {
    const lot = entry('order', 100, '2025-05-01T15:00:00Z'); // May 1, 11:00 EDT
    const state = computeLots([lot], { mode: 'lot', months: 6 }, 'America/New_York');
    // Usable through Nov 1, 2025; DST ends Nov 2 at 02:00, so midnight Nov 2 is still EDT (-4).
    expect(state.lots[0]!.expiresAt).toEqual(new Date('2025-11-02T04:00:00Z'));
    const later = computeLots([lot], { mode: 'lot', months: 7 }, 'America/New_York');
    // Usable through Dec 1; midnight Dec 2 EST (-5).
    expect(later.lots[0]!.expiresAt).toEqual(new Date('2025-12-02T05:00:00Z'));
    expect(dueExpiries(later, new Date('2025-12-02T04:59:59.999Z'))).toEqual([]);
    expect(dueExpiries(later, new Date('2025-12-02T05:00:00Z'))[0]!.points).toBe(100);
  });

  it('lot mode in Europe/Paris: expiry lands on the night the clocks go forward', () => {
    // Earned Feb 28, 2025 23:30 CET (22:30 UTC): + 13 months = usable through Mar 28, 2026.
    const lot = entry('order', 30, '2025-02-28T22:30:00Z');
    const state = computeLots([lot], { mode: 'lot', months: 13 }, 'Europe/Paris');
    expect(state.lots[0]!.earnedDay).toBe('2025-02-28');
    expect(state.lots[0]!.lastDay).toBe('2026-03-28');
    // Midnight starting Mar 29, 2026 is CET (+1): the clocks go forward at 02:00 that day.
    const at = new Date('2026-03-28T23:00:00Z');
    expect(state.lots[0]!.expiresAt).toEqual(at);
    expect(dueExpiries(state, new Date(at.getTime() - 1))).toEqual([]);
    expect(dueExpiries(state, at)[0]!.lots[0]!.points).toBe(30);
    // One day later the offset is +2: midnight Mar 30 is 22:00 UTC.
    const next = computeLots(
      [entry('order', 30, '2025-03-01T09:00:00Z')],
      { mode: 'lot', months: 12 },
      'Europe/Paris',
    );
    expect(next.lots[0]!.lastDay).toBe('2026-03-01');
    const summer = computeLots(
      [entry('order', 30, '2025-03-29T09:00:00Z')],
      { mode: 'lot', months: 12 },
      'Europe/Paris',
    );
    expect(summer.lots[0]!.expiresAt).toEqual(new Date('2026-03-29T22:00:00Z'));
  });

  it('inactivity mode: the whole balance expires at local midnight after last activity + N months (Paris, across the autumn change)', () => {
    const a = entry('order', 100, '2025-01-05T10:00:00Z');
    const b = entry('order', 20, '2025-04-15T21:30:00Z'); // Apr 15 23:30 CEST
    const spend = entry('redemption', -30, '2025-04-20T08:00:00Z'); // activity on Apr 20
    const state = computeLots([a, b, spend], { mode: 'inactivity', months: 6 }, 'Europe/Paris');
    expect(state.lastActivityAt).toEqual(spend.occurredAt);
    expect(state.lots.map((l) => l.lastDay)).toEqual(['2025-10-20', '2025-10-20']);
    // Midnight Oct 21 is CEST (+2): DST ends Oct 26.
    const at = new Date('2025-10-20T22:00:00Z');
    expect(nextExpiry(state)).toEqual(at);
    expect(dueExpiries(state, new Date(at.getTime() - 1))).toEqual([]);
    const due = dueExpiries(state, at);
    expect(due).toHaveLength(1);
    expect(due[0]!.points).toBe(90);
    expect(due[0]!.lots.map((l) => l.points)).toEqual([70, 20]);
  });

  it('inactivity mode in New York, expiring in winter time', () => {
    const a = entry('order', 100, '2025-06-30T23:30:00Z'); // Jun 30 19:30 EDT
    const state = computeLots([a], { mode: 'inactivity', months: 5 }, 'America/New_York');
    expect(state.lots[0]!.lastDay).toBe('2025-11-30');
    const at = new Date('2025-12-01T05:00:00Z');
    expect(dueExpiries(state, new Date(at.getTime() - 1))).toEqual([]);
    expect(dueExpiries(state, at)[0]!.points).toBe(100);
  });

  it('an expiry entry is not activity, and a 0-point entry (a tier change by the clock) is not either', () => {
    const a = entry('order', 100, '2025-01-05T10:00:00Z');
    const tier = entry('tier', 0, '2025-03-01T10:00:00Z');
    const state = computeLots([a, tier], { mode: 'inactivity', months: 1 }, 'UTC');
    expect(state.lots[0]!.lastDay).toBe('2025-02-05');
  });

  it('a policy never expires lots whose instant is at or before its effective_from', () => {
    const old = entry('order', 100, '2023-01-05T10:00:00Z');
    const recent = entry('order', 10, '2025-01-05T10:00:00Z');
    const state = computeLots([old, recent], { mode: 'lot', months: 12 }, 'UTC', {
      effectiveFrom: new Date('2025-06-01T00:00:00Z'),
    });
    expect(state.lots.map((l) => l.expiresAt)).toEqual([null, new Date('2026-01-06T00:00:00Z')]);
    expect(dueExpiries(state, new Date('2030-01-01T00:00:00Z')).map((g) => g.points)).toEqual([10]);
  });

  it('expiringBetween takes (from, to]', () => {
    const a = entry('order', 100, '2025-01-05T10:00:00Z');
    const b = entry('order', 7, '2025-01-06T10:00:00Z');
    const state = computeLots([a, b], { mode: 'lot', months: 1 }, 'UTC');
    const from = new Date('2025-02-06T00:00:00Z');
    expect(
      expiringBetween(state, from, new Date('2025-02-07T00:00:00Z')).map((g) => g.points),
    ).toEqual([7]);
    expect(expiringBetween(state, new Date(from.getTime() - 1), from).map((g) => g.points)).toEqual(
      [100],
    );
  });
});

describe('properties', () => {
  const sources = ['order', 'bonus', 'redemption', 'adjustment', 'refund'] as const;
  const entriesArb = fc
    .array(
      fc.record({
        source: fc.constantFrom(...sources),
        magnitude: fc.integer({ min: 1, max: 500 }),
        minutes: fc.integer({ min: 0, max: 3 * 365 * 24 * 60 }),
        reverses: fc.nat(),
      }),
      { maxLength: 40 },
    )
    .map((raw) => {
      const out: LotEntry[] = [];
      raw.forEach((r, i) => {
        const positive = r.source === 'order' || r.source === 'bonus';
        const awards = out.filter((e) => e.points > 0);
        const reverses =
          r.source === 'refund' && awards.length > 0
            ? awards[r.reverses % awards.length]!.id
            : null;
        out.push({
          id: i + 1,
          source: r.source,
          points: positive ? r.magnitude : -r.magnitude,
          occurredAt: new Date(Date.UTC(2024, 0, 1) + r.minutes * 60_000),
          inputs: {},
          reversesEntryId: reverses,
        });
      });
      return out;
    });
  const policyArb = fc.oneof(
    fc.constant<ExpiryPolicy>({ mode: 'never' }),
    fc.integer({ min: 1, max: 24 }).map((months): ExpiryPolicy => ({ mode: 'lot', months })),
    fc.integer({ min: 1, max: 24 }).map((months): ExpiryPolicy => ({ mode: 'inactivity', months })),
  );
  const tzArb = fc.constantFrom('UTC', 'America/New_York', 'Europe/Paris');

  it('the sum of what remains minus the debt is the balance, in any insertion order', () => {
    fc.assert(
      fc.property(entriesArb, policyArb, tzArb, fc.nat(), (entries, policy, tz, seed) => {
        const state = computeLots(entries, policy, tz);
        const remaining = state.lots.reduce((s, l) => s + l.remaining, 0);
        expect(remaining - state.debt).toBe(entries.reduce((s, e) => s + e.points, 0));
        expect(state.debt === 0 || remaining === 0).toBe(true);
        const shuffled = [...entries].sort(
          (a, b) => ((a.id * 7919 + seed) % 101) - ((b.id * 7919 + seed) % 101),
        );
        expect(computeLots(shuffled, policy, tz)).toEqual(state);
      }),
      { numRuns: 150 },
    );
  });

  it('posting what dueExpiries says never takes more than remains and leaves nothing due', () => {
    fc.assert(
      fc.property(entriesArb, policyArb, tzArb, (entries, policy, tz) => {
        const now = new Date(Date.UTC(2028, 0, 1));
        const state = computeLots(entries, policy, tz);
        const due = dueExpiries(state, now);
        let id = 10_000;
        const expiries: LotEntry[] = due.map((g) => ({
          id: id++,
          source: 'expiry',
          points: -g.points,
          occurredAt: g.expiresAt,
          inputs: { lots: g.lots.map((l) => ({ entryId: l.entryId, points: l.points })) },
        }));
        const total = due.reduce((s, g) => s + g.points, 0);
        expect(total).toBeLessThanOrEqual(Math.max(0, state.balance));
        const after = computeLots([...entries, ...expiries], policy, tz);
        expect(dueExpiries(after, now)).toEqual([]);
        expect(after.balance).toBe(state.balance - total);
        expect(after.debt).toBe(state.debt);
      }),
      { numRuns: 150 },
    );
  });
});

describe('parseExpirySettings', () => {
  it('names only the field at fault: bad months with reminders is a months problem', () => {
    let error: unknown;
    try {
      parseExpirySettings({
        policy: { mode: 'lot', months: 0 },
        reminderDays: [30],
        channels: { email: true },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExpirySettingsError);
    expect((error as ExpirySettingsError).issues.map((i) => i.path)).toEqual(['months']);
  });

  it('refuses reminders for points that never expire', () => {
    expect(() =>
      parseExpirySettings({
        policy: { mode: 'never' },
        reminderDays: [7],
        channels: { email: true },
      }),
    ).toThrow(/never expire need no reminders/);
  });
});

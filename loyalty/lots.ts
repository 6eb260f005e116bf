/**
 * Points lots and their expiry (docs/expiry.md). Pure: a member's ledger entries in, their lots out.
 *
 * Every positive entry is a lot earned at its occurredAt. Debits consume lots: a reversal of a lot
 * (an entry whose reversesEntryId names it: refund, cancellation, referral reversal) takes from
 * that lot first, then the oldest; an expiry entry takes the lots it names (`inputs.lots`); every
 * other debit takes the oldest lots first. A debit larger than what the lots hold leaves a debt,
 * which the next lots pay first. State is derived from facts, like settlement: the same entries
 * give the same lots whatever order they were inserted in (they are sorted by occurredAt, then id).
 */
import { addZonedDays, addZonedMonths, wallTimeOf, zonedMidnight } from './time';

export type ExpiryPolicy =
  { mode: 'never' } | { mode: 'lot'; months: number } | { mode: 'inactivity'; months: number };

export const EXPIRY_MODES = ['never', 'lot', 'inactivity'] as const;
export const MIN_EXPIRY_MONTHS = 1;
export const MAX_EXPIRY_MONTHS = 120;

/** A policy that cannot be used; `field` names the form field at fault. */
export class ExpiryPolicyError extends Error {
  constructor(
    readonly field: 'mode' | 'months',
    message: string,
  ) {
    super(message);
    this.name = 'ExpiryPolicyError';
  }
}

/** Checks and normalises a policy: months an integer 1–120 for `lot` and `inactivity`. */
export function parseExpiryPolicy(value: unknown): ExpiryPolicy {
  const raw = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const mode = raw.mode;
  if (mode === 'never') return { mode: 'never' };
  if (mode !== 'lot' && mode !== 'inactivity') {
    throw new ExpiryPolicyError('mode', `mode must be one of ${EXPIRY_MODES.join(', ')}`);
  }
  const months = raw.months;
  if (
    typeof months !== 'number' ||
    !Number.isInteger(months) ||
    months < MIN_EXPIRY_MONTHS ||
    months > MAX_EXPIRY_MONTHS
  ) {
    throw new ExpiryPolicyError(
      'months',
      `months must be a whole number from ${MIN_EXPIRY_MONTHS} to ${MAX_EXPIRY_MONTHS} (got ${String(months)})`,
    );
  }
  return { mode, months };
}

/** What lots are derived from: a member's ledger entries as stored. */
export interface LotEntry {
  id: number;
  source: string;
  points: number;
  occurredAt: Date;
  inputs: Readonly<Record<string, unknown>>;
  reversesEntryId?: number | null;
}

export interface Lot {
  /** The earning entry. */
  entryId: number;
  source: string;
  earnedAt: Date;
  /** The shop-local day it was earned (YYYY-MM-DD). */
  earnedDay: string;
  /** Points the entry brought. */
  points: number;
  /** What is left of them after debits, debts and expiries. */
  remaining: number;
  /** When what remains expires (null: never, under this policy). */
  expiresAt: Date | null;
  /** The last local day the points can be used (null: never expires). */
  lastDay: string | null;
  /** The order the lot came from, as its entry recorded it (for the explanation). */
  orderName: string | null;
}

export interface LotState {
  lots: Lot[];
  /** Points owed: debits that found no lot to take from. Later lots pay it first. */
  debt: number;
  /** The sum of the entries: always sum(remaining) − debt. */
  balance: number;
  /** The latest activity (any entry except an expiry and 0-point entries); null: none. */
  lastActivityAt: Date | null;
}

export interface ComputeOptions {
  /**
   * The effective_from of the policy version in force: an expiry instant at or before it is never
   * applied under this version (no retroactive expiry), so such lots get expiresAt null.
   */
  effectiveFrom?: Date | null;
}

/** "YYYY-MM-DD" of an instant on `tz`'s wall clock. */
export function localDayOf(epochMs: number, tz: string): string {
  const w = wallTimeOf(epochMs, tz);
  return `${String(w.year).padStart(4, '0')}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/**
 * The expiry of something dated local day `day` plus `months`: the last usable day (same day of
 * month, clamped to the month's end: Jan 31 + 1 month → Feb 28/29) and the instant that ends it
 * (the shop's local midnight starting the next day; DST-safe through zonedMidnight).
 */
export function expiryAfter(
  day: string,
  months: number,
  tz: string,
): { lastDay: string; expiresAt: Date } {
  // Computed on UTC noon of the day: pure calendar arithmetic, no DST in the way.
  const noon = Date.parse(`${day}T12:00:00Z`);
  const last = addZonedMonths(noon, months, 'UTC');
  const lastDay = new Date(last).toISOString().slice(0, 10);
  const next = new Date(addZonedDays(last, 1, 'UTC')).toISOString().slice(0, 10);
  return { lastDay, expiresAt: new Date(zonedMidnight(next, tz)) };
}

/** The first instant of the local day after `day` (the end of `day`) in `tz`. */
export function endOfLocalDay(day: string, tz: string): Date {
  const next = new Date(addZonedDays(Date.parse(`${day}T12:00:00Z`), 1, 'UTC'))
    .toISOString()
    .slice(0, 10);
  return new Date(zonedMidnight(next, tz));
}

/** `days` calendar days after local day `day`. */
export function addDays(day: string, days: number): string {
  return new Date(addZonedDays(Date.parse(`${day}T12:00:00Z`), days, 'UTC'))
    .toISOString()
    .slice(0, 10);
}

function byTimeThenId(a: LotEntry, b: LotEntry): number {
  return a.occurredAt.getTime() - b.occurredAt.getTime() || a.id - b.id;
}

/** The lots an expiry entry names: `inputs.lots[*].entryId/points`, read defensively. */
function namedLots(
  inputs: Readonly<Record<string, unknown>>,
): { entryId: number; points: number }[] {
  const lots = inputs.lots;
  if (!Array.isArray(lots)) return [];
  const out: { entryId: number; points: number }[] = [];
  for (const item of lots as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { entryId, points } = item as Record<string, unknown>;
    if (Number.isSafeInteger(entryId) && Number.isSafeInteger(points) && (points as number) > 0) {
      out.push({ entryId: entryId as number, points: points as number });
    }
  }
  return out;
}

/**
 * A member's lots from their entries under `policy` in the shop's timezone `tz`.
 * Throws ExpiryPolicyError for a policy parseExpiryPolicy refuses.
 */
export function computeLots(
  entries: readonly LotEntry[],
  policy: ExpiryPolicy,
  tz: string,
  options: ComputeOptions = {},
): LotState {
  const checked = parseExpiryPolicy(policy);
  const sorted = [...entries].sort(byTimeThenId);
  const lots: Lot[] = [];
  const byId = new Map<number, Lot>();
  let debt = 0;
  let balance = 0;
  let lastActivity: number | null = null;
  // Oldest lot that may still hold points: lots before it are empty (FIFO never goes back).
  let cursor = 0;

  const takeFrom = (lot: Lot, wanted: number): number => {
    const taken = Math.min(lot.remaining, wanted);
    lot.remaining -= taken;
    return taken;
  };
  const takeOldest = (wanted: number): number => {
    let left = wanted;
    // Lots emptied out of order (by a reversal or an expiry) are passed over on the way.
    for (let i = cursor; left > 0 && i < lots.length; i++) left -= takeFrom(lots[i]!, left);
    while (cursor < lots.length && lots[cursor]!.remaining === 0) cursor++;
    return left;
  };

  for (const entry of sorted) {
    balance += entry.points;
    if (entry.source !== 'expiry' && entry.points !== 0) {
      lastActivity = Math.max(lastActivity ?? -Infinity, entry.occurredAt.getTime());
    }
    if (entry.points > 0) {
      const paid = Math.min(debt, entry.points);
      debt -= paid;
      const orderName = entry.inputs.orderName;
      const lot: Lot = {
        entryId: entry.id,
        source: entry.source,
        earnedAt: entry.occurredAt,
        earnedDay: localDayOf(entry.occurredAt.getTime(), tz),
        points: entry.points,
        remaining: entry.points - paid,
        expiresAt: null,
        lastDay: null,
        orderName: typeof orderName === 'string' && orderName !== '' ? orderName : null,
      };
      lots.push(lot);
      byId.set(lot.entryId, lot);
      continue;
    }
    if (entry.points === 0) continue;
    let left = -entry.points;
    if (entry.source === 'expiry') {
      for (const named of namedLots(entry.inputs)) {
        const lot = byId.get(named.entryId);
        if (lot && left > 0) left -= takeFrom(lot, Math.min(named.points, left));
      }
    } else if (entry.reversesEntryId != null) {
      const lot = byId.get(entry.reversesEntryId);
      if (lot) left -= takeFrom(lot, left);
    }
    left = takeOldest(left);
    debt += left;
  }

  if (checked.mode === 'lot') {
    for (const lot of lots) {
      const { lastDay, expiresAt } = expiryAfter(lot.earnedDay, checked.months, tz);
      lot.lastDay = lastDay;
      lot.expiresAt = expiresAt;
    }
  } else if (checked.mode === 'inactivity' && lastActivity !== null) {
    const { lastDay, expiresAt } = expiryAfter(localDayOf(lastActivity, tz), checked.months, tz);
    for (const lot of lots) {
      lot.lastDay = lastDay;
      lot.expiresAt = expiresAt;
    }
  }
  const from = options.effectiveFrom?.getTime();
  if (from !== undefined) {
    for (const lot of lots) {
      if (lot.expiresAt !== null && lot.expiresAt.getTime() <= from) {
        lot.expiresAt = null;
        lot.lastDay = null;
      }
    }
  }
  return {
    lots,
    debt,
    balance,
    lastActivityAt: lastActivity === null ? null : new Date(lastActivity),
  };
}

/** Points expiring together: every lot with the same expiry instant. */
export interface ExpiryGroup {
  expiresAt: Date;
  lastDay: string;
  points: number;
  lots: {
    entryId: number;
    points: number;
    earnedAt: Date;
    earnedDay: string;
    source: string;
    orderName: string | null;
  }[];
}

function groupByInstant(lots: readonly Lot[], keep: (at: number) => boolean): ExpiryGroup[] {
  const groups = new Map<number, ExpiryGroup>();
  for (const lot of lots) {
    if (lot.remaining <= 0 || lot.expiresAt === null) continue;
    const at = lot.expiresAt.getTime();
    if (!keep(at)) continue;
    let group = groups.get(at);
    if (!group) {
      group = { expiresAt: lot.expiresAt, lastDay: lot.lastDay!, points: 0, lots: [] };
      groups.set(at, group);
    }
    group.points += lot.remaining;
    group.lots.push({
      entryId: lot.entryId,
      points: lot.remaining,
      earnedAt: lot.earnedAt,
      earnedDay: lot.earnedDay,
      source: lot.source,
      orderName: lot.orderName,
    });
  }
  return [...groups.values()].sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime());
}

/** What has expired at or before `now` and is not yet posted: one group per expiry instant. */
export function dueExpiries(state: Pick<LotState, 'lots'>, now: Date): ExpiryGroup[] {
  return groupByInstant(state.lots, (at) => at <= now.getTime());
}

/** What expires in (from, to]: what a reminder covers. */
export function expiringBetween(
  state: Pick<LotState, 'lots'>,
  from: Date,
  to: Date,
): ExpiryGroup[] {
  return groupByInstant(state.lots, (at) => at > from.getTime() && at <= to.getTime());
}

/** The earliest instant any remaining points expire (null: none will). */
export function nextExpiry(state: Pick<LotState, 'lots'>): Date | null {
  let next: number | null = null;
  for (const lot of state.lots) {
    if (lot.remaining > 0 && lot.expiresAt !== null) {
      const at = lot.expiresAt.getTime();
      if (next === null || at < next) next = at;
    }
  }
  return next === null ? null : new Date(next);
}

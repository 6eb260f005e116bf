/**
 * What a ledger entry does to the points the shop owes, in the five columns the dashboard and the
 * liability rollforward show: issued, reversed, redeemed, expired, adjusted.
 *
 * Every entry falls in exactly one column, chosen by its source and sign (docs/liability.md):
 * - issued: order, bonus, referral and tier entries of zero or more points (awards);
 * - reversed: refund and cancellation entries, and order, bonus, referral or tier entries below
 *   zero (an award taken back);
 * - redeemed: redemption entries, net — a debit counts up, the entry that gives a redemption's
 *   points back (code expired unused, order refunded, discount not created) counts down;
 * - expired: expiry entries;
 * - adjusted: manual adjustments, signed.
 * Issued and adjusted are the entries' points as they are; reversed, redeemed and expired are
 * the points taken away (the entries' points negated), so a balance moves by
 * issued − reversed − redeemed − expired + adjusted, and a column sums to its entries exactly.
 */

export const MOVEMENT_KINDS = ['issued', 'reversed', 'redeemed', 'expired', 'adjusted'] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];

export type Movements = Record<MovementKind, number>;

/** Ledger sources (app/models/ledger.server.ts LEDGER_SOURCES) by the column of each sign. */
const COLUMN_OF: Record<string, { credit: MovementKind; debit: MovementKind }> = {
  order: { credit: 'issued', debit: 'reversed' },
  bonus: { credit: 'issued', debit: 'reversed' },
  referral: { credit: 'issued', debit: 'reversed' },
  tier: { credit: 'issued', debit: 'reversed' },
  refund: { credit: 'reversed', debit: 'reversed' },
  cancellation: { credit: 'reversed', debit: 'reversed' },
  redemption: { credit: 'redeemed', debit: 'redeemed' },
  expiry: { credit: 'expired', debit: 'expired' },
  adjustment: { credit: 'adjusted', debit: 'adjusted' },
};

export const MOVEMENT_SOURCES = Object.keys(COLUMN_OF);

/** Columns counted as points taken away from members: an entry's points negated. */
const TAKES_AWAY: ReadonlySet<MovementKind> = new Set(['reversed', 'redeemed', 'expired']);

/**
 * The column of an entry of `source` and `points` (zero counts with the credits). A source the
 * ledger does not know is a programming error: the database refuses such entries.
 */
export function movementKind(source: string, points: number): MovementKind {
  const columns = COLUMN_OF[source];
  if (!columns) throw new Error(`ledger source ${JSON.stringify(source)} has no movement column`);
  return points >= 0 ? columns.credit : columns.debit;
}

/** What `points` of an entry in column `kind` add to that column. */
export function movementAmount(kind: MovementKind, points: number): number {
  return TAKES_AWAY.has(kind) ? -points : points;
}

export function noMovements(): Movements {
  return { issued: 0, reversed: 0, redeemed: 0, expired: 0, adjusted: 0 };
}

/** What the columns do to balances: issued − reversed − redeemed − expired + adjusted. */
export function netMovement(m: Movements): number {
  return m.issued - m.reversed - m.redeemed - m.expired + m.adjusted;
}

export function addMovements(a: Movements, b: Movements): Movements {
  return {
    issued: a.issued + b.issued,
    reversed: a.reversed + b.reversed,
    redeemed: a.redeemed + b.redeemed,
    expired: a.expired + b.expired,
    adjusted: a.adjusted + b.adjusted,
  };
}

/**
 * Points moved by source and sign, as the database sums them (`credit`: points ≥ 0): what a
 * projection row or a GROUP BY over entries holds.
 */
export interface SourceTotal {
  source: string;
  credit: boolean;
  points: number;
}

/** Adds source totals into their columns. */
export function movementsOf(totals: Iterable<SourceTotal>, into = noMovements()): Movements {
  for (const t of totals) {
    // A credit sum is ≥ 0 and a debit sum < 0 (or 0 for none), so the sign picks the column.
    const kind = movementKind(t.source, t.credit ? 0 : -1);
    into[kind] += movementAmount(kind, t.points);
  }
  return into;
}

/**
 * Movements per elementary interval of a timeline: `boundaries` ascending instants (ms), with
 * interval i = [boundaries[i], boundaries[i+1]); -Infinity / Infinity at the ends for "since the
 * beginning" and "until now and after". Answers any range whose ends are boundaries.
 */
export class MovementTimeline {
  readonly intervals: Movements[];

  constructor(
    readonly boundaries: readonly number[],
    intervals?: Movements[],
  ) {
    for (let i = 1; i < boundaries.length; i++) {
      if (!(boundaries[i - 1]! < boundaries[i]!)) {
        throw new Error('timeline boundaries must be strictly ascending');
      }
    }
    this.intervals =
      intervals ?? Array.from({ length: Math.max(0, boundaries.length - 1) }, noMovements);
  }

  /** Index of the interval holding `instant`, or -1 when it is outside the timeline. */
  intervalOf(instant: number): number {
    const b = this.boundaries;
    if (b.length < 2 || instant < b[0]! || instant >= b[b.length - 1]!) return -1;
    let lo = 0;
    let hi = b.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (b[mid]! <= instant) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Movements over [from, to); both must be boundaries. */
  between(from: number, to: number): Movements {
    const i = this.boundaries.indexOf(from);
    const j = this.boundaries.indexOf(to);
    if (i < 0 || j < 0 || i > j)
      throw new Error('range ends must be timeline boundaries, in order');
    let sum = noMovements();
    for (let k = i; k < j; k++) sum = addMovements(sum, this.intervals[k]!);
    return sum;
  }
}

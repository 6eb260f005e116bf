/**
 * The admin dashboard (/app): the period the merchant picked, in the shop's timezone, against the
 * one before it; the figures the models compute for both; what the page shows, formatted in the
 * shop's currency and the admin's locale. docs/dashboard.md has every rule.
 */
import type { Executor } from '../db/client.server';
import { explainEntry, type StorefrontLocale } from '../loyalty/explain';
import { netMovement, type Movements } from '../loyalty/ledger-movements';
import {
  daysFromCivil,
  monthKeyFromNumber,
  monthNumberOfInstant,
  wallTimeOf,
  zonedMidnight,
} from '../loyalty/time';
import { formatInstant, formatInteger, formatMinor, formatShare } from './admin-format';
import {
  memberRevenue,
  newMembers,
  recentEntries,
  repeatPurchases,
  shopTotals,
  type MemberRevenue,
  type RepeatPurchases,
} from './models/dashboard.server';
import { compactMovements, movementTimeline } from './models/movements.server';
import { listPrograms } from './models/programs.server';
import type { Shop } from './models/shops.server';

export const PERIODS = {
  last7: 'Last 7 days',
  last30: 'Last 30 days',
  last90: 'Last 90 days',
  month: 'This month',
  year: 'This year',
} as const;
export type PeriodKey = keyof typeof PERIODS;
export const DEFAULT_PERIOD: PeriodKey = 'last30';

export function isPeriodKey(value: unknown): value is PeriodKey {
  return typeof value === 'string' && Object.hasOwn(PERIODS, value);
}

/** A span of whole shop-local days: [start, end) as instants, and its first and last day. */
export interface Span {
  start: number;
  end: number;
  firstDay: string;
  lastDay: string;
}

export interface Periods {
  key: PeriodKey;
  current: Span;
  /** As many days, immediately before. */
  previous: Span;
}

const MS_PER_DAY = 86_400_000;
const civilDay = (days: number) => new Date(days * MS_PER_DAY).toISOString().slice(0, 10);

function span(firstCivil: number, lastCivil: number, tz: string): Span {
  return {
    start: zonedMidnight(civilDay(firstCivil), tz),
    end: zonedMidnight(civilDay(lastCivil + 1), tz),
    firstDay: civilDay(firstCivil),
    lastDay: civilDay(lastCivil),
  };
}

/**
 * The period `key` at `now` in `tz`: every period ends with today (whole days, today included);
 * last N days starts N − 1 days before today, this month on its 1st, this year on Jan 1. The
 * previous period is as many days immediately before.
 */
export function periodsAt(key: PeriodKey, now: number, tz: string): Periods {
  const wall = wallTimeOf(now, tz);
  const today = daysFromCivil(wall.year, wall.month, wall.day);
  const first =
    key === 'month'
      ? daysFromCivil(wall.year, wall.month, 1)
      : key === 'year'
        ? daysFromCivil(wall.year, 1, 1)
        : today - ({ last7: 7, last30: 30, last90: 90 } as const)[key] + 1;
  const length = today - first + 1;
  return {
    key,
    current: span(first, today, tz),
    previous: span(first - length, first - 1, tz),
  };
}

/** The 12 shop-local months ending with the current one, and the instants they start at. */
export function chartMonths(now: number, tz: string): { months: string[]; starts: number[] } {
  const current = monthNumberOfInstant(now, tz);
  const months: string[] = [];
  const starts: number[] = [];
  for (let m = current - 11; m <= current + 1; m++) {
    const key = monthKeyFromNumber(m);
    if (m <= current) months.push(key);
    starts.push(zonedMidnight(`${key}-01`, tz));
  }
  return { months, starts };
}

const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);

export interface PeriodFigures {
  newMembers: number;
  movements: Movements;
  /** Points members held at the end of the period. */
  outstanding: number;
  /** redeemed / issued; null when nothing was issued. */
  redemptionRate: number | null;
  revenue: MemberRevenue;
}

export interface DashboardFigures {
  periods: Periods;
  members: number;
  program: { version: number; name: string } | null;
  current: PeriodFigures;
  previous: PeriodFigures;
  lifetime: { movements: Movements; redemptionRate: number | null };
  repeat: { members: RepeatPurchases; guests: RepeatPurchases };
  chart: { month: string; issued: number; redeemed: number }[];
  recent: Awaited<ReturnType<typeof recentEntries>>;
}

/** Everything the dashboard shows, as numbers. */
export async function dashboardFigures(
  db: Executor,
  shop: Pick<Shop, 'id' | 'timezone'>,
  key: PeriodKey,
  now = Date.now(),
): Promise<DashboardFigures> {
  const tz = shop.timezone;
  const periods = periodsAt(key, now, tz);
  const { current, previous } = periods;
  const chart = chartMonths(now, tz);
  await compactMovements(db, shop.id);
  const boundaries = [
    ...new Set([...chart.starts, previous.start, current.start, current.end]),
  ].sort((a, b) => a - b);
  const [timeline, totals, programs, fresh, before, repeat, revenue, revenueBefore, recent] =
    await Promise.all([
      movementTimeline(db, shop.id, [-Infinity, ...boundaries, Infinity]),
      shopTotals(db, shop.id),
      listPrograms(db, shop.id),
      newMembers(db, shop.id, new Date(current.start), new Date(current.end)),
      newMembers(db, shop.id, new Date(previous.start), new Date(previous.end)),
      repeatPurchases(db, shop.id, new Date(current.start), new Date(current.end)),
      memberRevenue(db, shop.id, new Date(current.start), new Date(current.end)),
      memberRevenue(db, shop.id, new Date(previous.start), new Date(previous.end)),
      recentEntries(db, shop.id, 10),
    ]);
  const inCurrent = timeline.between(current.start, current.end);
  const inPrevious = timeline.between(previous.start, previous.end);
  // Balances now, less what moved after each period's end (entries dated later than today too).
  const outstandingAtEnd =
    totals.pointsOutstanding - netMovement(timeline.between(current.end, Infinity));
  const outstandingBefore = outstandingAtEnd - netMovement(inCurrent);
  const lifetime = timeline.between(-Infinity, Infinity);
  const program =
    programs.filter((p) => p.effectiveFrom.getTime() <= now).at(-1) ?? programs.at(-1);
  return {
    periods,
    members: totals.members,
    program: program
      ? { version: program.version, name: (program.definition as { name?: string }).name ?? '' }
      : null,
    current: {
      newMembers: fresh,
      movements: inCurrent,
      outstanding: outstandingAtEnd,
      redemptionRate: share(inCurrent.redeemed, inCurrent.issued),
      revenue,
    },
    previous: {
      newMembers: before,
      movements: inPrevious,
      outstanding: outstandingBefore,
      redemptionRate: share(inPrevious.redeemed, inPrevious.issued),
      revenue: revenueBefore,
    },
    lifetime: { movements: lifetime, redemptionRate: share(lifetime.redeemed, lifetime.issued) },
    repeat,
    chart: chart.months.map((month, i) => {
      const m = timeline.between(chart.starts[i]!, chart.starts[i + 1]!);
      return { month, issued: m.issued, redeemed: m.redeemed };
    }),
    recent,
  };
}

/** The storefront language closest to the admin's locale (explanations exist in en and fr). */
export function explainLocale(locale: string): StorefrontLocale {
  return locale.toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

export interface Comparison {
  label: string;
  current: string;
  previous: string;
  /** current − previous, signed and formatted; null when both are the same or not numbers. */
  change: string | null;
  /** Whether a rise is good news (points redeemed) or neutral. */
  trend: 'up' | 'down' | 'flat';
}

function compare(
  label: string,
  current: number,
  previous: number,
  format: (n: number) => string,
): Comparison {
  const diff = current - previous;
  return {
    label,
    current: format(current),
    previous: format(previous),
    change: diff === 0 ? null : `${diff > 0 ? '+' : '\u2212'}${format(Math.abs(diff))}`,
    trend: diff > 0 ? 'up' : diff < 0 ? 'down' : 'flat',
  };
}

/** The dashboard as the page shows it: every figure formatted. */
export function dashboardView(
  figures: DashboardFigures,
  shop: Pick<Shop, 'currency' | 'timezone' | 'domain'>,
  locale: string,
) {
  const int = (n: number) => formatInteger(n, locale);
  const money = (n: number) => formatMinor(n, shop.currency, locale);
  const { current, previous, periods } = figures;
  const rate = (part: number, whole: number) => formatShare(share(part, whole), locale);
  return {
    period: {
      key: periods.key,
      label: PERIODS[periods.key],
      current: { from: periods.current.firstDay, to: periods.current.lastDay },
      previous: { from: periods.previous.firstDay, to: periods.previous.lastDay },
    },
    members: int(figures.members),
    hasMembers: figures.members > 0,
    program: figures.program,
    comparisons: [
      compare('New members', current.newMembers, previous.newMembers, int),
      compare('Points issued', current.movements.issued, previous.movements.issued, int),
      compare('Points reversed', current.movements.reversed, previous.movements.reversed, int),
      compare('Points redeemed', current.movements.redeemed, previous.movements.redeemed, int),
      compare('Points expired', current.movements.expired, previous.movements.expired, int),
      compare('Points outstanding at the end', current.outstanding, previous.outstanding, int),
    ],
    adjusted: {
      current: int(current.movements.adjusted),
      previous: int(previous.movements.adjusted),
    },
    redemptionRate: {
      current: formatShare(current.redemptionRate, locale),
      previous: formatShare(previous.redemptionRate, locale),
      lifetime: formatShare(figures.lifetime.redemptionRate, locale),
      lifetimeRedeemed: int(figures.lifetime.movements.redeemed),
      lifetimeIssued: int(figures.lifetime.movements.issued),
    },
    repeat: {
      members: {
        rate: rate(figures.repeat.members.repeaters, figures.repeat.members.buyers),
        repeaters: int(figures.repeat.members.repeaters),
        buyers: int(figures.repeat.members.buyers),
      },
      guests: {
        rate: rate(figures.repeat.guests.repeaters, figures.repeat.guests.buyers),
        repeaters: int(figures.repeat.guests.repeaters),
        buyers: int(figures.repeat.guests.buyers),
      },
    },
    revenue: {
      orders: int(current.revenue.orders),
      gross: money(current.revenue.grossMinor),
      refunded: money(current.revenue.refundedMinor),
      net: money(current.revenue.netMinor),
      previous: money(previous.revenue.netMinor),
    },
    chart: figures.chart,
    recent: figures.recent.map((entry) => ({
      id: entry.id,
      customerId: entry.customerId,
      customer: entry.customerName ?? entry.customerEmail ?? `Customer ${entry.customerId}`,
      when: formatInstant(entry.occurredAt, shop.timezone, locale),
      points: entry.points,
      explanation: explainEntry(
        {
          source: entry.source,
          points: entry.points,
          inputs: entry.inputs,
          orderName: entry.orderName,
        },
        { locale: explainLocale(locale), shopCurrency: shop.currency },
      ),
    })),
  };
}

export type DashboardView = ReturnType<typeof dashboardView>;

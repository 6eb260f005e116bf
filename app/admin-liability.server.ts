/**
 * The liability page (/app/liability): the month range asked for (`?from=YYYY-MM&to=YYYY-MM`,
 * default the last 12 months in the shop's timezone), checked field by field, and the
 * rollforward as the page shows it. docs/liability.md.
 */
import type { Executor } from '../db/client.server';
import { amountOf, netOfBreakage, type Amount } from '../loyalty/liability';
import { MOVEMENT_KINDS } from '../loyalty/ledger-movements';
import { monthKeyFromNumber, monthNumberFromKey, monthNumberOfInstant } from '../loyalty/time';
import {
  formatInstant,
  formatInteger,
  formatMinor,
  formatMonth,
  formatShare,
} from './admin-format';
import { liabilityReport, type LiabilityReport } from './models/liability.server';
import type { Shop } from './models/shops.server';

/** The longest range one page shows. */
export const MAX_MONTHS = 60;
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export interface RangeQuery {
  /** As typed (kept in the fields when refused). */
  from: string;
  to: string;
  errors: { from?: string; to?: string };
}

/** The range in `params`, or the default; errors name the field and what is wrong. */
export function parseRange(params: URLSearchParams, now: number, tz: string): RangeQuery {
  const current = monthNumberOfInstant(now, tz);
  const from = params.get('from')?.trim() || monthKeyFromNumber(current - 11);
  const to = params.get('to')?.trim() || monthKeyFromNumber(current);
  const errors: RangeQuery['errors'] = {};
  const check = (field: 'from' | 'to', value: string) => {
    if (!MONTH.test(value) || Number(value.slice(0, 4)) < 2000) {
      errors[field] =
        `${field === 'from' ? 'From' : 'To'} '${value.slice(0, 20)}' must be a month as YYYY-MM, from 2000-01`;
    } else if (monthNumberFromKey(value) > current) {
      errors[field] =
        `${field === 'from' ? 'From' : 'To'} ${value} is after this month (${monthKeyFromNumber(current)})`;
    }
  };
  check('from', from);
  check('to', to);
  if (!errors.from && !errors.to) {
    const length = monthNumberFromKey(to) - monthNumberFromKey(from) + 1;
    if (length < 1) errors.to = `To ${to} is before from ${from}`;
    else if (length > MAX_MONTHS) {
      errors.to = `The range is ${length} months: show at most ${MAX_MONTHS} at a time`;
    }
  }
  return { from, to, errors };
}

const COLUMNS = ['opening', ...MOVEMENT_KINDS, 'closing'] as const;
export type LiabilityColumn = (typeof COLUMNS)[number];

export const COLUMN_TITLES: Record<LiabilityColumn, string> = {
  opening: 'Opening',
  issued: 'Issued',
  reversed: 'Reversed',
  redeemed: 'Redeemed',
  expired: 'Expired',
  adjusted: 'Adjusted',
  closing: 'Closing',
};

/** The page's figures: the range checked, then the report formatted (none when refused). */
export async function liabilityPage(
  db: Executor,
  shop: Pick<Shop, 'id' | 'timezone' | 'currency'>,
  params: URLSearchParams,
  locale: string,
  now = Date.now(),
) {
  const query = parseRange(params, now, shop.timezone);
  if (query.errors.from || query.errors.to) return { query, report: null };
  const report = await liabilityReport(db, shop, query, now);
  return { query, report: liabilityView(report, shop, locale) };
}

export function liabilityView(
  report: LiabilityReport,
  shop: Pick<Shop, 'timezone' | 'currency'>,
  locale: string,
) {
  const int = (n: number) => formatInteger(n, locale);
  const cell = (amount: Amount) => ({
    points: int(amount.points),
    money: amount.minor === null ? null : formatMinor(amount.minor, shop.currency, locale),
  });
  const { value, breakage } = report;
  const last = report.rows.at(-1);
  const net = last ? netOfBreakage(last.closing, breakage, value) : null;
  return {
    columns: COLUMNS.map((c) => ({ key: c, title: COLUMN_TITLES[c] })),
    rows: report.rows.map((row) => ({
      month: row.month,
      label: formatMonth(row.month, locale),
      cells: Object.fromEntries(COLUMNS.map((c) => [c, cell(amountOf(row[c], value))])) as Record<
        LiabilityColumn,
        { points: string; money: string | null }
      >,
      raw: row,
    })),
    value: value
      ? {
          perPoints: `${formatMinor(value.amountMinor, shop.currency, locale)} for ${int(value.points)} points`,
          reward: value.rewardTitle,
        }
      : null,
    noValueReason: value ? null : 'no reward in the catalog gives a fixed money value',
    closing: last ? cell(amountOf(last.closing, value)) : null,
    breakage:
      breakage.status === 'estimated'
        ? {
            status: 'estimated' as const,
            redemptionRate: formatShare(breakage.redemptionRate, locale),
            breakage: formatShare(breakage.breakage, locale),
            redeemed: int(breakage.redeemed),
            expired: int(breakage.expired),
            dormant: int(breakage.dormant),
            net: net ? cell(net) : null,
          }
        : {
            status: 'insufficient' as const,
            reason: breakage.reason,
            redeemed: int(breakage.redeemed),
            expired: int(breakage.expired),
            dormant: int(breakage.dormant),
          },
    dormantSince: formatInstant(report.dormantSince, shop.timezone, locale),
    outstandingNow: int(report.outstandingNow),
  };
}

export type LiabilityView = ReturnType<typeof liabilityView>;

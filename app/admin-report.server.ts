/**
 * The report page's rules (docs/reports.md): which range, sort and page a request asks for, the
 * default range (the last three full months in the shop's timezone), the inline errors for bad
 * input, and the page as the route shows it.
 */
import { formatInteger, formatMonth } from './admin-format';
import type { Executor } from './db.server';
import {
  rangeMonths,
  cachedReportPage,
  type ReportPage,
  type ReportPageQuery,
  type ReportSortKey,
  type SortDirection,
} from './models/admin-report.server';
import type { Shop } from './models/shops.server';
import { daysInMonth, monthKeyFromNumber, parseCalendarDay, wallTimeOf } from '../loyalty/time';

export const REPORT_PAGE_SIZE = 50;
/** Month columns one page shows at most (ten years); the CSV has the same limit. */
export const MAX_REPORT_MONTHS = 120;

export interface ReportForm {
  from: string;
  to: string;
  sort: string;
  dir: string;
  page: string;
}

export type ReportFieldErrors = Partial<Record<'from' | 'to', string>>;

export type ParsedReportQuery =
  | { ok: true; query: ReportPageQuery; form: ReportForm }
  | { ok: false; errors: ReportFieldErrors; form: ReportForm };

const pad = (n: number) => String(n).padStart(2, '0');

/** The last three full calendar months before today in `timezone`: first day to last day. */
export function defaultReportRange(now: Date, timezone: string): { from: string; to: string } {
  const today = wallTimeOf(now.getTime(), timezone);
  const current = today.year * 12 + today.month - 1;
  const first = monthKeyFromNumber(current - 3);
  const last = monthKeyFromNumber(current - 1);
  const [year, month] = last.split('-').map(Number) as [number, number];
  return { from: `${first}-01`, to: `${last}-${pad(daysInMonth(year, month))}` };
}

function dayError(field: 'from' | 'to', text: string): string | null {
  if (text === '') return `${field === 'from' ? 'From' : 'To'} is required (YYYY-MM-DD)`;
  try {
    parseCalendarDay(text);
    return null;
  } catch {
    return `${field === 'from' ? 'From' : 'To'} "${text}" is not a date (YYYY-MM-DD)`;
  }
}

/**
 * The request's report query. from/to default to the last three full months; a bad one is an
 * error naming its field (and nothing is read). Sort and page come from the page's own links: an
 * unknown sort falls back to total, descending; a page that is not a whole number ≥ 1, to 1.
 */
export function parseReportQuery(
  params: URLSearchParams,
  timezone: string,
  now: Date,
): ParsedReportQuery {
  const defaults = defaultReportRange(now, timezone);
  const form: ReportForm = {
    from: (params.get('from') ?? defaults.from).trim(),
    to: (params.get('to') ?? defaults.to).trim(),
    sort: params.get('sort') ?? 'total',
    dir: params.get('dir') ?? '',
    page: params.get('page') ?? '1',
  };
  const errors: ReportFieldErrors = {};
  const fromError = dayError('from', form.from);
  const toError = dayError('to', form.to);
  if (fromError) errors.from = fromError;
  if (toError) errors.to = toError;
  if (!fromError && !toError) {
    if (form.from > form.to) {
      errors.from = `From ${form.from} is after To ${form.to}`;
    } else if (rangeMonths(form).length > MAX_REPORT_MONTHS) {
      errors.to = `The range spans ${rangeMonths(form).length} months; the report shows at most ${MAX_REPORT_MONTHS} (ten years)`;
    }
  }
  if (errors.from || errors.to) return { ok: false, errors, form };

  const months = rangeMonths(form);
  let sort: ReportSortKey = 'total';
  if (form.sort === 'customer') sort = 'customer';
  else if (form.sort.startsWith('month:') && months.includes(form.sort.slice(6)))
    sort = form.sort as ReportSortKey;
  const direction: SortDirection =
    form.dir === 'asc' || form.dir === 'desc' ? form.dir : sort === 'customer' ? 'asc' : 'desc';
  const page = /^[1-9][0-9]{0,5}$/.test(form.page) ? Number(form.page) : 1;
  return {
    ok: true,
    form: { ...form, sort, dir: direction, page: String(page) },
    query: {
      timezone,
      from: form.from,
      to: form.to,
      sort,
      direction,
      page,
      pageSize: REPORT_PAGE_SIZE,
    },
  };
}

export interface ReportView {
  from: string;
  to: string;
  sort: ReportSortKey;
  direction: SortDirection;
  page: number;
  pageCount: number;
  customers: number;
  customersText: string;
  months: { key: string; label: string }[];
  rows: {
    customerId: number;
    externalId: string;
    name: string;
    detail: string;
    monthly: string[];
    total: string;
  }[];
  totals: { monthly: string[]; total: string };
}

function customerName(row: ReportPage['rows'][number]): { name: string; detail: string } {
  if (row.redacted) return { name: 'Redacted customer', detail: `ID ${row.externalId}` };
  const name = [row.firstName, row.lastName].filter(Boolean).join(' ');
  if (name) return { name, detail: row.email ?? `ID ${row.externalId}` };
  return { name: row.email ?? `Customer ${row.externalId}`, detail: `ID ${row.externalId}` };
}

/** The page of the report the query asks for; past the last page, the last page. */
export async function reportView(
  db: Executor,
  shop: Shop,
  query: ReportPageQuery,
  locale: string,
): Promise<ReportView> {
  let page = await cachedReportPage(db, shop.id, query);
  let pageNumber = query.page;
  const pageCount = Math.max(1, Math.ceil(page.customers / query.pageSize));
  if (pageNumber > pageCount) {
    pageNumber = pageCount;
    page = await cachedReportPage(db, shop.id, { ...query, page: pageCount });
  }
  const number = (n: number) => formatInteger(n, locale);
  return {
    from: query.from,
    to: query.to,
    sort: query.sort,
    direction: query.direction,
    page: pageNumber,
    pageCount,
    customers: page.customers,
    customersText: number(page.customers),
    months: page.months.map((key) => ({ key, label: formatMonth(key, locale) })),
    rows: page.rows.map((row) => ({
      customerId: row.customerId,
      externalId: row.externalId,
      ...customerName(row),
      monthly: row.monthly.map(number),
      total: number(row.total),
    })),
    totals: { monthly: page.totals.monthly.map(number), total: number(page.totals.total) },
  };
}

import { and, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customers, ledgerEntries } from '../../db/schema';
import { ReportBuilder, type Report } from '../../loyalty/report';
import { isValidTimeZone, monthKeyFromNumber, parseCalendarDay } from '../../loyalty/time';
import { AppError, ErrorCode } from '../errors';
import type { LedgerSource } from './ledger.server';
import { requireShop } from './shops.server';

/** Points earned from purchases, net of their reversals: what the monthly report counts. */
export const PURCHASE_SOURCES: readonly LedgerSource[] = ['order', 'refund', 'cancellation'];

export interface MonthlyEarnedOptions {
  /** IANA timezone whose calendar months and days are used. */
  timezone: string;
  /** First calendar day (YYYY-MM-DD in `timezone`), inclusive. */
  from?: string;
  /** Last calendar day (YYYY-MM-DD in `timezone`), inclusive. */
  to?: string;
}

export interface MonthlyEarnedRow {
  customerExternalId: string;
  /** YYYY-MM in the timezone. */
  month: string;
  /** Sum of the month's purchase entries; 0 when an award and its reversal cancel out. */
  points: number;
}

function checkOptions(options: MonthlyEarnedOptions): void {
  if (!isValidTimeZone(options.timezone)) {
    throw new AppError(
      ErrorCode.VALIDATION,
      `report timezone ${JSON.stringify(options.timezone)} is not an IANA timezone such as "America/New_York"`,
      { field: 'timezone', value: options.timezone },
    );
  }
  for (const field of ['from', 'to'] as const) {
    const day = options[field];
    if (day === undefined) continue;
    try {
      parseCalendarDay(day);
    } catch {
      throw new AppError(
        ErrorCode.VALIDATION,
        `report ${field} ${JSON.stringify(day)} is not a calendar day (YYYY-MM-DD)`,
        { field, value: day },
      );
    }
  }
  if (options.from !== undefined && options.to !== undefined && options.from > options.to) {
    throw new AppError(
      ErrorCode.VALIDATION,
      `report from ${options.from} is after to ${options.to}`,
      {
        from: options.from,
        to: options.to,
      },
    );
  }
}

/** The instant the calendar day starts in `tz`, computed by PostgreSQL like the bucketing itself. */
function startOfDay(day: string, tz: string, plusDays = 0): SQL {
  return sql`((${day}::date + ${plusDays}::int)::timestamp AT TIME ZONE ${tz})`;
}

/**
 * Per customer and month (in `timezone`), the sum of the shop's purchase entries — order awards
 * net of refund and cancellation reversals, each in the month it occurred. Customers whose entries
 * sum to 0 are included. `from`/`to` are calendar days in `timezone`, inclusive. Sorted by external
 * id (code-unit order, as the report builder sorts), then month.
 */
export async function monthlyEarned(
  db: Executor,
  shopId: number,
  options: MonthlyEarnedOptions,
): Promise<MonthlyEarnedRow[]> {
  checkOptions(options);
  const { timezone: tz } = options;
  const month = sql<string>`to_char(${ledgerEntries.occurredAt} AT TIME ZONE ${tz}, 'YYYY-MM')`;
  const conditions: SQL[] = [
    eq(ledgerEntries.shopId, shopId),
    inArray(ledgerEntries.source, [...PURCHASE_SOURCES]),
  ];
  if (options.from !== undefined)
    conditions.push(gte(ledgerEntries.occurredAt, startOfDay(options.from, tz)));
  if (options.to !== undefined)
    conditions.push(lt(ledgerEntries.occurredAt, startOfDay(options.to, tz, 1)));
  const rows = await db
    .select({
      customerExternalId: customers.externalId,
      month,
      points: sql<number>`sum(${ledgerEntries.points})`.mapWith(Number),
    })
    .from(ledgerEntries)
    .innerJoin(
      customers,
      and(eq(customers.id, ledgerEntries.customerId), eq(customers.shopId, ledgerEntries.shopId)),
    )
    .where(and(...conditions))
    // Positional: the month expression carries a bind parameter, so it cannot be repeated.
    .groupBy(sql`1, 2`);
  return rows.sort((a, b) =>
    a.customerExternalId < b.customerExternalId
      ? -1
      : a.customerExternalId > b.customerExternalId
        ? 1
        : a.month < b.month
          ? -1
          : a.month > b.month
            ? 1
            : 0,
  );
}

export interface EarnedReportOptions {
  /** Default: the shop's timezone. */
  timezone?: string;
  from?: string;
  to?: string;
}

/**
 * The per-customer per-month report from the ledger, in the same shape as `loyalty report
 * --input`. With from/to, the months span exactly from's month to to's month (empty months
 * listed as 0); otherwise the months that have entries.
 */
export async function earnedReport(
  db: Executor,
  shopId: number,
  options: EarnedReportOptions = {},
): Promise<Report> {
  const timezone = options.timezone ?? (await requireShop(db, shopId)).timezone;
  const rows = await monthlyEarned(db, shopId, { timezone, from: options.from, to: options.to });
  const builder = new ReportBuilder();
  for (const row of rows) builder.add(row.customerExternalId, row.month, row.points);
  const monthOf = (day: string) => {
    const { year, month } = parseCalendarDay(day);
    return monthKeyFromNumber(year * 12 + month - 1);
  };
  return builder.build({
    ...(options.from !== undefined && { fromMonth: monthOf(options.from) }),
    ...(options.to !== undefined && { toMonth: monthOf(options.to) }),
  });
}

/**
 * The per-customer, per-month points report. Pure: callers feed (customer, month, points) facts from
 * a file or the ledger and get the same shape either way.
 *
 * Ordering: months ascending; customers by customerId in plain UTF-16 code-unit order (what
 * `a < b` does on JS strings — "B" before "a", "C10" before "C9"), so output is byte-for-byte
 * reproducible regardless of locale.
 */
import { monthKeyFromNumber, monthNumberFromKey } from './time';

export interface ReportCustomer {
  customerId: string;
  /** Every month of `Report.months`, in order, 0 when nothing was earned. */
  monthly: Record<string, number>;
  total: number;
}

export interface Report {
  months: string[];
  customers: ReportCustomer[];
  totals: { monthly: Record<string, number>; total: number };
}

export interface BuildOptions {
  /** First month to list ("YYYY-MM"); default the earliest month seen. */
  fromMonth?: string;
  /** Last month to list; default the latest month seen. */
  toMonth?: string;
}

export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Accumulates points per customer per month. `add` with 0 points still makes the customer (and the
 * month) appear. Facts can arrive in any order; the built report is the same.
 */
export class ReportBuilder {
  /** customerId → (month number → points). Few months per customer, so a small Map each. */
  private readonly customers = new Map<string, Map<number, number>>();
  /** "YYYY-MM" → month number, so repeated keys skip the regex. */
  private readonly monthNumbers = new Map<string, number>();
  private minMonth = Infinity;
  private maxMonth = -Infinity;

  add(customerId: string, monthKey: string, points: number): void {
    if (!Number.isSafeInteger(points)) {
      throw new RangeError(
        `points must be a whole number (got ${points} for ${customerId} in ${monthKey})`,
      );
    }
    let month = this.monthNumbers.get(monthKey);
    if (month === undefined) {
      month = monthNumberFromKey(monthKey);
      this.monthNumbers.set(monthKey, month);
    }
    let months = this.customers.get(customerId);
    if (months === undefined) {
      months = new Map();
      this.customers.set(customerId, months);
    }
    months.set(month, (months.get(month) ?? 0) + points);
    if (month < this.minMonth) this.minMonth = month;
    if (month > this.maxMonth) this.maxMonth = month;
  }

  /**
   * Months are the contiguous range fromMonth..toMonth (each defaulting to the data's earliest /
   * latest month). Facts outside the range are left out, and so is a customer with none inside it.
   */
  build(options: BuildOptions = {}): Report {
    const seen = this.customers.size > 0;
    let from = options.fromMonth !== undefined ? monthNumberFromKey(options.fromMonth) : undefined;
    let to = options.toMonth !== undefined ? monthNumberFromKey(options.toMonth) : undefined;
    if (from === undefined)
      from = seen && (to === undefined || this.minMonth <= to) ? this.minMonth : to;
    if (to === undefined) to = seen && this.maxMonth >= from! ? this.maxMonth : from;
    if (from === undefined || to === undefined) {
      return { months: [], customers: [], totals: { monthly: {}, total: 0 } };
    }
    if (from > to)
      throw new RangeError(`fromMonth ${options.fromMonth} is after toMonth ${options.toMonth}`);

    const months: string[] = [];
    for (let m = from; m <= to; m++) months.push(monthKeyFromNumber(m));
    const monthTotals = new Array<number>(months.length).fill(0);

    const ids = [...this.customers.keys()].sort(compareCodeUnits);
    const customers: ReportCustomer[] = [];
    for (const customerId of ids) {
      const byMonth = this.customers.get(customerId)!;
      let inRange = false;
      for (const m of byMonth.keys()) if (m >= from && m <= to) inRange = true;
      if (!inRange) continue;
      const monthly: Record<string, number> = {};
      let total = 0;
      for (let i = 0; i < months.length; i++) {
        const points = byMonth.get(from + i) ?? 0;
        monthly[months[i]!] = points;
        total += points;
        monthTotals[i]! += points;
      }
      customers.push({ customerId, monthly, total });
    }

    const monthly: Record<string, number> = {};
    let total = 0;
    months.forEach((key, i) => {
      monthly[key] = monthTotals[i]!;
      total += monthTotals[i]!;
    });
    if (!Number.isSafeInteger(total))
      throw new RangeError('report total exceeds the safe integer range');
    return { months, customers, totals: { monthly, total } };
  }
}

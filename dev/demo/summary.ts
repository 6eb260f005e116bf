/**
 * What the demo prints about the ledger: the per-customer per-month report (top customers, totals
 * per month, grand total) and whether it agrees with the independent expectation. Pure text.
 */
import type { Report } from '../../loyalty/report';

const integer = new Intl.NumberFormat('en-US');
const fmt = (n: number) => integer.format(n);

export interface SummaryOptions {
  /** Shopify customer id → display name. */
  names?: ReadonlyMap<string, string>;
  /** How many customers to list (default 10), highest total first. */
  top?: number;
  timezone?: string;
}

/** The report as a small table: the top customers, then the totals per month and in all. */
export function formatReportSummary(report: Report, options: SummaryOptions = {}): string {
  const top = options.top ?? 10;
  const label = (id: string) => {
    const name = options.names?.get(id);
    return name ? `${name} (${id})` : id;
  };
  const ranked = [...report.customers]
    .sort((a, b) => b.total - a.total || (a.customerId < b.customerId ? -1 : 1))
    .slice(0, top);
  const rows: string[][] = ranked.map((c) => [
    label(c.customerId),
    ...report.months.map((m) => fmt(c.monthly[m] ?? 0)),
    fmt(c.total),
  ]);
  const totalsRow = [
    `All ${fmt(report.customers.length)} customers`,
    ...report.months.map((m) => fmt(report.totals.monthly[m] ?? 0)),
    fmt(report.totals.total),
  ];
  const header = ['Customer', ...report.months, 'Total'];
  const table = [header, ...rows, totalsRow];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}`;
  const rule = `  ${widths.map((w) => '-'.repeat(w)).join('  ')}`;
  const zone = options.timezone ? `, months in ${options.timezone}` : '';
  return [
    `Points earned per month, from the ledger (top ${ranked.length} of ${fmt(report.customers.length)} customers${zone}):`,
    line(header),
    rule,
    ...rows.map(line),
    rule,
    line(totalsRow),
    `Grand total: ${fmt(report.totals.total)} points earned.`,
  ].join('\n');
}

/** Every way `actual` differs from `expected` (empty when they agree), most telling first. */
export function reportDifferences(actual: Report, expected: Report, limit = 10): string[] {
  const out: string[] = [];
  if (actual.months.join(',') !== expected.months.join(',')) {
    out.push(`months: ledger ${actual.months.join(', ')}; expected ${expected.months.join(', ')}`);
  }
  if (actual.totals.total !== expected.totals.total) {
    out.push(
      `grand total: ledger ${fmt(actual.totals.total)}; expected ${fmt(expected.totals.total)}`,
    );
  }
  const months = [...new Set([...actual.months, ...expected.months])].sort();
  for (const m of months) {
    const a = actual.totals.monthly[m] ?? 0;
    const e = expected.totals.monthly[m] ?? 0;
    if (a !== e) out.push(`${m} total: ledger ${fmt(a)}; expected ${fmt(e)}`);
  }
  const byId = (r: Report) => new Map(r.customers.map((c) => [c.customerId, c]));
  const ledger = byId(actual);
  const wanted = byId(expected);
  const ids = [...new Set([...ledger.keys(), ...wanted.keys()])].sort();
  for (const id of ids) {
    const a = ledger.get(id);
    const e = wanted.get(id);
    if (!a) out.push(`customer ${id}: expected ${fmt(e!.total)} points, not in the ledger report`);
    else if (!e) out.push(`customer ${id}: ${fmt(a.total)} points in the ledger, not expected`);
    else {
      const diff = months.filter((m) => (a.monthly[m] ?? 0) !== (e.monthly[m] ?? 0));
      if (diff.length > 0) {
        out.push(
          `customer ${id}: ${diff
            .map((m) => `${m} ledger ${fmt(a.monthly[m] ?? 0)}, expected ${fmt(e.monthly[m] ?? 0)}`)
            .join('; ')}`,
        );
      }
    }
  }
  if (out.length > limit) return [...out.slice(0, limit), `… and ${out.length - limit} more`];
  return out;
}

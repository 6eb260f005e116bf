import { describe, expect, it } from 'vitest';
import type { Report } from '../../loyalty/report';
import { formatReportSummary, reportDifferences } from './summary';

const report: Report = {
  months: ['2026-08', '2026-09'],
  customers: [
    { customerId: '1', monthly: { '2026-08': 10, '2026-09': 0 }, total: 10 },
    { customerId: '2', monthly: { '2026-08': 1200, '2026-09': 300 }, total: 1500 },
    { customerId: '3', monthly: { '2026-08': 0, '2026-09': 90 }, total: 90 },
  ],
  totals: { monthly: { '2026-08': 1210, '2026-09': 390 }, total: 1600 },
};

describe('formatReportSummary', () => {
  it('lists the top customers, the totals per month and the grand total', () => {
    const text = formatReportSummary(report, {
      names: new Map([['2', 'Ada Lovelace']]),
      top: 2,
      timezone: 'America/New_York',
    });
    expect(text).toBe(
      [
        'Points earned per month, from the ledger (top 2 of 3 customers, months in America/New_York):',
        '  Customer          2026-08  2026-09  Total',
        '  ----------------  -------  -------  -----',
        '  Ada Lovelace (2)    1,200      300  1,500',
        '  3                       0       90     90',
        '  ----------------  -------  -------  -----',
        '  All 3 customers     1,210      390  1,600',
        'Grand total: 1,600 points earned.',
      ].join('\n'),
    );
  });
});

describe('reportDifferences', () => {
  it('is empty when the reports agree', () => {
    expect(reportDifferences(report, structuredClone(report))).toEqual([]);
  });

  it('names the totals, months and customers that differ', () => {
    const expected = structuredClone(report);
    expected.customers[0]!.monthly['2026-09'] = 5;
    expected.customers[0]!.total = 15;
    expected.customers.push({ customerId: '4', monthly: { '2026-08': 7 }, total: 7 });
    expected.totals = { monthly: { '2026-08': 1217, '2026-09': 395 }, total: 1612 };
    expect(reportDifferences(report, expected)).toEqual([
      'grand total: ledger 1,600; expected 1,612',
      '2026-08 total: ledger 1,210; expected 1,217',
      '2026-09 total: ledger 390; expected 395',
      'customer 1: 2026-09 ledger 0, expected 5',
      'customer 4: expected 7 points, not in the ledger report',
    ]);
    expect(reportDifferences(report, expected, 2)).toEqual([
      'grand total: ledger 1,600; expected 1,612',
      '2026-08 total: ledger 1,210; expected 1,217',
      '… and 3 more',
    ]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  codeUnitOrder,
  compareCodeUnits,
  ReportBuilder,
  reportColumns,
  type Report,
} from './report';

describe('ReportBuilder', () => {
  it('builds the empty report', () => {
    expect(new ReportBuilder().build()).toEqual({
      months: [],
      customers: [],
      totals: { monthly: {}, total: 0 },
    });
  });

  it('lists every month for every customer, with totals', () => {
    const builder = new ReportBuilder();
    builder.add('C2', '2026-01', 90);
    builder.add('C1', '2026-03', 14);
    builder.add('C1', '2026-01', 50);
    builder.add('C1', '2026-01', 90);
    builder.add('C3', '2026-02', 0);
    const report = builder.build();
    expect(report).toEqual({
      months: ['2026-01', '2026-02', '2026-03'],
      customers: [
        { customerId: 'C1', monthly: { '2026-01': 140, '2026-02': 0, '2026-03': 14 }, total: 154 },
        { customerId: 'C2', monthly: { '2026-01': 90, '2026-02': 0, '2026-03': 0 }, total: 90 },
        { customerId: 'C3', monthly: { '2026-01': 0, '2026-02': 0, '2026-03': 0 }, total: 0 },
      ],
      totals: { monthly: { '2026-01': 230, '2026-02': 0, '2026-03': 14 }, total: 244 },
    });
    // Key order is part of the output format.
    expect(Object.keys(report.customers[0]!.monthly)).toEqual(report.months);
  });

  it('fills months nobody earned in, across a year end', () => {
    const builder = new ReportBuilder();
    builder.add('A', '2025-11', 1);
    builder.add('A', '2026-02', 2);
    expect(builder.build().months).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
  });

  it('sorts customers by UTF-16 code units, not locale', () => {
    const builder = new ReportBuilder();
    for (const id of ['é', 'a', 'C9', 'Z', 'C10', 'B']) builder.add(id, '2026-01', 1);
    expect(builder.build().customers.map((c) => c.customerId)).toEqual([
      'B',
      'C10',
      'C9',
      'Z',
      'a',
      'é',
    ]);
  });

  it('keeps negative months (reversals net of awards)', () => {
    const builder = new ReportBuilder();
    builder.add('C1', '2026-01', 90);
    builder.add('C1', '2026-02', -15);
    const report = builder.build();
    expect(report.customers[0]!.monthly).toEqual({ '2026-01': 90, '2026-02': -15 });
    expect(report.totals.total).toBe(75);
  });

  it('uses a given month range, leaving out facts and customers outside it', () => {
    const builder = new ReportBuilder();
    builder.add('Early', '2025-12', 10);
    builder.add('Both', '2025-12', 5);
    builder.add('Both', '2026-02', 7);
    const report = builder.build({ fromMonth: '2026-01', toMonth: '2026-03' });
    expect(report).toEqual({
      months: ['2026-01', '2026-02', '2026-03'],
      customers: [
        { customerId: 'Both', monthly: { '2026-01': 0, '2026-02': 7, '2026-03': 0 }, total: 7 },
      ],
      totals: { monthly: { '2026-01': 0, '2026-02': 7, '2026-03': 0 }, total: 7 },
    });
  });

  it('lists a requested range even with no data, and one open end defaults to the data', () => {
    expect(new ReportBuilder().build({ fromMonth: '2026-01', toMonth: '2026-02' }).months).toEqual([
      '2026-01',
      '2026-02',
    ]);
    const builder = new ReportBuilder();
    builder.add('C1', '2026-04', 1);
    expect(builder.build({ fromMonth: '2026-02' }).months).toEqual([
      '2026-02',
      '2026-03',
      '2026-04',
    ]);
    expect(builder.build({ toMonth: '2026-05' }).months).toEqual(['2026-04', '2026-05']);
    expect(() => builder.build({ fromMonth: '2026-05', toMonth: '2026-04' })).toThrow(RangeError);
  });

  it('rejects fractional points and bad month keys', () => {
    const builder = new ReportBuilder();
    expect(() => builder.add('C1', '2026-01', 1.5)).toThrow(RangeError);
    expect(() => builder.add('C1', '2026-1', 1)).toThrow(/not a month/);
  });
});

describe('report properties', () => {
  const fact = fc.record({
    customerId: fc.constantFrom('C1', 'C2', 'C3', 'c1', 'Ünïcode', 'x,y', ''),
    month: fc.constantFrom('2025-11', '2025-12', '2026-01', '2026-02', '2026-03', '2026-04'),
    points: fc.integer({ min: -1000, max: 100_000 }),
  });

  const build = (facts: { customerId: string; month: string; points: number }[]) => {
    const builder = new ReportBuilder();
    for (const f of facts) builder.add(f.customerId, f.month, f.points);
    return builder.build();
  };

  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

  it('total = sum of its months = sum of customer totals = sum of the facts', () => {
    fc.assert(
      fc.property(fc.array(fact, { maxLength: 80 }), (facts) => {
        const report: Report = build(facts);
        const expected = sum(facts.map((f) => f.points));
        expect(report.totals.total).toBe(expected);
        expect(sum(report.months.map((m) => report.totals.monthly[m]!))).toBe(expected);
        expect(sum(report.customers.map((c) => c.total))).toBe(expected);
        for (const c of report.customers) {
          expect(sum(report.months.map((m) => c.monthly[m]!))).toBe(c.total);
        }
        for (const m of report.months) {
          expect(sum(report.customers.map((c) => c.monthly[m]!))).toBe(report.totals.monthly[m]);
        }
        expect(report.customers.length).toBe(new Set(facts.map((f) => f.customerId)).size);
      }),
    );
  });

  it('adding in any order gives the same report', () => {
    fc.assert(
      fc.property(
        fc
          .array(fact, { maxLength: 60 })
          .chain((facts) =>
            fc.tuple(
              fc.constant(facts),
              fc.shuffledSubarray(facts, { minLength: facts.length, maxLength: facts.length }),
            ),
          ),
        ([facts, shuffled]) => {
          expect(JSON.stringify(build(shuffled))).toBe(JSON.stringify(build(facts)));
        },
      ),
    );
  });
});

describe('codeUnitOrder', () => {
  const sorted = (ids: string[]) => Array.from(codeUnitOrder(ids), (i) => ids[i]!);

  it('orders like a comparison sort on UTF-16 code units, surrogates included', () => {
    // U+FF5E sorts after a surrogate pair (U+1D11E) by code units, before it by code points.
    const ids = ['\uff5e', '\u{1d11e}', 'é', 'a', 'C9', 'Z', 'C10', 'B', '', 'C1', 'C', '\ud800'];
    expect(sorted(ids)).toEqual([...ids].sort(compareCodeUnits));
  });

  it('agrees with the comparison sort on any strings, long shared prefixes included', () => {
    const unit = fc.constantFrom('a', 'b', 'B', '0', '9', 'é', '\uff5e', '\ud834', '\udd1e', '\0');
    const id = fc.oneof(
      fc.string({ unit, maxLength: 6 }),
      // Past the radix depth limit (64) and in ranges of ≥ 16: the comparison-sort fallback.
      fc.string({ unit, maxLength: 4 }).map((tail) => `${'x'.repeat(70)}${tail}`),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(id, { maxLength: 400 }), (ids) => {
        expect(sorted(ids)).toEqual([...ids].sort(compareCodeUnits));
      }),
    );
  });
});

describe('reportColumns', () => {
  it('is the report as columns, in its order', () => {
    const builder = new ReportBuilder();
    builder.add('C2', '2026-01', 90);
    builder.add('C1', '2026-03', -14);
    const columns = reportColumns(builder.build());
    expect(columns.months).toEqual(['2026-01', '2026-02', '2026-03']);
    expect(columns.customerIds).toEqual(['C1', 'C2']);
    expect(columns.points.map((c) => Array.from(c))).toEqual([
      [0, 90],
      [0, 0],
      [-14, 0],
    ]);
    expect(Array.from(columns.customerTotals)).toEqual([-14, 90]);
    expect(columns.monthTotals).toEqual([90, 0, -14]);
    expect(columns.total).toBe(76);
  });
});

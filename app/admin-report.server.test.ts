import { describe, expect, it } from 'vitest';
import { defaultReportRange, MAX_REPORT_MONTHS, parseReportQuery } from './admin-report.server';

const TZ = 'America/New_York';
// 2026-12-01 03:00 UTC is still November 30 in New York.
const LATE_NOVEMBER = new Date('2026-12-01T03:00:00Z');
const parse = (query: string, now = LATE_NOVEMBER) =>
  parseReportQuery(new URLSearchParams(query), TZ, now);

describe('defaultReportRange', () => {
  it('is the last three full months in the shop’s timezone', () => {
    expect(defaultReportRange(LATE_NOVEMBER, TZ)).toEqual({ from: '2026-08-01', to: '2026-10-31' });
    expect(defaultReportRange(LATE_NOVEMBER, 'UTC')).toEqual({
      from: '2026-09-01',
      to: '2026-11-30',
    });
    // Across a year end, and a leap February.
    expect(defaultReportRange(new Date('2028-03-15T12:00:00Z'), TZ)).toEqual({
      from: '2027-12-01',
      to: '2028-02-29',
    });
  });
});

describe('parseReportQuery', () => {
  it('defaults to the last three months, sorted by total, largest first, page 1', () => {
    const parsed = parse('');
    expect(parsed.ok && parsed.query).toEqual({
      timezone: TZ,
      from: '2026-08-01',
      to: '2026-10-31',
      sort: 'total',
      direction: 'desc',
      page: 1,
      pageSize: 50,
    });
  });

  it('reads a range, a month sort and a page', () => {
    const parsed = parse('from=2026-01-15&to=2026-03-31&sort=month:2026-02&dir=asc&page=3');
    expect(parsed.ok && parsed.query).toMatchObject({
      from: '2026-01-15',
      to: '2026-03-31',
      sort: 'month:2026-02',
      direction: 'asc',
      page: 3,
    });
    const customer = parse('sort=customer');
    expect(customer.ok && customer.query).toMatchObject({ sort: 'customer', direction: 'asc' });
  });

  it('falls back for a sort or page it does not know', () => {
    for (const query of ['sort=month:2020-01', 'sort=points', 'page=0', 'page=x', 'dir=up']) {
      const parsed = parse(query);
      expect(parsed.ok, query).toBe(true);
      if (parsed.ok) {
        expect(parsed.query.page, query).toBe(1);
        expect(parsed.query.sort, query).toBe('total');
        expect(parsed.query.direction, query).toBe('desc');
      }
    }
  });

  it('names the field of a bad date, and refuses from after to', () => {
    expect(parse('from=2026-02-30&to=2026-03-01')).toMatchObject({
      ok: false,
      errors: { from: 'From "2026-02-30" is not a date (YYYY-MM-DD)' },
    });
    expect(parse('from=2026-01-01&to=tomorrow')).toMatchObject({
      ok: false,
      errors: { to: 'To "tomorrow" is not a date (YYYY-MM-DD)' },
    });
    expect(parse('from=&to=2026-01-01')).toMatchObject({
      ok: false,
      errors: { from: 'From is required (YYYY-MM-DD)' },
    });
    const after = parse('from=2026-03-01&to=2026-02-01');
    expect(after).toMatchObject({
      ok: false,
      errors: { from: 'From 2026-03-01 is after To 2026-02-01' },
      form: { from: '2026-03-01', to: '2026-02-01' },
    });
  });

  it(`refuses more than ${MAX_REPORT_MONTHS} months`, () => {
    expect(parse('from=2000-01-01&to=2026-01-01')).toMatchObject({
      ok: false,
      errors: { to: expect.stringContaining('at most 120') },
    });
    expect(parse('from=2016-02-01&to=2026-01-31').ok).toBe(true);
  });
});

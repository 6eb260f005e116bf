import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isValidTimeZone,
  monthKeyOfInstant,
  monthRange,
  parseCalendarDay,
  parseIsoInstant,
  parseShopifyTimestamp,
  addZonedDays,
  addZonedMonths,
  TimeError,
  wallTimeOf,
  zonedInstant,
  zonedMidnight,
  zonedYearStart,
} from './time';

const at = (iso: string) => Date.parse(iso);

const oracles = new Map<string, Intl.DateTimeFormat>();

/** Independent oracle: Intl's wall clock for each instant, no bucketing or offset caching. */
function intlParts(epochMs: number, tz: string) {
  let format = oracles.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    oracles.set(tz, format);
  }
  const parts = format.formatToParts(epochMs);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return {
    month: `${get('year')}-${get('month')}`,
    day: `${get('year')}-${get('month')}-${get('day')}`,
  };
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TimeError);
    return (error as TimeError).reason;
  }
  throw new Error('expected a TimeError');
}

describe('parseIsoInstant', () => {
  it('parses Z and ±HH:MM offsets', () => {
    expect(parseIsoInstant('2026-01-31T23:30:00Z')).toBe(Date.UTC(2026, 0, 31, 23, 30));
    expect(parseIsoInstant('2026-01-31T23:30:00-05:00')).toBe(Date.UTC(2026, 1, 1, 4, 30));
    expect(parseIsoInstant('2026-01-31T23:30:00+05:45')).toBe(Date.UTC(2026, 0, 31, 17, 45));
    expect(parseIsoInstant('2026-01-31T23:30Z')).toBe(Date.UTC(2026, 0, 31, 23, 30));
  });

  it('reads fractional seconds, truncating below a millisecond', () => {
    expect(parseIsoInstant('2026-01-31T23:30:00.5Z')).toBe(Date.UTC(2026, 0, 31, 23, 30, 0, 500));
    expect(parseIsoInstant('2026-01-31T23:30:00.123Z')).toBe(Date.UTC(2026, 0, 31, 23, 30, 0, 123));
    expect(parseIsoInstant('2026-01-31T23:30:00.123999999Z')).toBe(
      Date.UTC(2026, 0, 31, 23, 30, 0, 123),
    );
  });

  it('handles leap days and years far from now', () => {
    expect(parseIsoInstant('2024-02-29T12:00:00Z')).toBe(Date.UTC(2024, 1, 29, 12));
    expect(parseIsoInstant('1969-12-31T23:59:59Z')).toBe(-1000);
    expect(parseIsoInstant('2400-02-29T00:00:00Z')).toBe(Date.UTC(2400, 1, 29));
  });

  it.each([
    ['2026-02-30T10:00:00Z', 'is not a real calendar day'],
    ['2025-02-29T10:00:00Z', 'is not a real calendar day'],
    ['2026-01-31T23:30:00', "has no UTC offset; add 'Z' or '±HH:MM'"],
    ['2026-01-31T23:30', "has no UTC offset; add 'Z' or '±HH:MM'"],
  ])('rejects %s: %s', (text, reason) => {
    expect(reasonOf(() => parseIsoInstant(text))).toBe(reason);
  });

  it.each([
    '2026-01-31 23:30:00Z',
    '2026-01-31t23:30:00Z',
    '2026-01-31T23:30:00z',
    '2026-01-31T23:30:00+0500',
    '2026-01-31T23:30:00+05',
    '2026-01-31T24:00:00Z',
    '2026-01-31T23:60:00Z',
    '2026-01-31T23:59:60Z',
    '2026-01-31T23:30:00.Z',
    '2026-1-31T23:30:00Z',
    '26-01-31T23:30:00Z',
    '2026-01-31T23:30:00+24:00',
    ' 2026-01-31T23:30:00Z',
    '2026-01-31T23:30:00Z ',
    '2026-01-31',
    '',
  ])('rejects %j', (text) => {
    expect(() => parseIsoInstant(text)).toThrow(TimeError);
  });

  it('agrees with Date for random instants written with random offsets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2099, 11, 31) }),
        fc.integer({ min: -14 * 4, max: 14 * 4 }),
        (ms, quarterHours) => {
          const offset = quarterHours * 15;
          const local = new Date(ms + offset * 60_000).toISOString().slice(0, 23);
          const sign = offset < 0 ? '-' : '+';
          const abs = Math.abs(offset);
          const text = `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          expect(parseIsoInstant(text)).toBe(ms);
        },
      ),
    );
  });
});

describe('parseShopifyTimestamp', () => {
  it("reads Shopify's export format", () => {
    expect(parseShopifyTimestamp('2026-01-15 10:23:45 -0500')).toBe(
      Date.UTC(2026, 0, 15, 15, 23, 45),
    );
    expect(parseShopifyTimestamp('2026-01-15 10:23:45 +0000')).toBe(
      Date.UTC(2026, 0, 15, 10, 23, 45),
    );
  });

  it('rejects other shapes', () => {
    expect(() => parseShopifyTimestamp('2026-01-15 10:23:45')).toThrow(TimeError);
    expect(() => parseShopifyTimestamp('2026-01-15 10:23 -0500')).toThrow(TimeError);
    expect(() => parseShopifyTimestamp('2026-02-30 10:23:45 -0500')).toThrow(
      /not a real calendar day/,
    );
  });
});

describe('parseCalendarDay', () => {
  it('accepts real days only', () => {
    expect(parseCalendarDay('2026-02-28')).toEqual({ year: 2026, month: 2, day: 28 });
    expect(parseCalendarDay('2024-02-29')).toEqual({ year: 2024, month: 2, day: 29 });
    expect(() => parseCalendarDay('2026-02-29')).toThrow(/not a real calendar day/);
    expect(() => parseCalendarDay('2026-13-01')).toThrow(TimeError);
    expect(() => parseCalendarDay('2026-04-31')).toThrow(TimeError);
    expect(() => parseCalendarDay('2026/01/01')).toThrow(/YYYY-MM-DD/);
  });
});

describe('isValidTimeZone', () => {
  it('knows IANA names and rejects the rest', () => {
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('America/New_York')).toBe(true);
    expect(isValidTimeZone('Asia/Kathmandu')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
    expect(isValidTimeZone('+05:00')).toBe(false);
  });
});

describe('monthKeyOfInstant', () => {
  it('puts an instant in the month of the given zone', () => {
    const lateJanInNewYork = parseIsoInstant('2026-01-31T23:30:00-05:00');
    expect(monthKeyOfInstant(lateJanInNewYork, 'UTC')).toBe('2026-02');
    expect(monthKeyOfInstant(lateJanInNewYork, 'America/New_York')).toBe('2026-01');
    expect(monthKeyOfInstant(at('2026-03-01T03:00:00Z'), 'America/Los_Angeles')).toBe('2026-02');
    expect(monthKeyOfInstant(at('2026-03-01T03:00:00Z'), 'UTC')).toBe('2026-03');
  });

  it('follows DST at a month boundary (New York, 1 November 2026)', () => {
    // DST ends at 2026-11-01 06:00Z; midnight 1 Nov is still EDT (-04:00) = 04:00Z.
    expect(monthKeyOfInstant(at('2026-11-01T03:59:59.999Z'), 'America/New_York')).toBe('2026-10');
    expect(monthKeyOfInstant(at('2026-11-01T04:00:00Z'), 'America/New_York')).toBe('2026-11');
    // 1 April 2026 00:00 EDT = 04:00Z, after the March change.
    expect(monthKeyOfInstant(at('2026-04-01T03:59:59Z'), 'America/New_York')).toBe('2026-03');
    expect(monthKeyOfInstant(at('2026-04-01T04:00:00Z'), 'America/New_York')).toBe('2026-04');
  });

  it('handles quarter- and half-hour offsets', () => {
    expect(monthKeyOfInstant(at('2026-01-31T18:29:59Z'), 'Asia/Kolkata')).toBe('2026-01');
    expect(monthKeyOfInstant(at('2026-01-31T18:30:00Z'), 'Asia/Kolkata')).toBe('2026-02');
    expect(monthKeyOfInstant(at('2026-01-31T18:14:59Z'), 'Asia/Kathmandu')).toBe('2026-01');
    expect(monthKeyOfInstant(at('2026-01-31T18:15:00Z'), 'Asia/Kathmandu')).toBe('2026-02');
  });

  it('matches Intl for random instants in many zones (the caches never change an answer)', () => {
    const zones = [
      'America/New_York',
      'America/Los_Angeles',
      'America/Santiago',
      'America/Havana',
      'Europe/London',
      'Europe/Berlin',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
      'Asia/Kathmandu',
      'Pacific/Kiritimati',
      'Africa/Casablanca',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2027, 11, 31) }),
        (tz, ms) => {
          expect(monthKeyOfInstant(ms, tz)).toBe(intlParts(ms, tz).month);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('is exact through every DST change and month end of 2026 in New York and Santiago', () => {
    for (const tz of ['America/New_York', 'America/Santiago']) {
      for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 7 * 60_000 + 1) {
        // Stepping just over 7 minutes samples every 15-minute bucket of the year.
        if (monthKeyOfInstant(ms, tz) !== intlParts(ms, tz).month) {
          throw new Error(`${tz} ${new Date(ms).toISOString()}`);
        }
      }
    }
  });
});

describe('monthRange', () => {
  it('lists contiguous months across a year end', () => {
    expect(monthRange('2025-11', '2026-02')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
    expect(monthRange('2026-03', '2026-03')).toEqual(['2026-03']);
  });

  it('rejects reversed ranges and bad keys', () => {
    expect(() => monthRange('2026-03', '2026-01')).toThrow(/is after 2026-01/);
    expect(() => monthRange('2026-13', '2027-01')).toThrow(/not a month/);
    expect(() => monthRange('2026-1', '2026-02')).toThrow(TimeError);
  });
});

describe('zonedMidnight', () => {
  it('is 00:00 local on that day', () => {
    expect(zonedMidnight('2026-01-15', 'UTC')).toBe(Date.UTC(2026, 0, 15));
    expect(zonedMidnight('2026-01-15', 'America/New_York')).toBe(Date.UTC(2026, 0, 15, 5));
    expect(zonedMidnight('2026-07-15', 'America/New_York')).toBe(Date.UTC(2026, 6, 15, 4));
    expect(zonedMidnight('2026-03-08', 'America/New_York')).toBe(Date.UTC(2026, 2, 8, 5)); // DST starts at 02:00
    expect(zonedMidnight('2026-01-15', 'Asia/Kathmandu')).toBe(Date.UTC(2026, 0, 14, 18, 15));
  });

  it('is the moment the day starts when DST skips midnight', () => {
    // Santiago and Havana move clocks from 00:00 to 01:00: the day begins at 01:00 local.
    expect(zonedMidnight('2026-09-06', 'America/Santiago')).toBe(Date.UTC(2026, 8, 6, 4));
    expect(zonedMidnight('2026-03-08', 'America/Havana')).toBe(Date.UTC(2026, 2, 8, 5));
    // Santiago falls back at 24:00 on 4 April: 5 April 00:00 exists once, at -04:00.
    expect(zonedMidnight('2026-04-05', 'America/Santiago')).toBe(Date.UTC(2026, 3, 5, 4));
  });

  it('returns the first instant whose local date is that day, for random days and zones', () => {
    const zones = [
      'America/New_York',
      'America/Santiago',
      'America/Havana',
      'Europe/London',
      'Australia/Lord_Howe',
      'Asia/Tehran',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({
          min: Date.UTC(2025, 0, 1) / 86_400_000,
          max: Date.UTC(2027, 11, 31) / 86_400_000,
        }),
        (tz, dayNumber) => {
          const ymd = new Date(dayNumber * 86_400_000).toISOString().slice(0, 10);
          const start = zonedMidnight(ymd, tz);
          expect(intlParts(start, tz).day).toBe(ymd);
          expect(intlParts(start - 1, tz).day < ymd).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('rejects bad days and zones', () => {
    expect(() => zonedMidnight('2026-02-30', 'UTC')).toThrow(TimeError);
    expect(() => zonedMidnight('2026-02-01', 'Nowhere/City')).toThrow(/not an IANA timezone/);
  });
});

const NY = 'America/New_York';
const wall = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0) => ({
  year,
  month,
  day,
  hour,
  minute,
  second,
});

describe('wallTimeOf', () => {
  it('reads the wall clock on both sides of a change', () => {
    expect(wallTimeOf(at('2026-03-08T06:59:59Z'), NY)).toEqual(wall(2026, 3, 8, 1, 59, 59));
    expect(wallTimeOf(at('2026-03-08T07:00:00Z'), NY)).toEqual(wall(2026, 3, 8, 3, 0, 0));
    // 01:30 happens twice on 1 November: once in EDT, once in EST.
    expect(wallTimeOf(at('2026-11-01T05:30:00Z'), NY)).toEqual(wall(2026, 11, 1, 1, 30, 0));
    expect(wallTimeOf(at('2026-11-01T06:30:00Z'), NY)).toEqual(wall(2026, 11, 1, 1, 30, 0));
    expect(wallTimeOf(at('2026-01-01T04:59:59.999Z'), NY)).toEqual(wall(2025, 12, 31, 23, 59, 59));
    expect(wallTimeOf(at('2026-06-15T12:34:56Z'), 'UTC')).toEqual(wall(2026, 6, 15, 12, 34, 56));
  });

  it('refuses what is not an instant or a zone', () => {
    expect(() => wallTimeOf(Number.NaN, NY)).toThrow(TimeError);
    expect(() => wallTimeOf(0, 'Nowhere/City')).toThrow(/not an IANA timezone/);
  });
});

describe('zonedInstant', () => {
  it('is the one instant of an ordinary reading', () => {
    expect(zonedInstant(wall(2026, 3, 8, 12), NY)).toBe(at('2026-03-08T16:00:00Z'));
    expect(zonedInstant(wall(2026, 1, 15, 9, 30), NY)).toBe(at('2026-01-15T14:30:00Z'));
    expect(zonedInstant(wall(2026, 1, 15, 9, 30), 'Asia/Kathmandu')).toBe(
      at('2026-01-15T03:45:00Z'),
    );
  });

  it('a reading skipped by the March change is the moment the gap ends', () => {
    // Clocks jump 02:00 EST → 03:00 EDT (07:00 UTC): 02:00–02:59:59 never happen.
    for (const [hour, minute, second] of [
      [2, 0, 0],
      [2, 30, 0],
      [2, 59, 59],
    ] as const) {
      expect(zonedInstant(wall(2026, 3, 8, hour, minute, second), NY)).toBe(
        at('2026-03-08T07:00:00Z'),
      );
    }
    expect(zonedInstant(wall(2026, 3, 8, 1, 59, 59), NY)).toBe(at('2026-03-08T06:59:59Z'));
    expect(zonedInstant(wall(2026, 3, 8, 3), NY)).toBe(at('2026-03-08T07:00:00Z'));
    // Lord Howe moves by half an hour (02:00 → 02:30 on 4 October 2026).
    expect(zonedInstant(wall(2026, 10, 4, 2, 15), 'Australia/Lord_Howe')).toBe(
      at('2026-10-03T15:30:00Z'),
    );
  });

  it('a reading repeated by the November change is the earlier one', () => {
    expect(zonedInstant(wall(2026, 11, 1, 1, 30), NY)).toBe(at('2026-11-01T05:30:00Z'));
    expect(zonedInstant(wall(2026, 11, 1, 2), NY)).toBe(at('2026-11-01T07:00:00Z'));
  });

  it('round-trips every instant at whole seconds, and is the earliest instant of its reading', () => {
    const zones = [NY, 'America/Santiago', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Tehran'];
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.UTC(2025, 0, 1) / 1000, max: Date.UTC(2027, 11, 31) / 1000 }),
        (tz, seconds) => {
          const instant = seconds * 1000;
          const reading = wallTimeOf(instant, tz);
          const back = zonedInstant(reading, tz);
          expect(wallTimeOf(back, tz)).toEqual(reading);
          expect(back).toBeLessThanOrEqual(instant);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('addZonedMonths', () => {
  it('keeps the wall time across DST changes', () => {
    // 12:00 EST in February → 12:00 EDT in April: one hour less elapsed than 2 × 30 days would say.
    expect(addZonedMonths(at('2026-02-10T17:00:00Z'), 2, NY)).toBe(at('2026-04-10T16:00:00Z'));
    expect(addZonedMonths(at('2026-10-10T16:00:00Z'), 1, NY)).toBe(at('2026-11-10T17:00:00Z'));
    expect(addZonedMonths(at('2026-03-08T16:00:00Z'), -12, NY)).toBe(at('2025-03-08T17:00:00Z'));
    // Sub-second parts are kept.
    expect(addZonedMonths(at('2026-02-10T17:00:00.250Z'), 1, NY)).toBe(
      at('2026-03-10T16:00:00.250Z'),
    );
  });

  it('clamps the day to the end of a shorter month', () => {
    expect(addZonedMonths(at('2026-01-31T17:00:00Z'), 1, NY)).toBe(at('2026-02-28T17:00:00Z'));
    expect(addZonedMonths(at('2028-01-31T17:00:00Z'), 1, NY)).toBe(at('2028-02-29T17:00:00Z'));
    expect(addZonedMonths(at('2026-03-31T16:00:00Z'), -1, NY)).toBe(at('2026-02-28T17:00:00Z'));
    expect(addZonedMonths(at('2028-02-29T17:00:00Z'), 12, NY)).toBe(at('2029-02-28T17:00:00Z'));
    expect(addZonedMonths(at('2026-12-31T17:00:00Z'), 2, NY)).toBe(at('2027-02-28T17:00:00Z'));
  });

  it('lands on the end of a gap when the same wall time does not exist', () => {
    // 02:30 EST on 8 February; a month later 02:30 is skipped: 03:00 EDT.
    expect(addZonedMonths(at('2026-02-08T07:30:00Z'), 1, NY)).toBe(at('2026-03-08T07:00:00Z'));
  });
});

describe('addZonedDays', () => {
  it('keeps the wall time across DST changes', () => {
    expect(addZonedDays(at('2026-03-07T17:00:00Z'), 1, NY)).toBe(at('2026-03-08T16:00:00Z'));
    expect(addZonedDays(at('2026-10-31T16:00:00Z'), 1, NY)).toBe(at('2026-11-01T17:00:00Z'));
    expect(addZonedDays(at('2026-02-20T17:00:00Z'), 30, NY)).toBe(at('2026-03-22T16:00:00Z'));
    expect(addZonedDays(at('2026-03-22T16:00:00Z'), -30, NY)).toBe(at('2026-02-20T17:00:00Z'));
    expect(addZonedDays(at('2026-12-31T17:00:00Z'), 1, NY)).toBe(at('2027-01-01T17:00:00Z'));
    expect(addZonedDays(at('2026-12-31T17:00:00Z'), 0, NY)).toBe(at('2026-12-31T17:00:00Z'));
  });

  it('days are 24 hours in UTC', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: -800, max: 800 }),
        (t, days) => {
          expect(addZonedDays(t, days, 'UTC')).toBe(t + days * 86_400_000);
        },
      ),
    );
  });
});

describe('zonedYearStart', () => {
  it('is local midnight of January 1', () => {
    expect(zonedYearStart(2026, NY)).toBe(at('2026-01-01T05:00:00Z'));
    expect(zonedYearStart(2027, 'Asia/Kathmandu')).toBe(at('2026-12-31T18:15:00Z'));
    expect(zonedYearStart(2026, 'UTC')).toBe(at('2026-01-01T00:00:00Z'));
  });
});

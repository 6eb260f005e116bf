/**
 * Calendar maths for reports: instants → "YYYY-MM" months in a shop's IANA timezone, calendar days,
 * strict ISO 8601 parsing. Pure (no Date.now); the only platform dependency is Intl's tz database.
 *
 * A "month number" is `year * 12 + (month - 1)`: an integer that sorts and subtracts like months, so
 * hot loops can bucket without building strings.
 */

/** A date/time text that is not acceptable; `reason` is the short human part. */
export class TimeError extends Error {
  readonly reason: string;
  readonly text: string;
  constructor(text: string, reason: string) {
    super(`date '${text}' ${reason}`);
    this.name = 'TimeError';
    this.reason = reason;
    this.text = text;
  }
}

const MS_PER_DAY = 86_400_000;
const MONTH_KEY = /^(\d{4})-(\d{2})$/;

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Month number (`year*12 + month-1`) of a day count since 1970-01-01 (inverse of daysFromCivil). */
function monthNumberOfDays(days: number): number {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return year * 12 + month - 1;
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const monthKeys = new Map<number, string>();

/** "YYYY-MM" of a month number; cached, so hot loops get the same string instance every time. */
export function monthKeyFromNumber(monthNumber: number): string {
  let key = monthKeys.get(monthNumber);
  if (key === undefined) {
    const year = Math.floor(monthNumber / 12);
    const month = monthNumber - year * 12 + 1;
    key = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    monthKeys.set(monthNumber, key);
  }
  return key;
}

/** Month number of a "YYYY-MM" key; throws TimeError when it is not one. */
export function monthNumberFromKey(key: string): number {
  const match = MONTH_KEY.exec(key);
  const month = match ? Number(match[2]) : 0;
  if (!match || month < 1 || month > 12) throw new TimeError(key, 'is not a month (YYYY-MM)');
  return Number(match[1]) * 12 + month - 1;
}

// ---------------------------------------------------------------------------------------------
// Timezones

const validity = new Map<string, boolean>();

/** True when `tz` is an IANA timezone name this runtime knows (`UTC`, `America/New_York`, …). */
export function isValidTimeZone(tz: string): boolean {
  if (tz === 'UTC') return true; // the default; skips building an Intl formatter at startup
  let valid = validity.get(tz);
  if (valid === undefined) {
    try {
      // Offsets like "+05:00" are accepted by newer Intl versions; reports need named zones.
      valid = tz.length > 0 && !/^[+-]/.test(tz);
      if (valid) new Intl.DateTimeFormat('en-US', { timeZone: tz }); // throws RangeError when unknown
    } catch {
      valid = false;
    }
    validity.set(tz, valid);
  }
  return valid;
}

function assertTimeZone(tz: string): void {
  if (!isValidTimeZone(tz))
    throw new TimeError(tz, 'is not an IANA timezone (e.g. America/New_York)');
}

/** Wall-clock fields of an instant in a zone, via one cached Intl formatter per zone. */
class ZoneClock {
  private readonly format: Intl.DateTimeFormat;
  /** UTC day → the zone's offset all that day, or NaN when the offset changes during it. */
  private readonly dayOffset = new Map<number, number>();
  /** 15-minute bucket (transition days only) → month number, or -1 when it straddles a month. */
  private readonly bucketMonth = new Map<number, number>();

  constructor(readonly timeZone: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** [year, month, day, hour, minute, second] on the zone's wall clock. */
  fields(epochMs: number): [number, number, number, number, number, number] {
    const out: [number, number, number, number, number, number] = [0, 0, 0, 0, 0, 0];
    for (const part of this.format.formatToParts(epochMs)) {
      const v = Number(part.value);
      switch (part.type) {
        case 'year':
          out[0] = v;
          break;
        case 'month':
          out[1] = v;
          break;
        case 'day':
          out[2] = v;
          break;
        case 'hour':
          out[3] = v;
          break;
        case 'minute':
          out[4] = v;
          break;
        case 'second':
          out[5] = v;
          break;
      }
    }
    return out;
  }

  monthNumberExact(epochMs: number): number {
    const [year, month] = this.fields(epochMs);
    return year * 12 + month - 1;
  }

  /** Offset (local − UTC) in ms at an instant, at whole-second precision. */
  offsetMs(epochMs: number): number {
    const [y, mo, d, h, mi, s] = this.fields(epochMs);
    const wall = daysFromCivil(y, mo, d) * MS_PER_DAY + ((h * 60 + mi) * 60 + s) * 1000;
    return wall - (epochMs - (((epochMs % 1000) + 1000) % 1000));
  }

  /**
   * Month number of an instant, exactly: the month of (instant + the zone's offset at that instant).
   * Offsets change a few times a year, so the offset is cached per UTC day when it is the same at
   * both ends of the day (one or two Intl calls per day of data). On a transition day the day is
   * split into 15-minute buckets (every modern zone changes offset on a 15-minute boundary), and a
   * bucket that still straddles a change (odd historical offsets) is answered per instant.
   */
  monthNumber(epochMs: number): number {
    const day = Math.floor(epochMs / MS_PER_DAY);
    let offset = this.dayOffset.get(day);
    if (offset === undefined) {
      const first = this.offsetMs(day * MS_PER_DAY);
      offset = first === this.offsetMs(day * MS_PER_DAY + MS_PER_DAY - 1) ? first : NaN;
      this.dayOffset.set(day, offset);
    }
    if (!Number.isNaN(offset))
      return monthNumberOfDays(Math.floor((epochMs + offset) / MS_PER_DAY));
    const bucket = Math.floor(epochMs / 900_000);
    let month = this.bucketMonth.get(bucket);
    if (month === undefined) {
      const start = bucket * 900_000;
      const first = this.monthNumberExact(start);
      month = first === this.monthNumberExact(start + 899_999) ? first : -1;
      this.bucketMonth.set(bucket, month);
    }
    return month >= 0 ? month : this.monthNumberExact(epochMs);
  }
}

const clocks = new Map<string, ZoneClock>();

function clockFor(tz: string): ZoneClock {
  let clock = clocks.get(tz);
  if (clock === undefined) {
    assertTimeZone(tz);
    clock = new ZoneClock(tz);
    clocks.set(tz, clock);
  }
  return clock;
}

/**
 * Month number (`year*12 + month-1`) of an instant in `tz`. UTC is pure arithmetic; other zones
 * consult Intl once per 15-minute bucket (cached), so a million instants cost a few thousand lookups.
 */
export function monthNumberOfInstant(epochMs: number, tz: string): number {
  if (tz === 'UTC') return monthNumberOfDays(Math.floor(epochMs / MS_PER_DAY));
  return clockFor(tz).monthNumber(epochMs);
}

/** "YYYY-MM" of an instant in `tz`: `monthKeyOfInstant(Date.parse('2026-01-31T23:30:00-05:00'), 'UTC')` → "2026-02". */
export function monthKeyOfInstant(epochMs: number, tz: string): string {
  if (!Number.isFinite(epochMs)) throw new TimeError(String(epochMs), 'is not an instant');
  return monthKeyFromNumber(monthNumberOfInstant(epochMs, tz));
}

/** Every month key from `fromKey` to `toKey` inclusive, ascending. Throws when from is after to. */
export function monthRange(fromKey: string, toKey: string): string[] {
  const from = monthNumberFromKey(fromKey);
  const to = monthNumberFromKey(toKey);
  if (from > to) throw new TimeError(fromKey, `is after ${toKey}`);
  const keys: string[] = [];
  for (let m = from; m <= to; m++) keys.push(monthKeyFromNumber(m));
  return keys;
}

/**
 * Epoch ms of the first instant of calendar day `ymd` (YYYY-MM-DD) in `tz` — 00:00 local, or, where
 * a DST gap skips midnight (e.g. America/Santiago), the moment the day actually starts. When 00:00
 * happens twice, the earlier one. Used to store calendar-day transactions as instants.
 */
export function zonedMidnight(ymd: string, tz: string): number {
  const { year, month, day } = parseCalendarDay(ymd);
  return zonedInstant({ year, month, day, hour: 0, minute: 0, second: 0 }, tz);
}

/** A wall-clock reading in some zone: what a merchant types ("Nov 20, 09:00") and what calendars add to. */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall clock of an instant in `tz` (whole seconds). */
export function wallTimeOf(epochMs: number, tz: string): WallTime {
  if (!Number.isFinite(epochMs)) throw new TimeError(String(epochMs), 'is not an instant');
  if (tz === 'UTC') {
    const d = new Date(epochMs);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
    };
  }
  const [year, month, day, hour, minute, second] = clockFor(tz).fields(epochMs);
  return { year, month, day, hour, minute, second };
}

/**
 * The instant a wall-clock reading names in `tz`. Where the reading happens twice (clocks go back),
 * the earlier; where it never happens (clocks go forward), the moment the gap ends — the same
 * choices as {@link zonedMidnight}, so "09:00 on the day DST starts" is always an instant.
 */
export function zonedInstant(wall: WallTime, tz: string): number {
  const local =
    daysFromCivil(wall.year, wall.month, wall.day) * MS_PER_DAY +
    ((wall.hour * 60 + wall.minute) * 60 + wall.second) * 1000;
  if (tz === 'UTC') return local;
  const clock = clockFor(tz);
  // Offsets in force a day either side cover any single transition near the reading.
  const before = clock.offsetMs(local - MS_PER_DAY);
  const after = clock.offsetMs(local + MS_PER_DAY);
  const candidates = [local - before, local - after]
    .filter((t, i) => clock.offsetMs(t) === (i === 0 ? before : after))
    .sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0]!;
  // A gap: the reading never happens. Read with the earlier offset it lands after the transition
  // (02:30 → 03:30 when clocks jump 02:00 → 03:00), with the later one before it; the gap ends at
  // the transition between them. Offsets change on whole seconds: bisect to the second.
  let lo = local - after; // still the earlier offset
  let hi = local - before; // already the later offset
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (clock.offsetMs(mid) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * `months` calendar months after (or, negative, before) an instant on `tz`'s wall clock: the same
 * local time, the day clamped to the target month (Mar 31 − 1 month → Feb 28/29). Across a DST
 * change the result is the same wall time, not the same number of hours.
 */
export function addZonedMonths(epochMs: number, months: number, tz: string): number {
  const wall = wallTimeOf(epochMs, tz);
  const index = wall.year * 12 + (wall.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = index - year * 12 + 1;
  const day = Math.min(wall.day, daysInMonth(year, month));
  return (
    zonedInstant({ ...wall, year, month, day }, tz) + (epochMs - Math.floor(epochMs / 1000) * 1000)
  );
}

/** `days` calendar days after an instant on `tz`'s wall clock (same local time; DST-safe). */
export function addZonedDays(epochMs: number, days: number, tz: string): number {
  const wall = wallTimeOf(epochMs, tz);
  const civil = daysFromCivil(wall.year, wall.month, wall.day) + days;
  const d = new Date(civil * MS_PER_DAY);
  return (
    zonedInstant(
      { ...wall, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() },
      tz,
    ) +
    (epochMs - Math.floor(epochMs / 1000) * 1000)
  );
}

/** The first instant of the calendar year `year` in `tz` (Jan 1, 00:00 local). */
export function zonedYearStart(year: number, tz: string): number {
  return zonedMidnight(`${String(year).padStart(4, '0')}-01-01`, tz);
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface CalendarDay {
  year: number;
  month: number;
  day: number;
}

/** Strict YYYY-MM-DD (a real day: 2026-02-30 is rejected). */
export function parseCalendarDay(text: string): CalendarDay {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) throw new TimeError(text, 'is not a calendar day (YYYY-MM-DD)');
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new TimeError(text, 'is not a real calendar day');
  }
  return { year, month, day };
}

/** Reads 2 ASCII digits at `i`, or -1. */
function two(buf: Uint8Array, i: number): number {
  const a = buf[i]! - 48;
  const b = buf[i + 1]! - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Reads 4 ASCII digits at `i`, or -1. */
function four(buf: Uint8Array, i: number): number {
  const hi = two(buf, i);
  const lo = two(buf, i + 2);
  return hi >= 0 && lo >= 0 ? hi * 100 + lo : -1;
}

/**
 * Allocation-free YYYY-MM-DD in `buf[start..end)` → `year*10000 + month*100 + day`, or -1 when it is
 * not a real calendar day.
 */
export function parseDayBytes(buf: Uint8Array, start: number, end: number): number {
  if (end - start !== 10 || buf[start + 4] !== 45 || buf[start + 7] !== 45) return -1;
  const year = four(buf, start);
  const month = two(buf, start + 5);
  const day = two(buf, start + 8);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return -1;
  return year * 10000 + month * 100 + day;
}

/**
 * Allocation-free strict ISO 8601 instant in `buf[start..end)` → epoch ms, or NaN.
 * Form: `YYYY-MM-DDTHH:MM[:SS[.fraction]]` then `Z` or `±HH:MM`. The fraction (1–9 digits) is
 * truncated to milliseconds. With `shopifyStyle`, also `YYYY-MM-DD HH:MM:SS ±HHMM` (Shopify's CSV
 * exports) — and only that.
 */
export function parseInstantBytes(
  buf: Uint8Array,
  start: number,
  end: number,
  shopifyStyle = false,
): number {
  if (end - start < 17 || buf[start + 4] !== 45 || buf[start + 7] !== 45) return NaN;
  const year = four(buf, start);
  const month = two(buf, start + 5);
  const day = two(buf, start + 8);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
  const sep = buf[start + 10];
  if (shopifyStyle ? sep !== 32 : sep !== 84) return NaN; // ' ' or 'T'
  const hour = two(buf, start + 11);
  const minute = two(buf, start + 14);
  if (buf[start + 13] !== 58 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return NaN;
  let i = start + 16;
  let second = 0;
  let ms = 0;
  if (buf[i] === 58) {
    second = two(buf, i + 1);
    if (second < 0 || second > 59) return NaN; // leap seconds are not representable in epoch ms
    i += 3;
    if (!shopifyStyle && buf[i] === 46 && i < end) {
      i++;
      let digits = 0;
      while (i < end && buf[i]! >= 48 && buf[i]! <= 57) {
        if (digits < 3) ms = ms * 10 + (buf[i]! - 48);
        digits++;
        i++;
      }
      if (digits === 0 || digits > 9) return NaN;
      for (let d = digits; d < 3; d++) ms *= 10;
    }
  } else if (shopifyStyle) {
    return NaN;
  }
  let offsetMinutes: number;
  if (shopifyStyle) {
    // " -0500"
    if (end - i !== 6 || buf[i] !== 32) return NaN;
    const sign = buf[i + 1] === 43 ? 1 : buf[i + 1] === 45 ? -1 : 0;
    const oh = two(buf, i + 2);
    const om = two(buf, i + 4);
    if (sign === 0 || oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMinutes = sign * (oh * 60 + om);
  } else if (end - i === 1 && buf[i] === 90) {
    offsetMinutes = 0; // 'Z'
  } else {
    if (end - i !== 6 || buf[i + 3] !== 58) return NaN;
    const sign = buf[i] === 43 ? 1 : buf[i] === 45 ? -1 : 0;
    const oh = two(buf, i + 1);
    const om = two(buf, i + 4);
    if (sign === 0 || oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offsetMinutes = sign * (oh * 60 + om);
  }
  return (
    daysFromCivil(year, month, day) * MS_PER_DAY +
    ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 +
    ms
  );
}

function asciiBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    bytes[i] = code < 128 ? code : 0;
  }
  return bytes;
}

/** Why an instant text was rejected (error path only). */
function instantReason(text: string, shopifyStyle: boolean): string {
  const day = text.slice(0, 10);
  if (/^\d{4}-\d{2}-\d{2}$/.test(day) && parseDayBytes(asciiBytes(day), 0, 10) < 0) {
    return 'is not a real calendar day';
  }
  const withoutOffset = shopifyStyle
    ? /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
  if (withoutOffset.test(text)) return "has no UTC offset; add 'Z' or '±HH:MM'";
  if (shopifyStyle) {
    return "is not a timestamp like '2026-01-15 10:23:45 -0500' or '2026-01-15T10:23:45-05:00'";
  }
  return "is not an ISO 8601 instant like '2026-01-31T23:30:00-05:00' or '2026-01-31T23:30:00Z'";
}

/**
 * Strict ISO 8601 instant with an explicit offset → epoch ms.
 * `parseIsoInstant('2026-01-31T23:30:00-05:00')` → Date.UTC(2026, 1, 1, 4, 30). Throws TimeError for
 * impossible dates (2026-02-30), missing offsets and anything looser.
 */
export function parseIsoInstant(text: string): number {
  const ms = parseInstantBytes(asciiBytes(text), 0, text.length);
  if (Number.isNaN(ms)) throw new TimeError(text, instantReason(text, false));
  return ms;
}

/** Shopify export timestamp `2026-01-15 10:23:45 -0500` → epoch ms; throws TimeError. */
export function parseShopifyTimestamp(text: string): number {
  const ms = parseInstantBytes(asciiBytes(text), 0, text.length, true);
  if (Number.isNaN(ms)) throw new TimeError(text, instantReason(text, true));
  return ms;
}

/** The reason a date cell (a calendar day or an ISO instant) was rejected, for error messages. */
export function dateReason(text: string, shopifyStyle = false): string {
  if (text === '') return 'is empty';
  if (text.length === 10) {
    try {
      parseCalendarDay(text);
    } catch (error) {
      return (error as TimeError).reason;
    }
  }
  return instantReason(text, shopifyStyle);
}

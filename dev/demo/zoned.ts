/**
 * Wall-clock time in an IANA zone, for writing timestamps the way Shopify does
 * (`2026-03-14T10:15:00-04:00`, the shop's offset) and bucketing instants into the shop's months.
 * Deliberately separate from loyalty/time.ts: the expected results check that module's answers.
 */

const MS_PER_MINUTE = 60_000;
const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(tz: string): Intl.DateTimeFormat {
  let format = formats.get(tz);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(tz, format);
  }
  return format;
}

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall clock in `tz` at an instant (whole seconds). */
export function wallClock(epochMs: number, tz: string): WallClock {
  const out: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatFor(tz).formatToParts(epochMs)) {
    if (part.type in out) out[part.type as keyof WallClock] = Number(part.value);
  }
  return out;
}

/** The zone's offset from UTC at an instant, in whole minutes (−240 for New York in summer). */
export function offsetMinutes(epochMs: number, tz: string): number {
  const w = wallClock(epochMs, tz);
  const wallAsUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((wallAsUtc - Math.floor(epochMs / 1000) * 1000) / MS_PER_MINUTE);
}

/**
 * The instant a wall-clock time happens in `tz`. In a DST gap (02:30 on a spring-forward day) the
 * time does not exist and the result reads it with the earlier offset; when it happens twice,
 * the earlier instant.
 */
export function zonedInstant(
  tz: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): number {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const before = offsetMinutes(asUtc - 86_400_000, tz);
  const after = offsetMinutes(asUtc + 86_400_000, tz);
  const candidates = [asUtc - before * MS_PER_MINUTE, asUtc - after * MS_PER_MINUTE]
    .filter((t, i) => offsetMinutes(t, tz) === (i === 0 ? before : after))
    .sort((a, b) => a - b);
  return candidates[0] ?? asUtc - before * MS_PER_MINUTE;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026-03-14T10:15:00-04:00`: the instant on the zone's wall clock with its offset. */
export function isoInZone(epochMs: number, tz: string): string {
  const w = wallClock(epochMs, tz);
  const offset = offsetMinutes(epochMs, tz);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** "YYYY-MM" of an instant in `tz`. */
export function monthOfInstant(epochMs: number, tz: string): string {
  const w = wallClock(epochMs, tz);
  return `${pad(w.year, 4)}-${pad(w.month)}`;
}

/** "YYYY-MM" moved by `n` months. */
export function addMonths(key: string, n: number): string {
  const m = /^(\d{4})-(\d{2})$/.exec(key);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) {
    throw new Error(`'${key}' is not a month (YYYY-MM)`);
  }
  const index = Number(m[1]) * 12 + Number(m[2]) - 1 + n;
  return `${pad(Math.floor(index / 12), 4)}-${pad((index % 12) + 1)}`;
}

/** The instant month `key` starts in `tz` (its first day, 00:00 local). */
export function monthStart(key: string, tz: string): number {
  addMonths(key, 0); // validates
  return zonedInstant(tz, Number(key.slice(0, 4)), Number(key.slice(5, 7)), 1);
}

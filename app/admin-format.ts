/**
 * How the admin pages show figures: money in the shop's currency and the admin user's locale,
 * instants in the shop's timezone, points as grouped integers. Isomorphic (loaders format on the
 * server; components may format what they compute in the browser, e.g. a live preview), so no
 * `.server` suffix. Formatters are cached per (locale, currency|timezone): Intl objects are costly
 * to build and a report page formats thousands of cells.
 */
import { currencyDigits, formatMoney } from '../loyalty/money';

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function cached<T extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => T): T {
  let format = cache.get(key) as T | undefined;
  if (!format) cache.set(key, (format = make()));
  return format;
}

/** `12010, 'USD', 'en-US'` → `$120.10`; exact (formats the decimal text, never a float). */
export function formatMinor(minor: number, currency: string, locale: string): string {
  const format = cached(`money ${locale} ${currency}`, () => {
    const digits = currencyDigits(currency);
    return new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  });
  // Intl.NumberFormat formats decimal strings exactly (ES2023); the lib types still say number.
  return format.format(formatMoney(minor, currency) as unknown as number);
}

/** `1234567, 'en-US'` → `1,234,567`. */
export function formatInteger(value: number, locale: string): string {
  return cached(`int ${locale}`, () => new Intl.NumberFormat(locale)).format(value);
}

/** A share as a percentage with one decimal: `0.4567` → `45.7%`; null (no denominator) → `—`. */
export function formatShare(share: number | null, locale: string): string {
  if (share === null || !Number.isFinite(share)) return '—';
  return cached(
    `pct ${locale}`,
    () => new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }),
  ).format(share);
}

/** An instant (Date or ISO 8601) as date and time in the shop's timezone: `Nov 20, 2026, 9:00 AM`. */
export function formatInstant(instant: Date | string, timezone: string, locale: string): string {
  return cached(
    `instant ${locale} ${timezone}`,
    () =>
      new Intl.DateTimeFormat(locale, {
        dateStyle: 'medium',
        timeStyle: 'short',
        timeZone: timezone,
      }),
  ).format(typeof instant === 'string' ? new Date(instant) : instant);
}

/** A shop-local day `YYYY-MM-DD` as a date: `Nov 20, 2026` (the day as is, no timezone shift). */
export function formatDay(day: string, locale: string): string {
  return cached(
    `day ${locale}`,
    () => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }),
  ).format(new Date(`${day}T00:00:00Z`));
}

/** A shop-local month `YYYY-MM` as `Nov 2026`. */
export function formatMonth(month: string, locale: string): string {
  return cached(
    `month ${locale}`,
    () => new Intl.DateTimeFormat(locale, { month: 'short', year: 'numeric', timeZone: 'UTC' }),
  ).format(new Date(`${month}-01T00:00:00Z`));
}

/**
 * The expiry reminder as an email: subject, plain text and a small HTML part, in the reminder's
 * locale. Pure (no I/O): app/notify/email.server.ts sends what this builds. Every string is here,
 * in both languages, as loyalty/explain.ts keeps the ledger's. docs/notifications.md.
 *
 * The date is the reminder's `lastDay` (the shop's local calendar day, "Sunday 31 January 2027"),
 * checked against `expiresAt`: the points must expire at the shop's midnight that ends that day,
 * or the member would be told the wrong day, so a reminder where the two disagree is refused.
 */
import {
  formatPoints,
  isStorefrontLocale,
  STOREFRONT_LOCALES,
  type StorefrontLocale,
} from '../../loyalty/explain';
import { isValidTimeZone, parseCalendarDay, zonedMidnight } from '../../loyalty/time';
import type { ExpiryReminder } from './notifier';

/** A reminder the caller built wrong (a bug, not a delivery failure): never worth retrying. */
export class ReminderInputError extends Error {
  readonly transient = false;
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`expiry reminder ${field} ${problem}`);
    this.name = 'ReminderInputError';
  }
}

export interface ReminderEmailContent {
  locale: StorefrontLocale;
  subject: string;
  text: string;
  html: string;
}

interface EmailPhrases {
  /** "1,250 points at Laurel Demo: use them by Sunday 31 January 2027". */
  subject(points: string, many: boolean, shop: string, day: string): string;
  greeting(firstName: string | null): string;
  /** The sentence that says what expires when. */
  expiring(points: string, many: boolean, shop: string, day: string): string;
  balance(points: string): string;
  /** The link's words. */
  action(shop: string): string;
  /** Why the member receives this. */
  why(shop: string): string;
}

const PHRASES: Record<StorefrontLocale, EmailPhrases> = {
  en: {
    subject: (points, many, shop, day) =>
      `${points} at ${shop}: use ${many ? 'them' : 'it'} by ${day}`,
    greeting: (name) => (name ? `Hello ${name},` : 'Hello,'),
    expiring: (points, many, shop, day) =>
      `${points} of your balance at ${shop} ${many ? 'expire' : 'expires'} at the end of ${day}.`,
    balance: (points) => `Your balance: ${points}.`,
    action: (shop) => `Use your points at ${shop}`,
    why: (shop) => `You receive this email because you are a member of ${shop}'s loyalty program.`,
  },
  fr: {
    subject: (points, _many, shop, day) =>
      `${points} chez ${shop}\u00a0: à utiliser au plus tard le ${day}`,
    greeting: (name) => (name ? `Bonjour ${name},` : 'Bonjour,'),
    expiring: (points, many, shop, day) =>
      `${points} de votre solde chez ${shop} ${many ? 'expirent' : 'expire'} à la fin du ${day}.`,
    balance: (points) => `Votre solde\u00a0: ${points}.`,
    action: (shop) => `Utiliser vos points chez ${shop}`,
    why: (shop) =>
      `Vous recevez ce message parce que vous êtes membre du programme de fidélité de ${shop}.`,
  },
};

/** The language of a reminder: `fr`, `fr-CA` → fr; anything unknown → en (the default). */
export function reminderLocale(locale: string): StorefrontLocale {
  const language = locale.toLowerCase().split(/[-_]/)[0] ?? '';
  return isStorefrontLocale(language) ? language : STOREFRONT_LOCALES[0];
}

const dayFormats = new Map<StorefrontLocale, Intl.DateTimeFormat>();

/** A calendar day written out: "Sunday 31 January 2027", "dimanche 31 janvier 2027". */
export function formatLongDay(ymd: string, locale: StorefrontLocale): string {
  const { year, month, day } = parseCalendarDay(ymd);
  let format = dayFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : locale, {
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    });
    dayFormats.set(locale, format);
  }
  // Assembled from the parts: ICU versions differ on the comma after the weekday in en-GB.
  const parts = format.formatToParts(Date.UTC(year, month - 1, day));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value;
  return [part('weekday'), part('day'), part('month'), part('year')].join(' ');
}

/** The calendar day after `ymd` (YYYY-MM-DD). */
function nextDay(ymd: string): string {
  const { year, month, day } = parseCalendarDay(ymd);
  return new Date(Date.UTC(year, month - 1, day + 1)).toISOString().slice(0, 10);
}

/**
 * Throws ReminderInputError naming the field when the reminder cannot be written truthfully:
 * points not a positive integer, an unknown time zone, a last day that does not end at
 * `expiresAt` in that zone, a storefront link that is not http(s).
 */
export function checkReminder(reminder: ExpiryReminder): void {
  if (!Number.isSafeInteger(reminder.points) || reminder.points <= 0) {
    throw new ReminderInputError('points', `must be a positive integer; got ${reminder.points}`);
  }
  if (!Number.isSafeInteger(reminder.balance)) {
    throw new ReminderInputError('balance', `must be an integer; got ${reminder.balance}`);
  }
  if (!isValidTimeZone(reminder.shop.timezone)) {
    throw new ReminderInputError(
      'shop.timezone',
      `is not an IANA time zone: ${reminder.shop.timezone}`,
    );
  }
  let endOfLastDay: number;
  try {
    endOfLastDay = zonedMidnight(nextDay(reminder.lastDay), reminder.shop.timezone);
  } catch {
    throw new ReminderInputError(
      'lastDay',
      `must be a calendar day YYYY-MM-DD; got ${reminder.lastDay}`,
    );
  }
  const expiresAt: unknown = reminder.expiresAt;
  if (!(expiresAt instanceof Date) || expiresAt.getTime() !== endOfLastDay) {
    const got =
      expiresAt instanceof Date && !Number.isNaN(expiresAt.getTime())
        ? expiresAt.toISOString()
        : String(expiresAt);
    throw new ReminderInputError(
      'expiresAt',
      `must be the end of lastDay ${reminder.lastDay} in ${reminder.shop.timezone} ` +
        `(${new Date(endOfLastDay).toISOString()}); got ${got}`,
    );
  }
  let url: URL | undefined;
  try {
    url = new URL(reminder.storefrontUrl);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ReminderInputError(
      'storefrontUrl',
      `must be an http(s) URL; got ${reminder.storefrontUrl}`,
    );
  }
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** One line of shop-provided text: no line breaks (a name cannot add lines to the message). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The email for `reminder` (checked first: see checkReminder). */
export function reminderEmail(reminder: ExpiryReminder): ReminderEmailContent {
  checkReminder(reminder);
  const locale = reminderLocale(reminder.locale);
  const say = PHRASES[locale];
  const shop = oneLine(reminder.shop.name) || reminder.shop.domain;
  const firstName = reminder.customer.firstName ? oneLine(reminder.customer.firstName) : '';
  const points = formatPoints(reminder.points, locale);
  const many = reminder.points !== 1;
  const day = formatLongDay(reminder.lastDay, locale);
  const url = new URL(reminder.storefrontUrl).href;

  const paragraphs = {
    greeting: say.greeting(firstName || null),
    expiring: say.expiring(points, many, shop, day),
    balance: say.balance(formatPoints(reminder.balance, locale)),
    action: say.action(shop),
    why: say.why(shop),
  };
  const subject = say.subject(points, many, shop, day);
  const text = [
    paragraphs.greeting,
    '',
    paragraphs.expiring,
    paragraphs.balance,
    '',
    `${paragraphs.action}: ${url}`,
    '',
    '-- ',
    paragraphs.why,
    '',
  ].join('\n');
  const e = escapeHtml;
  const html = [
    '<!doctype html>',
    `<html lang="${locale}">`,
    '<head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;font-family:system-ui,sans-serif;font-size:16px;line-height:1.5;color:#1f1f1f">',
    `<p>${e(paragraphs.greeting)}</p>`,
    `<p>${e(paragraphs.expiring)}<br>${e(paragraphs.balance)}</p>`,
    `<p><a href="${e(url)}" style="color:#1f5199">${e(paragraphs.action)}</a></p>`,
    `<p style="font-size:13px;color:#616161">${e(paragraphs.why)}</p>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return { locale, subject, text, html };
}

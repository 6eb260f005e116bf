/**
 * How a points-expiry reminder reaches a member (issue [10], docs/expiry.md "Reminders"). The
 * reminder run decides who is reminded of what and records it; a notifier only delivers one
 * reminder through one channel. Two implementations: email over SMTP (app/notify/email.server.ts)
 * and a customer `$app` metafield + tag at Shopify for Flow and email tools
 * (app/notify/shopify-customer.server.ts).
 */

export type NotifierChannel = 'email' | 'shopify';

export interface ExpiryReminder {
  shop: {
    domain: string;
    /** The shop's name as the merchant set it (for the email's sender name and text). */
    name: string;
    /** IANA zone: dates in the message are the shop's local dates. */
    timezone: string;
  };
  /** 'en' or 'fr' today: the member's locale when known, else the shop's. */
  locale: string;
  customer: {
    id: number;
    /** Shopify customer id (decimal string): what the metafield and tag are written on. */
    externalId: string;
    email: string | null;
    firstName: string | null;
  };
  /** Points that expire at `expiresAt` unless spent: the sum of `lots`. */
  points: number;
  /** The instant they expire (the shop's local midnight starting the day after `lastDay`). */
  expiresAt: Date;
  /** The last local day (YYYY-MM-DD) they can be used. */
  lastDay: string;
  /** The threshold that made this reminder: "N days before". */
  thresholdDays: number;
  /** The member's balance when the reminder was made. */
  balance: number;
  /** The lots (earn entries) expiring, with what remains of each. */
  lots: readonly { entryId: number; points: number }[];
  /** Where the shopper spends points (the shop's storefront URL, or its account page). */
  storefrontUrl: string;
}

export type NotifyOutcome =
  | { status: 'sent'; detail?: string }
  /** Delivered nowhere and never will be (no email address, not subscribed): recorded, not retried. */
  | { status: 'skipped'; reason: string };

/**
 * Delivers one reminder. Throws on a transient failure (SMTP down, Shopify throttled): the caller
 * retries later and must never record the reminder as sent.
 */
export interface Notifier {
  channel: NotifierChannel;
  notify(reminder: ExpiryReminder): Promise<NotifyOutcome>;
}

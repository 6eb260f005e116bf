import { createHash } from 'node:crypto';
import { createTransport } from 'nodemailer';
import type { Env } from '../env.server';
import type { ExpiryReminder, Notifier, NotifyOutcome } from './notifier';
import { reminderEmail } from './reminder-email';

/**
 * Expiry reminders by email over SMTP (nodemailer): one message per reminder, to the member's
 * address, from `"<shop name>" <REMINDER_FROM>`, in the reminder's locale (app/notify/
 * reminder-email.ts writes it). docs/notifications.md "Reminders: channels".
 *
 * Outcomes, as the Notifier contract asks:
 * - `sent` once the SMTP server accepted the message (detail: its Message-ID and the reply);
 * - `skipped` when it never can be: the member has no usable address, or the server refused the
 *   recipient or this message for good (a 5xx reply to RCPT TO or DATA: no such mailbox, mailbox
 *   disabled, message refused), with the server's reply as the reason;
 * - a throw for everything else, which the caller retries: a 4xx reply (greylisting, mailbox
 *   busy, rate limits), a refused or dropped connection, a timeout — and also a 5xx to anything
 *   but the recipient or the message (MAIL FROM, AUTH): that is the sender or the credentials
 *   being wrong, which would skip every member in turn if it were taken for a refusal of one.
 *   EmailDeliveryError.transient says which of the two it is.
 */

/** What the notifier needs of a nodemailer transport (a pooled SMTP one, or a test double). */
export interface MailTransport {
  sendMail(message: MailMessage): Promise<{ messageId?: string; response?: string }>;
  close?(): void;
}

/** The fields of a nodemailer message the notifier sets. */
export interface MailMessage {
  from: { name: string; address: string };
  to: { name: string; address: string };
  envelope: { from: string; to: string[] };
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
  disableFileAccess: true;
  disableUrlAccess: true;
}

export type EmailNotifierOptions = (
  | {
      /** smtp://user:pass@host:587 or smtps://…:465 (nodemailer's URL options too). */ smtpUrl: string;
      transport?: undefined;
    }
  | { transport: MailTransport; smtpUrl?: undefined }
) & {
  /** The sender address (REMINDER_FROM); the shop's name is its display name. */
  from: string;
  /** Per-step SMTP timeouts in ms (connect, greeting, idle socket). Default 10 s, 10 s, 30 s. */
  timeouts?: { connectionMs?: number; greetingMs?: number; socketMs?: number };
};

export interface EmailNotifier extends Notifier {
  channel: 'email';
  /** Closes the pooled SMTP connections (a worker at shutdown, a test). */
  close(): void;
}

/** A failed delivery the caller should retry (`transient`), or a configuration to fix. */
export class EmailDeliveryError extends Error {
  constructor(
    message: string,
    /** True: the same message may go through later unchanged (4xx, connection, timeout). */
    readonly transient: boolean,
    /** The SMTP reply code, when the server answered. */
    readonly responseCode: number | null,
    /** The SMTP command answered (`RCPT TO`, `MAIL FROM`, `CONN`…), when known. */
    readonly command: string | null,
    /** nodemailer's error code (`EENVELOPE`, `ECONNECTION`, `ETIMEDOUT`, `EAUTH`…), when any. */
    readonly smtpCode: string | null = null,
  ) {
    super(message);
    this.name = 'EmailDeliveryError';
  }
}

/**
 * Loose enough for every address Shopify accepts, strict enough that it is one address (no list,
 * no display name, no comment). REMINDER_FROM is checked with the same pattern (app/env.server.ts).
 */
const ADDRESS = /^[^\s@<>(),;:"\\[\]]+@[^\s@<>(),;:"\\[\]]+$/;

export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && ADDRESS.test(value);
}

export function createEmailNotifier(options: EmailNotifierOptions): EmailNotifier {
  if (!isEmailAddress(options.from)) {
    throw new Error(`email notifier from must be one email address; got '${options.from}'`);
  }
  const transport: MailTransport =
    options.transport ??
    (createTransport({
      url: options.smtpUrl,
      // One connection reused across a reminder run instead of a handshake per message.
      pool: true,
      maxConnections: 2,
      connectionTimeout: options.timeouts?.connectionMs ?? 10_000,
      greetingTimeout: options.timeouts?.greetingMs ?? 10_000,
      socketTimeout: options.timeouts?.socketMs ?? 30_000,
    }) as unknown as MailTransport);

  return {
    channel: 'email',
    close: () => transport.close?.(),
    async notify(reminder: ExpiryReminder): Promise<NotifyOutcome> {
      const email = reminderEmail(reminder);
      const address = reminder.customer.email?.trim() ?? '';
      if (address === '') return { status: 'skipped', reason: 'the member has no email address' };
      if (!isEmailAddress(address)) {
        return { status: 'skipped', reason: "the member's email address is not one valid address" };
      }
      const message: MailMessage = {
        from: { name: oneLine(reminder.shop.name) || reminder.shop.domain, address: options.from },
        to: {
          name: reminder.customer.firstName ? oneLine(reminder.customer.firstName) : '',
          address,
        },
        envelope: { from: options.from, to: [address] },
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: reminderMessageId(reminder),
        headers: {
          // RFC 3834: no out-of-office replies to an automatic message.
          'Auto-Submitted': 'auto-generated',
          'Content-Language': email.locale,
        },
        disableFileAccess: true,
        disableUrlAccess: true,
      };
      try {
        const info = await transport.sendMail(message);
        return {
          status: 'sent',
          detail: [info.messageId ?? message.messageId, info.response].filter(Boolean).join(' '),
        };
      } catch (error) {
        const failure = classifySmtpFailure(error, address);
        if (failure.skip) return { status: 'skipped', reason: failure.reason };
        throw failure.error;
      }
    },
  };
}

/**
 * The same reminder always gets the same Message-ID (shop, member, last day, threshold, lots):
 * a message sent again after an ambiguous failure (the connection dropped after the server took
 * it) can be recognised as a duplicate by the receiving side.
 */
export function reminderMessageId(reminder: ExpiryReminder): string {
  const lots = reminder.lots.map((l) => l.entryId).sort((a, b) => a - b);
  const digest = createHash('sha256')
    .update(
      JSON.stringify([
        reminder.shop.domain,
        reminder.customer.id,
        reminder.lastDay,
        reminder.thresholdDays,
        lots,
      ]),
    )
    .digest('hex')
    .slice(0, 24);
  return `<laurel-expiry-${digest}@${reminder.shop.domain}>`;
}

interface SmtpErrorFields {
  code?: unknown;
  responseCode?: unknown;
  response?: unknown;
  command?: unknown;
}

/**
 * skip: the server refused this recipient or message for good; otherwise the error to throw. The
 * server's reply is kept with the recipient's address replaced by `<recipient>`: reasons and
 * errors are recorded and logged, and never carry an email address (docs/privacy.md).
 */
export function classifySmtpFailure(
  error: unknown,
  recipient?: string,
): { skip: true; reason: string } | { skip: false; error: EmailDeliveryError } {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as SmtpErrorFields;
  const responseCode = typeof fields.responseCode === 'number' ? fields.responseCode : null;
  const command = typeof fields.command === 'string' ? fields.command : null;
  const hide = (text: string) =>
    recipient ? replaceAllInsensitive(text, recipient, '<recipient>') : text;
  const reply = typeof fields.response === 'string' ? hide(fields.response.trim()) : null;
  const permanent = responseCode !== null && responseCode >= 500 && responseCode <= 599;
  if (permanent && (command === 'RCPT TO' || command === 'DATA')) {
    const what = command === 'RCPT TO' ? 'refused the recipient' : 'refused the message';
    return { skip: true, reason: `the SMTP server ${what}: ${reply ?? responseCode}` };
  }
  const code = typeof fields.code === 'string' ? fields.code : null;
  const detail = reply ?? hide(error instanceof Error ? error.message : String(error));
  const transient = !permanent && code !== 'EAUTH' && code !== 'ECONFIG';
  const message = permanent
    ? `the SMTP server refused ${command ?? 'the session'} (${responseCode}); check SMTP_URL and REMINDER_FROM: ${detail}`
    : `email not sent${code ? ` (${code})` : ''}: ${detail}`;
  return {
    skip: false,
    // No `cause`: nodemailer's error repeats the reply with the address in it.
    error: new EmailDeliveryError(message, transient, responseCode, command, code),
  };
}

function replaceAllInsensitive(text: string, find: string, replacement: string): string {
  const escaped = find.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(escaped, 'gi'), replacement);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------
// Configuration

export type EmailChannelStatus =
  { available: true; from: string } | { available: false; reason: string };

/**
 * Whether reminders can go by email in this process, for the settings page where the merchant
 * turns the channel on: without SMTP_URL it is off, and says why.
 */
export function emailChannelStatus(e: Pick<Env, 'SMTP_URL' | 'REMINDER_FROM'>): EmailChannelStatus {
  if (!e.SMTP_URL) {
    return {
      available: false,
      reason: 'Email reminders are off: SMTP_URL is not set for this Laurel installation.',
    };
  }
  return { available: true, from: reminderFrom(e) };
}

/**
 * The sender address: REMINDER_FROM; else the SMTP user when it is an address (most providers
 * only send as the account that logged in); else no-reply@<SMTP host> (localhost for an IP).
 */
export function reminderFrom(e: Pick<Env, 'SMTP_URL' | 'REMINDER_FROM'>): string {
  if (e.REMINDER_FROM) return e.REMINDER_FROM;
  const url = e.SMTP_URL ? new URL(e.SMTP_URL) : null;
  const user = url ? decodeURIComponent(url.username) : '';
  if (isEmailAddress(user)) return user;
  const host = url?.hostname ?? '';
  const isName = /[a-z]/i.test(host) && !host.includes(':') && !host.startsWith('[');
  return `no-reply@${isName ? host : 'localhost'}`;
}

/** The email notifier configured by the environment, or null when SMTP_URL is unset. */
export function emailNotifierFromEnv(
  e: Pick<Env, 'SMTP_URL' | 'REMINDER_FROM'>,
): EmailNotifier | null {
  if (!e.SMTP_URL) return null;
  return createEmailNotifier({ smtpUrl: e.SMTP_URL, from: reminderFrom(e) });
}

import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMailSink, type MailSink } from '../../dev/mail-sink';
import { EnvError, parseEnv } from '../env.server';
import {
  classifySmtpFailure,
  createEmailNotifier,
  EmailDeliveryError,
  emailChannelStatus,
  emailNotifierFromEnv,
  isEmailAddress,
  reminderFrom,
  reminderMessageId,
  type EmailNotifier,
} from './email.server';
import type { ExpiryReminder } from './notifier';
import { ReminderInputError } from './reminder-email';

let sink: MailSink;
const notifiers: EmailNotifier[] = [];

beforeAll(async () => {
  sink = await startMailSink();
});
afterEach(() => {
  for (const notifier of notifiers.splice(0)) notifier.close();
  sink.clear();
});
afterAll(async () => {
  await sink?.close();
});

function notifier(url = sink.url): EmailNotifier {
  const created = createEmailNotifier({
    smtpUrl: url,
    from: 'rewards@laurel-demo.example',
    timeouts: { connectionMs: 2_000, greetingMs: 2_000, socketMs: 5_000 },
  });
  notifiers.push(created);
  return created;
}

/** 1,250 of 3,400 points expiring at the end of Sunday 31 January 2027 in Paris (CET, UTC+1). */
function reminder(overrides: Partial<ExpiryReminder> = {}): ExpiryReminder {
  return {
    shop: { domain: 'laurel-demo.myshopify.com', name: 'Laurel Demo', timezone: 'Europe/Paris' },
    locale: 'en',
    customer: { id: 42, externalId: '1001', email: 'ada@example.com', firstName: 'Ada' },
    points: 1250,
    expiresAt: new Date('2027-01-31T23:00:00Z'),
    lastDay: '2027-01-31',
    thresholdDays: 30,
    balance: 3400,
    lots: [
      { entryId: 7, points: 1000 },
      { entryId: 9, points: 250 },
    ],
    storefrontUrl: 'https://laurel-demo.myshopify.com/account',
    ...overrides,
  };
}

describe('email notifier: the message received', () => {
  it('sends one message with the sender, recipient, headers and English text and HTML', async () => {
    const outcome = await notifier().notify(reminder());
    const [message, ...others] = sink.messages();
    expect(others).toEqual([]);
    expect(message!.envelopeFrom).toBe('rewards@laurel-demo.example');
    expect(message!.envelopeTo).toEqual(['ada@example.com']);
    expect(message!.header('from')).toBe('Laurel Demo <rewards@laurel-demo.example>');
    expect(message!.header('to')).toBe('Ada <ada@example.com>');
    expect(message!.subject).toBe(
      '1,250 points at Laurel Demo: use them by Sunday 31 January 2027',
    );
    expect(message!.header('auto-submitted')).toBe('auto-generated');
    expect(message!.header('content-language')).toBe('en');
    expect(message!.header('message-id')).toBe(reminderMessageId(reminder()));
    expect(message!.text).toBe(
      [
        'Hello Ada,',
        '',
        '1,250 points of your balance at Laurel Demo expire at the end of Sunday 31 January 2027.',
        'Your balance: 3,400 points.',
        '',
        'Use your points at Laurel Demo: https://laurel-demo.myshopify.com/account',
        '',
        '-- ',
        "You receive this email because you are a member of Laurel Demo's loyalty program.",
        '',
      ].join('\n'),
    );
    expect(message!.html).toContain('<html lang="en">');
    expect(message!.html).toContain(
      '<a href="https://laurel-demo.myshopify.com/account" style="color:#1f5199">Use your points at Laurel Demo</a>',
    );
    // No tracking: no images, no remote resources, no link but the storefront's.
    expect(message!.html).not.toMatch(/<img|src=|url\(/i);
    expect(message!.html!.match(/href="([^"]*)"/g)).toEqual([
      'href="https://laurel-demo.myshopify.com/account"',
    ]);
    expect(outcome).toEqual({
      status: 'sent',
      detail: expect.stringContaining(reminderMessageId(reminder())),
    });
  });

  it('writes French for a French member: grouping, date, singular and plural', async () => {
    await notifier().notify(reminder({ locale: 'fr-CA' }));
    await notifier().notify(
      reminder({ locale: 'fr', points: 1, balance: 1, lots: [{ entryId: 7, points: 1 }] }),
    );
    const [many, one] = sink.messages();
    // fr groups thousands with a narrow no-break space (U+202F).
    expect(many!.subject).toBe(
      '1\u202f250 points chez Laurel Demo\u00a0: à utiliser au plus tard le dimanche 31 janvier 2027',
    );
    expect(many!.header('content-language')).toBe('fr');
    expect(many!.text).toContain(
      '1\u202f250 points de votre solde chez Laurel Demo expirent à la fin du dimanche 31 janvier 2027.',
    );
    expect(many!.text).toContain('Votre solde\u00a0: 3\u202f400 points.');
    expect(many!.html).toContain('<html lang="fr">');
    expect(one!.text).toContain('1 point de votre solde chez Laurel Demo expire à la fin du');
    expect(one!.text).toContain('Votre solde\u00a0: 1 point.');
  });

  it('escapes the shop and member names in the HTML and keeps them on one header line', async () => {
    await notifier().notify(
      reminder({
        shop: {
          domain: 'laurel-demo.myshopify.com',
          name: 'Ben & "Jerry\'s" <b>Shop</b>\r\nBcc: victim@example.com',
          timezone: 'Europe/Paris',
        },
        customer: {
          id: 42,
          externalId: '1001',
          email: 'ada@example.com',
          firstName: '<script>alert(1)</script>',
        },
      }),
    );
    const [message] = sink.messages();
    expect(message!.html).not.toContain('<script>');
    expect(message!.html).not.toContain('<b>');
    expect(message!.html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;,');
    expect(message!.html).toContain(
      'Ben &amp; &quot;Jerry&#39;s&quot; &lt;b&gt;Shop&lt;/b&gt; Bcc: victim@example.com',
    );
    // The line break in the name is gone: no header was injected, one recipient only.
    expect(message!.headers.has('bcc')).toBe(false);
    expect(message!.envelopeTo).toEqual(['ada@example.com']);
    expect(message!.header('from')).toContain('Bcc: victim@example.com');
    expect(message!.text).toContain('Hello <script>alert(1)</script>,');
  });

  it.each([
    // Paris springs forward on 28 March 2027: the day before ends at 23:00Z, that day at 22:00Z.
    ['Europe/Paris', '2027-03-27', '2027-03-27T23:00:00Z', 'Saturday 27 March 2027'],
    ['Europe/Paris', '2027-03-28', '2027-03-28T22:00:00Z', 'Sunday 28 March 2027'],
    // New York falls back on 1 November 2026: 31 October ends at 04:00Z, 1 November at 05:00Z.
    ['America/New_York', '2026-10-31', '2026-11-01T04:00:00Z', 'Saturday 31 October 2026'],
    ['America/New_York', '2026-11-01', '2026-11-02T05:00:00Z', 'Sunday 1 November 2026'],
  ])('in %s, points used until %s (expiring %s) read %s', async (timezone, lastDay, at, day) => {
    await notifier().notify(
      reminder({
        shop: { domain: 'laurel-demo.myshopify.com', name: 'Laurel Demo', timezone },
        lastDay,
        expiresAt: new Date(at),
      }),
    );
    const [message] = sink.messages();
    expect(message!.subject).toBe(`1,250 points at Laurel Demo: use them by ${day}`);
    expect(message!.text).toContain(`expire at the end of ${day}.`);
  });

  it('refuses a reminder whose last day does not end when the points expire, sending nothing', async () => {
    // Midnight UTC is 01:00 in Paris: the points would still be usable on the 29th there.
    const wrong = reminder({ lastDay: '2027-03-28', expiresAt: new Date('2027-03-29T00:00:00Z') });
    const failure = await notifier()
      .notify(wrong)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ReminderInputError);
    expect((failure as ReminderInputError).field).toBe('expiresAt');
    expect((failure as Error).message).toContain('2027-03-28T22:00:00.000Z');
    await expect(notifier().notify(reminder({ points: 0 }))).rejects.toThrow(/points/);
    await expect(notifier().notify(reminder({ expiresAt: new Date(NaN) }))).rejects.toThrow(
      /expiresAt must be the end of lastDay 2027-01-31 in Europe\/Paris .*; got Invalid Date/,
    );
    await expect(notifier().notify(reminder({ lastDay: '2027-02-30' }))).rejects.toThrow(
      /lastDay must be a calendar day/,
    );
    await expect(
      notifier().notify(reminder({ storefrontUrl: 'javascript:alert(1)' })),
    ).rejects.toThrow(/storefrontUrl/);
    expect(sink.messages()).toEqual([]);
  });

  it('gives the same reminder the same Message-ID, another threshold or lot another one', () => {
    const id = reminderMessageId(reminder());
    expect(id).toMatch(/^<laurel-expiry-[0-9a-f]{24}@laurel-demo\.myshopify\.com>$/);
    expect(reminderMessageId(reminder({ lots: [...reminder().lots].reverse() }))).toBe(id);
    expect(reminderMessageId(reminder({ thresholdDays: 7 }))).not.toBe(id);
    expect(reminderMessageId(reminder({ lots: [{ entryId: 7, points: 1250 }] }))).not.toBe(id);
  });
});

describe('email notifier: members and servers that cannot take it', () => {
  it('skips a member without a usable email address, sending nothing', async () => {
    const send = notifier();
    const none = reminder({ customer: { ...reminder().customer, email: null } });
    expect(await send.notify(none)).toEqual({
      status: 'skipped',
      reason: 'the member has no email address',
    });
    const list = reminder({ customer: { ...reminder().customer, email: 'a@x.com, b@y.com' } });
    expect(await send.notify(list)).toEqual({
      status: 'skipped',
      reason: "the member's email address is not one valid address",
    });
    expect(sink.messages()).toEqual([]);
  });

  it('throws on a 4xx answer (transient: retried), and nothing is received', async () => {
    sink.refuseRecipient('ada@example.com', {
      code: 451,
      message: 'Greylisted ada@example.com, try again later',
    });
    const failure = await notifier()
      .notify(reminder())
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EmailDeliveryError);
    expect((failure as EmailDeliveryError).transient).toBe(true);
    expect((failure as EmailDeliveryError).responseCode).toBe(451);
    expect((failure as Error).message).toContain('Greylisted <recipient>, try again later');
    expect((failure as Error).message).not.toContain('ada@example.com');
    expect(sink.messages()).toEqual([]);
  });

  it('skips, with the server’s reason, a recipient refused for good (5xx)', async () => {
    sink.refuseRecipient('ada@example.com', {
      code: 550,
      message: 'No such user here: Ada@Example.com',
    });
    const outcome = await notifier().notify(reminder());
    // The address in the reply is not kept: the reason is recorded and may be logged.
    expect(outcome).toEqual({
      status: 'skipped',
      reason: 'the SMTP server refused the recipient: 550 No such user here: <recipient>',
    });
    expect(sink.messages()).toEqual([]);
  });

  it('throws when the server is down (connection refused: transient)', async () => {
    // A port that was free a moment ago and has nothing listening now.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const failure = await notifier(`smtp://127.0.0.1:${port}`)
      .notify(reminder())
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EmailDeliveryError);
    expect((failure as EmailDeliveryError).transient).toBe(true);
    expect((failure as Error).message).toMatch(/ECONNREFUSED|ECONNECTION|ESOCKET/);
  });

  it('throws, not skips, a 5xx to the sender or the login: every member would be skipped', () => {
    const sender = classifySmtpFailure(
      Object.assign(new Error('Mail command failed'), {
        code: 'EENVELOPE',
        responseCode: 553,
        response: '553 5.7.1 Sender address rejected: not owned by user',
        command: 'MAIL FROM',
      }),
    );
    expect(sender.skip).toBe(false);
    const error = (sender as { error: EmailDeliveryError }).error;
    expect(error.transient).toBe(false);
    expect(error.message).toContain('check SMTP_URL and REMINDER_FROM');
    const login = classifySmtpFailure(
      Object.assign(new Error('Invalid login'), {
        code: 'EAUTH',
        responseCode: 535,
        response: '535 5.7.8 Authentication failed',
        command: 'AUTH PLAIN',
      }),
    );
    expect(login).toMatchObject({ skip: false, error: { transient: false, responseCode: 535 } });
    const message = classifySmtpFailure(
      Object.assign(new Error('Message failed'), {
        code: 'EMESSAGE',
        responseCode: 554,
        response: '554 5.7.1 Message rejected as spam',
        command: 'DATA',
      }),
    );
    expect(message).toEqual({
      skip: true,
      reason: 'the SMTP server refused the message: 554 5.7.1 Message rejected as spam',
    });
  });
});

describe('email channel configuration', () => {
  it('is off without SMTP_URL and says so; on with it, from REMINDER_FROM', () => {
    expect(emailChannelStatus({})).toEqual({
      available: false,
      reason: 'Email reminders are off: SMTP_URL is not set for this Laurel installation.',
    });
    expect(emailNotifierFromEnv({})).toBeNull();
    const env = parseEnv({ SMTP_URL: sink.url, REMINDER_FROM: 'rewards@shop.example' });
    expect(emailChannelStatus(env)).toEqual({ available: true, from: 'rewards@shop.example' });
    const fromEnv = emailNotifierFromEnv(env)!;
    notifiers.push(fromEnv);
    expect(fromEnv.channel).toBe('email');
  });

  it('derives the sender: the SMTP user when it is an address, else no-reply at the host', () => {
    expect(
      reminderFrom({ SMTP_URL: 'smtps://rewards%40shop.example:pw@smtp.mail.example:465' }),
    ).toBe('rewards@shop.example');
    expect(reminderFrom({ SMTP_URL: 'smtp://apikey:pw@smtp.mail.example:587' })).toBe(
      'no-reply@smtp.mail.example',
    );
    expect(reminderFrom({ SMTP_URL: 'smtp://127.0.0.1:2525' })).toBe('no-reply@localhost');
  });

  it('refuses a bad SMTP_URL or REMINDER_FROM at start-up, naming the variable', () => {
    expect(() => parseEnv({ SMTP_URL: 'http://mail.example' })).toThrow(EnvError);
    expect(() => parseEnv({ SMTP_URL: 'http://mail.example' })).toThrow(/SMTP_URL must be an smtp/);
    expect(() => parseEnv({ REMINDER_FROM: 'Rewards <a@b.example>' })).toThrow(/REMINDER_FROM/);
    expect(parseEnv({ SMTP_URL: 'smtps://u:p@smtp.example:465' }).SMTP_URL).toBe(
      'smtps://u:p@smtp.example:465',
    );
    expect(parseEnv({}).SMTP_URL).toBeUndefined();
  });

  it('accepts as REMINDER_FROM exactly the addresses the notifier sends from', () => {
    const samples = [
      'a@b',
      'rewards@shop.example',
      'A <a@b.example>',
      'a@x.com, b@y.com',
      'a]@b.c',
    ];
    const accepted = samples.filter((from) => {
      try {
        parseEnv({ REMINDER_FROM: from });
        return true;
      } catch {
        return false;
      }
    });
    expect(accepted).toEqual(['a@b', 'rewards@shop.example']);
    expect(samples.filter(isEmailAddress)).toEqual(accepted);
  });
});

import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWords, startMailSink, type MailSink, type ReceivedMessage } from './mail-sink';

let sink: MailSink;
const seen: ReceivedMessage[] = [];

beforeAll(async () => {
  sink = await startMailSink({ onMessage: (m) => seen.push(m) });
});
afterAll(async () => {
  await sink?.close();
});

describe('mail sink', () => {
  it('keeps what nodemailer sends, decoded: encoded subject, quoted-printable and base64 parts', async () => {
    const transport = createTransport({ url: sink.url });
    // Accents and a line too long for quoted-printable push nodemailer to encode each part.
    const long = `${'é'.repeat(40)} ${'x'.repeat(1200)}`;
    await transport.sendMail({
      from: { name: 'Boutique Élodie', address: 'shop@example.com' },
      to: 'ada@example.com',
      subject: 'Vos points expirent bientôt — 1\u202f250 points',
      text: 'Première ligne\nDeuxième ligne : ça marche.',
      html: `<p>${long}</p>`,
    });
    transport.close();
    const [message] = sink.messages();
    expect(message!.envelopeFrom).toBe('shop@example.com');
    expect(message!.envelopeTo).toEqual(['ada@example.com']);
    expect(message!.subject).toBe('Vos points expirent bientôt — 1\u202f250 points');
    expect(message!.header('from')).toBe('Boutique Élodie <shop@example.com>');
    expect(message!.text).toBe('Première ligne\nDeuxième ligne : ça marche.');
    expect(message!.html).toBe(`<p>${long}</p>`);
    expect(message!.raw).toMatch(/Content-Transfer-Encoding: (quoted-printable|base64)/);
    expect(seen.at(-1)).toBe(message);
    sink.clear();
    expect(sink.messages()).toEqual([]);
  });

  it('decodes RFC 2047 words, B and Q, and joins adjacent ones', () => {
    expect(decodeWords('=?UTF-8?B?w6k=?= =?UTF-8?Q?t=C3=A9_ok?=')).toBe('été ok');
    expect(decodeWords('plain text')).toBe('plain text');
  });

  it('refuses a refusal that is not an SMTP error code', () => {
    expect(() => sink.refuseRecipient('a@b.example', { code: 250, message: 'OK' })).toThrow(
      /4xx or 5xx/,
    );
  });
});

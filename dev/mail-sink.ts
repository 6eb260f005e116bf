import { pathToFileURL } from 'node:url';
import { SMTPServer, type SMTPServerError } from 'smtp-server';

/**
 * A local SMTP server that keeps every message it receives in memory, for `npm run demo` (so it
 * can show the expiry reminders it sent) and for the email notifier's tests
 * (app/notify/email.server.test.ts). No authentication, no TLS, localhost only: development and
 * tests, never a relay. Point the app at it with `SMTP_URL=<sink.url>`.
 *
 * Standalone, for `npm run dev` with `SMTP_URL=smtp://127.0.0.1:2525`: `npx tsx dev/mail-sink.ts
 * [port]` listens (default 2525) and prints each message's envelope, subject and text.
 *
 * Messages are decoded enough to read them (headers, RFC 2047 words, multipart/alternative,
 * quoted-printable and base64 bodies in any charset TextDecoder knows); `raw` keeps the exact bytes
 * as received for anything else.
 */

export interface ReceivedMessage {
  /** Envelope sender (MAIL FROM), '' for a null sender. */
  envelopeFrom: string;
  /** Envelope recipients (RCPT TO) accepted for this message. */
  envelopeTo: string[];
  /** Header names lower-cased, values unfolded and decoded; repeated headers keep every value. */
  headers: Map<string, string[]>;
  /** The first value of a header (decoded), or undefined. */
  header(name: string): string | undefined;
  subject: string | undefined;
  /** The text/plain part, decoded, with LF line ends. */
  text: string | undefined;
  /** The text/html part, decoded, with LF line ends. */
  html: string | undefined;
  /** The message exactly as received (CRLF line ends). */
  raw: string;
  receivedAt: Date;
}

/** An SMTP reply the sink gives instead of accepting: `451 Try again later`, `550 No such user`. */
export interface SinkReply {
  code: number;
  message: string;
}

export interface MailSink {
  /** `smtp://127.0.0.1:<port>`: a value for SMTP_URL. */
  readonly url: string;
  readonly port: number;
  /** Every message received so far, oldest first. */
  messages(): ReceivedMessage[];
  /** Forgets the messages and every refusal. */
  clear(): void;
  /**
   * Answers RCPT TO for `recipient` (case-insensitive) with `reply` until cleared, e.g. 451 (come
   * back later) or 550 (no such mailbox): how tests exercise a sender's failure handling.
   */
  refuseRecipient(recipient: string, reply: SinkReply): void;
  close(): Promise<void>;
}

export interface MailSinkOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Largest message kept (bytes, default 5 MB); a bigger one is refused with 552. */
  maxBytes?: number;
  /** Called with each message as it is received (the demo prints them). */
  onMessage?: (message: ReceivedMessage) => void;
}

export async function startMailSink(options: MailSinkOptions = {}): Promise<MailSink> {
  const host = options.host ?? '127.0.0.1';
  const maxBytes = options.maxBytes ?? 5_000_000;
  const received: ReceivedMessage[] = [];
  const refusals = new Map<string, SinkReply>();

  const server = new SMTPServer({
    authOptional: true,
    // Plain SMTP only: a client offered STARTTLS would want a certificate the sink does not have.
    disabledCommands: ['STARTTLS', 'AUTH'],
    banner: 'Laurel mail sink (development only)',
    size: maxBytes,
    logger: false,
    onRcptTo(address, _session, callback) {
      const reply = refusals.get(address.address.toLowerCase());
      if (!reply) return callback();
      const error: SMTPServerError = new Error(reply.message);
      error.responseCode = reply.code;
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          const error: SMTPServerError = new Error('Message exceeds the sink size limit');
          error.responseCode = 552;
          return callback(error);
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const from = session.envelope.mailFrom;
        const message = parseMessage(
          raw,
          from ? from.address : '',
          session.envelope.rcptTo.map((r) => r.address),
        );
        received.push(message);
        options.onMessage?.(message);
        callback(null, 'Queued in the Laurel mail sink');
      });
    },
  });
  // A client that drops mid-session (a test's server-down case) must not crash the process.
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('mail sink has no port');
  const port = address.port;

  return {
    url: `smtp://${host}:${port}`,
    port,
    messages: () => [...received],
    clear() {
      received.length = 0;
      refusals.clear();
    },
    refuseRecipient(recipient, reply) {
      if (!Number.isInteger(reply.code) || reply.code < 400 || reply.code > 599) {
        throw new Error(`refuseRecipient code must be a 4xx or 5xx SMTP code; got ${reply.code}`);
      }
      refusals.set(recipient.toLowerCase(), reply);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// ---------------------------------------------------------------------------------------------
// Reading a message (enough MIME for what nodemailer sends)

interface Part {
  headers: Map<string, string[]>;
  body: string;
}

function splitHeaders(raw: string): Part {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end === -1 ? raw : raw.slice(0, end);
  const body = end === -1 ? '' : raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string[]>();
  // Unfold: a line starting with white space continues the previous header.
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const values = headers.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(name, values);
  }
  return { headers, body };
}

/** RFC 2047 encoded words (`=?UTF-8?Q?...?=`, `=?UTF-8?B?...?=`) in a header value. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[bBqQ]\?[^?]*\?=)\s+(?==\?)/g, '$1') // space between words is not text
    .replace(
      /=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g,
      (_all, charset: string, encoding, text: string) => {
        const bytes =
          encoding.toUpperCase() === 'B'
            ? Buffer.from(text, 'base64')
            : qpBytes(text.replace(/_/g, ' '));
        return decodeBytes(bytes, charset);
      },
    );
}

function qpBytes(text: string): Buffer {
  const soft = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft.slice(i + 1, i + 3);
    if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function decodeBytes(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.toLowerCase()).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

function parameter(value: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** A text part's content, decoded, with LF line ends (SMTP carries CRLF). */
function decodeBody(part: Part): string {
  return decodeTransfer(part).replace(/\r\n/g, '\n');
}

function decodeTransfer(part: Part): string {
  const type = part.headers.get('content-type')?.[0] ?? 'text/plain';
  const charset = parameter(type, 'charset') ?? 'utf-8';
  const encoding = (part.headers.get('content-transfer-encoding')?.[0] ?? '7bit').toLowerCase();
  // The raw text was read as UTF-8; 7bit/8bit bodies are already text.
  if (encoding === 'base64') return decodeBytes(Buffer.from(part.body, 'base64'), charset);
  if (encoding === 'quoted-printable') return decodeBytes(qpBytes(part.body), charset);
  return part.body;
}

/** The leaf parts of a message, depth first. */
function leaves(part: Part): Part[] {
  const type = part.headers.get('content-type')?.[0] ?? 'text/plain';
  const boundary = /^multipart\//i.test(type) ? parameter(type, 'boundary') : undefined;
  if (!boundary) return [part];
  const sections = part.body.split(`--${boundary}`);
  // The preamble before the first boundary and the epilogue after the closing `--` are not parts.
  return (
    sections
      .slice(1)
      .filter((section) => !section.startsWith('--'))
      // The line break before a boundary belongs to the boundary, not to the part (RFC 2046).
      .flatMap((section) =>
        leaves(splitHeaders(section.replace(/^\r?\n/, '').replace(/\r?\n$/, ''))),
      )
  );
}

function parseMessage(raw: string, envelopeFrom: string, envelopeTo: string[]): ReceivedMessage {
  const top = splitHeaders(raw);
  const headers = new Map(
    [...top.headers].map(([name, values]) => [name, values.map((v) => decodeWords(v))]),
  );
  const parts = leaves(top);
  const partOf = (mime: string) =>
    parts.find((p) =>
      (p.headers.get('content-type')?.[0] ?? 'text/plain').toLowerCase().startsWith(mime),
    );
  const text = partOf('text/plain');
  const html = partOf('text/html');
  return {
    envelopeFrom,
    envelopeTo,
    headers,
    header: (name) => headers.get(name.toLowerCase())?.[0],
    subject: headers.get('subject')?.[0],
    text: text && decodeBody(text),
    html: html && decodeBody(html),
    raw,
    receivedAt: new Date(),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? 2525);
  const sink = await startMailSink({
    port,
    onMessage(message) {
      console.log(
        [
          `--- ${message.receivedAt.toISOString()} from ${message.envelopeFrom} to ${message.envelopeTo.join(', ')}`,
          `Subject: ${message.subject ?? ''}`,
          '',
          message.text ?? '(no text part)',
        ].join('\n'),
      );
    },
  });
  console.log(`Laurel mail sink listening: SMTP_URL=${sink.url}`);
}

/**
 * checkWebhook against the library it replaces: @shopify/shopify-app-remix's
 * `authenticate.webhook`, given the same request, over thousands of random deliveries — bodies of
 * JSON with multi-byte UTF-8, random bytes with malformed sequences, byte-order marks; secrets of
 * any characters; HMACs right (over the bytes, over the library's reading of them), made with
 * another secret, garbled, truncated, re-cased, empty or missing; the topic, shop, API version and
 * webhook id headers present, empty or missing; header names in any casing. Both must accept the
 * same requests (with the same payload) and reject the same ones with the same status.
 */
import '@shopify/shopify-app-remix/adapters/node';
import { createHmac } from 'node:crypto';
import {
  ApiVersion,
  AppDistribution,
  LogSeverity,
  shopifyApp,
} from '@shopify/shopify-app-remix/server';
import type { Session } from '@shopify/shopify-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bodyText,
  checkWebhook,
  DELIVERY_HEADERS,
  HMAC_HEADER,
  signedBytes,
} from './webhook-hmac.server';

/**
 * The library loads the shop's offline session after a valid HMAC; a shop without one is still
 * answered (without `admin`). No session here: the check is what is compared.
 */
const noSessions = {
  storeSession: async () => true,
  loadSession: async (): Promise<Session | undefined> => undefined,
  deleteSession: async () => true,
  deleteSessions: async () => true,
  findSessionsByShop: async (): Promise<Session[]> => [],
};

function libraryFor(secret: string) {
  return shopifyApp({
    apiKey: 'test-api-key',
    apiSecretKey: secret,
    appUrl: 'https://laurel.example.com',
    scopes: ['read_orders'],
    apiVersion: ApiVersion.July26,
    sessionStorage: noSessions,
    distribution: AppDistribution.AppStore,
    future: { unstable_newEmbeddedAuthStrategy: true },
    logger: { level: LogSeverity.Error, log: () => {} },
  });
}

type Outcome = { accepted: true; payload: unknown } | { accepted: false; status: number };

async function library(secret: string, headers: Headers, body: Uint8Array): Promise<Outcome> {
  const request = new Request('https://laurel.example.com/webhooks/orders/paid', {
    method: 'POST',
    headers,
    body: body as Uint8Array<ArrayBuffer>,
  });
  try {
    const context = await libraryFor(secret).authenticate.webhook(request);
    return { accepted: true, payload: context.payload };
  } catch (error) {
    if (error instanceof Response) return { accepted: false, status: error.status };
    // Thrown after a valid HMAC: the library parses the body only then.
    if (error instanceof SyntaxError) return { accepted: false, status: 400 };
    throw error;
  }
}

function ours(secret: string, headers: Headers, body: Uint8Array): Outcome {
  const check = checkWebhook(secret, headers, body, bodyText(body));
  return check.ok
    ? { accepted: true, payload: check.payload }
    : { accepted: false, status: check.status };
}

const sign = (secret: string, bytes: Uint8Array) =>
  createHmac('sha256', secret).update(bytes).digest('base64');

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const body = fc.oneof(
  // What Shopify sends: a JSON object, with any characters.
  fc
    .dictionary(fc.string({ unit: 'grapheme', maxLength: 12 }), jsonValue, { maxKeys: 5 })
    .map((o) => utf8(JSON.stringify(o))),
  // Any bytes: malformed sequences, truncated multi-byte characters, overlong forms.
  fc.uint8Array({ minLength: 0, maxLength: 64 }),
  // JSON with a byte-order mark (one or two), or with a malformed byte inside a string.
  fc
    .tuple(fc.integer({ min: 1, max: 2 }), fc.jsonValue({ maxDepth: 2 }))
    .map(([n, v]) => concat(...Array<Uint8Array>(n).fill(BOM), utf8(JSON.stringify({ v })))),
  fc
    .tuple(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(0x80, 0xc3, 0xe2, 0xff))
    .map(([v, bad]) =>
      concat(utf8(`{"a":"`), new Uint8Array([bad]), utf8(`","v":${JSON.stringify(v)}}`)),
    ),
);

const secret = fc.oneof(
  fc.constant('shpss_test_secret'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
);

/** How the HMAC header is made from the body and secret. */
const hmacKind = fc.constantFrom(
  'raw',
  'library-reading',
  'other-secret',
  'garbled',
  'truncated',
  'upper',
  'padded',
  'empty',
  'missing',
);

/** One of the four delivery headers: present, empty or missing. */
const presence = fc.constantFrom('present', 'present', 'present', 'empty', 'missing');
const casing = fc.constantFrom('as-is', 'lower', 'upper');

function named(name: string, how: string): string {
  return how === 'lower' ? name.toLowerCase() : how === 'upper' ? name.toUpperCase() : name;
}

function hmacFor(kind: string, key: string, bytes: Uint8Array, garble: string): string | null {
  const right = sign(key, bytes);
  const libraryReading = sign(key, utf8(bodyText(bytes)));
  switch (kind) {
    case 'raw':
      return right;
    case 'library-reading':
      return libraryReading;
    case 'other-secret':
      return sign(`${key}x`, bytes);
    case 'garbled':
      return garble;
    case 'truncated':
      return right.slice(0, -2);
    case 'upper':
      return right.toUpperCase();
    case 'padded':
      // Fetch trims header values: the same HMAC to both.
      return ` ${right} `;
    case 'empty':
      return '';
    default:
      return null;
  }
}

describe('checkWebhook', () => {
  it('accepts and rejects exactly what authenticate.webhook does', async () => {
    await fc.assert(
      fc.asyncProperty(
        secret,
        body,
        hmacKind,
        fc.string({ maxLength: 50 }),
        fc.array(presence, { minLength: 4, maxLength: 4 }),
        fc.array(casing, { minLength: 5, maxLength: 5 }),
        async (key, bytes, kind, garble, present, cases) => {
          const headers = new Headers();
          const hmac = hmacFor(kind, key, bytes, garble);
          if (hmac !== null) headers.set(named(HMAC_HEADER, cases[0]!), hmac);
          const values = ['orders/paid', 'laurel.myshopify.com', '2026-07', 'wh-1'];
          DELIVERY_HEADERS.forEach((name, i) => {
            if (present[i] === 'missing') return;
            headers.set(named(name, cases[i + 1]!), present[i] === 'empty' ? '' : values[i]!);
          });
          const expected = await library(key, headers, bytes);
          expect(ours(key, headers, bytes)).toEqual(expected);
        },
      ),
      { numRuns: 3000 },
    );
  }, 120_000);

  it('hashes a well-formed body as received, and any other as the library reads it', () => {
    const json = utf8('{"note":"café ☕ 𝄞"}');
    expect(signedBytes(json, bodyText(json))).toBe(json);
    for (const withBom of [concat(BOM, json), concat(BOM, BOM, json)]) {
      expect(Buffer.from(signedBytes(withBom, bodyText(withBom)))).toEqual(Buffer.from(json));
    }
    const malformed = concat(utf8('{"a":"'), new Uint8Array([0xff]), utf8('"}'));
    expect(Buffer.from(signedBytes(malformed, bodyText(malformed)))).toEqual(
      Buffer.from('{"a":"\uFFFD"}', 'utf8'),
    );
  });

  it('names what is wrong', () => {
    const bytes = utf8('{"id":1}');
    const headers = new Headers({ [HMAC_HEADER]: sign('s', bytes) });
    expect(checkWebhook('s', headers, bytes, '{"id":1}')).toEqual({
      ok: false,
      status: 400,
      reason:
        'missing Shopify headers: X-Shopify-Topic, X-Shopify-Shop-Domain, X-Shopify-API-Version, X-Shopify-Webhook-Id',
    });
    expect(checkWebhook('t', headers, bytes, '{"id":1}')).toMatchObject({ ok: false, status: 401 });
    expect(checkWebhook('s', new Headers(), new Uint8Array(0), '')).toMatchObject({
      status: 400,
      reason: 'the body is empty',
    });
  });
});

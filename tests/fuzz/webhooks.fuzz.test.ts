// Generated webhook deliveries against the built server over HTTP: valid signed deliveries, then
// mutated headers, bodies, encodings, methods and routes; repeats; a dead database. Each answer is
// checked against the status the ingest documents (app/webhooks.server.ts, ADR 007) for exactly
// that request, and the database and queue against what that status promises.
// Seeds are fixed: a failure prints its seed and shrunk counterexample; replay with that seed.
import { createHmac } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const SECRET = vi.hoisted(() => {
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers,write_customers,read_orders',
    LOG_LEVEL: 'silent',
  });
  return 'laurel-test-secret';
});

import { WEBHOOK_TOPICS, type WebhookTopic } from '../../app/webhook-topics';
import { MAX_WEBHOOK_BODY_BYTES } from '../../app/webhooks.server';
import { webhookInbox } from '../../db/schema';
import { DEFAULT_MAX_BODY_BYTES } from '../../server/app-server';
import { DEFAULT_API_VERSION } from '../../dev/shopify-payloads';
import {
  jsonbRefuses,
  mutateShape,
  shapeMutation,
  toJsonText,
  validPayload,
} from '../helpers/fuzz-payloads';
import {
  openFuzzStack,
  type FuzzStack,
  type RawAnswer,
  type Snapshot,
} from '../helpers/fuzz-stack';

const SHOP = 'laurel-fuzz.myshopify.com';
const OTHER_SHOP = 'laurel-fuzz-other.myshopify.com';
const REQUIRED = [
  'X-Shopify-Hmac-Sha256',
  'X-Shopify-Topic',
  'X-Shopify-Shop-Domain',
  'X-Shopify-API-Version',
  'X-Shopify-Webhook-Id',
] as const;
/** What node:http accepts in all request headers together (its default maxHeaderSize). */
const MAX_HEADER_BYTES = 16 * 1024;

let stack: FuzzStack;
beforeAll(async () => {
  stack = await openFuzzStack();
}, 120_000);
afterAll(async () => {
  await stack?.close();
});
afterEach(() => {
  // A failure outside every route (the listener itself) is a crash of that request.
  expect(stack.serverErrors).toEqual([]);
});

/** Unique per generated delivery, shrinking included, so "stored once" is checkable. */
let deliveryCount = 0;
const nextWebhookId = () => `fuzz-${++deliveryCount}`;

const hmacOf = (bytes: Buffer | string, secret = SECRET) =>
  createHmac('sha256', secret).update(bytes).digest('base64');

/** A delivery as it goes on the wire. */
interface Delivery {
  method: string;
  path: string;
  /** Route the path names (the topic the server checks the header against). */
  route: WebhookTopic | undefined;
  /** Header name as sent → its values (several: the header is sent once per value). */
  headers: [string, string[]][];
  body: Buffer;
  chunked: boolean;
}

type Expected =
  | {
      status: 200;
      shop: string;
      webhookId: string;
      topic: WebhookTopic;
      /** The body as the inbox keeps it. */
      text: string;
      /** jsonb refuses the body: it is kept as text, a dead letter from the start, not enqueued. */
      deadLetter: boolean;
    }
  | { status: 400 | 401 | 405 | 413 };

const utf8 = new TextDecoder();

/**
 * The header as the server sees it: duplicates joined, trimmed. node:http sends a header string
 * (with a Buffer body) as Latin-1 bytes and the server reads them back as Latin-1.
 */
function serverHeader(delivery: Delivery, name: string): string | null {
  const values = delivery.headers
    .filter(([n]) => n.toLowerCase() === name.toLowerCase())
    .flatMap(([, v]) => v.map((x) => x.trim()));
  return values.length === 0 ? null : values.join(', ');
}

function headerBytes(delivery: Delivery): number {
  return delivery.headers.reduce(
    (sum, [name, values]) => sum + values.reduce((s, v) => s + name.length + v.length + 4, 0),
    0,
  );
}

/**
 * What the server promises for this exact request: a declared body over the server's limit is
 * refused unread, whatever the method (server/app-server.ts); then the ingest's checks
 * (app/webhooks.server.ts ingestWebhook, in its order: method, size, headers, shop, body, HMAC
 * over the UTF-8 text, JSON object, topic).
 * Any signed JSON object is stored (200), even one PostgreSQL's jsonb cannot hold (finding 12):
 * that one as text, a dead letter from the start.
 */
function expectedFor(delivery: Delivery): Expected {
  if (headerBytes(delivery) > MAX_HEADER_BYTES) return { status: 400 };
  if (!delivery.chunked && delivery.body.byteLength > DEFAULT_MAX_BODY_BYTES) {
    return { status: 413 };
  }
  if (delivery.method !== 'POST') return { status: 405 };
  if (delivery.body.byteLength > MAX_WEBHOOK_BODY_BYTES) return { status: 413 };
  if (REQUIRED.some((name) => !serverHeader(delivery, name))) return { status: 400 };
  const shop = serverHeader(delivery, 'X-Shopify-Shop-Domain')!.toLowerCase();
  if (!/^[a-z0-9][a-z0-9-]{0,99}\.myshopify\.com$/.test(shop)) return { status: 400 };
  if (delivery.body.byteLength === 0) return { status: 400 };
  const text = utf8.decode(delivery.body);
  if (serverHeader(delivery, 'X-Shopify-Hmac-Sha256') !== hmacOf(text)) return { status: 401 };
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return { status: 400 };
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return { status: 400 };
  }
  const topic = serverHeader(delivery, 'X-Shopify-Topic')!.toLowerCase();
  if (topic !== delivery.route) return { status: 400 };
  const webhookId = serverHeader(delivery, 'X-Shopify-Webhook-Id')!;
  return {
    status: 200,
    shop,
    webhookId,
    topic: delivery.route,
    text,
    deadLetter: jsonbRefuses(payload),
  };
}

async function send(delivery: Delivery): Promise<RawAnswer> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of delivery.headers)
    headers[name] = values.length === 1 ? values[0]! : values;
  if (delivery.chunked) headers['Transfer-Encoding'] = 'chunked';
  else headers['Content-Length'] = String(delivery.body.byteLength);
  return stack.send({ method: delivery.method, path: delivery.path, headers, body: delivery.body });
}

/** Checks one delivery's answer and what it stored; returns the answer. */
/** How many deliveries of each expected outcome were checked (the generators' coverage). */
const outcomes = new Map<string, number>();

async function deliverAndCheck(delivery: Delivery): Promise<RawAnswer> {
  const expected = expectedFor(delivery);
  const outcome =
    expected.status === 200 && expected.deadLetter ? 'dead letter' : String(expected.status);
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  const before = await stack.snapshot();
  const answer = await send(delivery).catch((error: NodeJS.ErrnoException) => {
    // Headers past node:http's limit: the parser refuses them (400) and closes, and the close may
    // reach the client before the answer. Either way nothing may be stored.
    if (headerBytes(delivery) > MAX_HEADER_BYTES && /ECONNRESET|EPIPE/.test(error.code ?? '')) {
      return { status: 400, headers: {}, body: '' } satisfies RawAnswer;
    }
    throw error;
  });
  const after = await stack.snapshot();
  expect(answer.status, answer.body).toBe(expected.status);
  await stack.probe().catch((error: Error) => {
    throw new Error(`the connection stopped answering after this request: ${error.message}`);
  });
  if (expected.status === 200) {
    expect(JSON.parse(answer.body)).toEqual({ ok: true, duplicate: false });
    const thisDelivery = and(
      eq(webhookInbox.shopDomain, expected.shop),
      eq(webhookInbox.webhookId, expected.webhookId),
    );
    const rows = await stack.db.db
      .select({
        topic: webhookInbox.topic,
        status: webhookInbox.status,
        hasPayload: sql<boolean>`${webhookInbox.payload} IS NOT NULL`,
        payloadText: webhookInbox.payloadText,
        lastError: webhookInbox.lastError,
      })
      .from(webhookInbox)
      .where(thisDelivery);
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row!.topic).toBe(expected.topic);
    if (expected.deadLetter) {
      // Kept as received, as text, for ops (`loyalty inbox dead`): no job would get anywhere.
      expect(row).toMatchObject({ status: 'dead', hasPayload: false, payloadText: expected.text });
      expect(row!.lastError).toMatch(/cannot be stored as jsonb/);
    } else {
      expect(row).toMatchObject({
        status: 'received',
        hasPayload: true,
        payloadText: null,
        lastError: null,
      });
      // The body as received, compared by PostgreSQL: jsonb orders keys its own way, and bodies
      // nest 10,000 deep.
      const [same] = await stack.db.db
        .select({ same: sql<boolean>`${webhookInbox.payload} = ${expected.text}::jsonb` })
        .from(webhookInbox)
        .where(thisDelivery);
      expect(same!.same).toBe(true);
    }
    expect(after).toEqual<Snapshot>({
      ...before,
      webhook_inbox: before.webhook_inbox + 1,
      jobs: before.jobs + (expected.deadLetter ? 0 : 1),
    });
  } else {
    // Rejected: an error that says why, and nothing stored or enqueued.
    if (delivery.method !== 'HEAD' && answer.body !== '') {
      expect(typeof (JSON.parse(answer.body) as { error?: unknown }).error).toBe('string');
    }
    expect(after).toEqual(before);
  }
  return answer;
}

// --- generators -------------------------------------------------------------------------------

const topic = fc.constantFrom(...WEBHOOK_TOPICS);
const shopDomain = fc.oneof(
  { weight: 4, arbitrary: fc.constant(SHOP) },
  { weight: 1, arbitrary: fc.constant(OTHER_SHOP) },
  {
    weight: 1,
    arbitrary: fc
      .stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/)
      .map((name) => `${name}.myshopify.com`),
  },
);

interface Base {
  topic: WebhookTopic;
  shop: string;
  text: string;
}

/** A valid body signed as Shopify would, or (reshape) valid JSON of the wrong shape. */
function baseOf(reshape: boolean): fc.Arbitrary<Base> {
  return fc
    .record({ topic, shop: shopDomain })
    .chain(({ topic, shop }) =>
      fc.record({
        topic: fc.constant(topic),
        shop: fc.constant(shop),
        payload: validPayload(topic, shop),
        mutations: reshape
          ? fc.oneof(
              { weight: 1, arbitrary: fc.constant([]) },
              { weight: 2, arbitrary: fc.array(shapeMutation, { minLength: 1, maxLength: 3 }) },
            )
          : fc.constant([]),
      }),
    )
    .map(({ topic, shop, payload, mutations }) => ({
      topic,
      shop,
      text: toJsonText(mutateShape(payload, mutations)),
    }));
}

type BodyMutation =
  | { kind: 'truncate'; keep: number }
  | { kind: 'bitflip'; at: number; bit: number }
  | { kind: 'utf16le' | 'utf16be' | 'bom' | 'whitespace' }
  | { kind: 'insert'; at: number; bytes: readonly number[] }
  | { kind: 'replace'; text: string };

const bodyMutation: fc.Arbitrary<BodyMutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({
    kind: fc.constant('bitflip' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.constantFrom(
    { kind: 'utf16le' as const },
    { kind: 'utf16be' as const },
    { kind: 'bom' as const },
    { kind: 'whitespace' as const },
  ),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    // Invalid UTF-8 (lone continuation, overlong, surrogate, 0xFF), a NUL byte, a raw newline.
    bytes: fc.constantFrom(
      [0x80],
      [0xc3, 0x28],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xff],
      [0x00],
      [0x0a],
    ),
  }),
  fc.record({
    kind: fc.constant('replace' as const),
    text: fc.oneof(
      fc.constantFrom(
        '',
        '{',
        '[]',
        '[1,2]',
        '"text"',
        '42',
        'null',
        'true',
        '{"a":1}{"b":2}',
        '{"a":NaN}',
      ),
      fc.string({ unit: 'binary', maxLength: 40 }),
    ),
  }),
);

function applyBodyMutation(body: Buffer, mutation: BodyMutation): Buffer {
  switch (mutation.kind) {
    case 'truncate':
      return body.subarray(0, mutation.keep % Math.max(body.length, 1));
    case 'bitflip': {
      if (body.length === 0) return body;
      const copy = Buffer.from(body);
      copy[mutation.at % copy.length]! ^= 1 << mutation.bit;
      return copy;
    }
    case 'utf16le':
      return Buffer.from(body.toString('utf8'), 'utf16le');
    case 'utf16be':
      return Buffer.from(body.toString('utf8'), 'utf16le').swap16();
    case 'bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
    case 'whitespace':
      return Buffer.concat([Buffer.from(' \r\n\t'), body, Buffer.from('\n')]);
    case 'insert': {
      const at = mutation.at % (body.length + 1);
      return Buffer.concat([body.subarray(0, at), Buffer.from(mutation.bytes), body.subarray(at)]);
    }
    case 'replace':
      return Buffer.from(mutation.text, 'utf8');
  }
}

type HeaderMutation =
  | { kind: 'drop'; name: string }
  | { kind: 'duplicate'; name: string; same: boolean }
  | { kind: 'oversize'; name: string; size: number }
  | { kind: 'case'; upper: boolean }
  | { kind: 'nonAscii'; name: string; text: string }
  | { kind: 'set'; name: string; value: string };

const shopifyHeader = fc.constantFrom(
  ...REQUIRED,
  'X-Shopify-Triggered-At',
  'X-Shopify-Event-Id',
  'Content-Type',
);

const headerMutation: fc.Arbitrary<HeaderMutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), name: shopifyHeader }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    name: fc.constantFrom(...REQUIRED),
    same: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('oversize' as const),
    name: fc.constantFrom(...REQUIRED, 'X-Unrelated'),
    size: fc.constantFrom(300, 4_000, 20_000),
  }),
  fc.record({ kind: fc.constant('case' as const), upper: fc.boolean() }),
  fc.record({
    kind: fc.constant('nonAscii' as const),
    name: fc.constantFrom(...REQUIRED),
    // Latin-1 only: node:http refuses to send anything else in a header.
    text: fc.constantFrom('é', 'ß', '\u00ff', '\u0080'),
  }),
  fc.record({
    kind: fc.constant('set' as const),
    name: fc.constantFrom(
      'X-Shopify-Topic',
      'X-Shopify-Shop-Domain',
      'Content-Type',
      'X-Shopify-API-Version',
    ),
    value: fc.constantFrom(
      'ORDERS/PAID',
      'orders/paid ',
      'orders/create',
      'x',
      'LAUREL-FUZZ.MYSHOPIFY.COM',
      'laurel-fuzz.myshopify.com.evil.example',
      'evil.example',
      '-x.myshopify.com',
      'text/plain; charset=utf-16',
      'unstable',
    ),
  }),
);

function applyHeaderMutation(
  headers: [string, string[]][],
  mutation: HeaderMutation,
): [string, string[]][] {
  const has = (name: string) => (h: [string, string[]]) =>
    h[0].toLowerCase() === name.toLowerCase();
  switch (mutation.kind) {
    case 'drop':
      return headers.filter((h) => !has(mutation.name)(h));
    case 'duplicate':
      return headers.map((h) =>
        has(mutation.name)(h) ? [h[0], [...h[1], mutation.same ? h[1][0]! : `${h[1][0]}x`]] : h,
      );
    case 'oversize': {
      const value = 'a'.repeat(mutation.size);
      const rest = headers.filter((h) => !has(mutation.name)(h));
      return [...rest, [mutation.name, [value]]];
    }
    case 'case':
      return headers.map(([n, v]) => [mutation.upper ? n.toUpperCase() : n.toLowerCase(), v]);
    case 'nonAscii':
      return headers.map((h) =>
        has(mutation.name)(h) ? [h[0], h[1].map((v) => v + mutation.text)] : h,
      );
    case 'set':
      return [...headers.filter((h) => !has(mutation.name)(h)), [mutation.name, [mutation.value]]];
  }
}

interface Mutations {
  bodies: readonly BodyMutation[];
  /** Sign the body after its byte mutations (as a sender holding the secret would). */
  resign: boolean;
  wrongSecret: boolean;
  headers: readonly HeaderMutation[];
  method: string;
  /** Another topic's route. */
  route: WebhookTopic | null;
  trailingSlash: boolean;
  chunked: boolean;
  /** Padded past 1 MiB (with chunked: counted as it streams; else declared in Content-Length). */
  oversize: boolean;
}

const mutations: fc.Arbitrary<Mutations> = fc.record({
  bodies: fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    { weight: 2, arbitrary: fc.array(bodyMutation, { minLength: 1, maxLength: 2 }) },
  ),
  resign: fc.boolean(),
  wrongSecret: fc.oneof(
    { weight: 9, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
  headers: fc.oneof(
    { weight: 3, arbitrary: fc.constant([]) },
    { weight: 2, arbitrary: fc.array(headerMutation, { minLength: 1, maxLength: 2 }) },
  ),
  method: fc.oneof(
    { weight: 12, arbitrary: fc.constant('POST') },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') },
  ),
  route: fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: topic }),
  trailingSlash: fc.oneof(
    { weight: 9, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
  chunked: fc.boolean(),
  oversize: fc.oneof(
    { weight: 40, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
});

/** No mutation at all: the signed delivery as Shopify would send it. */
const UNMUTATED: Mutations = {
  bodies: [],
  resign: false,
  wrongSecret: false,
  headers: [],
  method: 'POST',
  route: null,
  trailingSlash: false,
  chunked: false,
  oversize: false,
};

function buildDelivery(b: Base, m: Mutations): Delivery {
  let body: Buffer = Buffer.from(b.text, 'utf8');
  let signature = hmacOf(body, m.wrongSecret ? 'not-the-app-secret' : SECRET);
  for (const mutation of m.bodies) body = applyBodyMutation(body, mutation);
  if (m.oversize) {
    body = Buffer.concat([body, Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1 - body.length, 0x20)]);
  }
  if (m.resign) signature = hmacOf(body, m.wrongSecret ? 'not-the-app-secret' : SECRET);
  let headers: [string, string[]][] = [
    ['Content-Type', ['application/json']],
    ['X-Shopify-Topic', [b.topic]],
    ['X-Shopify-Hmac-Sha256', [signature]],
    ['X-Shopify-Shop-Domain', [b.shop]],
    ['X-Shopify-API-Version', [DEFAULT_API_VERSION]],
    ['X-Shopify-Webhook-Id', [nextWebhookId()]],
    ['X-Shopify-Triggered-At', [new Date().toISOString()]],
    ['X-Shopify-Event-Id', [`event-${deliveryCount}`]],
  ];
  // Not with an oversized body: a server refusing the headers closes while the body is being
  // written, and the client may see the reset before the answer.
  if (!m.oversize)
    for (const mutation of m.headers) headers = applyHeaderMutation(headers, mutation);
  const route = m.route ?? b.topic;
  return {
    method: m.method,
    path: `/webhooks/${route}${m.trailingSlash ? '/' : ''}`,
    route,
    headers,
    body,
    chunked: m.chunked,
  };
}

// --- properties -------------------------------------------------------------------------------

describe('generated webhook deliveries (fuzz)', () => {
  it('answers each mutated delivery with its documented status; stores an accepted one once and nothing for a rejected one', async () => {
    await fc.assert(
      fc.asyncProperty(baseOf(true), mutations, async (b, m) => {
        await deliverAndCheck(buildDelivery(b, m));
      }),
      { seed: 20_260_801, numRuns: 700 },
    );
    // Every documented outcome was met, so none of its checks above went untried.
    for (const outcome of ['200', 'dead letter', '400', '401', '405', '413']) {
      expect(outcomes.get(outcome) ?? 0, `deliveries expected to get ${outcome}`).toBeGreaterThan(
        0,
      );
    }
  }, 120_000);

  it('stores a delivery repeated any number of times, in sequence or at once, exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        baseOf(false),
        fc.integer({ min: 2, max: 5 }),
        fc.boolean(),
        async (b, copies, concurrent) => {
          const delivery = buildDelivery(b, UNMUTATED);
          const expected = expectedFor(delivery);
          expect(expected.status).toBe(200);
          const before = await stack.snapshot();
          const answers = concurrent
            ? await Promise.all(Array.from({ length: copies }, () => send(delivery)))
            : await (async () => {
                const all: RawAnswer[] = [];
                for (let i = 0; i < copies; i++) all.push(await send(delivery));
                return all;
              })();
          expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
          const fresh = answers.filter(
            (a) => !(JSON.parse(a.body) as { duplicate: boolean }).duplicate,
          );
          expect(fresh).toHaveLength(1);
          expect(await stack.snapshot()).toEqual({
            ...before,
            webhook_inbox: before.webhook_inbox + 1,
            jobs: before.jobs + 1,
          });
        },
      ),
      { seed: 20_260_802, numRuns: 100 },
    );
  }, 60_000);

  it('answers 503 and stores nothing for a valid delivery while the database is down', async () => {
    await stack.withDeadDatabase(() =>
      fc.assert(
        fc.asyncProperty(baseOf(false), async (b) => {
          const delivery = buildDelivery(b, UNMUTATED);
          const before = await stack.snapshot();
          const started = performance.now();
          const answer = await send(delivery);
          expect(answer.status, answer.body).toBe(503);
          // Inside Shopify's 5 s timeout, every time: a late 503 is a timeout to Shopify.
          expect(performance.now() - started).toBeLessThan(4_000);
          expect(await stack.snapshot()).toEqual(before);
        }),
        { seed: 20_260_803, numRuns: 12, endOnFailure: true },
      ),
    );
  }, 60_000);
});

// Generated storefront requests through the app proxy (GET /proxy), against the built server over
// HTTP, as an attacker holding one query Shopify signed would send them: reordered, with reserved
// parameters repeated in any position, parameters dropped or added, stale and future timestamps,
// bad signatures, odd percent-encodings, huge values, another shop. The property: an answer only
// ever reveals the customer and the shop the signature covered; anything else is refused (4xx),
// never a 5xx but 503 for a dead database, and nothing is written.
import { createHmac } from 'node:crypto';
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

import { ensureCustomer } from '../../app/models/customers.server';
import { post } from '../../app/models/ledger.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop } from '../../app/models/shops.server';
import { referenceProgramIn } from '../../app/shop-setup.server';
import { openFuzzStack, type FuzzStack, type RawAnswer } from '../helpers/fuzz-stack';

const SHOP_A = 'laurel-proxy-a.myshopify.com';
const SHOP_B = 'laurel-proxy-b.myshopify.com';
const UNKNOWN_SHOP = 'laurel-proxy-nobody.myshopify.com';
const RESERVED = ['shop', 'logged_in_customer_id', 'path_prefix', 'timestamp', 'signature'];

/** Points per shop and customer; customer 7001 exists in both shops with different balances. */
const BALANCES: Record<string, Record<string, number>> = {
  [SHOP_A]: { '7001': 120, '7002': 30 },
  [SHOP_B]: { '7001': 55, '8001': 77 },
};

let stack: FuzzStack;
beforeAll(async () => {
  stack = await openFuzzStack();
  const db = stack.db.db;
  for (const [domain, customers] of Object.entries(BALANCES)) {
    const shop = await ensureShop(db, { domain, currency: 'EUR', timezone: 'Europe/Paris' });
    await publishProgram(db, shop.id, referenceProgramIn('EUR'), new Date('2026-01-01T00:00:00Z'));
    for (const [externalId, points] of Object.entries(customers)) {
      const customer = await ensureCustomer(db, shop.id, { externalId });
      await post(db, shop.id, {
        customerId: customer.id,
        idempotencyKey: `order:${externalId}:earn`,
        source: 'order',
        points,
        occurredAt: new Date('2026-03-01T00:00:00Z'),
        programVersion: 1,
        inputs: { amountMinor: points * 100, currency: 'EUR' },
      });
    }
  }
}, 120_000);
afterAll(async () => {
  await stack?.close();
});
afterEach(() => {
  expect(stack.serverErrors).toEqual([]);
});

/**
 * Shopify's app-proxy signature over the query's parameters: each name once with its values
 * joined by ",", `signature` left out, sorted by name, `name=value` with no separator, HMAC-SHA256
 * in hex. Takes the parameters in query order, repeats and all.
 */
function proxySignature(
  params: Record<string, string> | [string, string][],
  secret = SECRET,
): string {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of Array.isArray(params) ? params : Object.entries(params)) {
    grouped.set(name, [...(grouped.get(name) ?? []), value]);
  }
  const message = [...grouped]
    .filter(([name]) => name !== 'signature')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, values]) => `${name}=${values.join(',')}`)
    .join('');
  return createHmac('sha256', secret).update(message).digest('hex');
}

/** What the signature covers: the query Shopify built and signed. */
interface Signed {
  shop: string;
  customerId: string | undefined;
  params: Record<string, string>;
}

/** The answer (shop, customer) may reveal, as the storefront would read it. */
function answerFor(shop: string, customerId: string | undefined) {
  if (!customerId) return { loggedIn: false };
  const points = BALANCES[shop]?.[customerId];
  return {
    loggedIn: true,
    customerId,
    enrolled: points !== undefined,
    balance: points ?? 0,
    lifetimeEarned: points ?? 0,
    tier: null,
    referralCode: null,
  };
}

const customerId = fc.oneof(
  fc.constantFrom('7001', '7002', '8001', '9999', ''),
  fc.constantFrom('07001', ' 7001', '7001 ', '-1', '1e3', `${'9'.repeat(5_000)}`),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);

/** The query Shopify builds and signs for a storefront request, now. */
function signedQuery(
  shop: string,
  customerId: string | undefined,
  extras: Record<string, string>,
): Signed {
  const params: Record<string, string> = {
    ...extras,
    shop,
    path_prefix: '/apps/loyalty',
    timestamp: String(Math.floor(Date.now() / 1000)),
    ...(customerId === undefined ? {} : { logged_in_customer_id: customerId }),
  };
  params.signature = proxySignature(params);
  return { shop, customerId, params };
}

/** A query as Shopify signs it: its parameters, the customer optional, sometimes extras. */
const signed: fc.Arbitrary<Signed> = fc
  .record({
    shop: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(SHOP_A, SHOP_B, UNKNOWN_SHOP) },
      // Shopify never signs these; a signature over them must still not make a 5xx.
      { weight: 1, arbitrary: fc.constantFrom('LAUREL-PROXY-A.MYSHOPIFY.COM', 'evil.example', '') },
    ),
    customerId: fc.option(customerId, { nil: undefined }),
    extras: fc.dictionary(
      fc.stringMatching(/^[a-z_]{1,12}$/).filter((k) => !RESERVED.includes(k)),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      { maxKeys: 2 },
    ),
  })
  .map(({ shop, customerId, extras }) => signedQuery(shop, customerId, extras));

/** Queries the proxy answers from the database: a shop and a logged-in customer, both valid. */
const validSigned: fc.Arbitrary<Signed> = fc
  .record({
    shop: fc.constantFrom(SHOP_A, SHOP_B, UNKNOWN_SHOP),
    customerId: fc.oneof(
      fc.constantFrom('7001', '7002', '8001'),
      fc.bigInt({ min: 1n, max: 10n ** 20n - 1n }).map(String),
    ),
  })
  .map(({ shop, customerId }) => signedQuery(shop, customerId, {}));

type Tamper =
  | { kind: 'repeat'; key: string; value: string; at: number }
  | { kind: 'drop'; key: string }
  | { kind: 'set'; key: string; value: string }
  | { kind: 'add'; key: string; value: string; at: number };

const tamperValue = fc.oneof(
  fc.constantFrom('7001', '7002', '8001', SHOP_A, SHOP_B, UNKNOWN_SHOP, '', '/apps/other'),
  fc.constantFrom(
    String(Math.floor(Date.now() / 1000) - 3_600),
    String(Math.floor(Date.now() / 1000) + 3_600),
    String(Math.floor(Date.now() / 1000) - 91),
    'NaN',
    '0',
    '1e99',
    'a'.repeat(64),
  ),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constant('x'.repeat(6_000)),
);

const tamper: fc.Arbitrary<Tamper> = fc.oneof(
  fc.record({
    kind: fc.constant('repeat' as const),
    key: fc.constantFrom(...RESERVED),
    value: tamperValue,
    at: fc.nat(),
  }),
  fc.record({ kind: fc.constant('drop' as const), key: fc.constantFrom(...RESERVED) }),
  fc.record({
    kind: fc.constant('set' as const),
    key: fc.constantFrom(...RESERVED),
    value: tamperValue,
  }),
  fc.record({
    kind: fc.constant('add' as const),
    key: fc.oneof(
      fc.constantFrom('index', '_data', 'signature[]', 'Shop', 'SHOP'),
      fc.string({ maxLength: 8 }),
    ),
    value: tamperValue,
    at: fc.nat(),
  }),
);

type Encoding = 'standard' | 'every-byte' | 'lowercase-hex' | 'plus-for-space' | 'raw';

/** One parameter in the query string, encoded one of the ways a client may. */
function encode(text: string, encoding: Encoding): string {
  switch (encoding) {
    case 'standard':
      return encodeURIComponent(text);
    case 'every-byte':
      return [...Buffer.from(text, 'utf8')]
        .map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`)
        .join('');
    case 'lowercase-hex':
      return encodeURIComponent(text).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    case 'plus-for-space':
      return new URLSearchParams([['', text]]).toString().slice(1);
    case 'raw':
      // Unescaped wherever a request line may carry it (visible ASCII: node:http's parser refuses
      // raw bytes past 0x7e with a bare 400, before the app), escaped elsewhere.
      return [...text]
        .map((c) =>
          /^[\u0021-\u007e]$/.test(c) && !'%&#+='.includes(c) ? c : encodeURIComponent(c),
        )
        .join('');
  }
}

interface ProxyCase {
  signed: Signed;
  order: number[];
  tampers: readonly Tamper[];
  encoding: Encoding;
  wrongSecret: boolean;
}

function buildQuery(c: ProxyCase): string {
  let params = Object.entries(c.signed.params);
  if (c.wrongSecret) {
    const resigned = {
      ...c.signed.params,
      signature: proxySignature(c.signed.params, 'not-the-secret'),
    };
    params = Object.entries(resigned);
  }
  // Reordered as the attacker likes.
  params = params
    .map((p, i) => [p, c.order[i] ?? i] as const)
    .sort((a, b) => a[1] - b[1])
    .map(([p]) => p);
  for (const t of c.tampers) {
    if (t.kind === 'drop') params = params.filter(([k]) => k !== t.key);
    else if (t.kind === 'set') params = params.map(([k, v]) => [k, k === t.key ? t.value : v]);
    else {
      const at = t.at % (params.length + 1);
      params = [...params.slice(0, at), [t.key, t.value], ...params.slice(at)];
    }
  }
  return params.map(([k, v]) => `${encode(k, c.encoding)}=${encode(v, c.encoding)}`).join('&');
}

/** What node:http accepts for the request line and headers together (its maxHeaderSize). */
const MAX_HEADER_BYTES = 16 * 1024;

type Expected =
  | { status: 200; body: object }
  /** `bare`: refused by node:http's parser, before the app, with no body. */
  | { status: 400 | 401; bare?: true }
  | { status: 'either'; refusals: number[] };

/**
 * What the server must answer to `query` (app/app-proxy.server.ts, its table and its order): 400
 * for a reserved parameter given twice (finding 1); 401 unless the signature verifies, as Shopify
 * computes it, over exactly the parameters received and is at most 90 s old; 400 for a signed shop
 * that is no *.myshopify.com domain or a signed customer id that is no Shopify id; the signed
 * answer otherwise. The `index`/`_data` parameters Remix's router acts on itself may go either way:
 * the safety property still holds for them.
 */
function expectedFor(query: string): Expected {
  // node:http's parser refuses a request line past its limit.
  if (query.length > MAX_HEADER_BYTES) return { status: 400, bare: true };
  const received = [...new URLSearchParams(query)];
  const names = received.map(([name]) => name);
  const count = (name: string) => names.filter((n) => n === name).length;
  // Remix answers a `_data` naming no route of this URL itself, with 403.
  if (names.includes('_data')) return { status: 'either', refusals: [400, 401, 403] };
  if (names.includes('index')) return { status: 'either', refusals: [400, 401] };
  if (RESERVED.some((name) => count(name) > 1)) return { status: 400 };
  const value = (name: string) => received.find(([n]) => n === name)?.[1];
  const signature = value('signature');
  const timestamp = Number(value('timestamp'));
  const fresh =
    !!value('timestamp') &&
    Number.isInteger(timestamp) &&
    Math.abs(Math.trunc(Date.now() / 1000) - timestamp) <= 90;
  if (!signature || !fresh || signature !== proxySignature(received)) return { status: 401 };
  const shop = (value('shop') ?? '').toLowerCase();
  if (!/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/.test(shop)) return { status: 400 };
  const customer = value('logged_in_customer_id') ?? '';
  if (customer !== '' && !/^[1-9][0-9]{0,19}$/.test(customer)) return { status: 400 };
  return { status: 200, body: answerFor(shop, customer || undefined) };
}

async function ask(query: string): Promise<RawAnswer> {
  return stack
    .send({ method: 'GET', path: `/proxy?${query}`, headers: {} })
    .catch((error: NodeJS.ErrnoException) => {
      // A request line past node:http's limit is refused by its parser (400) and the connection
      // closed, which may reach the client first.
      if (query.length > MAX_HEADER_BYTES && /ECONNRESET|EPIPE/.test(error.code ?? '')) {
        return { status: 400, headers: {}, body: '' };
      }
      throw error;
    });
}

/** How many queries of each expected outcome were checked (the generators' coverage). */
const outcomes = new Map<string, number>();

describe('generated app-proxy queries (fuzz)', () => {
  it('reveals only the customer and shop the signature covered, refuses everything else with a 4xx, and writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        signed,
        fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
        fc.oneof(
          { weight: 1, arbitrary: fc.constant([]) },
          { weight: 3, arbitrary: fc.array(tamper, { minLength: 1, maxLength: 3 }) },
        ),
        fc.constantFrom<Encoding>(
          'standard',
          'every-byte',
          'lowercase-hex',
          'plus-for-space',
          'raw',
        ),
        fc.oneof(
          { weight: 9, arbitrary: fc.constant(false) },
          { weight: 1, arbitrary: fc.constant(true) },
        ),
        async (s, order, tampers, encoding, wrongSecret) => {
          const query = buildQuery({ signed: s, order, tampers, encoding, wrongSecret });
          const expected = expectedFor(query);
          outcomes.set(String(expected.status), (outcomes.get(String(expected.status)) ?? 0) + 1);
          const before = await stack.snapshot();
          const answer = await ask(query);
          expect(await stack.snapshot()).toEqual(before);
          // Whatever else holds, a 200 speaks only for what Shopify signed (a domain is
          // case-insensitive: the shop is answered for in lower case).
          if (answer.status === 200) {
            expect(JSON.parse(answer.body)).toEqual(
              answerFor(s.shop.toLowerCase(), s.customerId || undefined),
            );
            expect(answer.headers['cache-control']).toBe('private, no-store');
          }
          if (expected.status === 200) {
            expect(answer.status, answer.body).toBe(200);
            expect(JSON.parse(answer.body)).toEqual(expected.body);
          } else if (expected.status !== 'either') {
            expect(answer.status, answer.body).toBe(expected.status);
            // The proxy's own refusal says why.
            if (!expected.bare) {
              expect(JSON.parse(answer.body)).toEqual({
                error: {
                  code: expected.status === 400 ? 'VALIDATION' : 'UNAUTHORIZED',
                  message: expect.any(String),
                },
              });
            }
          } else {
            expect([200, ...expected.refusals], `${answer.status} ${answer.body}`).toContain(
              answer.status,
            );
          }
          await stack.probe();
        },
      ),
      { seed: 20_260_811, numRuns: 600 },
    );
    // Every documented outcome was met, so none of the checks above went untried.
    for (const outcome of ['200', '400', '401', 'either']) {
      expect(outcomes.get(outcome) ?? 0, `queries expected to get ${outcome}`).toBeGreaterThan(0);
    }
  }, 120_000);

  it('answers 503, never another 5xx, to a valid query while the database is down', async () => {
    await stack.withDeadDatabase(() =>
      fc.assert(
        fc.asyncProperty(validSigned, async (s) => {
          const query = new URLSearchParams(s.params).toString();
          const answer = await ask(query);
          expect(answer.status, answer.body).toBe(503);
        }),
        { seed: 20_260_812, numRuns: 5, endOnFailure: true },
      ),
    );
  }, 60_000);
});

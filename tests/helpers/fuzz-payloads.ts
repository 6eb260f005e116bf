/**
 * fast-check generators for the fuzz suite (tests/fuzz/): a valid body for every webhook topic,
 * and the ways a signed body can be valid JSON yet wrong (odd values at any path, huge numbers and
 * strings, deep nesting, NUL, lone surrogates).
 *
 * Every string an odd payload carries starts with PII_MARKER, so a test can grep the inbox's
 * `last_error` and the logs for any value that leaked: the marker stands for a customer's data.
 */
import fc from 'fast-check';
import type { WebhookTopic } from '../../app/webhook-topics';
import {
  cancelledOrderPayload,
  customerPayload,
  customersDataRequestPayload,
  customersRedactPayload,
  orderPayload,
  refundPayload,
  shopRedactPayload,
} from '../fixtures/shopify';

export type Json = Record<string, unknown>;

export const PII_MARKER = 'pii-';

/** Ids as Shopify's: positive, up to 2^53. */
const shopifyId = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });

/** A valid body of `topic` for `shop`, ids drawn from the generator. */
export function validPayload(topic: WebhookTopic, shop: string): fc.Arbitrary<Json> {
  return fc
    .record({
      orderId: shopifyId,
      customerId: shopifyId,
      refundId: shopifyId,
      cents: fc.integer({ min: 1, max: 10_000_000 }),
      guest: fc.boolean(),
    })
    .map(({ orderId, customerId, refundId, cents, guest }) => {
      const subtotal = (cents / 100).toFixed(2);
      const order = () =>
        orderPayload({
          id: orderId,
          customer: guest ? null : { id: customerId },
          lineItems: [{ price: subtotal, quantity: 1 }],
        });
      switch (topic) {
        case 'orders/paid':
          return order();
        case 'orders/cancelled':
          return cancelledOrderPayload(order());
        case 'refunds/create': {
          const paid = order();
          const [line] = paid.line_items as { id: number }[];
          return refundPayload({
            id: refundId,
            orderId,
            order: paid,
            lineItems: [{ lineItemId: line!.id, quantity: 1 }],
          });
        }
        case 'customers/create':
        case 'customers/update':
          return customerPayload({ id: customerId, birthday: '1990-12-10' });
        case 'app/uninstalled':
          return { id: orderId, name: 'Fuzz', myshopify_domain: shop };
        case 'customers/data_request':
          return customersDataRequestPayload({
            shopDomain: shop,
            customer: { id: customerId, email: `c${customerId}@example.com` },
            dataRequestId: refundId,
          });
        case 'customers/redact':
          return customersRedactPayload({
            shopDomain: shop,
            customer: { id: customerId, email: `c${customerId}@example.com` },
            ordersToRedact: [orderId],
          });
        case 'shop/redact':
          return shopRedactPayload({ shopDomain: shop });
      }
    });
}

/**
 * A value JSON.stringify cannot write: the placeholder string is replaced by `text` in the body
 * (numbers past float range, past 2^64, deep nesting).
 */
export class RawJson {
  constructor(readonly text: string) {}
}

const markedString = fc
  .tuple(
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.constantFrom('', '\u0000', '\ud800', '\udfff', '\uFEFF', '\u202E', '%00', '\\', '"', "'"),
  )
  .map(([text, odd]) => `${PII_MARKER}${text}${odd}`);

const oddScalar = fc.oneof(
  markedString,
  fc.constantFrom(
    `${PII_MARKER}SSN 123-45-6789`,
    `${PII_MARKER}${'x'.repeat(100_000)}`,
    'XXX',
    '',
    ' ',
    '-0',
    'NaN',
    '1e309',
  ),
  fc.constantFrom(
    0,
    -0,
    -1,
    0.1,
    2 ** 53 + 1,
    -(2 ** 63),
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
  ),
  fc.constantFrom(
    new RawJson('1e400'),
    new RawJson('-1e400'),
    new RawJson('123456789012345678901234567890'),
    new RawJson('0.000000000000000000000000000001'),
  ),
  fc.boolean(),
  fc.constant(null),
);

/** Nesting `depth` deep, as raw text (JSON.stringify would recurse). */
const deepNesting = fc
  .tuple(fc.constantFrom(64, 1_000, 10_000), fc.constantFrom('array', 'object'))
  .map(([depth, kind]) =>
    kind === 'array'
      ? new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`)
      : new RawJson(`${'{"a":'.repeat(depth)}null${'}'.repeat(depth)}`),
  );

export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: oddScalar },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: fc.array(oddScalar, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(markedString, oddScalar, { maxKeys: 3 }) },
);

/** A deep copy keeping RawJson values (structuredClone would make them plain objects). */
function copyOf<T>(value: T): T {
  if (value === null || typeof value !== 'object' || value instanceof RawJson) return value;
  if (Array.isArray(value)) return value.map(copyOf) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copyOf(v)])) as T;
}

/** Every path into `value` (object keys and array indexes), the root excluded. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object' || value instanceof RawJson) return [];
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  return entries.flatMap(([key, child]) => {
    const path = [...prefix, key];
    return [path, ...pathsOf(child, path)];
  });
}

export type ShapeMutation =
  | { kind: 'replace'; at: number; value: unknown }
  | { kind: 'delete'; at: number }
  | { kind: 'add'; at: number; key: string; value: unknown };

export const shapeMutation: fc.Arbitrary<ShapeMutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('replace'), at: fc.nat(), value: oddValue }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete'), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('add'),
      at: fc.nat(),
      key: markedString,
      value: oddValue,
    }),
  },
) as fc.Arbitrary<ShapeMutation>;

/** `payload` with the mutations applied (a deep copy; the top level stays an object). */
export function mutateShape(payload: Json, mutations: readonly ShapeMutation[]): Json {
  const copy = copyOf(payload);
  for (const mutation of mutations) {
    const paths = pathsOf(copy);
    if (paths.length === 0) continue;
    const path = paths[mutation.at % paths.length]!;
    const parent = path.slice(0, -1).reduce<unknown>((v, k) => (v as Json)[k], copy) as
      Json | unknown[];
    const key = path[path.length - 1]!;
    // Values are copied in: the generator may hand the same object to two mutations.
    if (mutation.kind === 'replace') (parent as Json)[key] = copyOf(mutation.value);
    else if (mutation.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
    } else {
      const target = (parent as Json)[key];
      if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
        (target as Json)[mutation.key] = copyOf(mutation.value);
      } else (parent as Json)[key] = { [mutation.key]: copyOf(mutation.value) };
    }
  }
  return copy;
}

/** JSON text of `payload`, RawJson values written as their raw text. */
export function toJsonText(payload: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(payload, (_key, value: unknown) => {
    if (value instanceof RawJson) {
      raws.push(value.text);
      return `\u0001raw${raws.length - 1}\u0001`;
    }
    return value;
  });
  return text.replace(/"\\u0001raw(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]!);
}

// eslint-disable-next-line no-control-regex -- control characters are what is cut off
const ODD_TAIL = /[\u0000-\u001f\ud800-\udfff\uFEFF\u202E"\\'%].*$/su;

/**
 * The marked string values in `payload`, each cut before its first odd character (a message may
 * escape those) and to 32 characters: what must never appear in an error or a log line. Keys are
 * not looked for: a message may name the path.
 */
export function markedValues(payload: unknown): string[] {
  const found = new Set<string>();
  const visit = (value: unknown) => {
    if (typeof value === 'string') {
      if (value.startsWith(PII_MARKER)) {
        found.add(value.replace(ODD_TAIL, '').slice(0, 32));
      }
    } else if (value && typeof value === 'object' && !(value instanceof RawJson)) {
      for (const child of Object.values(value)) visit(child);
    }
  };
  visit(payload);
  return [...found];
}

/** A UTF-16 surrogate without its other half: no UTF-8 text, so no PostgreSQL text, can hold it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

/**
 * Whether PostgreSQL's jsonb refuses `value` (a parsed JSON body): a string or key holding U+0000
 * (jsonb has no escape for it) or a lone surrogate. The ingest keeps such a signed body as text,
 * as a dead letter from the start (app/inbox-writer.server.ts, recordUnstorableDelivery).
 */
export function jsonbRefuses(value: unknown): boolean {
  const refused = (text: string) => text.includes('\u0000') || LONE_SURROGATE.test(text);
  // A loop, not recursion: bodies nest 10,000 deep.
  const pending = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (refused(next)) return true;
    } else if (Array.isArray(next)) {
      pending.push(...(next as unknown[]));
    } else if (next !== null && typeof next === 'object') {
      for (const [key, child] of Object.entries(next)) {
        if (refused(key)) return true;
        pending.push(child);
      }
    }
  }
  return false;
}

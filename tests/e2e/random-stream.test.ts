// 1,000 orders with refunds and cancellations, delivered in random order with Shopify's duplicates,
// over real HTTP to the built server with two worker processes: every balance equals an
// independent computation from the rules.
//
// Seeded: the seed is printed; E2E_SEED=<seed> npx vitest run tests/e2e/random-stream.test.ts
// replays the same stream (the same payloads, duplicates and order of sending).
import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ledgerEntries } from '../../db/schema';
import { Rng } from '../../dev/demo/rng';
import { cancelledOrderPayload, orderPayload, refundPayload } from '../fixtures/shopify';
import { openStack, type Delivery, type Stack } from '../helpers/e2e-stack';

const SEED = process.env.E2E_SEED ?? randomBytes(6).toString('hex');
const ORDERS = 1_000;
const CUSTOMERS = 150;
const FIRST_ORDER_ID = 5_400_000_000_000;
const FIRST_CUSTOMER_ID = 7_400_000_000_000;
const FIRST_REFUND_ID = 5_490_000_000_000;

// ---------------------------------------------------------------------------------------------
// The independent model: docs/earning-rules.md and the reference program, on integer cents.
// Deliberately not loyalty/earn.ts, loyalty/reversal.ts or loyalty/settlement.ts.

/** Reference program: 1 point per whole dollar from $50 to $100, 2 per whole dollar above $100. */
function referencePoints(cents: number): number {
  const firstBand = cents > 5_000 ? Math.floor((Math.min(cents, 10_000) - 5_000) / 100) : 0;
  const secondBand = cents > 10_000 ? Math.floor((cents - 10_000) / 100) * 2 : 0;
  return firstBand + secondBand;
}

interface ModelOrder {
  orderId: string;
  /** Shopify customer id; null for a guest checkout. */
  customerId: string | null;
  test: boolean;
  pos: boolean;
  amountCents: number;
  refunds: { refundId: string; merchandiseCents: number }[];
  cancelled: boolean;
}

/** What the order should leave in the ledger: the award P and the net after reversals. */
function modelOf(order: ModelOrder): { award: number; reversed: number; net: number } {
  const award = order.customerId === null || order.test ? 0 : referencePoints(order.amountCents);
  const refunded = order.refunds.reduce((sum, r) => sum + r.merchandiseCents, 0);
  const reversed =
    order.cancelled || refunded >= order.amountCents
      ? award
      : Math.floor((award * refunded) / order.amountCents);
  return { award, reversed, net: award - reversed };
}

/** Every idempotency key the order should have: nothing unless it earns, else all of them. */
function modelKeys(order: ModelOrder): string[] {
  if (modelOf(order).award === 0) return [];
  return [
    `order:${order.orderId}:earn`,
    ...order.refunds.map((r) => `refund:${r.refundId}:reverse`),
    ...(order.cancelled ? [`order:${order.orderId}:cancel`] : []),
  ];
}

// ---------------------------------------------------------------------------------------------
// The stream

const money = (cents: number) =>
  `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

/** `2026-01-01T00:00:00-04:00` plus `minutes`, written in the shop's -04:00 offset. */
function localTime(minutes: number): string {
  const utc = Date.UTC(2026, 0, 1, 4, 0, 0) + minutes * 60_000;
  return `${new Date(utc - 4 * 3_600_000).toISOString().slice(0, 19)}-04:00`;
}

/** An amount in cents from every part of the bands, edges included. */
function drawAmount(rng: Rng): number {
  const kind = rng.weighted([
    ['edge', 20],
    ['under50', 15],
    ['band1', 25],
    ['band2', 30],
    ['large', 10],
  ] as const);
  switch (kind) {
    case 'edge':
      return rng.pick([
        0, 1, 4_999, 5_000, 5_001, 5_099, 5_100, 9_999, 10_000, 10_001, 10_099, 10_100,
      ]);
    case 'under50':
      return rng.int(1, 4_999);
    case 'band1':
      return rng.int(5_000, 10_000);
    case 'band2':
      return rng.int(10_000, 50_000);
    case 'large':
      return rng.int(50_000, 500_000);
  }
}

/** `total` split into `parts` whole-cent parts ≥ 0. */
function split(rng: Rng, total: number, parts: number): number[] {
  const cuts = Array.from({ length: parts - 1 }, () => rng.int(0, total)).sort((a, b) => a - b);
  return [...cuts, total].map((cut, i) => cut - (i === 0 ? 0 : cuts[i - 1]!));
}

interface Stream {
  orders: ModelOrder[];
  /** In the order they are sent. */
  deliveries: Delivery[];
  /** Deliveries before duplicates and re-sends (one per event). */
  events: number;
  duplicates: number;
  resent: number;
}

function buildStream(seed: string): Stream {
  const rng = new Rng(seed);
  const shape = rng.fork('shape');
  const orders: ModelOrder[] = [];
  const events: Delivery[] = [];
  let nextRefundId = FIRST_REFUND_ID;

  for (let i = 0; i < ORDERS; i++) {
    const orderId = FIRST_ORDER_ID + i;
    const guest = shape.chance(0.08);
    const customerId = guest ? null : FIRST_CUSTOMER_ID + shape.int(0, CUSTOMERS - 1);
    const test = !guest && shape.chance(0.03);
    const pos = shape.chance(0.15);
    const amountCents = drawAmount(shape);
    const shippingCents = pos || shape.chance(0.3) ? 0 : shape.int(499, 1_999);
    const taxCents = shape.chance(0.5)
      ? Math.floor((amountCents * shape.int(0, 1_000)) / 10_000)
      : 0;
    const discountCents = shape.chance(0.2) ? shape.int(100, 2_500) : 0;
    const processedMinutes = shape.int(0, 180 * 24 * 60);
    const order = orderPayload({
      id: orderId,
      customer: customerId === null ? null : { id: customerId },
      subtotal: money(amountCents),
      shipping: money(shippingCents),
      tax: money(taxCents),
      discounts: discountCents > 0 ? [{ code: 'SPRING', amount: money(discountCents) }] : [],
      sourceName: pos ? 'pos' : 'web',
      test,
      processedAt: localTime(processedMinutes),
    });
    const lineItemId = (order.line_items as { id: number }[])[0]!.id;

    // ~30% partly or wholly refunded, in 1–3 refunds; a few refunds return shipping only.
    const refundParts: number[] = [];
    if (amountCents > 0 && shape.chance(0.3)) {
      const count = shape.int(1, 3);
      const whole = shape.chance(0.4);
      const refunded = whole ? amountCents : shape.int(1, amountCents);
      refundParts.push(...split(shape, refunded, count));
    }
    const cancelled = shape.chance(0.1);
    // A cancelled paid order usually comes with a refund of everything.
    if (cancelled && refundParts.length === 0 && amountCents > 0 && shape.chance(0.5)) {
      refundParts.push(amountCents);
    }
    const refunds = refundParts.map((merchandiseCents, r) => {
      const refundId = nextRefundId++;
      const body = refundPayload({
        id: refundId,
        orderId,
        order,
        lineItems:
          merchandiseCents === 0 && shippingCents > 0
            ? []
            : [
                {
                  lineItemId,
                  subtotal: money(merchandiseCents),
                  tax: money(
                    amountCents === 0 ? 0 : Math.floor((taxCents * merchandiseCents) / amountCents),
                  ),
                  restockType: merchandiseCents === 0 ? 'no_restock' : 'return',
                },
              ],
        shipping:
          r === refundParts.length - 1 && shippingCents > 0 && shape.chance(0.5)
            ? money(shippingCents)
            : undefined,
        createdAt: localTime(processedMinutes + 60 * (r + 1)),
      });
      return { refundId: String(refundId), merchandiseCents, body };
    });

    events.push({ topic: 'orders/paid', payload: order, webhookId: randomUUIDFrom(rng) });
    for (const refund of refunds) {
      events.push({
        topic: 'refunds/create',
        payload: refund.body,
        webhookId: randomUUIDFrom(rng),
      });
    }
    if (cancelled) {
      // The cancelled order's body carries the refunds made so far, as Shopify's order bodies do.
      const withRefunds = orderPayload({
        id: orderId,
        customer: customerId === null ? null : { id: customerId },
        subtotal: money(amountCents),
        shipping: money(shippingCents),
        tax: money(taxCents),
        discounts: discountCents > 0 ? [{ code: 'SPRING', amount: money(discountCents) }] : [],
        sourceName: pos ? 'pos' : 'web',
        test,
        processedAt: localTime(processedMinutes),
        refunds: refunds.map((r) => r.body),
        financialStatus: refunds.length > 0 ? 'refunded' : 'paid',
      });
      events.push({
        topic: 'orders/cancelled',
        payload: cancelledOrderPayload(withRefunds, {
          cancelledAt: localTime(processedMinutes + 60 * (refunds.length + 2)),
          financialStatus: refunds.length > 0 ? 'refunded' : 'voided',
        }),
        webhookId: randomUUIDFrom(rng),
      });
    }
    orders.push({
      orderId: String(orderId),
      customerId: customerId === null ? null : String(customerId),
      test,
      pos,
      amountCents,
      refunds: refunds.map(({ refundId, merchandiseCents }) => ({ refundId, merchandiseCents })),
      cancelled,
    });
  }

  // Shopify's at-least-once delivery: ~15% delivered again (same webhook id, same bytes), a few
  // three times; ~5% sent again as a new delivery (new webhook id) of the same event.
  const noise = rng.fork('noise');
  const deliveries: Delivery[] = [...events];
  let duplicates = 0;
  let resent = 0;
  for (const event of events) {
    if (noise.chance(0.15)) {
      const copies = noise.chance(0.1) ? 2 : 1;
      for (let c = 0; c < copies; c++) deliveries.push(event);
      duplicates += copies;
    }
    if (noise.chance(0.05)) {
      deliveries.push({ ...event, webhookId: randomUUIDFrom(noise) });
      resent++;
    }
  }
  return {
    orders,
    deliveries: rng.fork('order').shuffle(deliveries),
    events: events.length,
    duplicates,
    resent,
  };
}

/** A UUID-shaped webhook id from the seeded stream (so E2E_SEED reproduces the ids too). */
function randomUUIDFrom(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => rng.int(0, 15).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------

let stack: Stack;

beforeAll(async () => {
  stack = await openStack();
  await stack.startWeb();
  await stack.startWorker();
  await stack.startWorker();
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    process.stdout.write(`${stack.diagnostics()}\n[random-stream] failed with E2E_SEED=${SEED}\n`);
  });
});

describe(`1,000 orders in random order with duplicates (E2E_SEED=${SEED})`, () => {
  it('every balance equals the independent computation; no key twice; no refund reverses more than its award', async () => {
    const stream = buildStream(SEED);
    const { orders, deliveries } = stream;
    process.stdout.write(
      `[random-stream] E2E_SEED=${SEED}: ${orders.length} orders, ${stream.events} events, ` +
        `${stream.duplicates} duplicates, ${stream.resent} re-sent, ${deliveries.length} POSTs\n`,
    );
    // The stream has what it must have, whatever the seed.
    const kinds = {
      guest: orders.filter((o) => o.customerId === null).length,
      test: orders.filter((o) => o.test).length,
      pos: orders.filter((o) => o.pos).length,
      refunded: orders.filter((o) => o.refunds.length > 0).length,
      wholly: orders.filter(
        (o) =>
          o.refunds.length > 1 &&
          o.refunds.reduce((s, r) => s + r.merchandiseCents, 0) === o.amountCents,
      ).length,
      cancelled: orders.filter((o) => o.cancelled).length,
      zeroEarners: orders.filter(
        (o) => o.customerId !== null && !o.test && referencePoints(o.amountCents) === 0,
      ).length,
      edges: orders.filter((o) => o.amountCents === 5_000 || o.amountCents === 10_000).length,
    };
    for (const [kind, n] of Object.entries(kinds)) expect(n, kind).toBeGreaterThan(0);
    // Refunds or cancellations sent before their order's orders/paid.
    const paidAt = new Map<string, number>();
    deliveries.forEach((d, i) => {
      if (d.topic === 'orders/paid') {
        const id = String((d.payload as { id: number }).id);
        if (!paidAt.has(id)) paidAt.set(id, i);
      }
    });
    const early = deliveries.filter((d, i) => {
      if (d.topic === 'orders/paid') return false;
      const p = d.payload as { id: number; order_id?: number };
      return i < paidAt.get(String(p.order_id ?? p.id))!;
    }).length;
    expect(early).toBeGreaterThan(50);

    const started = performance.now();
    const results = await stack.postAll(deliveries, 32);
    const sentMs = performance.now() - started;
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const distinctIds = new Set(deliveries.map((d) => d.webhookId)).size;
    // Every webhook id was stored once; the rest were recognised as repeats.
    expect(results.filter((r) => r.body.duplicate === false)).toHaveLength(distinctIds);

    await stack.waitUntilSettled(90_000);
    const settledMs = performance.now() - started;
    process.stdout.write(
      `[random-stream] ${deliveries.length} POSTs in ${Math.round(sentMs)} ms, settled after ${Math.round(settledMs)} ms\n`,
    );
    expect(await stack.inboxCounts()).toEqual({ received: 0, processed: distinctIds, dead: 0 });
    expect((await stack.queue.getJobCounts('failed')).failed).toBe(0);

    // No idempotency key twice, and exactly the keys the rules call for.
    const counts = await stack.entryCountsByKey();
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
    expect([...counts.keys()].sort()).toEqual(orders.flatMap(modelKeys).sort());

    // Per order: the award is P, the reversals never exceed it, and the net is the model's.
    const entries = await stack.db.db
      .select({
        id: ledgerEntries.id,
        key: ledgerEntries.idempotencyKey,
        points: ledgerEntries.points,
        reverses: ledgerEntries.reversesEntryId,
      })
      .from(ledgerEntries)
      .where(eq(ledgerEntries.shopId, stack.shop.id));
    const awardByOrder = new Map(
      entries.filter((e) => e.key.endsWith(':earn')).map((e) => [e.key.split(':')[1]!, e]),
    );
    const reversedByAward = new Map<number, number>();
    for (const e of entries.filter((e) => e.reverses !== null)) {
      expect(e.points, `${e.key} reverses, never gives`).toBeLessThanOrEqual(0);
      reversedByAward.set(e.reverses!, (reversedByAward.get(e.reverses!) ?? 0) - e.points);
    }
    const mismatches: string[] = [];
    for (const order of orders) {
      const model = modelOf(order);
      const award = awardByOrder.get(order.orderId);
      const awarded = award?.points ?? 0;
      const reversed = award ? (reversedByAward.get(award.id) ?? 0) : 0;
      if (reversed > awarded)
        mismatches.push(`${order.orderId}: reversed ${reversed} > award ${awarded}`);
      if (awarded !== model.award || reversed !== model.reversed) {
        mismatches.push(
          `${order.orderId} (${JSON.stringify(order)}): ledger ${awarded}/−${reversed}, model ${model.award}/−${model.reversed}`,
        );
      }
    }
    expect(mismatches).toEqual([]);

    // Per customer: projection = Σ entries = the model, for everyone the orders named.
    const expected = new Map<string, number>();
    for (const order of orders) {
      if (order.customerId === null) continue;
      expected.set(order.customerId, (expected.get(order.customerId) ?? 0) + modelOf(order).net);
    }
    const balances = await stack.balances();
    expect([...balances.keys()].sort()).toEqual([...expected.keys()].sort());
    const wrong = [...expected]
      .filter(([id, points]) => {
        const b = balances.get(id)!;
        return b.balance !== points || b.entriesSum !== points;
      })
      .map(([id, points]) => `${id}: expected ${points}, got ${JSON.stringify(balances.get(id))}`);
    expect(wrong).toEqual([]);
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    // No guest order has an award (nobody claimed them: no customers/create in the stream).
    const guestOrders = orders.filter((o) => o.customerId === null).map((o) => o.orderId);
    for (const orderId of guestOrders) expect(awardByOrder.has(orderId)).toBe(false);
  }, 150_000);
});

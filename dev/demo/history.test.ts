import { describe, expect, it } from 'vitest';
import {
  earnPoints,
  explainReversal,
  monthKeyOfInstant,
  parseCustomerPayload,
  parseOrderPayload,
  parseProgram,
  parseRefundPayload,
  referenceProgram,
  type OrderFacts,
} from '../../loyalty/index';
import {
  cancelledOrderPayload,
  customerPayload,
  orderPayload,
  refundPayload,
} from '../shopify-payloads';
import { webhookIdFor, type Delivery } from './deliveries';
import {
  expectedReport,
  expectedResults,
  generateHistory,
  referencePoints,
  type StoreHistory,
} from './history';

type Json = Record<string, unknown>;

const SHOP = 'laurel-demo.myshopify.com';
const TZ = 'America/New_York';

// One history shared by the read-only checks (generating it takes ~0.1 s).
const history = generateHistory({ shop: SHOP, seed: 1, firstMonth: '2026-01', timezone: TZ });
const byTopic = (h: StoreHistory, topic: string) => h.deliveries.filter((d) => d.topic === topic);
const paid = byTopic(history, 'orders/paid');
const paidFacts = paid.map((d) => parseOrderPayload(d.payload));
const refunds = byTopic(history, 'refunds/create').map((d) => parseRefundPayload(d.payload));
const cancellations = byTopic(history, 'orders/cancelled').map((d) => parseOrderPayload(d.payload));

describe('generateHistory: determinism', () => {
  it('gives the same history, webhook ids included, for the same options', () => {
    const again = generateHistory({ shop: SHOP, seed: 1, firstMonth: '2026-01', timezone: TZ });
    expect(JSON.stringify(again)).toBe(JSON.stringify(history));
  });

  it('gives a different history, with no id in common, for another seed or other months', () => {
    const ids = (h: StoreHistory) => new Set(h.deliveries.map((d) => d.webhookId));
    const mine = ids(history);
    for (const other of [
      generateHistory({ shop: SHOP, seed: 2, firstMonth: '2026-01', timezone: TZ }),
      generateHistory({ shop: SHOP, seed: 1, firstMonth: '2026-02', timezone: TZ }),
    ]) {
      expect([...ids(other)].filter((id) => mine.has(id))).toEqual([]);
      expect(other.customers.map((c) => c.email)).not.toEqual(
        history.customers.map((c) => c.email),
      );
    }
  });

  it('takes the three full months before `now`, in the shop timezone', () => {
    const months = (now: string, timezone = TZ) =>
      generateHistory({ shop: SHOP, now: new Date(now), timezone, customers: 5 }).months;
    expect(months('2026-04-15T12:00:00Z')).toEqual(['2026-01', '2026-02', '2026-03']);
    // 02:00 UTC on 1 April is still 31 March in New York.
    expect(months('2026-04-01T02:00:00Z')).toEqual(['2025-12', '2026-01', '2026-02']);
    expect(months('2026-04-01T02:00:00Z', 'UTC')).toEqual(['2026-01', '2026-02', '2026-03']);
    expect(months('2026-02-10T00:00:00Z')).toEqual(['2025-11', '2025-12', '2026-01']);
  });
});

describe('generateHistory: shape', () => {
  it('has 200 customers, each created once, with realistic unique emails and some birthdays', () => {
    const created = byTopic(history, 'customers/create').map((d) =>
      parseCustomerPayload(d.payload),
    );
    expect(history.stats.customers).toBe(200);
    expect(created).toHaveLength(200);
    expect(new Set(created.map((c) => c.id)).size).toBe(200);
    const emails = created.map((c) => c.email!);
    expect(new Set(emails).size).toBe(200);
    for (const email of emails)
      expect(email).toMatch(/^[a-z0-9._]+@(example\.(com|net|org)|mail\.example)$/);
    const birthdays = created.filter((c) => c.birthday !== null).length;
    expect(birthdays).toBeGreaterThan(40);
    expect(birthdays).toBeLessThan(120);
    // Names keep their accents (José, Müller); emails are plain ASCII.
    expect(created.some((c) => /[^A-Za-z' ]/.test(`${c.firstName}${c.lastName}`))).toBe(true);
  });

  it('puts every order, refund and cancellation inside exactly the three months', () => {
    expect(history.months).toEqual(['2026-01', '2026-02', '2026-03']);
    expect(history.from).toBe('2026-01-01T05:00:00.000Z');
    expect(history.to).toBe('2026-04-01T04:00:00.000Z');
    const months = new Set(paidFacts.map((o) => monthKeyOfInstant(o.processedAt, TZ)));
    expect([...months].sort()).toEqual(history.months);
    const from = Date.parse(history.from);
    const to = Date.parse(history.to);
    for (const t of [
      ...paidFacts.map((o) => o.processedAt),
      ...refunds.map((r) => r.processedAt),
      ...cancellations.map((o) => o.cancelledAt!),
    ]) {
      expect(t).toBeGreaterThanOrEqual(from);
      expect(t).toBeLessThan(to);
    }
    expect(paid.length).toBeGreaterThan(450);
    expect(paid.length).toBeLessThan(750);
  });

  it('writes timestamps with the shop offset, EST in winter and EDT after 8 March', () => {
    const processed = paid.map((d) => String(d.payload.processed_at));
    expect(processed.find((t) => t.startsWith('2026-01-'))).toMatch(/-05:00$/);
    expect(processed.find((t) => t.startsWith('2026-03-2'))).toMatch(/-04:00$/);
    for (const d of paid)
      expect(Date.parse(String(d.payload.processed_at))).toBe(Date.parse(d.occurredAt));
  });

  it('is in order: by time, a customer before their orders, an order before its refunds', () => {
    const times = history.deliveries.map((d) => Date.parse(d.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const seen = new Set<string>();
    for (const d of history.deliveries) {
      const p = d.payload as Json;
      if (d.topic === 'customers/create') seen.add(`customer:${p.id}`);
      if (d.topic === 'orders/paid') {
        const customer = p.customer as Json | null;
        if (customer) expect(seen.has(`customer:${customer.id}`)).toBe(true);
        seen.add(`order:${p.id}`);
      }
      if (d.topic === 'refunds/create') expect(seen.has(`order:${p.order_id}`)).toBe(true);
      if (d.topic === 'orders/cancelled') expect(seen.has(`order:${p.id}`)).toBe(true);
    }
  });

  it('parses: every payload is accepted by loyalty/shopify-order.ts and survives JSON', () => {
    const topics = new Set<string>();
    for (const d of history.deliveries) {
      topics.add(d.topic);
      expect(JSON.parse(JSON.stringify(d.payload))).toEqual(d.payload);
      if (d.topic === 'customers/create') parseCustomerPayload(d.payload);
      else if (d.topic === 'refunds/create') parseRefundPayload(d.payload);
      else parseOrderPayload(d.payload);
    }
    expect([...topics].sort()).toEqual([
      'customers/create',
      'orders/cancelled',
      'orders/paid',
      'refunds/create',
    ]);
  });

  it('has stable, unique webhook ids derived from shop, topic and resource', () => {
    const ids = history.deliveries.map((d) => d.webhookId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const d of history.deliveries) {
      const p = d.payload as Json;
      expect(d.webhookId).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(d.webhookId).toBe(webhookIdFor(SHOP, d.topic, p.id as number));
    }
    const otherShop = generateHistory({
      shop: 'other.myshopify.com',
      seed: 1,
      firstMonth: '2026-01',
      timezone: TZ,
    });
    expect(otherShop.deliveries[0]!.payload).toEqual(history.deliveries[0]!.payload);
    expect(otherShop.deliveries[0]!.webhookId).not.toBe(history.deliveries[0]!.webhookId);
  });
});

describe('generateHistory: a realistic mix', () => {
  const count = (predicate: (o: OrderFacts) => boolean) => paidFacts.filter(predicate).length;

  it('is mostly online, with POS, draft, guest and test orders', () => {
    const total = paidFacts.length;
    expect(count((o) => o.sourceName === 'web') / total).toBeGreaterThan(0.7);
    expect(count((o) => o.sourceName === 'pos')).toBeGreaterThan(20);
    expect(count((o) => o.sourceName === 'shopify_draft_order')).toBeGreaterThan(0);
    expect(count((o) => o.customer === null)).toBeGreaterThanOrEqual(3);
    expect(count((o) => o.customer === null && o.email === null)).toBe(1);
    expect(count((o) => o.test)).toBe(2);
    const testOrders = paid.filter((d) => d.payload.test === true);
    expect(
      testOrders.every((d) => (d.payload.payment_gateway_names as string[])[0] === 'bogus'),
    ).toBe(true);
    // Guests never share an address with a customer (nothing for a later sign-up to claim).
    const customerEmails = new Set(history.customers.map((c) => c.email));
    expect(paidFacts.filter((o) => o.customer === null && customerEmails.has(o.email!))).toEqual(
      [],
    );
  });

  it('has discount codes and presentment currencies other than the shop currency', () => {
    const codes = new Set(
      paid.flatMap((d) => (d.payload.discount_codes as Json[]).map((c) => c.code)),
    );
    expect([...codes].sort()).toEqual(['SPRING15', 'TEATIME5', 'WELCOME10']);
    const presentment = new Set(paidFacts.map((o) => o.presentmentCurrency));
    expect(presentment.has('USD')).toBe(true);
    expect(presentment.size).toBeGreaterThanOrEqual(3);
    expect(paidFacts.every((o) => o.shopCurrency === 'USD')).toBe(true);
  });

  it('exercises every earn band and its edges', () => {
    const amounts = new Set(paidFacts.map((o) => o.earnAmountMinor));
    for (const edge of [4999, 5000, 5099, 5100, 10000, 10099, 10100, 12000]) {
      expect(amounts.has(edge), `an order of ${edge} cents`).toBe(true);
    }
    expect(count((o) => o.earnAmountMinor < 5000)).toBeGreaterThan(100);
    expect(count((o) => o.earnAmountMinor > 5000 && o.earnAmountMinor <= 10000)).toBeGreaterThan(
      50,
    );
    expect(count((o) => o.earnAmountMinor > 10000)).toBeGreaterThan(50);
  });

  it('has partial, two-part, full and shipping-only refunds, fees kept, and cancellations', () => {
    const orderAmount = new Map(paidFacts.map((o) => [o.orderId, o.earnAmountMinor]));
    const cancelled = new Set(cancellations.map((o) => o.orderId));
    const perOrder = new Map<string, number>();
    for (const r of refunds) perOrder.set(r.orderId, (perOrder.get(r.orderId) ?? 0) + 1);
    const partial = refunds.filter(
      (r) => r.merchandiseMinor > 0 && r.merchandiseMinor < orderAmount.get(r.orderId)!,
    );
    expect(partial.length).toBeGreaterThan(5);
    expect(
      refunds.filter((r) => r.merchandiseMinor === orderAmount.get(r.orderId)).length,
    ).toBeGreaterThan(5);
    expect([...perOrder.values()].some((n) => n >= 2)).toBe(true);
    expect(
      refunds.filter((r) => r.merchandiseMinor === 0 && r.shippingMinor > 0).length,
    ).toBeGreaterThanOrEqual(2);
    expect(refunds.some((r) => r.discrepancyMinor > 0)).toBe(true);
    const raw = byTopic(history, 'refunds/create').map((d) => d.payload);
    expect(
      raw.some((p) => (p.order_adjustments as Json[]).some((a) => a.kind === 'shipping_refund')),
    ).toBe(true);
    expect(cancelled.size).toBeGreaterThanOrEqual(3);
    const refundedOrders = new Set(refunds.map((r) => r.orderId));
    expect([...cancelled].some((id) => refundedOrders.has(id))).toBe(true);
    expect([...cancelled].some((id) => !refundedOrders.has(id))).toBe(true);
    // Some reversals land in a later month than their order.
    const orderMonth = new Map(
      paidFacts.map((o) => [o.orderId, monthKeyOfInstant(o.processedAt, TZ)]),
    );
    expect(
      refunds.some((r) => monthKeyOfInstant(r.processedAt, TZ) !== orderMonth.get(r.orderId)),
    ).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Expected results, checked by hand

let nextId = 900;
function delivery(topic: Delivery['topic'], payload: Json): Delivery {
  return { topic, payload, webhookId: `w${nextId++}`, occurredAt: '2026-01-01T00:00:00Z' };
}
const ada = { id: 101, email: 'ada@example.com' };
const order = (
  id: number,
  subtotal: string,
  extra: Parameters<typeof orderPayload>[0] | object = {},
) =>
  orderPayload({ id, subtotal, customer: ada, processedAt: '2026-01-15T10:00:00-05:00', ...extra });
const results = (deliveries: Delivery[], timezone = TZ) =>
  expectedResults(deliveries, { timezone });
const balanceOf = (deliveries: Delivery[], id = '101') =>
  results(deliveries).customers.find((c) => c.customerId === id)?.balance;

describe('referencePoints (the reference program, from its definition)', () => {
  it.each([
    [0, 0],
    [4999, 0],
    [5000, 0],
    [5099, 0],
    [5100, 1],
    [10000, 50],
    [10099, 50],
    [10100, 52],
    [12000, 90],
    [31025, 470],
  ])('%i cents → %i points', (cents, points) => {
    expect(referencePoints(cents)).toBe(points);
  });
});

describe('expectedResults', () => {
  it.each([
    ['120.00', 90],
    ['50.00', 0],
    ['100.00', 50],
    ['100.99', 50],
    ['101.00', 52],
  ])('an order of $%s earns %i', (subtotal, points) => {
    expect(
      balanceOf([
        delivery('customers/create', customerPayload(ada)),
        delivery('orders/paid', order(1, subtotal)),
      ]),
    ).toBe(points);
  });

  it('earns on the subtotal after discounts in shop money, not on shipping, tax or presentment', () => {
    const o = order(2, '100.00', {
      subtotal: undefined,
      lineItems: [{ price: '110.00' }],
      discounts: [{ code: 'WELCOME10', amount: '10.00' }],
      shipping: '15.00',
      tax: '8.88',
      presentmentCurrency: 'CAD',
      presentmentRate: '1.3650',
    });
    expect(balanceOf([delivery('orders/paid', o)])).toBe(50);
  });

  it('gives nothing for test orders and guest orders; POS earns', () => {
    expect(balanceOf([delivery('orders/paid', order(3, '120.00', { test: true }))])).toBe(0);
    expect(balanceOf([delivery('orders/paid', order(4, '120.00', { sourceName: 'pos' }))])).toBe(
      90,
    );
    const guest = results([delivery('orders/paid', order(5, '120.00', { customer: null }))]);
    expect(guest.customers).toEqual([]);
    expect(guest.entries).toEqual([]);
  });

  it('lets a later sign-up with the same email claim a guest order, in the order month', () => {
    const r = results([
      delivery('orders/paid', order(6, '120.00', { customer: null, email: ' Ada@Example.com ' })),
      delivery(
        'customers/create',
        customerPayload({ ...ada, createdAt: '2026-02-03T09:00:00-05:00' }),
      ),
    ]);
    expect(r.entries).toEqual([
      { key: 'order:6:earn', customerId: '101', month: '2026-01', points: 90 },
    ]);
  });

  it('reverses a half refund by half and the rest to zero (docs/earning-rules.md worked example)', () => {
    const o = order(7, '120.00', {
      subtotal: undefined,
      lineItems: [{ price: '20.00' }, { price: '100.00' }],
    });
    const [small, big] = (o.line_items as Json[]).map((l) => l.id as number) as [number, number];
    const refundOf = (id: number, lineItemId: number) =>
      delivery(
        'refunds/create',
        refundPayload({ id, orderId: 7, order: o, lineItems: [{ lineItemId }] }),
      );
    const half = results([
      delivery('orders/paid', order(8, '120.00')),
      delivery(
        'refunds/create',
        refundPayload({ id: 80, orderId: 8, lineItems: [{ lineItemId: 1, subtotal: '60.00' }] }),
      ),
    ]);
    expect(half.customers[0]!.balance).toBe(45);
    const inOrder = results([delivery('orders/paid', o), refundOf(70, small), refundOf(71, big)]);
    expect(inOrder.entries.map((e) => e.points)).toEqual([90, -15, -75]);
    const reversed = results([delivery('orders/paid', o), refundOf(71, big), refundOf(70, small)]);
    expect(reversed.entries.map((e) => e.points)).toEqual([90, -75, -15]);
  });

  it('floors each cumulative step and lands exactly on P with the last refund', () => {
    const thirds = ['33.67', '33.67', '33.66'].map((subtotal, i) =>
      delivery(
        'refunds/create',
        refundPayload({ id: 90 + i, orderId: 9, lineItems: [{ lineItemId: 1, subtotal }] }),
      ),
    );
    const r = results([delivery('orders/paid', order(9, '101.00')), ...thirds]);
    // 52 points on $101.00: floor(52 × 3367/10100) = 17, floor(52 × 6734/10100) = 34, then 52.
    expect(r.entries.map((e) => e.points)).toEqual([52, -17, -17, -18]);
    expect(r.customers[0]!.balance).toBe(0);
  });

  it('reverses nothing for shipping-only refunds; a cancellation takes the remainder', () => {
    const o = order(10, '120.00', { shipping: '5.00' });
    const r = results([
      delivery('orders/paid', o),
      delivery(
        'refunds/create',
        refundPayload({
          id: 100,
          orderId: 10,
          order: o,
          shipping: '5.00',
          createdAt: '2026-01-16T10:00:00-05:00',
        }),
      ),
      delivery(
        'refunds/create',
        refundPayload({
          id: 101,
          orderId: 10,
          lineItems: [{ lineItemId: 1, subtotal: '20.00' }],
          createdAt: '2026-01-20T10:00:00-05:00',
        }),
      ),
      delivery(
        'orders/cancelled',
        cancelledOrderPayload(o, { cancelledAt: '2026-02-02T10:00:00-05:00' }),
      ),
    ]);
    expect(r.entries.map((e) => [e.key, e.month, e.points])).toEqual([
      ['order:10:earn', '2026-01', 90],
      ['refund:100:reverse', '2026-01', 0],
      ['refund:101:reverse', '2026-01', -15],
      ['order:10:cancel', '2026-02', -75],
    ]);
    expect(expectedReport(r)).toEqual({
      months: ['2026-01', '2026-02'],
      customers: [{ customerId: '101', monthly: { '2026-01': 75, '2026-02': -75 }, total: 0 }],
      totals: { monthly: { '2026-01': 75, '2026-02': -75 }, total: 0 },
    });
  });

  it('waits with a refund that arrives before its order', () => {
    const r = results([
      delivery(
        'refunds/create',
        refundPayload({
          id: 110,
          orderId: 11,
          lineItems: [{ lineItemId: 1, subtotal: '60.00' }],
          createdAt: '2026-01-20T10:00:00-05:00',
        }),
      ),
      delivery('orders/paid', order(11, '120.00')),
    ]);
    expect(r.entries.map((e) => e.points)).toEqual([90, -45]);
  });

  it('buckets by month in the given timezone', () => {
    const late = [
      delivery('orders/paid', order(12, '120.00', { processedAt: '2026-01-31T23:30:00-05:00' })),
    ];
    expect(results(late, 'America/New_York').entries[0]!.month).toBe('2026-01');
    expect(results(late, 'UTC').entries[0]!.month).toBe('2026-02');
  });

  it('lists customers with 0 points only when asked for every customer who ordered', () => {
    const r = results([
      delivery('orders/paid', order(13, '49.99')),
      delivery(
        'orders/paid',
        order(14, '120.00', { customer: { id: 202 }, processedAt: '2026-03-01T12:00:00-05:00' }),
      ),
    ]);
    expect(expectedReport(r).customers.map((c) => c.customerId)).toEqual(['202']);
    expect(expectedReport(r, { include: 'ordered' })).toEqual({
      months: ['2026-01', '2026-02', '2026-03'],
      customers: [
        { customerId: '101', monthly: { '2026-01': 0, '2026-02': 0, '2026-03': 0 }, total: 0 },
        { customerId: '202', monthly: { '2026-01': 0, '2026-02': 0, '2026-03': 90 }, total: 90 },
      ],
      totals: { monthly: { '2026-01': 0, '2026-02': 0, '2026-03': 90 }, total: 90 },
    });
  });

  it('refuses an order in another shop currency (the reference program is USD)', () => {
    expect(() =>
      results([delivery('orders/paid', order(15, '120.00', { currency: 'EUR' }))]),
    ).toThrow(/delivery 0 \(orders\/paid\): .*EUR; the reference program is in USD/);
  });
});

describe('expectedResults on the generated history', () => {
  const expected = expectedResults(history.deliveries, { timezone: TZ });

  it('agrees with loyalty/earn.ts and loyalty/reversal.ts applied to the parsed payloads', () => {
    // The production maths, wired the simple way: this is what the workers should come to.
    const program = parseProgram(referenceProgram);
    const monthly = new Map<string, number>();
    const add = (customerId: string, at: number, points: number) => {
      const key = `${customerId} ${monthKeyOfInstant(at, TZ)}`;
      monthly.set(key, (monthly.get(key) ?? 0) + points);
    };
    const awards = new Map<
      string,
      { customerId: string; points: number; amount: number; refunded: number; reversed: number }
    >();
    for (const d of history.deliveries) {
      if (d.topic === 'orders/paid') {
        const o = parseOrderPayload(d.payload);
        const points = earnPoints(program, o.earnAmountMinor);
        if (o.customer && !o.test && points > 0) {
          awards.set(o.orderId, {
            customerId: o.customer.id,
            points,
            amount: o.earnAmountMinor,
            refunded: 0,
            reversed: 0,
          });
          add(o.customer.id, o.processedAt, points);
        }
      } else if (d.topic === 'refunds/create' || d.topic === 'orders/cancelled') {
        const refund = d.topic === 'refunds/create' ? parseRefundPayload(d.payload) : null;
        const cancelled = d.topic === 'orders/cancelled' ? parseOrderPayload(d.payload) : null;
        const award = awards.get(refund?.orderId ?? cancelled!.orderId);
        if (!award) continue;
        if (refund) award.refunded += refund.merchandiseMinor;
        const { delta } = explainReversal({
          award: { points: award.points, amountMinor: award.amount },
          refundedMinorTotal: award.refunded,
          cancelled: cancelled !== null,
          alreadyReversed: award.reversed,
        });
        award.reversed += delta;
        add(award.customerId, refund?.processedAt ?? cancelled!.cancelledAt!, -delta);
      }
    }
    const fromExpected = new Map<string, number>();
    for (const c of expected.customers) {
      for (const [month, points] of Object.entries(c.monthly))
        fromExpected.set(`${c.customerId} ${month}`, points);
    }
    expect(Object.fromEntries(fromExpected)).toEqual(Object.fromEntries(monthly));
  });

  it('has a report whose total is the sum of its months and of the balances', () => {
    const report = expectedReport(expected);
    expect(report.months).toEqual(history.months);
    expect(report.customers.length).toBeGreaterThan(80);
    const sumOfMonths = Object.values(report.totals.monthly).reduce((a, b) => a + b, 0);
    expect(report.totals.total).toBe(sumOfMonths);
    expect(expected.customers.reduce((a, c) => a + c.balance, 0)).toBe(report.totals.total);
    expect(report.customers.every((c) => c.total >= 0)).toBe(true);
    expect(expected.entries.some((e) => e.points < 0)).toBe(true);
    // Test orders earn nothing; the edge orders earn what the bands say.
    const orders = new Map(expected.orders.map((o) => [o.orderId, o]));
    for (const o of paidFacts.filter((f) => f.test)) expect(orders.get(o.orderId)!.points).toBe(0);
  });
});

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { shopifyHmac } from '../shopify-payloads';
import { resourceOf } from './deliveries';
import { generateHistory } from './history';
import { replayDeliveries, ReplayError, type ReplayDelivery } from './replay';

const SHOP = 'laurel-demo.myshopify.com';
const SECRET = 'replay-test-secret';
const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 20 };

/** What should happen to successive attempts of a webhook id (then 200). */
type Fault = '503' | '429' | 'drop' | '400';

interface Arrival {
  webhookId: string;
  topic: string;
  bodyHash: string;
  hmac: string;
  /** Order in which requests started / were answered. */
  startedAt: number;
  answeredAt: number;
  status: number | 'dropped';
}

/** A stand-in for the app's webhook routes: checks every signature, records every request. */
class FakeApp {
  readonly arrivals: Arrival[] = [];
  readonly faults = new Map<string, Fault[]>();
  inFlight = 0;
  maxInFlight = 0;
  private clock = 0;
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = ++this.clock;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const webhookId = String(req.headers['x-shopify-webhook-id']);
    const topic = String(req.headers['x-shopify-topic']);
    const hmac = String(req.headers['x-shopify-hmac-sha256']);
    const arrival: Arrival = {
      webhookId,
      topic,
      bodyHash: createHash('sha256').update(raw).digest('hex'),
      hmac,
      startedAt,
      answeredAt: 0,
      status: 200,
    };
    this.arrivals.push(arrival);
    // Let other requests overlap with this one.
    await new Promise((resolve) => setTimeout(resolve, 1 + (startedAt % 4)));
    const answer = (status: number, text = '', headers: Record<string, string> = {}) => {
      arrival.status = status;
      arrival.answeredAt = ++this.clock;
      this.inFlight--;
      res.writeHead(status, { 'Content-Type': 'text/plain', ...headers }).end(text);
    };

    const expected = Buffer.from(shopifyHmac(raw.toString('utf8'), SECRET));
    const given = Buffer.from(hmac);
    const headersOk =
      req.method === 'POST' &&
      req.url === `/webhooks/${topic}` &&
      req.headers['x-shopify-shop-domain'] === SHOP &&
      req.headers['x-shopify-api-version'] === '2026-07' &&
      req.headers['content-type'] === 'application/json' &&
      typeof req.headers['x-shopify-event-id'] === 'string' &&
      !Number.isNaN(Date.parse(String(req.headers['x-shopify-triggered-at'])));
    if (!headersOk) return answer(400, `bad headers for ${req.url}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return answer(401, 'HMAC validation failed');
    }
    const fault = this.faults.get(webhookId)?.shift();
    if (fault === 'drop') {
      arrival.status = 'dropped';
      arrival.answeredAt = ++this.clock;
      this.inFlight--;
      req.socket.destroy();
      return;
    }
    if (fault === '503') return answer(503, 'Service Unavailable');
    if (fault === '429') return answer(429, 'Too Many Requests', { 'Retry-After': '0' });
    if (fault === '400')
      return answer(400, 'orders/paid: subtotal_price_set.shop_money.amount: is required');
    answer(200);
  }

  /** Arrivals that were answered 200, keyed by webhook id. */
  accepted(): Map<string, Arrival> {
    return new Map(this.arrivals.filter((a) => a.status === 200).map((a) => [a.webhookId, a]));
  }
}

let app: FakeApp;
afterEach(async () => {
  await app?.stop();
});

const history = generateHistory({ shop: SHOP, seed: 7, firstMonth: '2026-01', customers: 25 });
const deliveries: ReplayDelivery[] = history.deliveries;

/** Every delivery's predecessors (the last earlier delivery of each resource it follows). */
function predecessors(list: readonly ReplayDelivery[]): Map<string, string[]> {
  const last = new Map<string, string>();
  const out = new Map<string, string[]>();
  for (const d of list) {
    const { key, after } = resourceOf(d);
    out.set(
      d.webhookId,
      [key, ...after].flatMap((k) => (last.has(k) ? [last.get(k)!] : [])),
    );
    last.set(key, d.webhookId);
  }
  return out;
}

describe('replayDeliveries', () => {
  it('signs and sends every delivery once, in parallel, keeping each resource in order', async () => {
    app = await new FakeApp().start();
    const progress: number[] = [];
    const result = await replayDeliveries({
      baseUrl: app.url,
      shop: SHOP,
      secret: SECRET,
      deliveries,
      concurrency: 8,
      onProgress: (done, total) => {
        expect(total).toBe(deliveries.length);
        progress.push(done);
      },
    });
    expect(result).toMatchObject({ sent: deliveries.length, failed: 0, failures: [] });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(app.arrivals).toHaveLength(deliveries.length);
    const accepted = app.accepted();
    expect(accepted.size).toBe(deliveries.length);
    // Bodies are the payloads, byte for byte.
    for (const d of deliveries) {
      expect(accepted.get(d.webhookId)!.bodyHash).toBe(
        createHash('sha256').update(JSON.stringify(d.payload)).digest('hex'),
      );
    }
    // Each delivery started only after its predecessors were answered.
    for (const [id, before] of predecessors(deliveries)) {
      for (const p of before)
        expect(accepted.get(p)!.answeredAt).toBeLessThan(accepted.get(id)!.startedAt);
    }
    expect(app.maxInFlight).toBeGreaterThan(1);
    expect(app.maxInFlight).toBeLessThanOrEqual(8);
    expect(progress[0]).toBe(0);
    expect(progress[progress.length - 1]).toBe(deliveries.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('retries 503s, 429s and a dropped connection with the same webhook id and the same bytes', async () => {
    app = await new FakeApp().start();
    const order = deliveries.find((d) => d.topic === 'orders/paid')!;
    const refund = deliveries.find((d) => d.topic === 'refunds/create')!;
    const customer = deliveries[3]!;
    app.faults.set(order.webhookId, ['503', '503']);
    app.faults.set(refund.webhookId, ['drop']);
    app.faults.set(customer.webhookId, ['429', 'drop', '503']);
    const result = await replayDeliveries({
      baseUrl: app.url,
      shop: SHOP,
      secret: SECRET,
      deliveries,
      retry: FAST_RETRY,
    });
    expect(result).toMatchObject({ sent: deliveries.length, failed: 0 });
    for (const [d, tries] of [
      [order, 3],
      [refund, 2],
      [customer, 4],
    ] as const) {
      const attempts = app.arrivals.filter((a) => a.webhookId === d.webhookId);
      expect(attempts).toHaveLength(tries);
      expect(new Set(attempts.map((a) => a.bodyHash)).size).toBe(1);
      expect(new Set(attempts.map((a) => a.hmac)).size).toBe(1);
      expect(attempts[attempts.length - 1]!.status).toBe(200);
    }
    expect(app.accepted().size).toBe(deliveries.length);
  });

  it('stops at once with a clear error when the app answers 400, without retrying it', async () => {
    app = await new FakeApp().start();
    const bad = deliveries.filter((d) => d.topic === 'orders/paid')[1]!;
    app.faults.set(bad.webhookId, ['400']);
    const failure = await replayDeliveries({
      baseUrl: app.url,
      shop: SHOP,
      secret: SECRET,
      deliveries,
      concurrency: 2,
      retry: FAST_RETRY,
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ReplayError);
    const error = failure as ReplayError;
    expect(error.message).toContain(
      `POST ${app.url}/webhooks/orders/paid (webhook ${bad.webhookId})`,
    );
    expect(error.message).toContain('answered 400 Bad Request: orders/paid: subtotal_price_set');
    expect(error.message).toContain('so the replay stops instead of retrying');
    expect(error.details).toMatchObject({
      status: 400,
      topic: 'orders/paid',
      webhookId: bad.webhookId,
    });
    expect(app.arrivals.filter((a) => a.webhookId === bad.webhookId)).toHaveLength(1);
    // It stopped: most deliveries were never sent.
    expect(app.arrivals.length).toBeLessThan(deliveries.length / 2);
  });

  it('says so when the signature is refused (wrong secret)', async () => {
    app = await new FakeApp().start();
    await expect(
      replayDeliveries({
        baseUrl: app.url,
        shop: SHOP,
        secret: 'not-the-secret',
        deliveries: deliveries.slice(0, 3),
      }),
    ).rejects.toThrow(
      /answered 401 Unauthorized: HMAC validation failed\nthe app rejected the signature/,
    );
  });

  it('counts a delivery that keeps failing, and does not send what must follow it', async () => {
    app = await new FakeApp().start();
    const customer = deliveries.find(
      (d) =>
        d.topic === 'customers/create' &&
        deliveries.some(
          (o) => o.topic === 'orders/paid' && resourceOf(o).after.includes(resourceOf(d).key),
        ),
    )!;
    const followers = deliveries.filter((d) =>
      resourceOf(d).after.includes(resourceOf(customer).key),
    );
    app.faults.set(customer.webhookId, ['503', '503', '503']);
    const result = await replayDeliveries({
      baseUrl: app.url,
      shop: SHOP,
      secret: SECRET,
      deliveries,
      retry: { ...FAST_RETRY, attempts: 3 },
    });
    // Its orders are not sent, nor the refunds and cancellations of those orders.
    const notSent = new Set(
      deliveries.filter((d) => !app.accepted().has(d.webhookId)).map((d) => d.webhookId),
    );
    for (const d of followers) expect(notSent.has(d.webhookId)).toBe(true);
    expect(result.failed).toBe(notSent.size);
    expect(result.sent).toBe(deliveries.length - notSent.size);
    expect(result.failures[0]).toEqual({
      webhookId: customer.webhookId,
      topic: 'customers/create',
      attempts: 3,
      reason: '503 Service Unavailable',
    });
    expect(
      result.failures.slice(1).every((f) => f.reason.includes(`follows ${customer.webhookId}`)),
    ).toBe(true);
  });

  it('gives up when the app is not there at all', async () => {
    app = await new FakeApp().start();
    const url = app.url;
    await app.stop();
    app = await new FakeApp().start(); // for afterEach; the replay talks to the stopped one
    const failure = (await replayDeliveries({
      baseUrl: url,
      shop: SHOP,
      secret: SECRET,
      deliveries,
      retry: { ...FAST_RETRY, attempts: 2 },
      maxFailures: 3,
    }).catch((e: unknown) => e)) as ReplayError;
    expect(failure).toBeInstanceOf(ReplayError);
    expect(failure.message).toMatch(
      /gave up after 3 deliveries failed despite 2 attempts each; the last: POST .* ECONNREFUSED/,
    );
    expect(failure.message).toContain(`Is the app running at ${url}?`);
    expect(failure.details.result.sent).toBe(0);
  });
});

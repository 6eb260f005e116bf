/**
 * The admin's customers pages through the built server (`node dist/server.mjs`) on this file's own
 * PostgreSQL database, with App Bridge session tokens minted as Shopify mints them (Remix
 * single-fetch `.data` requests, decoded as the browser decodes them): the list's search, sort,
 * paging and bad parameters; a member's standing and explained ledger; another shop's member
 * (404); and the adjustment form — inline errors with nothing posted, a debit past the balance,
 * a double submit posted once, the staff member recorded, and the storefront sync enqueued.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureCustomer,
  ensureCustomers,
  redactCustomer,
  type Customer,
} from '../../app/models/customers.server';
import { balanceOf, entriesFor, post } from '../../app/models/ledger.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { orders } from '../../db/schema';
import { METAFIELD_QUEUE } from '../../app/queues/jobs';
import { redisOptions } from '../../app/queues/connection.server';
import { ensureAppBuilt, startAppProcess, type AppProcess } from '../helpers/app-server';
import { adminHeaders, adminLoader, adminSubmit } from '../helpers/admin-requests';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../helpers/pipeline';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-customers.myshopify.com';
const OTHER_SHOP = 'laurel-customers-other.myshopify.com';
const MANY_SHOP = 'laurel-customers-many.myshopify.com';
const PREFIX = `test-${randomUUID()}`;
const LIST = 'routes/app.customers._index';
const DETAIL = 'routes/app.customers.$id';

let db: TestDatabase;
let app: AppProcess;
let shop: Shop;
let other: Shop;
let ada: Customer;
let grace: Customer;
let theirs: Customer;
let queue: Queue;

beforeAll(async () => {
  await ensureAppBuilt();
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'America/New_York' });
  other = await ensureShop(db.db, { domain: OTHER_SHOP, currency: 'USD', timezone: 'UTC' });
  await storeOfflineSession(db.db, SHOP, 'shpat_customers');
  await storeOfflineSession(db.db, OTHER_SHOP, 'shpat_other');
  ada = await ensureCustomer(db.db, shop.id, {
    externalId: '7001',
    email: 'ada@example.com',
    firstName: 'Ada',
    lastName: 'Lovelace',
  });
  grace = await ensureCustomer(db.db, shop.id, {
    externalId: '7002',
    email: 'grace@example.com',
    firstName: 'Grace',
    lastName: 'Hopper',
  });
  for (let i = 0; i < 3; i++) {
    await ensureCustomer(db.db, shop.id, {
      externalId: String(7100 + i),
      email: `member${i}@example.net`,
    });
  }
  const redacted = await ensureCustomer(db.db, shop.id, {
    externalId: '7099',
    email: 'gone@example.com',
    firstName: 'Gone',
  });
  await redactCustomer(db.db, shop.id, redacted.id);
  theirs = await ensureCustomer(db.db, other.id, { externalId: '9001', email: 'x@example.com' });
  const many = await ensureShop(db.db, { domain: MANY_SHOP, currency: 'USD' });
  await storeOfflineSession(db.db, MANY_SHOP, 'shpat_many');
  await ensureCustomers(
    db.db,
    many.id,
    Array.from({ length: 120 }, (_, i) => ({
      externalId: String(10_000 + i),
      email: `m${String(i).padStart(3, '0')}@example.com`,
    })),
  );

  // Ada's order: the award records the bands it earned in, as settlement posts it.
  const paidAt = new Date('2026-11-02T15:00:00Z');
  await db.db.insert(orders).values({
    shopId: shop.id,
    shopifyOrderId: '5001',
    name: '#1001',
    customerId: ada.id,
    currency: 'USD',
    earnAmountMinor: 12_000,
    totalMinor: 12_000,
    processedAt: paidAt,
    paidAt,
  });
  await post(db.db, shop.id, {
    customerId: ada.id,
    idempotencyKey: 'order:5001:earn',
    source: 'order',
    points: 90,
    occurredAt: paidAt,
    programVersion: 3,
    subjectId: '5001',
    inputs: {
      rule: 'earn-bands',
      orderId: '5001',
      orderName: '#1001',
      earnOn: 'subtotal_after_discounts',
      sourceName: 'web',
      points: 90,
      basePoints: 90,
      amountMinor: 12_000,
      currency: 'USD',
      unitMinor: 100,
      bands: [
        { over: 0, upTo: 5_000, wholeUnits: 0, pointsPerUnit: 0, points: 0 },
        { over: 5_000, upTo: 10_000, wholeUnits: 50, pointsPerUnit: 1, points: 50 },
        { over: 10_000, upTo: null, wholeUnits: 20, pointsPerUnit: 2, points: 40 },
      ],
      multipliers: [],
    },
  });
  await post(db.db, shop.id, {
    customerId: grace.id,
    idempotencyKey: 'seed:grace',
    source: 'bonus',
    points: 1_500,
    occurredAt: paidAt,
    inputs: { rule: 'signup-bonus', signupBonus: 1_500 },
  });

  queue = new Queue(METAFIELD_QUEUE, { connection: redisOptions(TEST_REDIS_URL), prefix: PREFIX });
  app = await startAppProcess({
    env: {
      DATABASE_URL: db.url!,
      QUEUE_PREFIX: PREFIX,
      LOG_LEVEL: 'warn',
      SESSION_CACHE_TTL_MS: '0',
    },
  });
}, 300_000);

afterAll(async () => {
  await app?.stop();
  await queue?.close();
  await obliterateWorkerQueues({ redisUrl: TEST_REDIS_URL, prefix: PREFIX }).catch(() => {});
  await db?.close();
});

// ---------------------------------------------------------------------------------------------
// Requests as the embedded admin sends them.

const bearer = (shopDomain = SHOP, userId = '1') => adminHeaders(shopDomain, userId);

const loaderData = (path: string, routeId: string, shopDomain = SHOP) =>
  adminLoader(app.url, path, routeId, bearer(shopDomain));

const submit = (path: string, fields: Record<string, string>, userId = '1') =>
  adminSubmit(app.url, path, fields, bearer(SHOP, userId));

type Row = Record<string, unknown>;
const names = (data: Record<string, unknown>) => (data.rows as Row[]).map((r) => r.name);

async function syncJobs(): Promise<string[]> {
  const jobs = await queue.getJobs(['delayed', 'waiting', 'active', 'completed']);
  return jobs.map((j) => (j.data as { shop: string }).shop);
}

// ---------------------------------------------------------------------------------------------

describe('customers list', () => {
  it('lists members by balance with every column, redacted without personal data', async () => {
    const list = await loaderData('/app/customers', LIST);
    expect(list.status).toBe(200);
    expect(list.data.total).toBe(6);
    expect(list.data.totalText).toBe('6');
    const rows = list.data.rows as Row[];
    expect(rows[0]).toEqual({
      id: grace.id,
      name: 'Grace Hopper',
      email: 'grace@example.com',
      shopifyId: '7002',
      balance: '1,500',
      lifetimeEarned: '1,500',
      tier: '—',
      memberSince: expect.stringMatching(/^[A-Z][a-z]{2} \d{1,2}, \d{4}$/),
      redacted: false,
    });
    expect(rows[1]).toMatchObject({ name: 'Ada Lovelace', balance: '90' });
    expect(rows.find((r) => r.redacted)).toMatchObject({
      name: 'Redacted customer',
      email: '—',
      shopifyId: '7099',
    });
    // Another shop's member is never listed.
    expect(rows.map((r) => r.id)).not.toContain(theirs.id);
  });

  it('searches by email, name or Shopify id; says when nothing matches', async () => {
    expect(names((await loaderData('/app/customers?q=LOVELACE', LIST)).data)).toEqual([
      'Ada Lovelace',
    ]);
    expect(names((await loaderData('/app/customers?q=grace%40', LIST)).data)).toEqual([
      'Grace Hopper',
    ]);
    expect(
      names(
        (await loaderData('/app/customers?q=gid%3A%2F%2Fshopify%2FCustomer%2F7001', LIST)).data,
      ),
    ).toEqual(['Ada Lovelace']);
    const none = await loaderData('/app/customers?q=nobody', LIST);
    expect(none.data).toMatchObject({ rows: [], total: 0, params: { search: 'nobody' } });
  });

  it('sorts by email and by name', async () => {
    const first = await loaderData('/app/customers?sort=email&dir=asc', LIST);
    expect((first.data.rows as Row[]).map((r) => r.email)).toEqual([
      '—',
      'ada@example.com',
      'grace@example.com',
      'member0@example.net',
      'member1@example.net',
      'member2@example.net',
    ]);
    // One page of six: no cursor either way (paging itself: customer-directory.server.test.ts).
    expect(first.data).toMatchObject({ next: null, previous: null });
    const byName = await loaderData('/app/customers?sort=name&dir=desc', LIST);
    expect(names(byName.data).slice(0, 2)).toEqual(['Grace Hopper', 'Ada Lovelace']);
  });

  it('pages 50 at a time with cursors, forwards and back', async () => {
    const emails = (data: Record<string, unknown>) => (data.rows as Row[]).map((r) => r.email);
    const url = (cursor: unknown) =>
      `/app/customers?sort=email&dir=asc&cursor=${encodeURIComponent(String(cursor))}`;
    const first = (await loaderData('/app/customers?sort=email&dir=asc', LIST, MANY_SHOP)).data;
    expect(first).toMatchObject({ total: 120, totalText: '120', previous: null });
    const second = (await loaderData(url(first.next), LIST, MANY_SHOP)).data;
    const third = (await loaderData(url(second.next), LIST, MANY_SHOP)).data;
    const all = [...emails(first), ...emails(second), ...emails(third)];
    expect(all).toEqual(
      Array.from({ length: 120 }, (_, i) => `m${String(i).padStart(3, '0')}@example.com`),
    );
    expect(third.next).toBeNull();
    const back = (await loaderData(url(third.previous), LIST, MANY_SHOP)).data;
    expect(emails(back)).toEqual(emails(second));
  });

  it('answers 400 naming a bad parameter or cursor', async () => {
    const sort = await loaderData('/app/customers?sort=secret', LIST);
    expect(sort.status).toBe(400);
    expect(sort.error?.errorResponse?.data.error).toMatch(/^sort must be one of balance, lifetime/);
    const cursor = await loaderData('/app/customers?cursor=a.1.bm9wZQ', LIST);
    expect(cursor.status).toBe(400);
    expect(cursor.error?.errorResponse?.data.error).toMatch(/cursor/);
  });
});

describe('customer detail', () => {
  it('shows the standing and the ledger, every entry explained', async () => {
    const detail = await loaderData(`/app/customers/${ada.id}`, DETAIL);
    expect(detail.status).toBe(200);
    expect(detail.data.customer).toMatchObject({
      id: ada.id,
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      shopifyId: '7001',
      balance: '90',
      lifetimeEarned: '90',
      tier: null,
      referralCode: null,
      entries: '1',
    });
    expect(detail.data.ledger).toEqual([
      {
        id: expect.any(Number),
        date: 'Nov 2, 2026, 10:00 AM',
        source: 'Order',
        points: '+90',
        credit: true,
        explanation: 'Order #1001, $120.00 → 90 points, program v3: 2×>$100, 1×$50–100',
      },
    ]);
    expect(detail.data.formKey).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 404 with a reason for another shop’s customer, and 400 for a bad id', async () => {
    const theirsHere = await loaderData(`/app/customers/${theirs.id}`, DETAIL);
    expect(theirsHere.status).toBe(404);
    expect(theirsHere.error?.errorResponse?.data.error).toBe(
      `This shop has no customer ${theirs.id}: the id may belong to another shop, or the customer was deleted.`,
    );
    const bad = await loaderData('/app/customers/abc', DETAIL);
    expect(bad.status).toBe(400);
    expect(bad.error?.errorResponse?.data.error).toBe(
      'customer id must be a positive whole number',
    );
  });
});

describe('manual adjustment', () => {
  it('refuses bad input inline by field and posts nothing', async () => {
    const before = await entriesFor(db.db, shop.id, grace.id);
    const refused = await submit(`/app/customers/${grace.id}`, {
      points: '12.5',
      reason: '   ',
      key: randomUUID(),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.data).toMatchObject({
      errors: {
        points: 'Points must be a whole number such as 50 or -50 (got "12.5")',
        reason: 'Reason is required: say why, e.g. “Goodwill for a late parcel”',
      },
      values: { points: '12.5', reason: '   ' },
    });
    const tooBig = await submit(`/app/customers/${grace.id}`, {
      points: '1000000001',
      reason: 'x'.repeat(501),
      key: randomUUID(),
    });
    expect(tooBig.status).toBe(400);
    expect((tooBig.body.data as { errors: unknown }).errors).toEqual({
      points: 'Points must be between −1,000,000,000 and 1,000,000,000',
      reason: 'Reason must be at most 500 characters (it has 501)',
    });
    const overdraw = await submit(`/app/customers/${grace.id}`, {
      points: '-1501',
      reason: 'Too much',
      key: randomUUID(),
    });
    expect(overdraw.status).toBe(409);
    expect((overdraw.body.data as { errors: unknown }).errors).toEqual({
      points:
        'Points: removing 1,501 would take the balance of 1,500 below 0; remove at most 1,500',
    });
    expect(await entriesFor(db.db, shop.id, grace.id)).toEqual(before);
  });

  it('posts once for a double submit, records the staff member, and asks for the sync', async () => {
    const key = randomUUID();
    const fields = { points: '-200', reason: ' Duplicate signup bonus ', key };
    const [first, second] = await Promise.all([
      submit(`/app/customers/${grace.id}`, fields, '8801'),
      submit(`/app/customers/${grace.id}`, fields, '8801'),
    ]);
    for (const answer of [first, second]) {
      expect(answer.status).toBe(200);
      expect((answer.body.data as { message: string }).message).toMatch(
        /^Removed 200 points( \(already posted\))?: the balance is 1,300\./,
      );
    }
    const adjustments = (await entriesFor(db.db, shop.id, grace.id)).filter(
      (e) => e.source === 'adjustment',
    );
    expect(adjustments).toHaveLength(1);
    expect(adjustments[0]).toMatchObject({
      points: -200,
      idempotencyKey: `adjustment:${key}`,
      inputs: {
        rule: 'manual-adjustment',
        reason: 'Duplicate signup bonus',
        staff: { userId: '8801', sessionId: expect.stringMatching(/^[0-9a-f]{32}$/) },
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    });
    expect((await balanceOf(db.db, shop.id, grace.id)).balance).toBe(1_300);
    // The storefront's balance: a metafield sync of the shop is on its way.
    expect(await syncJobs()).toContain(SHOP);

    // The page explains the entry with the reason and who made it.
    const detail = await loaderData(`/app/customers/${grace.id}`, DETAIL);
    expect((detail.data.ledger as Row[])[0]).toMatchObject({
      source: 'Adjustment',
      points: '−200',
      explanation: 'Adjustment: Duplicate signup bonus → −200 points, by staff member 8801',
    });
    expect(detail.data.customer).toMatchObject({ balance: '1,300', entries: '2' });
  });

  it('answers 404 when adjusting another shop’s customer, posting nothing', async () => {
    const refused = await submit(`/app/customers/${theirs.id}`, {
      points: '10',
      reason: 'Nope',
      key: randomUUID(),
    });
    expect(refused.status).toBe(404);
    expect(await entriesFor(db.db, other.id, theirs.id)).toEqual([]);
  });
});

/**
 * The program page through the built server (`node dist/server.mjs`) on this file's own PostgreSQL
 * database, with App Bridge session tokens minted as Shopify mints them: the loader (the editor's
 * values and the versions with what changed), Save refused by field with nothing written, Save
 * publishing version 2 and queueing the storefront sync (a job in this file's own queue prefix),
 * Simulate over stored orders, another shop's isolation, and a request without a token.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programFormValues } from '../../app/admin-program-form';
import { ensureCustomer } from '../../app/models/customers.server';
import { settleOrders } from '../../app/models/orders.server';
import { listPrograms, publishProgram } from '../../app/models/programs.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { orders } from '../../db/schema';
import { referenceProgram } from '../../loyalty/program';
import { METAFIELD_QUEUE } from '../../app/queues/jobs';
import { failFastOptions } from '../../app/queues/connection.server';
import { ensureAppBuilt, startAppProcess, type AppProcess } from '../helpers/app-server';
import { ADMIN_BROWSER, adminHeaders, adminLoader, adminSubmit } from '../helpers/admin-requests';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../helpers/pipeline';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-program.myshopify.com';
const OTHER_SHOP = 'laurel-program-other.myshopify.com';
const PREFIX = `test-${randomUUID()}`;
const ROUTE = 'routes/app.program';

let db: TestDatabase;
let app: AppProcess;
let shop: Shop;

beforeAll(async () => {
  await ensureAppBuilt();
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'America/New_York' });
  const other = await ensureShop(db.db, { domain: OTHER_SHOP, currency: 'EUR', timezone: 'UTC' });
  await publishProgram(db.db, shop.id, referenceProgram, new Date(Date.now() - 86_400_000 * 400));
  await publishProgram(
    db.db,
    other.id,
    { ...referenceProgram, currency: 'EUR', name: 'Other' },
    new Date(Date.now() - 86_400_000),
  );
  await storeOfflineSession(db.db, SHOP, 'shpat_program');
  await storeOfflineSession(db.db, OTHER_SHOP, 'shpat_other');
  // Two orders this month: $120 (90 points) and $40 (nothing), settled into the ledger.
  const member = await ensureCustomer(db.db, shop.id, { externalId: '9101' });
  const at = new Date(Date.now() - 3_600_000);
  for (const [id, minor] of [
    ['6100001', 12_000],
    ['6100002', 4_000],
  ] as const) {
    await db.db.insert(orders).values({
      shopId: shop.id,
      shopifyOrderId: id,
      customerId: member.id,
      currency: 'USD',
      earnAmountMinor: minor,
      totalMinor: minor,
      processedAt: at,
      paidAt: at,
    });
  }
  await db.db.transaction((tx) => settleOrders(tx, shop, ['6100001', '6100002']));
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
  await obliterateWorkerQueues({ redisUrl: TEST_REDIS_URL, prefix: PREFIX }).catch(() => {});
  await db?.close();
});

const bearer = (shopDomain = SHOP) => adminHeaders(shopDomain);

async function loaderData(shopDomain = SHOP) {
  const { status, data } = await adminLoader<Record<string, unknown> & { history: unknown[] }>(
    app.url,
    '/app/program',
    ROUTE,
    bearer(shopDomain),
  );
  return { status, data };
}

async function submit(fields: Record<string, string>, shopDomain = SHOP) {
  const { status, body } = await adminSubmit(app.url, '/app/program', fields, bearer(shopDomain));
  return { status, data: (body as { data?: Record<string, unknown> }).data ?? {} };
}

const draft = (change: (v: ReturnType<typeof programFormValues>) => void = () => {}) => {
  const values = programFormValues(referenceProgram, false);
  change(values);
  return JSON.stringify(values);
};

describe('admin: program', () => {
  it('loads the editor values and the versions', async () => {
    const { status, data } = await loaderData();
    expect(status).toBe(200);
    expect(data).toMatchObject({
      currency: 'USD',
      timezone: 'America/New_York',
      inForce: 1,
      latestVersion: 1,
      values: { name: 'Reference', unit: '1.00', posOrdersEarn: true, testOrdersEarn: false },
      history: [{ version: 1, status: 'in force', changes: ['first version'] }],
    });
    // Another shop sees its own program only.
    const other = await loaderData(OTHER_SHOP);
    expect(other.data).toMatchObject({ currency: 'EUR', values: { name: 'Other' } });
  });

  it('answers 400 with the problems by field and saves nothing', async () => {
    const refused = await submit({
      intent: 'save',
      months: '3',
      draft: draft((v) => {
        v.bands[1]!.over = '90.00';
        v.bands[0]!.pointsPerUnit = '-1';
        v.effective = 'scheduled';
        v.effectiveAt = '2020-01-01T09:00';
      }),
    });
    expect(refused.status).toBe(400);
    expect(refused.data).toMatchObject({
      intent: 'save',
      ok: false,
      errors: {
        'bands[1].over': expect.stringContaining('Band 2 over: overlaps the previous band'),
        'bands[0].pointsPerUnit': 'Band 1 points per unit: must not be negative',
        effectiveAt: expect.stringContaining('Effective from must be in the future'),
      },
    });
    expect((await listPrograms(db.db, shop.id)).length).toBe(1);
    // Not the page's shape at all: a refusal, not field errors.
    expect((await submit({ intent: 'save', draft: '{"bands": 3}' })).status).toBe(400);
    expect((await submit({ intent: 'delete', draft: draft() })).status).toBe(400);
  });

  it('simulates the draft over the stored orders', async () => {
    const simulated = await submit({
      intent: 'simulate',
      months: '1',
      draft: draft((v) => (v.bands[1]!.pointsPerUnit = '3')),
    });
    expect(simulated.status).toBe(200);
    expect(simulated.data).toMatchObject({
      intent: 'simulate',
      ok: true,
      simulation: {
        months: 1,
        net: { current: 90, draft: 110, membersAffected: 1, orders: 2 },
        totals: { difference: '+20', membersAffected: '1' },
      },
    });
    const badMonths = await submit({ intent: 'simulate', months: '0', draft: draft() });
    expect(badMonths.status).toBe(400);
    expect(badMonths.data).toMatchObject({
      errors: { months: 'Months must be a whole number from 1 to 24' },
    });
  });

  it('publishes version 2, shows what changed, and queues the storefront sync', async () => {
    const saved = await submit({
      intent: 'save',
      months: '3',
      draft: draft((v) => {
        v.bands[1]!.pointsPerUnit = '3';
        v.signupBonus = '100';
      }),
    });
    expect(saved.status).toBe(200);
    expect(saved.data).toMatchObject({
      ok: true,
      version: 2,
      changes: ['band 2: 2 → 3 points per $1.00', 'signup bonus 0 → 100'],
      sync: 'The storefront’s program summary follows within seconds.',
    });
    const queue = new Queue(METAFIELD_QUEUE, {
      connection: failFastOptions(TEST_REDIS_URL),
      prefix: PREFIX,
    });
    try {
      const jobs = await queue.getJobs(['delayed', 'waiting']);
      expect(jobs.map((j) => [j.name, j.data])).toContainEqual(['sync-metafields', { shop: SHOP }]);
    } finally {
      await queue.close();
    }
    const { data } = await loaderData();
    expect(data).toMatchObject({
      inForce: 2,
      latestVersion: 2,
      history: [
        {
          version: 2,
          status: 'in force',
          changes: ['band 2: 2 → 3 points per $1.00', 'signup bonus 0 → 100'],
        },
        { version: 1, status: 'superseded' },
      ],
    });
  });

  it('refuses a request without a valid session token', async () => {
    const response = await fetch(new URL('/app/program.data', app.url), {
      headers: { Authorization: 'Bearer not-a-token', 'User-Agent': ADMIN_BROWSER },
    });
    expect(response.status).toBe(401);
  });
});

/**
 * The campaigns page through the built server (`node dist/server.mjs`) on this file's own
 * PostgreSQL database, with App Bridge session tokens minted as Shopify mints them: the loader
 * (campaigns by status, the calendar), Create refused by field with nothing written, Create saving
 * and queueing the storefront sync (a job in this file's own queue prefix), Edit refused once
 * started, End now, another shop's isolation, and a request without a token.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCampaign, listCampaigns } from '../../app/models/campaigns.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { parseCampaign } from '../../loyalty/campaigns';
import { localTimeText } from '../../loyalty/early-access';
import { METAFIELD_QUEUE } from '../../app/queues/jobs';
import { failFastOptions } from '../../app/queues/connection.server';
import { ensureAppBuilt, startAppProcess, type AppProcess } from '../helpers/app-server';
import { ADMIN_BROWSER, adminHeaders, adminLoader, adminSubmit } from '../helpers/admin-requests';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../helpers/pipeline';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-campaigns.myshopify.com';
const OTHER_SHOP = 'laurel-campaigns-other.myshopify.com';
const PREFIX = `test-${randomUUID()}`;
const ROUTE = 'routes/app.campaigns';
const NY = 'America/New_York';
const DAY = 86_400_000;

let db: TestDatabase;
let app: AppProcess;
let shop: Shop;
let running: number;

/** Shop-local `YYYY-MM-DDTHH:MM`, `days` from now, on the hour. */
const local = (days: number) =>
  localTimeText(Math.floor((Date.now() + days * DAY) / 3_600_000) * 3_600_000, NY).slice(0, 16);

beforeAll(async () => {
  await ensureAppBuilt();
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: NY });
  await ensureShop(db.db, { domain: OTHER_SHOP, currency: 'EUR', timezone: 'UTC' });
  await storeOfflineSession(db.db, SHOP, 'shpat_campaigns');
  await storeOfflineSession(db.db, OTHER_SHOP, 'shpat_other');
  const saved = await insertCampaign(
    db.db,
    shop.id,
    parseCampaign(
      {
        name: 'Flash double points',
        kind: 'multiplier',
        multiplier: '2',
        scope: 'all',
        startsAt: local(-1),
        endsAt: local(1),
      },
      { timeZone: NY, currency: 'USD', now: Date.now(), allowPastStart: true },
    ),
    { productIds: [], createdBy: null, now: new Date() },
  );
  running = saved.id;
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
  const { status, data } = await adminLoader<Record<string, unknown> & { active: unknown[] }>(
    app.url,
    '/app/campaigns',
    ROUTE,
    bearer(shopDomain),
  );
  return { status, data };
}

async function submit(fields: Record<string, string>, shopDomain = SHOP) {
  const { status, body } = await adminSubmit(app.url, '/app/campaigns', fields, bearer(shopDomain));
  return { status, data: (body as { data?: Record<string, unknown> }).data ?? {} };
}

const form = (change: Record<string, string> = {}) =>
  JSON.stringify({
    name: 'Double points weekend',
    kind: 'multiplier',
    multiplier: '2',
    bonusPoints: '',
    minimumAmount: '',
    scope: 'all',
    targetIds: '',
    stacking: 'multiply',
    startsAt: local(3),
    endsAt: local(5),
    ...change,
  });

describe('admin: campaigns', () => {
  it('loads the campaigns by status and the calendar; another shop sees none', async () => {
    const { status, data } = await loaderData();
    expect(status).toBe(200);
    expect(data).toMatchObject({
      timezone: NY,
      currency: 'USD',
      active: [{ name: 'Flash double points', gives: '×2 points', status: 'active' }],
      upcoming: [],
      calendar: { month: localTimeText(Date.now(), NY).slice(0, 7) },
    });
    const other = await loaderData(OTHER_SHOP);
    expect(other.data).toMatchObject({ active: [], upcoming: [], ended: [] });
  });

  it('answers 400 with the problems by field and saves nothing', async () => {
    const refused = await submit({
      intent: 'create',
      campaign: form({ multiplier: '-1', endsAt: local(2) }),
    });
    expect(refused.status).toBe(400);
    expect(refused.data).toMatchObject({
      ok: false,
      errors: {
        multiplier: expect.stringMatching(/^Multiplier must be more than 0/),
        endsAt: 'Ends must be after the start',
      },
    });
    expect(await listCampaigns(db.db, shop.id)).toHaveLength(1);
    expect((await submit({ intent: 'create', campaign: '{"name": 3}' })).status).toBe(400);
    expect((await submit({ intent: 'delete', campaign: form() })).status).toBe(400);
  });

  it('creates a campaign, records the staff member, and queues the storefront sync', async () => {
    const saved = await submit({ intent: 'create', campaign: form() });
    expect(saved.status).toBe(200);
    expect(saved.data).toMatchObject({ ok: true, name: 'Double points weekend' });
    const row = (await listCampaigns(db.db, shop.id)).find(
      (c) => c.name === 'Double points weekend',
    );
    expect(row).toMatchObject({ factorBps: 20_000, createdBy: expect.any(String) });
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
  });

  it('refuses to edit a started campaign, ends it now, and keeps other shops out', async () => {
    const edit = await submit({
      intent: 'update',
      campaignId: String(running),
      campaign: form({ name: 'Flash double points' }),
    });
    expect(edit.status).toBe(409);
    expect(edit.data).toMatchObject({
      ok: false,
      errors: { form: expect.stringMatching(/already started/) },
    });

    const stranger = await submit({ intent: 'end', campaignId: String(running) }, OTHER_SHOP);
    expect(stranger.status).toBe(404);
    const ended = await submit({ intent: 'end', campaignId: String(running) });
    expect(ended.status).toBe(200);
    expect(ended.data).toMatchObject({ intent: 'end', name: 'Flash double points' });
    const { data } = await loaderData();
    expect(data).toMatchObject({ active: [], ended: [{ name: 'Flash double points' }] });
  });

  it('refuses a request without a valid session token', async () => {
    const response = await fetch(new URL('/app/campaigns.data', app.url), {
      headers: { Authorization: 'Bearer not-a-token', 'User-Agent': ADMIN_BROWSER },
    });
    expect(response.status).toBe(401);
  });
});

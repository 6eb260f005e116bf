/**
 * The admin's expiry page through the built server (`node dist/server.mjs`) on this file's own
 * PostgreSQL database, with App Bridge session tokens minted as Shopify mints them: the loader's
 * data (nothing in force, then the version saved and the points due per month) and the form
 * action (0 months refused beside the field with nothing saved; a valid form saved as version 1;
 * another shop's session sees none of it). Decoded as the browser decodes single-fetch answers.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { listExpiryPolicies } from '../../app/models/expiry-policies.server';
import { post } from '../../app/models/ledger.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { addZonedMonths } from '../../loyalty/time';
import { ensureAppBuilt, startAppProcess, type AppProcess } from '../helpers/app-server';
import { adminHeaders, adminLoader, adminSubmit } from '../helpers/admin-requests';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../helpers/pipeline';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-expiry.myshopify.com';
const OTHER_SHOP = 'laurel-expiry-other.myshopify.com';
const PREFIX = `test-${randomUUID()}`;

let db: TestDatabase;
let app: AppProcess;
let shop: Shop;
let other: Shop;

beforeAll(async () => {
  await ensureAppBuilt();
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'Europe/Paris' });
  other = await ensureShop(db.db, { domain: OTHER_SHOP, currency: 'EUR', timezone: 'UTC' });
  await storeOfflineSession(db.db, SHOP, 'shpat_expiry');
  await storeOfflineSession(db.db, OTHER_SHOP, 'shpat_other');
  const member = await ensureCustomer(db.db, shop.id, { externalId: '4242' });
  // Earned 11 months and a half ago: due within the next 12 months under 12 months per lot.
  await post(db.db, shop.id, {
    customerId: member.id,
    idempotencyKey: randomUUID(),
    source: 'order',
    points: 75,
    occurredAt: new Date(addZonedMonths(Date.now(), -12, 'Europe/Paris') + 15 * 86_400_000),
    inputs: {},
  });
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

// ---------------------------------------------------------------------------------------------

const bearer = (shopDomain = SHOP) => adminHeaders(shopDomain);

/** The loader data of `routeId` for a GET of `path` (what client-side navigation fetches). */
const loaderData = (path: string, routeId: string, shopDomain = SHOP) =>
  adminLoader(app.url, path, routeId, bearer(shopDomain));

/** A form post to `path`'s action, as <Form method="post"> sends it from the embedded admin. */
const submit = (path: string, fields: Record<string, string>, shopDomain = SHOP) =>
  adminSubmit(app.url, path, fields, bearer(shopDomain));

const EXPIRY = 'routes/app.expiry';

const valid = {
  mode: 'lot',
  months: '12',
  reminderDays: '30, 7',
  email: 'on',
  effective: 'now',
  effectiveAt: '',
};

type Month = { month: string; points: number; members: number };

describe('expiry page', () => {
  it('refuses 0 months beside the field and saves nothing, then saves a valid form as version 1', async () => {
    const before = await loaderData('/app/expiry', EXPIRY);
    expect(before.status).toBe(200);
    expect(before.data.current).toBeNull();
    expect((before.data.forecast as Month[]).every((m) => m.points === 0)).toBe(true);
    // This server has no SMTP_URL: the page says the email channel is off, and why.
    expect(before.data.emailChannel).toEqual({
      available: false,
      reason: 'Email reminders are off: SMTP_URL is not set for this Laurel installation.',
    });

    const refused = await submit('/app/expiry', { ...valid, months: '0' });
    expect(refused.status).toBe(400);
    const errors = (refused.body.data as { errors: Record<string, string> }).errors;
    expect(errors).toEqual({ months: 'Months must be a whole number from 1 to 120 (got 0).' });
    expect(await listExpiryPolicies(db.db, shop.id)).toEqual([]);

    const saved = await submit('/app/expiry', valid);
    expect(saved.status).toBe(200);
    expect(saved.body.data).toMatchObject({ ok: true, version: 1 });
    const after = await loaderData('/app/expiry', EXPIRY);
    expect(after.data.current).toEqual({
      version: 1,
      policy: 'Each lot expires 12 months after it is earned',
      reminders: '30, 7 days before, by email',
    });
    const forecast = after.data.forecast as Month[];
    expect(forecast).toHaveLength(12);
    expect(forecast.filter((m) => m.points > 0).map((m) => [m.points, m.members])).toEqual([
      [75, 1],
    ]);
  });

  it("another shop's session sees none of it", async () => {
    const page = await loaderData('/app/expiry', EXPIRY, OTHER_SHOP);
    expect(page.status).toBe(200);
    expect(page.data.current).toBeNull();
    expect(page.data.versions).toEqual([]);
    expect(await listExpiryPolicies(db.db, other.id)).toEqual([]);
  });

  it('refuses a request without a session token', async () => {
    const response = await fetch(new URL('/app/expiry.data?_routes=routes/app.expiry', app.url));
    expect(response.status).not.toBe(200);
  });
});

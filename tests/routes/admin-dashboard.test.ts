/**
 * The dashboard (/app) and liability (/app/liability) loaders through the built server with App
 * Bridge session tokens minted as Shopify mints them, decoded as Remix single-fetch data: the
 * period chosen by ?period (default last 30 days; an unknown one falls back), the figures in the
 * shop's currency, a shop that is not set up, the liability's default range, a refused range with
 * its reasons beside the fields, and shops kept apart.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { postMany } from '../../app/models/ledger.server';
import { createReward } from '../../app/models/rewards.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { monthKeyOfInstant } from '../../loyalty/time';
import { ensureAppBuilt, startAppProcess, type AppProcess } from '../helpers/app-server';
import { adminHeaders, adminLoader } from '../helpers/admin-requests';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../helpers/pipeline';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-dash.myshopify.com';
const OTHER_SHOP = 'laurel-dash-other.myshopify.com';
const UNKNOWN_SHOP = 'laurel-dash-unknown.myshopify.com';
const PREFIX = `test-${randomUUID()}`;
const TZ = 'America/New_York';
const DAY = 86_400_000;

let db: TestDatabase;
let app: AppProcess;
let shop: Shop;
let other: Shop;

beforeAll(async () => {
  await ensureAppBuilt();
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'EUR', timezone: TZ });
  other = await ensureShop(db.db, { domain: OTHER_SHOP, currency: 'USD', timezone: 'UTC' });
  await storeOfflineSession(db.db, SHOP, 'shpat_dash');
  await storeOfflineSession(db.db, OTHER_SHOP, 'shpat_other');
  await storeOfflineSession(db.db, UNKNOWN_SHOP, 'shpat_unknown');
  const ann = await ensureCustomer(db.db, shop.id, { externalId: '1', email: 'ann@example.com' });
  const now = Date.now();
  await postMany(db.db, shop.id, [
    {
      customerId: ann.id,
      idempotencyKey: 'a',
      source: 'order',
      points: 1200,
      occurredAt: new Date(now - 3 * DAY),
      inputs: {},
    },
    {
      customerId: ann.id,
      idempotencyKey: 'b',
      source: 'redemption',
      points: -500,
      occurredAt: new Date(now - 2 * DAY),
      inputs: { title: '€5 off' },
    },
    {
      customerId: ann.id,
      idempotencyKey: 'c',
      source: 'order',
      points: 300,
      occurredAt: new Date(now - 40 * DAY),
      inputs: {},
    },
  ]);
  await createReward(db.db, shop.id, {
    type: 'fixed_amount',
    title: '€5 off',
    pointsCost: 500,
    amountMinor: 500,
  });
  const bob = await ensureCustomer(db.db, other.id, { externalId: '9' });
  await postMany(db.db, other.id, [
    {
      customerId: bob.id,
      idempotencyKey: 'x',
      source: 'order',
      points: 77,
      occurredAt: new Date(now - DAY),
      inputs: {},
    },
  ]);
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

const bearer = (shopDomain: string) => adminHeaders(shopDomain);

async function loaderData<T = Record<string, unknown>>(
  path: string,
  routeId: string,
  shopDomain = SHOP,
) {
  const { status, data, error, contentType } = await adminLoader<T>(
    app.url,
    path,
    routeId,
    bearer(shopDomain),
  );
  expect(contentType).toContain('text/x-script');
  return { status, data, error };
}

const DASHBOARD = 'routes/app._index';

/** The parts of the loaders' data these tests read. */
interface DashboardData {
  setUp: boolean;
  members: string;
  period: { key: string; label: string };
  comparisons: { label: string; current: string; previous: string }[];
  redemptionRate: Record<string, string>;
  revenue: Record<string, string>;
  recent: { points: number; explanation: string }[];
  chart: unknown[];
}
interface LiabilityData {
  query: { from: string; to: string; errors: Record<string, string> };
  report: {
    rows: { month: string; raw: { closing: number } }[];
    closing: unknown;
    value: unknown;
    breakage: unknown;
  } | null;
}
const LIABILITY = 'routes/app.liability';

describe('/app', () => {
  it('shows the last 30 days against the 30 before, in the shop currency', async () => {
    const { status, data } = await loaderData<DashboardData>('/app', DASHBOARD);
    expect(status).toBe(200);
    expect(data).toMatchObject({ setUp: true, members: '1', hasMembers: true, program: null });
    expect(data.period).toMatchObject({ key: 'last30', label: 'Last 30 days' });
    const issued = data.comparisons.find((c) => c.label === 'Points issued');
    expect(issued).toMatchObject({ current: '1,200', previous: '300' });
    const outstanding = data.comparisons.find((c: { label: string }) =>
      c.label.startsWith('Points outstanding'),
    );
    expect(outstanding).toMatchObject({ current: '1,000', previous: '300' });
    expect(data.redemptionRate).toMatchObject({ current: '41.7%', lifetime: '33.3%' });
    expect(data.revenue.net).toBe('€0.00');
    expect(data.recent.map((r) => r.points)).toEqual([-500, 1200, 300]);
    expect(data.recent[0]!.explanation).toBe('Redeemed: €5 off → −500 points');
    expect(data.chart).toHaveLength(12);
  });

  it('takes the period from ?period and falls back to the default for anything else', async () => {
    const week = await loaderData<DashboardData>('/app?period=last7', DASHBOARD);
    expect(week.data.period.key).toBe('last7');
    expect(week.data.comparisons[1]).toMatchObject({ current: '1,200', previous: '0' });
    const odd = await loaderData<DashboardData>('/app?period=decade', DASHBOARD);
    expect(odd.data.period.key).toBe('last30');
  });

  it('keeps shops apart, and says when the shop is not set up', async () => {
    const { data } = await loaderData<DashboardData>('/app', DASHBOARD, OTHER_SHOP);
    expect(data.members).toBe('1');
    expect(data.recent.map((r) => r.points)).toEqual([77]);
    const unknown = await loaderData('/app', DASHBOARD, UNKNOWN_SHOP);
    expect(unknown.status).toBe(200);
    expect(unknown.data).toEqual({ setUp: false });
  });
});

describe('/app/liability', () => {
  it('rolls the last 12 months forward in points and euros', async () => {
    const { status, data } = await loaderData<LiabilityData>('/app/liability', LIABILITY);
    expect(status).toBe(200);
    const thisMonth = monthKeyOfInstant(Date.now(), TZ);
    expect(data.query).toMatchObject({ to: thisMonth, errors: {} });
    expect(data.report!.rows).toHaveLength(12);
    expect(data.report!.rows.at(-1)!.month).toBe(thisMonth);
    expect(data.report!.rows.at(-1)!.raw.closing).toBe(1000);
    expect(data.report!.closing).toEqual({ points: '1,000', money: '€10.00' });
    expect(data.report!.value).toMatchObject({ reward: '€5 off' });
    // 500 redeemed, nothing expired or dormant: all redeemed so far, no breakage.
    expect(data.report!.breakage).toMatchObject({ status: 'estimated', breakage: '0%' });
  });

  it('refuses a bad range beside its fields and computes nothing', async () => {
    const { status, data } = await loaderData<LiabilityData>(
      '/app/liability?from=2026-13&to=1999-01',
      LIABILITY,
    );
    expect(status).toBe(200);
    expect(data.report).toBeNull();
    expect(data.query.errors).toEqual({
      from: "From '2026-13' must be a month as YYYY-MM, from 2000-01",
      to: "To '1999-01' must be a month as YYYY-MM, from 2000-01",
    });
    const reversed = await loaderData<LiabilityData>(
      '/app/liability?from=2026-05&to=2026-02',
      LIABILITY,
    );
    expect(reversed.data.query.errors).toEqual({ to: 'To 2026-02 is before from 2026-05' });
    const long = await loaderData<LiabilityData>(
      '/app/liability?from=2020-01&to=2026-01',
      LIABILITY,
    );
    expect(long.data.query.errors.to).toMatch(/73 months: show at most 60/);
  });

  it('answers 404 with a reason for a shop that is not set up', async () => {
    const { status, error } = await loaderData('/app/liability', LIABILITY, UNKNOWN_SHOP);
    expect(status).toBe(404);
    expect(error).toMatchObject({
      errorResponse: { status: 404, data: { error: expect.stringMatching(/not set up/) } },
    });
  });
});

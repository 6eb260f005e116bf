/**
 * The admin's rewards and redemptions pages through the built server (`node dist/server.mjs`) on
 * this file's own PostgreSQL database, with App Bridge session tokens minted as Shopify mints
 * them: Remix single-fetch data requests (`/app/rewards.data`, form posts to `….data`) decoded
 * as the browser decodes them. Creating, validation issues by field, revising (version 2),
 * archiving, another shop's reward (404), and the redemptions list's filters and paging over
 * redemptions seeded with real ledger debits.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCustomer } from '../../app/models/customers.server';
import { post } from '../../app/models/ledger.server';
import { searchRedemptions } from '../../app/models/redemptions.server';
import { createReward, getReward, listRewards } from '../../app/models/rewards.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { redemptions } from '../../db/schema';
import type { IssuedValue } from '../../loyalty/rewards';
import { ensureAppBuilt, startAppProcess, type AppProcess } from '../helpers/app-server';
import { ADMIN_BROWSER, adminHeaders, adminLoader, adminSubmit } from '../helpers/admin-requests';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../helpers/pipeline';
import { storeOfflineSession } from '../helpers/sessions';

const SHOP = 'laurel-rewards.myshopify.com';
const OTHER_SHOP = 'laurel-rewards-other.myshopify.com';
const PREFIX = `test-${randomUUID()}`;

let db: TestDatabase;
let app: AppProcess;
let shop: Shop;
let other: Shop;

beforeAll(async () => {
  await ensureAppBuilt();
  db = await createTestDatabase('postgres');
  shop = await ensureShop(db.db, { domain: SHOP, currency: 'USD', timezone: 'America/New_York' });
  other = await ensureShop(db.db, { domain: OTHER_SHOP, currency: 'EUR', timezone: 'UTC' });
  await storeOfflineSession(db.db, SHOP, 'shpat_rewards');
  await storeOfflineSession(db.db, OTHER_SHOP, 'shpat_other');
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
// Requests as the embedded admin sends them.

const bearer = (shopDomain = SHOP) => adminHeaders(shopDomain);

/** The loader data of `routeId` for a GET of `path` (what client-side navigation fetches). */
const loaderData = (path: string, routeId: string, shopDomain = SHOP) =>
  adminLoader(app.url, path, routeId, bearer(shopDomain));

/** A form post to `path`'s action, as <Form method="post"> sends it from the embedded admin. */
const submit = (path: string, fields: Record<string, string>, shopDomain = SHOP) =>
  adminSubmit(app.url, path, fields, bearer(shopDomain));

const REWARDS = 'routes/app.rewards._index';
const REWARD = 'routes/app.rewards.$id';
const REDEMPTIONS = 'routes/app.redemptions';

const fiveOff = {
  type: 'fixed_amount',
  title: '$5 off',
  pointsCost: '500',
  amount: '5.00',
  minimumOrder: '',
  limitPerCustomer: '',
  periodCount: '',
  periodDays: '',
  tiers: '',
  expiryDays: '30',
  combinesProduct: 'on',
  combinesShipping: 'on',
};

// ---------------------------------------------------------------------------------------------

describe('rewards', () => {
  it('creates a reward from the form and lists it with its value in the shop currency', async () => {
    const created = await submit('/app/rewards/new', fiveOff);
    expect(created.status).toBe(202);
    // A single-fetch redirect: the browser navigates to it client-side.
    expect(created.body).toMatchObject({
      status: 302,
      redirect: expect.stringMatching(/^\/app\/rewards\?saved=\d+$/),
    });
    const redirect = created.body.redirect as string;
    const id = Number(new URL(redirect, app.url).searchParams.get('saved'));

    const stored = await getReward(db.db, shop.id, id);
    expect(stored).toMatchObject({
      version: 1,
      archivedAt: null,
      definition: {
        type: 'fixed_amount',
        title: '$5 off',
        pointsCost: 500,
        amountMinor: 500,
        expiryDays: 30,
        minimumOrderMinor: null,
        combinesWith: { orderDiscounts: false, productDiscounts: true, shippingDiscounts: true },
      },
    });

    const list = await loaderData(redirect, REWARDS);
    expect(list.status).toBe(200);
    expect(list.data.saved).toEqual({ title: '$5 off', version: 1 });
    expect(list.data.rows).toContainEqual({
      id,
      title: '$5 off',
      type: 'Fixed amount off',
      cost: '500 points',
      value: '$5.00 off',
      limits: 'No limit',
      expiry: '30 days',
      archived: false,
      version: 1,
    });
  });

  it('answers 400 with every problem by field, and saves nothing', async () => {
    const before = await listRewards(db.db, shop.id, { includeArchived: true });
    const refused = await submit('/app/rewards/new', {
      ...fiveOff,
      title: '',
      amount: '5.001',
      pointsCost: '0',
      periodCount: '2',
      expiryDays: '400',
    });
    expect(refused.status).toBe(400);
    expect(refused.body.data).toMatchObject({
      errors: {
        title: 'Title is required',
        amount: 'Amount has 3 decimal places; USD allows 2',
        pointsCost: 'Points cost must be a whole number from 1 to 10000000',
        periodDays: 'Period (days) is required for a period limit',
        expiryDays: 'Code expires after (days) must be a whole number from 1 to 365',
      },
      // What the merchant typed comes back, so the form keeps it.
      values: { type: 'fixed_amount', amount: '5.001', pointsCost: '0', expiryDays: '400' },
    });
    expect(await listRewards(db.db, shop.id, { includeArchived: true })).toEqual(before);
  });

  it("returns the catalog's issues for the slider by field", async () => {
    const refused = await submit('/app/rewards/new', {
      type: 'points_slider',
      title: 'Spend your points',
      sliderPointsPerUnit: '3',
      sliderMinPoints: '100',
      sliderMaxPoints: '1000',
      sliderStepPoints: '50',
      expiryDays: '30',
    });
    expect(refused.status).toBe(400);
    expect((refused.body.data as { errors: unknown }).errors).toEqual({
      sliderMinPoints: 'Minimum points is not a whole amount of money at 3 points per unit',
      sliderStepPoints: 'Step is not a whole amount of money at 3 points per unit',
    });
  });

  it('edits a reward into version 2; the form shows the stored values', async () => {
    const reward = await createReward(db.db, shop.id, {
      type: 'percentage',
      title: '10% off',
      pointsCost: 800,
      percentage: 10,
    });
    const form = await loaderData(`/app/rewards/${reward.id}`, REWARD);
    expect(form.data.reward).toEqual({ id: reward.id, version: 1, archived: false });
    expect(form.data.values).toMatchObject({
      type: 'percentage',
      title: '10% off',
      pointsCost: '800',
      percentage: '10',
      expiryDays: '30',
      amount: '',
    });

    const saved = await submit(`/app/rewards/${reward.id}`, {
      type: 'percentage',
      title: '15% off',
      pointsCost: '1000',
      percentage: '15',
      minimumOrder: '40',
      limitPerCustomer: '2',
      tiers: 'Gold, Silver',
      expiryDays: '14',
      refundPointsOnExpiry: 'on',
      combinesShipping: 'on',
      // A stale field of another type is not sent to the catalog.
      amount: '3.00',
    });
    expect(saved.status).toBe(202);
    expect(saved.body.redirect).toBe(`/app/rewards?saved=${reward.id}`);
    const revised = await getReward(db.db, shop.id, reward.id);
    expect(revised).toMatchObject({
      version: 2,
      definition: {
        title: '15% off',
        pointsCost: 1000,
        percentage: 15,
        amountMinor: null,
        minimumOrderMinor: 4000,
        limitPerCustomer: 2,
        tiers: ['Gold', 'Silver'],
        expiryDays: 14,
        refundPointsOnExpiry: true,
        combinesWith: { orderDiscounts: false, productDiscounts: false, shippingDiscounts: true },
      },
    });
    const again = await loaderData(`/app/rewards/${reward.id}`, REWARD);
    expect(again.data.reward).toEqual({ id: reward.id, version: 2, archived: false });
  });

  it('archives a reward (shoppers no longer see it) and brings it back', async () => {
    const reward = await createReward(db.db, shop.id, {
      type: 'free_shipping',
      title: 'Free shipping',
      pointsCost: 300,
    });
    const archived = await submit('/app/rewards', {
      intent: 'archive',
      rewardId: String(reward.id),
    });
    expect(archived.status).toBe(200);
    expect(archived.body.data).toEqual({
      intent: 'archive',
      rewardId: reward.id,
      title: 'Free shipping',
    });
    expect((await listRewards(db.db, shop.id)).map((r) => r.id)).not.toContain(reward.id);

    const active = await loaderData('/app/rewards', REWARDS);
    expect((active.data.rows as { id: number }[]).map((r) => r.id)).not.toContain(reward.id);
    const tab = await loaderData('/app/rewards?view=archived', REWARDS);
    expect(tab.data.rows).toEqual([
      expect.objectContaining({ id: reward.id, archived: true, title: 'Free shipping' }),
    ]);

    await submit('/app/rewards', { intent: 'unarchive', rewardId: String(reward.id) });
    expect((await listRewards(db.db, shop.id)).map((r) => r.id)).toContain(reward.id);
  });

  it("answers 404 for another shop's reward: reading, editing and archiving", async () => {
    const theirs = await createReward(db.db, other.id, {
      type: 'fixed_amount',
      title: 'Theirs',
      pointsCost: 100,
      amountMinor: 100,
    });
    const read = await loaderData(`/app/rewards/${theirs.id}`, REWARD);
    expect(read.status).toBe(404);
    expect(read.error).toEqual({
      errorResponse: {
        status: 404,
        data: { error: `This shop has no reward ${theirs.id}.`, code: 'NOT_FOUND' },
      },
    });
    const edit = await submit(`/app/rewards/${theirs.id}`, fiveOff);
    expect(edit.status).toBe(404);
    const archive = await submit('/app/rewards', {
      intent: 'archive',
      rewardId: String(theirs.id),
    });
    expect(archive.status).toBe(404);
    expect(await getReward(db.db, other.id, theirs.id)).toMatchObject({
      version: 1,
      archivedAt: null,
      definition: { title: 'Theirs' },
    });
    // Its own shop sees it, in its own currency.
    const own = await loaderData(`/app/rewards/${theirs.id}`, REWARD, OTHER_SHOP);
    expect(own.data.values).toMatchObject({ title: 'Theirs', amount: '1.00' });
    expect(own.data.currency).toBe('EUR');
  });

  it('answers 400 for a reward id that is not a number and an unknown intent', async () => {
    expect((await loaderData('/app/rewards/abc', REWARD)).status).toBe(400);
    const bad = await submit('/app/rewards', { intent: 'delete', rewardId: '1' });
    expect(bad.status).toBe(400);
  });

  it('refuses a request without a valid session token', async () => {
    const response = await fetch(new URL('/app/rewards.data', app.url), {
      headers: { Authorization: 'Bearer not-a-token', 'User-Agent': ADMIN_BROWSER },
    });
    expect(response.status).toBe(401);
  });
});

// ---------------------------------------------------------------------------------------------

describe('redemptions', () => {
  let tea: number;
  let mug: number;
  const ids: Record<string, number> = {};

  /** A redemption row as the redeem flow leaves it, its debit a real ledger entry. */
  async function redeem(
    customerId: number,
    rewardId: number,
    status: string,
    extra: Partial<typeof redemptions.$inferInsert> = {},
  ): Promise<number> {
    const requestId = randomUUID();
    const value: IssuedValue = { kind: 'amount_off_order', amountMinor: 500, currency: 'USD' };
    const { entry } = await post(db.db, shop.id, {
      customerId,
      idempotencyKey: `redemption:${requestId}:debit`,
      source: 'redemption',
      points: -100,
      occurredAt: new Date('2026-03-02T12:00:00Z'),
      inputs: { rewardId, rewardVersion: 1, requestId },
    });
    const [row] = await db.db
      .insert(redemptions)
      .values({
        shopId: shop.id,
        customerId,
        rewardId,
        rewardVersion: 1,
        requestId,
        status,
        points: 100,
        value,
        // The whole request id: four hex digits collide in about one run in 40 at 60 redemptions.
        code: status === 'failed' ? null : `LRL-${requestId.toUpperCase()}`,
        debitEntryId: entry.id,
        expiresAt: new Date('2026-04-01T12:00:00Z'),
        createdAt: new Date('2026-03-02T12:00:00Z'),
        ...extra,
      })
      .returning({ id: redemptions.id });
    return row!.id;
  }

  beforeAll(async () => {
    tea = (
      await createReward(db.db, shop.id, {
        type: 'fixed_amount',
        title: 'Tea voucher',
        pointsCost: 100,
        amountMinor: 500,
      })
    ).id;
    mug = (
      await createReward(db.db, shop.id, {
        type: 'fixed_amount',
        title: 'Mug money',
        pointsCost: 100,
        amountMinor: 500,
      })
    ).id;
    const ada = await ensureCustomer(db.db, shop.id, {
      externalId: '7001',
      email: 'ada@example.com',
      firstName: 'Ada',
      lastName: 'Lovelace',
    });
    const grace = await ensureCustomer(db.db, shop.id, {
      externalId: '7002',
      email: 'grace@example.com',
      firstName: 'Grace',
      lastName: 'Hopper',
    });
    for (const c of [ada, grace]) {
      await post(db.db, shop.id, {
        customerId: c.id,
        idempotencyKey: `order:${c.externalId}:earn`,
        source: 'order',
        points: 5000,
        occurredAt: new Date('2026-03-01T12:00:00Z'),
        inputs: {},
      });
    }
    ids.adaIssued = await redeem(ada.id, tea, 'issued');
    ids.adaUsed = await redeem(ada.id, tea, 'used', {
      usedAt: new Date('2026-03-05T12:00:00Z'),
      shopifyOrderId: '5551234',
    });
    ids.graceFailed = await redeem(grace.id, mug, 'failed', {
      failureReason: 'Shopify refused the discount: code already exists',
    });
    ids.graceExpired = await redeem(grace.id, tea, 'expired');
    ids.graceRefunded = await redeem(grace.id, mug, 'refunded');
  });

  const idsOf = (data: Record<string, unknown>) => (data.rows as { id: number }[]).map((r) => r.id);

  it('lists every redemption newest first with its customer, reward version and status', async () => {
    const { status, data } = await loaderData('/app/redemptions', REDEMPTIONS);
    expect(status).toBe(200);
    expect(idsOf(data)).toEqual([
      ids.graceRefunded,
      ids.graceExpired,
      ids.graceFailed,
      ids.adaUsed,
      ids.adaIssued,
    ]);
    const rows = data.rows as Record<string, unknown>[];
    expect(rows[3]).toEqual({
      id: ids.adaUsed,
      date: 'Mar 2, 2026, 7:00 AM',
      customer: 'Ada Lovelace · ada@example.com',
      customerId: '7001',
      reward: 'Tea voucher (v1)',
      value: '$5.00 off',
      points: '100',
      code: expect.stringMatching(/^LRL-/),
      status: 'used',
      order: '5551234',
      expires: 'Apr 1, 2026, 8:00 AM',
      failureReason: null,
    });
    expect(rows[2]).toMatchObject({
      status: 'failed',
      code: null,
      failureReason: 'Shopify refused the discount: code already exists',
    });
    expect(data.nextBefore).toBeNull();
  });

  it('filters by status (several), reward and customer', async () => {
    const byStatus = await loaderData('/app/redemptions?status=issued&status=used', REDEMPTIONS);
    expect(idsOf(byStatus.data)).toEqual([ids.adaUsed, ids.adaIssued]);
    // Polaris' ChoiceList names its checkboxes status[].
    const polaris = await loaderData('/app/redemptions?status[]=failed', REDEMPTIONS);
    expect(idsOf(polaris.data)).toEqual([ids.graceFailed]);
    const byReward = await loaderData(`/app/redemptions?reward=${mug}`, REDEMPTIONS);
    expect(idsOf(byReward.data)).toEqual([ids.graceRefunded, ids.graceFailed]);
    for (const customer of [
      'grace@example.com',
      'GRACE',
      'hopper',
      '7002',
      'gid://shopify/Customer/7002',
    ]) {
      const found = await loaderData(
        `/app/redemptions?customer=${encodeURIComponent(customer)}`,
        REDEMPTIONS,
      );
      expect(idsOf(found.data), customer).toEqual([
        ids.graceRefunded,
        ids.graceExpired,
        ids.graceFailed,
      ]);
    }
    // Wildcards are text: nobody's email holds a literal %.
    const wildcard = await loaderData('/app/redemptions?customer=%25', REDEMPTIONS);
    expect(idsOf(wildcard.data)).toEqual([]);
    // The shoppers' read takes the same customer search.
    const found = await searchRedemptions(db.db, shop.id, { customerSearch: 'lovelace' });
    expect(found.map((r) => r.id)).toEqual([ids.adaUsed, ids.adaIssued]);
    const all = await loaderData(
      `/app/redemptions?status=expired&status=issued&reward=${tea}&customer=ada`,
      REDEMPTIONS,
    );
    expect(idsOf(all.data)).toEqual([ids.adaIssued]);
  });

  it("pages with before=<id>, and another shop sees none of this shop's redemptions", async () => {
    const older = await loaderData(`/app/redemptions?before=${ids.graceFailed}`, REDEMPTIONS);
    expect(idsOf(older.data)).toEqual([ids.adaUsed, ids.adaIssued]);
    const theirs = await loaderData('/app/redemptions', REDEMPTIONS, OTHER_SHOP);
    expect(theirs.data.rows).toEqual([]);
    expect((theirs.data.rewards as { title: string }[]).map((r) => r.title)).not.toContain(
      'Tea voucher',
    );
  });

  it('offers a Next page after 50 rows', async () => {
    const ada = await ensureCustomer(db.db, shop.id, { externalId: '7001' });
    const made: number[] = [];
    for (let i = 0; i < 50; i++) made.push(await redeem(ada.id, tea, 'issued'));
    const first = await loaderData(`/app/redemptions?reward=${tea}&status=issued`, REDEMPTIONS);
    const firstIds = idsOf(first.data);
    expect(firstIds).toEqual(made.slice().reverse());
    expect(first.data.nextBefore).toBe(made[0]);
    const next = await loaderData(
      `/app/redemptions?reward=${tea}&status=issued&before=${made[0]}`,
      REDEMPTIONS,
    );
    expect(idsOf(next.data)).toEqual([ids.adaIssued]);
    expect(next.data.nextBefore).toBeNull();
  });

  it('answers 400 with the reason for a filter it cannot read', async () => {
    const bad = await loaderData('/app/redemptions?status=lost', REDEMPTIONS);
    expect(bad.status).toBe(400);
    expect(bad.error).toMatchObject({
      errorResponse: { status: 400, data: { code: 'VALIDATION' } },
    });
  });
});

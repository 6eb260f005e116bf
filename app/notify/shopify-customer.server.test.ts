import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAdminEmulator, type AdminEmulator } from '../../dev/emulator/server';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { storeOfflineSession } from '../../tests/helpers/sessions';
import { ensureShop, markShopUninstalled } from '../models/shops.server';
import type { PointsExpiring } from '../metafields';
import {
  AdminApiError,
  createAdminClient,
  ShopThrottleTracker,
} from '../shopify/admin-client.server';
import type { ExpiryReminder } from './notifier';
import { ReminderInputError } from './reminder-email';
import {
  clearShopifyExpiryReminder,
  createShopifyCustomerNotifier,
  POINTS_EXPIRING_TAG,
  shopifyCustomerNotifierFor,
} from './shopify-customer.server';

const SHOP = 'laurel-reminders.myshopify.com';
let emulator: AdminEmulator;

beforeAll(async () => {
  // Shops as `shopify app deploy` leaves them: the definitions of shopify.app.toml, so a write of
  // another type than the declared one is refused as Shopify would refuse it.
  emulator = await startAdminEmulator({ appConfig: 'shopify.app.toml', nodeEnv: 'test' });
});
afterAll(async () => {
  await emulator?.close();
});
beforeEach(() => emulator.reset());

function client(on: AdminEmulator = emulator, shop = SHOP) {
  return createAdminClient({
    shop,
    accessToken: 'shpat_test',
    endpoint: on.endpointTemplate,
    nodeEnv: 'test',
    maxAttempts: 3,
    baseDelayMs: 1,
    maxDelayMs: 5,
    // Each test's bucket starts full: no knowledge carried over from another test's calls.
    throttle: new ShopThrottleTracker(),
  });
}

function reminder(externalId: string, overrides: Partial<ExpiryReminder> = {}): ExpiryReminder {
  return {
    shop: { domain: SHOP, name: 'Laurel Reminders', timezone: 'America/New_York' },
    locale: 'en',
    customer: { id: 5, externalId, email: 'ada@example.com', firstName: 'Ada' },
    points: 1250,
    // New York falls back on 1 November 2026: the end of that day is 05:00Z, not 04:00Z.
    expiresAt: new Date('2026-11-02T05:00:00Z'),
    lastDay: '2026-11-01',
    thresholdDays: 30,
    balance: 3400,
    lots: [{ entryId: 11, points: 1250 }],
    storefrontUrl: `https://${SHOP}/account`,
    ...overrides,
  };
}

function addCustomer(tags: string[] = []): { gid: string; externalId: string } {
  const gid = emulator.state.addCustomer(SHOP, { firstName: 'Ada', tags });
  return { gid, externalId: gid.split('/').pop()! };
}

function pointsExpiring(gid: string): { type: string; value: PointsExpiring } | undefined {
  const field = emulator.state.metafields(SHOP, gid).find((m) => m.key === 'points_expiring');
  return field && { type: field.type, value: JSON.parse(field.value) as PointsExpiring };
}

const tags = (gid: string) => [...emulator.state.customer(SHOP, gid)!.tags].sort();
const executed = () =>
  emulator.requests.filter((r) => r.outcome === 'executed').map((r) => r.operationName);

describe('Shopify customer notifier', () => {
  it('writes the points_expiring metafield (json, as declared) and adds the tag, in that order', async () => {
    const { gid, externalId } = addCustomer(['vip']);
    const outcome = await createShopifyCustomerNotifier({ client: client() }).notify(
      reminder(externalId),
    );
    expect(outcome).toEqual({
      status: 'sent',
      detail: 'points_expiring and tag laurel-points-expiring',
    });
    expect(pointsExpiring(gid)).toEqual({
      type: 'json',
      value: {
        points: 1250,
        expiresAt: '2026-11-02T05:00:00.000Z',
        lastDay: '2026-11-01',
        thresholdDays: 30,
        balance: 3400,
      },
    });
    expect(tags(gid)).toEqual(['laurel-points-expiring', 'vip']);
    expect(executed()).toEqual(['MetafieldsSet', 'CustomerTierTags']);
  });

  it('a second threshold rewrites the figures and adds the tag again (Flow fires once per reminder)', async () => {
    const { gid, externalId } = addCustomer();
    const notifier = createShopifyCustomerNotifier({ client: client() });
    await notifier.notify(reminder(externalId));
    await notifier.notify(reminder(externalId, { thresholdDays: 7, points: 900, balance: 900 }));
    expect(pointsExpiring(gid)!.value).toMatchObject({
      thresholdDays: 7,
      points: 900,
      balance: 900,
    });
    expect(tags(gid)).toEqual([POINTS_EXPIRING_TAG]);
    const tagCalls = emulator.requests.filter((r) => r.operationName === 'CustomerTierTags');
    expect(tagCalls.map((r) => r.variables)).toEqual([
      {
        id: gid,
        remove: [POINTS_EXPIRING_TAG],
        removing: true,
        add: [POINTS_EXPIRING_TAG],
        adding: true,
      },
      {
        id: gid,
        remove: [POINTS_EXPIRING_TAG],
        removing: true,
        add: [POINTS_EXPIRING_TAG],
        adding: true,
      },
    ]);
  });

  it('skips an imported member and a customer Shopify does not have, writing nothing', async () => {
    const notifier = createShopifyCustomerNotifier({ client: client() });
    expect(await notifier.notify(reminder('imported-77'))).toEqual({
      status: 'skipped',
      reason: 'not a Shopify customer (imported member)',
    });
    expect(emulator.requests).toEqual([]);
    expect(await notifier.notify(reminder('9999999999'))).toEqual({
      status: 'skipped',
      reason: 'Shopify has no such customer: metafields.0.ownerId: Owner does not exist.',
    });
    expect(executed()).toEqual(['MetafieldsSet']);
  });

  it('throws a transient error when Shopify stays throttled or answers 5xx, before any tag', async () => {
    const { gid, externalId } = addCustomer();
    const notifier = createShopifyCustomerNotifier({ client: client() });
    emulator.throttleNext(3, SHOP);
    const throttled = await notifier.notify(reminder(externalId)).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(AdminApiError);
    expect(throttled).toMatchObject({ code: 'THROTTLED', transient: true, attempts: 3 });
    emulator.failNext(3, 503, { shop: SHOP });
    const down = await notifier.notify(reminder(externalId)).catch((e: unknown) => e);
    expect(down).toMatchObject({ code: 'SERVER_ERROR', transient: true });
    expect(pointsExpiring(gid)).toBeUndefined();
    expect(tags(gid)).toEqual([]);
    // Once Shopify answers again, the retry goes through.
    expect(await notifier.notify(reminder(externalId))).toMatchObject({ status: 'sent' });
  });

  it('throws a refusal that is not about the customer, naming the field and the message', async () => {
    // The definition deployed with another type: every member would fail the same way, so it is
    // an error to fix, not a member to skip.
    const dir = mkdtempSync(path.join(tmpdir(), 'laurel-toml-'));
    const toml = path.join(dir, 'shopify.app.toml');
    writeFileSync(
      toml,
      '[customer.metafields.app.points_expiring]\ntype = "number_integer"\nname = "Points expiring"\n',
    );
    const conflicting = await startAdminEmulator({ appConfig: toml, nodeEnv: 'test' });
    try {
      const gid = conflicting.state.addCustomer(SHOP, { firstName: 'Ada' });
      const notifier = createShopifyCustomerNotifier({ client: client(conflicting) });
      const refused = await notifier
        .notify(reminder(gid.split('/').pop()!))
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(AdminApiError);
      expect(refused).toMatchObject({ code: 'USER_ERRORS', transient: false });
      expect((refused as Error).message).toMatch(/metafields\.0\.type: .+/);
      expect(conflicting.state.customer(SHOP, gid)!.tags).toEqual([]);
    } finally {
      await conflicting.close();
    }
  });

  it('refuses a reminder for another shop or with inconsistent dates, calling nothing', async () => {
    const { externalId } = addCustomer();
    const notifier = createShopifyCustomerNotifier({ client: client() });
    await expect(
      notifier.notify(
        reminder(externalId, {
          shop: { domain: 'other.myshopify.com', name: 'Other', timezone: 'UTC' },
        }),
      ),
    ).rejects.toThrow(/other\.myshopify\.com given to the Shopify notifier of/);
    // 04:00Z ends 31 October in New York (EDT), not 1 November (EST after the change).
    const early = reminder(externalId, { expiresAt: new Date('2026-11-02T04:00:00Z') });
    await expect(notifier.notify(early)).rejects.toBeInstanceOf(ReminderInputError);
    expect(emulator.requests).toEqual([]);
    expect(() => createShopifyCustomerNotifier({ client: client(), tag: 'a,b' })).toThrow(/comma/);
  });
});

describe('clearShopifyExpiryReminder', () => {
  it('deletes the metafield and removes the tag only, and is harmless twice', async () => {
    const { gid, externalId } = addCustomer(['vip']);
    await createShopifyCustomerNotifier({ client: client() }).notify(reminder(externalId));
    expect(await clearShopifyExpiryReminder(client(), externalId)).toEqual({ status: 'cleared' });
    expect(pointsExpiring(gid)).toBeUndefined();
    expect(tags(gid)).toEqual(['vip']);
    expect(await clearShopifyExpiryReminder(client(), externalId)).toEqual({ status: 'cleared' });
    expect(tags(gid)).toEqual(['vip']);
  });

  it('skips a member Shopify does not have, and throws when Shopify is down', async () => {
    expect(await clearShopifyExpiryReminder(client(), '9999999999')).toEqual({
      status: 'skipped',
      reason: 'Shopify has no such customer: metafields.0.ownerId: Owner does not exist.',
    });
    expect(await clearShopifyExpiryReminder(client(), 'imported-1')).toMatchObject({
      status: 'skipped',
    });
    const { externalId } = addCustomer();
    emulator.failNext(3, 502, { shop: SHOP });
    await expect(clearShopifyExpiryReminder(client(), externalId)).rejects.toMatchObject({
      code: 'SERVER_ERROR',
      transient: true,
    });
  });
});

describe('shopifyCustomerNotifierFor', () => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase('pglite');
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('builds the notifier of an installed shop from its offline token, or says why not', async () => {
    const db = handle.db;
    const options = { endpoint: emulator.endpointTemplate, client: { nodeEnv: 'test' as const } };
    expect(await shopifyCustomerNotifierFor(db, SHOP, options)).toEqual({
      skipped: 'unknown-shop',
    });
    const shop = await ensureShop(db, { domain: SHOP });
    expect(await shopifyCustomerNotifierFor(db, SHOP, options)).toEqual({ skipped: 'no-token' });
    await storeOfflineSession(db, SHOP, 'shpat_installed');
    const target = await shopifyCustomerNotifierFor(db, SHOP, options);
    const { gid, externalId } = addCustomer();
    expect(await target.notifier!.notify(reminder(externalId))).toMatchObject({ status: 'sent' });
    expect(pointsExpiring(gid)?.value.points).toBe(1250);
    expect(await clearShopifyExpiryReminder(target.client!, externalId)).toEqual({
      status: 'cleared',
    });
    await markShopUninstalled(db, shop.id);
    expect(await shopifyCustomerNotifierFor(db, SHOP, options)).toEqual({ skipped: 'uninstalled' });
  });
});

// Campaigns saved through the service: real PostgreSQL, the Admin API emulator as Shopify (products
// and collections, paginated), bad input refused with the field named and nothing saved, the
// program summary made due by every change.
import { randomUUID } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaigns, shopMetafieldSync } from '../db/schema';
import { startAdminEmulator, type AdminEmulator } from '../dev/emulator/server';
import type { CampaignDefinition } from '../loyalty/campaigns';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { storeOfflineSession } from '../tests/helpers/sessions';
import { endCampaign, saveCampaign, type CampaignDeps } from './campaigns.server';
import { AppError, ErrorCode } from './errors';
import { getCampaign } from './models/campaigns.server';
import { ensureShop } from './models/shops.server';
import { createAdminClient } from './shopify/admin-client.server';

const NY = 'America/New_York';
/** Dec 1, 2026, 07:00 in New York. */
const NOW = new Date('2026-12-01T12:00:00Z');

let handle: TestDatabase;
let emulator: AdminEmulator;
const tokens: Record<string, string> = {};
const db = () => handle.db;

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  emulator = await startAdminEmulator({ accessTokens: tokens });
});
afterAll(async () => {
  await emulator?.close();
  await handle?.close();
});

async function installedShop() {
  const shop = await ensureShop(db(), {
    domain: `campaigns-${randomUUID().slice(0, 8)}.myshopify.com`,
    timezone: NY,
    currency: 'USD',
  });
  const token = `shpat_${randomUUID().replaceAll('-', '')}`;
  emulator.setAccessToken(shop.domain, token);
  emulator.state.shop(shop.domain, { ianaTimezone: NY });
  await storeOfflineSession(db(), shop.domain, token);
  const admin = createAdminClient({
    shop: shop.domain,
    accessToken: token,
    endpoint: emulator.url(shop.domain),
    baseDelayMs: 1,
    maxDelayMs: 5,
  });
  const synced: string[] = [];
  const deps: CampaignDeps = {
    db: db(),
    shop,
    admin,
    now: NOW,
    staff: 'ada@example.com',
    requestSync: async (domain) => synced.push(domain),
  };
  const product = (title = 'Gyokuro') =>
    emulator.state
      .addProduct(shop.domain, { title, variants: [{ priceMinor: 4500 }] })
      .productGid.split('/')
      .pop()!;
  return { shop, deps, synced, product };
}

const weekend: CampaignDefinition = {
  name: 'Double points weekend',
  kind: 'multiplier',
  multiplier: '2',
  scope: 'all',
  stacking: 'multiply',
  startsAt: '2026-12-05T00:00',
  endsAt: '2026-12-07T00:00',
};

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

async function campaignCount(shopId: number) {
  const [row] = await db()
    .select({ n: count() })
    .from(campaigns)
    .where(eq(campaigns.shopId, shopId));
  return row!.n;
}

describe('saveCampaign', () => {
  it('saves a weekend in the shop’s timezone, records who, and asks for a sync', async () => {
    const { shop, deps, synced } = await installedShop();
    const saved = await saveCampaign(deps, weekend);
    expect(saved).toMatchObject({
      kind: 'multiplier',
      factorBps: 20_000,
      scope: 'all',
      startsAt: new Date('2026-12-05T05:00:00Z'),
      endsAt: new Date('2026-12-07T05:00:00Z'),
      startsAtLocal: '2026-12-05T00:00:00',
      createdBy: 'ada@example.com',
    });
    expect(synced).toEqual([shop.domain]);
  });

  it.each([
    [{ endsAt: '2026-12-04T23:00' }, 'endsAt', 'must be after the start'],
    [{ multiplier: '0' }, 'multiplier', 'must be more than 0'],
    [{ multiplier: '-1' }, 'multiplier', 'must be more than 0'],
    [{ startsAt: '2026-11-30T00:00' }, 'startsAt', 'must not be in the past'],
    [{ scope: 'products', targetIds: [] }, 'targetIds', 'choose at least one product'],
    [{ kind: 'cashback' }, 'kind', 'is not a kind'],
  ])('refuses %j naming %s, and saves nothing', async (change, path, message) => {
    const { shop, deps, synced } = await installedShop();
    const error = await refusal(saveCampaign(deps, { ...weekend, ...change }));
    expect(error.code).toBe(ErrorCode.VALIDATION);
    const issues = error.details.issues as { path: string; message: string }[];
    expect(issues.find((i) => i.path === path)?.message).toContain(message);
    expect(await campaignCount(shop.id)).toBe(0);
    expect(synced).toEqual([]);
  });

  it('resolves collections to all their products, page by page', async () => {
    const { shop, deps, product } = await installedShop();
    const ids = Array.from({ length: 260 }, (_, i) => product(`Tea ${i}`));
    const collection = emulator.state
      .addCollection(shop.domain, {
        title: 'Teas',
        productIds: ids.map((id) => `gid://shopify/Product/${id}`),
      })
      .split('/')
      .pop()!;
    const saved = await saveCampaign(deps, {
      ...weekend,
      scope: 'collections',
      targetIds: [collection],
    });
    expect(saved.targetIds).toEqual([collection]);
    expect([...saved.productIds].sort()).toEqual([...ids].sort());
  });

  it('refuses an unknown product or collection, naming it, nothing saved', async () => {
    const { shop, deps, product } = await installedShop();
    const real = product();
    const error = await refusal(
      saveCampaign(deps, { ...weekend, scope: 'products', targetIds: [real, '999999'] }),
    );
    expect(error.code).toBe(ErrorCode.VALIDATION);
    expect(error.details.issues).toEqual([
      { path: 'targetIds[1]', message: `no product 999999 in ${shop.domain}` },
    ]);
    const none = await refusal(
      saveCampaign(deps, { ...weekend, scope: 'collections', targetIds: ['424242'] }),
    );
    expect(none.details.issues).toEqual([
      { path: 'targetIds[0]', message: `no collection 424242 in ${shop.domain}` },
    ]);
    expect(await campaignCount(shop.id)).toBe(0);
  });

  it('edits before the start; after it only ends, and the summary is due again', async () => {
    const { shop, deps } = await installedShop();
    const saved = await saveCampaign(deps, weekend);
    const edited = await saveCampaign(deps, { ...weekend, multiplier: '3' }, saved.id);
    expect(edited.factorBps).toBe(30_000);

    const during = { ...deps, now: new Date('2026-12-05T15:00:00Z') };
    const conflict = await refusal(saveCampaign(during, { ...weekend, multiplier: '4' }, saved.id));
    expect(conflict.code).toBe(ErrorCode.CONFLICT);
    expect((await getCampaign(db(), shop.id, saved.id))!.factorBps).toBe(30_000);

    await db()
      .insert(shopMetafieldSync)
      .values({ shopId: shop.id, programCheckedAt: NOW })
      .onConflictDoUpdate({ target: shopMetafieldSync.shopId, set: { programCheckedAt: NOW } });
    const ended = await endCampaign(during, saved.id);
    expect(ended.endedAt).toEqual(during.now);
    const [state] = await db()
      .select({ checked: shopMetafieldSync.programCheckedAt })
      .from(shopMetafieldSync)
      .where(eq(shopMetafieldSync.shopId, shop.id));
    expect(state!.checked).toBeNull();
  });
});

// Early-access windows saved, mirrored and synced: real PostgreSQL, the Admin API emulator as
// Shopify (products, collections, the Function's validation), the model and the sync together.
import { randomUUID } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { earlyAccessProducts, earlyAccessWindows, shopEarlyAccess } from '../db/schema';
import { startAdminEmulator, type AdminEmulator } from '../dev/emulator/server';
import type { DeployedFunction } from '../dev/emulator/validations';
import {
  FUNCTION_PAST_TIME,
  type EarlyAccessWindowDefinition,
  type ProductMirror,
} from '../loyalty/early-access';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { storeOfflineSession } from '../tests/helpers/sessions';
import { seedTierProgram } from '../tests/helpers/tiers';
import {
  archiveEarlyAccessWindow,
  saveEarlyAccessWindow,
  type EarlyAccessDeps,
} from './early-access.server';
import { syncShopEarlyAccess } from './early-access-sync.server';
import { AppError, ErrorCode } from './errors';
import {
  getProductMirror,
  getShopEarlyAccess,
  listWindows,
  windowsCoveringProduct,
} from './models/early-access.server';
import { ensureShop, type Shop } from './models/shops.server';
import { createAdminClient } from './shopify/admin-client.server';

const NY = 'America/New_York';
/** Nov 19, 2026, 07:00 in New York: before the Black Friday window below. */
const NOW = new Date('2026-11-19T12:00:00Z');

let handle: TestDatabase;
let emulator: AdminEmulator;
const tokens: Record<string, string> = {};
// The app's deployed Functions as the emulator knows them; a test removes it to make Shopify
// refuse the validation, as when the app was deployed without it.
const functions: DeployedFunction[] = [
  { handle: 'laurel-early-access', apiType: 'cart_checkout_validation', title: 'Early access' },
];
const db = () => handle.db;

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  emulator = await startAdminEmulator({ accessTokens: tokens, functions });
});
afterAll(async () => {
  await emulator?.close();
  await handle?.close();
});

interface TestShop {
  shop: Shop;
  deps: EarlyAccessDeps;
  product: (title?: string) => string;
}

async function installedShop(): Promise<TestShop> {
  const shop = await ensureShop(db(), {
    domain: `early-${randomUUID().slice(0, 8)}.myshopify.com`,
    timezone: NY,
  });
  const token = `shpat_${randomUUID().replaceAll('-', '')}`;
  emulator.setAccessToken(shop.domain, token);
  emulator.state.shop(shop.domain, { ianaTimezone: NY });
  await storeOfflineSession(db(), shop.domain, token);
  await seedTierProgram(db(), shop.id, undefined, new Date('2026-01-01T00:00:00Z'));
  const admin = createAdminClient({
    shop: shop.domain,
    accessToken: token,
    endpoint: emulator.url(shop.domain),
    baseDelayMs: 1,
    maxDelayMs: 5,
  });
  return {
    shop,
    deps: { db: db(), shopId: shop.id, admin, now: NOW },
    product: (title = 'Gyokuro') =>
      emulator.state
        .addProduct(shop.domain, { title, variants: [{ priceMinor: 4500 }] })
        .productGid.split('/')
        .pop()!,
  };
}

const window = (
  target: EarlyAccessWindowDefinition['target'],
  extra: Partial<EarlyAccessWindowDefinition> = {},
): EarlyAccessWindowDefinition => ({
  name: 'Black Friday preview',
  target,
  stages: [
    { tier: 'gold', opensAt: '2026-11-20T09:00' },
    { tier: 'silver', opensAt: '2026-11-22T09:00' },
  ],
  everyoneAt: '2026-11-24T09:00',
  ...extra,
});

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

async function savedRows(shopId: number) {
  const [windows] = await db()
    .select({ n: count() })
    .from(earlyAccessWindows)
    .where(eq(earlyAccessWindows.shopId, shopId));
  const [products] = await db()
    .select({ n: count() })
    .from(earlyAccessProducts)
    .where(eq(earlyAccessProducts.shopId, shopId));
  return { windows: windows!.n, products: products!.n };
}

const sync = (t: TestShop, now = NOW) =>
  syncShopEarlyAccess({
    db: db(),
    shop: t.shop.domain,
    log: pino({ level: 'silent' }),
    endpoint: emulator.endpointTemplate,
    client: { baseDelayMs: 1, maxDelayMs: 5 },
    now: () => now,
  });

/** The product's `$app.early_access` as Shopify holds it (undefined: none). */
function shopifyMirror(t: TestShop, productId: string): ProductMirror | undefined {
  const field = emulator.state
    .metafields(t.shop.domain, `gid://shopify/Product/${productId}`)
    .find((m) => m.key === 'early_access');
  if (field) expect(field.type).toBe('json');
  return field && (JSON.parse(field.value) as ProductMirror);
}

function shopifyTimes(t: TestShop) {
  const [validation] = emulator.state.validations(t.shop.domain);
  if (!validation) return undefined;
  const field = emulator.state
    .metafields(t.shop.domain, `gid://shopify/Validation/${validation.id}`)
    .find((m) => m.key === 'early_access_times');
  return { validation, times: field && (JSON.parse(field.value) as Record<string, string>) };
}

describe('saveEarlyAccessWindow: bad input is refused and nothing is saved', () => {
  it('a window whose end is before its start', async () => {
    const t = await installedShop();
    const product = t.product();
    const error = await refusal(
      saveEarlyAccessWindow(
        t.deps,
        window({ type: 'product', id: product }, { everyoneAt: '2026-11-19T09:00' }),
      ),
    );
    expect(error.code).toBe(ErrorCode.VALIDATION);
    expect(error.details.issues).toContainEqual({
      path: 'everyoneAt',
      message:
        "must be after every tier's opening: gold opens 2026-11-20T09:00, everyone 2026-11-19T09:00",
    });
    expect(await savedRows(t.shop.id)).toEqual({ windows: 0, products: 0 });
  });

  it('an unknown tier', async () => {
    const t = await installedShop();
    const error = await refusal(
      saveEarlyAccessWindow(
        t.deps,
        window(
          { type: 'product', id: t.product() },
          { stages: [{ tier: 'vip', opensAt: '2026-11-20T09:00' }] },
        ),
      ),
    );
    expect(error.code).toBe(ErrorCode.VALIDATION);
    expect(error.details.issues).toEqual([
      { path: 'stages[0].tier', message: "'vip' is not a tier (bronze, silver, gold, platinum)" },
    ]);
    expect(await savedRows(t.shop.id)).toEqual({ windows: 0, products: 0 });
  });

  it('a product or collection Shopify does not have, named by target.id', async () => {
    const t = await installedShop();
    for (const target of [
      { type: 'product' as const, id: '987654321' },
      { type: 'collection' as const, id: 'gid://shopify/Collection/987654321' },
    ]) {
      const error = await refusal(saveEarlyAccessWindow(t.deps, window(target)));
      expect(error.code).toBe(ErrorCode.VALIDATION);
      expect(error.message).toContain('target.id');
      expect(error.details.issues).toEqual([
        { path: 'target.id', message: `no ${target.type} 987654321 in ${t.shop.domain}` },
      ]);
    }
    expect(await savedRows(t.shop.id)).toEqual({ windows: 0, products: 0 });
  });

  it('Shopify unreachable: UPSTREAM, nothing saved', async () => {
    const t = await installedShop();
    const product = t.product();
    emulator.failNext(10, 503, { shop: t.shop.domain });
    const error = await refusal(
      saveEarlyAccessWindow(
        {
          ...t.deps,
          admin: createAdminClient({
            shop: t.shop.domain,
            accessToken: tokens[t.shop.domain] ?? 'x',
            endpoint: emulator.url(t.shop.domain),
            maxAttempts: 2,
            baseDelayMs: 1,
          }),
        },
        window({ type: 'product', id: product }),
      ),
    );
    emulator.reset();
    expect(error.code).toBe(ErrorCode.UPSTREAM);
    expect(await savedRows(t.shop.id)).toEqual({ windows: 0, products: 0 });
  });
});

describe('saving, mirroring and syncing', () => {
  it('a product window: stored, its mirror pending, written by the sync with the validation', async () => {
    const t = await installedShop();
    const product = t.product();
    const requested: string[] = [];
    const saved = await saveEarlyAccessWindow(
      { ...t.deps, requestSync: async (shop) => requested.push(shop) },
      window({ type: 'product', id: `gid://shopify/Product/${product}` }),
    );
    expect(requested).toEqual([t.shop.domain]);
    expect(saved.products).toEqual([product]);
    expect(saved.window).toMatchObject({
      targetType: 'product',
      targetId: product,
      targetTitle: 'Gyokuro',
      // 09:00 in New York (EST) on Nov 20 and Nov 24.
      startsAt: new Date('2026-11-20T14:00:00Z'),
      endsAt: new Date('2026-11-24T14:00:00Z'),
      archivedAt: null,
    });
    expect((await listWindows(db(), t.shop.id)).map((w) => w.id)).toEqual([saved.window.id]);
    const row = await getProductMirror(db(), t.shop.id, product);
    expect(row).toMatchObject({ revision: 1, syncedRevision: 0 });
    expect(row!.mirror!.windows[0]!.stages[0]).toEqual({
      tiers: ['gold', 'platinum'],
      names: ['Gold', 'Platinum'],
      at: '2026-11-20T09:00:00',
      epoch: Date.parse('2026-11-20T14:00:00Z') / 1000,
    });

    const result = await sync(t);
    expect(result).toEqual({
      status: 'synced',
      written: 1,
      deleted: 0,
      failed: 0,
      dropped: 0,
      validation: 'created',
      more: false,
    });
    expect(shopifyMirror(t, product)).toEqual(row!.mirror);
    expect(await getProductMirror(db(), t.shop.id, product)).toMatchObject({
      revision: 1,
      syncedRevision: 1,
      attempts: 0,
      lastError: null,
    });
    const { validation, times } = shopifyTimes(t)!;
    expect(validation).toMatchObject({
      functionHandle: 'laurel-early-access',
      enabled: true,
      blockOnFailure: true,
    });
    expect(times).toMatchObject({
      t0: '2026-11-20T09:00:00',
      t1: '2026-11-22T09:00:00',
      t2: '2026-11-24T09:00:00',
      t3: FUNCTION_PAST_TIME,
    });
    expect(await getShopEarlyAccess(db(), t.shop.id)).toMatchObject({
      validationId: `gid://shopify/Validation/${validation.id}`,
      lastError: null,
    });

    // Nothing changed: nothing written, no second validation.
    const calls = emulator.requests.length;
    expect(await sync(t)).toMatchObject({ written: 0, validation: 'current' });
    expect(emulator.requests.slice(calls).filter((r) => r.operationName !== null)).toEqual([]);
    expect(emulator.state.validations(t.shop.domain)).toHaveLength(1);

    // Gold's stage has passed by more than a day: the slots move on, and the validation is rewritten.
    const later = new Date('2026-11-21T15:00:00Z');
    expect(await sync(t, later)).toMatchObject({ written: 0, validation: 'written' });
    expect(shopifyTimes(t)!.times).toMatchObject({
      t0: '2026-11-22T09:00:00',
      t1: '2026-11-24T09:00:00',
      t2: FUNCTION_PAST_TIME,
    });
  });

  it('a collection window is mirrored onto each of its products (every page of them)', async () => {
    const t = await installedShop();
    const products = Array.from({ length: 260 }, (_, i) => t.product(`Tea ${i}`));
    const collection = emulator.state.addCollection(t.shop.domain, {
      title: 'Winter teas',
      productIds: products.map((id) => `gid://shopify/Product/${id}`),
    });
    const saved = await saveEarlyAccessWindow(
      t.deps,
      window({ type: 'collection', id: collection }),
    );
    expect(saved.window.targetTitle).toBe('Winter teas');
    expect(saved.products.sort()).toEqual([...products].sort());
    // Each product's covering windows include the collection's.
    expect(
      (await windowsCoveringProduct(db(), t.shop.id, products[259]!)).map((w) => w.id),
    ).toEqual([saved.window.id]);

    // A product window on one of them too: its mirror holds both.
    const own = await saveEarlyAccessWindow(
      t.deps,
      window(
        { type: 'product', id: products[0]! },
        { name: 'Gyokuro first', everyoneAt: '2026-11-25T09:00' },
      ),
    );
    const first = await getProductMirror(db(), t.shop.id, products[0]!);
    expect(first!.mirror!.windows.map((w) => w.id)).toEqual([saved.window.id, own.window.id]);

    let result = await sync(t);
    // 250 a run at most: the rest is left for the next run.
    expect(result).toMatchObject({ written: 250, failed: 0, more: true });
    result = await sync(t);
    expect(result).toMatchObject({ written: 10, more: false });
    for (const id of [products[0]!, products[137]!, products[259]!]) {
      expect(shopifyMirror(t, id)).toEqual((await getProductMirror(db(), t.shop.id, id))!.mirror);
    }
    expect(shopifyMirror(t, products[0]!)!.windows).toHaveLength(2);

    // Archiving the collection window: the others' mirrors go, the product window's stays.
    const archived = await archiveEarlyAccessWindow(t.deps, saved.window.id);
    expect(archived.products).toHaveLength(260);
    expect((await getProductMirror(db(), t.shop.id, products[5]!))!.mirror).toBeNull();
    // 259 deletions and one rewrite (product 0 keeps its own window), 250 a run.
    const runs = [await sync(t), await sync(t)];
    expect(runs.map((r) => r.status === 'synced' && [r.written + r.deleted, r.more])).toEqual([
      [250, true],
      [10, false],
    ]);
    expect(shopifyMirror(t, products[5]!)).toBeUndefined();
    expect(shopifyMirror(t, products[0]!)!.windows.map((w) => w.id)).toEqual([own.window.id]);
    expect((await listWindows(db(), t.shop.id, 'archived')).map((w) => w.id)).toEqual([
      saved.window.id,
    ]);
  });

  it('a refused product is recorded and retried by the next run; a refused validation too', async () => {
    const t = await installedShop();
    const kept = t.product('Kept');
    const gone = t.product('Gone');
    await saveEarlyAccessWindow(t.deps, window({ type: 'product', id: kept }));
    await saveEarlyAccessWindow(t.deps, window({ type: 'product', id: gone }));
    // The product is deleted at Shopify after the window was saved; and the app was deployed
    // without its Function.
    const store = emulator.state.store(t.shop.domain);
    const goneRecord = store.products.get(Number(gone))!;
    store.products.delete(Number(gone));
    functions.length = 0;
    try {
      const result = await sync(t);
      expect(result).toMatchObject({ written: 1, failed: 1, validation: 'failed' });
      expect(await getProductMirror(db(), t.shop.id, gone)).toMatchObject({
        revision: 1,
        syncedRevision: 0,
        attempts: 1,
        lastError: 'metafields.1.ownerId: Owner does not exist. (INVALID)',
      });
      expect(shopifyMirror(t, kept)).toBeDefined();
      expect((await getShopEarlyAccess(db(), t.shop.id))!).toMatchObject({
        validationId: null,
        lastError: expect.stringContaining('FUNCTION_NOT_FOUND'),
      });
    } finally {
      functions.push({
        handle: 'laurel-early-access',
        apiType: 'cart_checkout_validation',
        title: 'Early access',
      });
    }
    store.products.set(goneRecord.id, goneRecord);
    const retried = await sync(t);
    expect(retried).toMatchObject({ written: 1, failed: 0, validation: 'created' });
    expect(await getProductMirror(db(), t.shop.id, gone)).toMatchObject({
      syncedRevision: 1,
      attempts: 0,
      lastError: null,
    });
    expect(shopifyMirror(t, gone)).toBeDefined();
  });

  it('a lost validation record is found at Shopify, not created twice', async () => {
    const t = await installedShop();
    await saveEarlyAccessWindow(t.deps, window({ type: 'product', id: t.product() }));
    expect(await sync(t)).toMatchObject({ validation: 'created' });
    await db()
      .update(shopEarlyAccess)
      .set({ validationId: null, syncedTimes: null })
      .where(eq(shopEarlyAccess.shopId, t.shop.id));
    expect(await sync(t)).toMatchObject({ validation: 'adopted' });
    expect(emulator.state.validations(t.shop.domain)).toHaveLength(1);
  });

  it('a recorded validation Shopify no longer has is forgotten, and the real one found', async () => {
    const t = await installedShop();
    await saveEarlyAccessWindow(t.deps, window({ type: 'product', id: t.product() }));
    expect(await sync(t)).toMatchObject({ validation: 'created' });
    // What a demo re-run against a fresh store met: an id from an earlier store, times to write.
    await db()
      .update(shopEarlyAccess)
      .set({ validationId: 'gid://shopify/Validation/999999', syncedTimes: null })
      .where(eq(shopEarlyAccess.shopId, t.shop.id));
    expect(await sync(t)).toMatchObject({ validation: 'adopted' });
    const [state] = await db()
      .select()
      .from(shopEarlyAccess)
      .where(eq(shopEarlyAccess.shopId, t.shop.id));
    expect(state).toMatchObject({
      validationId: `gid://shopify/Validation/${emulator.state.validations(t.shop.domain)[0]!.id}`,
      lastError: null,
    });
    expect(emulator.state.validations(t.shop.domain)).toHaveLength(1);
  });

  it('a window that ended more than a day ago leaves the mirrors (deleted at Shopify)', async () => {
    const t = await installedShop();
    const product = t.product();
    await saveEarlyAccessWindow(t.deps, window({ type: 'product', id: product }));
    await sync(t);
    expect(shopifyMirror(t, product)).toBeDefined();
    // Everyone could buy from Nov 24 09:00 New York; a day later it is still mirrored.
    expect(await sync(t, new Date('2026-11-25T13:00:00Z'))).toMatchObject({ dropped: 0 });
    const result = await sync(t, new Date('2026-11-25T15:00:00Z'));
    expect(result).toMatchObject({ dropped: 1, deleted: 1, validation: 'written' });
    expect(shopifyMirror(t, product)).toBeUndefined();
    expect(Object.values(shopifyTimes(t)!.times!).every((v) => v === FUNCTION_PAST_TIME)).toBe(
      true,
    );
  });
});

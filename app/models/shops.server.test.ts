import { randomUUID } from 'node:crypto';
import { count, eq, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../db/client.server';
import {
  customerBalances,
  customers,
  ledgerEntries,
  orders,
  programs,
  sessions,
  shops,
  webhookInbox,
} from '../../db/schema';
import { referenceProgram } from '../../loyalty/program';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { AppError, ErrorCode } from '../errors';
import { ensureCustomer } from './customers.server';
import { balanceOf, post } from './ledger.server';
import { publishProgram } from './programs.server';
import {
  deleteShopData,
  ensureShop,
  getShop,
  getShopByDomain,
  markShopUninstalled,
  normalizeShopDomain,
} from './shops.server';

const uniqueDomain = () => `shop-${randomUUID().slice(0, 8)}.myshopify.com`;

async function rows(db: Executor, table: PgTable, where: SQL): Promise<number> {
  const [row] = await db.select({ n: count() }).from(table).where(where);
  return row!.n;
}

describe.each(['postgres', 'pglite'] as const)('shops on %s', (kind) => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('creates a shop with defaults, then updates only the fields given', async () => {
    const { db } = handle;
    const domain = uniqueDomain();
    const created = await ensureShop(db, { domain: domain.toUpperCase() });
    expect(created).toMatchObject({
      domain,
      currency: 'USD',
      timezone: 'UTC',
      name: null,
      active: true,
    });
    const updated = await ensureShop(db, { domain, currency: 'EUR', name: 'Laurel Bakery' });
    expect(updated).toMatchObject({
      id: created.id,
      currency: 'EUR',
      timezone: 'UTC',
      name: 'Laurel Bakery',
    });
    const again = await ensureShop(db, { domain, timezone: 'Europe/Paris' });
    expect(again).toMatchObject({
      id: created.id,
      currency: 'EUR',
      timezone: 'Europe/Paris',
      name: 'Laurel Bakery',
    });
    expect(await getShopByDomain(db, domain)).toEqual(again);
    expect(await getShop(db, created.id)).toEqual(again);
    expect(await getShopByDomain(db, uniqueDomain())).toBeUndefined();
  });

  it('makes one shop from concurrent installs', async () => {
    const { db } = handle;
    const domain = uniqueDomain();
    const results = await Promise.all(Array.from({ length: 10 }, () => ensureShop(db, { domain })));
    expect(new Set(results.map((s) => s.id)).size).toBe(1);
    expect(await rows(db, shops, eq(shops.domain, domain))).toBe(1);
  });

  it.each([
    [
      'domain',
      { domain: 'example.com' },
      /shop domain "example.com" is not a \*\.myshopify\.com domain/,
    ],
    ['domain', { domain: '' }, /shop domain "" is not/],
    ['currency', { currency: 'XYZ' }, /shop currency "XYZ" is not a known ISO 4217 code/],
    [
      'timezone',
      { timezone: 'Mars/Olympus' },
      /shop timezone "Mars\/Olympus" is not an IANA timezone/,
    ],
  ])('rejects a bad %s with VALIDATION naming it', async (_field, input, message) => {
    const attempt = ensureShop(handle.db, { domain: uniqueDomain(), ...input });
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toMatchObject({ code: ErrorCode.VALIDATION });
  });

  it('normalises domains', () => {
    expect(normalizeShopDomain(' Laurel-Demo.MyShopify.com ')).toBe('laurel-demo.myshopify.com');
    expect(() => normalizeShopDomain('laurel demo.myshopify.com')).toThrow(AppError);
  });

  it('marks a shop uninstalled repeatably and reactivates it on reinstall', async () => {
    const { db } = handle;
    const shop = await ensureShop(db, { domain: uniqueDomain() });
    const first = await markShopUninstalled(db, shop.id);
    expect(first).toMatchObject({ active: false });
    expect(first!.uninstalledAt).toBeInstanceOf(Date);
    const second = await markShopUninstalled(db, shop.id);
    // A redelivered app/uninstalled keeps the first time.
    expect(second!.uninstalledAt!.getTime()).toBe(first!.uninstalledAt!.getTime());
    const back = await ensureShop(db, { domain: shop.domain });
    expect(back).toMatchObject({ id: shop.id, active: true, uninstalledAt: null });
    expect(back.installedAt.getTime()).toBeGreaterThanOrEqual(first!.uninstalledAt!.getTime());
    expect(await markShopUninstalled(db, 2_000_000_000)).toBeUndefined();
  });

  it("deleteShopData removes everything of that shop and nothing of another's", async () => {
    const { db } = handle;
    const populate = async () => {
      const shop = await ensureShop(db, { domain: uniqueDomain() });
      const customer = await ensureCustomer(db, shop.id, {
        externalId: '1',
        email: 'ann@example.com',
      });
      await publishProgram(db, shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
      await post(db, shop.id, {
        customerId: customer.id,
        idempotencyKey: 'order:1:earn',
        source: 'order',
        points: 90,
        occurredAt: new Date('2026-01-02T00:00:00Z'),
        programVersion: 1,
        inputs: { amountMinor: 12000 },
      });
      await db.insert(orders).values({
        shopId: shop.id,
        shopifyOrderId: '1',
        customerId: customer.id,
        currency: 'USD',
        earnAmountMinor: 12000,
        totalMinor: 13000,
      });
      await db
        .insert(sessions)
        .values({ id: `offline_${shop.domain}`, shop: shop.domain, state: 's' });
      await db.insert(webhookInbox).values({
        shopDomain: shop.domain,
        webhookId: randomUUID(),
        topic: 'orders/paid',
        payload: {},
      });
      return { shop, customer };
    };
    const doomed = await populate();
    const kept = await populate();
    const counts = async (shopId: number, domain: string) => [
      await rows(db, shops, eq(shops.id, shopId)),
      await rows(db, customers, eq(customers.shopId, shopId)),
      await rows(db, programs, eq(programs.shopId, shopId)),
      await rows(db, ledgerEntries, eq(ledgerEntries.shopId, shopId)),
      await rows(db, customerBalances, eq(customerBalances.shopId, shopId)),
      await rows(db, orders, eq(orders.shopId, shopId)),
      await rows(db, sessions, eq(sessions.shop, domain)),
      await rows(db, webhookInbox, eq(webhookInbox.shopDomain, domain)),
    ];
    expect(await counts(doomed.shop.id, doomed.shop.domain)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);

    expect(await deleteShopData(db, doomed.shop.id)).toBe(true);
    expect(await counts(doomed.shop.id, doomed.shop.domain)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await counts(kept.shop.id, kept.shop.domain)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(await balanceOf(db, kept.shop.id, kept.customer.id)).toEqual({
      balance: 90,
      lifetimeEarned: 90,
    });
    // shop/redact may be delivered again.
    expect(await deleteShopData(db, doomed.shop.id)).toBe(false);
  });
});

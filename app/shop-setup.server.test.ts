import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import { startAdminEmulator, type AdminEmulator } from '../dev/emulator/server';
import { parseProgram } from '../loyalty/program';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { ensureCustomer } from './models/customers.server';
import { post } from './models/ledger.server';
import { hasPendingMembers, recordSynced } from './models/metafield-sync.server';
import { listPrograms } from './models/programs.server';
import { getShopByDomain } from './models/shops.server';
import { referenceProgramIn, setUpShop } from './shop-setup.server';

const SHOP = 'laurel-setup.myshopify.com';
const TOKEN = 'shpat_setup';

describe('referenceProgramIn', () => {
  it('moves the reference amounts to the currency unit for unit, with its digits', () => {
    expect(referenceProgramIn('USD')?.earn).toEqual({
      unit: '1.00',
      bands: [
        { over: '50.00', upTo: '100.00', pointsPerUnit: 1 },
        { over: '100.00', pointsPerUnit: 2 },
      ],
    });
    expect(referenceProgramIn('JPY')?.earn).toEqual({
      unit: '1',
      bands: [
        { over: '50', upTo: '100', pointsPerUnit: 1 },
        { over: '100', pointsPerUnit: 2 },
      ],
    });
    expect(referenceProgramIn('KWD')?.earn.bands[0]).toEqual({
      over: '50.000',
      upTo: '100.000',
      pointsPerUnit: 1,
    });
    for (const currency of ['EUR', 'JPY', 'KWD', 'CLF']) {
      const program = parseProgram(referenceProgramIn(currency));
      expect(program.currency).toBe(currency);
    }
  });

  it('has nothing for a currency it does not know', () => {
    expect(referenceProgramIn('XYZ')).toBeUndefined();
  });
});

describe('setUpShop (afterAuth)', () => {
  let db: TestDatabase;
  let emulator: AdminEmulator;
  beforeEach(async () => {
    db = await createTestDatabase();
    emulator = await startAdminEmulator({ accessTokens: { [SHOP]: TOKEN } });
  });
  afterEach(async () => {
    await emulator.close();
    await db.close();
  });

  const setUp = () =>
    setUpShop({
      db: db.db,
      shop: SHOP,
      accessToken: TOKEN,
      endpoint: emulator.endpointTemplate,
      now: () => new Date('2026-12-01T00:00:00Z'),
    });

  it('records the shop currency and timezone and publishes a starting program once', async () => {
    emulator.state.shop(SHOP, {
      name: 'Setup Shop',
      currencyCode: 'JPY',
      ianaTimezone: 'Asia/Tokyo',
    });
    const first = await setUp();
    expect(first.shop).toMatchObject({
      domain: SHOP,
      name: 'Setup Shop',
      currency: 'JPY',
      timezone: 'Asia/Tokyo',
      active: true,
    });
    expect(first.published?.version).toBe(1);
    expect(first.published?.definition).toMatchObject({
      currency: 'JPY',
      earn: { unit: '1' },
    });

    const again = await setUp();
    expect(again.published).toBeUndefined();
    expect(await listPrograms(db.db, first.shop.id)).toHaveLength(1);
  });

  it('writes the program summary for the storefront, and leaves every member to be resynced', async () => {
    const first = await setUp();
    expect(first.programSummary).toBe('written');
    const installation = emulator.state.appInstallationGid(SHOP);
    const [summary] = emulator.state.metafields(SHOP, installation);
    expect(summary).toMatchObject({ namespace: 'laurel', key: 'program', type: 'json' });
    expect(JSON.parse(summary!.value)).toMatchObject({
      version: 1,
      currency: 'USD',
      unitMinor: 100,
    });

    // A member synced before a reinstall is pending again after it (the new installation holds
    // none of the old one's app data); the summary is written again at once.
    const customer = await ensureCustomer(db.db, first.shop.id, { externalId: '6001' });
    const { entry } = await post(db.db, first.shop.id, {
      customerId: customer.id,
      idempotencyKey: 'order:1:earn',
      source: 'order',
      points: 90,
      occurredAt: new Date('2026-11-01T00:00:00Z'),
      programVersion: 1,
      inputs: {},
    });
    await recordSynced(db.db, first.shop.id, [
      { customerId: customer.id, revision: 1, ledgerPosition: entry.id },
    ]);
    expect(await hasPendingMembers(db.db, first.shop.id)).toBe(false);
    const again = await setUp();
    expect(again.programSummary).toBe('written');
    expect(await hasPendingMembers(db.db, first.shop.id)).toBe(true);
  });

  it('still sets the shop up when the program summary cannot be written', async () => {
    // Shopify answers the shop's details, then is down for the summary: logged, not fatal.
    const setup = await setUpShop({
      db: db.db,
      shop: SHOP,
      accessToken: TOKEN,
      endpoint: emulator.endpointTemplate,
      client: {
        baseDelayMs: 1,
        maxAttempts: 2,
        fetch: async (input, init) => {
          // ShopInfo goes through; the summary's calls fail.
          if (!String(init?.body).includes('ShopInfo')) return new Response('{}', { status: 503 });
          return fetch(input, init);
        },
      },
      now: () => new Date('2026-12-01T00:00:00Z'),
    });
    expect(setup.published?.version).toBe(1);
    expect(setup.programSummary).toBe('skipped');
    expect(emulator.state.metafields(SHOP, emulator.state.appInstallationGid(SHOP))).toEqual([]);
  });

  it('publishes one program when two set-ups race', async () => {
    await Promise.all([setUp(), setUp(), setUp()]);
    const shop = await getShopByDomain(db.db, SHOP);
    expect(await listPrograms(db.db, shop!.id)).toHaveLength(1);
  });

  it('fails (so the session is retried) when Shopify refuses the token', async () => {
    emulator.setAccessToken(SHOP, 'shpat_other');
    await expect(setUp()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await getShopByDomain(db.db, SHOP)).toBeUndefined();
  });
});

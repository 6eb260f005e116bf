import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import { startAdminEmulator, type AdminEmulator } from '../dev/emulator/server';
import { parseProgram } from '../loyalty/program';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
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

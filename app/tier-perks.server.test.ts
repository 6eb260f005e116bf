// A tier's free shipping on the emulator: one segment and one automatic discount per tier with the
// perk, made once, kept in step with the tier program, removed when the perk goes.
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { automaticDiscountsOf } from '../dev/emulator/discounts-automatic';
import { inSegment, segmentsOf } from '../dev/emulator/segments';
import { startAdminEmulator, type AdminEmulator } from '../dev/emulator/server';
import { referenceProgram } from '../loyalty/program';
import type { TierProgramDefinition } from '../loyalty/tiers';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { storeOfflineSession } from '../tests/helpers/sessions';
import { FOUR_TIERS, seedTierProgram, setMemberTier } from '../tests/helpers/tiers';
import { syncShopMetafields } from './metafield-sync.server';
import { ensureCustomer } from './models/customers.server';
import { post } from './models/ledger.server';
import { shopsDueForSync } from './models/metafield-sync.server';
import { publishProgram } from './models/programs.server';
import { ensureShop, type Shop } from './models/shops.server';
import { listTierPerks, tierPerksDue } from './models/tier-perks.server';
import { segmentQuery, syncTierPerks } from './tier-perks.server';

let handle: TestDatabase;
let emulator: AdminEmulator;
const db = () => handle.db;

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  emulator = await startAdminEmulator({ accessTokens: {}, appConfig: 'shopify.app.toml' });
});
afterAll(async () => {
  await emulator?.close();
  await handle?.close();
});

async function installedShop(): Promise<Shop> {
  const shop = await ensureShop(db(), {
    domain: `perks-${randomUUID().slice(0, 8)}.myshopify.com`,
  });
  const token = `shpat_${randomUUID().replaceAll('-', '')}`;
  emulator.setAccessToken(shop.domain, token);
  await storeOfflineSession(db(), shop.domain, token);
  await publishProgram(db(), shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
  return shop;
}

const options = (shop: Shop, fetchImpl?: typeof fetch) => ({
  db: db(),
  shop: shop.domain,
  log: pino({ level: 'silent' }),
  endpoint: emulator.endpointTemplate,
  client: { baseDelayMs: 1, maxDelayMs: 5, ...(fetchImpl ? { fetch: fetchImpl } : {}) },
});

/** What Shopify holds: segments (name → query) and discounts (title → segment names). */
function held(shop: Shop) {
  const store = emulator.state.store(shop.domain);
  const segments = segmentsOf(store);
  return {
    segments: Object.fromEntries([...segments.values()].map((s) => [s.name, s.query])),
    discounts: Object.fromEntries(
      [...automaticDiscountsOf(store).values()].map((d) => [
        d.title,
        d.segmentIds.map((id) => segments.get(id)?.name ?? `missing ${id}`),
      ]),
    ),
  };
}

const perkCalls = (shop: Shop) =>
  emulator.requests.filter(
    (r) =>
      r.shop === shop.domain &&
      r.outcome === 'executed' &&
      /^(Segment|DiscountAutomatic|TierPerk)/.test(r.operationName ?? ''),
  );
const creates = (shop: Shop) =>
  perkCalls(shop).filter((r) => /Create$/.test(r.operationName ?? '')).length;

const GOLD_AND_PLATINUM = {
  segments: {
    'Gold members (Laurel, laurel-tier-gold)': "customer_tags CONTAINS 'laurel-tier-gold'",
    'Platinum members (Laurel, laurel-tier-platinum)':
      "customer_tags CONTAINS 'laurel-tier-platinum'",
  },
  discounts: {
    'Gold members: free shipping (Laurel, laurel-tier-gold)': [
      'Gold members (Laurel, laurel-tier-gold)',
    ],
    'Platinum members: free shipping (Laurel, laurel-tier-platinum)': [
      'Platinum members (Laurel, laurel-tier-platinum)',
    ],
  },
};

describe('tier perks', () => {
  it('makes a segment and a free-shipping discount for each tier with the perk, once', async () => {
    const shop = await installedShop();
    expect(await tierPerksDue(db(), shop.id, new Date())).toBe(false);
    await seedTierProgram(db(), shop.id);
    expect(await tierPerksDue(db(), shop.id, new Date())).toBe(true);
    expect(await shopsDueForSync(db())).toContain(shop.domain);

    expect(await syncTierPerks(options(shop))).toMatchObject({ status: 'synced', perks: 'synced' });
    expect(held(shop)).toEqual(GOLD_AND_PLATINUM);
    expect(segmentQuery('laurel-tier-gold')).toBe("customer_tags CONTAINS 'laurel-tier-gold'");
    const store = emulator.state.store(shop.domain);
    const [discount] = [...automaticDiscountsOf(store).values()];
    expect(discount).toMatchObject({
      destination: { kind: 'all' },
      combinesWith: { orderDiscounts: true, productDiscounts: true, shippingDiscounts: false },
      endsAt: null,
    });
    const rows = await listTierPerks(db(), shop.id);
    expect(
      rows.map((r) => [
        r.tierKey,
        r.syncedVersion,
        r.segmentId !== null,
        r.freeShippingDiscountId !== null,
      ]),
    ).toEqual([
      ['bronze', 1, false, false],
      ['gold', 1, true, true],
      ['platinum', 1, true, true],
      ['silver', 1, false, false],
    ]);
    expect(await tierPerksDue(db(), shop.id, new Date())).toBe(false);
    expect(await shopsDueForSync(db())).not.toContain(shop.domain);
    expect(creates(shop)).toBe(4);

    // Again, and a plain sync: nothing created, and the plain one does not even look.
    expect(await syncTierPerks(options(shop))).toMatchObject({ perks: 'current' });
    const looked = perkCalls(shop).length;
    expect(await syncShopMetafields(options(shop))).toMatchObject({ perks: 'current' });
    expect(perkCalls(shop)).toHaveLength(looked);
    expect(creates(shop)).toBe(4);
    expect(held(shop)).toEqual(GOLD_AND_PLATINUM);
  });

  it('finds what it made by name when the record of it was lost (a crash after the create)', async () => {
    const shop = await installedShop();
    await seedTierProgram(db(), shop.id);
    await syncTierPerks(options(shop));
    await db().execute(`DELETE FROM tier_perks WHERE shop_id = ${shop.id}`);
    expect(await tierPerksDue(db(), shop.id, new Date())).toBe(true);
    expect(await syncTierPerks(options(shop))).toMatchObject({ perks: 'current' });
    expect(creates(shop)).toBe(4);
    expect(held(shop)).toEqual(GOLD_AND_PLATINUM);
    expect((await listTierPerks(db(), shop.id)).filter((r) => r.segmentId)).toHaveLength(2);
  });

  it('a Gold member is in the Gold segment once the sync has tagged them', async () => {
    const shop = await installedShop();
    await seedTierProgram(db(), shop.id);
    const gid = emulator.state.addCustomer(shop.domain, {});
    const customer = await ensureCustomer(db(), shop.id, { externalId: gid.split('/').pop()! });
    await setMemberTier(db(), shop.id, customer.id, 'gold', { metricValue: 150_000 });
    await post(db(), shop.id, {
      customerId: customer.id,
      idempotencyKey: 'order:1:earn',
      source: 'order',
      points: 10,
      occurredAt: new Date('2026-03-01T12:00:00Z'),
      programVersion: 1,
      inputs: { test: 1 },
    });
    expect(await syncShopMetafields(options(shop))).toMatchObject({ written: 1, perks: 'synced' });
    const store = emulator.state.store(shop.domain);
    const tags = store.customers.get(Number(gid.split('/').pop()))!.tags;
    const member = [...segmentsOf(store).values()].filter((s) => inSegment(s, tags));
    expect(member.map((s) => s.name)).toEqual(['Gold members (Laurel, laurel-tier-gold)']);
  });

  it('removes the discount and segment of a tier that loses the perk or leaves the program', async () => {
    const shop = await installedShop();
    await seedTierProgram(db(), shop.id);
    await syncTierPerks(options(shop));

    // Gold loses free shipping: the sweep notices, the next sync removes Gold's, keeps Platinum's.
    const noGold: TierProgramDefinition = structuredClone(FOUR_TIERS);
    noGold.tiers[2] = { ...noGold.tiers[2]!, freeShipping: false };
    await seedTierProgram(db(), shop.id, noGold);
    expect(await shopsDueForSync(db())).toContain(shop.domain);
    expect(await syncShopMetafields(options(shop))).toMatchObject({ perks: 'synced' });
    expect(held(shop)).toEqual({
      segments: {
        'Platinum members (Laurel, laurel-tier-platinum)':
          "customer_tags CONTAINS 'laurel-tier-platinum'",
      },
      discounts: {
        'Platinum members: free shipping (Laurel, laurel-tier-platinum)': [
          'Platinum members (Laurel, laurel-tier-platinum)',
        ],
      },
    });
    expect((await listTierPerks(db(), shop.id)).find((r) => r.tierKey === 'gold')).toMatchObject({
      segmentId: null,
      freeShippingDiscountId: null,
      syncedVersion: 2,
    });

    // Platinum leaves the program: its objects go, and its row.
    const three: TierProgramDefinition = { ...noGold, tiers: noGold.tiers.slice(0, 3) };
    await seedTierProgram(db(), shop.id, three);
    expect(await syncTierPerks(options(shop))).toMatchObject({ perks: 'synced' });
    expect(held(shop)).toEqual({ segments: {}, discounts: {} });
    expect((await listTierPerks(db(), shop.id)).map((r) => [r.tierKey, r.syncedVersion])).toEqual([
      ['bronze', 3],
      ['gold', 3],
      ['silver', 3],
    ]);
    expect(await tierPerksDue(db(), shop.id, new Date())).toBe(false);
  });

  it('records a perk Shopify refuses and makes it on a later run', async () => {
    const shop = await installedShop();
    await seedTierProgram(db(), shop.id);
    let refused = 0;
    const refusing: typeof fetch = async (input, init) => {
      if (refused === 0 && String(init?.body).includes('mutation SegmentCreate')) {
        refused++;
        return Response.json({
          data: {
            segmentCreate: {
              segment: null,
              userErrors: [{ field: ['query'], message: 'Segment limit reached' }],
            },
          },
        });
      }
      return fetch(input, init);
    };
    const first = await syncShopMetafields(options(shop, refusing));
    expect(first).toMatchObject({ perks: 'failed', more: false });
    const gold = (await listTierPerks(db(), shop.id)).find((r) => r.tierKey === 'gold');
    expect(gold).toMatchObject({ syncedVersion: null, segmentId: null });
    expect(gold?.lastError).toMatch(/Segment limit reached/);
    // Platinum was made regardless.
    expect(Object.keys(held(shop).discounts)).toEqual([
      'Platinum members: free shipping (Laurel, laurel-tier-platinum)',
    ]);
    expect(await shopsDueForSync(db())).toContain(shop.domain);
    expect(await syncShopMetafields(options(shop))).toMatchObject({ perks: 'synced' });
    expect(held(shop)).toEqual(GOLD_AND_PLATINUM);
    expect(
      (await listTierPerks(db(), shop.id)).find((r) => r.tierKey === 'gold')?.lastError,
    ).toBeNull();
  });
});

/**
 * The expiry sweep with the real issuer against the Admin API emulator: codes past their end (and
 * the grace) are deactivated at Shopify, then expired with their points kept, or refunded when the
 * reward says so; a code Shopify saw used is marked used, never refunded.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureCustomer } from './models/customers.server';
import { balanceOf, entriesFor, post } from './models/ledger.server';
import { getRedemption } from './models/redemptions.server';
import { createReward } from './models/rewards.server';
import { ensureShop, type Shop } from './models/shops.server';
import { EXPIRY_GRACE_MS, expireDueRedemptions } from './redemption-expiry.server';
import { redeem, redemptionDeps, type RedemptionDeps } from './redemption.server';
import * as rewardIssuer from './reward-issuer.server';
import { startAdminEmulator, type AdminEmulator } from '../dev/emulator/server';
import { explainEntry } from '../loyalty/explain';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { storeOfflineSession } from '../tests/helpers/sessions';

const silent = pino({ level: 'silent' });
const DAY = 86_400_000;

let handle: TestDatabase;
let emulator: AdminEmulator;
let shop: Shop;
let deps: RedemptionDeps;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  emulator = await startAdminEmulator({ nodeEnv: 'test', accessTokens: {} });
  shop = await ensureShop(handle.db, {
    domain: `expiry-${randomUUID().slice(0, 8)}.myshopify.com`,
  });
  const token = `shpat_${randomUUID().replaceAll('-', '')}`;
  emulator.setAccessToken(shop.domain, token);
  await storeOfflineSession(handle.db, shop.domain, token);
  deps = await redemptionDeps(rewardIssuer, {
    db: handle.db,
    log: silent,
    endpoint: emulator.endpointTemplate,
    client: { baseDelayMs: 1, maxDelayMs: 1 },
  });
});
afterAll(async () => {
  await emulator?.close();
  await handle?.close();
});

async function memberWith(points: number) {
  const gid = emulator.state.addCustomer(shop.domain, { firstName: 'Ada' });
  const shopifyId = gid.split('/').at(-1)!;
  const customer = await ensureCustomer(handle.db, shop.id, { externalId: shopifyId });
  await post(handle.db, shop.id, {
    customerId: customer.id,
    idempotencyKey: `adjustment:${randomUUID()}`,
    source: 'adjustment',
    points,
    occurredAt: new Date(),
    inputs: { reason: 'test points' },
  });
  return { shopifyId, customerId: customer.id };
}

const later = (ms: number): RedemptionDeps => ({ ...deps, now: () => new Date(Date.now() + ms) });

it('closes expired codes: deactivated, expired or refunded as the reward says, used ones left used', async () => {
  const kept = await createReward(handle.db, shop.id, {
    type: 'fixed_amount',
    title: '$5 off',
    pointsCost: 500,
    amountMinor: 500,
    expiryDays: 7,
  });
  const refundable = await createReward(handle.db, shop.id, {
    type: 'free_shipping',
    title: 'Free shipping',
    pointsCost: 300,
    expiryDays: 7,
    refundPointsOnExpiry: true,
  });
  const member = await memberWith(2_000);
  const owner = { shop: shop.domain, customerId: member.shopifyId };
  const redeemed = async (rewardId: number) =>
    (await redeem(owner, { rewardId, requestId: `exp-${randomUUID()}` }, deps)).redemption;
  const unused = await redeemed(kept.id);
  const refunded = await redeemed(refundable.id);
  const usedAtShopify = await redeemed(kept.id);
  emulator.state.useDiscountCode(shop.domain, usedAtShopify.code!);
  expect((await balanceOf(handle.db, shop.id, member.customerId)).balance).toBe(700);

  // Past the end but within the grace: an order from the last minutes may still be on its way.
  expect(await expireDueRedemptions(later(7 * DAY + 60_000))).toMatchObject({ checked: 0 });

  const result = await expireDueRedemptions(later(7 * DAY + EXPIRY_GRACE_MS + 60_000));
  expect(result).toEqual({ checked: 3, expired: 1, refunded: 1, used: 1, skipped: 0 });

  expect(await getRedemption(handle.db, shop.id, unused.id)).toMatchObject({ status: 'expired' });
  expect(emulator.state.discountByCode(shop.domain, unused.code!)!.endsAt).not.toBeNull();
  const back = (await getRedemption(handle.db, shop.id, refunded.id))!;
  expect(back.status).toBe('refunded');
  expect(await getRedemption(handle.db, shop.id, usedAtShopify.id)).toMatchObject({
    status: 'used',
    shopifyOrderId: null,
  });
  // Only the refundable reward's points came back, in an entry that says why.
  expect((await balanceOf(handle.db, shop.id, member.customerId)).balance).toBe(1_000);
  const entry = (await entriesFor(handle.db, shop.id, member.customerId)).find(
    (e) => e.id === back.returnEntryId,
  )!;
  expect(entry).toMatchObject({ source: 'redemption', points: 300 });
  expect(explainEntry({ ...entry, orderName: null }, { locale: 'en', shopCurrency: 'USD' })).toBe(
    'Points returned: the reward expired unused → 300 points',
  );

  // A second run finds nothing left to close.
  expect(await expireDueRedemptions(later(8 * DAY))).toMatchObject({ checked: 0 });
});

it('leaves a code for the next run when Shopify cannot be asked, refunding nothing on a guess', async () => {
  const reward = await createReward(handle.db, shop.id, {
    type: 'percentage',
    title: '10% off',
    pointsCost: 100,
    percentage: 10,
    expiryDays: 1,
    refundPointsOnExpiry: true,
  });
  const member = await memberWith(100);
  const { redemption } = await redeem(
    { shop: shop.domain, customerId: member.shopifyId },
    { rewardId: reward.id, requestId: `exp-${randomUUID()}` },
    deps,
  );
  emulator.failNext(20, 503, { shop: shop.domain, operation: 'CodeDiscountNodeByCode' });
  const result = await expireDueRedemptions(later(2 * DAY + EXPIRY_GRACE_MS));
  expect(result).toMatchObject({ checked: 1, skipped: 1, refunded: 0 });
  expect(await getRedemption(handle.db, shop.id, redemption.id)).toMatchObject({
    status: 'issued',
  });
  expect((await balanceOf(handle.db, shop.id, member.customerId)).balance).toBe(0);
});

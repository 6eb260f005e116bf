// The referral friend discount on the emulator, with a real database: one discount holding every
// member's friend code, kept in step with the referral program, and safe to run again after a
// crash at any point.
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inSegment, segmentsOf } from '../dev/emulator/segments';
import { startAdminEmulator, type AdminEmulator } from '../dev/emulator/server';
import { customerMetafieldSync, referralCodes, referralDiscounts } from '../db/schema';
import type { ReferralProgramDefinition } from '../loyalty/referrals';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { storeOfflineSession } from '../tests/helpers/sessions';
import { ensureCustomers } from './models/customers.server';
import { shopMetafieldSync } from '../db/schema';
import { publishReferralProgram } from './models/referral-programs.server';
import { shopsDueForReferralSync } from './models/referral-discounts.server';
import { ensureShop, type Shop } from './models/shops.server';
import {
  REFERRAL_DISCOUNT_TITLE,
  REFERRAL_SEGMENT_QUERY,
  syncReferralCodes,
  type ReferralSyncOptions,
} from './referral-discount.server';
import { createAdminClient } from './shopify/admin-client.server';

let handle: TestDatabase;
let emulator: AdminEmulator;
const db = () => handle.db;

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  emulator = await startAdminEmulator({ accessTokens: {} });
});
afterAll(async () => {
  await emulator?.close();
  await handle?.close();
});

const PROGRAM: ReferralProgramDefinition = {
  enabled: true,
  currency: 'USD',
  friendDiscount: { percentage: 10 },
  friendMinimumOrder: '30.00',
  referrerReward: { points: 500 },
};

async function installedShop(): Promise<Shop & { token: string }> {
  const shop = await ensureShop(db(), {
    domain: `referrals-${randomUUID().slice(0, 8)}.myshopify.com`,
  });
  const token = `shpat_${randomUUID().replaceAll('-', '')}`;
  emulator.setAccessToken(shop.domain, token);
  await storeOfflineSession(db(), shop.domain, token);
  return { ...shop, token };
}

/** Members with Shopify customer ids that the emulator knows. */
async function members(shop: Shop, count: number): Promise<number[]> {
  const externalIds = Array.from({ length: count }, (_, i) => {
    const gid = emulator.state.addCustomer(shop.domain, { firstName: `Member ${i}` });
    return gid.split('/').pop()!;
  });
  const ids = await ensureCustomers(
    db(),
    shop.id,
    externalIds.map((externalId) => ({ externalId })),
  );
  return externalIds.map((e) => ids.get(e)!);
}

const sync = (shop: Shop & { token: string }, options: ReferralSyncOptions = {}, now?: Date) =>
  syncReferralCodes(
    db(),
    shop,
    createAdminClient({
      shop: shop.domain,
      accessToken: shop.token,
      endpoint: emulator.endpointTemplate,
      baseDelayMs: 1,
      maxDelayMs: 5,
    }),
    now,
    { sleep: async () => {}, ...options },
  );

const codesOf = (shop: Shop) =>
  db().select().from(referralCodes).where(eq(referralCodes.shopId, shop.id));
const discountsAt = (shop: Shop) => [...emulator.state.store(shop.domain).discounts.values()];
const callsTo = (shop: Shop, operation: string) =>
  emulator.requests.filter((r) => r.shop === shop.domain && r.operationName === operation).length;

describe('syncReferralCodes', () => {
  it('makes every member a code and puts all of them in one discount for customers with no orders', async () => {
    const shop = await installedShop();
    const ids = await members(shop, 3);
    await publishReferralProgram(db(), shop.id, PROGRAM, new Date('2026-01-01T00:00:00Z'));

    const result = await sync(shop);
    expect(result).toMatchObject({
      status: 'synced',
      discount: 'created',
      codesMade: 3,
      activated: 3,
      failed: 0,
      more: false,
    });
    const codes = await codesOf(shop);
    expect(codes.map((c) => c.status)).toEqual(['active', 'active', 'active']);
    expect(codes.every((c) => /^FRIEND-[2-9A-HJKMNP-Z]{8}$/.test(c.friendCode))).toBe(true);

    const [discount, ...others] = discountsAt(shop);
    expect(others).toEqual([]);
    expect(discount).toMatchObject({
      title: REFERRAL_DISCOUNT_TITLE,
      appliesOncePerCustomer: true,
      usageLimit: null,
      value: { kind: 'percentage', percentage: 0.1 },
      minimumSubtotalMinor: 3_000,
      endsAt: null,
    });
    const held = [discount!.code, ...discount!.moreCodes.map((c) => c.code)].sort();
    expect(held).toEqual(codes.map((c) => c.friendCode).sort());
    // Limited to the segment of customers who never ordered.
    const store = emulator.state.store(shop.domain);
    expect(discount!.buyers.kind).toBe('segments');
    const segment = segmentsOf(store).get(
      (discount!.buyers as { segmentIds: number[] }).segmentIds[0]!,
    )!;
    expect(segment.query).toBe(REFERRAL_SEGMENT_QUERY);
    const customer = [...store.customers.values()][0]!;
    expect(inSegment(segment, customer)).toBe(true);
    expect(inSegment(segment, { ...customer, numberOfOrders: 1 })).toBe(false);

    // Each member is due for the metafield sync (their code reaches the storefront).
    const marked = await db()
      .select({ customerId: customerMetafieldSync.customerId })
      .from(customerMetafieldSync)
      .where(eq(customerMetafieldSync.shopId, shop.id));
    expect(marked.map((m) => m.customerId).sort()).toEqual([...ids].sort());

    // A second run finds nothing to do and writes nothing.
    const before = emulator.state.snapshot(shop.domain);
    expect(await sync(shop)).toMatchObject({ discount: 'current', codesMade: 0, activated: 0 });
    expect(emulator.state.snapshot(shop.domain)).toEqual(before);
    expect(await shopsDueForReferralSync(db())).not.toContain(shop.domain);
  });

  it('adds a new member’s code to the same discount and more than 250 codes in pages', async () => {
    const shop = await installedShop();
    await members(shop, 1);
    await publishReferralProgram(db(), shop.id, PROGRAM, new Date('2026-01-01T00:00:00Z'));
    await sync(shop);
    await members(shop, 260);
    expect(await shopsDueForReferralSync(db())).toContain(shop.domain);
    const result = await sync(shop);
    expect(result).toMatchObject({ discount: 'current', codesMade: 260, activated: 260 });
    // 250 a call: the first run's only code made the discount, so two adds.
    expect(callsTo(shop, 'DiscountRedeemCodeBulkAdd')).toBe(2);
    expect(discountsAt(shop)).toHaveLength(1);
    expect(discountsAt(shop)[0]!.moreCodes).toHaveLength(260);
  });

  it('follows the program: a new value and minimum, disabled, enabled again', async () => {
    const shop = await installedShop();
    await members(shop, 2);
    await publishReferralProgram(db(), shop.id, PROGRAM, new Date('2026-01-01T00:00:00Z'));
    await sync(shop);

    await publishReferralProgram(db(), shop.id, {
      ...PROGRAM,
      friendDiscount: { amount: '15.00' },
      friendMinimumOrder: null,
    });
    expect(await shopsDueForReferralSync(db())).toContain(shop.domain);
    expect(await sync(shop)).toMatchObject({ discount: 'updated', version: 2 });
    expect(discountsAt(shop)[0]).toMatchObject({
      value: { kind: 'amount', amountMinor: 1_500, appliesOnEachItem: false },
      minimumSubtotalMinor: null,
    });
    // The summary's referral offer changed: the next metafield sync reads Shopify's copy back.
    const [state] = await db()
      .select()
      .from(shopMetafieldSync)
      .where(eq(shopMetafieldSync.shopId, shop.id));
    expect(state?.programCheckedAt ?? null).toBeNull();

    await publishReferralProgram(db(), shop.id, { ...PROGRAM, enabled: false });
    await members(shop, 1);
    expect(await sync(shop)).toMatchObject({
      discount: 'deactivated',
      enabled: false,
      codesMade: 0,
    });
    expect(emulator.state.discountByCode(shop.domain, discountsAt(shop)[0]!.code)?.endsAt).not.toBe(
      null,
    );
    expect(await shopsDueForReferralSync(db())).not.toContain(shop.domain);

    await publishReferralProgram(db(), shop.id, PROGRAM);
    expect(await sync(shop)).toMatchObject({ discount: 'updated', codesMade: 1, activated: 1 });
    expect(discountsAt(shop)).toHaveLength(1);
    expect(discountsAt(shop)[0]).toMatchObject({
      endsAt: null,
      value: { kind: 'percentage', percentage: 0.1 },
    });
  });

  it('draws a new code for a member whose code another discount holds', async () => {
    const shop = await installedShop();
    const [first, second] = await members(shop, 2);
    await publishReferralProgram(db(), shop.id, PROGRAM, new Date('2026-01-01T00:00:00Z'));
    // The codes exist before the first sync; the merchant's own discount took the second's.
    const { ensureReferralCodes } = await import('./models/referral-codes.server');
    const made = await ensureReferralCodes(db(), shop.id, [first!, second!], 'FRIEND-');
    const taken = made.get(second!)!.friendCode;
    const merchant = emulator.state.store(shop.domain);
    merchant.discounts.set(1, {
      ...structuredClone(discountsAtTemplate(taken)),
    });

    const result = await sync(shop);
    expect(result).toMatchObject({ redrawn: 1, activated: 2, failed: 0 });
    const codes = await codesOf(shop);
    const redrawn = codes.find((c) => c.customerId === second)!;
    expect(redrawn.friendCode).not.toBe(taken);
    expect(redrawn.status).toBe('active');
    // The merchant's discount keeps its code; ours holds the member's new one.
    expect(emulator.state.discountByCode(shop.domain, taken)?.title).toBe('Merchant sale');
    expect(emulator.state.discountByCode(shop.domain, redrawn.friendCode)?.title).toBe(
      REFERRAL_DISCOUNT_TITLE,
    );
  });

  it('after a crash, adopts the discount it made and counts codes Shopify already holds', async () => {
    const shop = await installedShop();
    await members(shop, 3);
    await publishReferralProgram(db(), shop.id, PROGRAM, new Date('2026-01-01T00:00:00Z'));
    await sync(shop);
    // As if every record after the Shopify calls was lost.
    await db().delete(referralDiscounts).where(eq(referralDiscounts.shopId, shop.id));
    await db()
      .update(referralCodes)
      .set({ status: 'pending' })
      .where(eq(referralCodes.shopId, shop.id));

    const result = await sync(shop);
    expect(result).toMatchObject({ discount: 'current', activated: 3, failed: 0, redrawn: 0 });
    expect(discountsAt(shop)).toHaveLength(1);
    expect((await codesOf(shop)).every((c) => c.status === 'active')).toBe(true);
  });

  it('leaves codes pending while Shopify has not run the bulk creation, and settles them next run', async () => {
    const shop = await installedShop();
    await members(shop, 2);
    await publishReferralProgram(db(), shop.id, PROGRAM, new Date('2026-01-01T00:00:00Z'));
    emulator.state.bulkCreationDelayMs = 60_000;
    try {
      const first = await sync(shop, { bulkWaitMs: 0 });
      // The first code made the discount; the second waits in Shopify's queue.
      expect(first).toMatchObject({ activated: 1, more: true });
      expect((await codesOf(shop)).map((c) => c.status).sort()).toEqual(['active', 'pending']);
    } finally {
      emulator.state.bulkCreationDelayMs = 0;
    }
    const second = await sync(shop);
    expect(second).toMatchObject({ activated: 1, more: false });
    expect((await codesOf(shop)).every((c) => c.status === 'active')).toBe(true);
    expect(discountsAt(shop)).toHaveLength(1);
  });

  it('makes the discount again when the merchant deleted it, with every code', async () => {
    const shop = await installedShop();
    await members(shop, 2);
    await publishReferralProgram(db(), shop.id, PROGRAM, new Date('2026-01-01T00:00:00Z'));
    await sync(shop);
    emulator.state.store(shop.domain).discounts.clear();
    expect(await sync(shop)).toMatchObject({ discount: 'created', activated: 2 });
    const [discount] = discountsAt(shop);
    expect(1 + discount!.moreCodes.length).toBe(2);
  });

  it('skips a shop without a program and records a refusal', async () => {
    const shop = await installedShop();
    await members(shop, 1);
    expect(await sync(shop)).toEqual({ status: 'skipped', reason: 'no-program' });
    await publishReferralProgram(db(), shop.id, PROGRAM, new Date('2026-01-01T00:00:00Z'));
    emulator.failNext(1, 500, { shop: shop.domain, operation: 'DiscountCodeBasicCreate' });
    // A create whose answer was lost is not resent blindly: the run stops and records why.
    await expect(sync(shop)).rejects.toThrow(/OUTCOME_UNKNOWN/);
    const [row] = await db()
      .select()
      .from(referralDiscounts)
      .where(and(eq(referralDiscounts.shopId, shop.id)));
    expect(row?.lastError).toMatch(/DiscountCodeBasicCreate/);
    expect(await shopsDueForReferralSync(db())).not.toContain(shop.domain);
    expect(await sync(shop)).toMatchObject({ status: 'synced', discount: 'created' });
  });
});

/** A merchant's own basic discount holding `code`. */
function discountsAtTemplate(code: string) {
  return {
    id: 1,
    codeId: 2,
    code,
    title: 'Merchant sale',
    startsAt: 0,
    endsAt: null,
    usageLimit: null,
    appliesOncePerCustomer: false,
    buyers: { kind: 'all' as const },
    viaCustomerSelection: false,
    minimumSubtotalMinor: null,
    combinesWith: { orderDiscounts: false, productDiscounts: false, shippingDiscounts: false },
    appliesOnOneTimePurchase: true,
    appliesOnSubscription: false,
    usageCount: 0,
    moreCodes: [],
    createdAt: 0,
    updatedAt: 0,
    kind: 'basic' as const,
    value: { kind: 'percentage' as const, percentage: 0.2 },
    items: { kind: 'all' as const },
  };
}

// The metafield sync's part in referrals: `$app.referral_code` written for members whose code is
// active at Shopify, in the same run as the balance, and the program summary's referral offer,
// read back and rewritten when the referral program version in force changes.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminEmulator, type AdminEmulator } from '../dev/emulator/server';
import { referralCodes } from '../db/schema';
import { referenceProgram } from '../loyalty/program';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { storeOfflineSession } from '../tests/helpers/sessions';
import { syncShopMetafields } from './metafield-sync.server';
import { ensureCustomer } from './models/customers.server';
import { post } from './models/ledger.server';
import {
  hasPendingMembers,
  markMembersPending,
  programSummaryDue,
} from './models/metafield-sync.server';
import { publishProgram } from './models/programs.server';
import { ensureReferralCodes, setReferralCodeStatus } from './models/referral-codes.server';
import { publishReferralProgram } from './models/referral-programs.server';
import { ensureShop, type Shop } from './models/shops.server';

let handle: TestDatabase;
let emulator: AdminEmulator;
const tokens: Record<string, string> = {};
const db = () => handle.db;

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  emulator = await startAdminEmulator({
    accessTokens: tokens,
    appConfig: 'shopify.app.toml',
    appId: '777',
  });
});
afterAll(async () => {
  await emulator?.close();
  await handle?.close();
});

async function installedShop(): Promise<Shop> {
  const shop = await ensureShop(db(), {
    domain: `msref-${randomUUID().slice(0, 8)}.myshopify.com`,
  });
  const token = `shpat_${randomUUID().replaceAll('-', '')}`;
  emulator.setAccessToken(shop.domain, token);
  await storeOfflineSession(db(), shop.domain, token);
  await publishProgram(db(), shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
  return shop;
}

async function members(shop: Shop, count: number) {
  const out: { gid: string; id: number }[] = [];
  for (let i = 0; i < count; i++) {
    const gid = emulator.state.addCustomer(shop.domain, { firstName: `M${i}` });
    const customer = await ensureCustomer(db(), shop.id, { externalId: gid.split('/').pop()! });
    out.push({ gid, id: customer.id });
  }
  return out;
}

const run = (shop: Shop) =>
  syncShopMetafields({
    db: db(),
    shop: shop.domain,
    log: pino({ level: 'silent' }),
    endpoint: emulator.endpointTemplate,
    client: { baseDelayMs: 1, maxDelayMs: 5 },
  });

const held = (shop: Shop, gid: string) =>
  Object.fromEntries(
    emulator.state
      .metafields(shop.domain, gid)
      .filter((m) => m.namespace === 'app--777')
      .map((m) => [m.key, m.value]),
  );

const summaryOf = (shop: Shop) => {
  const [metafield] = emulator.state.metafields(
    shop.domain,
    emulator.state.appInstallationGid(shop.domain),
  );
  return JSON.parse(metafield!.value) as { referral: unknown };
};

describe('the metafield sync and referrals', () => {
  it('writes an active code with the balance, and never a pending one', async () => {
    const shop = await installedShop();
    const [active, pending] = await members(shop, 2);
    const codes = await ensureReferralCodes(db(), shop.id, [active!.id, pending!.id], 'FRIEND-');
    await setReferralCodeStatus(db(), shop.id, [codes.get(active!.id)!.id], 'active');
    await post(db(), shop.id, {
      customerId: active!.id,
      points: 40,
      idempotencyKey: 'test:1',
      source: 'adjustment',
      occurredAt: new Date('2026-02-01T00:00:00Z'),
      programVersion: 1,
      inputs: { test: 1 },
    });
    // The pending member is due too, yet gets no code.
    await markMembersPending(db(), shop.id, [pending!.id]);

    expect(await run(shop)).toMatchObject({ status: 'synced', written: 2, failed: 0 });
    expect(held(shop, active!.gid)).toEqual({
      points_balance: '40',
      lifetime_points: '40',
      referral_code: codes.get(active!.id)!.friendCode,
    });
    expect(held(shop, pending!.gid)).toEqual({ points_balance: '0', lifetime_points: '0' });

    // Marked pending when the code becomes active (no ledger change): written next run.
    await setReferralCodeStatus(db(), shop.id, [codes.get(pending!.id)!.id], 'active');
    await markMembersPending(db(), shop.id, [pending!.id]);
    expect(await hasPendingMembers(db(), shop.id)).toBe(true);
    expect(await run(shop)).toMatchObject({ written: 1 });
    expect(held(shop, pending!.gid).referral_code).toBe(codes.get(pending!.id)!.friendCode);
    expect(await hasPendingMembers(db(), shop.id)).toBe(false);
  });

  it('fits members with a code into metafieldsSet calls of at most 25 metafields', async () => {
    const shop = await installedShop();
    const list = await members(shop, 20);
    const codes = await ensureReferralCodes(
      db(),
      shop.id,
      list.map((m) => m.id),
      'FRIEND-',
    );
    await db()
      .update(referralCodes)
      .set({ status: 'active' })
      .where(eq(referralCodes.shopId, shop.id));
    await markMembersPending(
      db(),
      shop.id,
      list.map((m) => m.id),
    );
    const before = emulator.requests.length;
    expect(await run(shop)).toMatchObject({ written: 20, failed: 0 });
    const sets = emulator.requests
      .slice(before)
      .filter((r) => r.shop === shop.domain && r.operationName === 'MetafieldsSet')
      .map((r) => (r.variables?.metafields as unknown[]).length);
    // 3 metafields a member: 8 members (24) a call, and the summary's call.
    expect(sets.filter((n) => n !== 2).sort((a, b) => b - a)).toEqual([24, 24, 12]);
    for (const m of list) expect(held(shop, m.gid).referral_code).toBe(codes.get(m.id)!.friendCode);
  });

  it('carries the referral offer in the program summary, rewritten when it is due again', async () => {
    const shop = await installedShop();
    await run(shop);
    expect(summaryOf(shop).referral).toBeNull();

    await publishReferralProgram(db(), shop.id, {
      enabled: true,
      currency: 'USD',
      friendDiscount: { amount: '10.00' },
      friendMinimumOrder: '40.00',
      referrerReward: { points: 500 },
      minimumOrder: '25.00',
    });
    // The referral sync notices the version and asks for the summary to be read back.
    await programSummaryDue(db(), shop.id);
    expect(await run(shop)).toMatchObject({ program: 'written' });
    expect(summaryOf(shop).referral).toEqual({
      friendDiscount: { amountMinor: 1_000 },
      friendMinimumOrderMinor: 4_000,
      referrerPoints: 500,
      minimumOrderMinor: 2_500,
    });

    await publishReferralProgram(db(), shop.id, {
      enabled: false,
      currency: 'USD',
      friendDiscount: { percentage: 10 },
      referrerReward: { points: 500 },
    });
    await programSummaryDue(db(), shop.id);
    await run(shop);
    expect(summaryOf(shop).referral).toBeNull();
  });
});

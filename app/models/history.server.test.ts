import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { seedTierProgram, setMemberTier } from '../../tests/helpers/tiers';
import { ensureCustomer } from './customers.server';
import { memberStanding } from './history.server';
import { ensureReferralCodes, setReferralCodeStatus } from './referral-codes.server';
import { ensureShop } from './shops.server';

describe('memberStanding', () => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("names the member's tier under the tier program in force, null without one", async () => {
    const { db } = handle;
    const shop = await ensureShop(db, { domain: `st-${randomUUID().slice(0, 8)}.myshopify.com` });
    const ann = await ensureCustomer(db, shop.id, { externalId: '7001' });
    await ensureCustomer(db, shop.id, { externalId: '7002' });
    expect((await memberStanding(db, shop.id, '7001')).tier).toBeNull();
    await seedTierProgram(db, shop.id);
    await setMemberTier(db, shop.id, ann.id, 'gold');
    expect(await memberStanding(db, shop.id, '7001')).toMatchObject({
      enrolled: true,
      tier: 'Gold',
    });
    // Evaluated below the lowest tier, or never evaluated: no tier.
    expect((await memberStanding(db, shop.id, '7002')).tier).toBeNull();
    expect(await memberStanding(db, shop.id, '9999')).toMatchObject({
      enrolled: false,
      tier: null,
    });
  });

  it("gives the member's friend code only once Shopify holds it", async () => {
    const { db } = handle;
    const shop = await ensureShop(db, { domain: `rc-${randomUUID().slice(0, 8)}.myshopify.com` });
    const ann = await ensureCustomer(db, shop.id, { externalId: '7001' });
    const codes = await ensureReferralCodes(db, shop.id, [ann.id], 'FRIEND-');
    const code = codes.get(ann.id)!;
    expect((await memberStanding(db, shop.id, '7001')).referralCode).toBeNull();
    await setReferralCodeStatus(db, shop.id, [code.id], 'active');
    expect((await memberStanding(db, shop.id, '7001')).referralCode).toBe(code.friendCode);
    expect(code.friendCode).toMatch(/^FRIEND-[2-9A-HJKMNP-Z]{8}$/);
  });
});

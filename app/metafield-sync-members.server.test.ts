import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { referralCodes } from '../db/schema';
import { useMetafieldSyncFixture } from '../tests/helpers/metafield-sync';
import { setMemberTier } from '../tests/helpers/tiers';
import { MEMBERS_PER_CALL, TIER_MEMBERS_PER_CALL } from './metafield-sync-members.server';
import { ensureCustomer, redactCustomer } from './models/customers.server';
import { post } from './models/ledger.server';
import {
  hasPendingMembers,
  markMembersPending,
  memberSyncStates,
} from './models/metafield-sync.server';
import { ensureReferralCodes, setReferralCodeStatus } from './models/referral-codes.server';
import type { Shop } from './models/shops.server';
import { getCustomerTier } from './models/tiers.server';

const {
  db,
  emulator,
  capture,
  installedShop,
  member,
  earn,
  sync,
  shopifyPoints,
  setCalls,
  tieredShop,
  changeTier,
  shopifyTier,
} = useMetafieldSyncFixture();

describe('syncShopMetafields: members', () => {
  it('writes each pending member’s balance and lifetime points, typed as declared, then nothing more', async () => {
    const shop = await installedShop();
    const ada = await member(shop);
    const bob = await member(shop);
    await post(db(), shop.id, earn(ada.customer.id, 90));
    await post(db(), shop.id, earn(ada.customer.id, -40, 'redemption'));
    await post(db(), shop.id, earn(bob.customer.id, 7));

    const result = await sync(shop);
    expect(result).toEqual({
      status: 'synced',
      written: 2,
      failed: 0,
      skipped: 0,
      calls: 1,
      program: 'written',
      perks: 'current',
      more: false,
    });
    expect(shopifyPoints(shop, ada.gid)).toEqual(['50', '90']);
    expect(shopifyPoints(shop, bob.gid)).toEqual(['7', '7']);
    const written = emulator().state.metafields(shop.domain, ada.gid);
    expect(written.map((m) => [m.namespace, m.key, m.type])).toEqual([
      ['app--1000000', 'points_balance', 'number_integer'],
      ['app--1000000', 'lifetime_points', 'number_integer'],
    ]);
    // The definitions shopify.app.toml declares are the ones the values were checked against.
    const definitions = emulator().state.definitions(shop.domain);
    expect(definitions.find((d) => d.key === 'points_balance')?.access).toEqual({
      admin: 'MERCHANT_READ',
      storefront: 'PUBLIC_READ',
      customerAccount: 'READ',
    });
    const states = await memberSyncStates(db(), shop.id);
    expect(states.every((s) => s.syncedRevision === s.revision && s.syncedAt !== null)).toBe(true);
    expect(states.find((s) => s.customerId === ada.customer.id)?.syncedPosition).toBe(
      states.find((s) => s.customerId === ada.customer.id)?.ledgerPosition,
    );

    const calls = setCalls(shop).length;
    expect(await sync(shop)).toMatchObject({ written: 0, calls: 0, program: 'current' });
    expect(setCalls(shop)).toHaveLength(calls);
  });

  it('sends at most 25 metafields a call: a member’s two together, 12 members a call', async () => {
    const shop = await installedShop({ program: false });
    const members = [];
    for (let i = 0; i < 40; i++) {
      const m = await member(shop);
      await post(db(), shop.id, earn(m.customer.id, i + 1));
      members.push(m);
    }
    const result = await sync(shop);
    expect(MEMBERS_PER_CALL).toBe(12);
    expect(result).toMatchObject({ written: 40, calls: 4, program: 'none' });
    const sizes = setCalls(shop).map(
      (r) => (r.variables?.metafields as { ownerId: string }[]).length,
    );
    expect(sizes.sort((a, b) => a - b)).toEqual([8, 24, 24, 24]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(25);
    members.forEach((m, i) => expect(shopifyPoints(shop, m.gid)).toEqual([`${i + 1}`, `${i + 1}`]));
  });

  it('leaves a member Shopify refuses pending with its error, and writes the others', async () => {
    const shop = await installedShop({ program: false });
    const ada = await member(shop);
    const gone = await member(shop, { inShopify: false });
    const bob = await member(shop);
    for (const m of [ada, gone, bob]) await post(db(), shop.id, earn(m.customer.id, 10));
    const { log, lines } = capture();

    const result = await sync(shop, { log });
    expect(result).toMatchObject({ written: 2, failed: 1, calls: 2, more: false });
    expect(shopifyPoints(shop, ada.gid)).toEqual(['10', '10']);
    expect(shopifyPoints(shop, bob.gid)).toEqual(['10', '10']);
    const state = (await memberSyncStates(db(), shop.id)).find(
      (s) => s.customerId === gone.customer.id,
    );
    expect(state).toMatchObject({ syncedRevision: 0, attempts: 1 });
    expect(state?.lastError).toMatch(
      /metafields\.\d+\.ownerId: Owner does not exist\. \(INVALID\)/,
    );
    const warning = lines.find((l) => l.msg.startsWith('Shopify refused the metafields'));
    expect(warning?.members).toEqual([
      {
        customerId: gone.customer.id,
        attempt: 1,
        // Both of its metafields, elements 2 and 3 of the call.
        errors: [
          'metafields.2.ownerId: Owner does not exist. (INVALID)',
          'metafields.3.ownerId: Owner does not exist. (INVALID)',
        ],
      },
    ]);
    // Backing off: the next run leaves it alone.
    expect(await sync(shop)).toMatchObject({ written: 0, failed: 0, calls: 0 });
  });

  it('skips, with a log line, members it cannot write to and never throws for them', async () => {
    // Redacted members and imported ids have no Shopify customer to write to.
    const shop = await installedShop({ program: false });
    const ada = await member(shop);
    const redacted = await member(shop);
    const imported = await ensureCustomer(db(), shop.id, { externalId: 'C-1042' });
    for (const id of [ada.customer.id, redacted.customer.id, imported.id]) {
      await post(db(), shop.id, earn(id, 5));
    }
    await redactCustomer(db(), shop.id, redacted.customer.id);
    const second = capture();
    expect(await sync(shop, { log: second.log })).toMatchObject({
      written: 1,
      skipped: 2,
      calls: 1,
    });
    expect(shopifyPoints(shop, redacted.gid)).toEqual([undefined, undefined]);
    expect(second.messages()).toEqual(
      expect.arrayContaining([
        'metafields not written for redacted customers',
        'metafields not written for customers without a Shopify customer id (imported)',
      ]),
    );
    expect(await hasPendingMembers(db(), shop.id)).toBe(false);
    const notes = (await memberSyncStates(db(), shop.id)).map((s) => s.lastError).sort();
    expect(notes).toEqual([null, 'skipped: not a Shopify customer id', 'skipped: redacted']);
  });
});

describe('syncShopMetafields: tiers', () => {
  const tagCalls = (shop: Shop) =>
    emulator().requests.filter(
      (r) =>
        r.shop === shop.domain &&
        r.operationName === 'CustomerTierTags' &&
        r.outcome === 'executed',
    );

  it('writes the tier key, its status and tag with the balance, in the same run', async () => {
    const { shop } = await tieredShop();
    const ada = await member(shop);
    const bob = await member(shop);
    const cyd = await member(shop);
    await post(db(), shop.id, earn(ada.customer.id, 120));
    await changeTier(shop, ada.customer.id, 'gold', 182_000);
    await changeTier(shop, bob.customer.id, 'platinum', 600_000);
    // Never evaluated: points only, and a status without a tier.
    await post(db(), shop.id, earn(cyd.customer.id, 5));

    const result = await sync(shop);
    // One metafieldsSet for the three, one tag call for each member with a tier: an add, as
    // neither was ever tagged (half the cost of a move).
    expect(result).toMatchObject({ written: 3, failed: 0, calls: 3, more: false });
    const tagOperations = emulator()
      .requests.filter((r) => r.shop === shop.domain && /Tag/.test(r.operationName ?? ''))
      .map((r) => r.operationName);
    expect(tagOperations).toEqual(['TagsAdd', 'TagsAdd']);
    expect(shopifyPoints(shop, ada.gid)).toEqual(['120', '120']);
    const adaHeld = shopifyTier(shop, ada.gid);
    expect(adaHeld.tier).toBe('gold');
    expect(adaHeld.tags).toEqual(['laurel-tier-gold']);
    expect(adaHeld.status).toEqual({
      version: 1,
      key: 'gold',
      name: 'Gold',
      since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      downgradeAt: null,
      metric: 'spend',
      window: 'calendar_year',
      currency: 'USD',
      digits: 2,
      value: 182_000,
      next: { key: 'platinum', name: 'Platinum', threshold: 500_000, remaining: 318_000 },
    });
    expect(shopifyTier(shop, bob.gid)).toMatchObject({
      tier: 'platinum',
      tags: ['laurel-tier-platinum'],
      status: { key: 'platinum', next: null },
    });
    expect(shopifyTier(shop, cyd.gid)).toMatchObject({
      tier: undefined,
      tags: [],
      status: { key: null, name: null, value: 0, next: { key: 'silver', remaining: 25_000 } },
    });
    // The metafields are typed as shopify.app.toml declares them.
    const types = emulator()
      .state.metafields(shop.domain, ada.gid)
      .map((m) => [m.key, m.type])
      .sort();
    expect(types).toEqual([
      ['lifetime_points', 'number_integer'],
      ['points_balance', 'number_integer'],
      ['tier', 'single_line_text_field'],
      ['tier_status', 'json'],
    ]);
    expect((await getCustomerTier(db(), shop.id, ada.customer.id))?.syncedTag).toBe(
      'laurel-tier-gold',
    );

    // Nothing changed: nothing written, and a balance change alone moves no tag.
    expect(await sync(shop)).toMatchObject({ written: 0, calls: 0 });
    const before = tagCalls(shop).length;
    await post(db(), shop.id, earn(ada.customer.id, 10));
    expect(await sync(shop)).toMatchObject({ written: 1, calls: 1 });
    expect(tagCalls(shop)).toHaveLength(before);
    expect(shopifyTier(shop, ada.gid).tags).toEqual(['laurel-tier-gold']);
  });

  it('moves the tag when the tier changes, and removes the tier when the member has none', async () => {
    const { shop } = await tieredShop();
    const ada = await member(shop);
    emulator()
      .state.store(shop.domain)
      .customers.get(Number(ada.gid.split('/').pop()))!.tags = ['newsletter'];
    await changeTier(shop, ada.customer.id, 'gold', 150_000);
    await sync(shop);
    expect(shopifyTier(shop, ada.gid)).toMatchObject({
      tier: 'gold',
      tags: ['newsletter', 'laurel-tier-gold'],
    });

    await changeTier(shop, ada.customer.id, 'platinum', 520_000);
    expect(await sync(shop)).toMatchObject({ written: 1, failed: 0, calls: 2 });
    expect(shopifyTier(shop, ada.gid)).toMatchObject({
      tier: 'platinum',
      tags: ['newsletter', 'laurel-tier-platinum'],
      status: { key: 'platinum', value: 520_000, next: null },
    });
    const [call] = tagCalls(shop).slice(-1);
    expect(call!.variables).toMatchObject({
      id: ada.gid,
      add: ['laurel-tier-platinum'],
      remove: ['laurel-tier-bronze', 'laurel-tier-silver', 'laurel-tier-gold'],
    });
    expect((await getCustomerTier(db(), shop.id, ada.customer.id))?.syncedTag).toBe(
      'laurel-tier-platinum',
    );

    // Below every tier: the tier metafield is deleted, the tag removed, the status says so.
    await changeTier(shop, ada.customer.id, null, 0);
    expect(await sync(shop)).toMatchObject({ written: 1, failed: 0, calls: 3 });
    expect(shopifyTier(shop, ada.gid)).toMatchObject({
      tier: undefined,
      tags: ['newsletter'],
      // Bronze starts at 0, so the evaluation would place them there; the next tier up is Silver.
      status: {
        key: null,
        value: 0,
        next: { key: 'silver', threshold: 25_000, remaining: 25_000 },
      },
    });
    expect((await getCustomerTier(db(), shop.id, ada.customer.id))?.syncedTag).toBeNull();
  });

  it('leaves a member whose tag Shopify refuses pending, and writes it on the retry', async () => {
    const { shop } = await tieredShop();
    const ada = await member(shop);
    const bob = await member(shop);
    await changeTier(shop, ada.customer.id, 'gold', 150_000);
    await changeTier(shop, bob.customer.id, 'silver', 30_000);
    // Shopify refuses the first tag call (for Ada, the lower customer id; never tagged, so an add).
    let refused = 0;
    const refusing: typeof fetch = async (input, init) => {
      if (refused === 0 && String(init?.body).includes('mutation TagsAdd')) {
        refused++;
        return Response.json({
          data: {
            tagsAdd: { node: null, userErrors: [{ field: ['tags'], message: 'Tags are locked.' }] },
          },
        });
      }
      return fetch(input, init);
    };
    const { log, lines } = capture();
    expect(await sync(shop, { log, client: { baseDelayMs: 1, fetch: refusing } })).toMatchObject({
      written: 1,
      failed: 1,
    });
    expect(shopifyTier(shop, ada.gid).tags).toEqual([]);
    expect(shopifyTier(shop, bob.gid).tags).toEqual(['laurel-tier-silver']);
    const state = (await memberSyncStates(db(), shop.id)).find(
      (s) => s.customerId === ada.customer.id,
    );
    expect(state).toMatchObject({ attempts: 1 });
    expect(state!.lastError).toMatch(/USER_ERRORS\): tags: Tags are locked\.$/);
    expect(state!.syncedRevision).toBeLessThan(state!.revision);
    expect((await getCustomerTier(db(), shop.id, ada.customer.id))?.syncedTag).toBeNull();
    expect(lines.some((l) => l.msg.startsWith('Shopify refused the metafields'))).toBe(true);

    // Backing off, then retried: the tag is added and recorded.
    expect(await sync(shop)).toMatchObject({ written: 0, calls: 0 });
    await db().execute(
      sql`UPDATE customer_metafield_sync SET retry_after = now() - interval '1 second' WHERE customer_id = ${ada.customer.id}`,
    );
    expect(await sync(shop)).toMatchObject({ written: 1, failed: 0 });
    expect(shopifyTier(shop, ada.gid)).toMatchObject({ tier: 'gold', tags: ['laurel-tier-gold'] });
    expect((await getCustomerTier(db(), shop.id, ada.customer.id))?.syncedTag).toBe(
      'laurel-tier-gold',
    );
    expect(await hasPendingMembers(db(), shop.id)).toBe(false);
  });

  it('a tag call that keeps failing fails the run; nothing is recorded and the next run writes it', async () => {
    const { shop } = await tieredShop();
    const ada = await member(shop);
    await changeTier(shop, ada.customer.id, 'gold', 150_000);
    // Every attempt of the client (4) answered 503.
    emulator().failNext(4, 503, { shop: shop.domain, operation: 'TagsAdd' });
    await expect(sync(shop)).rejects.toThrow();
    expect(shopifyTier(shop, ada.gid).tags).toEqual([]);
    expect(await hasPendingMembers(db(), shop.id)).toBe(true);
    expect((await getCustomerTier(db(), shop.id, ada.customer.id))?.syncedTag).toBeNull();
    expect(await sync(shop)).toMatchObject({ written: 1, failed: 0 });
    expect(shopifyTier(shop, ada.gid).tags).toEqual(['laurel-tier-gold']);
  });

  it('sends at most 25 metafields a call: a member’s four together, 6 members a call', async () => {
    const { shop } = await tieredShop();
    const members = [];
    for (let i = 0; i < 13; i++) {
      const m = await member(shop);
      await post(db(), shop.id, earn(m.customer.id, i + 1));
      await setMemberTier(db(), shop.id, m.customer.id, 'bronze', { metricValue: i });
      members.push(m);
    }
    expect(TIER_MEMBERS_PER_CALL).toBe(6);
    const result = await sync(shop);
    expect(result).toMatchObject({ written: 13, failed: 0, more: false });
    const sizes = setCalls(shop)
      .map((r) => r.variables?.metafields as { ownerId: string }[])
      .filter((m) => m[0]!.ownerId.includes('/Customer/'))
      .map((m) => m.length);
    expect(sizes.sort((a, b) => a - b)).toEqual([4, 24, 24]);
    members.forEach((m) => expect(shopifyTier(shop, m.gid).tags).toEqual(['laurel-tier-bronze']));
  });
});

describe('syncShopMetafields: referral codes', () => {
  async function members(shop: Shop, count: number) {
    const out: { gid: string; id: number }[] = [];
    for (let i = 0; i < count; i++) {
      const gid = emulator().state.addCustomer(shop.domain, { firstName: `M${i}` });
      const customer = await ensureCustomer(db(), shop.id, { externalId: gid.split('/').pop()! });
      out.push({ gid, id: customer.id });
    }
    return out;
  }

  const held = (shop: Shop, gid: string) =>
    Object.fromEntries(
      emulator()
        .state.metafields(shop.domain, gid)
        .filter((m) => m.namespace === 'app--1000000')
        .map((m) => [m.key, m.value]),
    );

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

    expect(await sync(shop)).toMatchObject({ status: 'synced', written: 2, failed: 0 });
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
    expect(await sync(shop)).toMatchObject({ written: 1 });
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
    const before = emulator().requests.length;
    expect(await sync(shop)).toMatchObject({ written: 20, failed: 0 });
    const sets = emulator()
      .requests.slice(before)
      .filter((r) => r.shop === shop.domain && r.operationName === 'MetafieldsSet')
      .map((r) => (r.variables?.metafields as unknown[]).length);
    // 3 metafields a member: 8 members (24) a call, and the summary's call.
    expect(sets.filter((n) => n !== 2).sort((a, b) => b - a)).toEqual([24, 24, 12]);
    for (const m of list) expect(held(shop, m.gid).referral_code).toBe(codes.get(m.id)!.friendCode);
  });
});

import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { parseCampaign } from '../loyalty/campaigns';
import { referenceProgram } from '../loyalty/program';
import { useMetafieldSyncFixture } from '../tests/helpers/metafield-sync';
import { FOUR_TIERS, seedTierProgram } from '../tests/helpers/tiers';
import { insertCampaign } from './models/campaigns.server';
import { programSummaryDue, shopsDueForSync } from './models/metafield-sync.server';
import { publishProgram } from './models/programs.server';
import { publishReferralProgram } from './models/referral-programs.server';
import type { Shop } from './models/shops.server';

const { db, emulator, installedShop, member, sync, setCalls, tieredShop, changeTier, shopifyTier } =
  useMetafieldSyncFixture();

const DAY_MS = 86_400_000;

describe('syncShopMetafields: the program summary', () => {
  it('carries the campaigns not over yet; saving one makes the summary due again', async () => {
    const shop = await installedShop();
    expect(await sync(shop)).toMatchObject({ program: 'written' });
    const now = Date.now();
    const local = (ms: number) => new Date(ms).toISOString().slice(0, 16);
    const parsed = (name: string, from: number, to: number) =>
      parseCampaign(
        {
          name,
          kind: 'multiplier',
          multiplier: '2',
          scope: 'all',
          startsAt: local(from),
          endsAt: local(to),
        },
        { timeZone: 'UTC', currency: 'USD', now, allowPastStart: true },
      );
    await insertCampaign(db(), shop.id, parsed('Ended', now - 3 * DAY_MS, now - DAY_MS), {
      productIds: [],
      createdBy: null,
      now: new Date(),
    });
    const running = await insertCampaign(
      db(),
      shop.id,
      parsed('Double points weekend', now - DAY_MS, now + 2 * DAY_MS),
      { productIds: [], createdBy: null, now: new Date() },
    );
    // Written and checked just now: nothing is due until a change says so.
    expect(await sync(shop)).toMatchObject({ program: 'current' });
    await programSummaryDue(db(), shop.id);
    expect(await sync(shop)).toMatchObject({ program: 'written' });
    const installation = emulator().state.appInstallationGid(shop.domain);
    const [summary] = emulator().state.metafields(shop.domain, installation);
    const written = JSON.parse(summary!.value) as {
      campaigns: { id: number; name: string; endsAt: number }[];
    };
    expect(written.campaigns).toMatchObject([
      { id: running.id, name: 'Double points weekend', factorBps: 20_000, multiplier: '2' },
    ]);
    expect(written.campaigns[0]!.endsAt).toBe(Math.floor(running.endsAt.getTime() / 1000));
  });

  it('writes the version in force to laurel.program on the app installation, once per version', async () => {
    const shop = await installedShop();
    expect(await sync(shop)).toMatchObject({ program: 'written', written: 0 });
    const installation = emulator().state.appInstallationGid(shop.domain);
    const [summary] = emulator().state.metafields(shop.domain, installation);
    expect(summary).toMatchObject({ namespace: 'laurel', key: 'program', type: 'json' });
    expect(JSON.parse(summary!.value)).toEqual({
      version: 1,
      name: 'Reference',
      currency: 'USD',
      digits: 2,
      earnOn: 'subtotal_after_discounts',
      unitMinor: 100,
      bands: [
        { over: 5000, upTo: 10000, pointsPerUnit: 1 },
        { over: 10000, upTo: null, pointsPerUnit: 2 },
      ],
      signupBonus: 0,
      referral: null,
      // No campaign (docs/campaigns.md).
      campaigns: [],
    });
    // Checkout reads the same summary from the shop, in the app's own namespace.
    const [checkoutCopy] = emulator().state.metafields(
      shop.domain,
      `gid://shopify/Shop/${emulator().state.store(shop.domain).shopId}`,
    );
    expect(checkoutCopy).toMatchObject({ key: 'program', type: 'json' });
    expect(checkoutCopy!.namespace).toMatch(/^app--/);
    expect(JSON.parse(checkoutCopy!.value)).toEqual(JSON.parse(summary!.value));
    expect(await sync(shop)).toMatchObject({ program: 'current' });

    // A new version in force is written over it; one effective later is not yet.
    await publishProgram(
      db(),
      shop.id,
      { ...referenceProgram, name: 'Spring' },
      new Date('2026-02-01T00:00:00Z'),
    );
    await publishProgram(
      db(),
      shop.id,
      { ...referenceProgram, name: 'Future' },
      new Date('2099-01-01T00:00:00Z'),
    );
    expect(await sync(shop)).toMatchObject({ program: 'written' });
    const [rewritten] = emulator().state.metafields(shop.domain, installation);
    expect(JSON.parse(rewritten!.value)).toMatchObject({ version: 2, name: 'Spring' });
    expect(await sync(shop, { now: () => new Date('2099-01-02T00:00:00Z') })).toMatchObject({
      program: 'written',
    });
    const [future] = emulator().state.metafields(shop.domain, installation);
    expect(JSON.parse(future!.value)).toMatchObject({ version: 3, name: 'Future' });
  });

  it('reads Shopify’s copy back once a day, and writes it again if it went missing', async () => {
    const shop = await installedShop();
    expect(await sync(shop)).toMatchObject({ program: 'written' });
    const installation = emulator().state.appInstallationGid(shop.domain);
    const store = emulator().state.store(shop.domain);
    const summaryId = () => [...store.metafields.values()].find((m) => m.key === 'program')?.id;
    const writes = () => setCalls(shop).length;
    const checkedDaysAgo = (days: number) =>
      db().execute(
        sql`UPDATE shop_metafield_sync SET program_checked_at = now() - make_interval(days => ${days}) WHERE shop_id = ${shop.id}`,
      );

    // Checked a day ago and still there: read back, found equal, not written.
    await checkedDaysAgo(2);
    expect(await shopsDueForSync(db())).toContain(shop.domain);
    const before = writes();
    expect(await sync(shop)).toMatchObject({ program: 'current' });
    expect(writes()).toBe(before);
    expect(await shopsDueForSync(db())).not.toContain(shop.domain);

    // Gone from Shopify: within the day nothing notices; after it, the sweep's run writes it.
    store.metafields.delete(summaryId()!);
    expect(await sync(shop)).toMatchObject({ program: 'current' });
    await checkedDaysAgo(2);
    expect(await sync(shop)).toMatchObject({ program: 'written' });
    expect(
      emulator()
        .state.metafields(shop.domain, installation)
        .map((m) => m.key),
    ).toEqual(['program']);
  });
});

describe('syncShopMetafields: the program summary and tiers', () => {
  it('the summary lists the tiers, and a new tier program version rewrites it and every tiered member', async () => {
    const { shop } = await tieredShop();
    const ada = await member(shop);
    await changeTier(shop, ada.customer.id, 'gold', 150_000);
    expect(await sync(shop)).toMatchObject({ program: 'written', written: 1 });
    const installation = emulator().state.appInstallationGid(shop.domain);
    const summary = () =>
      JSON.parse(emulator().state.metafields(shop.domain, installation)[0]!.value);
    expect(summary()).toMatchObject({ version: 1, name: 'Reference' });
    expect(summary().tiers).toEqual({
      version: 1,
      metric: 'spend',
      window: 'calendar_year',
      currency: 'USD',
      levels: [
        {
          key: 'bronze',
          name: 'Bronze',
          threshold: 0,
          thresholdText: '$0.00',
          multiplier: '1',
          perks: { freeShipping: false, entryPoints: 0 },
        },
        {
          key: 'silver',
          name: 'Silver',
          threshold: 25_000,
          thresholdText: '$250.00',
          multiplier: '1.25',
          perks: { freeShipping: false, entryPoints: 50 },
        },
        {
          key: 'gold',
          name: 'Gold',
          threshold: 100_000,
          thresholdText: '$1,000.00',
          multiplier: '1.5',
          perks: { freeShipping: true, entryPoints: 200 },
        },
        {
          key: 'platinum',
          name: 'Platinum',
          threshold: 500_000,
          thresholdText: '$5,000.00',
          multiplier: '2',
          perks: { freeShipping: true, entryPoints: 500 },
        },
      ],
    });
    expect(await sync(shop)).toMatchObject({ program: 'current', written: 0 });
    expect(await shopsDueForSync(db())).not.toContain(shop.domain);

    // Platinum renamed and moved: the sweep sees it, the summary is rewritten, and Ada's status
    // (whose next tier it is) too, though nothing of hers changed.
    const renamed = structuredClone(FOUR_TIERS);
    renamed.tiers[3] = { ...renamed.tiers[3]!, name: 'Diamond', threshold: '4000.00' };
    await seedTierProgram(db(), shop.id, renamed);
    expect(await shopsDueForSync(db())).toContain(shop.domain);
    expect(await sync(shop)).toMatchObject({ program: 'written', written: 1 });
    expect(summary().tiers).toMatchObject({ version: 2 });
    expect(summary().tiers.levels[3]).toMatchObject({
      name: 'Diamond',
      thresholdText: '$4,000.00',
    });
    expect(shopifyTier(shop, ada.gid).status).toMatchObject({
      version: 2,
      key: 'gold',
      next: { key: 'platinum', name: 'Diamond', threshold: 400_000, remaining: 250_000 },
    });
    expect(await sync(shop)).toMatchObject({ program: 'current', written: 0 });
    expect(await shopsDueForSync(db())).not.toContain(shop.domain);
  });
});

describe('syncShopMetafields: the program summary and referrals', () => {
  const summaryOf = (shop: Shop) => {
    const [metafield] = emulator().state.metafields(
      shop.domain,
      emulator().state.appInstallationGid(shop.domain),
    );
    return JSON.parse(metafield!.value) as { referral: unknown };
  };

  it('carries the referral offer in the program summary, rewritten when it is due again', async () => {
    const shop = await installedShop();
    await sync(shop);
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
    expect(await sync(shop)).toMatchObject({ program: 'written' });
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
    await sync(shop);
    expect(summaryOf(shop).referral).toBeNull();
  });
});

// One metafield sync run: the shops it skips, a run Shopify stops, and the lease that keeps an
// older value from landing over a newer one. The members' and the summary's writes are tested
// beside their modules (metafield-sync-members, metafield-sync-program).
import { describe, expect, it } from 'vitest';
import { useMetafieldSyncFixture } from '../tests/helpers/metafield-sync';
import { CALLS_IN_FLIGHT, MEMBERS_PER_CALL } from './metafield-sync-members.server';
import { SyncLeaseLost, syncShopMetafields } from './metafield-sync.server';
import { balanceOf, post } from './models/ledger.server';
import { hasPendingMembers } from './models/metafield-sync.server';
import { markShopUninstalled } from './models/shops.server';

const { db, emulator, capture, installedShop, member, earn, sync, shopifyPoints, setCalls } =
  useMetafieldSyncFixture();

describe('syncShopMetafields: the run', () => {
  it('skips, with a log line, a shop it cannot write to and never throws for it', async () => {
    const noToken = await installedShop({ token: false });
    const uninstalled = await installedShop();
    await markShopUninstalled(db(), uninstalled.id);
    const { log, messages } = capture();
    expect(await sync(noToken, { log })).toEqual({ status: 'skipped', reason: 'no-token' });
    expect(await sync(uninstalled, { log })).toEqual({ status: 'skipped', reason: 'uninstalled' });
    expect(
      await syncShopMetafields({
        db: db(),
        shop: 'never-installed.myshopify.com',
        log,
        endpoint: emulator().endpointTemplate,
      }),
    ).toEqual({ status: 'skipped', reason: 'unknown-shop' });
    expect(messages()).toEqual([
      expect.stringMatching(/^metafield sync skipped: no offline access token/),
      expect.stringMatching(/^metafield sync skipped: the shop uninstalled Laurel/),
      expect.stringMatching(/^metafield sync skipped: the shop is not installed/),
    ]);
  });

  it('stops without writing when Shopify refuses the token, and keeps members pending', async () => {
    const shop = await installedShop();
    const ada = await member(shop);
    await post(db(), shop.id, earn(ada.customer.id, 10));
    emulator().setAccessToken(shop.domain, 'shpat_revoked');
    const { log, messages } = capture();
    expect(await sync(shop, { log })).toEqual({ status: 'skipped', reason: 'unauthorized' });
    expect(messages()).toContain(
      'metafield sync stopped: Shopify refused the offline token (revoked or lacking a scope)',
    );
    expect(await hasPendingMembers(db(), shop.id)).toBe(true);
    // The lease was released: a later run (with a good token) proceeds.
    emulator().setAccessToken(shop.domain, 'shpat_good');
    await sync(shop, { accessToken: 'shpat_good' });
    expect(shopifyPoints(shop, ada.gid)).toEqual(['10', '10']);
  });
});

describe('syncShopMetafields: never an older value over a newer one', () => {
  /** A fetch that holds the first metafieldsSet request until released. */
  function gatedFetch() {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    let first = true;
    const fetchImpl: typeof fetch = async (input, init) => {
      if (first && String(init?.body).includes('MetafieldsSet')) {
        first = false;
        held();
        await gate;
      }
      return fetch(input, init);
    };
    return { fetchImpl, release, holding };
  }

  it('a run that starts while another writes waits for it; the last write is the newest balance', async () => {
    const shop = await installedShop({ program: false });
    const ada = await member(shop);
    await post(db(), shop.id, earn(ada.customer.id, 10));

    // Run A reads balance 10 and is held in its write.
    const gated = gatedFetch();
    const a = sync(shop, { client: { baseDelayMs: 1, fetch: gated.fetchImpl } });
    await gated.holding;
    // Meanwhile the ledger moves to 30 and run B is asked to sync it.
    await post(db(), shop.id, earn(ada.customer.id, 20));
    expect(await sync(shop)).toEqual({ status: 'skipped', reason: 'busy' });
    expect(shopifyPoints(shop, ada.gid)).toEqual([undefined, undefined]);

    gated.release();
    // A writes what it read (10) and, looking again after releasing the lease, sees there is more.
    expect(await a).toMatchObject({ written: 1, more: true });
    expect(shopifyPoints(shop, ada.gid)).toEqual(['10', '10']);
    // The job re-enqueues itself on `more`; that run writes 30.
    expect(await sync(shop)).toMatchObject({ written: 1, more: false });
    expect(shopifyPoints(shop, ada.gid)).toEqual(['30', '30']);
    expect((await balanceOf(db(), shop.id, ada.customer.id)).balance).toBe(30);
    const values = setCalls(shop).map(
      (r) => (r.variables?.metafields as { key: string; value: string }[])[0]!.value,
    );
    expect(values).toEqual(['10', '30']);
  });

  it('a run that outlives its lease writes nothing more: the run that took over has the newer value', async () => {
    const shop = await installedShop({ program: false });
    // One member more than a run's calls in flight can carry: its call waits for one to end.
    const members = [];
    for (let i = 0; i < MEMBERS_PER_CALL * CALLS_IN_FLIGHT + 1; i++) {
      const m = await member(shop);
      await post(db(), shop.id, earn(m.customer.id, 10));
      members.push(m);
    }
    const last = members.at(-1)!;
    // Run A reads every member, and the answers to its calls in flight come back after its lease
    // ended (Shopify executed them at once; only the answers are late).
    let stalled!: () => void;
    const stalling = new Promise<void>((resolve) => (stalled = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    let calls = 0;
    const slowAnswer: typeof fetch = async (input, init) => {
      const { signal: _ignored, ...rest } = init ?? {};
      const response = await fetch(input, rest);
      const body = await response.text();
      if (String(init?.body).includes('MetafieldsSet') && calls++ < CALLS_IN_FLIGHT) {
        if (calls === CALLS_IN_FLIGHT) stalled();
        await resumed;
      }
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const a = sync(shop, { leaseMs: 300, client: { baseDelayMs: 1, fetch: slowAnswer } });
    await stalling;
    // The last member's balance moves on; once A's lease has expired, run B syncs it.
    await post(db(), shop.id, earn(last.customer.id, 5));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await sync(shop)).toMatchObject({ status: 'synced', more: false });
    expect(shopifyPoints(shop, last.gid)).toEqual(['15', '15']);
    resume();
    // A's next write is fenced: its lease is gone, so its stale 10 is never sent.
    await expect(a).rejects.toBeInstanceOf(SyncLeaseLost);
    expect(shopifyPoints(shop, last.gid)).toEqual(['15', '15']);
    expect(await hasPendingMembers(db(), shop.id)).toBe(false);
  });
});

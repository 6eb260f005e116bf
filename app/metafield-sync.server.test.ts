import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminEmulator, type AdminEmulator } from '../dev/emulator/server';
import { parseCampaign } from '../loyalty/campaigns';
import { referenceProgram } from '../loyalty/program';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { storeOfflineSession } from '../tests/helpers/sessions';
import {
  CALLS_IN_FLIGHT,
  MEMBERS_PER_CALL,
  SyncLeaseLost,
  TIER_MEMBERS_PER_CALL,
  syncShopMetafields,
  type MetafieldSyncOptions,
} from './metafield-sync.server';
import { ensureCustomer, redactCustomer } from './models/customers.server';
import { balanceOf, post, type LedgerEntryInput } from './models/ledger.server';
import {
  hasPendingMembers,
  memberSyncStates,
  programSummaryDue,
  shopsDueForSync,
} from './models/metafield-sync.server';
import { insertCampaign } from './models/campaigns.server';
import { publishProgram } from './models/programs.server';
import { ensureShop, markShopUninstalled, type Shop } from './models/shops.server';
import { getCustomerTier } from './models/tiers.server';
import { FOUR_TIERS, seedTierProgram, setMemberTier } from '../tests/helpers/tiers';

let handle: TestDatabase;
let emulator: AdminEmulator;
const tokens: Record<string, string> = {};
const db = () => handle.db;

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  // The shops as `shopify app deploy` leaves them: the metafield definitions of shopify.app.toml.
  emulator = await startAdminEmulator({ accessTokens: tokens, appConfig: 'shopify.app.toml' });
});
afterAll(async () => {
  await emulator?.close();
  await handle?.close();
});

/** A logger whose lines the test can read. */
const DAY_MS = 86_400_000;

function capture() {
  const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines, messages: () => lines.map((l) => l.msg) };
}

async function installedShop(options: { token?: boolean; program?: boolean } = {}): Promise<Shop> {
  const shop = await ensureShop(db(), {
    domain: `sync-${randomUUID().slice(0, 8)}.myshopify.com`,
  });
  const token = `shpat_${randomUUID().replaceAll('-', '')}`;
  emulator.setAccessToken(shop.domain, token);
  if (options.token !== false) {
    await storeOfflineSession(db(), shop.domain, token);
  }
  if (options.program !== false) {
    await publishProgram(db(), shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
  }
  return shop;
}

/** A customer in Shopify (the emulator) and in Laurel, under the same id. */
async function member(shop: Shop, options: { inShopify?: boolean } = {}) {
  const gid =
    options.inShopify === false
      ? `gid://shopify/Customer/${9_000_000_000 + Math.floor(Math.random() * 1e6)}`
      : emulator.state.addCustomer(shop.domain, { firstName: 'Ada' });
  const customer = await ensureCustomer(db(), shop.id, { externalId: gid.split('/').pop()! });
  return { gid, customer };
}

let keys = 0;
function earn(customerId: number, points: number, source = 'order'): LedgerEntryInput {
  keys++;
  return {
    customerId,
    idempotencyKey: `${source}:${keys}`,
    source: source as LedgerEntryInput['source'],
    points,
    occurredAt: new Date('2026-03-01T12:00:00Z'),
    programVersion: source === 'order' ? 1 : null,
    inputs: { test: keys },
  };
}

const sync = (shop: Shop, extra: Partial<MetafieldSyncOptions> = {}) =>
  syncShopMetafields({
    db: db(),
    shop: shop.domain,
    log: pino({ level: 'silent' }),
    endpoint: emulator.endpointTemplate,
    client: { baseDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  });

/** The member's points metafields as Shopify holds them: [balance, lifetime] (undefined: none). */
function shopifyPoints(shop: Shop, gid: string) {
  const fields = emulator.state.metafields(shop.domain, gid);
  const value = (key: string) => fields.find((f) => f.key === key)?.value;
  return [value('points_balance'), value('lifetime_points')];
}

function setCalls(shop: Shop) {
  return emulator.requests.filter(
    (r) =>
      r.shop === shop.domain && r.operationName === 'MetafieldsSet' && r.outcome === 'executed',
  );
}

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
    const written = emulator.state.metafields(shop.domain, ada.gid);
    expect(written.map((m) => [m.namespace, m.key, m.type])).toEqual([
      ['app--1000000', 'points_balance', 'number_integer'],
      ['app--1000000', 'lifetime_points', 'number_integer'],
    ]);
    // The definitions shopify.app.toml declares are the ones the values were checked against.
    const definitions = emulator.state.definitions(shop.domain);
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

  it('skips, with a log line, what it cannot write and never throws for it', async () => {
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
        endpoint: emulator.endpointTemplate,
      }),
    ).toEqual({ status: 'skipped', reason: 'unknown-shop' });
    expect(messages()).toEqual([
      expect.stringMatching(/^metafield sync skipped: no offline access token/),
      expect.stringMatching(/^metafield sync skipped: the shop uninstalled Laurel/),
      expect.stringMatching(/^metafield sync skipped: the shop is not installed/),
    ]);

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

  it('stops without writing when Shopify refuses the token, and keeps members pending', async () => {
    const shop = await installedShop();
    const ada = await member(shop);
    await post(db(), shop.id, earn(ada.customer.id, 10));
    emulator.setAccessToken(shop.domain, 'shpat_revoked');
    const { log, messages } = capture();
    expect(await sync(shop, { log })).toEqual({ status: 'skipped', reason: 'unauthorized' });
    expect(messages()).toContain(
      'metafield sync stopped: Shopify refused the offline token (revoked or lacking a scope)',
    );
    expect(await hasPendingMembers(db(), shop.id)).toBe(true);
    // The lease was released: a later run (with a good token) proceeds.
    emulator.setAccessToken(shop.domain, 'shpat_good');
    await sync(shop, { accessToken: 'shpat_good' });
    expect(shopifyPoints(shop, ada.gid)).toEqual(['10', '10']);
  });
});

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
    const installation = emulator.state.appInstallationGid(shop.domain);
    const [summary] = emulator.state.metafields(shop.domain, installation);
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
    const installation = emulator.state.appInstallationGid(shop.domain);
    const [summary] = emulator.state.metafields(shop.domain, installation);
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
    const [checkoutCopy] = emulator.state.metafields(
      shop.domain,
      `gid://shopify/Shop/${emulator.state.store(shop.domain).shopId}`,
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
    const [rewritten] = emulator.state.metafields(shop.domain, installation);
    expect(JSON.parse(rewritten!.value)).toMatchObject({ version: 2, name: 'Spring' });
    expect(await sync(shop, { now: () => new Date('2099-01-02T00:00:00Z') })).toMatchObject({
      program: 'written',
    });
    const [future] = emulator.state.metafields(shop.domain, installation);
    expect(JSON.parse(future!.value)).toMatchObject({ version: 3, name: 'Future' });
  });

  it('reads Shopify’s copy back once a day, and writes it again if it went missing', async () => {
    const shop = await installedShop();
    expect(await sync(shop)).toMatchObject({ program: 'written' });
    const installation = emulator.state.appInstallationGid(shop.domain);
    const store = emulator.state.store(shop.domain);
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
    expect(emulator.state.metafields(shop.domain, installation).map((m) => m.key)).toEqual([
      'program',
    ]);
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

describe('syncShopMetafields: tiers', () => {
  /** A shop with the four demo tiers in force. */
  async function tieredShop() {
    const shop = await installedShop();
    const tiers = await seedTierProgram(db(), shop.id);
    return { shop, tiers };
  }

  /**
   * Places the member in a tier and posts the ledger entry that says so, in one transaction, as
   * the evaluation does: the entry marks the member pending.
   */
  async function changeTier(shop: Shop, customerId: number, tierKey: string | null, value: number) {
    await db().transaction(async (tx) => {
      await setMemberTier(tx, shop.id, customerId, tierKey, { metricValue: value });
      keys++;
      await post(tx, shop.id, {
        customerId,
        idempotencyKey: `tier:${customerId}:change:${keys}`,
        source: 'tier',
        points: 0,
        occurredAt: new Date('2026-03-01T12:00:00Z'),
        programVersion: null,
        inputs: { rule: 'tier-change', to: tierKey },
      });
    });
  }

  function held(shop: Shop, gid: string) {
    const fields = emulator.state.metafields(shop.domain, gid);
    const value = (key: string) => fields.find((f) => f.key === key)?.value;
    const status = value('tier_status');
    return {
      tier: value('tier'),
      status: status === undefined ? undefined : JSON.parse(status),
      tags: emulator.state.store(shop.domain).customers.get(Number(gid.split('/').pop()))!.tags,
    };
  }

  const tagCalls = (shop: Shop) =>
    emulator.requests.filter(
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
    const tagOperations = emulator.requests
      .filter((r) => r.shop === shop.domain && /Tag/.test(r.operationName ?? ''))
      .map((r) => r.operationName);
    expect(tagOperations).toEqual(['TagsAdd', 'TagsAdd']);
    expect(shopifyPoints(shop, ada.gid)).toEqual(['120', '120']);
    const adaHeld = held(shop, ada.gid);
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
    expect(held(shop, bob.gid)).toMatchObject({
      tier: 'platinum',
      tags: ['laurel-tier-platinum'],
      status: { key: 'platinum', next: null },
    });
    expect(held(shop, cyd.gid)).toMatchObject({
      tier: undefined,
      tags: [],
      status: { key: null, name: null, value: 0, next: { key: 'silver', remaining: 25_000 } },
    });
    // The metafields are typed as shopify.app.toml declares them.
    const types = emulator.state
      .metafields(shop.domain, ada.gid)
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
    expect(held(shop, ada.gid).tags).toEqual(['laurel-tier-gold']);
  });

  it('moves the tag when the tier changes, and removes the tier when the member has none', async () => {
    const { shop } = await tieredShop();
    const ada = await member(shop);
    emulator.state.store(shop.domain).customers.get(Number(ada.gid.split('/').pop()))!.tags = [
      'newsletter',
    ];
    await changeTier(shop, ada.customer.id, 'gold', 150_000);
    await sync(shop);
    expect(held(shop, ada.gid)).toMatchObject({
      tier: 'gold',
      tags: ['newsletter', 'laurel-tier-gold'],
    });

    await changeTier(shop, ada.customer.id, 'platinum', 520_000);
    expect(await sync(shop)).toMatchObject({ written: 1, failed: 0, calls: 2 });
    expect(held(shop, ada.gid)).toMatchObject({
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
    expect(held(shop, ada.gid)).toMatchObject({
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
    expect(held(shop, ada.gid).tags).toEqual([]);
    expect(held(shop, bob.gid).tags).toEqual(['laurel-tier-silver']);
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
    expect(held(shop, ada.gid)).toMatchObject({ tier: 'gold', tags: ['laurel-tier-gold'] });
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
    emulator.failNext(4, 503, { shop: shop.domain, operation: 'TagsAdd' });
    await expect(sync(shop)).rejects.toThrow();
    expect(held(shop, ada.gid).tags).toEqual([]);
    expect(await hasPendingMembers(db(), shop.id)).toBe(true);
    expect((await getCustomerTier(db(), shop.id, ada.customer.id))?.syncedTag).toBeNull();
    expect(await sync(shop)).toMatchObject({ written: 1, failed: 0 });
    expect(held(shop, ada.gid).tags).toEqual(['laurel-tier-gold']);
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
    members.forEach((m) => expect(held(shop, m.gid).tags).toEqual(['laurel-tier-bronze']));
  });

  it('the summary lists the tiers, and a new tier program version rewrites it and every tiered member', async () => {
    const { shop } = await tieredShop();
    const ada = await member(shop);
    await changeTier(shop, ada.customer.id, 'gold', 150_000);
    expect(await sync(shop)).toMatchObject({ program: 'written', written: 1 });
    const installation = emulator.state.appInstallationGid(shop.domain);
    const summary = () =>
      JSON.parse(emulator.state.metafields(shop.domain, installation)[0]!.value);
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
    expect(held(shop, ada.gid).status).toMatchObject({
      version: 2,
      key: 'gold',
      next: { key: 'platinum', name: 'Diamond', threshold: 400_000, remaining: 250_000 },
    });
    expect(await sync(shop)).toMatchObject({ program: 'current', written: 0 });
    expect(await shopsDueForSync(db())).not.toContain(shop.domain);
  });
});

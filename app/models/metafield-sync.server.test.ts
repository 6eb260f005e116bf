import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceProgram } from '../../loyalty/program';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { storeOfflineSession } from '../../tests/helpers/sessions';
import { ensureCustomer, redactCustomer } from './customers.server';
import { balanceOf, post, postMany, type LedgerEntryInput } from './ledger.server';
import {
  acquireSyncLease,
  hasPendingMembers,
  markMetafieldsPending,
  MAX_SYNC_ATTEMPTS,
  memberSyncStates,
  pendingMembers,
  pendingWork,
  programToSync,
  recordProgramSynced,
  recordSynced,
  recordSyncFailures,
  releaseSyncLease,
  renewSyncLease,
  resyncShop,
  shopsDueForSync,
  syncTarget,
} from './metafield-sync.server';
import { programAt, publishProgram } from './programs.server';
import { ensureShop, markShopUninstalled } from './shops.server';

let handle: TestDatabase;
const db = () => handle.db;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
});
afterAll(async () => {
  await handle?.close();
});

let nextExternal = 7_100_000_000_000;
const newShop = (prefix = 'mfs') =>
  ensureShop(db(), { domain: `${prefix}-${randomUUID().slice(0, 8)}.myshopify.com` });
const newCustomer = async (shopId: number, externalId = String(++nextExternal)) =>
  ensureCustomer(db(), shopId, { externalId });

function entry(
  customerId: number,
  key: string,
  points: number,
  source = 'order',
): LedgerEntryInput {
  return {
    customerId,
    idempotencyKey: key,
    source: source as LedgerEntryInput['source'],
    points,
    occurredAt: new Date('2026-03-01T12:00:00Z'),
    programVersion: source === 'order' ? 1 : null,
    inputs: { test: key },
  };
}

const pendingOf = async (shopId: number) =>
  pendingMembers(db(), shopId, { limit: 1_000 }).then((rows) =>
    rows.map((r) => ({
      customerId: r.customerId,
      balance: r.balance,
      lifetimeEarned: r.lifetimeEarned,
      revision: r.revision,
    })),
  );

describe('marking members pending, in the ledger’s transaction', () => {
  it('every post marks its member with the newest entry and one more revision', async () => {
    const shop = await newShop();
    const ada = await newCustomer(shop.id);
    const first = await post(db(), shop.id, entry(ada.id, 'order:1:earn', 90));
    expect(await pendingOf(shop.id)).toEqual([
      { customerId: ada.id, balance: 90, lifetimeEarned: 90, revision: 1 },
    ]);
    const second = await post(db(), shop.id, entry(ada.id, 'redemption:1', -40, 'redemption'));
    const [state] = await memberSyncStates(db(), shop.id);
    expect(state).toMatchObject({
      revision: 2,
      syncedRevision: 0,
      ledgerPosition: second.entry.id,
      syncedPosition: null,
    });
    expect(second.entry.id).toBeGreaterThan(first.entry.id);
    expect((await pendingOf(shop.id))[0]).toMatchObject({ balance: 50, lifetimeEarned: 90 });
    // A repeat of a posted key writes nothing, so it marks nothing.
    await post(db(), shop.id, entry(ada.id, 'order:1:earn', 90));
    expect((await memberSyncStates(db(), shop.id))[0]?.revision).toBe(2);
  });

  it('postMany (imports, the CLI) marks each member once per call, with its newest entry', async () => {
    const shop = await newShop();
    const [a, b] = [await newCustomer(shop.id), await newCustomer(shop.id)];
    const results = await postMany(db(), shop.id, [
      entry(a.id, 'order:a1:earn', 10),
      entry(b.id, 'order:b1:earn', 20),
      entry(a.id, 'order:a2:earn', 30),
    ]);
    const newest = Math.max(results[0]!.entry.id, results[2]!.entry.id);
    const states = await memberSyncStates(db(), shop.id);
    expect(states.map((s) => [s.customerId, s.revision, s.ledgerPosition])).toEqual([
      [a.id, 1, newest],
      [b.id, 1, results[1]!.entry.id],
    ]);
    expect(await pendingOf(shop.id)).toEqual([
      { customerId: a.id, balance: 40, lifetimeEarned: 40, revision: 1 },
      { customerId: b.id, balance: 20, lifetimeEarned: 20, revision: 1 },
    ]);
  });

  it('a rolled-back post leaves no mark', async () => {
    const shop = await newShop();
    const ada = await newCustomer(shop.id);
    await expect(
      db().transaction(async (tx) => {
        await post(tx, shop.id, entry(ada.id, 'order:9:earn', 90));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await memberSyncStates(db(), shop.id)).toEqual([]);
    expect(await hasPendingMembers(db(), shop.id)).toBe(false);
  });

  it('concurrent posts for one member each add a revision, and the last read matches the ledger', async () => {
    const shop = await newShop();
    const ada = await newCustomer(shop.id);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        post(db(), shop.id, entry(ada.id, `order:${i}:earn`, i + 1)),
      ),
    );
    const [state] = await memberSyncStates(db(), shop.id);
    expect(state?.revision).toBe(20);
    const [pending] = await pendingMembers(db(), shop.id, { limit: 10 });
    expect(pending?.balance).toBe((await balanceOf(db(), shop.id, ada.id)).balance);
    expect(pending?.balance).toBe(210);
  });

  it('a change committed with an older entry id still makes the member pending', async () => {
    // Two batches: A inserts the member's entry first (lower id) but B reaches the balance row
    // first and commits; A then commits an older id. The newest entry id does not move, the
    // revision does, so the change A brought is not mistaken for one Shopify already has.
    const shop = await newShop();
    const ada = await newCustomer(shop.id);
    await markMetafieldsPending(db(), shop.id, [{ customerId: ada.id, ledgerPosition: 900 }]);
    await recordSynced(db(), shop.id, [{ customerId: ada.id, revision: 1, ledgerPosition: 900 }]);
    expect(await hasPendingMembers(db(), shop.id)).toBe(false);
    await markMetafieldsPending(db(), shop.id, [{ customerId: ada.id, ledgerPosition: 850 }]);
    const [state] = await memberSyncStates(db(), shop.id);
    expect(state).toMatchObject({ revision: 2, ledgerPosition: 900, syncedRevision: 1 });
    expect(await hasPendingMembers(db(), shop.id)).toBe(true);
  });
});

describe('recording what was written', () => {
  it('records a write only if it is newer than the one recorded', async () => {
    const shop = await newShop();
    const ada = await newCustomer(shop.id);
    const one = await post(db(), shop.id, entry(ada.id, 'order:1:earn', 10));
    const two = await post(db(), shop.id, entry(ada.id, 'order:2:earn', 20));
    await recordSynced(db(), shop.id, [
      { customerId: ada.id, revision: 2, ledgerPosition: two.entry.id },
    ]);
    // A slow run that read revision 1 records late: nothing changes.
    await recordSynced(db(), shop.id, [
      { customerId: ada.id, revision: 1, ledgerPosition: one.entry.id },
    ]);
    const [state] = await memberSyncStates(db(), shop.id);
    expect(state).toMatchObject({
      syncedRevision: 2,
      syncedPosition: two.entry.id,
      lastError: null,
    });
    expect(state?.syncedEntryCreatedAt).toBeInstanceOf(Date);
    expect(await hasPendingMembers(db(), shop.id)).toBe(false);
  });

  it('never waits for a member a posting transaction holds, so it cannot deadlock with one', async () => {
    const shop = await newShop();
    const ada = await newCustomer(shop.id);
    const bob = await newCustomer(shop.id);
    const a = await post(db(), shop.id, entry(ada.id, 'order:1:earn', 10));
    const b = await post(db(), shop.id, entry(bob.id, 'order:2:earn', 20));
    // A poster that marks Bob, then (a second sorted call: the tier evaluation's) Ada.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const holdsBob = new Promise<void>((resolve) => (holding = resolve));
    const poster = db().transaction(async (tx) => {
      await markMetafieldsPending(tx, shop.id, [
        { customerId: bob.id, ledgerPosition: b.entry.id },
      ]);
      holding();
      await released;
      await markMetafieldsPending(tx, shop.id, [
        { customerId: ada.id, ledgerPosition: a.entry.id },
      ]);
    });
    await holdsBob;
    const recorded = recordSynced(db(), shop.id, [
      { customerId: ada.id, revision: 1, ledgerPosition: a.entry.id },
      { customerId: bob.id, revision: 1, ledgerPosition: b.entry.id },
    ]);
    const outcome = await Promise.race([
      recorded.then(() => 'recorded'),
      new Promise((resolve) => setTimeout(() => resolve('waited'), 3_000)),
    ]);
    release();
    await poster;
    await recorded;
    expect(outcome).toBe('recorded');
    const states = new Map((await memberSyncStates(db(), shop.id)).map((s) => [s.customerId, s]));
    // Ada's write is recorded (and she is pending again for the poster's change); Bob's is not.
    expect(states.get(ada.id)).toMatchObject({ syncedRevision: 1, revision: 2 });
    expect(states.get(bob.id)).toMatchObject({ syncedRevision: 0, revision: 2 });
  });

  it('a refused member backs off, is given up after the cap, and a new change starts it afresh', async () => {
    const shop = await newShop();
    const ada = await newCustomer(shop.id);
    await post(db(), shop.id, entry(ada.id, 'order:1:earn', 10));
    await recordSyncFailures(db(), shop.id, [
      { customerId: ada.id, revision: 1, ledgerPosition: 0, error: 'Owner does not exist.' },
    ]);
    let [state] = await memberSyncStates(db(), shop.id);
    expect(state).toMatchObject({ attempts: 1, lastError: 'Owner does not exist.' });
    // Backing off: not ready, so neither read nor counted.
    expect(await pendingOf(shop.id)).toEqual([]);
    expect(await hasPendingMembers(db(), shop.id)).toBe(false);
    await db().execute(
      sql`UPDATE customer_metafield_sync SET retry_after = now() - interval '1 second'`,
    );
    expect(await pendingOf(shop.id)).toHaveLength(1);
    // A failure recorded for an older revision is not this value's failure.
    await post(db(), shop.id, entry(ada.id, 'order:2:earn', 10));
    await recordSyncFailures(db(), shop.id, [
      { customerId: ada.id, revision: 1, ledgerPosition: 0, error: 'stale' },
    ]);
    [state] = await memberSyncStates(db(), shop.id);
    expect(state).toMatchObject({ revision: 2, attempts: 0 });
    await db().execute(
      sql`UPDATE customer_metafield_sync SET attempts = ${MAX_SYNC_ATTEMPTS}, retry_after = NULL`,
    );
    expect(await pendingOf(shop.id)).toEqual([]);
    await post(db(), shop.id, entry(ada.id, 'order:3:earn', 10));
    expect(await pendingOf(shop.id)).toEqual([
      { customerId: ada.id, balance: 30, lifetimeEarned: 30, revision: 3 },
    ]);
  });

  it('reads redacted members as such (the sync writes nothing for them)', async () => {
    const shop = await newShop();
    const ada = await newCustomer(shop.id);
    await post(db(), shop.id, entry(ada.id, 'order:1:earn', 10));
    await redactCustomer(db(), shop.id, ada.id);
    expect((await pendingMembers(db(), shop.id, { limit: 5 }))[0]?.redacted).toBe(true);
  });

  it('resyncShop makes every member pending and forgets the program summary written', async () => {
    const shop = await newShop();
    const ada = await newCustomer(shop.id);
    const posted = await post(db(), shop.id, entry(ada.id, 'order:1:earn', 10));
    await recordSynced(db(), shop.id, [
      { customerId: ada.id, revision: 1, ledgerPosition: posted.entry.id },
    ]);
    await recordProgramSynced(db(), shop.id, 1, 'gid://shopify/AppInstallation/1');
    await resyncShop(db(), shop.id);
    expect(await pendingOf(shop.id)).toHaveLength(1);
  });
});

describe('the lease', () => {
  it('lets one run hold a shop at a time, until it releases or its lease expires', async () => {
    const shop = await newShop();
    expect(await acquireSyncLease(db(), shop.id, 'run-a', 60_000)).toBe(true);
    expect(await acquireSyncLease(db(), shop.id, 'run-b', 60_000)).toBe(false);
    expect(await renewSyncLease(db(), shop.id, 'run-a', 60_000)).toBe(true);
    expect(await renewSyncLease(db(), shop.id, 'run-b', 60_000)).toBe(false);
    await releaseSyncLease(db(), shop.id, 'run-b'); // not b's: no effect
    expect(await acquireSyncLease(db(), shop.id, 'run-b', 60_000)).toBe(false);
    await releaseSyncLease(db(), shop.id, 'run-a');
    expect(await acquireSyncLease(db(), shop.id, 'run-b', 100)).toBe(true);
    // Another shop's lease is its own.
    const other = await newShop();
    expect(await acquireSyncLease(db(), other.id, 'run-c', 60_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 150));
    // b stalled past its lease: it can no longer renew, and c can take over.
    expect(await renewSyncLease(db(), shop.id, 'run-b', 60_000)).toBe(false);
    expect(await acquireSyncLease(db(), shop.id, 'run-c', 60_000)).toBe(true);
  });

  it('gives the lease to exactly one of many runs racing for it', async () => {
    const shop = await newShop();
    const won = await Promise.all(
      Array.from({ length: 8 }, (_, i) => acquireSyncLease(db(), shop.id, `run-${i}`, 60_000)),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
  });
});

describe('what a sync reads', () => {
  it('programToSync picks the version programAt picks, at every instant', async () => {
    const shop = await newShop('pick');
    expect(await programToSync(db(), shop.id, new Date())).toBeUndefined();
    for (const [name, from] of [
      ['March', '2026-03-01T00:00:00Z'],
      ['January', '2026-01-01T00:00:00Z'],
      ['March bis', '2026-03-01T00:00:00Z'],
      ['Future', '2099-01-01T00:00:00Z'],
    ] as const) {
      await publishProgram(db(), shop.id, { ...referenceProgram, name }, new Date(from));
    }
    await recordProgramSynced(db(), shop.id, 2, 'gid://shopify/AppInstallation/9');
    for (const at of [
      '2025-06-01T00:00:00Z',
      '2026-01-01T00:00:00Z',
      '2026-02-15T00:00:00Z',
      '2026-03-01T00:00:00Z',
      '2030-01-01T00:00:00Z',
      '2099-06-01T00:00:00Z',
    ]) {
      const found = await programToSync(db(), shop.id, new Date(at));
      expect(found?.version.version, at).toBe(
        (await programAt(db(), shop.id, new Date(at)))?.version,
      );
      expect(found?.state).toMatchObject({
        programVersion: 2,
        appInstallationId: 'gid://shopify/AppInstallation/9',
      });
    }
  });

  it('syncTarget reads the shop and its offline token together; pendingWork says what is left', async () => {
    const shop = await newShop('target');
    expect(await syncTarget(db(), shop.domain.toUpperCase())).toEqual({
      shopId: shop.id,
      domain: shop.domain,
      active: true,
      // The campaigns' "until" text is written on the shop's clock (docs/campaigns.md).
      timezone: 'UTC',
    });
    await storeOfflineSession(db(), shop.domain, 'shpat_target');
    expect((await syncTarget(db(), shop.domain))?.accessToken).toBe('shpat_target');
    expect(await syncTarget(db(), 'nobody.myshopify.com')).toBeUndefined();

    const now = new Date();
    const nothing = { members: false, program: false, perks: false };
    expect(await pendingWork(db(), shop.id, now)).toEqual(nothing);
    await publishProgram(db(), shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
    expect(await pendingWork(db(), shop.id, now)).toEqual({ ...nothing, program: true });
    await recordProgramSynced(db(), shop.id, 1, 'gid://shopify/AppInstallation/3');
    const ada = await newCustomer(shop.id);
    await post(db(), shop.id, entry(ada.id, 'order:1:earn', 10));
    expect(await pendingWork(db(), shop.id, now)).toEqual({ ...nothing, members: true });
  });
});

describe('the sweep', () => {
  async function install(domain: string) {
    await storeOfflineSession(db(), domain, 'shpat_sweep');
  }

  it('finds installed shops with pending members or an outdated program summary', async () => {
    const pending = await newShop('sweep-pending');
    await install(pending.domain);
    const ada = await newCustomer(pending.id);
    await post(db(), pending.id, entry(ada.id, 'order:1:earn', 10));

    const program = await newShop('sweep-program');
    await install(program.domain);
    await publishProgram(db(), program.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));

    const current = await newShop('sweep-current');
    await install(current.domain);
    await publishProgram(db(), current.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
    await recordProgramSynced(db(), current.id, 1, 'gid://shopify/AppInstallation/2');

    const noToken = await newShop('sweep-token');
    const bob = await newCustomer(noToken.id);
    await post(db(), noToken.id, entry(bob.id, 'order:1:earn', 10));

    const gone = await newShop('sweep-gone');
    await install(gone.domain);
    const eve = await newCustomer(gone.id);
    await post(db(), gone.id, entry(eve.id, 'order:1:earn', 10));
    await markShopUninstalled(db(), gone.id);

    const due = await shopsDueForSync(db());
    expect(due).toContain(pending.domain);
    expect(due).toContain(program.domain);
    for (const domain of [current.domain, noToken.domain, gone.domain]) {
      expect(due).not.toContain(domain);
    }
    // A future version is not in force yet; once it is, the summary is outdated again.
    await publishProgram(db(), current.id, referenceProgram, new Date('2099-01-01T00:00:00Z'));
    expect(await shopsDueForSync(db())).not.toContain(current.domain);
  });
});

import { createServer } from 'node:net';
import { Session } from '@shopify/shopify-api';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../db/client.server';
import { sessions } from '../db/schema';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { rootCauseMessage } from './errors';
import { ProcessSessionStorage } from './session-storage.server';

const SHOP = 'laurel-sessions.myshopify.com';

function offline(token: string): Session {
  return new Session({
    id: `offline_${SHOP}`,
    shop: SHOP,
    state: 'installed',
    isOnline: false,
    scope: 'read_customers,write_customers',
    accessToken: token,
  });
}

function online(userId: number): Session {
  return new Session({
    id: `${SHOP}_${userId}`,
    shop: SHOP,
    state: 'state',
    isOnline: true,
    scope: 'read_customers',
    accessToken: `shpua_${userId}`,
    expires: new Date('2030-01-01T00:00:00Z'),
    onlineAccessInfo: {
      expires_in: 86_400,
      associated_user_scope: 'read_customers',
      associated_user: {
        id: userId,
        first_name: 'Ada',
        last_name: 'Lovelace',
        email: 'ada@example.com',
        email_verified: true,
        account_owner: true,
        locale: 'en',
        collaborator: false,
      },
    },
  });
}

describe.each(['postgres', 'pglite'] as const)('ProcessSessionStorage on %s', (kind) => {
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await database?.close();
    database = undefined;
  });

  async function storage(cacheTtlMs = 0, now?: () => number) {
    database = await createTestDatabase(kind);
    const db = database.db;
    return new ProcessSessionStorage({
      database: async () => db,
      cacheTtlMs,
      ...(now ? { now } : {}),
    });
  }

  it('stores, loads, finds and deletes sessions', async () => {
    const store = await storage();
    expect(await store.loadSession(`offline_${SHOP}`)).toBeUndefined();
    expect(await store.storeSession(offline('shpat_1'))).toBe(true);
    expect(await store.storeSession(online(42))).toBe(true);

    const loaded = await store.loadSession(`offline_${SHOP}`);
    expect(typeof loaded?.isActive).toBe('function');
    expect(loaded?.equals(offline('shpat_1'))).toBe(true);
    const user = await store.loadSession(`${SHOP}_42`);
    expect(user?.onlineAccessInfo?.associated_user.email).toBe('ada@example.com');
    expect(user?.expires?.toISOString()).toBe('2030-01-01T00:00:00.000Z');

    expect((await store.findSessionsByShop(SHOP)).map((s) => s.id).sort()).toEqual(
      [`${SHOP}_42`, `offline_${SHOP}`].sort(),
    );
    // Storing again updates in place.
    await store.storeSession(offline('shpat_2'));
    expect((await store.loadSession(`offline_${SHOP}`))?.accessToken).toBe('shpat_2');

    expect(await store.deleteSession(`offline_${SHOP}`)).toBe(true);
    expect(await store.loadSession(`offline_${SHOP}`)).toBeUndefined();
    expect(await store.deleteSessions([`${SHOP}_42`, 'absent'])).toBe(true);
    expect(await store.findSessionsByShop(SHOP)).toEqual([]);
    expect(await store.deleteSessions([])).toBe(true);
  });

  it('waits for a database that opens later', async () => {
    database = await createTestDatabase(kind);
    const db = database.db;
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const store = new ProcessSessionStorage({
      database: async () => {
        await opened;
        return db;
      },
      cacheTtlMs: 1_000,
    });
    const storing = store.storeSession(offline('shpat_late'));
    setTimeout(open, 20);
    expect(await storing).toBe(true);
    expect((await store.loadSession(`offline_${SHOP}`))?.accessToken).toBe('shpat_late');
  });

  it('reuses a loaded session within the TTL, and forgets it on store, delete or expiry', async () => {
    let clock = 1_000_000;
    const store = await storage(5_000, () => clock);
    await store.storeSession(offline('shpat_1'));
    expect((await store.loadSession(`offline_${SHOP}`))?.accessToken).toBe('shpat_1');

    // Changed behind the storage's back (another process): seen only after the TTL.
    await database!.db
      .update(sessions)
      .set({ accessToken: 'shpat_other_process' })
      .where(eq(sessions.id, `offline_${SHOP}`));
    expect((await store.loadSession(`offline_${SHOP}`))?.accessToken).toBe('shpat_1');
    clock += 5_001;
    expect((await store.loadSession(`offline_${SHOP}`))?.accessToken).toBe('shpat_other_process');

    // Written through the storage: seen at once.
    await store.storeSession(offline('shpat_3'));
    expect((await store.loadSession(`offline_${SHOP}`))?.accessToken).toBe('shpat_3');
    await store.deleteSession(`offline_${SHOP}`);
    expect(await store.loadSession(`offline_${SHOP}`)).toBeUndefined();

    // "No session" is cached too, and a store replaces it at once.
    await database!.db.insert(sessions).values({
      id: `offline_${SHOP}`,
      shop: SHOP,
      state: 'installed',
      isOnline: false,
      accessToken: 'shpat_direct',
    });
    expect(await store.loadSession(`offline_${SHOP}`)).toBeUndefined();
    await store.storeSession(offline('shpat_4'));
    expect((await store.loadSession(`offline_${SHOP}`))?.accessToken).toBe('shpat_4');

    await store.deleteSessions([`offline_${SHOP}`]);
    expect(await store.loadSession(`offline_${SHOP}`)).toBeUndefined();
  });

  it('hands every caller its own copy of a cached session', async () => {
    const store = await storage(60_000);
    await store.storeSession(offline('shpat_1'));
    const first = await store.loadSession(`offline_${SHOP}`);
    first!.accessToken = undefined; // what the library does to a revoked token
    expect((await store.loadSession(`offline_${SHOP}`))?.accessToken).toBe('shpat_1');
  });

  it('does not cache what a load read while a store was in flight', async () => {
    const store = await storage(60_000);
    await store.storeSession(offline('shpat_old'));
    const [, loaded] = await Promise.all([
      store.storeSession(offline('shpat_new')),
      store.loadSession(`offline_${SHOP}`),
    ]);
    expect(['shpat_old', 'shpat_new']).toContain(loaded?.accessToken);
    expect((await store.loadSession(`offline_${SHOP}`))?.accessToken).toBe('shpat_new');
  });

  it('starts afresh when the process database changes', async () => {
    database = await createTestDatabase(kind);
    const other = await createTestDatabase(kind);
    try {
      let current = database.db;
      const store = new ProcessSessionStorage({
        database: async () => current,
        cacheTtlMs: 60_000,
      });
      await store.storeSession(offline('shpat_first_db'));
      expect(await store.loadSession(`offline_${SHOP}`)).toBeDefined();
      current = other.db;
      expect(await store.loadSession(`offline_${SHOP}`)).toBeUndefined();
    } finally {
      await other.close();
    }
  });
});

describe('ProcessSessionStorage when the database is down', () => {
  let handle: DatabaseHandle | undefined;
  afterEach(async () => {
    await handle?.close();
  });

  it('reports errors instead of answering "no session" (and prints nothing)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    handle = await openDatabase({ url: `postgresql://postgres@127.0.0.1:${port}/none`, max: 1 });
    const db = handle.db;
    const store = new ProcessSessionStorage({ database: async () => db, cacheTtlMs: 5_000 });
    const refused = (e: unknown) => rootCauseMessage(e).includes('ECONNREFUSED');
    await expect(store.loadSession(`offline_${SHOP}`)).rejects.toSatisfy(refused);
    await expect(store.deleteSession(`offline_${SHOP}`)).rejects.toSatisfy(refused);
    await expect(store.deleteSessions([`offline_${SHOP}`])).rejects.toSatisfy(refused);
    await expect(store.storeSession(offline('x'))).rejects.toSatisfy(refused);
  });
});

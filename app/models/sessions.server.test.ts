import { Session } from '@shopify/shopify-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { ProcessSessionStorage } from '../session-storage.server';
import { offlineAccessToken, offlineSessionId } from './sessions.server';
import { deleteShopSessions } from './shops.server';

let handle: TestDatabase;
let storage: ProcessSessionStorage;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  storage = new ProcessSessionStorage({ database: async () => handle.db, cacheTtlMs: 0 });
});
afterAll(async () => {
  await handle?.close();
});

const session = (id: string, shop: string, accessToken: string | undefined, isOnline = false) =>
  new Session({ id, shop, state: 'installed', isOnline, ...(accessToken ? { accessToken } : {}) });

describe('offlineAccessToken', () => {
  it('reads the token of the shop’s offline session as Shopify’s library stores it', async () => {
    const shop = 'tokens-a.myshopify.com';
    expect(offlineSessionId('Tokens-A.myshopify.com')).toBe(`offline_${shop}`);
    await storage.storeSession(session(`offline_${shop}`, shop, 'shpat_offline'));
    // An online (per-user) session of the same shop is not the app's own token.
    await storage.storeSession(session(`${shop}_42`, shop, 'shpua_online', true));
    expect(await offlineAccessToken(handle.db, shop)).toBe('shpat_offline');
  });

  it('has none for another shop, a session without a token, or after uninstall', async () => {
    const other = 'tokens-b.myshopify.com';
    expect(await offlineAccessToken(handle.db, other)).toBeUndefined();
    await storage.storeSession(session(`offline_${other}`, other, undefined));
    expect(await offlineAccessToken(handle.db, other)).toBeUndefined();
    const shop = 'tokens-c.myshopify.com';
    await storage.storeSession(session(`offline_${shop}`, shop, 'shpat_c'));
    await deleteShopSessions(handle.db, shop);
    expect(await offlineAccessToken(handle.db, shop)).toBeUndefined();
  });

  it('refuses a shop that is not a myshopify domain', async () => {
    await expect(offlineAccessToken(handle.db, 'example.com')).rejects.toMatchObject({
      code: 'VALIDATION',
    });
  });
});

/**
 * A shop's offline session stored as the app stores it when the shop installs (through
 * ProcessSessionStorage into the `session` table), for tests that need an installed shop's token.
 */
import { Session } from '@shopify/shopify-api';
import { ProcessSessionStorage } from '../../app/session-storage.server';
import type { Database } from '../../db/client.server';

export async function storeOfflineSession(
  db: Database,
  shop: string,
  accessToken: string,
): Promise<void> {
  await new ProcessSessionStorage({ database: async () => db, cacheTtlMs: 0 }).storeSession(
    new Session({
      id: `offline_${shop}`,
      shop,
      state: 'installed',
      isOnline: false,
      accessToken,
    }),
  );
}

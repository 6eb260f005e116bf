/**
 * Shopify sessions as the workers need them. The web process stores them through Shopify's library
 * (app/session-storage.server.ts); the offline session of a shop — id `offline_<shop>`, the
 * library's own naming — holds the token the app uses without a merchant present.
 */
import { eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { sessions } from '../../db/schema';
import { normalizeShopDomain } from './shops.server';

/** The library's id of a shop's offline session. */
export function offlineSessionId(shop: string): string {
  return `offline_${normalizeShopDomain(shop)}`;
}

/**
 * The shop's offline access token, or undefined when there is none: never installed, uninstalled
 * (app/uninstalled deletes the sessions), or a session stored without a token (the library writes
 * an empty string for none).
 */
export async function offlineAccessToken(db: Executor, shop: string): Promise<string | undefined> {
  const [row] = await db
    .select({ accessToken: sessions.accessToken })
    .from(sessions)
    .where(eq(sessions.id, offlineSessionId(shop)));
  const token = row?.accessToken?.trim();
  return token ? token : undefined;
}

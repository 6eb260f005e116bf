/**
 * What the redeem tests over HTTP share: the built web server as a child process on the test's own
 * PostgreSQL database, its Admin API calls going to the emulator in this process, an installed shop
 * (offline session, token the emulator accepts), members who exist in both, and signed storefront
 * requests to /proxy/… exactly as Shopify's app proxy sends them.
 *
 *   const stack = await openRedeemStack();
 *   const member = await stack.member(1200);              // Laurel and emulator customer, 1,200 points
 *   const answer = await stack.redeem(member, { rewardId: '12', requestId: 'abc…' });
 *   await stack.close();
 */
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { ensureCustomer } from '../../app/models/customers.server';
import { balanceOf, post, sumOfEntries } from '../../app/models/ledger.server';
import { createReward } from '../../app/models/rewards.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import { ledgerEntries } from '../../db/schema';
import { startAdminEmulator, type AdminEmulator } from '../../dev/emulator/server';
import { ensureAppBuilt, startAppProcess, type AppProcess } from '../helpers/app-server';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { storeOfflineSession } from '../helpers/sessions';
import { signedProxyQuery, STOREFRONT_ENV } from '../helpers/storefront';

export interface Member {
  /** Laurel's customer id. */
  id: number;
  /** Shopify's customer id (the emulator's), as logged_in_customer_id carries it. */
  shopifyId: string;
  gid: string;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & {
    error?: { code: string; message: string };
    redemption?: {
      id: string;
      code: string | null;
      status: string;
      points: number;
      expiresAt: string | null;
      value: Record<string, unknown>;
    };
    balance?: number | null;
  };
}

export interface RedeemStack {
  db: TestDatabase;
  shop: Shop;
  emulator: AdminEmulator;
  app: AppProcess;
  /** A customer in the emulator and in Laurel, holding `points` (an adjustment). */
  member(points: number): Promise<Member>;
  reward(definition: Record<string, unknown>): Promise<number>;
  /** POST /proxy/redeem as the shopper (or logged out with `member` null). */
  redeem(
    member: Member | null,
    body: unknown,
    init?: { headers?: Record<string, string>; rawBody?: string; query?: Record<string, string> },
  ): Promise<Answer>;
  /** A signed request to `/proxy/<path>` with any method. */
  call(
    path: string,
    member: Member | null,
    init?: { method?: string; headers?: Record<string, string>; body?: string; shop?: string },
  ): Promise<Answer>;
  /** The projection and the sum of entries, which must agree. */
  balances(member: Member): Promise<{ projection: number; entries: number; lifetime: number }>;
  entries(member: Member): Promise<(typeof ledgerEntries.$inferSelect)[]>;
  close(): Promise<void>;
}

export const REDEEM_SHOP = `laurel-redeem-${randomUUID().slice(0, 6)}.myshopify.com`;

export async function openRedeemStack(): Promise<RedeemStack> {
  await ensureAppBuilt();
  const db = await createTestDatabase('postgres');
  const emulator = await startAdminEmulator({ nodeEnv: 'test', accessTokens: {} });
  let app: AppProcess | undefined;
  try {
    const shop = await ensureShop(db.db, { domain: REDEEM_SHOP, currency: 'USD' });
    emulator.state.shop(REDEEM_SHOP, { currencyCode: 'USD' });
    const token = `shpat_${randomUUID().replaceAll('-', '')}`;
    emulator.setAccessToken(REDEEM_SHOP, token);
    await storeOfflineSession(db.db, REDEEM_SHOP, token);
    app = await startAppProcess({
      env: {
        NODE_ENV: 'test',
        DATABASE_URL: db.url,
        QUEUE_PREFIX: `test-${randomUUID()}`,
        ADMIN_API_ENDPOINT: emulator.endpointTemplate,
        SHOPIFY_API_SECRET: STOREFRONT_ENV.SHOPIFY_API_SECRET,
        LOG_LEVEL: 'warn',
      },
    });
    const started = app;

    async function call(
      path: string,
      member: Member | null,
      init: {
        method?: string;
        headers?: Record<string, string>;
        body?: string;
        shop?: string;
      } = {},
    ): Promise<Answer> {
      const query = signedProxyQuery(
        { logged_in_customer_id: member?.shopifyId ?? '' },
        { shop: init.shop ?? REDEEM_SHOP },
      );
      const response = await fetch(`${started.url}/proxy/${path}?${query}`, {
        method: init.method ?? 'GET',
        headers: init.headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
      });
      const text = await response.text();
      let body: Answer['body'];
      try {
        body = JSON.parse(text) as Answer['body'];
      } catch {
        throw new Error(`/proxy/${path} answered ${response.status} with non-JSON: ${text}`);
      }
      return { status: response.status, headers: response.headers, body };
    }

    return {
      db,
      shop,
      emulator,
      app,
      async member(points) {
        const gid = emulator.state.addCustomer(REDEEM_SHOP, { firstName: 'Ada' });
        const shopifyId = gid.split('/').at(-1)!;
        const customer = await ensureCustomer(db.db, shop.id, { externalId: shopifyId });
        if (points > 0) {
          await post(db.db, shop.id, {
            customerId: customer.id,
            idempotencyKey: `adjustment:seed:${customer.id}`,
            source: 'adjustment',
            points,
            occurredAt: new Date('2026-01-01T00:00:00Z'),
            inputs: { reason: 'seed' },
          });
        }
        return { id: customer.id, shopifyId, gid };
      },
      async reward(definition) {
        return (await createReward(db.db, shop.id, definition)).id;
      },
      redeem(member, body, init = {}) {
        return call('redeem', member, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...init.headers },
          body: init.rawBody ?? JSON.stringify(body),
        });
      },
      call,
      async balances(member) {
        const projection = await balanceOf(db.db, shop.id, member.id);
        const entries = await sumOfEntries(db.db, shop.id, member.id);
        return {
          projection: projection.balance,
          entries: entries.balance,
          lifetime: projection.lifetimeEarned,
        };
      },
      entries(member) {
        return db.db
          .select()
          .from(ledgerEntries)
          .where(and(eq(ledgerEntries.shopId, shop.id), eq(ledgerEntries.customerId, member.id)))
          .orderBy(ledgerEntries.id);
      },
      async close() {
        await started.stop().catch(() => undefined);
        await emulator.close();
        await db.close();
      },
    };
  } catch (error) {
    await app?.stop().catch(() => undefined);
    await emulator.close();
    await db.close();
    throw error;
  }
}

export const requestId = () => `t-${randomUUID()}`;

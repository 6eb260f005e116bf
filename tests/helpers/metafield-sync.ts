/**
 * The metafield sync tests' shared set-up: a PostgreSQL database of the test file's own and an
 * Admin API emulator with the metafield definitions of shopify.app.toml, started before the file's
 * tests and closed after, with the shops, members and ledger entries a sync run reads.
 *
 *   const { db, emulator, installedShop, member, earn, sync } = useMetafieldSyncFixture();
 *   const shop = await installedShop();
 *   const ada = await member(shop);
 *   await post(db(), shop.id, earn(ada.customer.id, 10));
 *   expect(await sync(shop)).toMatchObject({ written: 1 });
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import {
  syncShopMetafields,
  type MetafieldSyncOptions,
  type MetafieldSyncResult,
} from '../../app/metafield-sync.server';
import { ensureCustomer, type Customer } from '../../app/models/customers.server';
import { post, type LedgerEntryInput } from '../../app/models/ledger.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop, type Shop } from '../../app/models/shops.server';
import type { TierProgramVersion } from '../../app/models/tiers.server';
import type { Database } from '../../db/client.server';
import {
  startAdminEmulator,
  type AdminEmulator,
  type EmulatorRequest,
} from '../../dev/emulator/server';
import { referenceProgram } from '../../loyalty/program';
import { createTestDatabase, type TestDatabase } from './db';
import { storeOfflineSession } from './sessions';
import { seedTierProgram, setMemberTier } from './tiers';

export interface CapturedLog {
  log: pino.Logger;
  lines: { level: number; msg: string; [key: string]: unknown }[];
  /** The lines' messages, in order. */
  messages(): string[];
}

export interface ShopifyTier {
  tier: string | undefined;
  /** The tier_status metafield's JSON. */
  status: unknown;
  tags: string[];
}

export interface MetafieldSyncFixture {
  /** The test file's database (open between its beforeAll and afterAll). */
  db(): Database;
  /** The Admin API emulator: Shopify's side of every run. */
  emulator(): AdminEmulator;
  /** A logger whose lines the test can read. */
  capture(): CapturedLog;
  /**
   * A new shop `sync-<random>.myshopify.com` whose token the emulator accepts: with an offline
   * session holding it unless `token: false`, on the reference program unless `program: false`.
   */
  installedShop(options?: { token?: boolean; program?: boolean }): Promise<Shop>;
  /** A customer in Shopify (the emulator) and in Laurel, under the same id. */
  member(
    shop: Shop,
    options?: { inShopify?: boolean },
  ): Promise<{ gid: string; customer: Customer }>;
  /** A ledger entry with an idempotency key no other entry of the file has. */
  earn(customerId: number, points: number, source?: string): LedgerEntryInput;
  /** One sync run of `shop` against the emulator, silent and with short retry delays. */
  sync(shop: Shop, extra?: Partial<MetafieldSyncOptions>): Promise<MetafieldSyncResult>;
  /** The member's points metafields as Shopify holds them: [balance, lifetime] (undefined: none). */
  shopifyPoints(shop: Shop, gid: string): (string | undefined)[];
  /** The shop's metafieldsSet requests Shopify executed. */
  setCalls(shop: Shop): EmulatorRequest[];
  /** A shop with the four demo tiers in force. */
  tieredShop(): Promise<{ shop: Shop; tiers: TierProgramVersion }>;
  /**
   * Places the member in a tier and posts the ledger entry that says so, in one transaction, as
   * the evaluation does: the entry marks the member pending.
   */
  changeTier(shop: Shop, customerId: number, tierKey: string | null, value: number): Promise<void>;
  /** The member's tier, tier status (parsed) and tags as Shopify holds them (undefined: none). */
  shopifyTier(shop: Shop, gid: string): ShopifyTier;
}

export function useMetafieldSyncFixture(): MetafieldSyncFixture {
  let handle: TestDatabase | undefined;
  let started: AdminEmulator | undefined;
  beforeAll(async () => {
    handle = await createTestDatabase('postgres');
    // The shops as `shopify app deploy` leaves them: the metafield definitions of shopify.app.toml.
    // An empty token map makes the emulator check tokens; installedShop sets each shop's.
    started = await startAdminEmulator({ accessTokens: {}, appConfig: 'shopify.app.toml' });
  });
  afterAll(async () => {
    await started?.close();
    await handle?.close();
  });
  const db = (): Database => {
    if (!handle)
      throw new Error('the metafield sync fixture is used outside its test file’s hooks');
    return handle.db;
  };
  const emulator = (): AdminEmulator => {
    if (!started)
      throw new Error('the metafield sync fixture is used outside its test file’s hooks');
    return started;
  };
  const installedShop: MetafieldSyncFixture['installedShop'] = async (options = {}) => {
    const shop = await ensureShop(db(), {
      domain: `sync-${randomUUID().slice(0, 8)}.myshopify.com`,
    });
    const token = `shpat_${randomUUID().replaceAll('-', '')}`;
    emulator().setAccessToken(shop.domain, token);
    if (options.token !== false) {
      await storeOfflineSession(db(), shop.domain, token);
    }
    if (options.program !== false) {
      await publishProgram(db(), shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
    }
    return shop;
  };
  // One counter for earn and changeTier, so their idempotency keys never meet within a shop.
  let keys = 0;

  return {
    db,
    emulator,
    capture() {
      const lines: CapturedLog['lines'] = [];
      const log = pino(
        { level: 'debug' },
        { write: (line: string) => lines.push(JSON.parse(line)) },
      );
      return { log, lines, messages: () => lines.map((l) => l.msg) };
    },
    installedShop,
    async member(shop, options = {}) {
      const gid =
        options.inShopify === false
          ? `gid://shopify/Customer/${9_000_000_000 + Math.floor(Math.random() * 1e6)}`
          : emulator().state.addCustomer(shop.domain, { firstName: 'Ada' });
      const customer = await ensureCustomer(db(), shop.id, { externalId: gid.split('/').pop()! });
      return { gid, customer };
    },
    earn(customerId, points, source = 'order') {
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
    },
    sync(shop, extra = {}) {
      return syncShopMetafields({
        db: db(),
        shop: shop.domain,
        log: pino({ level: 'silent' }),
        endpoint: emulator().endpointTemplate,
        client: { baseDelayMs: 1, maxDelayMs: 5 },
        ...extra,
      });
    },
    shopifyPoints(shop, gid) {
      const fields = emulator().state.metafields(shop.domain, gid);
      const value = (key: string) => fields.find((f) => f.key === key)?.value;
      return [value('points_balance'), value('lifetime_points')];
    },
    setCalls(shop) {
      return emulator().requests.filter(
        (r) =>
          r.shop === shop.domain && r.operationName === 'MetafieldsSet' && r.outcome === 'executed',
      );
    },
    async tieredShop() {
      const shop = await installedShop();
      const tiers = await seedTierProgram(db(), shop.id);
      return { shop, tiers };
    },
    async changeTier(shop, customerId, tierKey, value) {
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
    },
    shopifyTier(shop, gid) {
      const fields = emulator().state.metafields(shop.domain, gid);
      const value = (key: string) => fields.find((f) => f.key === key)?.value;
      const status = value('tier_status');
      return {
        tier: value('tier'),
        status: status === undefined ? undefined : JSON.parse(status),
        tags: emulator()
          .state.store(shop.domain)
          .customers.get(Number(gid.split('/').pop()))!.tags,
      };
    },
  };
}

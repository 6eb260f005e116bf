/**
 * Handler tests through the inbox as the worker runs it: a PostgreSQL database of the test file's
 * own, shops on the reference program, and deliveries recorded like ingest records them (the body
 * as JSON text off the wire) and processed with processInbox.
 *
 *   const handle = useInboxHarness();          // beforeAll / afterAll registered here
 *   const shop = await handle.newShop('claims');
 *   const { inboxId, outcome } = await handle.deliver(shop, 'orders/paid', payload);
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { recordDelivery } from '../../app/models/inbox.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop, type Shop, type ShopInput } from '../../app/models/shops.server';
import type { Database } from '../../db/client.server';
import { referenceProgram } from '../../loyalty/program';
import { processInbox, type ProcessOutcome } from '../../workers/process-inbox';
import { createTestDatabase, type TestDatabase } from './db';

export interface InboxHarness {
  /** The test file's database (open between its beforeAll and afterAll). */
  readonly db: Database;
  /** A new shop `<prefix>-<random>.myshopify.com` on the reference program from 2026-01-01. */
  newShop(prefix: string, fields?: Omit<ShopInput, 'domain'>): Promise<Shop>;
  /** Records a delivery (a fresh webhook id) and returns its inbox id, unprocessed. */
  record(shop: Shop, topic: string, payload: unknown): Promise<number>;
  /** Records and processes a delivery; throws what processing throws. */
  deliver(
    shop: Shop,
    topic: string,
    payload: unknown,
  ): Promise<{ inboxId: number; outcome: ProcessOutcome }>;
}

const log = pino({ level: 'silent' });

export function useInboxHarness(): InboxHarness {
  let handle: TestDatabase | undefined;
  beforeAll(async () => {
    handle = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await handle?.close();
  });
  const db = (): Database => {
    if (!handle) throw new Error('the inbox harness is used outside its test file’s hooks');
    return handle.db;
  };

  const harness: InboxHarness = {
    get db() {
      return db();
    },
    async newShop(prefix, fields = {}) {
      const shop = await ensureShop(db(), {
        ...fields,
        domain: `${prefix}-${randomUUID().slice(0, 8)}.myshopify.com`,
      });
      await publishProgram(db(), shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
      return shop;
    },
    async record(shop, topic, payload) {
      const { id } = await recordDelivery(db(), {
        shopDomain: shop.domain,
        webhookId: randomUUID(),
        topic,
        payload: JSON.parse(JSON.stringify(payload)) as unknown,
      });
      return id;
    },
    async deliver(shop, topic, payload) {
      const inboxId = await harness.record(shop, topic, payload);
      return { inboxId, outcome: await processInbox(db(), inboxId, log) };
    },
  };
  return harness;
}

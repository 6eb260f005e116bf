/**
 * The operator commands of the real `loyalty` bin: inbox status / dead letters / replay, and
 * customer data-request exports — on a PostgreSQL database and a Redis queue prefix of this test's own.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerDataRequests } from '../db/schema';
import {
  getInboxRow,
  markDead,
  markParked,
  recordDelivery,
  recordUnstorableDelivery,
} from '../app/models/inbox.server';
import { ensureShop } from '../app/models/shops.server';
import { createWebhookQueue } from '../app/queues/webhook-queue.server';
import { createTestDatabase, type TestDatabase } from './helpers/db';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'bin', 'loyalty.mjs');
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let database: TestDatabase;
let queue: Queue;
let env: NodeJS.ProcessEnv;
const prefix = `test-${randomUUID()}`;

beforeAll(async () => {
  database = await createTestDatabase('postgres');
  queue = createWebhookQueue({ redisUrl: REDIS_URL, prefix });
  env = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
  };
});

afterAll(async () => {
  await queue?.obliterate({ force: true });
  await queue?.close();
  await database?.close();
});

async function loyalty(...args: string[]) {
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('loyalty inbox', () => {
  it('shows counts and dead letters, and replays a dead letter onto the queue', async () => {
    const db = database.db;
    const { id: deadId } = await recordDelivery(db, {
      shopDomain: 'ops.myshopify.com',
      webhookId: randomUUID(),
      topic: 'orders/paid',
      payload: { id: 1 },
    });
    await markDead(db, deadId, 'invalid order payload: name is required');
    const { id: liveId } = await recordDelivery(db, {
      shopDomain: 'ops.myshopify.com',
      webhookId: randomUUID(),
      topic: 'orders/paid',
      payload: { id: 2 },
    });

    const { id: parkedId } = await recordDelivery(db, {
      shopDomain: 'ops-later.myshopify.com',
      webhookId: randomUUID(),
      topic: 'customers/create',
      payload: { id: 3 },
    });
    await markParked(db, parkedId, 'shop ops-later.myshopify.com is not installed yet');
    const { id: rawId } = await recordUnstorableDelivery(
      db,
      {
        shopDomain: 'ops.myshopify.com',
        webhookId: randomUUID(),
        topic: 'orders/paid',
        payload: null,
        payloadText: '{"id":4,"note":"a\\u0000b"}',
      },
      'the body cannot be stored as jsonb (22P05: unsupported Unicode escape sequence)',
    );

    const status = await loyalty('inbox', 'status');
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(lines(status.stdout)).toEqual([{ received: 1, processed: 0, dead: 2, parked: 1 }]);

    const dead = await loyalty('inbox', 'dead');
    expect(dead.code).toBe(0);
    const listed = lines(dead.stdout);
    expect(listed).toEqual([
      expect.objectContaining({
        id: deadId,
        status: 'dead',
        topic: 'orders/paid',
        shopDomain: 'ops.myshopify.com',
        lastError: 'invalid order payload: name is required',
        body: 'json',
      }),
      expect.objectContaining({
        id: parkedId,
        status: 'parked',
        lastError: 'shop ops-later.myshopify.com is not installed yet',
        body: 'json',
      }),
      expect.objectContaining({
        id: rawId,
        status: 'dead',
        lastError: expect.stringMatching(/cannot be stored as jsonb/),
        body: 'text',
      }),
    ]);
    for (const row of listed) {
      expect(row).not.toHaveProperty('payload');
      expect(row).not.toHaveProperty('payloadText');
    }

    const replay = await loyalty('inbox', 'replay', '--id', `${deadId},${liveId}`);
    expect(replay.code).toBe(0);
    expect(lines(replay.stdout)).toEqual([
      { id: deadId, replayed: true, topic: 'orders/paid', shop: 'ops.myshopify.com' },
      { id: liveId, replayed: false, reason: 'it is received, not dead or parked' },
    ]);
    expect((await getInboxRow(db, deadId))?.status).toBe('received');
    expect(await (await queue.getJob(`inbox-${deadId}`))?.getState()).toBe('waiting');
  });

  it('refuses bad usage with exit 2 and changes nothing', async () => {
    for (const args of [
      ['inbox'],
      ['inbox', 'explode'],
      ['inbox', 'replay'],
      ['inbox', 'replay', '--id', 'abc'],
      ['inbox', 'replay', '--id', '1', '--all-dead'],
      ['inbox', 'dead', '--limit', '0'],
    ]) {
      const result = await loyalty(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/loyalty inbox|Usage: loyalty inbox/);
    }
    const missing = await loyalty('inbox', 'replay', '--id', '999999');
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/no inbox row 999999/);
  });
});

describe('loyalty data-request', () => {
  it('lists and prints the stored exports; unknown ids exit 2', async () => {
    const shop = await ensureShop(database.db, { domain: 'exports.myshopify.com' });
    const exported = { format: 'laurel-customer-data/1', customers: [], orders: [] };
    await database.db
      .insert(customerDataRequests)
      .values({ shopId: shop.id, dataRequestId: '4242', export: exported });
    const list = await loyalty('data-request', '--shop', 'exports.myshopify.com');
    expect(list.code).toBe(0);
    expect(lines(list.stdout)).toEqual([{ dataRequestId: '4242', createdAt: expect.any(String) }]);
    const one = await loyalty('data-request', '--shop', 'exports.myshopify.com', '--id', '4242');
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual(exported);
    const unknown = await loyalty('data-request', '--shop', 'exports.myshopify.com', '--id', '1');
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/no data request '1'/);
    const noShop = await loyalty('data-request', '--shop', 'nobody.myshopify.com');
    expect(noShop.code).toBe(2);
  });
});

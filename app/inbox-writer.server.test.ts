import { eq, sql } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { PGlite } from '@electric-sql/pglite';
import type { Pool } from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/client.server';
import * as schema from '../db/schema';
import { webhookInbox } from '../db/schema';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import { closedPort } from '../tests/helpers/pipeline';
import { InboxWriter } from './inbox-writer.server';

const delivery = (webhookId: string, payload: unknown = { id: 1 }) => ({
  shopDomain: 'laurel-writer.myshopify.com',
  webhookId,
  topic: 'orders/paid',
  apiVersion: '2026-07',
  payload,
});

/** The test database again, through a drizzle instance that records every statement it sends. */
function withStatementLog(handle: TestDatabase): { db: Database; statements: string[] } {
  const statements: string[] = [];
  const logger = { logQuery: (query: string) => void statements.push(query) };
  const client = (handle.db as unknown as { $client: unknown }).$client;
  const db =
    handle.kind === 'postgres'
      ? drizzlePg(client as Pool, { schema, logger })
      : drizzlePglite(client as PGlite, { schema, logger });
  return { db: db as unknown as Database, statements };
}

/** The statements that touched the inbox table, by verb. */
function inboxStatements(statements: readonly string[]) {
  const touching = statements.filter((s) => s.includes('"webhook_inbox"'));
  return {
    inserts: touching.filter((s) => /^\s*insert/i.test(s)),
    selects: touching.filter((s) => /^\s*select/i.test(s)),
  };
}

describe.each(['postgres', 'pglite'] as const)('InboxWriter on %s', (kind) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase(kind);
  });
  afterEach(async () => {
    await db.close();
  });

  it('stores concurrent deliveries once each, sharing commits, repeats included', async () => {
    const writer = new InboxWriter({ database: async () => db.db, maxConcurrent: 2 });
    const ids = Array.from({ length: 120 }, (_, i) => `w-${i % 100}`);
    const stored = await Promise.all(ids.map((id) => writer.write(delivery(id))));
    const rows = await db.db.select().from(webhookInbox);
    expect(rows).toHaveLength(100);
    expect(stored.filter((s) => s.created)).toHaveLength(100);
    // Every request for one webhook id learns the same row.
    const byWebhook = new Map<string, Set<number>>();
    ids.forEach((id, i) => byWebhook.set(id, (byWebhook.get(id) ?? new Set()).add(stored[i]!.id)));
    expect([...byWebhook.values()].every((set) => set.size === 1)).toBe(true);
  });

  it('writes a batch as one INSERT, plus one SELECT for repeats, whatever its size', async () => {
    const logged = withStatementLog(db);
    const writer = new InboxWriter({ database: async () => logged.db, maxConcurrent: 1 });
    // Submitted in one tick: one batch.
    const first = await Promise.all(
      Array.from({ length: 5 }, (_, i) => writer.write(delivery(`a-${i}`))),
    );
    expect(first.every((s) => s.created)).toBe(true);
    const small = inboxStatements(logged.statements);
    expect(small.inserts).toHaveLength(1);
    expect(small.selects).toHaveLength(0);

    logged.statements.length = 0;
    // 40 deliveries: 3 repeats of rows already stored, one webhook id twice in the batch.
    const ids = [...Array.from({ length: 36 }, (_, i) => `b-${i}`), 'a-0', 'a-3', 'a-4', 'b-7'];
    const second = await Promise.all(ids.map((id) => writer.write(delivery(id))));
    const large = inboxStatements(logged.statements);
    expect(large.inserts).toHaveLength(1);
    expect(large.selects).toHaveLength(1);
    // Fixed statement text: prepared once, whatever the batch size.
    expect(large.inserts[0]).toBe(small.inserts[0]);
    expect(second.map((s) => s.created)).toEqual([
      ...Array.from({ length: 36 }, () => true),
      false,
      false,
      false,
      false,
    ]);
    expect(second.slice(36, 39).map((s) => s.id)).toEqual([
      first[0]!.id,
      first[3]!.id,
      first[4]!.id,
    ]);
    expect(second[39]!.id).toBe(second[7]!.id);
    expect(await db.db.$count(webhookInbox)).toBe(41);
  });

  it('stores a webhook id twice in one batch once: both learn its id, the first is the new one', async () => {
    const writer = new InboxWriter({ database: async () => db.db, maxConcurrent: 1 });
    const stored = await Promise.all([
      writer.write(delivery('twice', { copy: 1 })),
      writer.write(delivery('other')),
      writer.write(delivery('twice', { copy: 2 })),
    ]);
    expect(stored.map((s) => s.created)).toEqual([true, true, false]);
    expect(stored[2]!.id).toBe(stored[0]!.id);
    const rows = await db.db.select().from(webhookInbox).orderBy(webhookInbox.webhookId);
    expect(rows.map((r) => [r.webhookId, r.payload])).toEqual([
      ['other', { id: 1 }],
      ['twice', { copy: 1 }],
    ]);
  });

  it('inserts a batch in (shop, webhook id) order and stores each body as received', async () => {
    const writer = new InboxWriter({ database: async () => db.db, maxConcurrent: 1 });
    const text = (n: number) => `{"n": ${n}, "big": 12345678901234567890.50, "s": "\\u00e9"}`;
    const batch = [
      { shop: 'b.myshopify.com', webhookId: 'w-1' },
      { shop: 'a.myshopify.com', webhookId: 'w-2' },
      { shop: 'b.myshopify.com', webhookId: 'w-0' },
      { shop: 'a.myshopify.com', webhookId: 'w-1' },
    ];
    await Promise.all(
      batch.map(({ shop, webhookId }, n) =>
        writer.write({
          ...delivery(webhookId),
          shopDomain: shop,
          payload: JSON.parse(text(n)) as unknown,
          payloadText: text(n),
        }),
      ),
    );
    const rows = await db.db.select().from(webhookInbox).orderBy(webhookInbox.id);
    expect(rows.map((r) => `${r.shopDomain} ${r.webhookId}`)).toEqual([
      'a.myshopify.com w-1',
      'a.myshopify.com w-2',
      'b.myshopify.com w-0',
      'b.myshopify.com w-1',
    ]);
    // PostgreSQL's parse of the text, not of a re-encoding (which would round the number).
    const [{ big }] = (await db.db
      .select({ big: sql<string>`${webhookInbox.payload}->>'big'` })
      .from(webhookInbox)
      .where(eq(webhookInbox.webhookId, 'w-2'))) as [{ big: string }];
    expect(big).toBe('12345678901234567890.50');
    expect(rows[1]).toMatchObject({ payload: { n: 1, s: 'é' }, payloadText: null });
  });

  it('keeps a body jsonb refuses as a dead letter in text, without failing its batch', async () => {
    const writer = new InboxWriter({ database: async () => db.db, maxConcurrent: 1 });
    const bad = delivery('bad', { note: 'nul \u0000 byte' });
    const results = await Promise.all([
      writer.write(delivery('first')),
      writer.write(delivery('good-1')),
      writer.write({ ...bad, payloadText: JSON.stringify(bad.payload) }),
      writer.write(delivery('good-2')),
    ]);
    expect(results.map((r) => [r.created, r.deadLetter])).toEqual([
      [true, false],
      [true, false],
      [true, true],
      [true, false],
    ]);
    const rows = await db.db.select().from(webhookInbox).orderBy(webhookInbox.webhookId);
    expect(rows.map((r) => [r.webhookId, r.status])).toEqual([
      ['bad', 'dead'],
      ['first', 'received'],
      ['good-1', 'received'],
      ['good-2', 'received'],
    ]);
    expect(rows[0]).toMatchObject({ payload: null, payloadText: '{"note":"nul \\u0000 byte"}' });
    expect(rows[0]!.lastError).toMatch(/^the body cannot be stored as jsonb/);
    expect(rows[0]!.lastError).not.toContain('nul');
    // A repeat is a duplicate of that row.
    expect(await writer.write({ ...bad, payloadText: JSON.stringify(bad.payload) })).toMatchObject({
      id: results[2]!.id,
      created: false,
      deadLetter: true,
    });
  });

  it("hands each commit's new rows to the queue once, without repeats or dead letters", async () => {
    const calls: { id: number; shopDomain: string; topic: string }[][] = [];
    const writer = new InboxWriter({
      database: async () => db.db,
      maxConcurrent: 1,
      enqueue: async (rows) => {
        calls.push(rows);
        return true;
      },
    });
    const [old] = await Promise.all([writer.write(delivery('old'))]);
    expect(await old!.enqueued).toBe(true);
    calls.length = 0;

    const bad = delivery('bad', { note: 'nul \u0000 byte' });
    // One tick: one batch (jsonb refuses one body, so the batch is stored row by row).
    const results = await Promise.all([
      writer.write(delivery('n-1')),
      writer.write(delivery('old')),
      writer.write({ ...bad, payloadText: JSON.stringify(bad.payload) }),
      writer.write(delivery('n-2')),
    ]);
    expect(await Promise.all(results.map((r) => r.enqueued))).toEqual([true, false, false, true]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((row) => row.id).sort()).toEqual([results[0]!.id, results[3]!.id].sort());
    expect(calls[0]!.every((row) => row.topic === 'orders/paid')).toBe(true);
    expect(calls[0]!.every((row) => row.shopDomain === 'laurel-writer.myshopify.com')).toBe(true);

    // A batch stored in one statement: one call for all its new rows.
    calls.length = 0;
    const batch = await Promise.all(
      Array.from({ length: 6 }, (_, i) => writer.write(delivery(`m-${i}`))),
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]!.map((row) => row.id)).toEqual(expect.arrayContaining(batch.map((b) => b.id)));
  });

  it('answers with the stored row even when the queue refuses, saying it was not enqueued', async () => {
    const writer = new InboxWriter({
      database: async () => db.db,
      enqueue: () => Promise.reject(new Error('Redis is down')),
    });
    const stored = await writer.write(delivery('redis-down'));
    expect(stored.created).toBe(true);
    expect(await stored.enqueued).toBe(false);
    const rows = await db.db.select().from(webhookInbox);
    expect(rows.map((r) => r.webhookId)).toEqual(['redis-down']);
  });
});

it('rejects every waiting delivery when the database cannot be reached', async () => {
  const handle = await openDatabase({
    url: `postgresql://postgres@127.0.0.1:${await closedPort()}/none`,
    max: 1,
  });
  try {
    const writer = new InboxWriter({ database: async () => handle.db, maxConcurrent: 1 });
    const results = await Promise.allSettled([1, 2, 3].map((i) => writer.write(delivery(`d${i}`))));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
  } finally {
    await handle.close();
  }
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/client.server';
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
    expect(await writer.write({ ...bad, payloadText: JSON.stringify(bad.payload) })).toEqual({
      id: results[2]!.id,
      created: false,
      deadLetter: true,
    });
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

import { randomUUID } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../db/client.server';
import { customers } from '../../db/schema';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { ErrorCode } from '../errors';
import {
  ensureCustomer,
  ensureCustomers,
  findCustomerByExternalId,
  findCustomersByEmail,
  getCustomer,
  redactCustomer,
} from './customers.server';
import { balanceOf, entriesFor, post } from './ledger.server';
import { ensureShop } from './shops.server';

const newShop = (db: Executor) =>
  ensureShop(db, { domain: `cust-${randomUUID().slice(0, 8)}.myshopify.com` });

async function customerCount(db: Executor, shopId: number): Promise<number> {
  const [row] = await db.select({ n: count() }).from(customers).where(eq(customers.shopId, shopId));
  return row!.n;
}

describe.each(['postgres', 'pglite'] as const)('customers on %s', (kind) => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('creates, then updates given fields, keeps omitted ones and clears with null', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    const created = await ensureCustomer(db, shop.id, {
      externalId: '7001',
      email: '  Ann@Example.COM ',
      firstName: 'Ann',
      birthday: '1990-02-28',
    });
    expect(created).toMatchObject({
      externalId: '7001',
      email: 'ann@example.com',
      firstName: 'Ann',
      lastName: null,
      birthday: '1990-02-28',
    });
    const updated = await ensureCustomer(db, shop.id, {
      externalId: '7001',
      lastName: 'Lee',
      firstName: null,
    });
    expect(updated).toMatchObject({
      id: created.id,
      email: 'ann@example.com',
      firstName: null,
      lastName: 'Lee',
      birthday: '1990-02-28',
    });
    expect(await findCustomerByExternalId(db, shop.id, '7001')).toEqual(updated);
    expect(await getCustomer(db, shop.id, created.id)).toEqual(updated);
  });

  it('survives concurrent ensures of the same customer with one row', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ensureCustomer(db, shop.id, { externalId: 'c-1', email: `v${i}@example.com` }),
      ),
    );
    expect(new Set(results.map((c) => c.id)).size).toBe(1);
    expect(await customerCount(db, shop.id)).toBe(1);
  });

  it('keeps the same external id apart in different shops', async () => {
    const { db } = handle;
    const [a, b] = [await newShop(db), await newShop(db)];
    const ca = await ensureCustomer(db, a.id, { externalId: '1', email: 'same@example.com' });
    const cb = await ensureCustomer(db, b.id, { externalId: '1', email: 'same@example.com' });
    expect(ca.id).not.toBe(cb.id);
    expect((await findCustomersByEmail(db, a.id, 'SAME@example.com')).map((c) => c.id)).toEqual([
      ca.id,
    ]);
    expect(await getCustomer(db, a.id, cb.id)).toBeUndefined();
    expect(await findCustomersByEmail(db, a.id, '  ')).toEqual([]);
  });

  it.each([
    ['an empty external id', { externalId: '' }, /customer externalId must be non-empty/],
    [
      'an impossible birthday',
      { externalId: 'x', birthday: '1990-02-30' },
      /customer birthday "1990-02-30" is not a calendar day/,
    ],
    [
      'a non-text email',
      { externalId: 'x', email: 42 as unknown as string },
      /customer email must be text/,
    ],
  ])('rejects %s with VALIDATION', async (_case, input, message) => {
    const { db } = handle;
    const shop = await newShop(db);
    const attempt = ensureCustomer(db, shop.id, input);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toMatchObject({ code: ErrorCode.VALIDATION });
    expect(await customerCount(db, shop.id)).toBe(0);
  });

  it('bulk-ensures across chunks (5,000 rows), merging repeats and keeping existing ids and fields', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    const existing = await ensureCustomer(db, shop.id, {
      externalId: 'c00042',
      email: 'keep@example.com',
      firstName: 'Kay',
    });
    const inputs = Array.from({ length: 6_000 }, (_, i) => ({
      externalId: `c${String(i % 5_500).padStart(5, '0')}`,
    }));
    inputs.push({ externalId: 'c00001', email: 'one@example.com' } as { externalId: string });
    const ids = await ensureCustomers(db, shop.id, inputs);
    expect(ids.size).toBe(5_500);
    expect(ids.get('c00042')).toBe(existing.id);
    expect(await customerCount(db, shop.id)).toBe(5_500);
    // Missing fields in a bulk row never clear stored ones.
    expect(await findCustomerByExternalId(db, shop.id, 'c00042')).toMatchObject({
      email: 'keep@example.com',
      firstName: 'Kay',
    });
    expect(await findCustomerByExternalId(db, shop.id, 'c00001')).toMatchObject({
      email: 'one@example.com',
    });
    const again = await ensureCustomers(db, shop.id, [
      { externalId: 'c00001' },
      { externalId: 'new' },
    ]);
    expect(again.get('c00001')).toBe(ids.get('c00001'));
    expect(await customerCount(db, shop.id)).toBe(5_501);
  });

  it('redacts personal data but keeps the ledger and balance', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    const c = await ensureCustomer(db, shop.id, {
      externalId: '9',
      email: 'gone@example.com',
      firstName: 'Gone',
      lastName: 'Soon',
      birthday: '1985-06-01',
    });
    await post(db, shop.id, {
      customerId: c.id,
      idempotencyKey: 'order:1:earn',
      source: 'order',
      points: 90,
      occurredAt: new Date('2026-01-02T00:00:00Z'),
      inputs: { amountMinor: 12000 },
    });
    const redacted = await redactCustomer(db, shop.id, c.id);
    expect(redacted).toMatchObject({
      id: c.id,
      externalId: '9',
      email: null,
      firstName: null,
      lastName: null,
      birthday: null,
    });
    expect(redacted!.redactedAt).toBeInstanceOf(Date);
    expect(await balanceOf(db, shop.id, c.id)).toEqual({ balance: 90, lifetimeEarned: 90 });
    expect(await entriesFor(db, shop.id, c.id)).toHaveLength(1);
    expect(await findCustomersByEmail(db, shop.id, 'gone@example.com')).toEqual([]);
    // A late webhook must not bring personal data back; a repeat keeps the first redaction time.
    const late = await ensureCustomer(db, shop.id, {
      externalId: '9',
      email: 'gone@example.com',
      firstName: 'Gone',
    });
    expect(late).toMatchObject({ email: null, firstName: null });
    await ensureCustomers(db, shop.id, [{ externalId: '9', email: 'gone@example.com' }]);
    const again = await redactCustomer(db, shop.id, c.id);
    expect(again).toMatchObject({ email: null });
    expect(again!.redactedAt!.getTime()).toBe(redacted!.redactedAt!.getTime());
    const other = await newShop(db);
    expect(await redactCustomer(db, other.id, c.id)).toBeUndefined();
  });
});

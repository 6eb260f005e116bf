import { randomUUID } from 'node:crypto';
import { and, count, eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerBalances, ledgerEntries } from '../../db/schema';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { AppError, ErrorCode } from '../errors';
import { ensureCustomer } from './customers.server';
import {
  balanceOf,
  entriesFor,
  findEntryByKey,
  post,
  postMany,
  sumOfEntries,
  type LedgerEntryInput,
  type LedgerSource,
} from './ledger.server';
import { ensureShop } from './shops.server';
import type { Executor } from '../../db/client.server';

/** Each test works in a shop of its own; the models never read across shops. */
async function newShop(db: Executor) {
  return ensureShop(db, { domain: `ledger-${randomUUID().slice(0, 8)}.myshopify.com` });
}

async function newCustomer(db: Executor, shopId: number, externalId: string = randomUUID()) {
  return ensureCustomer(db, shopId, { externalId });
}

function award(
  customerId: number,
  key: string,
  points: number,
  extra: Partial<LedgerEntryInput> = {},
): LedgerEntryInput {
  return {
    customerId,
    idempotencyKey: key,
    source: 'order',
    points,
    occurredAt: new Date('2026-01-15T10:00:00Z'),
    programVersion: 1,
    inputs: { amountMinor: points * 100, currency: 'USD', bands: [{ over: 0, points }] },
    subjectId: key.split(':')[1] ?? null,
    ...extra,
  };
}

async function rowCount(db: Executor, shopId: number): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.shopId, shopId));
  return row!.n;
}

async function expectAppError(
  promise: Promise<unknown>,
  code: ErrorCode,
  message?: RegExp,
): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  if (message) expect((error as AppError).message).toMatch(message);
  return error as AppError;
}

describe.each(['postgres', 'pglite'] as const)('ledger on %s', (kind) => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  describe('post', () => {
    it('creates the entry and counts it in the balance', async () => {
      const { db } = handle;
      const shop = await newShop(db);
      const customer = await newCustomer(db, shop.id);
      const { entry, created } = await post(db, shop.id, award(customer.id, 'order:1001:earn', 90));
      expect(created).toBe(true);
      expect(entry).toMatchObject({
        shopId: shop.id,
        customerId: customer.id,
        idempotencyKey: 'order:1001:earn',
        source: 'order',
        points: 90,
        programVersion: 1,
        subjectId: '1001',
        inputs: { amountMinor: 9000, currency: 'USD', bands: [{ over: 0, points: 90 }] },
      });
      expect(entry.occurredAt.toISOString()).toBe('2026-01-15T10:00:00.000Z');
      expect(await balanceOf(db, shop.id, customer.id)).toEqual({
        balance: 90,
        lifetimeEarned: 90,
      });
      // Stored as a JSON object, not a JSON string holding one (a known driver pitfall).
      const [stored] = await db
        .select({ type: sql<string>`jsonb_typeof(${ledgerEntries.inputs})` })
        .from(ledgerEntries)
        .where(eq(ledgerEntries.id, entry.id));
      expect(stored!.type).toBe('object');
    });

    it('returns the existing entry for a repeat with the same inputs, counting it once', async () => {
      const { db } = handle;
      const shop = await newShop(db);
      const customer = await newCustomer(db, shop.id);
      const first = await post(db, shop.id, award(customer.id, 'order:1:earn', 52));
      // Same inputs, keys in another order: canonically equal.
      const repeat = await post(db, shop.id, {
        ...award(customer.id, 'order:1:earn', 52),
        inputs: { bands: [{ points: 52, over: 0 }], currency: 'USD', amountMinor: 5200 },
      });
      expect(repeat.created).toBe(false);
      expect(repeat.entry.id).toBe(first.entry.id);
      expect(await rowCount(db, shop.id)).toBe(1);
      expect(await balanceOf(db, shop.id, customer.id)).toEqual({
        balance: 52,
        lifetimeEarned: 52,
      });
    });

    it.each([
      ['points', { points: 53 }, /points: 52 → 53/],
      ['inputs', { inputs: { amountMinor: 5201, currency: 'USD' } }, /inputs:/],
      ['occurredAt', { occurredAt: new Date('2026-01-15T10:00:01Z') }, /occurredAt/],
      ['programVersion', { programVersion: 2 }, /programVersion: 1 → 2/],
      ['source', { source: 'bonus' as LedgerSource }, /source: order → bonus/],
      ['subjectId', { subjectId: 'other' }, /subjectId/],
    ])(
      'refuses the same key with a different %s (IDEMPOTENCY_CONFLICT naming the key)',
      async (_field, change, detail) => {
        const { db } = handle;
        const shop = await newShop(db);
        const customer = await newCustomer(db, shop.id);
        await post(db, shop.id, award(customer.id, 'order:7:earn', 52));
        const error = await expectAppError(
          post(db, shop.id, { ...award(customer.id, 'order:7:earn', 52), ...change }),
          ErrorCode.IDEMPOTENCY_CONFLICT,
          /"order:7:earn"/,
        );
        expect(error.message).toMatch(detail);
        expect(await rowCount(db, shop.id)).toBe(1);
        expect(await balanceOf(db, shop.id, customer.id)).toEqual({
          balance: 52,
          lifetimeEarned: 52,
        });
      },
    );

    it('refuses the same key for another customer of the shop', async () => {
      const { db } = handle;
      const shop = await newShop(db);
      const ann = await newCustomer(db, shop.id);
      const bob = await newCustomer(db, shop.id);
      await post(db, shop.id, award(ann.id, 'order:8:earn', 10));
      await expectAppError(
        post(db, shop.id, award(bob.id, 'order:8:earn', 10)),
        ErrorCode.IDEMPOTENCY_CONFLICT,
        /customerId/,
      );
      expect(await balanceOf(db, shop.id, bob.id)).toEqual({ balance: 0, lifetimeEarned: 0 });
    });

    it('lets two shops use the same key independently', async () => {
      const { db } = handle;
      const [a, b] = [await newShop(db), await newShop(db)];
      const ca = await newCustomer(db, a.id, 'same');
      const cb = await newCustomer(db, b.id, 'same');
      expect((await post(db, a.id, award(ca.id, 'order:1:earn', 5))).created).toBe(true);
      expect((await post(db, b.id, award(cb.id, 'order:1:earn', 7))).created).toBe(true);
      expect(await balanceOf(db, a.id, ca.id)).toEqual({ balance: 5, lifetimeEarned: 5 });
      expect(await balanceOf(db, b.id, cb.id)).toEqual({ balance: 7, lifetimeEarned: 7 });
    });

    it('counts earning sources net of reversals in lifetimeEarned, but not redemption or expiry', async () => {
      const { db } = handle;
      const shop = await newShop(db);
      const c = await newCustomer(db, shop.id);
      const earn = await post(db, shop.id, award(c.id, 'order:1:earn', 100));
      await post(db, shop.id, {
        ...award(c.id, 'refund:9:reverse', -20),
        source: 'refund',
        reversesEntryId: earn.entry.id,
      });
      await post(db, shop.id, {
        ...award(c.id, 'bonus:birthday:2026', 15),
        source: 'bonus',
        programVersion: null,
      });
      await post(db, shop.id, {
        ...award(c.id, 'adjust:1', -5),
        source: 'adjustment',
        programVersion: null,
      });
      await post(db, shop.id, { ...award(c.id, 'redeem:1', -30), source: 'redemption' });
      await post(db, shop.id, { ...award(c.id, 'expire:1', -10), source: 'expiry' });
      const expected = { balance: 100 - 20 + 15 - 5 - 30 - 10, lifetimeEarned: 100 - 20 + 15 - 5 };
      expect(await balanceOf(db, shop.id, c.id)).toEqual(expected);
      expect(await sumOfEntries(db, shop.id, c.id)).toEqual(expected);
      expect((await entriesFor(db, shop.id, c.id)).map((e) => e.idempotencyKey)).toEqual([
        'order:1:earn',
        'refund:9:reverse',
        'bonus:birthday:2026',
        'adjust:1',
        'redeem:1',
        'expire:1',
      ]);
      expect((await findEntryByKey(db, shop.id, 'refund:9:reverse'))?.reversesEntryId).toBe(
        earn.entry.id,
      );
      expect(await findEntryByKey(db, shop.id, 'missing')).toBeUndefined();
    });

    it.each([
      ['fractional points', { points: 1.5 }, /points must be a whole number/],
      [
        'points beyond ±1e9',
        { points: 1_000_000_001 },
        /points must be a whole number within ±1000000000/,
      ],
      ['an empty key', { idempotencyKey: '' }, /idempotencyKey must be non-empty/],
      ['a key over 200 characters', { idempotencyKey: 'k'.repeat(201) }, /at most 200 characters/],
      [
        'an unknown source',
        { source: 'gift' as LedgerSource },
        /source "gift" is not one of order, refund/,
      ],
      ['an invalid date', { occurredAt: new Date('nope') }, /occurredAt must be a valid Date/],
      [
        'non-finite inputs',
        { inputs: { amountMinor: Number.NaN } },
        /inputs\.amountMinor must be a finite number/,
      ],
      ['a NUL in inputs', { inputs: { note: 'a\u0000b' } }, /inputs\.note contains a NUL/],
      [
        'array inputs',
        { inputs: [] as unknown as Record<string, unknown> },
        /inputs must be an object/,
      ],
      ['a zero program version', { programVersion: 0 }, /programVersion must be a positive/],
    ])('rejects %s with VALIDATION and writes nothing', async (_case, change, message) => {
      const { db } = handle;
      const shop = await newShop(db);
      const c = await newCustomer(db, shop.id);
      await expectAppError(
        post(db, shop.id, { ...award(c.id, 'order:1:earn', 10), ...change }),
        ErrorCode.VALIDATION,
        message,
      );
      expect(await rowCount(db, shop.id)).toBe(0);
    });

    it("refuses another shop's customer (NOT_FOUND) and writes nothing", async () => {
      const { db } = handle;
      const [mine, theirs] = [await newShop(db), await newShop(db)];
      const stranger = await newCustomer(db, theirs.id);
      await expectAppError(
        post(db, mine.id, award(stranger.id, 'order:1:earn', 10)),
        ErrorCode.NOT_FOUND,
        new RegExp(`customer ${stranger.id} is not a customer of shop ${mine.id}`),
      );
      expect(await rowCount(db, mine.id)).toBe(0);
      expect(await rowCount(db, theirs.id)).toBe(0);
    });

    it("refuses a reversal of a missing entry or of another customer's entry", async () => {
      const { db } = handle;
      const shop = await newShop(db);
      const [ann, bob] = [await newCustomer(db, shop.id), await newCustomer(db, shop.id)];
      const earn = await post(db, shop.id, award(ann.id, 'order:1:earn', 10));
      await expectAppError(
        post(db, shop.id, {
          ...award(bob.id, 'refund:1:reverse', -10),
          source: 'refund',
          reversesEntryId: earn.entry.id,
        }),
        ErrorCode.VALIDATION,
        new RegExp(`reverses entry ${earn.entry.id} of customer ${ann.id}`),
      );
      await expectAppError(
        post(db, shop.id, {
          ...award(ann.id, 'refund:2:reverse', -10),
          source: 'refund',
          reversesEntryId: earn.entry.id + 1_000_000,
        }),
        ErrorCode.NOT_FOUND,
        /does not have/,
      );
      expect(await rowCount(db, shop.id)).toBe(1);
    });

    it("joins the caller's transaction: rolled back together, and a conflict does not poison it", async () => {
      const { db } = handle;
      const shop = await newShop(db);
      const c = await newCustomer(db, shop.id);
      await post(db, shop.id, award(c.id, 'order:1:earn', 10));
      await expect(
        db.transaction(async (tx) => {
          await post(tx, shop.id, award(c.id, 'order:2:earn', 20));
          throw new Error('caller failed after posting');
        }),
      ).rejects.toThrow('caller failed after posting');
      expect(await findEntryByKey(db, shop.id, 'order:2:earn')).toBeUndefined();
      expect(await balanceOf(db, shop.id, c.id)).toEqual({ balance: 10, lifetimeEarned: 10 });

      await db.transaction(async (tx) => {
        await expectAppError(
          post(tx, shop.id, award(c.id, 'order:1:earn', 11)),
          ErrorCode.IDEMPOTENCY_CONFLICT,
        );
        // The failed post ran in a savepoint, so the transaction is still usable.
        await post(tx, shop.id, award(c.id, 'order:3:earn', 30));
      });
      expect(await balanceOf(db, shop.id, c.id)).toEqual({ balance: 40, lifetimeEarned: 40 });
    });

    it('is insert-only in the database itself: UPDATE is refused', async () => {
      const { db } = handle;
      const shop = await newShop(db);
      const c = await newCustomer(db, shop.id);
      const { entry } = await post(db, shop.id, award(c.id, 'order:1:earn', 10));
      await expect(
        db.update(ledgerEntries).set({ points: 1000 }).where(eq(ledgerEntries.id, entry.id)),
      ).rejects.toThrow();
      expect((await findEntryByKey(db, shop.id, 'order:1:earn'))?.points).toBe(10);
    });
  });

  describe('postMany', () => {
    it('inserts new keys, returns existing ones, and updates balances from exactly the inserted rows', async () => {
      const { db } = handle;
      const shop = await newShop(db);
      const [ann, bob] = [await newCustomer(db, shop.id), await newCustomer(db, shop.id)];
      const earlier = await post(db, shop.id, award(ann.id, 'order:1:earn', 10));
      const results = await postMany(db, shop.id, [
        award(bob.id, 'order:2:earn', 20),
        award(ann.id, 'order:1:earn', 10), // already posted
        award(ann.id, 'order:3:earn', 30),
        award(bob.id, 'order:2:earn', 20), // repeated within the batch
        { ...award(ann.id, 'redeem:1', -5), source: 'redemption' },
      ]);
      expect(results.map((r) => [r.entry.idempotencyKey, r.created])).toEqual([
        ['order:2:earn', true],
        ['order:1:earn', false],
        ['order:3:earn', true],
        ['order:2:earn', false],
        ['redeem:1', true],
      ]);
      expect(results[1]!.entry.id).toBe(earlier.entry.id);
      expect(results[3]!.entry.id).toBe(results[0]!.entry.id);
      expect(await balanceOf(db, shop.id, ann.id)).toEqual({ balance: 35, lifetimeEarned: 40 });
      expect(await balanceOf(db, shop.id, bob.id)).toEqual({ balance: 20, lifetimeEarned: 20 });
      expect(await rowCount(db, shop.id)).toBe(4);
      expect(await postMany(db, shop.id, [])).toEqual([]);
    });

    it('rolls the whole batch back on a conflicting key, naming it', async () => {
      const { db } = handle;
      const shop = await newShop(db);
      const c = await newCustomer(db, shop.id);
      await post(db, shop.id, award(c.id, 'order:1:earn', 10));
      await expectAppError(
        postMany(db, shop.id, [award(c.id, 'order:2:earn', 20), award(c.id, 'order:1:earn', 99)]),
        ErrorCode.IDEMPOTENCY_CONFLICT,
        /"order:1:earn" \(points: 10 → 99; inputs:/,
      );
      await expectAppError(
        postMany(db, shop.id, [award(c.id, 'order:4:earn', 1), award(c.id, 'order:4:earn', 2)]),
        ErrorCode.IDEMPOTENCY_CONFLICT,
        /"order:4:earn"/,
      );
      expect(await findEntryByKey(db, shop.id, 'order:2:earn')).toBeUndefined();
      expect(await rowCount(db, shop.id)).toBe(1);
      expect(await balanceOf(db, shop.id, c.id)).toEqual({ balance: 10, lifetimeEarned: 10 });
    });

    it('names customers that are not the shop’s and writes nothing', async () => {
      const { db } = handle;
      const [mine, theirs] = [await newShop(db), await newShop(db)];
      const own = await newCustomer(db, mine.id);
      const stranger = await newCustomer(db, theirs.id);
      await expectAppError(
        postMany(db, mine.id, [
          award(own.id, 'order:1:earn', 1),
          award(stranger.id, 'order:2:earn', 2),
        ]),
        ErrorCode.NOT_FOUND,
        new RegExp(`customer ${stranger.id} is not a customer of shop ${mine.id}`),
      );
      expect(await rowCount(db, mine.id)).toBe(0);
    });

    it('handles batches larger than one insert chunk (2,000 rows)', async () => {
      const { db } = handle;
      const shop = await newShop(db);
      const people = [
        await newCustomer(db, shop.id),
        await newCustomer(db, shop.id),
        await newCustomer(db, shop.id),
      ];
      const entries = Array.from({ length: 2_500 }, (_, i) =>
        award(people[i % 3]!.id, `import:${i}`, (i % 7) - 2),
      );
      const results = await postMany(db, shop.id, entries);
      expect(results.filter((r) => r.created)).toHaveLength(2_500);
      for (const [index, person] of people.entries()) {
        const expected = entries
          .filter((_, i) => i % 3 === index)
          .reduce((sum, e) => sum + e.points, 0);
        expect(await balanceOf(db, shop.id, person.id)).toEqual({
          balance: expected,
          lifetimeEarned: expected,
        });
        expect(await sumOfEntries(db, shop.id, person.id)).toEqual({
          balance: expected,
          lifetimeEarned: expected,
        });
      }
      // Re-running the import changes nothing.
      const again = await postMany(db, shop.id, entries);
      expect(again.some((r) => r.created)).toBe(false);
      expect(await rowCount(db, shop.id)).toBe(2_500);
    });
  });

  it('keeps projection == SUM(entries) == an independent model over random post sequences', async () => {
    const { db } = handle;
    const sources: LedgerSource[] = [
      'order',
      'refund',
      'redemption',
      'bonus',
      'expiry',
      'adjustment',
    ];
    const template = fc.record({
      customer: fc.integer({ min: 0, max: 2 }),
      points: fc.integer({ min: -1_000, max: 1_000 }),
      source: fc.constantFrom(...sources),
    });
    // An op posts the key's template, or a changed version of it (a conflict if the key exists).
    const op = fc.record({
      key: fc.integer({ min: 0, max: 9 }),
      changed: fc.boolean(),
      batch: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(template, { minLength: 10, maxLength: 10 }),
        fc.array(op, { maxLength: 40 }),
        async (templates, ops) => {
          const shop = await newShop(db);
          const people = [
            await newCustomer(db, shop.id),
            await newCustomer(db, shop.id),
            await newCustomer(db, shop.id),
          ];
          const posted = new Map<
            string,
            { customer: number; points: number; source: LedgerSource }
          >();
          const entryFor = (key: number, changed: boolean): LedgerEntryInput => {
            const t = templates[key]!;
            return {
              customerId: people[t.customer]!.id,
              idempotencyKey: `k${key}`,
              source: t.source,
              points: changed ? t.points + 1 : t.points,
              occurredAt: new Date(Date.UTC(2026, 0, 1 + key)),
              inputs: { template: key },
            };
          };
          for (let i = 0; i < ops.length; i++) {
            // A batch takes this op and the next one together.
            const group = ops[i]!.batch && i + 1 < ops.length ? [ops[i]!, ops[++i]!] : [ops[i]!];
            const entries = group.map((o) => entryFor(o.key, o.changed));
            const expectConflict =
              entries.some((e) => {
                const before = posted.get(e.idempotencyKey);
                return before !== undefined && before.points !== e.points;
              }) ||
              (entries.length === 2 &&
                entries[0]!.idempotencyKey === entries[1]!.idempotencyKey &&
                entries[0]!.points !== entries[1]!.points);
            const attempt =
              entries.length === 1
                ? post(db, shop.id, entries[0]!)
                : postMany(db, shop.id, entries);
            if (expectConflict) {
              await expectAppError(attempt, ErrorCode.IDEMPOTENCY_CONFLICT);
              continue;
            }
            await attempt;
            for (const e of entries) {
              if (!posted.has(e.idempotencyKey)) {
                posted.set(e.idempotencyKey, {
                  customer: people.findIndex((p) => p.id === e.customerId),
                  points: e.points,
                  source: e.source,
                });
              }
            }
          }
          for (const [index, person] of people.entries()) {
            const mine = [...posted.values()].filter((p) => p.customer === index);
            const model = {
              balance: mine.reduce((sum, p) => sum + p.points, 0),
              lifetimeEarned: mine
                .filter((p) => p.source !== 'redemption' && p.source !== 'expiry')
                .reduce((sum, p) => sum + p.points, 0),
            };
            expect(await balanceOf(db, shop.id, person.id)).toEqual(model);
            expect(await sumOfEntries(db, shop.id, person.id)).toEqual(model);
          }
          expect(await rowCount(db, shop.id)).toBe(posted.size);
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('ledger under concurrency on PostgreSQL', () => {
  let handle: TestDatabase;
  beforeAll(async () => {
    handle = await createTestDatabase('postgres', { max: 20 });
  });
  afterAll(async () => {
    await handle?.close();
  });

  it('60 concurrent posts of one key make exactly one entry, counted once', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    const c = await newCustomer(db, shop.id);
    const results = await Promise.all(
      Array.from({ length: 60 }, () => post(db, shop.id, award(c.id, 'order:42:earn', 90))),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.entry.id)).size).toBe(1);
    expect(await rowCount(db, shop.id)).toBe(1);
    expect(await balanceOf(db, shop.id, c.id)).toEqual({ balance: 90, lifetimeEarned: 90 });
  });

  it('60 concurrent posts of different keys for one customer lose no update', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    const c = await newCustomer(db, shop.id);
    const points = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? i + 1 : -(i % 5)));
    await Promise.all(points.map((p, i) => post(db, shop.id, award(c.id, `order:${i}:earn`, p))));
    const total = points.reduce((a, b) => a + b, 0);
    expect(await balanceOf(db, shop.id, c.id)).toEqual({ balance: total, lifetimeEarned: total });
    expect(await sumOfEntries(db, shop.id, c.id)).toEqual({
      balance: total,
      lifetimeEarned: total,
    });
  });

  it('concurrent overlapping postMany batches neither deadlock nor double count', async () => {
    const { db } = handle;
    const shop = await newShop(db);
    const people = await Promise.all(Array.from({ length: 5 }, () => newCustomer(db, shop.id)));
    const entries = Array.from({ length: 200 }, (_, i) =>
      award(people[i % 5]!.id, `import:${i}`, i),
    );
    // Each batch holds the same keys in another order.
    const batches = Array.from({ length: 6 }, (_, b) =>
      b % 2 === 0 ? [...entries] : [...entries].reverse(),
    );
    const results = await Promise.all(batches.map((batch) => postMany(db, shop.id, batch)));
    expect(results.flat().filter((r) => r.created)).toHaveLength(200);
    const [row] = await db
      .select({ total: sql<number>`sum(${customerBalances.balance})`.mapWith(Number) })
      .from(customerBalances)
      .where(and(eq(customerBalances.shopId, shop.id)));
    expect(row!.total).toBe(entries.reduce((sum, e) => sum + e.points, 0));
  });
});

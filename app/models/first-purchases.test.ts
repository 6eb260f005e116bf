/**
 * customer_first_purchases (migration 0017) against the orders it follows, on real PostgreSQL:
 * after any sequence of inserts, upserts, cancellations, test flags, claims of guest orders,
 * deletions and erasures — batched or not, and from two transactions at once — each member's row
 * holds the earliest processed_at of their purchases (paid, not cancelled, not test).
 */
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerFirstPurchases, customers, orders } from '../../db/schema';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { ensureCustomer } from './customers.server';
import { ensureShop, type Shop } from './shops.server';

let pg: TestDatabase;
let shop: Shop;

const at = (day: number) => new Date(Date.UTC(2026, 0, 1 + day, 12));

async function newCustomer(): Promise<number> {
  const c = await ensureCustomer(pg.db, shop.id, {
    externalId: randomUUID(),
    email: `${randomUUID().slice(0, 8)}@example.com`,
  });
  return c.id;
}

async function insertOrder(
  customerId: number | null,
  day: number,
  fields: Partial<typeof orders.$inferInsert> = {},
): Promise<string> {
  const key = randomUUID();
  await pg.db.insert(orders).values({
    shopId: shop.id,
    shopifyOrderId: key,
    customerId,
    email: customerId === null ? 'guest@example.com' : null,
    currency: 'USD',
    earnAmountMinor: 1_000,
    totalMinor: 1_000,
    processedAt: at(day),
    paidAt: at(day),
    ...fields,
  });
  return key;
}

/** What the row should say: recomputed from the orders. */
async function expected(customerId: number): Promise<Date | null> {
  const [row] = await pg.db
    .select({ first: sql<string | null>`min(${orders.processedAt})` })
    .from(orders)
    .where(
      sql`${orders.shopId} = ${shop.id} AND ${orders.customerId} = ${customerId}
        AND ${orders.paidAt} IS NOT NULL AND ${orders.cancelledAt} IS NULL AND NOT ${orders.test}`,
    );
  return row?.first ? new Date(row.first) : null;
}

async function kept(customerId: number): Promise<Date | null> {
  const [row] = await pg.db
    .select({ first: customerFirstPurchases.firstPurchaseAt })
    .from(customerFirstPurchases)
    .where(eq(customerFirstPurchases.customerId, customerId));
  return row?.first ?? null;
}

const byKey = (key: string) =>
  sql`${orders.shopId} = ${shop.id} AND ${orders.shopifyOrderId} = ${key}`;

beforeAll(async () => {
  pg = await createTestDatabase('postgres', { max: 4 });
  shop = await ensureShop(pg.db, {
    domain: `first-${randomUUID().slice(0, 8)}.myshopify.com`,
    currency: 'USD',
    timezone: 'UTC',
  });
});

afterAll(async () => {
  await pg?.close();
});

describe('customer_first_purchases', () => {
  it('takes the earliest purchase, and the next one when the first is cancelled, deleted or a test', async () => {
    const c = await newCustomer();
    expect(await kept(c)).toBeNull();
    const late = await insertOrder(c, 20);
    expect(await kept(c)).toEqual(at(20));
    const early = await insertOrder(c, 5);
    await insertOrder(c, 10, { paidAt: null }); // not paid: no purchase
    expect(await kept(c)).toEqual(at(5));
    await pg.db
      .update(orders)
      .set({ cancelledAt: at(6) })
      .where(byKey(early));
    expect(await kept(c)).toEqual(at(20));
    await pg.db.update(orders).set({ cancelledAt: null }).where(byKey(early));
    expect(await kept(c)).toEqual(at(5));
    await pg.db.update(orders).set({ test: true }).where(byKey(early));
    expect(await kept(c)).toEqual(at(20));
    await pg.db.delete(orders).where(byKey(late));
    expect(await kept(c)).toBeNull();
  });

  it('follows a guest order claimed by a member, and the paid date of an order paid later', async () => {
    const c = await newCustomer();
    await insertOrder(c, 30);
    const guest = await insertOrder(null, 3);
    const unpaid = await insertOrder(c, 1, { paidAt: null });
    expect(await kept(c)).toEqual(at(30));
    await pg.db.update(orders).set({ customerId: c }).where(byKey(guest));
    expect(await kept(c)).toEqual(at(3));
    await pg.db
      .update(orders)
      .set({ paidAt: at(2) })
      .where(byKey(unpaid));
    expect(await kept(c)).toEqual(at(1));
  });

  it('lets a member be erased: their orders keep no customer and their row goes', async () => {
    const c = await newCustomer();
    await insertOrder(c, 4);
    await pg.db.delete(customers).where(eq(customers.id, c));
    expect(await kept(c)).toBeNull();
    const [left] = await pg.db
      .select({ n: sql<number>`count(*)::int` })
      .from(customerFirstPurchases)
      .where(eq(customerFirstPurchases.customerId, c));
    expect(left?.n).toBe(0);
  });

  it('ends right when two cancellations commit from two transactions at once', async () => {
    for (let round = 0; round < 3; round++) {
      const c = await newCustomer();
      const first = await insertOrder(c, 2);
      const second = await insertOrder(c, 5);
      await insertOrder(c, 9);
      // Each holds its transaction open after cancelling; the second reads the member's first
      // purchase only once the first has committed, so it sees both cancellations: day 9.
      const cancel = (key: string, delayMs: number) =>
        new Promise((r) => setTimeout(r, delayMs)).then(() =>
          pg.db.transaction(async (tx) => {
            await tx
              .update(orders)
              .set({ cancelledAt: at(10) })
              .where(byKey(key));
            await tx.execute(sql`SELECT pg_sleep(0.05)`);
          }),
        );
      await Promise.all([cancel(first, 0), cancel(second, 10 + round * 10)]);
      expect(await expected(c)).toEqual(at(9));
      expect(await kept(c)).toEqual(at(9));
    }
  });

  it('equals the orders after any sequence of writes, batched or not', async () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('insert' as const),
        who: fc.integer({ min: 0, max: 2 }),
        days: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 3 }),
        paid: fc.boolean(),
        test: fc.boolean(),
      }),
      fc.record({
        kind: fc.constantFrom('cancel' as const, 'uncancel' as const, 'delete' as const),
        pick: fc.nat(),
      }),
      fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), day: fc.nat(60) }),
      fc.record({ kind: fc.constant('reassign' as const), pick: fc.nat(), who: fc.nat(2) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 12 }), async (ops) => {
        const people = [await newCustomer(), await newCustomer(), await newCustomer()];
        const keys: string[] = [];
        for (const o of ops) {
          if (o.kind === 'insert') {
            // One statement for several orders: the trigger sees them together.
            const rows = o.days.map((d) => ({
              shopId: shop.id,
              shopifyOrderId: randomUUID(),
              customerId: people[o.who]!,
              currency: 'USD',
              earnAmountMinor: 1_000,
              totalMinor: 1_000,
              processedAt: at(d),
              paidAt: o.paid ? at(d) : null,
              test: o.test,
            }));
            await pg.db.insert(orders).values(rows);
            keys.push(...rows.map((r) => r.shopifyOrderId));
            continue;
          }
          if (keys.length === 0) continue;
          const key = keys[o.pick % keys.length]!;
          if (o.kind === 'cancel')
            await pg.db
              .update(orders)
              .set({ cancelledAt: at(61) })
              .where(byKey(key));
          else if (o.kind === 'uncancel')
            await pg.db.update(orders).set({ cancelledAt: null }).where(byKey(key));
          else if (o.kind === 'move')
            await pg.db
              .update(orders)
              .set({ processedAt: at(o.day) })
              .where(byKey(key));
          else if (o.kind === 'reassign')
            await pg.db.update(orders).set({ customerId: people[o.who]! }).where(byKey(key));
          else {
            await pg.db.delete(orders).where(byKey(key));
            keys.splice(keys.indexOf(key), 1);
          }
        }
        for (const c of people) expect(await kept(c)).toEqual(await expected(c));
      }),
      { numRuns: 40 },
    );
  });
});

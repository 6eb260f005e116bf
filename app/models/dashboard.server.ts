/** Figures for the embedded admin's home page. */
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customerBalances, customers } from '../../db/schema';

export interface ShopTotals {
  /** Customers enrolled in the program (redacted customers are no longer counted). */
  members: number;
  /** Points held by all customers: the sum of their balances. */
  pointsOutstanding: number;
}

export async function shopTotals(db: Executor, shopId: number): Promise<ShopTotals> {
  const [members] = await db
    .select({ n: sql<number>`count(*)`.mapWith(Number) })
    .from(customers)
    .where(and(eq(customers.shopId, shopId), isNull(customers.redactedAt)));
  const [points] = await db
    .select({ n: sql<number>`coalesce(sum(${customerBalances.balance}), 0)`.mapWith(Number) })
    .from(customerBalances)
    .where(eq(customerBalances.shopId, shopId));
  return { members: members?.n ?? 0, pointsOutstanding: points?.n ?? 0 };
}

function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

const ts = (instant: Date) => sql`${instant.toISOString()}::timestamptz`;

/** Members who enrolled in [from, to) (redacted ones no longer counted). */
export async function newMembers(
  db: Executor,
  shopId: number,
  from: Date,
  to: Date,
): Promise<number> {
  const [row] = rowsOf<{ n: string | number }>(
    await db.execute(sql`
      SELECT count(*) AS "n" FROM "customers"
      WHERE "shop_id" = ${shopId} AND "redacted_at" IS NULL
        AND "enrolled_at" >= ${ts(from)} AND "enrolled_at" < ${ts(to)}`),
  );
  return Number(row?.n ?? 0);
}

/** Buyers of a period and those of them who have bought at least twice (see repeatPurchases). */
export interface RepeatPurchases {
  buyers: number;
  repeaters: number;
}

/**
 * Repeat purchases in [from, to), members against guests. A purchase is a paid order that is not
 * cancelled and not a test, at its processed_at. Members are orders with a customer, one buyer per
 * customer; guests are orders without one, one buyer per email (orders with neither are left
 * out). Buyers: those with a purchase in the period; repeaters: buyers with two or more purchases
 * from the beginning up to the end of the period (docs/dashboard.md).
 */
export async function repeatPurchases(
  db: Executor,
  shopId: number,
  from: Date,
  to: Date,
): Promise<{ members: RepeatPurchases; guests: RepeatPurchases }> {
  const purchase = (o: string) =>
    sql`${sql.raw(o)}."shop_id" = ${shopId} AND ${sql.raw(o)}."paid_at" IS NOT NULL
      AND ${sql.raw(o)}."cancelled_at" IS NULL AND NOT ${sql.raw(o)}."test"`;
  // A buyer of the period repeats with two purchases in it, or one and another before it: a
  // member's first purchase is kept in customer_first_purchases (one join); a guest's earlier
  // purchase is probed through the email index, only for single-purchase guests.
  const rows = rowsOf<{ member: boolean; buyers: string | number; repeaters: string | number }>(
    await db.execute(sql`
      WITH "bought" AS (
        SELECT o."customer_id", CASE WHEN o."customer_id" IS NULL THEN o."email" END AS "email",
               count(*) AS "n"
        FROM "orders" o
        WHERE ${purchase('o')} AND o."processed_at" >= ${ts(from)} AND o."processed_at" < ${ts(to)}
          AND (o."customer_id" IS NOT NULL OR o."email" IS NOT NULL)
        GROUP BY 1, 2
      )
      SELECT "member", count(*) AS "buyers", count(*) FILTER (WHERE "n" >= 2 OR "earlier") AS "repeaters"
      FROM (
        SELECT true AS "member", b."n", coalesce(f."first_purchase_at" < ${ts(from)}, false) AS "earlier"
        FROM "bought" b
        LEFT JOIN "customer_first_purchases" f
          ON f."shop_id" = ${shopId} AND f."customer_id" = b."customer_id"
        WHERE b."customer_id" IS NOT NULL
        -- Apart, so the planner costs the probe for guests only (members would take it past the
        -- JIT threshold: 15-60 ms of compiling for a 30 ms query).
        UNION ALL
        SELECT false, b."n", b."n" < 2 AND EXISTS (
          SELECT 1 FROM "orders" p
          WHERE ${purchase('p')} AND p."email" = b."email" AND p."customer_id" IS NULL
            AND p."processed_at" < ${ts(from)})
        FROM "bought" b
        WHERE b."customer_id" IS NULL
      ) x
      GROUP BY 1`),
  );
  const of = (member: boolean): RepeatPurchases => {
    const row = rows.find((r) => r.member === member);
    return { buyers: Number(row?.buyers ?? 0), repeaters: Number(row?.repeaters ?? 0) };
  };
  return { members: of(true), guests: of(false) };
}

export interface MemberRevenue {
  /** Paid, not cancelled, non-test orders with a customer, processed in the period. */
  orders: number;
  /** Their totals (shop currency, minor units). */
  grossMinor: number;
  /** What was refunded on them, whenever (merchandise and shipping; refunded tax is not recorded). */
  refundedMinor: number;
  /** grossMinor − refundedMinor. */
  netMinor: number;
}

/** Revenue from members in [from, to): docs/dashboard.md, "Revenue from members". */
export async function memberRevenue(
  db: Executor,
  shopId: number,
  from: Date,
  to: Date,
): Promise<MemberRevenue> {
  const [row] = rowsOf<{
    orders: string | number;
    gross: string | number;
    refunded: string | number;
  }>(
    await db.execute(sql`
      WITH "paid" AS (
        SELECT o."shopify_order_id", o."total_minor" FROM "orders" o
        WHERE o."shop_id" = ${shopId} AND o."customer_id" IS NOT NULL AND o."paid_at" IS NOT NULL
          AND o."cancelled_at" IS NULL AND NOT o."test"
          AND o."processed_at" >= ${ts(from)} AND o."processed_at" < ${ts(to)}
      )
      SELECT (SELECT count(*) FROM "paid") AS "orders",
             (SELECT coalesce(sum("total_minor"), 0) FROM "paid")::bigint AS "gross",
             (SELECT coalesce(sum(r."merchandise_minor" + r."shipping_minor"), 0)
              FROM "order_refunds" r JOIN "paid" p ON p."shopify_order_id" = r."shopify_order_id"
              -- A refund follows its order: only those recorded since the period began.
              WHERE r."shop_id" = ${shopId} AND r."processed_at" >= ${ts(from)})::bigint AS "refunded"`),
  );
  const grossMinor = Number(row?.gross ?? 0);
  const refundedMinor = Number(row?.refunded ?? 0);
  return {
    orders: Number(row?.orders ?? 0),
    grossMinor,
    refundedMinor,
    netMinor: grossMinor - refundedMinor,
  };
}

/** A ledger entry with what the dashboard says about it. */
export interface RecentEntry {
  id: number;
  customerId: number;
  customerEmail: string | null;
  customerName: string | null;
  source: string;
  points: number;
  occurredAt: Date;
  inputs: Record<string, unknown>;
  orderName: string | null;
}

/** The shop's latest `limit` ledger entries by occurred_at (then id), newest first. */
export async function recentEntries(
  db: Executor,
  shopId: number,
  limit = 10,
): Promise<RecentEntry[]> {
  const rows = rowsOf<{
    id: string | number;
    customer_id: number;
    email: string | null;
    first_name: string | null;
    last_name: string | null;
    source: string;
    points: number;
    occurred_at: string | Date;
    inputs: Record<string, unknown>;
    order_name: string | null;
  }>(
    await db.execute(sql`
      SELECT e."id", e."customer_id", c."email", c."first_name", c."last_name", e."source",
             e."points", e."occurred_at", e."inputs",
             coalesce(o."name", a."inputs"->>'orderName') AS "order_name"
      FROM (
        SELECT * FROM "ledger_entries" WHERE "shop_id" = ${shopId}
        ORDER BY "occurred_at" DESC, "id" DESC LIMIT ${limit}
      ) e
      JOIN "customers" c ON c."id" = e."customer_id" AND c."shop_id" = ${shopId}
      -- A reversal names its order through the award it reverses (as app/models/history.server.ts).
      LEFT JOIN "ledger_entries" a ON a."shop_id" = ${shopId} AND a."id" = e."reverses_entry_id"
      LEFT JOIN "orders" o
        ON o."shop_id" = ${shopId}
       AND o."shopify_order_id" = coalesce(e."inputs"->>'orderId', a."inputs"->>'orderId')
      ORDER BY e."occurred_at" DESC, e."id" DESC`),
  );
  return rows.map((r) => ({
    id: Number(r.id),
    customerId: r.customer_id,
    customerEmail: r.email,
    customerName: [r.first_name, r.last_name].filter(Boolean).join(' ') || null,
    source: r.source,
    points: r.points,
    occurredAt: new Date(r.occurred_at),
    inputs: typeof r.inputs === 'string' ? JSON.parse(r.inputs) : r.inputs,
    orderName: r.order_name,
  }));
}

/**
 * What happens to an issued code after the shopper has it: an order uses it (orders/paid carries
 * the code). Rules: docs/redemption.md ("Usage").
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { redemptions } from '../../db/schema';

export interface CodeUse {
  /** Shopify order id. */
  orderId: string;
  /** The order's discount codes as Shopify reported them (any case). */
  codes: readonly string[];
  /** When the order was paid: the redemption's used_at. */
  usedAt: Date;
}

/**
 * Marks the redemptions whose codes these orders used as `used`, linked to the order. A code that
 * Laurel did not issue is no redemption and is ignored. `pending` counts too (Shopify had created
 * the code before Laurel heard back), and so does `expired`: an order paid just before the code
 * expired can arrive after the expiry sweep. A repeat delivery changes nothing. Returns, per order,
 * the ids of the redemptions marked now.
 */
export async function recordCodeUses(
  db: Executor,
  shopId: number,
  uses: readonly CodeUse[],
): Promise<Map<string, number[]>> {
  const marked = new Map<string, number[]>();
  for (const use of uses) {
    if (use.codes.length === 0) continue;
    const rows = await db
      .update(redemptions)
      .set({
        status: 'used',
        usedAt: use.usedAt,
        shopifyOrderId: use.orderId,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(redemptions.shopId, shopId),
          inArray(redemptions.status, ['issued', 'pending', 'expired']),
          inArray(
            sql`upper(${redemptions.code})`,
            use.codes.map((code) => code.toUpperCase()),
          ),
        ),
      )
      .returning({ id: redemptions.id });
    if (rows.length > 0)
      marked.set(
        use.orderId,
        rows.map((row) => row.id),
      );
  }
  return marked;
}

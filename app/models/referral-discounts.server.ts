/**
 * The shop's referral friend discount as Laurel last left it at Shopify (referral_discounts), the
 * code changes its sync makes, and the sweep's question: which shops have referral work. The sync
 * itself is app/referral-discount.server.ts; docs/referrals.md.
 */
import { randomBytes } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { referralCodes, referralDiscounts } from '../../db/schema';
import { friendCodeOf, generateReferralCode } from '../../loyalty/referrals';

export type ReferralDiscountRow = typeof referralDiscounts.$inferSelect;

/** After a run that failed, the sweep leaves the shop alone this long (Shopify down, refusing). */
export const REFERRAL_RETRY_AFTER_MS = 60_000;

export async function getReferralDiscount(
  db: Executor,
  shopId: number,
): Promise<ReferralDiscountRow | undefined> {
  const [row] = await db
    .select()
    .from(referralDiscounts)
    .where(eq(referralDiscounts.shopId, shopId));
  return row;
}

/** Records what Shopify holds now (and that the run went through: no error). */
export async function recordReferralDiscount(
  db: Executor,
  shopId: number,
  held: { discountId: string | null; segmentId: string | null; syncedVersion: number | null },
): Promise<void> {
  const set = { ...held, lastError: null, updatedAt: sql`now()` };
  await db
    .insert(referralDiscounts)
    .values({ shopId, ...set })
    .onConflictDoUpdate({ target: referralDiscounts.shopId, set });
}

/** Records why a run stopped; what Shopify holds is left as recorded. */
export async function recordReferralDiscountError(
  db: Executor,
  shopId: number,
  message: string,
): Promise<void> {
  const set = { lastError: message.slice(0, 500), updatedAt: sql`now()` };
  await db
    .insert(referralDiscounts)
    .values({ shopId, ...set })
    .onConflictDoUpdate({ target: referralDiscounts.shopId, set });
}

/**
 * Gives a member whose friend code Shopify refused as taken (another discount of the shop holds it)
 * a fresh code, pending again. Allowed although codes are never changed: a refused code never
 * reached anyone (only active codes are written to the storefront or answered by the landing), and
 * keeping it would leave the member without a usable code and the code pointing at someone else's
 * discount. The reason stays in last_error.
 */
export async function redrawReferralCode(
  db: Executor,
  shopId: number,
  codeId: number,
  codePrefix: string,
  reason: string,
): Promise<void> {
  // A fresh draw colliding with another member's code is as rare as the refusal; try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const code = generateReferralCode(randomBytes(16));
    const rows = await db.execute(sql`
      UPDATE referral_codes SET code = ${code}, friend_code = ${friendCodeOf(code, codePrefix)},
        status = 'pending', last_error = ${reason.slice(0, 500)}, activated_at = NULL
      WHERE shop_id = ${shopId} AND id = ${codeId} AND status <> 'active'
        AND NOT EXISTS (SELECT 1 FROM referral_codes o WHERE o.shop_id = ${shopId}
          AND (o.code = ${code} OR o.friend_code = ${friendCodeOf(code, codePrefix)}))
      RETURNING id`);
    const updated = (rows as unknown as { rows: unknown[] }).rows.length;
    if (updated === 1) return;
    const [still] = await db
      .select({ status: referralCodes.status })
      .from(referralCodes)
      .where(and(eq(referralCodes.shopId, shopId), eq(referralCodes.id, codeId)));
    if (!still || still.status === 'active') return;
  }
  throw new Error(`could not draw a free referral code for code ${codeId} of shop ${shopId}`);
}

/**
 * The friend discount is gone at Shopify (deleted in the admin): its codes with it. Every active
 * code is pending again, to be added to the discount made in its place. Returns how many.
 */
export async function reopenActiveCodes(db: Executor, shopId: number): Promise<number> {
  const rows = await db
    .update(referralCodes)
    .set({ status: 'pending' })
    .where(and(eq(referralCodes.shopId, shopId), eq(referralCodes.status, 'active')))
    .returning({ id: referralCodes.id });
  return rows.length;
}

/**
 * The referral program version in force in shop `s`, in SQL (currentReferralProgram's rule: the
 * newest effective_from ≤ now, the higher version on a tie), as (version, enabled).
 */
const programInForce = sql`(SELECT p.version, (p.definition->>'enabled')::boolean AS enabled
  FROM referral_programs p WHERE p.shop_id = s.id AND p.effective_from <= now()
  ORDER BY p.effective_from DESC, p.version DESC LIMIT 1)`;

/**
 * Domains of the installed shops (active, with an offline token) whose referral program in force
 * has work for the sync: the friend discount not at its version (new, changed, disabled or enabled
 * again), or — while enabled — a member without a code or a code Shopify does not have yet. A shop
 * whose last run failed waits REFERRAL_RETRY_AFTER_MS.
 */
export async function shopsDueForReferralSync(db: Executor): Promise<string[]> {
  const result = await db.execute(sql`
    SELECT s.domain FROM shops s
    JOIN session t ON t.id = 'offline_' || s.domain AND coalesce(t."accessToken", '') <> ''
    CROSS JOIN LATERAL ${programInForce} c
    LEFT JOIN referral_discounts d ON d.shop_id = s.id
    WHERE s.active
      AND (d.last_error IS NULL
           OR d.updated_at < now() - make_interval(secs => ${REFERRAL_RETRY_AFTER_MS / 1000}::int))
      AND (d.synced_version IS DISTINCT FROM c.version
           OR (c.enabled AND (
             EXISTS (SELECT 1 FROM referral_codes r WHERE r.shop_id = s.id AND r.status = 'pending')
             OR EXISTS (SELECT 1 FROM customers m WHERE m.shop_id = s.id AND m.redacted_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM referral_codes r
                 WHERE r.shop_id = s.id AND r.customer_id = m.id)))))
    ORDER BY s.id`);
  return (result as unknown as { rows: { domain: string }[] }).rows.map((r) => r.domain);
}

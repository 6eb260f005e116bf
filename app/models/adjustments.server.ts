/**
 * Manual adjustments (docs/customers.md): staff add or remove points on one member, with a reason,
 * recorded with who did it and when. One ledger entry, source `adjustment`, key
 * `adjustment:<form key>` — the key the admin page was rendered with, so a double submit (or a
 * retry after a lost answer) posts once.
 *
 * The member's customer row is locked first (lockCustomers, as every writer that may change a
 * balance takes it), so two adjustments, or an adjustment and a redemption, queue: the balance a
 * debit is checked against is the latest, and no pair of debits can overdraw it. In the same
 * transaction the member's tier is evaluated — adjustments count towards a `points` tier metric
 * (TIER_POINT_SOURCES), and evaluating under any other metric changes nothing — and posting through
 * the ledger marks the storefront metafields pending; the caller then asks for the sync.
 */
import type { Executor } from '../../db/client.server';
import { overdraftReason, type Adjustment } from '../../loyalty/adjustment';
import { AppError, ErrorCode } from '../errors';
import { getCustomer, lockCustomers } from './customers.server';
import { balanceOf, findEntryByKey, post, type LedgerEntry } from './ledger.server';
import type { Shop } from './shops.server';
import { evaluateMembers } from './tier-evaluation.server';

/** Who made the adjustment: the staff member of the admin session (app/admin-request.server.ts). */
export interface AdjustmentAuthor {
  userId: string;
  sessionId: string | null;
}

/** What an adjustment entry records in `inputs`. */
export interface AdjustmentInputs {
  rule: 'manual-adjustment';
  reason: string;
  staff: AdjustmentAuthor;
  /** When staff posted it (ISO 8601): also the entry's occurred_at. */
  at: string;
}

export interface AdjustmentResult {
  entry: LedgerEntry;
  /** False when the key was posted before (a double submit): nothing new was posted. */
  created: boolean;
  /** The member's balance after the adjustment. */
  balance: number;
}

/**
 * Posts `adjustment` on the shop's customer `customerId`. Refuses with NOT_FOUND when the shop has
 * no such customer, INSUFFICIENT_BALANCE when a debit would take the balance below 0, and
 * IDEMPOTENCY_CONFLICT when the key was used for a different adjustment. A repeat of the same
 * adjustment answers the entry already posted (created: false).
 */
export async function postAdjustment(
  db: Executor,
  shop: Shop,
  customerId: number,
  adjustment: Adjustment,
  author: AdjustmentAuthor,
  now: Date = new Date(),
): Promise<AdjustmentResult> {
  return db.transaction(async (tx) => {
    await lockCustomers(tx, shop.id, { ids: [customerId] });
    const customer = await getCustomer(tx, shop.id, customerId);
    if (!customer) {
      throw new AppError(
        ErrorCode.NOT_FOUND,
        `This shop has no customer ${customerId}: it may belong to another shop.`,
        { shopId: shop.id, customerId },
      );
    }
    // A repeat is answered before the balance check: the first post may have spent what it checks.
    const existing = await findEntryByKey(tx, shop.id, adjustment.idempotencyKey);
    if (existing) {
      const inputs = existing.inputs as Partial<AdjustmentInputs>;
      if (
        existing.source !== 'adjustment' ||
        existing.customerId !== customerId ||
        existing.points !== adjustment.points ||
        inputs.reason !== adjustment.reason
      ) {
        throw new AppError(
          ErrorCode.IDEMPOTENCY_CONFLICT,
          'This form was already used for a different adjustment: reload the page and adjust again.',
          { shopId: shop.id, idempotencyKey: adjustment.idempotencyKey },
        );
      }
      const { balance } = await balanceOf(tx, shop.id, customerId);
      return { entry: existing, created: false, balance };
    }
    const { balance } = await balanceOf(tx, shop.id, customerId);
    const overdraft = overdraftReason(balance, adjustment.points);
    if (overdraft) {
      throw new AppError(ErrorCode.INSUFFICIENT_BALANCE, overdraft, {
        field: 'points',
        balance,
        points: adjustment.points,
      });
    }
    const inputs: AdjustmentInputs = {
      rule: 'manual-adjustment',
      reason: adjustment.reason,
      staff: { userId: author.userId, sessionId: author.sessionId },
      at: now.toISOString(),
    };
    const { entry } = await post(tx, shop.id, {
      customerId,
      idempotencyKey: adjustment.idempotencyKey,
      source: 'adjustment',
      points: adjustment.points,
      occurredAt: now,
      inputs: inputs as unknown as Record<string, unknown>,
      subjectId: `customer:${customerId}`,
    });
    // A tier reached through the adjustment may post its entry reward: the balance is read after.
    await evaluateMembers(tx, shop, [customerId], now);
    return { entry, created: true, balance: (await balanceOf(tx, shop.id, customerId)).balance };
  });
}

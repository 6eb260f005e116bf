/**
 * Whether the points spent on a reward code come back when the order that used it is undone
 * (docs/redemption.md, "When the order is refunded"). Decided from the order's facts, so the
 * arrival order of its webhooks does not matter, and by the program version the order earned under.
 */
import type { RedemptionRefundRule } from './program';

export interface UndoneOrderFacts {
  /** When Shopify cancelled the order; null if it was not. */
  cancelledAt: Date | null;
  /** The order's subtotal after discounts (what earns), minor units. */
  earnAmountMinor: number;
  /** Merchandise refunded so far, summed over the order's refunds, minor units. */
  refundedMinor: number;
  /** Whether any refund of the order is known (a free order refunds 0 merchandise). */
  hasRefunds: boolean;
}

export type OrderUndone = 'cancelled' | 'refunded';

/**
 * How the order was undone, or null while it stands: cancelled, or refunded in full (every unit of
 * merchandise it earned on). A partial refund keeps the reward: the shopper kept part of the order
 * the code was spent on.
 */
export function orderUndone(order: UndoneOrderFacts): OrderUndone | null {
  if (order.cancelledAt !== null) return 'cancelled';
  if (order.hasRefunds && order.refundedMinor >= order.earnAmountMinor) return 'refunded';
  return null;
}

/** The points come back only when the program says so and the order was undone. */
export function returnsRedemptionPoints(
  rule: RedemptionRefundRule,
  order: UndoneOrderFacts,
): OrderUndone | null {
  return rule === 'return_points' ? orderUndone(order) : null;
}

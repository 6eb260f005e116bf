/**
 * orders/paid, orders/cancelled, refunds/create: record what the delivery says about the order,
 * under the order's lock, then settle the order (app/models/orders.server.ts), which posts the
 * award and reversals its whole state calls for. Rules: docs/earning-rules.md.
 */
import type { Executor } from '../../db/client.server';
import { ensureCustomer } from '../../app/models/customers.server';
import { lockOrder, recordOrder, recordRefund, settleOrder } from '../../app/models/orders.server';
import { programAt } from '../../app/models/programs.server';
import type { Shop } from '../../app/models/shops.server';
import {
  parseOrderPayload,
  parseRefundPayload,
  type OrderFacts,
} from '../../loyalty/shopify-order';
import { checkShopCurrency, requireInstalledShop, type WebhookHandler } from './context';

async function recordAndSettle(
  tx: Executor,
  shop: Shop,
  facts: OrderFacts,
  paidAt: Date | null,
): Promise<Record<string, unknown>> {
  checkShopCurrency(shop, facts.shopCurrency, `order ${facts.orderId}`);
  for (const refund of facts.refunds) {
    checkShopCurrency(shop, refund.shopCurrency, `refund ${refund.refundId}`);
  }
  // Customer row before the order lock, in every handler: one lock order, no deadlock.
  const customer = facts.customer
    ? await ensureCustomer(tx, shop.id, {
        externalId: facts.customer.id,
        email: facts.customer.email,
        firstName: facts.customer.firstName,
        lastName: facts.customer.lastName,
      })
    : null;
  await lockOrder(tx, shop.id, facts.orderId);
  const program = (await programAt(tx, shop.id, new Date(facts.processedAt))) ?? null;
  await recordOrder(tx, shop.id, facts, {
    customerId: customer?.id ?? null,
    paidAt,
    programVersion: program?.version ?? null,
  });
  let refundsRecorded = 0;
  for (const refund of facts.refunds) {
    if (await recordRefund(tx, shop.id, refund)) refundsRecorded++;
  }
  const result = await settleOrder(tx, shop, facts.orderId, program);
  return {
    orderId: facts.orderId,
    customerId: customer?.id ?? null,
    refundsRecorded,
    awardedPoints: result.award?.points ?? 0,
    entriesPosted: result.posted.length,
    pointsPosted: result.posted.reduce((sum, e) => sum + e.points, 0),
    ...(result.noAwardReason && { noAward: result.noAwardReason }),
  };
}

export const ordersPaid: WebhookHandler = async (tx, { row }) => {
  const shop = await requireInstalledShop(tx, row.shopDomain);
  const facts = parseOrderPayload(row.payload);
  return recordAndSettle(tx, shop, facts, row.receivedAt);
};

export const ordersCancelled: WebhookHandler = async (tx, { row }) => {
  const shop = await requireInstalledShop(tx, row.shopDomain);
  const facts = parseOrderPayload(row.payload);
  // orders/cancelled always carries cancelled_at; if a body ever lacks it, the delivery is the fact.
  const cancelledAt = facts.cancelledAt ?? row.receivedAt.getTime();
  return recordAndSettle(tx, shop, { ...facts, cancelledAt }, null);
};

export const refundsCreate: WebhookHandler = async (tx, { row }) => {
  const shop = await requireInstalledShop(tx, row.shopDomain);
  const refund = parseRefundPayload(row.payload);
  checkShopCurrency(shop, refund.shopCurrency, `refund ${refund.refundId}`);
  await lockOrder(tx, shop.id, refund.orderId);
  const recorded = await recordRefund(tx, shop.id, refund);
  const result = await settleOrder(tx, shop, refund.orderId);
  return {
    orderId: refund.orderId,
    refundId: refund.refundId,
    refundRecorded: recorded,
    merchandiseMinor: refund.merchandiseMinor,
    entriesPosted: result.posted.length,
    pointsPosted: result.posted.reduce((sum, e) => sum + e.points, 0),
    ...(result.noAwardReason && { noAward: result.noAwardReason }),
  };
};

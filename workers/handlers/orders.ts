/**
 * orders/paid, orders/cancelled, refunds/create — handled in batches: under load a worker gives
 * many deliveries to one transaction, and a handful of set-based statements record them all and
 * settle every order they touch (app/models/orders.server.ts). One delivery is a batch of one.
 *
 * Per delivery: parse the body (an invalid one fails alone, before anything is written), check the
 * currency, enrol the order's customer, then — under the orders' locks — record the order or
 * refund and settle the order from its whole state, attribute the paid orders that carry a member's
 * friend code and take back the referral rewards their refunds or cancellation undo, then evaluate
 * the tiers of the orders' customers and of the referrers whose points moved (an award carries the
 * multiplier of the tier held before it; the change it causes comes after it). Rules:
 * docs/earning-rules.md, docs/tiers.md, docs/referrals.md.
 */
import type { Executor } from '../../db/client.server';
import { ensureCustomers, lockCustomers } from '../../app/models/customers.server';
import { dropRedactedPayloads } from '../../app/models/inbox.server';
import {
  recordCodeUses,
  settleRedemptionRefunds,
} from '../../app/models/redemption-lifecycle.server';
import { evaluateMembers } from '../../app/models/tier-evaluation.server';
import {
  customersOfOrders,
  lockOrders,
  recordOrders,
  recordRefunds,
  settleOrders,
  type OrderRecord,
} from '../../app/models/orders.server';
import { programTimeline } from '../../app/models/programs.server';
import { recordOrderFingerprints, referralParties } from '../../app/models/referral-facts.server';
import { attributeReferrals, settleReferralReversals } from '../../app/models/referrals.server';
import { getShopByDomain } from '../../app/models/shops.server';
import {
  parseOrderPayload,
  parseRefundPayload,
  type OrderFacts,
  type RefundFacts,
} from '../../loyalty/shopify-order';
import type { WebhookTopic } from '../../app/queues/jobs';
import { checkShopCurrency, shopNotInstalled, type HandlerContext } from './context';

/** The topics handled here, in batches. */
export const ORDER_TOPICS: ReadonlySet<WebhookTopic> = new Set<WebhookTopic>([
  'orders/paid',
  'orders/cancelled',
  'refunds/create',
]);

export type RowOutcome =
  { ok: true; summary: Record<string, unknown> } | { ok: false; error: unknown };

type Row = HandlerContext['row'];

type Item =
  | { row: Row; kind: 'order'; facts: OrderFacts; paidAt: Date | null }
  | { row: Row; kind: 'refund'; refund: RefundFacts };

function parse(row: Row, shop: { currency: string; domain: string }): Item {
  if (row.topic === 'refunds/create') {
    // Amounts stating no currency (POS refunds' "XXX") are in the shop's.
    const refund = parseRefundPayload(row.payload, { shopCurrency: shop.currency });
    checkShopCurrency(shop, refund.shopCurrency, `refund ${refund.refundId}`);
    return { row, kind: 'refund', refund };
  }
  const parsed = parseOrderPayload(row.payload);
  checkShopCurrency(shop, parsed.shopCurrency, `order ${parsed.orderId}`);
  for (const refund of parsed.refunds) {
    checkShopCurrency(shop, refund.shopCurrency, `refund ${refund.refundId}`);
  }
  if (row.topic === 'orders/cancelled') {
    // orders/cancelled always carries cancelled_at; if a body ever lacks it, the delivery is the fact.
    const facts = { ...parsed, cancelledAt: parsed.cancelledAt ?? row.receivedAt.getTime() };
    return { row, kind: 'order', facts, paidAt: null };
  }
  return { row, kind: 'order', facts: parsed, paidAt: row.receivedAt };
}

/** The log summary's word on the order's referral: its id and status, when it has one now. */
function referralOutcome(
  orderId: string,
  referred: Map<string, { referralId: number; status: string }>,
  reversed: Map<string, { referralId: number }>,
): { referral?: { id: number; status: string } } {
  const undone = reversed.get(orderId);
  if (undone) return { referral: { id: undone.referralId, status: 'reversed' } };
  const made = referred.get(orderId);
  return made ? { referral: { id: made.referralId, status: made.status } } : {};
}

/** Handles the rows of one shop; returns each row's outcome. */
async function handleShop(
  tx: Executor,
  domain: string,
  rows: Row[],
  outcomes: Map<number, RowOutcome>,
) {
  const shop = await getShopByDomain(tx, domain);
  if (!shop) {
    for (const row of rows) outcomes.set(row.id, { ok: false, error: shopNotInstalled(domain) });
    return;
  }
  const items: Item[] = [];
  for (const row of rows) {
    try {
      items.push(parse(row, shop));
    } catch (error) {
      outcomes.set(row.id, { ok: false, error });
    }
  }
  if (items.length === 0) return;

  const orderIdOf = (item: Item) =>
    item.kind === 'order' ? item.facts.orderId : item.refund.orderId;
  const orderIds = items.map(orderIdOf);
  // Lock order: customer rows, then orders, then balance rows (inside postMany), in every handler.
  // A batch may change the balances of more than its buyers — the members their friend codes name,
  // the referrers of refunded orders, the customers of orders recorded earlier — so all of those
  // are locked first, in one sorted statement: two batches rewarding each other's customers queue
  // here instead of deadlocking on balance rows.
  await lockCustomers(tx, shop.id, {
    ids: [
      ...(await customersOfOrders(tx, shop.id, orderIds)),
      ...(await referralParties(tx, shop.id, {
        discountCodes: items.flatMap((item) =>
          item.kind === 'order' && item.paidAt !== null ? item.facts.discountCodes : [],
        ),
        shopifyOrderIds: orderIds,
      })),
    ],
    externalIds: items.flatMap((item) =>
      item.kind === 'order' && item.facts.customer ? [item.facts.customer.id] : [],
    ),
  });
  const customers = await ensureCustomers(
    tx,
    shop.id,
    items.flatMap((item) =>
      item.kind === 'order' && item.facts.customer
        ? [
            {
              externalId: item.facts.customer.id,
              email: item.facts.customer.email,
              firstName: item.facts.customer.firstName,
              lastName: item.facts.customer.lastName,
            },
          ]
        : [],
    ),
  );
  await lockOrders(tx, shop.id, orderIds);
  const timeline = await programTimeline(tx, shop.id);

  const records: OrderRecord[] = [];
  const refunds: RefundFacts[] = [];
  for (const item of items) {
    if (item.kind === 'refund') {
      refunds.push(item.refund);
      continue;
    }
    records.push({
      facts: item.facts,
      customerId: item.facts.customer ? (customers.get(item.facts.customer.id) ?? null) : null,
      paidAt: item.paidAt,
      programVersion: timeline.at(item.facts.processedAt)?.version ?? null,
    });
    refunds.push(...item.facts.refunds);
  }
  await recordOrders(tx, shop.id, records);
  // The contact details the referral rules compare, as keyed hashes (docs/referrals.md).
  await recordOrderFingerprints(tx, shop.id, records);
  const newRefunds = await recordRefunds(tx, shop.id, refunds);
  const settled = await settleOrders(tx, shop, orderIds, timeline);
  // A paid order that used a code Laurel issued is the code's use (docs/redemption.md).
  const codesUsed = await recordCodeUses(
    tx,
    shop.id,
    items.flatMap((item) =>
      item.kind === 'order' && item.paidAt !== null
        ? [{ orderId: item.facts.orderId, codes: item.facts.discountCodes, usedAt: item.paidAt }]
        : [],
    ),
  );
  // …and an undone order may give the points spent on its code back, if the program says so.
  const pointsReturned = await settleRedemptionRefunds(tx, shop.id, orderIds, timeline, new Date());
  // A paid order with a member's friend code is a referral; a refund or cancellation may take its
  // reward back — in whatever order they arrive (docs/referrals.md).
  const now = new Date();
  const referred = await attributeReferrals(
    tx,
    shop,
    records.flatMap((record) =>
      record.paidAt !== null
        ? [
            {
              facts: record.facts,
              customerId: record.customerId,
              // Business time, as earning counts it: the program in force, the limits and the
              // reversal window count from it, whenever the delivery arrives (a replay, a retry).
              paidAt: new Date(record.facts.processedAt),
            },
          ]
        : [],
    ),
    now,
  );
  const reversed = await settleReferralReversals(tx, shop, orderIds, now);
  // Every ledger change re-evaluates its member's tier, in this transaction (docs/tiers.md);
  // referral points count as earned points, so referrers rewarded or reversed are evaluated too.
  const tiers = await evaluateMembers(
    tx,
    shop,
    [
      ...(await customersOfOrders(tx, shop.id, orderIds)),
      ...[...referred.values()].flatMap((r) =>
        r.status === 'rewarded' ? [r.referrerCustomerId] : [],
      ),
      ...[...reversed.values()].map((r) => r.referrerCustomerId),
    ],
    now,
  );
  const tierChangeOf = new Map(
    tiers.members.filter((m) => m.change).map((m) => [m.customerId, m.to]),
  );
  // Bodies about a redacted customer or order were applied without personal data; they go now.
  await dropRedactedPayloads(
    tx,
    shop.domain,
    items.map((item) => item.row.id),
  );

  for (const item of items) {
    const orderId = orderIdOf(item);
    const result = settled.get(orderId)!;
    outcomes.set(item.row.id, {
      ok: true,
      summary: {
        orderId,
        ...(item.kind === 'refund'
          ? {
              refundId: item.refund.refundId,
              refundRecorded: newRefunds.has(item.refund.refundId),
              merchandiseMinor: item.refund.merchandiseMinor,
            }
          : {
              customerId: item.facts.customer
                ? (customers.get(item.facts.customer.id) ?? null)
                : null,
              refundsRecorded: item.facts.refunds.filter((r) => newRefunds.has(r.refundId)).length,
            }),
        awardedPoints: result.award?.points ?? 0,
        entriesPosted: result.posted.length,
        pointsPosted: result.posted.reduce((sum, e) => sum + e.points, 0),
        ...(result.noAwardReason && { noAward: result.noAwardReason }),
        ...(rows.length > 1 && { batch: rows.length }),
        ...(result.award && tierChangeOf.has(result.award.customerId)
          ? { tier: tierChangeOf.get(result.award.customerId) }
          : {}),
        ...(codesUsed.has(orderId) && { redemptionsUsed: codesUsed.get(orderId)!.length }),
        ...(pointsReturned.has(orderId) && { redemptionsReturned: pointsReturned.get(orderId) }),
        ...referralOutcome(orderId, referred, reversed),
      },
    });
  }
}

/**
 * Handles order-topic rows (already locked and `received`) in the caller's transaction. A row
 * whose body is invalid, or whose shop is not installed, gets its error and writes nothing; the
 * others are recorded and settled together.
 */
export async function handleOrderRows(tx: Executor, rows: Row[]): Promise<Map<number, RowOutcome>> {
  const outcomes = new Map<number, RowOutcome>();
  const byShop = new Map<string, Row[]>();
  for (const row of rows) {
    const group = byShop.get(row.shopDomain);
    if (group) group.push(row);
    else byShop.set(row.shopDomain, [row]);
  }
  for (const [domain, group] of [...byShop].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    await handleShop(tx, domain, group, outcomes);
  }
  return outcomes;
}

/**
 * The facts the referral rules weigh (loyalty/referrals.ts referralVerdict, referralReversal), read
 * from what Laurel recorded: both parties' contact fingerprints, the friend's earlier orders and
 * referrals, the referrer's and the IP address's recent referrals, the program version in force,
 * an order's refunds and cancellation. Attribution, reversals and reviews
 * (app/models/referrals.server.ts) write the outcomes. Rules: docs/referrals.md.
 */
import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, ne, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customerFingerprints, customers, orderRefunds, orders, referrals } from '../../db/schema';
import type {
  CompiledReferralProgram,
  ReferralFacts,
  ReferralParty,
} from '../../loyalty/referrals';
import type { OrderFacts } from '../../loyalty/shopify-order';
import { contactFingerprints, fingerprintKeyOf, type ContactFacts } from './fingerprints.server';
import { clicksFromIp, findFriendCodes } from './referral-codes.server';
import { compileReferralProgram, listReferralPrograms } from './referral-programs.server';
import type { Shop } from './shops.server';

const DAY_MS = 86_400_000;
const count = sql<number>`count(*)::int`;

/** What an order says about the shopper's contact details, as fingerprints.server.ts reads them. */
export function orderContact(facts: OrderFacts): ContactFacts {
  return {
    emails: [facts.email, facts.customer?.email ?? null],
    addresses: [facts.shippingAddress, facts.billingAddress],
    phones: [facts.phone, facts.customer?.phone ?? null, ...facts.addressPhones],
  };
}

/**
 * Records the contact fingerprints of each order's customer (docs/referrals.md, "Privacy"): what
 * the fraud rules compare a later referral against. Guest orders have nobody to record them for; a
 * redacted customer gets nothing recorded again, whatever a late body says (docs/privacy.md).
 */
export async function recordOrderFingerprints(
  tx: Executor,
  shopId: number,
  ordersSeen: readonly { facts: OrderFacts; customerId: number | null }[],
): Promise<void> {
  const withCustomer = ordersSeen.filter((o) => o.customerId !== null);
  if (withCustomer.length === 0) return;
  const redacted = await redactedAmong(tx, shopId, [
    ...new Set(withCustomer.map((o) => o.customerId!)),
  ]);
  const key = await fingerprintKeyOf(tx, shopId);
  // One statement for the batch; the unique index keeps each fingerprint once per customer.
  const rows = withCustomer
    .filter((o) => !redacted.has(o.customerId!))
    .flatMap(({ facts, customerId }) =>
      contactFingerprints(key, orderContact(facts)).map((p) => ({
        shopId,
        customerId: customerId!,
        ...p,
      })),
    );
  if (rows.length === 0) return;
  // Sorted and once each: concurrent batches touch the unique index in one order.
  const unique = [...new Map(rows.map((r) => [`${r.customerId}:${r.kind}:${r.hash}`, r])).entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, row]) => row);
  await tx.insert(customerFingerprints).values(unique).onConflictDoNothing();
}

/** Of these customers, those redacted (docs/privacy.md): nothing of theirs is recorded again. */
export async function redactedAmong(
  tx: Executor,
  shopId: number,
  customerIds: readonly number[],
): Promise<Set<number>> {
  if (customerIds.length === 0) return new Set();
  const rows = await tx
    .select({ id: customers.id })
    .from(customers)
    .where(
      and(
        eq(customers.shopId, shopId),
        inArray(customers.id, [...customerIds]),
        isNotNull(customers.redactedAt),
      ),
    );
  return new Set(rows.map((r) => r.id));
}

/**
 * The customers whose balance a batch of order deliveries may change through referrals: the
 * members whose friend codes the orders carry, and the referrers of referrals already made on these
 * orders (a refund takes their reward back). The worker locks them with the orders' own customers
 * before anything else (customers.server.ts lockCustomers).
 */
export async function referralParties(
  tx: Executor,
  shopId: number,
  batch: { discountCodes: readonly string[]; shopifyOrderIds: readonly string[] },
): Promise<number[]> {
  const parties = new Set<number>();
  for (const code of (await findFriendCodes(tx, shopId, batch.discountCodes)).values()) {
    parties.add(code.customerId);
  }
  if (batch.shopifyOrderIds.length > 0) {
    const rows = await tx
      .select({ referrer: referrals.referrerCustomerId })
      .from(referrals)
      .where(
        and(
          eq(referrals.shopId, shopId),
          inArray(referrals.shopifyOrderId, [...new Set(batch.shopifyOrderIds)]),
        ),
      );
    for (const row of rows) parties.add(row.referrer);
  }
  return [...parties].sort((a, b) => a - b);
}

/** The shop's referral program versions, compiled, to find the one in force at any time. */
export async function referralProgramVersions(tx: Executor, shop: Shop) {
  const versions = (await listReferralPrograms(tx, shop.id)).map((row) => ({
    version: row.version,
    effectiveFrom: row.effectiveFrom.getTime(),
    program: compileReferralProgram(row.definition, shop.currency),
  }));
  return {
    byVersion: new Map(versions.map((v) => [v.version, v])),
    /** As currentReferralProgram: the newest effective at `at`, the higher version on a tie. */
    at(at: Date) {
      let found: (typeof versions)[number] | undefined;
      for (const v of versions) {
        if (v.effectiveFrom > at.getTime()) continue;
        if (
          !found ||
          v.effectiveFrom > found.effectiveFrom ||
          (v.effectiveFrom === found.effectiveFrom && v.version > found.version)
        ) {
          found = v;
        }
      }
      return found;
    },
  };
}

/**
 * Serialises attribution per friend and per referrer until the transaction ends, so "a friend is
 * referred once" and the referrer's limit hold between concurrent batches. Advisory locks in the
 * single-key space (lockOrders uses the two-key one), taken in one sorted statement.
 */
export async function lockParties(
  tx: Executor,
  shopId: number,
  keys: Iterable<string>,
): Promise<void> {
  const sorted = [...new Set(keys)].map((k) => `referral:${shopId}:${k}`).sort();
  if (sorted.length === 0) return;
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(${sql.param(sorted)}::text[]) AS k`,
  );
}

export function mergeParty(
  recorded: Omit<ReferralParty, 'customerId'> | null,
  order: { kind: 'email' | 'address' | 'phone'; hash: string }[],
): Omit<ReferralParty, 'customerId'> {
  const of = (kind: string, mine: readonly string[]) => [
    ...new Set([...mine, ...order.filter((p) => p.kind === kind).map((p) => p.hash)]),
  ];
  return {
    emails: of('email', recorded?.emails ?? []),
    addresses: of('address', recorded?.addresses ?? []),
    phones: of('phone', recorded?.phones ?? []),
  };
}

/** The facts referralVerdict weighs for one order (loyalty/referrals.ts ReferralFacts). */
export async function referralFacts(
  tx: Executor,
  shopId: number,
  program: CompiledReferralProgram,
  input: {
    order: { facts: OrderFacts; customerId: number | null; paidAt: Date };
    referrerId: number;
    referrer: Omit<ReferralParty, 'customerId'>;
    friendPrints: Omit<ReferralParty, 'customerId'>;
    ipHash: string | null;
  },
): Promise<ReferralFacts> {
  const { facts, customerId, paidAt } = input.order;
  // The friend is their account and, for orders without one, the email they gave.
  const friendOrders = or(
    ...(customerId !== null ? [eq(orders.customerId, customerId)] : []),
    ...(facts.email !== null ? [eq(orders.email, facts.email)] : []),
  );
  let friendEarlierOrders = 0;
  let friendReferredBefore = false;
  if (friendOrders) {
    const [earlier] = await tx
      .select({ n: count })
      .from(orders)
      .where(
        and(
          eq(orders.shopId, shopId),
          friendOrders,
          ne(orders.shopifyOrderId, facts.orderId),
          isNotNull(orders.paidAt),
          isNull(orders.cancelledAt),
          sql`coalesce(${orders.processedAt}, ${orders.createdAt}) < ${new Date(facts.processedAt)}`,
        ),
      );
    friendEarlierOrders = earlier?.n ?? 0;
    const [before] = await tx
      .select({ n: count })
      .from(referrals)
      .where(
        and(
          eq(referrals.shopId, shopId),
          ne(referrals.shopifyOrderId, facts.orderId),
          or(
            ...(customerId !== null ? [eq(referrals.friendCustomerId, customerId)] : []),
            sql`${referrals.shopifyOrderId} IN (SELECT ${orders.shopifyOrderId} FROM ${orders} WHERE ${orders.shopId} = ${shopId} AND ${friendOrders})`,
          ),
        ),
      );
    friendReferredBefore = (before?.n ?? 0) > 0;
  }

  const referrerSince = new Date(paidAt.getTime() - program.referrerLimit.periodDays * DAY_MS);
  const [recent] = await tx
    .select({ n: count })
    .from(referrals)
    .where(
      and(
        eq(referrals.shopId, shopId),
        eq(referrals.referrerCustomerId, input.referrerId),
        ne(referrals.status, 'rejected'),
        gt(referrals.paidAt, referrerSince),
        lte(referrals.paidAt, paidAt),
      ),
    );

  let ipRecentUses: number | null = null;
  if (input.ipHash !== null) {
    const ipSince = new Date(paidAt.getTime() - program.ipLimit.periodDays * DAY_MS);
    const [fromIp] = await tx
      .select({ n: count })
      .from(referrals)
      .where(
        and(
          eq(referrals.shopId, shopId),
          eq(referrals.ipHash, input.ipHash),
          gt(referrals.paidAt, ipSince),
          lte(referrals.paidAt, paidAt),
        ),
      );
    ipRecentUses = Math.max(fromIp?.n ?? 0, await clicksFromIp(tx, shopId, input.ipHash, ipSince));
  }

  return {
    referrer: { customerId: input.referrerId, ...input.referrer },
    friend: { customerId, ...input.friendPrints },
    friendEarlierOrders,
    friendReferredBefore,
    orderAmountMinor: facts.earnAmountMinor,
    referrerRecentReferrals: recent?.n ?? 0,
    ipRecentUses,
  };
}

/** Each order's refunds (merchandise and when) and cancellation, as Laurel recorded them. */
export async function orderStates(
  tx: Executor,
  shopId: number,
  shopifyOrderIds: readonly string[],
) {
  const ids = [...new Set(shopifyOrderIds)];
  const orderRows = await tx
    .select({ id: orders.shopifyOrderId, cancelledAt: orders.cancelledAt })
    .from(orders)
    .where(and(eq(orders.shopId, shopId), inArray(orders.shopifyOrderId, ids)));
  const refundRows = await tx
    .select({
      orderId: orderRefunds.shopifyOrderId,
      merchandiseMinor: orderRefunds.merchandiseMinor,
      processedAt: orderRefunds.processedAt,
    })
    .from(orderRefunds)
    .where(and(eq(orderRefunds.shopId, shopId), inArray(orderRefunds.shopifyOrderId, ids)))
    .orderBy(asc(orderRefunds.id));
  const states = new Map<
    string,
    { cancelledAt: number | null; refunds: { merchandiseMinor: number; at: number }[] }
  >();
  for (const id of ids) states.set(id, { cancelledAt: null, refunds: [] });
  for (const row of orderRows) states.get(row.id)!.cancelledAt = row.cancelledAt?.getTime() ?? null;
  for (const row of refundRows) {
    states.get(row.orderId)!.refunds.push({
      merchandiseMinor: Number(row.merchandiseMinor),
      at: row.processedAt.getTime(),
    });
  }
  return states;
}

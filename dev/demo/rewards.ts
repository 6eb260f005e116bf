/**
 * The demo store's rewards catalog — one reward of every type, plus one only a tier may redeem (so
 * the storefront shows every reason a reward is out of reach) — and one redemption end to end,
 * printed as a line: the top member redeems through the app proxy exactly as Shopify forwards a
 * shopper's request (signed), Shopify (the emulator) gets the customer's single-use code, an order
 * uses it (orders/paid through the real webhook endpoint), and the redemption ends `used`.
 *
 * Re-runs show the same redemption: its request id is fixed, so the proxy answers the redemption
 * it made the first time (idempotency), and the order's webhook id is fixed too.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../../db/client.server';
import { appProxySignature } from '../../app/app-proxy.server';
import { getRedemption, type Redemption } from '../../app/models/redemptions.server';
import { createReward, listRewards } from '../../app/models/rewards.server';
import { formatMinorMoney } from '../../loyalty/explain';
import { orderPayload } from '../shopify-payloads';
import type { AdminEmulator } from '../emulator/server';
import { webhookIdFor } from './deliveries';
import { DEMO_FREE_PRODUCT_VARIANT_GID } from './emulator-seed';
import { replayDeliveries } from './replay';

/** The catalog, in display order. The first is the one the demo redeems. */
export function demoCatalog(freeProductVariantGid = DEMO_FREE_PRODUCT_VARIANT_GID): unknown[] {
  return [
    // No per-customer or per-period limit: the top members can redeem it several times.
    { type: 'fixed_amount', title: '$5 off your next order', pointsCost: 100, amountMinor: 500 },
    {
      type: 'percentage',
      title: '10% off your order',
      pointsCost: 250,
      percentage: 10,
      minimumOrderMinor: 3000,
      limitPerPeriod: { count: 1, days: 30 },
    },
    {
      type: 'free_shipping',
      title: 'Free shipping',
      pointsCost: 150,
      expiryDays: 14,
      refundPointsOnExpiry: true,
    },
    {
      type: 'free_product',
      title: 'A free 50 g tin of Gyokuro Reserve',
      pointsCost: 400,
      variantId: freeProductVariantGid,
      limitPerCustomer: 1,
    },
    { type: 'store_credit', title: '$10 store credit', pointsCost: 200, amountMinor: 1000 },
    {
      type: 'points_slider',
      title: 'Choose your discount',
      slider: { pointsPerUnit: 20, minPoints: 100, maxPoints: 1000, stepPoints: 20 },
    },
    {
      type: 'fixed_amount',
      title: 'Gold members: $25 off',
      pointsCost: 400,
      amountMinor: 2500,
      tiers: ['gold'],
    },
  ];
}

/** Creates the catalog once: a store that already has rewards (a re-run) keeps its own. */
export async function seedRewardCatalog(db: Database, shopId: number): Promise<number> {
  if ((await listRewards(db, shopId, { includeArchived: true })).length > 0) return 0;
  const catalog = demoCatalog();
  for (const [position, definition] of catalog.entries()) {
    await createReward(db, shopId, definition, { position: position + 1 });
  }
  return catalog.length;
}

/**
 * The member the demo redeems for: the most points earned (which a redemption does not change, so
 * every run picks the same member), the lowest Shopify id on a tie.
 */
export function topMember<M extends { externalId: string; lifetimeEarned: number }>(
  members: readonly M[],
): M | undefined {
  return [...members].sort(
    (a, b) => b.lifetimeEarned - a.lifetimeEarned || Number(a.externalId) - Number(b.externalId),
  )[0];
}

export interface DemoRedemptionOptions {
  db: Database;
  shopId: number;
  shop: string;
  currency: string;
  secret: string;
  baseUrl: string;
  emulator: AdminEmulator;
  /** The member who redeems: Shopify id, display name, and what the order's customer says. */
  member: {
    externalId: string;
    name: string;
    email: string | null;
    firstName: string | null;
    lastName: string | null;
  };
  /** When the run waits for the order to mark the code used. */
  timeoutMs: number;
}

export interface DemoRedemption {
  ok: boolean;
  line: string;
}

/** The query Shopify's app proxy sends with a shopper's request, signed with the app's secret. */
function signedProxyQuery(shop: string, customerId: string, secret: string): string {
  const query = new Map<string, string[]>([
    ['shop', [shop]],
    ['logged_in_customer_id', [customerId]],
    ['path_prefix', ['/apps/loyalty']],
    ['timestamp', [String(Math.trunc(Date.now() / 1000))]],
  ]);
  query.set('signature', [appProxySignature(query, secret)]);
  return new URLSearchParams([...query].map(([name, [value]]) => [name, value!])).toString();
}

async function waitForStatus(
  db: Database,
  shopId: number,
  redemptionId: number,
  status: Redemption['status'],
  timeoutMs: number,
): Promise<Redemption | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const redemption = await getRedemption(db, shopId, redemptionId);
    if (redemption?.status === status || Date.now() > deadline) return redemption;
    await sleep(200);
  }
}

const day = (date: Date | null) => (date ? date.toISOString().slice(0, 10) : 'never');

/**
 * The demo's redemption, end to end, as one line. Not ok (with the reason in the line) when any
 * step answers otherwise than a shopper would see on a working store.
 */
export async function demoRedemption(options: DemoRedemptionOptions): Promise<DemoRedemption> {
  const { db, shopId, shop, member } = options;
  const [reward] = await listRewards(db, shopId);
  if (!reward) return { ok: false, line: 'Redemption: the store has no rewards to redeem.' };
  const requestId = `demo-${member.externalId}-first-redemption`;
  const response = await fetch(
    `${options.baseUrl}/proxy/redeem?${signedProxyQuery(shop, member.externalId, options.secret)}`,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ rewardId: String(reward.id), requestId }),
    },
  );
  const body = (await response.json()) as {
    redemption?: { id: string; code: string | null; points: number };
    error?: { code: string; message: string };
  };
  if (response.status !== 200 || !body.redemption?.code) {
    const why = body.error
      ? `${body.error.code}: ${body.error.message}`
      : `HTTP ${response.status}`;
    return {
      ok: false,
      line: `Redemption: ${member.name} could not redeem "${reward.definition.title}" (${why}).`,
    };
  }
  const redemptionId = Number(body.redemption.id);
  const code = body.redemption.code;
  const discount = options.emulator.state.discountByCode(shop, code);

  // The shopper applies the code at checkout and pays: Shopify counts the use and sends orders/paid.
  const orderId = 9_000_000_000 + redemptionId;
  const order = orderPayload({
    id: orderId,
    name: `#R${redemptionId}`,
    // The customer as Shopify has them: an order's customer object updates the member's details.
    customer: {
      id: Number(member.externalId),
      email: member.email,
      firstName: member.firstName,
      lastName: member.lastName,
    },
    email: member.email,
    subtotal: '25.00',
    discounts: [{ code, amount: '5.00' }],
  });
  if (discount && discount.usageCount === 0) options.emulator.state.useDiscountCode(shop, code);
  await replayDeliveries({
    baseUrl: options.baseUrl,
    shop,
    secret: options.secret,
    deliveries: [
      {
        topic: 'orders/paid',
        payload: order,
        webhookId: webhookIdFor(shop, 'orders/paid', orderId),
      },
    ],
  });
  const used = await waitForStatus(db, shopId, redemptionId, 'used', options.timeoutMs);
  const money = formatMinorMoney(reward.definition.amountMinor ?? 0, options.currency, 'en');
  const shopify = discount
    ? `Shopify: ${money} off, for ${member.name} only, once, until ${day(used?.expiresAt ?? null)}`
    : 'created in Shopify on an earlier run';
  const line =
    `Redemption: ${member.name} spent ${body.redemption.points} points on "${reward.definition.title}" → ` +
    `code ${code} (${shopify}) → used on order ${order.name as string} → status ${used?.status ?? 'unknown'}.`;
  return { ok: used?.status === 'used', line };
}

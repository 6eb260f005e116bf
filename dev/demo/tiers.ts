/**
 * The demo store's tiers and early access (docs/demo.md, "Tiers and early access"):
 *
 * - Bronze / Silver / Gold / Platinum on money spent over a rolling 12 months, published before the
 *   replay (effective from the start of the history), so members move up as their orders are
 *   processed and each award carries the multiplier of the tier held when it was posted. The
 *   thresholds ($250, $500, $700) are set from the generated history's spend: of 200 customers,
 *   about 35 reach Silver, 10 Gold and 3 Platinum; everyone else is Bronze (threshold 0).
 * - An early-access window on the store's matcha (dev/demo/storefront.ts) — Gold and above from
 *   now, everyone in a week — saved through the real service (checked at the Admin API emulator)
 *   and mirrored to the product's metafield by the real sync, so the preview's early-access block
 *   and the checkout Function's input read what Shopify would hold. Each run archives the
 *   previous run's window and makes a new one from its own clock (the emulator starts empty).
 * - The independent check of multipliers ({@link awardMultipliers}): which tier a member held when
 *   each award was posted is read from the ledger's own tier-change entries before it; the demo's
 *   expectation (dev/demo/expected.ts) multiplies its band points by that tier's multiplier, as
 *   written here, not as Laurel compiled it.
 *
 * No entry rewards: they would be points the purchase report does not list; the tier rules for
 * them are tested beside the evaluation (app/models/tier-evaluation.server.test.ts).
 */
import { and, asc, eq, isNull } from 'drizzle-orm';
import type { Logger } from 'pino';
import { appProxySignature } from '../../app/app-proxy.server';
import { archiveEarlyAccessWindow, saveEarlyAccessWindow } from '../../app/early-access.server';
import { syncShopEarlyAccess } from '../../app/early-access-sync.server';
import { countMembersByTier } from '../../app/models/tier-members.server';
import { currentTierProgram, publishTierProgram } from '../../app/models/tiers.server';
import type { AdminClient } from '../../app/shopify/admin-client.server';
import type { Database, Executor } from '../../db/client.server';
import { customers, customerTiers, earlyAccessWindows, ledgerEntries } from '../../db/schema';
import { localTimeText } from '../../loyalty/early-access';
import type { TierProgramDefinition } from '../../loyalty/tiers';
import { demoEarlyAccessProduct } from './storefront';

/** The demo store's tiers (USD). Multipliers as decimal text, as a merchant types them. */
export const DEMO_TIERS = {
  metric: 'spend',
  window: 'rolling_12_months',
  currency: 'USD',
  graceDays: 30,
  tagPrefix: 'laurel-tier-',
  tiers: [
    { key: 'bronze', name: 'Bronze', threshold: '0.00', multiplier: '1' },
    { key: 'silver', name: 'Silver', threshold: '250.00', multiplier: '1.25' },
    { key: 'gold', name: 'Gold', threshold: '500.00', multiplier: '1.5', freeShipping: true },
    {
      key: 'platinum',
      name: 'Platinum',
      threshold: '700.00',
      multiplier: '2',
      freeShipping: true,
    },
  ],
} satisfies TierProgramDefinition;

/** Publishes the demo's tiers effective `from` (the history's start) unless the shop has tiers. */
export async function ensureDemoTiers(db: Executor, shopId: number, from: Date): Promise<void> {
  if (await currentTierProgram(db, shopId)) return;
  await publishTierProgram(db, shopId, DEMO_TIERS, from);
}

/** "1.25" → 12500: the demo's own reading of its multipliers (not loyalty/tiers.ts's). */
function bpsOf(multiplier: string): number {
  const [whole, fraction = ''] = multiplier.split('.');
  return Number(whole) * 10_000 + Number(fraction.padEnd(4, '0'));
}

const MULTIPLIER_BPS = new Map<string, number>(
  DEMO_TIERS.tiers.map((t) => [t.key, bpsOf(t.multiplier)]),
);

export interface AwardMultipliers {
  /** Shopify order id → the multiplier (basis points) its award should carry. */
  byOrder: Map<string, number>;
  /** Awards above ×1 (the check is not vacuous). */
  multiplied: number;
  /** Awards whose recorded multiplier is not their member's tier's. */
  problems: string[];
}

/**
 * For each order award in the ledger, the multiplier of the tier its member held when it was
 * posted — according to the ledger's tier-change entries before it (by entry id) and the demo's
 * tier definitions — and whether the award recorded that multiplier.
 */
export async function awardMultipliers(db: Executor, shopId: number): Promise<AwardMultipliers> {
  const rows = await db
    .select({
      id: ledgerEntries.id,
      customer: customers.externalId,
      key: ledgerEntries.idempotencyKey,
      inputs: ledgerEntries.inputs,
    })
    .from(ledgerEntries)
    .innerJoin(customers, eq(customers.id, ledgerEntries.customerId))
    .where(eq(ledgerEntries.shopId, shopId))
    .orderBy(asc(ledgerEntries.id));
  const held = new Map<string, string | null>();
  const byOrder = new Map<string, number>();
  const problems: string[] = [];
  let multiplied = 0;
  for (const row of rows) {
    const inputs = (row.inputs ?? {}) as {
      rule?: string;
      to?: string | null;
      multipliers?: { source: string; id: string; factorBps: number }[];
    };
    if (inputs.rule === 'tier-change') {
      held.set(row.customer, inputs.to ?? null);
      continue;
    }
    const award = /^order:(\d+):earn$/.exec(row.key);
    if (!award) continue;
    const tier = held.get(row.customer) ?? null;
    const expected = (tier && MULTIPLIER_BPS.get(tier)) || 10_000;
    byOrder.set(award[1]!, expected);
    if (expected > 10_000) multiplied++;
    const recorded = inputs.multipliers?.find((m) => m.source === 'tier');
    const recordedBps = recorded?.factorBps ?? 10_000;
    if (recordedBps !== expected || (recorded && !recorded.id.startsWith(`${tier}@`))) {
      problems.push(
        `${row.key} (customer ${row.customer}) recorded ${recorded ? `${recorded.id} ×${recordedBps / 10_000}` : 'no multiplier'}, but the ledger's tier changes before it say ${tier ?? 'no tier'} (×${expected / 10_000})`,
      );
    }
  }
  return { byOrder, multiplied, problems };
}

/** "Tiers: 150 Bronze, 35 Silver, 10 Gold, 3 Platinum" (members per tier, from customer_tiers). */
export async function tiersLine(db: Executor, shopId: number): Promise<string> {
  const counts = await countMembersByTier(db, shopId);
  const parts = DEMO_TIERS.tiers.map((t) => `${counts.byTier.get(t.key) ?? 0} ${t.name}`);
  if (counts.none + counts.unevaluated > 0)
    parts.push(`${counts.none + counts.unevaluated} without a tier`);
  return `Tiers: ${parts.join(', ')} (spend over a rolling 12 months: Silver from $250, Gold $500, Platinum $700).`;
}

/** A member of `tierKey` (lowest Shopify id, so runs agree), or undefined when none holds it. */
export async function memberOfTier(
  db: Executor,
  shopId: number,
  tierKey: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ externalId: customers.externalId })
    .from(customerTiers)
    .innerJoin(customers, eq(customers.id, customerTiers.customerId))
    .where(and(eq(customerTiers.shopId, shopId), eq(customerTiers.tierKey, tierKey)))
    .orderBy(asc(customers.externalId))
    .limit(1);
  return row?.externalId;
}

export interface DemoEarlyAccess {
  ok: boolean;
  /** What the demo prints about it. */
  lines: string[];
}

/**
 * The demo's early-access window on the matcha, "Gold and above from now; everyone from now + 7
 * days" (shop time), saved and mirrored through the real service and sync; then, for a Gold and a
 * Bronze member, their preview link on the product and what the app proxy answers them.
 */
export async function demoEarlyAccess(options: {
  db: Database;
  shopId: number;
  shop: string;
  timezone: string;
  admin: AdminClient;
  log: Logger;
  appUrl: string;
  baseUrl: string;
  secret: string;
  names: Map<string, string>;
  now?: Date;
}): Promise<DemoEarlyAccess> {
  const { db, shopId } = options;
  const now = options.now ?? new Date();
  const product = demoEarlyAccessProduct();
  // The previous run's window (its clock, its emulator) gives way to this run's.
  const previous = await db
    .select({ id: earlyAccessWindows.id })
    .from(earlyAccessWindows)
    .where(and(eq(earlyAccessWindows.shopId, shopId), isNull(earlyAccessWindows.archivedAt)));
  for (const { id } of previous) await archiveEarlyAccessWindow({ db, shopId, now }, id);
  const local = (ms: number) => localTimeText(ms, options.timezone).slice(0, 16);
  const minute = Math.floor(now.getTime() / 60_000) * 60_000;
  const everyone = minute + 7 * 86_400_000;
  await saveEarlyAccessWindow(
    { db, shopId, admin: options.admin, now },
    {
      name: 'First harvest: Gold first',
      target: { type: 'product', id: String(product.id) },
      stages: [{ tier: 'gold', opensAt: local(minute) }],
      everyoneAt: local(everyone),
    },
  );
  const synced = await syncShopEarlyAccess({ db, shop: options.shop, log: options.log });
  const lines = [
    `Early access: ${product.title}, Gold and above from now, everyone from ${local(everyone).replace('T', ' ')} (${options.timezone}); ${
      synced.status === 'synced'
        ? `mirrored to the product's metafield (${synced.written} written), checkout validation ${synced.validation}`
        : `the mirror sync did not run (${synced.reason})`
    }.`,
  ];
  let ok = synced.status === 'synced' && synced.failed === 0;
  for (const [label, tier, allowed] of [
    ['A Gold shopper', 'gold', true],
    ['A Bronze shopper', 'bronze', false],
  ] as const) {
    const customer = await memberOfTier(db, shopId, tier);
    if (!customer) {
      lines.push(`  ${label}: no member holds ${tier} in this store.`);
      continue;
    }
    const answer = await proxyAnswer(options, customer, String(product.id));
    const who = options.names.get(customer) || customer;
    const url = `${options.appUrl}/dev/preview?customer=${customer}&product=${product.handle}`;
    lines.push(
      `  ${`${label}:`.padEnd(23)} ${url} (${who}); proxy: allowed ${answer.allowed}${answer.opensAt ? `, opens ${answer.opensAt}` : ''}`,
    );
    if (answer.allowed !== allowed) ok = false;
  }
  return { ok, lines };
}

/** GET /apps/loyalty/early-access as Shopify's app proxy forwards it for a logged-in shopper. */
async function proxyAnswer(
  options: { shop: string; secret: string; baseUrl: string },
  customerId: string,
  productId: string,
): Promise<{ allowed: boolean; opensAt: string | null }> {
  const query = new Map<string, string[]>([
    ['shop', [options.shop]],
    ['logged_in_customer_id', [customerId]],
    ['path_prefix', ['/apps/loyalty']],
    ['product', [productId]],
    ['timestamp', [String(Math.trunc(Date.now() / 1000))]],
  ]);
  query.set('signature', [appProxySignature(query, options.secret)]);
  const search = new URLSearchParams([...query].map(([name, [value]]) => [name, value!]));
  const response = await fetch(`${options.baseUrl}/proxy/early-access?${search}`);
  if (!response.ok) {
    throw new Error(`the early-access proxy answered ${response.status}: ${await response.text()}`);
  }
  return (await response.json()) as { allowed: boolean; opensAt: string | null };
}

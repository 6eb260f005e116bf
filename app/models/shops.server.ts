import { eq, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/client.server';
import {
  customerBalances,
  customerDataRequests,
  customerFingerprints,
  customers,
  ledgerEntries,
  orderRefunds,
  orders,
  programs,
  referralClicks,
  historyImports,
  referralCodes,
  referrals,
  sessions,
  shopFingerprintKeys,
  shops,
  webhookInbox,
} from '../../db/schema';
import { isKnownCurrency } from '../../loyalty/money';
import { isValidTimeZone } from '../../loyalty/time';
import { AppError, ErrorCode } from '../errors';
import { isMyshopifyDomain } from '../../loyalty/shop-domain';

export type Shop = typeof shops.$inferSelect;

export interface ShopInput {
  /** The permanent `<handle>.myshopify.com` domain (any letter case; stored lower-case). */
  domain: string;
  /** ISO 4217 code. Omitted: the stored value is kept (USD for a new shop). */
  currency?: string;
  /** IANA timezone. Omitted: the stored value is kept (UTC for a new shop). */
  timezone?: string;
  name?: string | null;
}

/** Lower-cases and checks a `*.myshopify.com` domain; throws VALIDATION naming the value. */
export function normalizeShopDomain(domain: string): string {
  const normalized = typeof domain === 'string' ? domain.trim().toLowerCase() : '';
  if (!isMyshopifyDomain(normalized)) {
    throw new AppError(
      ErrorCode.VALIDATION,
      `shop domain ${JSON.stringify(domain)} is not a *.myshopify.com domain (e.g. laurel-demo.myshopify.com)`,
      { field: 'domain', value: domain },
    );
  }
  return normalized;
}

function checkShopInput(input: ShopInput): void {
  if (input.currency !== undefined && !isKnownCurrency(input.currency)) {
    throw new AppError(
      ErrorCode.VALIDATION,
      `shop currency ${JSON.stringify(input.currency)} is not a known ISO 4217 code such as "USD"`,
      { field: 'currency', value: input.currency },
    );
  }
  if (input.timezone !== undefined && !isValidTimeZone(input.timezone)) {
    throw new AppError(
      ErrorCode.VALIDATION,
      `shop timezone ${JSON.stringify(input.timezone)} is not an IANA timezone such as "America/New_York"`,
      { field: 'timezone', value: input.timezone },
    );
  }
  if (input.name !== undefined && input.name !== null && typeof input.name !== 'string') {
    throw new AppError(ErrorCode.VALIDATION, 'shop name must be text', { field: 'name' });
  }
}

/**
 * Creates the shop or returns the existing one, in one upsert (safe under concurrent installs).
 * Fields given overwrite the stored ones; omitted fields are kept. An uninstalled shop is
 * reactivated, with installed_at reset to now.
 */
export async function ensureShop(db: Executor, input: ShopInput): Promise<Shop> {
  const domain = normalizeShopDomain(input.domain);
  checkShopInput(input);
  const set: PgUpdateSetSource<typeof shops> = {
    active: true,
    uninstalledAt: null,
    installedAt: sql`CASE WHEN ${shops.active} THEN ${shops.installedAt} ELSE now() END`,
  };
  if (input.currency !== undefined) set.currency = input.currency;
  if (input.timezone !== undefined) set.timezone = input.timezone;
  if (input.name !== undefined) set.name = input.name;
  const [row] = await db
    .insert(shops)
    .values({
      domain,
      ...(input.currency !== undefined && { currency: input.currency }),
      ...(input.timezone !== undefined && { timezone: input.timezone }),
      ...(input.name !== undefined && { name: input.name }),
    })
    .onConflictDoUpdate({ target: shops.domain, set })
    .returning();
  return row!;
}

export async function getShopByDomain(db: Executor, domain: string): Promise<Shop | undefined> {
  const [row] = await db
    .select()
    .from(shops)
    .where(eq(shops.domain, normalizeShopDomain(domain)));
  return row;
}

export async function getShop(db: Executor, shopId: number): Promise<Shop | undefined> {
  const [row] = await db.select().from(shops).where(eq(shops.id, shopId));
  return row;
}

/** Like getShop, but a missing shop is a NOT_FOUND error. */
export async function requireShop(db: Executor, shopId: number): Promise<Shop> {
  const shop = await getShop(db, shopId);
  if (!shop) throw new AppError(ErrorCode.NOT_FOUND, `shop ${shopId} does not exist`, { shopId });
  return shop;
}

/**
 * app/uninstalled: marks the shop inactive. Repeatable — a redelivery keeps the first
 * uninstalled_at. Returns undefined when the shop no longer exists (e.g. already redacted).
 */
export async function markShopUninstalled(db: Executor, shopId: number): Promise<Shop | undefined> {
  const [row] = await db
    .update(shops)
    .set({ active: false, uninstalledAt: sql`coalesce(${shops.uninstalledAt}, now())` })
    .where(eq(shops.id, shopId))
    .returning();
  return row;
}

/**
 * Deletes the shop's Shopify sessions (access tokens), as app/uninstalled requires: the token is
 * revoked by then. Returns how many were deleted. Keyed by domain: sessions can exist before the shop row.
 */
export async function deleteShopSessions(db: Executor, domain: string): Promise<number> {
  const rows = await db
    .delete(sessions)
    .where(eq(sessions.shop, normalizeShopDomain(domain)))
    .returning({ id: sessions.id });
  return rows.length;
}

/**
 * shop/redact: deletes every row of the shop — ledger, balances, orders, customers, programs,
 * its Shopify sessions and webhook inbox rows — and the shop itself, in one transaction. Tables
 * added later that reference shops cascade. Returns false when there was no such shop.
 */
export async function deleteShopData(db: Executor, shopId: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [shop] = await tx
      .select({ domain: shops.domain })
      .from(shops)
      .where(eq(shops.id, shopId))
      .for('update');
    if (!shop) return false;
    // Children first, explicitly, so the intent does not hang on cascade settings.
    await tx.delete(ledgerEntries).where(eq(ledgerEntries.shopId, shopId));
    await tx.delete(customerBalances).where(eq(customerBalances.shopId, shopId));
    await tx.delete(orderRefunds).where(eq(orderRefunds.shopId, shopId));
    await tx.delete(orders).where(eq(orders.shopId, shopId));
    await tx.delete(customerDataRequests).where(eq(customerDataRequests.shopId, shopId));
    // An import still waiting holds the uploaded file, emails included.
    await tx.delete(historyImports).where(eq(historyImports.shopId, shopId));
    // Referrals: contact fingerprints and IP hashes are personal data in their own right.
    await tx.delete(referralClicks).where(eq(referralClicks.shopId, shopId));
    await tx.delete(referrals).where(eq(referrals.shopId, shopId));
    await tx.delete(referralCodes).where(eq(referralCodes.shopId, shopId));
    await tx.delete(customerFingerprints).where(eq(customerFingerprints.shopId, shopId));
    await tx.delete(shopFingerprintKeys).where(eq(shopFingerprintKeys.shopId, shopId));
    await tx.delete(customers).where(eq(customers.shopId, shopId));
    await tx.delete(programs).where(eq(programs.shopId, shopId));
    await tx.delete(sessions).where(eq(sessions.shop, shop.domain));
    await tx.delete(webhookInbox).where(eq(webhookInbox.shopDomain, shop.domain));
    await tx.delete(shops).where(eq(shops.id, shopId));
    return true;
  });
}

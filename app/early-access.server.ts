/**
 * Early access as the app runs it: saving a window (validated against the shop's timezone and tier
 * program, its product or collection checked at Shopify, the products it covers marked for the
 * mirror sync), archiving one, re-mirroring a shop after its tiers changed, and the decision the
 * app proxy answers for one shopper. The rules are pure (loyalty/early-access.ts); the mirror
 * reaches Shopify through app/early-access-sync.server.ts. docs/early-access.md.
 */
import type { Database, Executor } from '../db/client.server';
import {
  combinedDecision,
  compileSavedWindow,
  earlyAccessDecision,
  EarlyAccessError,
  parseEarlyAccessWindow,
  targetNumericId,
  type EarlyAccessPhase,
} from '../loyalty/early-access';
import { getDatabase } from './db.server';
import { AppError, ErrorCode, validationFrom } from './errors';
import { CollectionProducts, ProductTitle, type CollectionProductsResult } from './graphql';
import { findCustomerByExternalId } from './models/customers.server';
import {
  archiveWindow,
  createWindow,
  lockShopMirrors,
  markProductMirrorsPending,
  MIRROR_GRACE_MS,
  mirroredProducts,
  productsMirroringWindow,
  productsWithStaleWindows,
  windowsCoveringProduct,
  type EarlyAccessWindow,
  type WindowContext,
} from './models/early-access.server';
import { getShopByDomain, requireShop, type Shop } from './models/shops.server';
import { currentTierProgram, memberTier } from './models/tiers.server';
import { AdminApiError, type AdminClient } from './shopify/admin-client.server';

/** Products read per collection page (Shopify's maximum). */
const COLLECTION_PAGE = 250;

export interface EarlyAccessDeps {
  db: Database;
  shopId: number;
  /** The shop's Admin API client (the emulator's in development). */
  admin: AdminClient;
  now?: Date;
  /**
   * Asks the worker for a mirror sync once the change committed (enqueueEarlyAccessSync in
   * workers/handlers/early-access.ts). Without it the periodic sweep finds the pending products.
   */
  requestSync?: (shop: string) => Promise<unknown>;
}

export interface SavedEarlyAccessWindow {
  window: EarlyAccessWindow;
  /** Products whose mirror changed (all the collection's, for a collection window). */
  products: string[];
}

const productGid = (id: string) => `gid://shopify/Product/${id}`;
const collectionGid = (id: string) => `gid://shopify/Collection/${id}`;

function targetMissing(type: 'product' | 'collection', id: string, shop: string): AppError {
  const message = `no ${type} ${id} in ${shop}`;
  return new AppError(ErrorCode.VALIDATION, `invalid early-access window: target.id: ${message}`, {
    issues: [{ path: 'target.id', message }],
  });
}

function upstream(error: unknown, what: string): never {
  if (error instanceof AdminApiError) {
    throw new AppError(
      ErrorCode.UPSTREAM,
      `Shopify could not be asked for ${what}; nothing was saved (${error.code})`,
      { shopify: error.code },
      { cause: error },
    );
  }
  throw error;
}

/** The window's product ids at Shopify and its title; VALIDATION when Shopify has no such target. */
async function resolveTarget(
  admin: AdminClient,
  shop: Shop,
  target: { type: 'product' | 'collection'; id: string },
): Promise<{ title: string; productIds: string[] }> {
  const id = targetNumericId(target.id);
  if (target.type === 'product') {
    const data = await admin
      .request(ProductTitle, { id: productGid(id) })
      .catch((error: unknown) => upstream(error, `product ${id}`));
    if (!data.product) throw targetMissing('product', id, shop.domain);
    return { title: data.product.title, productIds: [id] };
  }
  const productIds: string[] = [];
  let title = '';
  let after: string | null = null;
  for (;;) {
    const data: CollectionProductsResult = await admin
      .request(CollectionProducts, { id: collectionGid(id), first: COLLECTION_PAGE, after })
      .catch((error: unknown) => upstream(error, `collection ${id}`));
    if (!data.collection) throw targetMissing('collection', id, shop.domain);
    title = data.collection.title;
    for (const node of data.collection.products.nodes) productIds.push(targetNumericId(node.id));
    const page = data.collection.products.pageInfo;
    if (!page.hasNextPage || !page.endCursor) break;
    after = page.endCursor;
  }
  return { title, productIds };
}

/** The shop's timezone and tier program in force: what windows are compiled in. */
async function windowContext(db: Executor, shop: Shop, now: Date): Promise<WindowContext> {
  const program = await currentTierProgram(db, shop.id, now);
  return { timeZone: shop.timezone, tiers: program?.program ?? null };
}

function requestSync(deps: Pick<EarlyAccessDeps, 'requestSync'>, shop: string): void {
  // After the commit; a failed enqueue is the sweep's to catch, never the merchant's error.
  deps.requestSync?.(shop).catch(() => {});
}

/**
 * Saves an early-access window: validated (VALIDATION with every issue, nothing saved), its target
 * checked at Shopify (an unknown product or collection is a VALIDATION naming target.id, nothing
 * saved; Shopify unreachable is UPSTREAM, nothing saved), then stored with the mirror of every
 * product it covers marked pending in one transaction, and a sync asked for.
 */
export async function saveEarlyAccessWindow(
  deps: EarlyAccessDeps,
  json: unknown,
): Promise<SavedEarlyAccessWindow> {
  const now = deps.now ?? new Date();
  const shop = await requireShop(deps.db, deps.shopId);
  const context = await windowContext(deps.db, shop, now);
  let window;
  try {
    window = parseEarlyAccessWindow(json, context);
  } catch (error) {
    if (error instanceof EarlyAccessError) throw validationFrom(error);
    throw error;
  }
  const target = await resolveTarget(deps.admin, shop, window.target);
  const saved = await deps.db.transaction(async (tx) => {
    await lockShopMirrors(tx, shop.id);
    const row = await createWindow(tx, shop.id, {
      window,
      targetId: targetNumericId(window.target.id),
      targetTitle: target.title,
    });
    const products = await markProductMirrorsPending(tx, shop.id, target.productIds, {
      context,
      now,
      include: [row.id],
    });
    return { window: row, products };
  });
  requestSync(deps, shop.domain);
  return saved;
}

/**
 * Archives a window: the products it covered get their mirror without it (removed when nothing
 * is left). NOT_FOUND when the shop has no such window.
 */
export async function archiveEarlyAccessWindow(
  deps: Omit<EarlyAccessDeps, 'admin'>,
  windowId: number,
): Promise<SavedEarlyAccessWindow> {
  const now = deps.now ?? new Date();
  const shop = await requireShop(deps.db, deps.shopId);
  const context = await windowContext(deps.db, shop, now);
  const saved = await deps.db.transaction(async (tx) => {
    await lockShopMirrors(tx, shop.id);
    const covered = await productsMirroringWindow(tx, shop.id, windowId);
    const row = await archiveWindow(tx, shop.id, windowId, now);
    if (!row) {
      throw new AppError(
        ErrorCode.NOT_FOUND,
        `no early-access window ${windowId} in ${shop.domain}`,
      );
    }
    const products = await markProductMirrorsPending(tx, shop.id, covered, { context, now });
    return { window: row, products };
  });
  requestSync(deps, shop.domain);
  return saved;
}

/**
 * Recomputes the mirror of every product of the shop that has one: after a tier program or
 * timezone change (a stage's tiers and epochs follow them), and by the sweep for mirrors naming a
 * window that ended more than a day ago (`staleOnly`). Returns the products changed.
 */
export async function remirrorShop(
  db: Database,
  shopId: number,
  options: { now?: Date; staleOnly?: boolean } = {},
): Promise<string[]> {
  const now = options.now ?? new Date();
  const shop = await requireShop(db, shopId);
  const context = await windowContext(db, shop, now);
  return db.transaction(async (tx) => {
    await lockShopMirrors(tx, shop.id);
    const products = options.staleOnly
      ? await productsWithStaleWindows(tx, shop.id, now)
      : await mirroredProducts(tx, shop.id);
    return markProductMirrorsPending(tx, shop.id, products, { context, now });
  });
}

// ---------------------------------------------------------------------------------------------
// The app proxy's answer

/** A product as the storefront names it: Shopify's numeric id or its gid. */
const PRODUCT_PARAM = /^(?:gid:\/\/shopify\/Product\/)?([1-9][0-9]{0,19})$/;

export interface EarlyAccessAnswer {
  allowed: boolean;
  /** ISO 8601 (UTC): when this shopper may buy; null when they may now. */
  opensAt: string | null;
  /** The shopper's tier; null when logged out, not a member or below the lowest tier. */
  tier: { key: string; name: string } | null;
  windows: {
    id: number;
    name: string;
    /** When this window lets this shopper buy (ISO 8601); null when it does now. */
    opensAt: string | null;
    phase: EarlyAccessPhase;
  }[];
}

/** The product id of `?product=`; VALIDATION (400) with the reason when missing or malformed. */
export function parseProductParam(value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new AppError(ErrorCode.VALIDATION, 'the product parameter is required (?product=<id>)');
  }
  const match = PRODUCT_PARAM.exec(value);
  if (!match) {
    throw new AppError(
      ErrorCode.VALIDATION,
      'the product parameter must be a product id such as 8001 or gid://shopify/Product/8001',
    );
  }
  return match[1]!;
}

/**
 * May this shopper buy this product now? From Laurel's database (the windows covering the
 * product, the member's tier under the program in force) and the server's clock — what the
 * theme block and the checkout Function decide from the mirror. A product no window covers, or a
 * shop where Laurel is not active, is allowed.
 */
export async function earlyAccessForShopper(
  owner: { shop: string; customerId: string | null },
  productParam: string | undefined,
  now: Date = new Date(),
): Promise<EarlyAccessAnswer> {
  const productId = parseProductParam(productParam);
  const { db } = await getDatabase();
  const shop = await getShopByDomain(db, owner.shop);
  if (!shop || !shop.active) return { allowed: true, opensAt: null, tier: null, windows: [] };
  const program = await currentTierProgram(db, shop.id, now);
  const customer =
    owner.customerId === null
      ? undefined
      : await findCustomerByExternalId(db, shop.id, owner.customerId);
  const member = customer ? await memberTier(db, shop.id, customer.id, program) : null;
  const tier = member?.tier ?? null;
  const rows = await windowsCoveringProduct(db, shop.id, productId, {
    endedBefore: new Date(now.getTime() - MIRROR_GRACE_MS),
  });
  const context = { timeZone: shop.timezone, tiers: program?.program ?? null };
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const decided = rows.map((row) => {
    const window = compileSavedWindow(row.definition, context);
    return { row, decision: earlyAccessDecision(window, tier?.rank ?? null, now.getTime()) };
  });
  const combined = combinedDecision(decided.map((d) => d.decision));
  return {
    allowed: combined.allowed,
    opensAt: iso(combined.opensAt),
    tier: tier ? { key: tier.key, name: tier.name } : null,
    windows: decided.map(({ row, decision }) => ({
      id: row.id,
      name: row.name,
      opensAt: iso(decision.opensAt),
      phase: decision.phase,
    })),
  };
}

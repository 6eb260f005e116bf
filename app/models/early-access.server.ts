/**
 * Early-access windows (early_access_windows) and what Shopify should hold for each product they
 * cover (early_access_products: the `$app.early_access` mirror, with a revision the sync compares
 * with what it wrote) and for the shop's validation (shop_early_access). The rules are in
 * loyalty/early-access.ts; docs/early-access.md.
 *
 * Which products a window covers: a product window its product; a collection window the products
 * the collection had when the window was saved, recorded in each product's mirror (its window ids).
 * Mirrors are computed under a per-shop transaction lock, so two saves touching one product cannot
 * each write a mirror that misses the other's window.
 */
import { and, asc, desc, eq, gt, isNotNull, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { earlyAccessProducts, earlyAccessWindows, shopEarlyAccess, shops } from '../../db/schema';
import {
  compileSavedWindow,
  productMirror,
  type CompiledEarlyAccessWindow,
  type EarlyAccessWindowDefinition,
  type ProductMirror,
} from '../../loyalty/early-access';
import type { CompiledTierProgram } from '../../loyalty/tiers';
import { canonicalJson } from './ledger.server';

export type EarlyAccessWindow = Omit<typeof earlyAccessWindows.$inferSelect, 'definition'> & {
  definition: EarlyAccessWindowDefinition;
};
export type EarlyAccessProductRow = Omit<typeof earlyAccessProducts.$inferSelect, 'mirror'> & {
  mirror: ProductMirror | null;
};

/** A window that ended (everyone may buy) more than this long ago is no longer mirrored. */
export const MIRROR_GRACE_MS = 86_400_000;
/** pg_advisory_xact_lock class of the per-shop mirror lock (its second key is the shop id). */
const MIRROR_LOCK_CLASS = 0x4541_0001;

/** The shop-local context a saved window is compiled in. */
export interface WindowContext {
  timeZone: string;
  tiers: CompiledTierProgram | null;
}

/** Takes the shop's mirror lock until the transaction ends. */
export async function lockShopMirrors(tx: Executor, shopId: number): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${MIRROR_LOCK_CLASS}::int, ${shopId}::int)`);
}

/** Stores a validated window: starts_at is its first stage, ends_at when everyone may buy. */
export async function createWindow(
  tx: Executor,
  shopId: number,
  input: { window: CompiledEarlyAccessWindow; targetId: string; targetTitle: string | null },
): Promise<EarlyAccessWindow> {
  const { window } = input;
  const [row] = await tx
    .insert(earlyAccessWindows)
    .values({
      shopId,
      name: window.name,
      targetType: window.target.type,
      targetId: input.targetId,
      targetTitle: input.targetTitle,
      definition: window.definition,
      startsAt: new Date(Math.min(...window.stages.map((s) => s.opensAt))),
      endsAt: new Date(window.everyoneAt),
    })
    .returning();
  return row as EarlyAccessWindow;
}

export type WindowStatus = 'active' | 'archived' | 'all';

/** The shop's windows, soonest first (archived ones most recently archived first). */
export async function listWindows(
  db: Executor,
  shopId: number,
  status: WindowStatus = 'active',
): Promise<EarlyAccessWindow[]> {
  const where: SQL[] = [eq(earlyAccessWindows.shopId, shopId)];
  if (status === 'active') where.push(isNull(earlyAccessWindows.archivedAt));
  if (status === 'archived') where.push(isNotNull(earlyAccessWindows.archivedAt));
  const rows = await db
    .select()
    .from(earlyAccessWindows)
    .where(and(...where))
    .orderBy(
      status === 'archived'
        ? desc(earlyAccessWindows.archivedAt)
        : asc(earlyAccessWindows.startsAt),
      asc(earlyAccessWindows.id),
    );
  return rows as EarlyAccessWindow[];
}

export async function getWindow(
  db: Executor,
  shopId: number,
  windowId: number,
): Promise<EarlyAccessWindow | undefined> {
  const [row] = await db
    .select()
    .from(earlyAccessWindows)
    .where(and(eq(earlyAccessWindows.shopId, shopId), eq(earlyAccessWindows.id, windowId)));
  return row as EarlyAccessWindow | undefined;
}

/** Archives a window (once); undefined when the shop has no such window. */
export async function archiveWindow(
  tx: Executor,
  shopId: number,
  windowId: number,
  now: Date,
): Promise<EarlyAccessWindow | undefined> {
  const [row] = await tx
    .update(earlyAccessWindows)
    .set({ archivedAt: sql`coalesce(${earlyAccessWindows.archivedAt}, ${now})`, updatedAt: now })
    .where(and(eq(earlyAccessWindows.shopId, shopId), eq(earlyAccessWindows.id, windowId)))
    .returning();
  return row as EarlyAccessWindow | undefined;
}

/** Window ids a product's mirror names (how collection windows are remembered per product). */
const mirroredWindowIds = (productId: string, shopId: number) => sql`(
  SELECT (w->>'id')::int FROM ${earlyAccessProducts} p,
    jsonb_array_elements(coalesce(p.mirror->'windows', '[]'::jsonb)) w
  WHERE p.shop_id = ${shopId} AND p.product_id = ${productId})`;

/**
 * The active (not archived) windows covering a product: its own, and the collection windows its
 * mirror names. `endedBefore`: leave out windows everyone could buy under before that instant.
 */
export async function windowsCoveringProduct(
  db: Executor,
  shopId: number,
  productId: string,
  options: { endedBefore?: Date; include?: readonly number[] } = {},
): Promise<EarlyAccessWindow[]> {
  const include = options.include ?? [];
  const covers = sql`(
    (${earlyAccessWindows.targetType} = 'product' AND ${earlyAccessWindows.targetId} = ${productId})
    OR (${earlyAccessWindows.targetType} = 'collection'
        AND ${earlyAccessWindows.id} IN ${mirroredWindowIds(productId, shopId)})
    OR ${earlyAccessWindows.id} = ANY(${sql.param([...include])}::int[]))`;
  const rows = await db
    .select()
    .from(earlyAccessWindows)
    .where(
      and(
        eq(earlyAccessWindows.shopId, shopId),
        isNull(earlyAccessWindows.archivedAt),
        covers,
        options.endedBefore ? gt(earlyAccessWindows.endsAt, options.endedBefore) : undefined,
      ),
    )
    .orderBy(asc(earlyAccessWindows.id));
  return rows as EarlyAccessWindow[];
}

/** The windows still mirrored at `now`: not archived, ended less than MIRROR_GRACE_MS ago. */
export async function mirroredWindows(
  db: Executor,
  shopId: number,
  now: Date,
): Promise<EarlyAccessWindow[]> {
  const rows = await db
    .select()
    .from(earlyAccessWindows)
    .where(
      and(
        eq(earlyAccessWindows.shopId, shopId),
        isNull(earlyAccessWindows.archivedAt),
        gt(earlyAccessWindows.endsAt, new Date(now.getTime() - MIRROR_GRACE_MS)),
      ),
    )
    .orderBy(asc(earlyAccessWindows.id));
  return rows as EarlyAccessWindow[];
}

/** Compiles saved windows against today's tiers and timezone (loyalty/early-access.ts). */
export function compileWindows(
  rows: readonly EarlyAccessWindow[],
  context: WindowContext,
): { id: number; window: CompiledEarlyAccessWindow }[] {
  return rows.map((row) => ({ id: row.id, window: compileSavedWindow(row.definition, context) }));
}

/** The mirror for these windows; null when there are none. */
export function mirrorOf(
  windows: readonly { id: number; window: CompiledEarlyAccessWindow }[],
  tiers: CompiledTierProgram | null,
): ProductMirror | null {
  if (windows.length === 0) return null;
  // Without a tier program no stage survives compileSavedWindow: only everyone's time is left.
  return productMirror(windows, tiers ?? ({ tiers: [] } as unknown as CompiledTierProgram));
}

/**
 * Recomputes the mirror of each product and marks it pending (revision + 1) where it changed:
 * the new desired ProductMirror, or null when no window covers the product any more. `include`
 * adds windows not yet named by the product (a collection window being saved). Call in the
 * transaction that changed the windows, after lockShopMirrors. Returns the products changed.
 */
export async function markProductMirrorsPending(
  tx: Executor,
  shopId: number,
  productIds: readonly string[],
  options: { context: WindowContext; now: Date; include?: readonly number[] },
): Promise<string[]> {
  const endedBefore = new Date(options.now.getTime() - MIRROR_GRACE_MS);
  const changed: string[] = [];
  for (const productId of [...new Set(productIds)].sort()) {
    const windows = await windowsCoveringProduct(tx, shopId, productId, {
      endedBefore,
      include: options.include,
    });
    const mirror = mirrorOf(compileWindows(windows, options.context), options.context.tiers);
    const [current] = await tx
      .select({ mirror: earlyAccessProducts.mirror })
      .from(earlyAccessProducts)
      .where(
        and(eq(earlyAccessProducts.shopId, shopId), eq(earlyAccessProducts.productId, productId)),
      )
      .for('update');
    if (!current) {
      if (mirror === null) continue;
      await tx.insert(earlyAccessProducts).values({ shopId, productId, mirror });
    } else {
      if (canonicalJson(current.mirror ?? null) === canonicalJson(mirror)) continue;
      await tx
        .update(earlyAccessProducts)
        .set({
          mirror,
          revision: sql`${earlyAccessProducts.revision} + 1`,
          // A new value is a new write: earlier failures were about another one.
          attempts: 0,
          lastError: null,
        })
        .where(
          and(eq(earlyAccessProducts.shopId, shopId), eq(earlyAccessProducts.productId, productId)),
        );
    }
    changed.push(productId);
  }
  return changed;
}

/** Every product of the shop with a mirror. */
export async function mirroredProducts(db: Executor, shopId: number): Promise<string[]> {
  const rows = await db
    .select({ productId: earlyAccessProducts.productId })
    .from(earlyAccessProducts)
    .where(and(eq(earlyAccessProducts.shopId, shopId), isNotNull(earlyAccessProducts.mirror)));
  return rows.map((r) => r.productId);
}

/** Products whose mirror names `windowId`. */
export async function productsMirroringWindow(
  db: Executor,
  shopId: number,
  windowId: number,
): Promise<string[]> {
  const rows = await db
    .select({ productId: earlyAccessProducts.productId })
    .from(earlyAccessProducts)
    .where(
      and(
        eq(earlyAccessProducts.shopId, shopId),
        sql`${earlyAccessProducts.mirror}->'windows' @> ${JSON.stringify([{ id: windowId }])}::jsonb`,
      ),
    );
  return rows.map((r) => r.productId);
}

/**
 * Products whose mirror still names a window that ended more than MIRROR_GRACE_MS before `now` (or
 * was archived): the sweep recomputes them, which drops those windows.
 */
export async function productsWithStaleWindows(
  db: Executor,
  shopId: number,
  now: Date,
): Promise<string[]> {
  const endedBefore = Math.floor((now.getTime() - MIRROR_GRACE_MS) / 1000);
  const result = await db.execute(sql`
    SELECT p.product_id FROM ${earlyAccessProducts} p
    WHERE p.shop_id = ${shopId} AND p.mirror IS NOT NULL AND EXISTS (
      SELECT 1 FROM jsonb_array_elements(p.mirror->'windows') w
      LEFT JOIN ${earlyAccessWindows} ew ON ew.shop_id = p.shop_id AND ew.id = (w->>'id')::int
      WHERE (w->'everyone'->>'epoch')::bigint <= ${endedBefore}
         OR ew.id IS NULL OR ew.archived_at IS NOT NULL)
    ORDER BY p.product_id`);
  return (result as unknown as { rows: { product_id: string }[] }).rows.map((r) => r.product_id);
}

/** Products whose mirror Shopify does not hold yet: never-failed ones first, then by id. */
export async function pendingProducts(
  db: Executor,
  shopId: number,
  limit: number,
): Promise<EarlyAccessProductRow[]> {
  const rows = await db
    .select()
    .from(earlyAccessProducts)
    .where(
      and(
        eq(earlyAccessProducts.shopId, shopId),
        gt(earlyAccessProducts.revision, earlyAccessProducts.syncedRevision),
      ),
    )
    .orderBy(asc(earlyAccessProducts.attempts), asc(earlyAccessProducts.productId))
    .limit(limit);
  return rows as EarlyAccessProductRow[];
}

export async function getProductMirror(
  db: Executor,
  shopId: number,
  productId: string,
): Promise<EarlyAccessProductRow | undefined> {
  const [row] = await db
    .select()
    .from(earlyAccessProducts)
    .where(
      and(eq(earlyAccessProducts.shopId, shopId), eq(earlyAccessProducts.productId, productId)),
    );
  return row as EarlyAccessProductRow | undefined;
}

/**
 * Records that Shopify holds revision `revision` of the product's mirror — only if the revision is
 * still the one read before writing: a mirror changed meanwhile stays pending for the next run.
 */
export async function recordProductSynced(
  db: Executor,
  shopId: number,
  productId: string,
  revision: number,
): Promise<boolean> {
  const rows = await db
    .update(earlyAccessProducts)
    .set({ syncedRevision: revision, syncedAt: sql`now()`, attempts: 0, lastError: null })
    .where(
      and(
        eq(earlyAccessProducts.shopId, shopId),
        eq(earlyAccessProducts.productId, productId),
        eq(earlyAccessProducts.revision, revision),
      ),
    )
    .returning({ productId: earlyAccessProducts.productId });
  return rows.length === 1;
}

/** A write Shopify refused (or that failed): one more attempt and why; retried by the next run. */
export async function recordProductFailure(
  db: Executor,
  shopId: number,
  productId: string,
  revision: number,
  error: string,
): Promise<void> {
  await db
    .update(earlyAccessProducts)
    .set({
      attempts: sql`${earlyAccessProducts.attempts} + 1`,
      lastError: error.slice(0, 500),
    })
    .where(
      and(
        eq(earlyAccessProducts.shopId, shopId),
        eq(earlyAccessProducts.productId, productId),
        eq(earlyAccessProducts.revision, revision),
      ),
    );
}

// ---------------------------------------------------------------------------------------------
// The shop's validation

export type ShopEarlyAccess = typeof shopEarlyAccess.$inferSelect;

export async function getShopEarlyAccess(
  db: Executor,
  shopId: number,
): Promise<ShopEarlyAccess | undefined> {
  const [row] = await db.select().from(shopEarlyAccess).where(eq(shopEarlyAccess.shopId, shopId));
  return row;
}

/** Records the shop's validation and/or the slots written, or the error met. */
export async function recordShopEarlyAccess(
  db: Executor,
  shopId: number,
  change: Partial<Pick<ShopEarlyAccess, 'validationId' | 'syncedTimes' | 'lastError'>> & {
    synced?: boolean;
  },
): Promise<void> {
  const { synced, ...fields } = change;
  const set = { ...fields, ...(synced ? { syncedAt: sql`now()` } : {}) };
  await db
    .insert(shopEarlyAccess)
    .values({ shopId, ...fields, ...(synced ? { syncedAt: new Date() } : {}) })
    .onConflictDoUpdate({ target: shopEarlyAccess.shopId, set });
}

// ---------------------------------------------------------------------------------------------
// The sweep

/**
 * Installed shops with early-access work at `now`: products pending, a mirror naming a window to
 * drop, or windows still mirrored (their validation's clock slots move as boundaries pass; the
 * sync compares and writes only a change).
 */
export async function shopsWithEarlyAccessWork(db: Executor, now: Date): Promise<string[]> {
  const endedBefore = new Date(now.getTime() - MIRROR_GRACE_MS);
  const rows = await db
    .select({ domain: shops.domain })
    .from(shops)
    .where(
      and(
        eq(shops.active, true),
        sql`(
          EXISTS (SELECT 1 FROM ${earlyAccessProducts} p
                  WHERE p.shop_id = ${shops.id} AND p.revision > p.synced_revision)
          OR EXISTS (SELECT 1 FROM ${earlyAccessProducts} p
                  WHERE p.shop_id = ${shops.id} AND p.mirror IS NOT NULL)
          OR EXISTS (SELECT 1 FROM ${earlyAccessWindows} w
                  WHERE w.shop_id = ${shops.id} AND w.archived_at IS NULL
                    AND w.ends_at > ${endedBefore})
          OR EXISTS (SELECT 1 FROM ${shopEarlyAccess} s
                  WHERE s.shop_id = ${shops.id} AND s.validation_id IS NOT NULL
                    AND s.synced_times IS NOT NULL))`,
      ),
    )
    .orderBy(asc(shops.domain));
  return rows.map((r) => r.domain);
}

/**
 * Whether `shopId` has pending products that have not failed yet (a run that stopped at its limit
 * runs again at once; products Shopify refused wait for the sweep).
 */
export async function hasPendingProducts(db: Executor, shopId: number): Promise<boolean> {
  const [row] = await db
    .select({ productId: earlyAccessProducts.productId })
    .from(earlyAccessProducts)
    .where(
      and(
        eq(earlyAccessProducts.shopId, shopId),
        gt(earlyAccessProducts.revision, earlyAccessProducts.syncedRevision),
        lt(earlyAccessProducts.attempts, 1),
      ),
    )
    .limit(1);
  return row !== undefined;
}

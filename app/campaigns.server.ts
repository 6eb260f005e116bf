/**
 * Campaigns as the app runs them: saving one (checked by loyalty/campaigns.ts in the shop's
 * timezone and currency, its products or collections checked at Shopify — a collection resolved to
 * its products, paginated — then stored), editing one that has not started, ending one now. Every
 * change makes the storefront's program summary due and asks for a metafield sync, so the theme
 * blocks show the campaign (docs/campaigns.md, "What the shopper sees").
 */
import type { Database } from '../db/client.server';
import { CampaignError, parseCampaign, type CampaignDefinition } from '../loyalty/campaigns';
import { AppError, ErrorCode, validationFrom } from './errors';
import { CollectionProducts, ProductTitle, type CollectionProductsResult } from './graphql';
import {
  endCampaignNow,
  getCampaign,
  hasStarted,
  insertCampaign,
  updateCampaign,
  type Campaign,
} from './models/campaigns.server';
import { programSummaryDue } from './models/metafield-sync.server';
import type { Shop } from './models/shops.server';
import { AdminApiError, type AdminClient } from './shopify/admin-client.server';

/** Products read per collection page (Shopify's maximum). */
const COLLECTION_PAGE = 250;
/** Eligible products one campaign may hold once its collections are resolved. */
export const MAX_CAMPAIGN_PRODUCTS = 10_000;

export interface CampaignDeps {
  db: Database;
  shop: Shop;
  /** The shop's Admin API client: needed for campaigns limited to products or collections. */
  admin?: AdminClient;
  now?: Date;
  /** The staff member saving it (the admin session's user), recorded on a new campaign. */
  staff?: string | null;
  /** Asks for a metafield sync once the change committed; a failure is the sweep's to catch. */
  requestSync?: (shopDomain: string) => Promise<unknown>;
}

function invalid(path: string, message: string): AppError {
  return new AppError(ErrorCode.VALIDATION, `invalid campaign: ${path}: ${message}`, {
    issues: [{ path, message }],
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

/**
 * The eligible product ids of a scoped campaign, checked at Shopify: each product exists; each
 * collection exists and has products (all of them, page by page). VALIDATION naming `targetIds[i]`
 * otherwise; UPSTREAM when Shopify cannot be reached.
 */
export async function resolveCampaignProducts(
  admin: AdminClient,
  shop: Shop,
  scope: 'products' | 'collections',
  targetIds: readonly string[],
): Promise<string[]> {
  const products = new Set<string>();
  for (const [i, id] of targetIds.entries()) {
    if (scope === 'products') {
      const data = await admin
        .request(ProductTitle, { id: `gid://shopify/Product/${id}` })
        .catch((error: unknown) => upstream(error, `product ${id}`));
      if (!data.product) throw invalid(`targetIds[${i}]`, `no product ${id} in ${shop.domain}`);
      products.add(id);
      continue;
    }
    let after: string | null = null;
    let found = 0;
    for (;;) {
      const data: CollectionProductsResult = await admin
        .request(CollectionProducts, {
          id: `gid://shopify/Collection/${id}`,
          first: COLLECTION_PAGE,
          after,
        })
        .catch((error: unknown) => upstream(error, `collection ${id}`));
      if (!data.collection) {
        throw invalid(`targetIds[${i}]`, `no collection ${id} in ${shop.domain}`);
      }
      for (const node of data.collection.products.nodes) {
        products.add(node.id.slice(node.id.lastIndexOf('/') + 1));
        found++;
      }
      if (products.size > MAX_CAMPAIGN_PRODUCTS) {
        throw invalid(
          'targetIds',
          `the collections hold more than ${MAX_CAMPAIGN_PRODUCTS} products`,
        );
      }
      const page = data.collection.products.pageInfo;
      if (!page.hasNextPage || !page.endCursor) break;
      after = page.endCursor;
    }
    if (found === 0) {
      throw invalid(`targetIds[${i}]`, `collection ${id} has no products: nothing would earn more`);
    }
  }
  return [...products];
}

function afterCommit(deps: CampaignDeps): void {
  // After the commit; a failed enqueue is the sweep's to catch, never the merchant's error.
  deps.requestSync?.(deps.shop.domain).catch(() => {});
}

/**
 * Creates a campaign, or (with `campaignId`) rewrites one that has not started. Every rule problem
 * is one VALIDATION listing each field (nothing saved); a started campaign is CONFLICT; Shopify
 * unreachable is UPSTREAM (nothing saved).
 */
export async function saveCampaign(
  deps: CampaignDeps,
  definition: CampaignDefinition,
  campaignId?: number,
): Promise<Campaign> {
  const { db, shop } = deps;
  const now = deps.now ?? new Date();
  // A started campaign is refused as such, before its (now past) start is.
  if (campaignId !== undefined) {
    const existing = await getCampaign(db, shop.id, campaignId);
    if (!existing) {
      throw new AppError(ErrorCode.NOT_FOUND, `no campaign ${campaignId} in this shop`);
    }
    if (hasStarted(existing, now)) {
      throw new AppError(
        ErrorCode.CONFLICT,
        `campaign ${campaignId} has already started (or was ended): it can only be ended now, not edited`,
      );
    }
  }
  let parsed;
  try {
    parsed = parseCampaign(definition, {
      timeZone: shop.timezone,
      currency: shop.currency,
      now: now.getTime(),
    });
  } catch (error) {
    if (error instanceof CampaignError) throw validationFrom(error);
    throw error;
  }
  let productIds: string[] = [];
  if (parsed.scope !== 'all') {
    if (!deps.admin) {
      throw new AppError(
        ErrorCode.CONFLICT,
        'The shop has no offline access token: reinstall the app so Laurel can check products at Shopify. Nothing was saved.',
      );
    }
    productIds = await resolveCampaignProducts(deps.admin, shop, parsed.scope, parsed.targetIds);
  }
  const saved = await db.transaction(async (tx) => {
    const row =
      campaignId === undefined
        ? await insertCampaign(tx, shop.id, parsed, {
            productIds,
            createdBy: deps.staff ?? null,
            now,
          })
        : await updateCampaign(tx, shop.id, campaignId, parsed, { productIds, now });
    await programSummaryDue(tx, shop.id);
    return row;
  });
  afterCommit(deps);
  return saved;
}

/** "End now" (see endCampaignNow), then the storefront summary is due again. */
export async function endCampaign(deps: CampaignDeps, campaignId: number): Promise<Campaign> {
  const now = deps.now ?? new Date();
  const ended = await deps.db.transaction(async (tx) => {
    const row = await endCampaignNow(tx, deps.shop.id, campaignId, now);
    await programSummaryDue(tx, deps.shop.id);
    return row;
  });
  afterCommit(deps);
  return ended;
}

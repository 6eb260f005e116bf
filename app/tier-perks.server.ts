/**
 * A tier's free shipping, made real on Shopify: for every tier with `freeShipping` in the tier
 * program in force, a customer segment of the members carrying the tier's tag
 * (`customer_tags CONTAINS 'laurel-tier-gold'`, the tag the metafield sync keeps on each member)
 * and an automatic free-shipping discount limited to that segment. A tier that loses the perk, or
 * leaves the program, has its discount and segment deleted. Recorded in tier_perks with the tier
 * program version they match; docs/metafields.md, "Tier perks".
 *
 * Idempotent: every object is looked up (by the id recorded, else by its name) before one is
 * created, so a repeated run, or one after a crash between a create and its record, makes no
 * duplicate. Runs inside the metafield sync (its lease: one run per shop at a time) whenever the
 * perks do not match the tier program in force; {@link syncTierPerks} asks for one right away.
 */
import type { Logger } from 'pino';
import type { CompiledTier } from '../loyalty/tiers';
import {
  DiscountAutomaticDelete,
  DiscountAutomaticFreeShippingCreate,
  SegmentCreate,
  SegmentDelete,
  SegmentUpdate,
  TierPerkDiscounts,
  TierPerkSegments,
  type AdminDocument,
  type SegmentResult,
  type TierPerkDiscountsResult,
  type TierPerkSegmentsResult,
} from './graphql';
import { syncShopMetafields, type MetafieldSyncOptions } from './metafield-sync.server';
import {
  deleteTierPerk,
  listTierPerks,
  recordTierPerk,
  recordTierPerkError,
  type TierPerkRow,
} from './models/tier-perks.server';
import type { CurrentTierProgram } from './models/tiers.server';
import type { Database } from '../db/client.server';
import { AdminApiError } from './shopify/admin-client.server';

export type TierPerksOutcome = 'none' | 'current' | 'synced' | 'failed';

export interface TierPerksReport {
  outcome: TierPerksOutcome;
  /** Segments and discounts created. */
  created: number;
  /** Segments and discounts deleted. */
  removed: number;
  /** Tiers whose perks Shopify refused (recorded in tier_perks.last_error; tried again). */
  failed: number;
}

/** An Admin call (the metafield sync passes its lease-fenced one). */
export type AdminCall = <R, V>(document: AdminDocument<R, V>, variables: V) => Promise<R>;

/** The segment query of a tier tag, in Shopify's segment query language. */
export function segmentQuery(tag: string): string {
  // Tags are [a-z0-9_-] (loyalty/tiers.ts): nothing to escape inside the quotes.
  return `customer_tags CONTAINS '${tag}'`;
}

/** What the merchant sees; the tag in parentheses is what a lookup matches. */
export const segmentName = (tier: CompiledTier) => `${tier.name} members (Laurel, ${tier.tag})`;
export const discountTitle = (tier: CompiledTier) =>
  `${tier.name} members: free shipping (Laurel, ${tier.tag})`;
const ownedBy = (name: string, tag: string) => name.endsWith(`(Laurel, ${tag})`);

interface ShopifyDiscount {
  id: string;
  title: string;
  segmentIds: string[];
}

/** Makes Shopify's segments and discounts match the tier program in force. */
export async function reconcileTierPerks(options: {
  db: Database;
  shopId: number;
  tiers: CurrentTierProgram | null;
  call: AdminCall;
  log: Logger;
  now: Date;
}): Promise<TierPerksReport> {
  const { db, shopId, tiers, call, log } = options;
  const report: TierPerksReport = { outcome: 'synced', created: 0, removed: 0, failed: 0 };
  if (!tiers) return { ...report, outcome: 'none' };
  const rows = new Map((await listTierPerks(db, shopId)).map((r) => [r.tierKey, r]));
  const segments = await allSegments(call);
  const discounts = await allDiscounts(call);

  const removeObjects = async (row: TierPerkRow | undefined, tag: string | null) => {
    const discount = discounts.find(
      (d) => d.id === row?.freeShippingDiscountId || (tag !== null && ownedBy(d.title, tag)),
    );
    if (discount) {
      await call(DiscountAutomaticDelete, { id: discount.id });
      discounts.splice(discounts.indexOf(discount), 1);
      report.removed++;
    }
    const segment = segments.find(
      (s) => s.id === row?.segmentId || (tag !== null && ownedBy(s.name, tag)),
    );
    if (segment) {
      await call(SegmentDelete, { id: segment.id });
      segments.splice(segments.indexOf(segment), 1);
      report.removed++;
    }
  };

  const refused = async (
    tierKey: string,
    held: { segmentId: string | null; freeShippingDiscountId: string | null },
    error: unknown,
  ) => {
    if (!(error instanceof AdminApiError) || error.code !== 'USER_ERRORS') throw error;
    log.error(
      { tierKey, err: error.message },
      'Shopify refused a tier perk; the sweep tries again',
    );
    await recordTierPerkError(db, shopId, { tierKey, ...held }, error.message);
    report.failed++;
  };

  for (const tier of tiers.program.tiers) {
    const row = rows.get(tier.key);
    const held = {
      segmentId: row?.segmentId ?? null,
      freeShippingDiscountId: row?.freeShippingDiscountId ?? null,
    };
    try {
      if (!tier.freeShipping) {
        await removeObjects(row, tier.tag);
        await recordTierPerk(db, shopId, {
          tierKey: tier.key,
          segmentId: null,
          freeShippingDiscountId: null,
          syncedVersion: tiers.version,
        });
        continue;
      }
      let segment =
        segments.find((s) => s.id === row?.segmentId) ??
        segments.find((s) => ownedBy(s.name, tier.tag));
      if (segment && segment.query !== segmentQuery(tier.tag)) {
        // The tag prefix changed: the same segment, now of the new tag.
        const updated = await call(SegmentUpdate, {
          id: segment.id,
          query: segmentQuery(tier.tag),
        });
        segment = updated.segmentUpdate!.segment!;
      }
      if (!segment) {
        const created = await call(SegmentCreate, {
          name: segmentName(tier),
          query: segmentQuery(tier.tag),
        });
        segment = created.segmentCreate!.segment!;
        segments.push(segment);
        report.created++;
      }
      held.segmentId = segment.id;
      let discount =
        discounts.find((d) => d.id === row?.freeShippingDiscountId) ??
        discounts.find((d) => ownedBy(d.title, tier.tag));
      if (
        discount &&
        !(discount.segmentIds.length === 1 && discount.segmentIds[0] === segment.id)
      ) {
        // Limited to another segment (ours was deleted and made again): replaced.
        await call(DiscountAutomaticDelete, { id: discount.id });
        discounts.splice(discounts.indexOf(discount), 1);
        report.removed++;
        discount = undefined;
      }
      if (!discount) {
        const created = await call(DiscountAutomaticFreeShippingCreate, {
          freeShippingAutomaticDiscount: {
            title: discountTitle(tier),
            startsAt: options.now.toISOString(),
            context: { customerSegments: { add: [segment.id] } },
            destination: { all: true },
            // A member's free shipping still goes with their reward codes.
            combinesWith: {
              orderDiscounts: true,
              productDiscounts: true,
              shippingDiscounts: false,
            },
          },
        });
        const node = created.discountAutomaticFreeShippingCreate!.automaticDiscountNode!;
        discount = { id: node.id, title: discountTitle(tier), segmentIds: [segment.id] };
        discounts.push(discount);
        report.created++;
      }
      held.freeShippingDiscountId = discount.id;
      await recordTierPerk(db, shopId, {
        tierKey: tier.key,
        ...held,
        syncedVersion: tiers.version,
      });
    } catch (error) {
      await refused(tier.key, held, error);
    }
  }

  // Tiers that left the program: their objects go, then their rows.
  const inProgram = new Set(tiers.program.tiers.map((t) => t.key));
  for (const row of rows.values()) {
    if (inProgram.has(row.tierKey)) continue;
    try {
      await removeObjects(row, null);
      await deleteTierPerk(db, shopId, row.tierKey);
    } catch (error) {
      await refused(row.tierKey, row, error);
    }
  }
  if (report.failed > 0) report.outcome = 'failed';
  else if (report.created + report.removed === 0) report.outcome = 'current';
  if (report.created + report.removed + report.failed > 0) {
    log.info({ tierVersion: tiers.version, ...report }, 'tier perks synced');
  }
  return report;
}

async function allSegments(call: AdminCall): Promise<SegmentResult[]> {
  const out: SegmentResult[] = [];
  let after: string | null = null;
  for (;;) {
    const page: TierPerkSegmentsResult = await call(TierPerkSegments, { after });
    out.push(...page.segments.nodes);
    if (!page.segments.pageInfo.hasNextPage) return out;
    after = page.segments.pageInfo.endCursor;
  }
}

async function allDiscounts(call: AdminCall): Promise<ShopifyDiscount[]> {
  const out: ShopifyDiscount[] = [];
  let after: string | null = null;
  for (;;) {
    const page: TierPerkDiscountsResult = await call(TierPerkDiscounts, { after });
    for (const node of page.discountNodes.nodes) {
      const discount = node.discount;
      if (!('title' in discount)) continue;
      out.push({
        id: node.id,
        title: discount.title,
        segmentIds:
          discount.context.__typename === 'DiscountCustomerSegments' &&
          'segments' in discount.context
            ? discount.context.segments.map((segment: { id: string }) => segment.id)
            : [],
      });
    }
    if (!page.discountNodes.pageInfo.hasNextPage) return out;
    after = page.discountNodes.pageInfo.endCursor;
  }
}

/**
 * Syncs the shop's tier perks now (after publishing a tier program): one metafield sync run that
 * writes the program summary and the perks, not the members. `busy`: a run holds the shop's
 * lease; it (or the sweep) syncs the perks, since they do not match the program in force.
 */
export async function syncTierPerks(
  options: Omit<MetafieldSyncOptions, 'members' | 'forcePerks'> & { db: Database },
) {
  return syncShopMetafields({ ...options, members: false, forcePerks: true });
}

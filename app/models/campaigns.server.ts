/**
 * Campaigns as stored (db/schema.ts `campaigns`): the rows, the rules settlement applies, and the
 * three changes a merchant makes — create, edit (only before it starts) and end now. The rules are
 * loyalty/campaigns.ts's; saving with the Admin API (collections → products) is
 * app/campaigns.server.ts's. docs/campaigns.md.
 */
import { and, asc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { campaigns } from '../../db/schema';
import type { CampaignRule, ParsedCampaign } from '../../loyalty/campaigns';
import { AppError, ErrorCode } from '../errors';

export type Campaign = typeof campaigns.$inferSelect;

/** The end that counts: the scheduled one, or "end now" when earlier. */
export function effectiveEnd(row: Pick<Campaign, 'endsAt' | 'endedAt'>): Date {
  return row.endedAt !== null && row.endedAt < row.endsAt ? row.endedAt : row.endsAt;
}

/** A stored campaign as settlement applies it. */
export function campaignRule(row: Campaign): CampaignRule {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as CampaignRule['kind'],
    factorBps: row.factorBps,
    bonusPoints: row.bonusPoints,
    minimumMinor: row.minimumMinor,
    scope: row.scope as CampaignRule['scope'],
    productIds: row.scope === 'all' ? null : new Set(row.productIds),
    stacking: row.stacking as CampaignRule['stacking'],
    startsAt: row.startsAt.getTime(),
    endsAt: effectiveEnd(row).getTime(),
  };
}

/** Effective end after `from` and start at or before `to`: a window that meets [from, to]. */
const overlapping = (from: Date, to: Date) =>
  and(
    sql`${campaigns.startsAt} <= ${to.toISOString()}::timestamptz`,
    sql`least(${campaigns.endsAt}, coalesce(${campaigns.endedAt}, ${campaigns.endsAt})) > ${from.toISOString()}::timestamptz`,
  );

/**
 * The shop's campaigns that could apply to an order processed in [from, to] (one query per batch
 * of orders: settleOrders passes the span of the orders it awards).
 */
export async function campaignRulesFor(
  db: Executor,
  shopId: number,
  span: { from: Date; to: Date },
): Promise<CampaignRule[]> {
  const rows = await db
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.shopId, shopId), overlapping(span.from, span.to)))
    .orderBy(asc(campaigns.startsAt), asc(campaigns.id));
  return rows.map(campaignRule);
}

/** Every campaign of the shop, soonest start first. */
export async function listCampaigns(db: Executor, shopId: number): Promise<Campaign[]> {
  return db
    .select()
    .from(campaigns)
    .where(eq(campaigns.shopId, shopId))
    .orderBy(asc(campaigns.startsAt), asc(campaigns.id));
}

/** Campaigns not over at `now` (active or upcoming), soonest first: what the storefront shows. */
export async function currentCampaigns(
  db: Executor,
  shopId: number,
  now: Date,
  limit = 10,
): Promise<Campaign[]> {
  return db
    .select()
    .from(campaigns)
    .where(
      and(
        eq(campaigns.shopId, shopId),
        gt(campaigns.endsAt, now),
        or(isNull(campaigns.endedAt), gt(campaigns.endedAt, now)),
      ),
    )
    .orderBy(asc(campaigns.startsAt), asc(campaigns.id))
    .limit(limit);
}

export async function getCampaign(
  db: Executor,
  shopId: number,
  id: number,
): Promise<Campaign | undefined> {
  const [row] = await db
    .select()
    .from(campaigns)
    .where(and(eq(campaigns.shopId, shopId), eq(campaigns.id, id)));
  return row;
}

function columns(parsed: ParsedCampaign, productIds: readonly string[]) {
  return {
    name: parsed.name,
    kind: parsed.kind,
    factorBps: parsed.factorBps,
    bonusPoints: parsed.bonusPoints,
    minimumMinor: parsed.minimumMinor,
    scope: parsed.scope,
    targetIds: parsed.targetIds,
    productIds: parsed.scope === 'all' ? [] : [...productIds],
    stacking: parsed.stacking,
    startsAt: new Date(parsed.startsAt),
    endsAt: new Date(parsed.endsAt),
    startsAtLocal: parsed.startsAtLocal,
    endsAtLocal: parsed.endsAtLocal,
  };
}

/** Stores a checked campaign with its eligible products (for collections: already resolved). */
export async function insertCampaign(
  db: Executor,
  shopId: number,
  parsed: ParsedCampaign,
  options: { productIds: readonly string[]; createdBy: string | null; now: Date },
): Promise<Campaign> {
  const [row] = await db
    .insert(campaigns)
    .values({
      shopId,
      ...columns(parsed, options.productIds),
      createdBy: options.createdBy,
      createdAt: options.now,
      updatedAt: options.now,
    })
    .returning();
  return row!;
}

function notFound(id: number): AppError {
  return new AppError(ErrorCode.NOT_FOUND, `no campaign ${id} in this shop`, { campaignId: id });
}

/**
 * Rewrites a campaign that has not started at `now` (nor been ended). Once started, awards may
 * have recorded it: CONFLICT, nothing changed — only {@link endCampaignNow} remains.
 */
export async function updateCampaign(
  db: Executor,
  shopId: number,
  id: number,
  parsed: ParsedCampaign,
  options: { productIds: readonly string[]; now: Date },
): Promise<Campaign> {
  const [row] = await db
    .update(campaigns)
    .set({ ...columns(parsed, options.productIds), updatedAt: options.now })
    .where(
      and(
        eq(campaigns.shopId, shopId),
        eq(campaigns.id, id),
        gt(campaigns.startsAt, options.now),
        isNull(campaigns.endedAt),
      ),
    )
    .returning();
  if (row) return row;
  const existing = await getCampaign(db, shopId, id);
  if (!existing) throw notFound(id);
  throw new AppError(
    ErrorCode.CONFLICT,
    `campaign ${id} has already started (or was ended): it can only be ended now, not edited`,
    { campaignId: id },
  );
}

/**
 * "End now": the campaign stops applying at `now` (an upcoming one never starts). Its scheduled
 * end is kept for the record; orders already awarded keep what they earned. CONFLICT when it is
 * already over.
 */
export async function endCampaignNow(
  db: Executor,
  shopId: number,
  id: number,
  now: Date,
): Promise<Campaign> {
  const [row] = await db
    .update(campaigns)
    .set({ endedAt: now, updatedAt: now })
    .where(
      and(
        eq(campaigns.shopId, shopId),
        eq(campaigns.id, id),
        gt(campaigns.endsAt, now),
        isNull(campaigns.endedAt),
      ),
    )
    .returning();
  if (row) return row;
  const existing = await getCampaign(db, shopId, id);
  if (!existing) throw notFound(id);
  throw new AppError(ErrorCode.CONFLICT, `campaign ${id} is already over`, { campaignId: id });
}

/** Whether the campaign has started at `now` (and so can no longer be edited). */
export const hasStarted = (row: Pick<Campaign, 'startsAt' | 'endedAt'>, now: Date) =>
  row.endedAt !== null || row.startsAt <= now;

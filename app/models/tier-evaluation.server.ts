/**
 * Tier evaluation: who holds which tier, and the ledger entries that say why (docs/tiers.md).
 *
 * The rules are pure (loyalty/tiers.ts evaluateTier); this module loads their facts — each
 * member's activity for the program's metric, set-based for many members at once, and what Laurel
 * holds for them (customer_tiers) — and writes the outcome: the customer_tiers row, a 0-point
 * `tier` change entry for every move and, on reaching a tier for the first time ever, its entry
 * reward. Posting through the ledger marks the members' storefront metafields pending, which is
 * how the sync learns that a tier changed.
 *
 * Called after every ledger change, in the same transaction (workers/handlers/orders.ts and
 * customers.ts), by the daily roll-over job (workers/handlers/tiers.ts) and when a new program
 * version is applied ({@link applyTierProgram}). Evaluating twice at the same instant changes
 * nothing, so any of them may repeat.
 *
 * Lock order (the repo's: customer rows, then orders, then balance rows): the members' balance
 * rows, then their customer_tiers rows, each in customer-id order. Handlers that post awards hold
 * the balance rows already; taking them first here too means a daily run and a webhook never wait
 * on each other in opposite orders.
 */
import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customers, customerTiers } from '../../db/schema';
import {
  activityNeededFrom,
  evaluateTier,
  tierByKey,
  type CompiledTier,
  type CompiledTierProgram,
  type TierActivity,
  type TierChange,
  type TierEvaluation,
  type TierStanding,
} from '../../loyalty/tiers';
import { wallTimeOf } from '../../loyalty/time';
import { AppError, ErrorCode } from '../errors';
import { postMany, type LedgerEntry, type LedgerEntryInput } from './ledger.server';
import { markMetafieldsPending, type LedgerChange } from './metafield-sync.server';
import type { Shop } from './shops.server';
import {
  compileTierProgram,
  currentTierProgram,
  publishTierProgram,
  type CurrentTierProgram,
} from './tiers.server';

/** Ledger sources whose points count towards a `points` tier metric (never tier, redemption, expiry). */
export const TIER_POINT_SOURCES = [
  'order',
  'refund',
  'cancellation',
  'bonus',
  'referral',
  'adjustment',
] as const;

/** Members per transaction when a whole shop is evaluated (apply, daily run). */
export const EVALUATION_BATCH = 500;

export const tierChangeKey = (customerId: number, n: number) => `tier:${customerId}:change:${n}`;
export const tierEntryKey = (customerId: number, tierKey: string) =>
  `tier:${customerId}:entry:${tierKey}`;

/** What a tier change entry records (docs/tiers.md, the contract of issue 11). */
export interface TierChangeInputs {
  rule: 'tier-change';
  from: string | null;
  to: string | null;
  direction: TierChange['direction'];
  tierVersion: number;
  reason: TierChange['reason'];
  /** Names of the tiers named by from/to, as they were at the change. */
  names: Record<string, string>;
}

export interface MemberEvaluation {
  customerId: number;
  from: string | null;
  to: string | null;
  change: TierChange | null;
}

export interface EvaluationSummary {
  evaluated: number;
  changed: number;
  members: MemberEvaluation[];
  /** Entries posted now (changes and entry rewards). */
  posted: LedgerEntry[];
}

const EMPTY: EvaluationSummary = { evaluated: 0, changed: 0, members: [], posted: [] };

function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

const ts = (ms: number) => sql`${new Date(ms).toISOString()}::timestamptz`;

/**
 * Each member's activity for the program's metric that can count at `now`, keyed by customer id:
 * `members` null means every member of the shop. Set-based: one statement whatever the number.
 * Lifetime windows come back summed (one activity per member: nothing in them ever leaves).
 */
export async function loadTierActivity(
  db: Executor,
  shop: Pick<Shop, 'id' | 'timezone' | 'testOrdersEarn'>,
  program: Pick<CompiledTierProgram, 'metric' | 'window'>,
  members: readonly number[] | null,
  now: Date,
): Promise<Map<number, TierActivity[]>> {
  const from = activityNeededFrom(program.window, now.getTime(), shop.timezone);
  const byMember = new Map<number, TierActivity[]>();
  if (members !== null && members.length === 0) return byMember;
  const memberIn = (column: SQL) =>
    members === null ? sql`TRUE` : sql`${column} = ANY(${sql.param([...members])}::integer[])`;
  const since = (at: SQL) =>
    Number.isFinite(from)
      ? sql`${at} >= ${ts(from)} AND ${at} <= ${ts(now.getTime())}`
      : sql`${at} <= ${ts(now.getTime())}`;

  let facts: SQL;
  if (program.metric === 'points') {
    // A reversal counts when the award it reverses did, so a refund never moves a member twice.
    const at = sql`coalesce(a.occurred_at, e.occurred_at)`;
    facts = sql`
      SELECT e.customer_id AS member, ${at} AS at, e.points::bigint AS value
      FROM ledger_entries e
      LEFT JOIN ledger_entries a ON a.id = e.reverses_entry_id AND a.shop_id = e.shop_id
      WHERE e.shop_id = ${shop.id} AND ${memberIn(sql`e.customer_id`)}
        AND e.source IN (${sql.join(
          TIER_POINT_SOURCES.map((s) => sql`${s}`),
          sql`, `,
        )})
        AND ${since(at)}`;
  } else {
    const at = sql`coalesce(o.processed_at, o.created_at)`;
    const refunded = sql`coalesce(r.refunded, 0)`;
    const value =
      program.metric === 'spend'
        ? sql`greatest(o.earn_amount_minor - ${refunded}, 0)`
        : sql`1::bigint`;
    const counted =
      program.metric === 'orders'
        ? sql`AND NOT (o.earn_amount_minor > 0 AND ${refunded} >= o.earn_amount_minor)`
        : sql``;
    facts = sql`
      SELECT o.customer_id AS member, ${at} AS at, ${value} AS value
      FROM orders o
      LEFT JOIN LATERAL (
        SELECT sum(x.merchandise_minor) AS refunded FROM order_refunds x
        WHERE x.shop_id = o.shop_id AND x.shopify_order_id = o.shopify_order_id
      ) r ON TRUE
      WHERE o.shop_id = ${shop.id} AND o.customer_id IS NOT NULL
        AND ${memberIn(sql`o.customer_id`)}
        AND o.paid_at IS NOT NULL AND o.cancelled_at IS NULL
        AND (NOT o.test OR ${shop.testOrdersEarn}::boolean)
        AND ${since(at)} ${counted}`;
  }
  const query =
    program.window === 'lifetime'
      ? sql`SELECT member, (extract(epoch FROM min(at)) * 1000)::float8 AS at,
              sum(value)::float8 AS value FROM (${facts}) f GROUP BY member`
      : sql`SELECT member, (extract(epoch FROM at) * 1000)::float8 AS at, value::float8 AS value
            FROM (${facts}) f`;
  for (const row of rowsOf<{ member: number; at: number; value: number }>(
    await db.execute(query),
  )) {
    let list = byMember.get(row.member);
    if (!list) byMember.set(row.member, (list = []));
    list.push({ at: Number(row.at), value: Number(row.value) });
  }
  return byMember;
}

interface StoredTier {
  customerId: number;
  tierKey: string | null;
  heldUntil: Date | null;
  changes: number;
  since: Date;
  /** What the storefront's tier status was last computed from (see evaluateMembers). */
  metricValue: number;
  downgradeAt: Date | null;
}

/**
 * Locks the members' balance rows then customer_tiers rows (creating missing ones), in customer-id
 * order, and returns what they hold. A row created now has no standing yet (null).
 */
async function lockStandings(
  tx: Executor,
  shopId: number,
  ids: readonly number[],
  version: number,
  now: Date,
): Promise<Map<number, { stored: StoredTier; fresh: boolean }>> {
  const param = sql.param([...ids]);
  await tx.execute(sql`
    SELECT customer_id FROM customer_balances
    WHERE shop_id = ${shopId} AND customer_id = ANY(${param}::integer[])
    ORDER BY customer_id FOR UPDATE`);
  const inserted = rowsOf<{ customer_id: number }>(
    await tx.execute(sql`
      INSERT INTO customer_tiers (customer_id, shop_id, tier_key, tier_version, since, evaluated_at)
      SELECT c.id, c.shop_id, NULL, ${version}, ${now.toISOString()}::timestamptz,
        ${now.toISOString()}::timestamptz
      FROM customers c
      WHERE c.shop_id = ${shopId} AND c.id = ANY(${param}::integer[])
      ORDER BY c.id
      ON CONFLICT (customer_id) DO NOTHING
      RETURNING customer_id`),
  );
  const fresh = new Set(inserted.map((r) => r.customer_id));
  const rows = rowsOf<{
    customer_id: number;
    tier_key: string | null;
    held_until: Date | string | null;
    changes: number;
    since: Date | string;
    metric_value: number | string;
    downgrade_at: Date | string | null;
  }>(
    await tx.execute(sql`
      SELECT customer_id, tier_key, held_until, changes, since, metric_value, downgrade_at
      FROM customer_tiers
      WHERE shop_id = ${shopId} AND customer_id = ANY(${param}::integer[])
      ORDER BY customer_id FOR UPDATE`),
  );
  const out = new Map<number, { stored: StoredTier; fresh: boolean }>();
  for (const r of rows) {
    out.set(r.customer_id, {
      stored: {
        customerId: r.customer_id,
        tierKey: r.tier_key,
        heldUntil: r.held_until === null ? null : new Date(r.held_until),
        changes: r.changes,
        since: new Date(r.since),
        metricValue: Number(r.metric_value),
        downgradeAt: r.downgrade_at === null ? null : new Date(r.downgrade_at),
      },
      fresh: fresh.has(r.customer_id),
    });
  }
  return out;
}

/** Tiers each member has entered before (a change up into it, or its entry reward), ever. */
async function tiersEnteredBefore(
  tx: Executor,
  shopId: number,
  ids: readonly number[],
): Promise<Map<number, Set<string>>> {
  const entered = new Map<number, Set<string>>();
  if (ids.length === 0) return entered;
  const rows = rowsOf<{ customer_id: number; tier: string | null }>(
    await tx.execute(sql`
      SELECT customer_id,
        CASE WHEN inputs->>'rule' = 'tier-entry-reward' THEN inputs->>'tier' ELSE inputs->>'to' END
          AS tier
      FROM ledger_entries
      WHERE shop_id = ${shopId} AND source = 'tier'
        AND customer_id = ANY(${sql.param([...ids])}::integer[])
        AND (inputs->>'rule' = 'tier-entry-reward'
             OR (inputs->>'rule' = 'tier-change' AND inputs->>'direction' = 'up'))`),
  );
  for (const r of rows) {
    if (r.tier === null) continue;
    let set = entered.get(r.customer_id);
    if (!set) entered.set(r.customer_id, (set = new Set()));
    set.add(r.tier);
  }
  return entered;
}

function changeEntry(
  customerId: number,
  n: number,
  change: TierChange,
  current: CurrentTierProgram,
  now: Date,
): LedgerEntryInput {
  const names: Record<string, string> = {};
  for (const key of [change.from, change.to]) {
    const tier = tierByKey(current.program, key);
    if (tier) names[tier.key] = tier.name;
  }
  const inputs: TierChangeInputs = {
    rule: 'tier-change',
    from: change.from,
    to: change.to,
    direction: change.direction,
    tierVersion: current.version,
    reason: change.reason,
    names,
  };
  return {
    customerId,
    idempotencyKey: tierChangeKey(customerId, n),
    source: 'tier',
    points: 0,
    occurredAt: now,
    inputs: inputs as unknown as Record<string, unknown>,
    subjectId: change.to ?? change.from,
  };
}

function entryRewardEntry(
  customerId: number,
  tier: CompiledTier,
  version: number,
  now: Date,
): LedgerEntryInput {
  return {
    customerId,
    idempotencyKey: tierEntryKey(customerId, tier.key),
    source: 'tier',
    points: tier.entryPoints,
    occurredAt: now,
    inputs: { rule: 'tier-entry-reward', tier: tier.key, name: tier.name, tierVersion: version },
    subjectId: tier.key,
  };
}

/**
 * Evaluates these members at `now` under the shop's current tier program (none: nothing happens),
 * in the caller's transaction: updates their customer_tiers rows and posts a change entry for
 * every move and the entry reward of a tier reached for the first time. Unknown ids are skipped.
 * Pass `program` when it is already loaded (a whole-shop run).
 */
export async function evaluateMembers(
  tx: Executor,
  shop: Shop,
  customerIds: Iterable<number>,
  now: Date,
  options: { program?: CurrentTierProgram | null } = {},
): Promise<EvaluationSummary> {
  const ids = [...new Set(customerIds)].sort((a, b) => a - b);
  if (ids.length === 0) return EMPTY;
  const current =
    options.program === undefined ? await currentTierProgram(tx, shop.id, now) : options.program;
  if (!current) return EMPTY;
  const program = current.program;

  const standings = await lockStandings(tx, shop.id, ids, current.version, now);
  const activity = await loadTierActivity(tx, shop, program, [...standings.keys()], now);

  const members: MemberEvaluation[] = [];
  const updates: Record<string, unknown>[] = [];
  const entries: LedgerEntryInput[] = [];
  const ups: { customerId: number; tier: CompiledTier }[] = [];
  const statusOnly: LedgerChange[] = [];
  for (const [customerId, { stored, fresh }] of standings) {
    const standing: TierStanding | null = fresh
      ? null
      : { tierKey: stored.tierKey, heldUntil: stored.heldUntil?.getTime() ?? null };
    const result: TierEvaluation = evaluateTier(
      program,
      activity.get(customerId) ?? [],
      standing,
      now.getTime(),
      shop.timezone,
    );
    const change = result.change;
    let changes = stored.changes;
    if (change) {
      changes += 1;
      entries.push(changeEntry(customerId, changes, change, current, now));
      if (change.direction === 'up' && result.tier && result.tier.entryPoints > 0) {
        ups.push({ customerId, tier: result.tier });
      }
    }
    const tierKey = result.tier?.key ?? null;
    updates.push({
      customer_id: customerId,
      tier_key: tierKey,
      tier_version: current.version,
      since: (change || fresh ? now : stored.since).toISOString(),
      held_until: result.heldUntil === null ? null : new Date(result.heldUntil).toISOString(),
      downgrade_at: result.downgradeAt === null ? null : new Date(result.downgradeAt).toISOString(),
      metric_value: result.value,
      changes,
    });
    members.push({ customerId, from: standing?.tierKey ?? null, to: tierKey, change });
    // The storefront's progress line ("$180.00 more to Gold") and downgrade date come from these;
    // a change without a ledger entry (a rolling window moving on) must still reach Shopify.
    if (
      !change &&
      !fresh &&
      (stored.metricValue !== result.value ||
        (stored.downgradeAt?.getTime() ?? null) !== result.downgradeAt)
    ) {
      statusOnly.push({ customerId, ledgerPosition: 0 });
    }
  }

  // Entry rewards: once per tier, ever — a member back in a tier they held before gets none.
  const entered = await tiersEnteredBefore(
    tx,
    shop.id,
    ups.map((u) => u.customerId),
  );
  for (const { customerId, tier } of ups) {
    if (entered.get(customerId)?.has(tier.key)) continue;
    entries.push(entryRewardEntry(customerId, tier, current.version, now));
  }

  if (updates.length > 0) {
    await tx.execute(sql`
      UPDATE customer_tiers t SET
        tier_key = x.tier_key, tier_version = x.tier_version, since = x.since,
        held_until = x.held_until, downgrade_at = x.downgrade_at, metric_value = x.metric_value,
        evaluated_at = ${now.toISOString()}::timestamptz, changes = x.changes, updated_at = now()
      FROM jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) AS x(
        customer_id integer, tier_key text, tier_version integer, since timestamptz,
        held_until timestamptz, downgrade_at timestamptz, metric_value bigint, changes integer)
      WHERE t.customer_id = x.customer_id AND t.shop_id = ${shop.id}
        -- The id list lets the planner reach the rows by key: it guesses 100 rows for the
        -- recordset and would otherwise scan every member of the shop.
        AND t.customer_id = ANY(${sql.param(updates.map((u) => u.customer_id as number))}::integer[])`);
  }
  const posted = (await postMany(tx, shop.id, entries))
    .filter((r) => r.created)
    .map((r) => r.entry);
  // Position 0 keeps the member's recorded ledger position (the marking takes the greater).
  await markMetafieldsPending(tx, shop.id, statusOnly);
  return {
    evaluated: members.length,
    changed: members.filter((m) => m.change !== null).length,
    members,
    posted,
  };
}

/** Every customer id of the shop after `after`, ascending, at most `limit`. */
async function customerPage(
  db: Executor,
  shopId: number,
  after: number,
  limit: number,
): Promise<number[]> {
  const rows = await db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.shopId, shopId), gt(customers.id, after)))
    .orderBy(asc(customers.id))
    .limit(limit);
  return rows.map((r) => r.id);
}

/**
 * Evaluates every member of the shop (or those `pick` selects, page by page), in transactions of
 * {@link EVALUATION_BATCH} members. Returns the totals.
 */
export async function evaluateShop(
  db: Executor,
  shop: Shop,
  now: Date,
  options: {
    program?: CurrentTierProgram | null;
    /** The next page of member ids after `after` (default: every customer of the shop). */
    page?: (after: number, limit: number) => Promise<number[]>;
    batch?: number;
  } = {},
): Promise<{ evaluated: number; changed: number }> {
  const program =
    options.program === undefined ? await currentTierProgram(db, shop.id, now) : options.program;
  if (!program) return { evaluated: 0, changed: 0 };
  const batch = options.batch ?? EVALUATION_BATCH;
  const page = options.page ?? ((after, limit) => customerPage(db, shop.id, after, limit));
  let evaluated = 0;
  let changed = 0;
  for (let after = 0; ;) {
    const ids = await page(after, batch);
    if (ids.length === 0) break;
    const summary = await db.transaction((tx) => evaluateMembers(tx, shop, ids, now, { program }));
    evaluated += summary.evaluated;
    changed += summary.changed;
    after = ids[ids.length - 1]!;
    if (ids.length < batch) break;
  }
  return { evaluated, changed };
}

// ---------------------------------------------------------------------------------------------
// Editing live: preview, then apply as a new version

export interface TierPreview {
  members: number;
  up: number;
  down: number;
  same: number;
  /** Members per tier now (`before`) and under the draft (`after`); removed tiers last. */
  byTier: { key: string; name: string; before: number; after: number }[];
}

/**
 * What applying `definitionJson` at `now` would do, computed by the same evaluateTier over the
 * stored activity and standings, writing nothing. An invalid draft is a VALIDATION AppError
 * listing every problem (`details.issues`).
 */
export async function previewTierProgram(
  db: Executor,
  shop: Shop,
  definitionJson: unknown,
  now: Date,
): Promise<TierPreview> {
  const draft = compileTierProgram(definitionJson, shop.currency);
  const current = await currentTierProgram(db, shop.id, now);
  const activity = await loadTierActivity(db, shop, draft, null, now);
  const stored = new Map(
    (
      await db
        .select({
          customerId: customerTiers.customerId,
          tierKey: customerTiers.tierKey,
          heldUntil: customerTiers.heldUntil,
        })
        .from(customerTiers)
        .where(eq(customerTiers.shopId, shop.id))
    ).map((r) => [r.customerId, r]),
  );
  const byTier = new Map<string, { key: string; name: string; before: number; after: number }>();
  for (const tier of draft.tiers)
    byTier.set(tier.key, { key: tier.key, name: tier.name, before: 0, after: 0 });
  const count = (key: string | null, field: 'before' | 'after') => {
    if (key === null) return;
    let row = byTier.get(key);
    if (!row) {
      const name = (current && tierByKey(current.program, key)?.name) ?? key;
      byTier.set(key, (row = { key, name, before: 0, after: 0 }));
    }
    row[field] += 1;
  };
  const preview: TierPreview = { members: 0, up: 0, down: 0, same: 0, byTier: [] };
  for (let after = 0; ;) {
    const ids = await customerPage(db, shop.id, after, 5_000);
    for (const customerId of ids) {
      const row = stored.get(customerId);
      const standing = row
        ? { tierKey: row.tierKey, heldUntil: row.heldUntil?.getTime() ?? null }
        : null;
      const result = evaluateTier(
        draft,
        activity.get(customerId) ?? [],
        standing,
        now.getTime(),
        shop.timezone,
      );
      preview.members += 1;
      if (result.change?.direction === 'up') preview.up += 1;
      else if (result.change?.direction === 'down') preview.down += 1;
      else preview.same += 1;
      count(row?.tierKey ?? null, 'before');
      count(result.tier?.key ?? null, 'after');
    }
    if (ids.length < 5_000) break;
    after = ids[ids.length - 1]!;
  }
  preview.byTier = [...byTier.values()];
  return preview;
}

/**
 * Publishes `definitionJson` as the shop's next tier program version, effective at `now`, then
 * evaluates every member under it (in batches). Nothing is written when the draft is invalid.
 */
export async function applyTierProgram(
  db: Executor,
  shop: Shop,
  definitionJson: unknown,
  now: Date,
): Promise<{ version: number; evaluated: number; changed: number }> {
  const published = await publishTierProgram(db, shop.id, definitionJson, now);
  const program = await currentTierProgram(db, shop.id, now);
  if (!program || program.version !== published.version) {
    // Another version published at the same instant won: evaluating under it would not be what
    // this caller previewed.
    throw new AppError(
      ErrorCode.CONFLICT,
      `tier program version ${published.version} of shop ${shop.id} is not the one in force at ${now.toISOString()}`,
      { shopId: shop.id, version: published.version },
    );
  }
  const totals = await evaluateShop(db, shop, now, { program });
  return { version: published.version, ...totals };
}

// ---------------------------------------------------------------------------------------------
// The daily run: standings that change by time alone

/** "YYYY-MM-DD" of `now` on the shop's wall clock. */
export function localDay(now: Date, timezone: string): string {
  const wall = wallTimeOf(now.getTime(), timezone);
  return `${String(wall.year).padStart(4, '0')}-${String(wall.month).padStart(2, '0')}-${String(wall.day).padStart(2, '0')}`;
}

/**
 * Shops with a tier program in force whose local day at `now` has no finished daily run: each
 * with the day its run is for. Uninstalled shops are left alone.
 */
export async function shopsDueForTierRun(
  db: Executor,
  now: Date,
): Promise<{ shopId: number; domain: string; day: string }[]> {
  const rows = rowsOf<{ id: number; domain: string; timezone: string; last_day: string | null }>(
    await db.execute(sql`
      SELECT s.id, s.domain, s.timezone,
        (SELECT to_char(max(r.local_day), 'YYYY-MM-DD') FROM tier_daily_runs r
         WHERE r.shop_id = s.id AND r.finished_at IS NOT NULL) AS last_day
      FROM shops s
      WHERE s.active AND EXISTS (
        SELECT 1 FROM tier_programs p
        WHERE p.shop_id = s.id AND p.effective_from <= ${now.toISOString()}::timestamptz)
      ORDER BY s.id`),
  );
  const due: { shopId: number; domain: string; day: string }[] = [];
  for (const row of rows) {
    const day = localDay(now, row.timezone);
    if (row.last_day === null || row.last_day < day) {
      due.push({ shopId: row.id, domain: row.domain, day });
    }
  }
  return due;
}

/**
 * The next page of members the daily run evaluates: those whose standing can change with no new
 * activity — a grace period ended (downgrade_at ≤ now), placed by another program version, or,
 * in calendar-year and rolling windows, holding a tier with a threshold (its protection can end)
 * or a metric value that activity leaving the window can lower.
 */
function dailyCandidates(
  db: Executor,
  shopId: number,
  program: CurrentTierProgram,
  now: Date,
): (after: number, limit: number) => Promise<number[]> {
  const windowed = program.program.window !== 'lifetime';
  const protectedKeys = program.program.tiers.filter((t) => t.threshold > 0).map((t) => t.key);
  return async (after, limit) => {
    const rows = rowsOf<{ customer_id: number }>(
      await db.execute(sql`
        SELECT customer_id FROM customer_tiers
        WHERE shop_id = ${shopId} AND customer_id > ${after} AND (
          downgrade_at <= ${now.toISOString()}::timestamptz
          OR tier_version <> ${program.version}
          OR (${windowed}::boolean AND (
            tier_key = ANY(${sql.param(protectedKeys)}::text[]) OR metric_value <> 0)))
        ORDER BY customer_id LIMIT ${limit}`),
    );
    return rows.map((r) => r.customer_id);
  };
}

export interface DailyRunResult {
  /** False when the day's run had already finished (nothing done). */
  ran: boolean;
  evaluated: number;
  changed: number;
}

/**
 * The shop's daily tier run for local `day`, evaluated at `now`: once per shop and day (a
 * tier_daily_runs row); a run that did not finish (crash, deploy) is run again — evaluation is
 * idempotent, so the members it reached are not moved twice.
 */
export async function runDailyTierEvaluation(
  db: Executor,
  shop: Shop,
  day: string,
  now: Date,
  options: { batch?: number } = {},
): Promise<DailyRunResult> {
  await db.execute(sql`
    INSERT INTO tier_daily_runs (shop_id, local_day, started_at)
    VALUES (${shop.id}, ${day}::date, ${now.toISOString()}::timestamptz)
    ON CONFLICT (shop_id, local_day) DO NOTHING`);
  const [run] = rowsOf<{ finished_at: unknown }>(
    await db.execute(sql`
      SELECT finished_at FROM tier_daily_runs WHERE shop_id = ${shop.id} AND local_day = ${day}::date`),
  );
  if (run && run.finished_at !== null) return { ran: false, evaluated: 0, changed: 0 };
  const program = await currentTierProgram(db, shop.id, now);
  const totals = program
    ? await evaluateShop(db, shop, now, {
        program,
        page: dailyCandidates(db, shop.id, program, now),
        ...(options.batch !== undefined ? { batch: options.batch } : {}),
      })
    : { evaluated: 0, changed: 0 };
  await db.execute(sql`
    UPDATE tier_daily_runs SET finished_at = ${now.toISOString()}::timestamptz,
      evaluated = ${totals.evaluated}, changed = ${totals.changed}
    WHERE shop_id = ${shop.id} AND local_day = ${day}::date`);
  return { ran: true, ...totals };
}

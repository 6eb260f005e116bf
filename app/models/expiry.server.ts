/**
 * The expiry run (docs/expiry.md): for each member with points due to expire, one `expiry` ledger
 * entry per expiry instant naming the lots it expires. The rules are pure (loyalty/lots.ts); this
 * module finds the members cheaply, loads their entries, posts under the member's lock and keeps
 * customer_lot_states, the record of where each member's lots stood when last read.
 *
 * Finding who is due without reading every ledger: a member's ledger is read only when their
 * customer_balances row changed since their lots were last computed (any post updates it), when
 * their recorded next expiry is at or before the horizon, when they were computed under another
 * policy version, or when they were never computed. Members nobody touched and whose points are
 * not near expiry cost one index row each.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import {
  computeLots,
  dueExpiries,
  expiringBetween,
  type ExpiryGroup,
  type LotEntry,
  type LotState,
} from '../../loyalty/lots';
import { lockCustomers } from './customers.server';
import { currentExpiryPolicy, type ExpiryPolicyVersion } from './expiry-policies.server';
import { postMany, type LedgerEntryInput } from './ledger.server';
import type { Shop } from './shops.server';

/** Members per transaction. */
export const EXPIRY_BATCH = 500;
/** Lots per expiry entry: keeps its inputs well under the ledger's 32 KB. */
export const LOTS_PER_ENTRY = 150;

function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/** What an expiry entry records in `inputs`. */
export interface ExpiryInputs {
  rule: 'expiry';
  policyVersion: number;
  mode: 'lot' | 'inactivity';
  months: number;
  /** The last local day the points could be used. */
  lastDay: string;
  lots: {
    entryId: number;
    points: number;
    earnedAt: string;
    /** The shop-local day it was earned (YYYY-MM-DD): what the explanation shows. */
    earnedDay: string;
    source: string;
    orderName?: string;
  }[];
}

/** `expiry:<customer>:<instant>:<first lot>`: one entry per member, instant and set of lots. */
export const expiryKey = (customerId: number, expiresAt: Date, firstEntryId: number) =>
  `expiry:${customerId}:${expiresAt.toISOString()}:${firstEntryId}`;

/**
 * Members whose lot state is out of date (changed since, another version, or none): what the
 * admin's forecast reads live, the rest coming from their recorded schedules.
 */
export async function staleLotMembers(
  db: Executor,
  shopId: number,
  policyVersion: number,
  after: number,
  limit: number,
): Promise<number[]> {
  const rows = rowsOf<{ customer_id: number }>(
    await db.execute(sql`
      SELECT b.customer_id FROM customer_balances b
      LEFT JOIN customer_lot_states s ON s.customer_id = b.customer_id
      WHERE b.shop_id = ${shopId} AND b.customer_id > ${after} AND b.balance > 0 AND (
        s.customer_id IS NULL
        OR s.policy_version <> ${policyVersion}
        OR s.seen_updated_at IS DISTINCT FROM b.updated_at
        OR s.seen_balance <> b.balance)
      ORDER BY b.customer_id LIMIT ${limit}`),
  );
  return rows.map((r) => Number(r.customer_id));
}

/**
 * Points expiring in (from, to] by the month (YYYY-MM) of their last usable day, from the
 * recorded schedules of members whose state is up to date: one statement, no ledger read.
 */
export async function scheduledExpiryByMonth(
  db: Executor,
  shopId: number,
  policyVersion: number,
  from: Date,
  to: Date,
): Promise<{ month: string; points: number; members: number }[]> {
  const rows = rowsOf<{ month: string; points: number | string; members: number | string }>(
    await db.execute(sql`
      SELECT left(e->>'lastDay', 7) AS month, sum((e->>'points')::bigint) AS points,
        count(DISTINCT s.customer_id) AS members
      FROM customer_lot_states s
      JOIN customer_balances b ON b.customer_id = s.customer_id
      CROSS JOIN LATERAL jsonb_array_elements(s.schedule) e
      WHERE s.shop_id = ${shopId} AND s.policy_version = ${policyVersion} AND b.balance > 0
        AND s.seen_updated_at = b.updated_at AND s.seen_balance = b.balance
        AND (e->>'at')::timestamptz > ${ts(from)} AND (e->>'at')::timestamptz <= ${ts(to)}
      GROUP BY 1`),
  );
  return rows.map((r) => ({
    month: r.month,
    points: Number(r.points),
    members: Number(r.members),
  }));
}

/**
 * Members of the shop whose lots must be read again (see the module comment), by customer id
 * after `after`. `horizon`: recorded next expiries at or before it count as due.
 */
export async function lotCandidates(
  db: Executor,
  shopId: number,
  policyVersion: number,
  horizon: Date,
  after: number,
  limit: number,
): Promise<number[]> {
  const rows = rowsOf<{ customer_id: number }>(
    await db.execute(sql`
      SELECT b.customer_id FROM customer_balances b
      LEFT JOIN customer_lot_states s ON s.customer_id = b.customer_id
      WHERE b.shop_id = ${shopId} AND b.customer_id > ${after} AND b.balance > 0 AND (
        s.customer_id IS NULL
        OR s.policy_version <> ${policyVersion}
        OR s.seen_updated_at IS DISTINCT FROM b.updated_at
        OR s.seen_balance <> b.balance
        OR s.next_expires_at <= ${ts(horizon)})
      ORDER BY b.customer_id LIMIT ${limit}`),
  );
  return rows.map((r) => Number(r.customer_id));
}

/** The members' entries as loyalty/lots.ts reads them (only the inputs it needs). */
export async function loadLotEntries(
  db: Executor,
  shopId: number,
  customerIds: readonly number[],
): Promise<Map<number, LotEntry[]>> {
  const byMember = new Map<number, LotEntry[]>(customerIds.map((id) => [id, []]));
  if (customerIds.length === 0) return byMember;
  const rows = rowsOf<{
    id: string | number;
    customer_id: number;
    source: string;
    points: number;
    occurred_at: string | Date;
    lots: unknown;
    order_name: string | null;
    reverses_entry_id: string | number | null;
  }>(
    await db.execute(sql`
      SELECT id, customer_id, source, points, occurred_at, reverses_entry_id,
        CASE WHEN source = 'expiry' THEN inputs->'lots' END AS lots,
        inputs->>'orderName' AS order_name
      FROM ledger_entries
      WHERE shop_id = ${shopId} AND customer_id = ANY(${sql.param([...customerIds])}::integer[])`),
  );
  for (const row of rows) {
    const inputs: Record<string, unknown> = {};
    if (row.lots !== null && row.lots !== undefined) {
      inputs.lots = typeof row.lots === 'string' ? JSON.parse(row.lots) : row.lots;
    }
    if (row.order_name !== null) inputs.orderName = row.order_name;
    byMember.get(Number(row.customer_id))?.push({
      id: Number(row.id),
      source: row.source,
      points: Number(row.points),
      occurredAt: new Date(row.occurred_at),
      inputs,
      reversesEntryId: row.reverses_entry_id === null ? null : Number(row.reverses_entry_id),
    });
  }
  return byMember;
}

/** The members' lots under `policy` (whose effective_from bounds what may expire). */
export function lotsUnder(
  entries: readonly LotEntry[],
  policy: ExpiryPolicyVersion,
  timezone: string,
): LotState {
  return computeLots(entries, policy.policy, timezone, { effectiveFrom: policy.effectiveFrom });
}

/** The entries that post `groups` for one member. */
export function expiryEntries(
  customerId: number,
  groups: readonly ExpiryGroup[],
  policy: ExpiryPolicyVersion,
): LedgerEntryInput[] {
  if (policy.policy.mode === 'never') return [];
  const { mode, months } = policy.policy;
  const entries: LedgerEntryInput[] = [];
  for (const group of groups) {
    for (let start = 0; start < group.lots.length; start += LOTS_PER_ENTRY) {
      const lots = group.lots.slice(start, start + LOTS_PER_ENTRY);
      const points = lots.reduce((sum, lot) => sum + lot.points, 0);
      const inputs: ExpiryInputs = {
        rule: 'expiry',
        policyVersion: policy.version,
        mode,
        months,
        lastDay: group.lastDay,
        lots: lots.map((lot) => ({
          entryId: lot.entryId,
          points: lot.points,
          earnedAt: lot.earnedAt.toISOString(),
          earnedDay: lot.earnedDay,
          source: lot.source,
          ...(lot.orderName ? { orderName: lot.orderName } : {}),
        })),
      };
      entries.push({
        customerId,
        idempotencyKey: expiryKey(customerId, group.expiresAt, lots[0]!.entryId),
        source: 'expiry',
        points: -points,
        occurredAt: group.expiresAt,
        inputs: inputs as unknown as Record<string, unknown>,
        subjectId: `customer:${customerId}`,
      });
    }
  }
  return entries;
}

/** What remains to expire after `now`, by instant: customer_lot_states.schedule. */
export type ExpirySchedule = { at: string; lastDay: string; points: number }[];

const FOREVER = new Date(8.64e15);

/** The schedule of a member's lots after `now` (what is due at `now` is being posted). */
export function scheduleAfter(state: Pick<LotState, 'lots'>, now: Date): ExpirySchedule {
  return expiringBetween(state, now, FOREVER).map((g) => ({
    at: g.expiresAt.toISOString(),
    lastDay: g.lastDay,
    points: g.points,
  }));
}

/** Records where the members' lots stand, read under their lock after anything posted. */
async function saveLotStates(
  tx: Executor,
  shopId: number,
  policyVersion: number,
  schedules: Map<number, ExpirySchedule>,
  now: Date,
): Promise<void> {
  if (schedules.size === 0) return;
  const ids = [...schedules.keys()];
  const nextAt = ids.map((id) => schedules.get(id)![0]?.at ?? null);
  const json = ids.map((id) => JSON.stringify(schedules.get(id)));
  await tx.execute(sql`
    INSERT INTO customer_lot_states (customer_id, shop_id, policy_version, next_expires_at,
      seen_updated_at, seen_balance, schedule, computed_at)
    SELECT b.customer_id, b.shop_id, ${policyVersion}, n.next_at, b.updated_at, b.balance,
      n.schedule, ${ts(now)}
    FROM unnest(${sql.param(ids)}::integer[], ${sql.param(nextAt)}::timestamptz[],
      ${sql.param(json)}::jsonb[]) AS n(customer_id, next_at, schedule)
    JOIN customer_balances b ON b.customer_id = n.customer_id AND b.shop_id = ${shopId}
    ON CONFLICT (customer_id) DO UPDATE SET
      policy_version = excluded.policy_version, next_expires_at = excluded.next_expires_at,
      seen_updated_at = excluded.seen_updated_at, seen_balance = excluded.seen_balance,
      schedule = excluded.schedule, computed_at = excluded.computed_at`);
}

export interface ExpiryRunResult {
  policyVersion: number | null;
  /** Members whose ledger was read. */
  read: number;
  /** Members with points expired now. */
  expired: number;
  entries: number;
  points: number;
}

/**
 * Expires what is due at `now` for every member of the shop, in batches of members, each batch
 * one transaction under the members' locks. Repeating it changes nothing: what expired is no
 * longer in any lot, and the keys are idempotent.
 */
export async function runExpiry(
  db: Executor,
  shop: Pick<Shop, 'id' | 'timezone'>,
  now: Date,
  options: { batch?: number } = {},
): Promise<ExpiryRunResult> {
  const policy = await currentExpiryPolicy(db, shop.id, now);
  const result: ExpiryRunResult = {
    policyVersion: policy?.version ?? null,
    read: 0,
    expired: 0,
    entries: 0,
    points: 0,
  };
  if (!policy) return result;
  const batch = options.batch ?? EXPIRY_BATCH;
  let after = 0;
  for (;;) {
    const ids = await lotCandidates(db, shop.id, policy.version, now, after, batch);
    if (ids.length === 0) break;
    after = ids.at(-1)!;
    await db.transaction(async (tx) => {
      await lockCustomers(tx, shop.id, { ids });
      const entriesOf = await loadLotEntries(tx, shop.id, ids);
      const posts: LedgerEntryInput[] = [];
      const schedules = new Map<number, ExpirySchedule>();
      for (const id of ids) {
        const state = lotsUnder(entriesOf.get(id) ?? [], policy, shop.timezone);
        const due = dueExpiries(state, now);
        const entries = expiryEntries(id, due, policy);
        posts.push(...entries);
        if (entries.length > 0) {
          result.expired++;
          result.points += due.reduce((sum, g) => sum + g.points, 0);
        }
        // What is due is posted now: what is left to expire comes after `now`.
        schedules.set(id, scheduleAfter(state, now));
      }
      result.read += ids.length;
      const posted = await postMany(tx, shop.id, posts);
      result.entries += posted.filter((p) => p.created).length;
      await saveLotStates(tx, shop.id, policy.version, schedules, now);
    });
  }
  return result;
}

/**
 * Expiry reminders (docs/expiry.md, "Reminders"): who is reminded of what, recorded once, and
 * each record delivered through each enabled channel by a Notifier (app/notify/notifier.ts).
 *
 * Planning, in the daily run after expiry: for every member whose points expire within the
 * largest threshold, each expiry instant is reminded at the smallest threshold T whose window
 * (now, end of local day today + T] holds it — so a member who first comes into view 5 days
 * before expiry gets the 7-day reminder, not the 30-day one as well. expiry_reminder_lots makes
 * each (lot, instant, threshold) reminded at most once; a lot joining an instant already reminded
 * at T gets a reminder of its own.
 *
 * Delivery: reminder_deliveries rows, one per reminder and enabled channel, claimed (`sending`,
 * committed) before the notifier is called, so a worker that dies mid-send leaves the row
 * `sending` and it is failed, never sent again. A notifier that throws is retried with backoff.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { addDays, endOfLocalDay, expiringBetween, localDayOf } from '../../loyalty/lots';
import type { ExpiryReminder, Notifier, NotifierChannel, NotifyOutcome } from '../notify/notifier';
import { currentExpiryPolicy } from './expiry-policies.server';
import { loadLotEntries, lotsUnder } from './expiry.server';
import type { Shop } from './shops.server';

/** Members per planning transaction. */
export const REMINDER_BATCH = 500;
/** Deliveries claimed per send round. */
export const SEND_BATCH = 50;
/** Waits before attempts 2, 3, …: a notifier that keeps throwing fails after the last. */
export const REMINDER_RETRY_MS = [60_000, 300_000, 1_800_000, 7_200_000, 43_200_000] as const;
export const MAX_REMINDER_ATTEMPTS = REMINDER_RETRY_MS.length + 1;
/** A delivery `sending` longer than this was interrupted (its worker died). */
export const SENDING_LEASE_MS = 600_000;

function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

export interface PlanResult {
  read: number;
  reminders: number;
  deliveries: number;
}

/**
 * Plans the reminders due at `now` for the shop and records them with a pending delivery per
 * enabled channel. Repeating it records nothing new.
 */
export async function planReminders(
  db: Executor,
  shop: Pick<Shop, 'id' | 'timezone'>,
  now: Date,
  options: { batch?: number } = {},
): Promise<PlanResult> {
  const result: PlanResult = { read: 0, reminders: 0, deliveries: 0 };
  const policy = await currentExpiryPolicy(db, shop.id, now);
  if (!policy || policy.policy.mode === 'never' || policy.reminderDays.length === 0) return result;
  const channels = (['email', 'shopify'] as const).filter((c) => policy.channels[c]);
  const today = localDayOf(now.getTime(), shop.timezone);
  const thresholds = [...policy.reminderDays].sort((a, b) => a - b);
  const windowEnd = new Map(
    thresholds.map((t) => [t, endOfLocalDay(addDays(today, t), shop.timezone)]),
  );
  const horizon = windowEnd.get(thresholds.at(-1)!)!;
  const batch = options.batch ?? REMINDER_BATCH;
  let after = 0;
  for (;;) {
    const ids = rowsOf<{ customer_id: number }>(
      await db.execute(sql`
        SELECT s.customer_id FROM customer_lot_states s
        JOIN customer_balances b ON b.customer_id = s.customer_id
        WHERE s.shop_id = ${shop.id} AND s.customer_id > ${after}
          AND s.next_expires_at <= ${ts(horizon)}
          AND b.balance > 0
        ORDER BY s.customer_id LIMIT ${batch}`),
    ).map((r) => Number(r.customer_id));
    if (ids.length === 0) break;
    after = ids.at(-1)!;
    result.read += ids.length;
    await db.transaction(async (tx) => {
      const entriesOf = await loadLotEntries(tx, shop.id, ids);
      for (const customerId of ids) {
        const state = lotsUnder(entriesOf.get(customerId) ?? [], policy, shop.timezone);
        for (const group of expiringBetween(state, now, horizon)) {
          const threshold = thresholds.find(
            (t) => group.expiresAt.getTime() <= windowEnd.get(t)!.getTime(),
          )!;
          const already = new Set(
            rowsOf<{ entry_id: number }>(
              await tx.execute(sql`
                SELECT entry_id FROM expiry_reminder_lots
                WHERE shop_id = ${shop.id} AND expires_at = ${ts(group.expiresAt)}
                  AND threshold_days = ${threshold}
                  AND entry_id = ANY(${sql.param(group.lots.map((l) => l.entryId))}::bigint[])`),
            ).map((r) => Number(r.entry_id)),
          );
          const lots = group.lots
            .filter((l) => !already.has(l.entryId))
            .map((l) => ({ entryId: l.entryId, points: l.points }));
          if (lots.length === 0) continue;
          const points = lots.reduce((sum, l) => sum + l.points, 0);
          const [reminder] = rowsOf<{ id: number }>(
            await tx.execute(sql`
              INSERT INTO expiry_reminders (shop_id, customer_id, threshold_days, expires_at,
                last_day, points, balance, lots, first_entry_id, policy_version, created_at)
              VALUES (${shop.id}, ${customerId}, ${threshold}, ${ts(group.expiresAt)},
                ${group.lastDay}::date, ${points}, ${state.balance}, ${JSON.stringify(lots)}::jsonb,
                ${lots[0]!.entryId}, ${policy.version}, ${ts(now)})
              ON CONFLICT DO NOTHING RETURNING id`),
          );
          if (!reminder) continue;
          await tx.execute(sql`
            INSERT INTO expiry_reminder_lots (shop_id, entry_id, expires_at, threshold_days, reminder_id)
            SELECT ${shop.id}, unnest(${sql.param(lots.map((l) => l.entryId))}::bigint[]),
              ${ts(group.expiresAt)}, ${threshold}, ${reminder.id}`);
          result.reminders++;
          if (channels.length > 0) {
            await tx.execute(sql`
              INSERT INTO reminder_deliveries (shop_id, reminder_id, channel, next_attempt_at)
              SELECT ${shop.id}, ${reminder.id}, unnest(${sql.param([...channels])}::text[]), ${ts(now)}`);
            result.deliveries += channels.length;
          }
        }
      }
    });
  }
  return result;
}

export type ReminderNotifiers = Partial<Record<NotifierChannel, Notifier>>;

export interface SendResult {
  sent: number;
  skipped: number;
  /** Failed for good (attempts exhausted, or interrupted mid-send earlier). */
  failed: number;
  /** Failed this time, to be tried again at nextAttemptAt. */
  retrying: number;
  /** No notifier for the channel in this process: left pending. */
  waiting: number;
  /** The earliest pending delivery after this round (null: none). */
  nextAttemptAt: Date | null;
}

interface ClaimedDelivery {
  id: number;
  channel: NotifierChannel;
  attempts: number;
  reminder_id: number;
  customer_id: number;
  threshold_days: number;
  expires_at: string | Date;
  last_day: string;
  points: number;
  balance: number;
  lots: { entryId: number; points: number }[] | string;
  external_id: string;
  email: string | null;
  first_name: string | null;
  redacted_at: string | Date | null;
}

/** Why a claimed delivery is skipped without calling its notifier; null: send it. */
function skipReason(
  delivery: ClaimedDelivery,
  enabled: { email: boolean; shopify: boolean } | null,
  now: Date,
): string | null {
  if (delivery.redacted_at !== null) return 'customer redacted';
  if (!enabled?.[delivery.channel]) return 'channel turned off in the expiry settings';
  if (new Date(delivery.expires_at).getTime() <= now.getTime())
    return 'the points expired before the reminder could be sent';
  return null;
}

/**
 * Sends the shop's pending deliveries due at `now` through `notifiers`, recording each outcome.
 * Rounds of SEND_BATCH until none is due.
 */
export async function sendDueReminders(
  db: Executor,
  shop: Pick<Shop, 'id' | 'domain' | 'name' | 'timezone'>,
  notifiers: ReminderNotifiers,
  now: Date,
  options: { batch?: number; locale?: string } = {},
): Promise<SendResult> {
  const result: SendResult = {
    sent: 0,
    skipped: 0,
    failed: 0,
    retrying: 0,
    waiting: 0,
    nextAttemptAt: null,
  };
  // A worker that died mid-send: the member may have been reminded; never send it again.
  const interrupted = rowsOf<{ id: number }>(
    await db.execute(sql`
      UPDATE reminder_deliveries SET status = 'failed', updated_at = ${ts(now)},
        reason = 'interrupted while sending: not retried, so the member is never reminded twice'
      WHERE shop_id = ${shop.id} AND status = 'sending'
        AND updated_at <= ${ts(new Date(now.getTime() - SENDING_LEASE_MS))}
      RETURNING id`),
  );
  result.failed += interrupted.length;
  const policy = await currentExpiryPolicy(db, shop.id, now);
  const enabled = policy?.channels ?? null;
  const waitingChannels = (['email', 'shopify'] as const).filter((c) => !notifiers[c]);
  const batch = options.batch ?? SEND_BATCH;
  for (;;) {
    const claimed = rowsOf<ClaimedDelivery>(
      await db.execute(sql`
        WITH due AS (
          SELECT id FROM reminder_deliveries
          WHERE shop_id = ${shop.id} AND status = 'pending' AND next_attempt_at <= ${ts(now)}
            AND NOT (channel = ANY(${sql.param(waitingChannels)}::text[]))
          ORDER BY id LIMIT ${batch} FOR UPDATE SKIP LOCKED)
        UPDATE reminder_deliveries d SET status = 'sending', attempts = d.attempts + 1,
          updated_at = ${ts(now)}
        FROM due, expiry_reminders r, customers c
        WHERE d.id = due.id AND r.id = d.reminder_id AND c.id = r.customer_id
        RETURNING d.id, d.channel, d.attempts, r.id AS reminder_id, r.customer_id,
          r.threshold_days, r.expires_at, to_char(r.last_day, 'YYYY-MM-DD') AS last_day, r.points,
          r.balance, r.lots, c.external_id, c.email, c.first_name, c.redacted_at`),
    );
    if (claimed.length === 0) break;
    for (const delivery of claimed) {
      await deliver(db, shop, notifiers, delivery, enabled, now, options.locale ?? 'en', result);
    }
  }
  const [waiting] = rowsOf<{ n: number }>(
    await db.execute(sql`
      SELECT count(*)::int AS n FROM reminder_deliveries
      WHERE shop_id = ${shop.id} AND status = 'pending'
        AND channel = ANY(${sql.param(waitingChannels)}::text[])`),
  );
  result.waiting = Number(waiting?.n ?? 0);
  const [next] = rowsOf<{ at: string | Date | null }>(
    await db.execute(sql`
      SELECT min(next_attempt_at) AS at FROM reminder_deliveries
      WHERE shop_id = ${shop.id} AND status = 'pending'
        AND NOT (channel = ANY(${sql.param(waitingChannels)}::text[]))`),
  );
  result.nextAttemptAt = next?.at ? new Date(next.at) : null;
  return result;
}

async function deliver(
  db: Executor,
  shop: Pick<Shop, 'id' | 'domain' | 'name' | 'timezone'>,
  notifiers: ReminderNotifiers,
  delivery: ClaimedDelivery,
  enabled: { email: boolean; shopify: boolean } | null,
  now: Date,
  locale: string,
  result: SendResult,
): Promise<void> {
  const finish = async (
    status: 'sent' | 'skipped' | 'failed',
    reason: string | null,
    detail: string | null,
  ) => {
    await db.execute(sql`
      UPDATE reminder_deliveries SET status = ${status}, reason = ${reason}, detail = ${detail},
        sent_at = ${status === 'sent' ? ts(now) : sql`NULL`}, updated_at = ${ts(now)}
      WHERE id = ${delivery.id}`);
  };
  const skip = skipReason(delivery, enabled, now);
  if (skip !== null) {
    await finish('skipped', skip, null);
    result.skipped++;
    return;
  }
  const lots = typeof delivery.lots === 'string' ? JSON.parse(delivery.lots) : delivery.lots;
  const reminder: ExpiryReminder = {
    shop: { domain: shop.domain, name: shop.name ?? shop.domain, timezone: shop.timezone },
    locale,
    customer: {
      id: Number(delivery.customer_id),
      externalId: delivery.external_id,
      email: delivery.email,
      firstName: delivery.first_name,
    },
    points: Number(delivery.points),
    expiresAt: new Date(delivery.expires_at),
    lastDay: delivery.last_day,
    thresholdDays: Number(delivery.threshold_days),
    balance: Number(delivery.balance),
    lots: (lots as { entryId: number; points: number }[]).map((l) => ({
      entryId: Number(l.entryId),
      points: Number(l.points),
    })),
    storefrontUrl: `https://${shop.domain}/account`,
  };
  let outcome: NotifyOutcome;
  try {
    outcome = await notifiers[delivery.channel]!.notify(reminder);
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, 300);
    const attempts = Number(delivery.attempts);
    if (attempts >= MAX_REMINDER_ATTEMPTS) {
      await finish('failed', `gave up after ${attempts} attempts: ${reason}`, null);
      result.failed++;
      return;
    }
    const retryAt = new Date(now.getTime() + REMINDER_RETRY_MS[attempts - 1]!);
    await db.execute(sql`
      UPDATE reminder_deliveries SET status = 'pending', reason = ${reason},
        next_attempt_at = ${ts(retryAt)}, updated_at = ${ts(now)}
      WHERE id = ${delivery.id}`);
    result.retrying++;
    return;
  }
  if (outcome.status === 'sent') {
    await finish('sent', null, outcome.detail ?? null);
    result.sent++;
  } else {
    await finish('skipped', outcome.reason.slice(0, 300), null);
    result.skipped++;
  }
}

/** Shops with deliveries pending and due at `now` (the sweep's safety net for lost jobs). */
export async function shopsWithDueReminders(db: Executor, now: Date): Promise<string[]> {
  const rows = rowsOf<{ domain: string }>(
    await db.execute(sql`
      SELECT s.domain FROM shops s
      WHERE s.active AND EXISTS (
        SELECT 1 FROM reminder_deliveries d
        WHERE d.shop_id = s.id AND d.status = 'pending' AND d.next_attempt_at <= ${ts(now)})
      ORDER BY s.id`),
  );
  return rows.map((r) => r.domain);
}

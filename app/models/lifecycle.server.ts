/**
 * The daily lifecycle run (docs/expiry.md, "The daily run"): once per shop and local day, its
 * steps in order — expiry, the birthday bonus, then reminders. A
 * lifecycle_daily_runs row makes the day once however often its job is enqueued; each finished
 * step's summary is recorded there, so a run interrupted mid-way resumes after its last finished
 * step (every step is idempotent too, so repeating one changes nothing).
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { awardBirthdayBonuses } from './bonuses.server';
import { planReminders } from './expiry-reminders.server';
import { runExpiry } from './expiry.server';
import type { Shop } from './shops.server';
import { localDay } from './tier-evaluation.server';

/** One step of the day: a summary of counts comes back (no personal data). */
export interface LifecycleStep {
  name: string;
  run(db: Executor, shop: Shop, day: string, now: Date): Promise<Record<string, unknown>>;
}

/**
 * The steps, in order. Expiry first: reminders must not announce points that just expired. The
 * birthday bonus (docs/bonuses.md) on the first day of the member's birth month, before the
 * reminders, so a reminder's balance includes it.
 */
export const LIFECYCLE_STEPS: readonly LifecycleStep[] = [
  { name: 'expiry', run: async (db, shop, _day, now) => ({ ...(await runExpiry(db, shop, now)) }) },
  {
    name: 'birthday',
    run: async (db, shop, day, now) => ({ ...(await awardBirthdayBonuses(db, shop, day, now)) }),
  },
  {
    name: 'reminders',
    run: async (db, shop, _day, now) => ({ ...(await planReminders(db, shop, now)) }),
  },
];

function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** Active shops whose local day at `now` has no finished lifecycle run, with that day. */
export async function shopsDueForLifecycleRun(
  db: Executor,
  now: Date,
): Promise<{ shopId: number; domain: string; day: string }[]> {
  const rows = rowsOf<{ id: number; domain: string; timezone: string; last_day: string | null }>(
    await db.execute(sql`
      SELECT s.id, s.domain, s.timezone,
        (SELECT to_char(max(r.local_day), 'YYYY-MM-DD') FROM lifecycle_daily_runs r
         WHERE r.shop_id = s.id AND r.finished_at IS NOT NULL) AS last_day
      FROM shops s WHERE s.active ORDER BY s.id`),
  );
  const due: { shopId: number; domain: string; day: string }[] = [];
  for (const row of rows) {
    const day = localDay(now, row.timezone);
    if (row.last_day === null || row.last_day < day)
      due.push({ shopId: row.id, domain: row.domain, day });
  }
  return due;
}

export interface LifecycleDayResult {
  /** False when the day had already finished (nothing done). */
  ran: boolean;
  /** Each step's summary, by name (steps finished by an earlier attempt included). */
  results: Record<string, unknown>;
}

/** Runs the shop's local `day` at `now`, its steps in order, once. */
export async function runLifecycleDay(
  db: Executor,
  shop: Shop,
  day: string,
  now: Date,
  steps: readonly LifecycleStep[] = LIFECYCLE_STEPS,
): Promise<LifecycleDayResult> {
  await db.execute(sql`
    INSERT INTO lifecycle_daily_runs (shop_id, local_day, started_at)
    VALUES (${shop.id}, ${day}::date, ${now.toISOString()}::timestamptz)
    ON CONFLICT (shop_id, local_day) DO NOTHING`);
  const [run] = rowsOf<{ finished_at: unknown; results: unknown }>(
    await db.execute(sql`
      SELECT finished_at, results FROM lifecycle_daily_runs
      WHERE shop_id = ${shop.id} AND local_day = ${day}::date`),
  );
  const results = (
    typeof run?.results === 'string' ? JSON.parse(run.results) : (run?.results ?? {})
  ) as Record<string, unknown>;
  if (run && run.finished_at !== null) return { ran: false, results };
  for (const step of steps) {
    if (step.name in results) continue;
    const summary = await step.run(db, shop, day, now);
    results[step.name] = summary;
    await db.execute(sql`
      UPDATE lifecycle_daily_runs SET results = results || ${JSON.stringify({ [step.name]: summary })}::jsonb
      WHERE shop_id = ${shop.id} AND local_day = ${day}::date`);
  }
  await db.execute(sql`
    UPDATE lifecycle_daily_runs SET finished_at = ${now.toISOString()}::timestamptz
    WHERE shop_id = ${shop.id} AND local_day = ${day}::date`);
  return { ran: true, results };
}

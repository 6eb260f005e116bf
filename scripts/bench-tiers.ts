// Benchmark for tier evaluation (issue [7]) on a fresh PostgreSQL database: a shop with --members
// members and --orders paid orders each (spend over rolling 12 months, the demo's four tiers),
// then the four things that read every member's activity — the preview of a new tier program,
// applying it (publish + evaluate everyone, writing the moves), the daily run of the next day, and
// evaluating one member as the orders worker does after each order. Prints each time and
// PASS/FAIL against the targets; a missed target is reported, exit 0. docs/perf.md.
//
//   tsx scripts/bench-tiers.ts [--members 50000] [--orders 4] [--samples 300] [--wait-quiet]
//
// Targets (a 2-core machine, PostgreSQL local): apply ≤ 60 s and the daily run ≤ 60 s for 50,000
// members; preview ≤ 15 s; one member's evaluation inside the order's transaction p95 ≤ 20 ms.
import { eq, sql } from 'drizzle-orm';
import {
  applyTierProgram,
  evaluateMembers,
  localDay,
  previewTierProgram,
  runDailyTierEvaluation,
} from '../app/models/tier-evaluation.server';
import { getShopByDomain } from '../app/models/shops.server';
import { customers, shops } from '../db/schema';
import { FOUR_TIERS } from '../tests/helpers/tiers';
import {
  flag,
  machineLine,
  numberOption,
  openBenchDatabase,
  out,
  percentile,
  quietMachine,
  verdict,
} from './bench-lib';

const TARGET = { applyMs: 60_000, dailyMs: 60_000, previewMs: 15_000, oneP95Ms: 20 };
const opt = {
  members: numberOption('members', 50_000),
  orders: numberOption('orders', 4),
  samples: numberOption('samples', 300),
};
const TZ = 'America/New_York';
const ROLLING = { ...FOUR_TIERS, window: 'rolling_12_months' as const };
const RAISED = {
  ...ROLLING,
  tiers: ROLLING.tiers.map((t) =>
    t.key === 'gold'
      ? { ...t, threshold: '1500.00' }
      : t.key === 'silver'
        ? { ...t, threshold: '300.00' }
        : t,
  ),
};

async function timed<T>(what: string, run: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await run();
  const ms = performance.now() - started;
  out(`  ${what}: ${(ms / 1000).toFixed(2)} s`);
  return { ms, result };
}

async function main(): Promise<void> {
  if (flag('wait-quiet')) await quietMachine();
  out(`bench:tiers — ${machineLine()}`);
  out(`  ${opt.members.toLocaleString('en-US')} members × ${opt.orders} paid orders, ${TZ}`);
  const { db: handle, shop: created } = await openBenchDatabase();
  const db = handle.db;
  try {
    await db
      .update(shops)
      .set({ timezone: TZ })
      .where(sql`${shops.id} = ${created.id}`);
    const shop = (await getShopByDomain(db, created.domain))!;
    const now = new Date();
    // Set-based seed: spend spread so every tier has members ($5–$305 an order, one member in 20
    // $2,000 more, one in 7 $400 more; over the last 14 months, so the rolling window drops some).
    await timed('seed', async () => {
      await db.execute(sql`
        INSERT INTO customers (shop_id, external_id)
        SELECT ${shop.id}, 'bench-' || g FROM generate_series(1, ${opt.members}) g`);
      await db.execute(sql`
        INSERT INTO orders (shop_id, shopify_order_id, name, customer_id, currency, earn_amount_minor,
          total_minor, processed_at, paid_at)
        SELECT ${shop.id}, c.id || '-' || k, '#' || c.id || '-' || k, c.id, 'USD', a.amount, a.amount,
          ${now.toISOString()}::timestamptz - (((c.id * 7 + k * 13) % 420) || ' days')::interval,
          ${now.toISOString()}::timestamptz - (((c.id * 7 + k * 13) % 420) || ' days')::interval
        FROM customers c CROSS JOIN generate_series(1, ${opt.orders}) k
        CROSS JOIN LATERAL (SELECT (500 + (c.id * 7919 + k * 104729) % 30000
          + CASE WHEN c.id % 20 = 0 THEN 200000 WHEN c.id % 7 = 0 THEN 40000 ELSE 0 END)::bigint AS amount) a
        WHERE c.shop_id = ${shop.id}`);
      await db.execute(sql`ANALYZE customers; ANALYZE orders`);
    });

    const preview = await timed('preview (every member, nothing written)', () =>
      previewTierProgram(db, shop, ROLLING, now),
    );
    const byTier = preview.result.byTier.map((t) => `${t.name} ${t.after}`).join(', ');
    out(`    ${preview.result.members} members: ${byTier}`);
    const apply = await timed('apply (publish, evaluate and write every member)', () =>
      applyTierProgram(db, shop, ROLLING, now),
    );
    out(`    evaluated ${apply.result.evaluated}, moved ${apply.result.changed}`);
    const previewRaised = await timed('preview of raised thresholds', () =>
      previewTierProgram(db, shop, RAISED, now),
    );
    out(
      `    ${previewRaised.result.up} up, ${previewRaised.result.down} down, ${previewRaised.result.same} same`,
    );
    const tomorrow = new Date(now.getTime() + 86_400_000);
    const daily = await timed('daily run of the next day', () =>
      runDailyTierEvaluation(db, shop, localDay(tomorrow, TZ), tomorrow),
    );
    out(`    evaluated ${daily.result.evaluated}, moved ${daily.result.changed}`);

    // One member at a time, in its own transaction, as the orders worker does after an order.
    const ids = await db
      .select({ id: customers.id })
      .from(customers)
      .where(eq(customers.shopId, shop.id))
      .orderBy(sql`random()`)
      .limit(opt.samples);
    const times: number[] = [];
    for (const { id } of ids) {
      const started = performance.now();
      await db.transaction((tx) => evaluateMembers(tx, shop, [id], tomorrow));
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const p50 = percentile(times, 50);
    const p95 = percentile(times, 95);
    out(
      `  one member: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms (${times.length} samples)`,
    );

    out();
    out(`preview ≤ ${TARGET.previewMs / 1000} s: ${verdict(preview.ms <= TARGET.previewMs)}`);
    out(`apply ≤ ${TARGET.applyMs / 1000} s: ${verdict(apply.ms <= TARGET.applyMs)}`);
    out(`daily run ≤ ${TARGET.dailyMs / 1000} s: ${verdict(daily.ms <= TARGET.dailyMs)}`);
    out(`one member p95 ≤ ${TARGET.oneP95Ms} ms: ${verdict(p95 <= TARGET.oneP95Ms)}`);
  } finally {
    await handle.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:tiers: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

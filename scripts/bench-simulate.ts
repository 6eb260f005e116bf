// Benchmark for the what-if simulator (issue [9]) on a fresh PostgreSQL database: a shop with
// --orders orders over the last three months of its timezone (one in ten refunded, some in two
// parts; some cancelled, POS, test, guest and unpaid orders; an award in the ledger for each paid
// member order, one in five carrying a tier's ×1.5), then the simulation the program page runs —
// load + replay of a draft against the versions in force — --runs times. Prints median and p95
// (with load and replay apart) and PASS/FAIL against the target; a missed target exits 0.
// docs/program-editor.md, docs/perf.md.
//
//   tsx scripts/bench-simulate.ts [--orders 100000] [--members 20000] [--runs 9] [--wait-quiet]
//
// Target (a 2-core machine, PostgreSQL local): ≤ 2 s for 100,000 orders.
import { sql } from 'drizzle-orm';
import { getShopByDomain } from '../app/models/shops.server';
import {
  simulateShopProgram,
  simulationStatements,
  simulationWindow,
} from '../app/models/simulation.server';
import { shops } from '../db/schema';
import { parseProgram, referenceProgram } from '../loyalty/program';
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

const TARGET_MS = 2_000;
const opt = {
  orders: numberOption('orders', 100_000),
  members: numberOption('members', 20_000),
  runs: numberOption('runs', 9),
};
const TZ = 'America/New_York';
const DRAFT = parseProgram({
  ...referenceProgram,
  name: 'Draft',
  posOrders: 'exclude',
  earn: {
    unit: '1.00',
    bands: [
      { over: '25.00', upTo: '100.00', pointsPerUnit: 1 },
      { over: '100.00', pointsPerUnit: 3 },
    ],
  },
});

async function main(): Promise<void> {
  if (flag('wait-quiet')) await quietMachine();
  out(`bench:simulate — ${machineLine()}`);
  out(
    `  ${opt.orders.toLocaleString('en-US')} orders of ${opt.members.toLocaleString('en-US')} members over 3 months, ${TZ}`,
  );
  const { db: handle, shop: created } = await openBenchDatabase();
  const db = handle.db;
  try {
    await db
      .update(shops)
      .set({ timezone: TZ })
      .where(sql`${shops.id} = ${created.id}`);
    const shop = (await getShopByDomain(db, created.domain))!;
    const now = new Date();
    const { from } = simulationWindow(3, TZ, now);
    const spanMinutes = Math.floor((now.getTime() - from.getTime()) / 60_000) - 1;
    const seedStarted = performance.now();
    await db.execute(sql`
      INSERT INTO customers (shop_id, external_id)
      SELECT ${shop.id}, 'bench-' || g FROM generate_series(1, ${opt.members}) g`);
    // Orders spread over the three months simulated: $5–$305 after discounts, shipping and tax on
    // top.
    await db.execute(sql`
      INSERT INTO orders (shop_id, shopify_order_id, name, customer_id, currency, source_name, test,
        earn_amount_minor, total_minor, processed_at, paid_at, cancelled_at)
      SELECT ${shop.id}, (9000000000 + g)::text, '#' || g,
        CASE WHEN g % 33 = 0 THEN NULL
          ELSE (SELECT min(id) FROM customers WHERE shop_id = ${shop.id}) + (g * 7919) % ${opt.members} END,
        'USD', CASE WHEN g % 20 = 0 THEN 'pos' ELSE 'web' END, g % 100 = 0,
        500 + (g * 2654435761::bigint) % 30000, 500 + (g * 2654435761::bigint) % 30000 + 1200,
        t, CASE WHEN g % 97 = 0 THEN NULL ELSE t END,
        CASE WHEN g % 50 = 0 THEN t + interval '2 days' END
      FROM generate_series(1, ${opt.orders}) g,
        LATERAL (SELECT ${now.toISOString()}::timestamptz
          - ((g * 104729::bigint) % ${spanMinutes}) * interval '1 minute' AS t) w`);
    // One order in ten refunded: half of them in two parts.
    await db.execute(sql`
      INSERT INTO order_refunds (shop_id, shopify_order_id, shopify_refund_id, merchandise_minor, processed_at)
      SELECT o.shop_id, o.shopify_order_id, o.shopify_order_id || '-r' || part,
        o.earn_amount_minor / (2 + part), o.processed_at + part * interval '1 day'
      FROM orders o, generate_series(1, 2) part
      WHERE o.shop_id = ${shop.id} AND o.shopify_order_id::bigint % 10 = 3
        AND (part = 1 OR o.shopify_order_id::bigint % 20 = 3)`);
    // The awards the ledger would hold (the simulator reads only their multipliers).
    await db.execute(sql`
      INSERT INTO ledger_entries (shop_id, customer_id, idempotency_key, source, points, occurred_at,
        program_version, inputs, subject_id)
      SELECT o.shop_id, o.customer_id, 'order:' || o.shopify_order_id || ':earn', 'order',
        greatest(1, o.earn_amount_minor / 100), o.processed_at, 1,
        jsonb_build_object('rule', 'earn-bands', 'amountMinor', o.earn_amount_minor,
          'multipliers', CASE WHEN o.customer_id % 5 = 0
            THEN jsonb_build_array(jsonb_build_object('source', 'tier', 'id', 'gold@v1', 'factorBps', 15000))
            ELSE '[]'::jsonb END),
        o.shopify_order_id
      FROM orders o
      WHERE o.shop_id = ${shop.id} AND o.customer_id IS NOT NULL AND o.paid_at IS NOT NULL
        AND NOT o.test`);
    await db.execute(sql`ANALYZE orders, order_refunds, ledger_entries`);
    out(`  seed: ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

    const totals: number[] = [];
    const loads: number[] = [];
    const replays: number[] = [];
    let last;
    for (let run = 0; run < opt.runs; run++) {
      const started = performance.now();
      last = await simulateShopProgram(db, shop, DRAFT, {
        months: 3,
        now,
        draftTestOrdersEarn: false,
      });
      totals.push(performance.now() - started);
      loads.push(last.elapsedMs.load);
      replays.push(last.elapsedMs.replay);
    }
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const ms = (x: number) => `${Math.round(x)} ms`;
    const t = sorted(totals);
    out(
      `  replayed ${last!.result.totals.orders.toLocaleString('en-US')} orders, ${last!.result.refunds.toLocaleString('en-US')} refunds, ${last!.result.members.toLocaleString('en-US')} members; ${last!.result.totals.membersAffected.toLocaleString('en-US')} affected by the draft`,
    );
    out(
      `  simulate (${opt.runs} runs): median ${ms(percentile(t, 50))}, p95 ${ms(percentile(t, 95))} — load median ${ms(percentile(sorted(loads), 50))}, replay median ${ms(percentile(sorted(replays), 50))}`,
    );
    // Where the load goes: each statement's own execution time in PostgreSQL (no transfer).
    const statements = simulationStatements(shop, simulationWindow(3, TZ, now));
    const server: string[] = [];
    for (const [name, statement] of Object.entries(statements)) {
      const result = (await db.execute(
        sql`EXPLAIN (ANALYZE, FORMAT JSON) ${statement}`,
      )) as unknown as {
        rows: {
          'QUERY PLAN': [
            {
              'Execution Time': number;
              Plan: { 'Actual Rows': number; Plans?: { 'Actual Rows': number }[] };
            },
          ];
        }[];
      };
      const [plan] = result.rows[0]!['QUERY PLAN'];
      const fetched = performance.now();
      await db.execute(statement);
      const fetchMs = performance.now() - fetched;
      server.push(
        `${name} ${ms(plan['Execution Time'])} (${(plan.Plan.Plans?.[0] ?? plan.Plan)['Actual Rows'].toLocaleString('en-US')} rows; ${ms(fetchMs)} with the transfer)`,
      );
    }
    out(`  in PostgreSQL: ${server.join(', ')}`);
    out(`  target ≤ ${TARGET_MS} ms p95: ${verdict(percentile(t, 95) <= TARGET_MS)}`);
  } finally {
    await handle.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

// Benchmark for webhook ingest: signed orders/paid deliveries against the built web server
// (dist/server.mjs, a child process) on loopback with autocannon, then the same load against a
// bare node:http server answering 200 (also a child), in the same run. Prints requests/s, latency
// percentiles, errors, the ratio to the bare server and PASS/FAIL against the targets (≥ 3,000
// req/s, p99 ≤ 25 ms, ≥ 0.3× bare). `npm run bench:ingest` builds first.
//
//   tsx scripts/bench-ingest.ts [--connections 32] [--duration 12] [--warmup 4] [--bodies 300]
//                               [--cpu-prof] [--wait-quiet]
//
// Every request is a new delivery (a fresh X-Shopify-Webhook-Id over one of --bodies pre-signed
// bodies; the HMAC covers only the body). The warm-up runs for --warmup seconds under a second shop
// domain; the measured run sends exactly (warm-up rate × --duration) requests, so every one of
// them is answered and counted. Correctness: every request answered 2xx, the measured shop's inbox
// rows are exactly the 2xx'd webhook ids, and the BullMQ queue (no workers run) holds one job per
// inbox row. A correctness failure exits 1; a missed speed target prints FAIL and exits 0.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import autocannon, { type AutocannonResult } from 'autocannon';
import postgres from 'postgres';
import { createWebhookQueue } from '../workers/queue.server';
import { ensureAppBuilt } from '../tests/helpers/app-server';
import { ADMIN_DATABASE_URL } from '../tests/helpers/db';
import {
  benchOrders,
  CpuMeter,
  databaseActivity,
  describeActivity,
  cpuProfileEnv,
  deliveryHeaders,
  flag,
  loadAverage,
  machineLine,
  numberOption,
  openBenchDatabase,
  out,
  quietMachine,
  processEnv,
  profilesIn,
  REDIS_URL,
  ROOT,
  serviceVersions,
  SHOP_DOMAIN,
  startBareServer,
  startWeb,
  summarizeProfile,
  verdict,
  type BenchOrder,
} from './bench-lib';

const TARGET_RPS = 3_000;
const TARGET_P99_MS = 25;
const TARGET_RATIO = 0.3;

const connections = numberOption('connections', 32);
const durationSeconds = numberOption('duration', 12);
const warmupSeconds = numberOption('warmup', 4);
/** Warm-up deliveries go to their own shop, so the measured shop's inbox is exactly the run's. */
const WARMUP_SHOP = 'laurel-bench-warmup.myshopify.com';
const bodyCount = numberOption('bodies', 300);
const profileDir = flag('cpu-prof')
  ? join(ROOT, 'bench-data', 'profiles', `ingest-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  : undefined;

interface LoadResult {
  result: AutocannonResult;
  /** Webhook ids answered 2xx. */
  accepted: string[];
}

/**
 * Closed-loop load: `connections` keep-alive connections, each sending its next request as soon as
 * the previous one is answered. `amount` sends exactly that many (every answer is counted);
 * `duration` runs for that long (in-flight requests at the end are cut off).
 */
async function load(
  url: string,
  orders: BenchOrder[],
  run: string,
  limit: { amount: number } | { duration: number },
  shopDomain = SHOP_DOMAIN,
): Promise<LoadResult> {
  let sent = 0;
  const accepted: string[] = [];
  const result = await autocannon({
    url,
    connections,
    timeout: 10,
    ...limit,
    requests: [
      {
        method: 'POST',
        path: '/webhooks/orders/paid',
        setupRequest: (request, context) => {
          const order = orders[sent % orders.length]!;
          const webhookId = `bench-${run}-${sent++}`;
          context.webhookId = webhookId;
          const headers = deliveryHeaders(order, webhookId, shopDomain);
          return { ...request, headers, body: order.body };
        },
        onResponse: (status, _body, context) => {
          if (status >= 200 && status < 300) accepted.push(context.webhookId as string);
        },
      },
    ],
  });
  return { result, accepted };
}

function describe(label: string, r: AutocannonResult): string {
  const l = r.latency;
  return (
    `${label}: ${r.requests.average.toFixed(0)} req/s (${r.requests.total} requests in ${r.duration.toFixed(1)} s), ` +
    `latency p50 ${l.p50} ms, p97.5 ${l.p97_5} ms, p99 ${l.p99} ms, max ${l.max} ms; ` +
    `2xx ${r['2xx']}, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`
  );
}

await ensureAppBuilt();
const orders = benchOrders(bodyCount, {
  customers: bodyCount,
  seed: 20260314,
  firstOrderId: 6_000_000_000_000,
});
const { db, url: databaseUrl, shop } = await openBenchDatabase();
const prefix = `bench-${randomUUID()}`;
const queue = createWebhookQueue({ redisUrl: REDIS_URL, prefix });
if (profileDir) mkdirSync(profileDir, { recursive: true });

await quietMachine();
out(machineLine());
out(`${await serviceVersions(ADMIN_DATABASE_URL)}; Redis ${REDIS_URL}; queue prefix ${prefix}`);
out(
  `load: autocannon in this process, ${connections} connections, closed loop (next request when the ` +
    `previous is answered); ${bodyCount} distinct signed orders/paid bodies ` +
    `(${(orders.reduce((s, o) => s + o.body.length, 0) / orders.length / 1000).toFixed(1)} kB average), ` +
    `a fresh X-Shopify-Webhook-Id per request`,
);
out(
  `web: node dist/server.mjs, NODE_ENV=production LOG_LEVEL=warn INLINE_WORKERS=false (no workers: jobs stay queued)` +
    `${profileDir ? `, --cpu-prof → ${relative(ROOT, profileDir)}` : ''}`,
);

let exitCode = 0;
const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
try {
  const app = await startWeb(processEnv(databaseUrl, prefix, cpuProfileEnv(profileDir)));
  const loadBefore = loadAverage();
  const activityBefore = await databaseActivity(sql);

  const warmup = await load(app.url, orders, 'warmup', { duration: warmupSeconds }, WARMUP_SHOP);
  out(describe('warm-up (not counted)', warmup.result));

  // The warm-up's faster seconds (JIT done) estimate the steady rate.
  const rate = Math.max(warmup.result.requests.p90, warmup.result.requests.average);
  const amount = Math.max(1_000, Math.round(rate * durationSeconds));
  const appMeter = new CpuMeter(() => ({ web: [app.pid], 'load generator': [process.pid] }));
  appMeter.start();
  const measured = await load(app.url, orders, 'run', { amount });
  const appCpu = appMeter.stop(amount);
  out(describe('Laurel web', measured.result));
  out(`  ${appCpu}`);
  await app.stop('SIGTERM');
  // The web process's backends have exited, so their counters are reported.
  const activity = describeActivity(
    activityBefore,
    await databaseActivity(sql),
    warmup.result.requests.total + measured.result.requests.total,
  );
  out(`  ${activity}`);

  const bare = await startBareServer();
  await load(bare.url, orders, 'bare-warmup', { duration: warmupSeconds });
  const bareMeter = new CpuMeter(() => ({ bare: [bare.pid], 'load generator': [process.pid] }));
  bareMeter.start();
  const bareRun = await load(bare.url, orders, 'bare', { duration: durationSeconds });
  const bareCpu = bareMeter.stop(bareRun.result.requests.total);
  await bare.stop();
  out(describe('bare node:http', bareRun.result));
  out(`  ${bareCpu}`);
  if ((bareMeter.cores.get('load generator') ?? 0) >= 0.9) {
    out(
      '  (autocannon kept a whole core busy: the bare figure is the load generator’s ceiling, not the server’s)',
    );
  }
  out(`load average before ${loadBefore}, after ${loadAverage()}`);

  // --- correctness ---------------------------------------------------------------------------
  const accepted = measured.accepted;
  const rows = await sql<{ webhook_id: string }[]>`
    SELECT webhook_id FROM webhook_inbox WHERE shop_domain = ${shop.domain}`;
  const [all] = await sql<{ n: number; warmup: number }[]>`
    SELECT count(*)::int AS n, count(*) FILTER (WHERE shop_domain = ${WARMUP_SHOP})::int AS warmup
    FROM webhook_inbox`;
  const stored = new Set(rows.map((r) => r.webhook_id));
  const acceptedSet = new Set(accepted);
  const missing = accepted.filter((id) => !stored.has(id)).length;
  const unexpected = rows.filter((r) => !acceptedSet.has(r.webhook_id)).length;
  const counts = await queue.getJobCounts();
  const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
  const refused =
    warmup.result.non2xx + warmup.result.errors + measured.result.non2xx + measured.result.errors;
  // Warm-up requests still in flight when it stopped were cut off unanswered, but may be stored.
  const warmupCutOff = all!.warmup - warmup.accepted.length;
  const correct =
    refused === 0 &&
    acceptedSet.size === accepted.length &&
    rows.length === accepted.length &&
    missing === 0 &&
    unexpected === 0 &&
    warmupCutOff >= 0 &&
    warmupCutOff <= connections &&
    jobs === all!.n;
  out(
    `correctness: measured run ${measured.result.requests.total} requests, ${accepted.length} answered 2xx ` +
      `(${acceptedSet.size} distinct webhook ids), inbox rows of the shop ${rows.length} (missing ${missing}, ` +
      `unexpected ${unexpected}); refused or failed (both runs) ${refused}; warm-up ${warmup.accepted.length} ` +
      `answered, ${all!.warmup} stored (${warmupCutOff} cut off at its end); queued jobs ${jobs} for ${all!.n} ` +
      `inbox rows (${counts.waiting ?? 0} waiting) → ${correct ? 'OK' : 'WRONG'}`,
  );

  // --- targets -------------------------------------------------------------------------------
  const rps = measured.result.requests.average;
  const p99 = measured.result.latency.p99;
  const ratio = rps / bareRun.result.requests.average;
  const speed = [
    [`requests/s ${rps.toFixed(0)} ≥ ${TARGET_RPS}`, rps >= TARGET_RPS],
    [`p99 ${p99} ms ≤ ${TARGET_P99_MS} ms`, p99 <= TARGET_P99_MS],
    [`${ratio.toFixed(2)}× bare ≥ ${TARGET_RATIO}×`, ratio >= TARGET_RATIO],
  ] as const;
  for (const [text, pass] of speed) out(`target ${text} → ${verdict(pass)}`);
  const allSpeed = speed.every(([, pass]) => pass);
  out(
    `result: ${verdict(correct && allSpeed)}` +
      (correct && !allSpeed
        ? ' (a speed target was missed; exit code 0: the run itself was correct)'
        : '') +
      (!correct ? ' (correctness failure: exit code 1)' : ''),
  );
  if (!correct) exitCode = 1;

  if (profileDir) {
    for (const file of profilesIn(profileDir)) {
      out(`CPU profile of the web process: ${relative(ROOT, file)}`);
      for (const line of summarizeProfile(file)) out(line);
    }
  }
} finally {
  await sql.end();
  await queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
  await db.close();
}
process.exitCode = exitCode;

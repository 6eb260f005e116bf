// Benchmark for webhook ingest: signed orders/paid deliveries against the built web server
// (dist/server.mjs, a child process) on loopback with autocannon, then in the same run the same
// load against the template-style handler (scripts/bench-template-webhook.ts: authenticate.webhook,
// one INSERT and one queue.add per request, same database and Redis) and a bare node:http server
// answering 200 (both children too). Prints requests/s, latency percentiles, errors, CPU per
// delivery and PASS/FAIL against the targets (≥ 3,000 req/s, p99 ≤ 25 ms, ≥ 2× the template-style
// handler); the ratio to bare is printed for reference. `npm run bench:ingest` builds first.
//
//   tsx scripts/bench-ingest.ts [--connections 32] [--duration 12] [--warmup 4] [--bodies 300]
//                               [--cpu-prof] [--wait-quiet]
//
// Every request is a new delivery (a fresh X-Shopify-Webhook-Id over one of --bodies pre-signed
// bodies; the HMAC covers only the body). The warm-up runs for --warmup seconds under a second shop
// domain; the measured run sends exactly (warm-up rate × --duration) requests, so every one of
// them is answered and counted (the template-style handler gets the same treatment, under its own
// shops). Correctness: every request answered 2xx, the measured shop's inbox rows are exactly the
// 2xx'd webhook ids, every inbox row is in a queued job (no workers run), and the template-style
// handler stored every delivery it answered. A correctness failure exits 1; a missed speed target
// prints FAIL and exits 0.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import autocannon, { type AutocannonResult } from 'autocannon';
import type { Queue } from 'bullmq';
import postgres from 'postgres';
import { createWebhookQueue } from '../app/queues/webhook-queue.server';
import { ensureAppBuilt } from '../tests/helpers/app-server';
import { ADMIN_DATABASE_URL } from '../tests/helpers/db';
import {
  benchOrders,
  backendsOf,
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
  SECRET,
  SHOP_DOMAIN,
  startBareServer,
  startTemplateServer,
  startWeb,
  summarizeProfile,
  verdict,
  type BenchOrder,
} from './bench-lib';

const TARGET_RPS = 3_000;
const TARGET_P99_MS = 25;
const TARGET_TEMPLATE_RATIO = 2;

const connections = numberOption('connections', 32);
const durationSeconds = numberOption('duration', 12);
const warmupSeconds = numberOption('warmup', 4);
/** Warm-up deliveries go to their own shop, so the measured shop's inbox is exactly the run's. */
const WARMUP_SHOP = 'laurel-bench-warmup.myshopify.com';
/** The template-style handler's shops (its inbox rows are counted apart from Laurel's). */
const TEMPLATE_SHOP = 'laurel-bench-template.myshopify.com';
const TEMPLATE_WARMUP_SHOP = 'laurel-bench-template-warmup.myshopify.com';
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

/**
 * The inbox rows the queue's jobs carry (no worker runs, so every job is still there): a job per
 * row (`inboxId`) or per group commit (`inboxIds`).
 */
async function queuedInboxRows(q: Queue): Promise<{ jobs: number; queuedRows: number }> {
  const ids = new Set<number>();
  let jobs = 0;
  for (const job of await q.getJobs(['waiting', 'delayed', 'prioritized', 'paused'])) {
    jobs++;
    const data = job.data as { inboxId?: number; inboxIds?: number[] };
    if (data.inboxId !== undefined) ids.add(data.inboxId);
    for (const id of data.inboxIds ?? []) ids.add(id);
  }
  return { jobs, queuedRows: ids.size };
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
const templatePrefix = `${prefix}-template`;
const templateQueue = createWebhookQueue({ redisUrl: REDIS_URL, prefix: templatePrefix });
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
  const database = new URL(databaseUrl).pathname.slice(1);
  const appMeter = new CpuMeter(() => ({
    web: [app.pid],
    'load generator': [process.pid],
    'postgres (this database)': backendsOf(database),
  }));
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

  // The template-style handler: same database, its own shops and queue prefix.
  await sql`
    INSERT INTO session (id, shop, state, "isOnline", scope, "accessToken")
    SELECT 'offline_' || shop, shop, 'bench', false, 'read_orders', 'shpat_bench'
    FROM unnest(${[TEMPLATE_SHOP, TEMPLATE_WARMUP_SHOP]}::text[]) AS shop`;
  const template = await startTemplateServer({
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: templatePrefix,
    SHOPIFY_API_SECRET: SECRET,
  });
  const templateWarmup = await load(
    template.url,
    orders,
    'template-warmup',
    { duration: warmupSeconds },
    TEMPLATE_WARMUP_SHOP,
  );
  const templateRate = Math.max(
    templateWarmup.result.requests.p90,
    templateWarmup.result.requests.average,
  );
  const templateAmount = Math.max(1_000, Math.round(templateRate * durationSeconds));
  const templateMeter = new CpuMeter(() => ({
    'template-style': [template.pid],
    'load generator': [process.pid],
    'postgres (this database)': backendsOf(database),
  }));
  templateMeter.start();
  const templateRun = await load(
    template.url,
    orders,
    'template',
    { amount: templateAmount },
    TEMPLATE_SHOP,
  );
  const templateCpu = templateMeter.stop(templateAmount);
  await template.stop();
  out(describe('template-style handler', templateRun.result));
  out(`  ${templateCpu}`);

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
  const [all] = await sql<{ n: number; warmup: number; template: number }[]>`
    SELECT count(*) FILTER (WHERE shop_domain <> ALL(${[TEMPLATE_SHOP, TEMPLATE_WARMUP_SHOP]}))::int AS n,
           count(*) FILTER (WHERE shop_domain = ${WARMUP_SHOP})::int AS warmup,
           count(*) FILTER (WHERE shop_domain = ${TEMPLATE_SHOP})::int AS template
    FROM webhook_inbox`;
  const stored = new Set(rows.map((r) => r.webhook_id));
  const acceptedSet = new Set(accepted);
  const missing = accepted.filter((id) => !stored.has(id)).length;
  const unexpected = rows.filter((r) => !acceptedSet.has(r.webhook_id)).length;
  const { jobs, queuedRows } = await queuedInboxRows(queue);
  const refused =
    warmup.result.non2xx + warmup.result.errors + measured.result.non2xx + measured.result.errors;
  const templateRefused =
    templateWarmup.result.non2xx +
    templateWarmup.result.errors +
    templateRun.result.non2xx +
    templateRun.result.errors;
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
    queuedRows === all!.n;
  const templateCorrect = templateRefused === 0 && all!.template === templateRun.accepted.length;
  out(
    `correctness: measured run ${measured.result.requests.total} requests, ${accepted.length} answered 2xx ` +
      `(${acceptedSet.size} distinct webhook ids), inbox rows of the shop ${rows.length} (missing ${missing}, ` +
      `unexpected ${unexpected}); refused or failed (both runs) ${refused}; warm-up ${warmup.accepted.length} ` +
      `answered, ${all!.warmup} stored (${warmupCutOff} cut off at its end); ${queuedRows} of ${all!.n} ` +
      `inbox rows in ${jobs} queued jobs → ${correct ? 'OK' : 'WRONG'}`,
  );
  out(
    `correctness of the template-style run: ${templateRun.accepted.length} answered 2xx, ` +
      `${all!.template} stored, refused or failed ${templateRefused} → ${templateCorrect ? 'OK' : 'WRONG'}`,
  );

  // --- targets -------------------------------------------------------------------------------
  const rps = measured.result.requests.average;
  const p99 = measured.result.latency.p99;
  const templateRatio = rps / templateRun.result.requests.average;
  out(
    `for reference: ${(rps / bareRun.result.requests.average).toFixed(2)}× the bare node:http server; ` +
      `p99 ${(templateRun.result.latency.p99 / Math.max(p99, 1)).toFixed(1)}× lower than the template-style handler's`,
  );
  const speed = [
    [`requests/s ${rps.toFixed(0)} ≥ ${TARGET_RPS}`, rps >= TARGET_RPS],
    [`p99 ${p99} ms ≤ ${TARGET_P99_MS} ms`, p99 <= TARGET_P99_MS],
    [
      `${templateRatio.toFixed(2)}× the template-style handler ≥ ${TARGET_TEMPLATE_RATIO}×`,
      templateRatio >= TARGET_TEMPLATE_RATIO,
    ],
  ] as const;
  for (const [text, pass] of speed) out(`target ${text} → ${verdict(pass)}`);
  const allSpeed = speed.every(([, pass]) => pass);
  out(
    `result: ${verdict(correct && templateCorrect && allSpeed)}` +
      (correct && templateCorrect && !allSpeed
        ? ' (a speed target was missed; exit code 0: the run itself was correct)'
        : '') +
      (!correct || !templateCorrect ? ' (correctness failure: exit code 1)' : ''),
  );
  if (!correct || !templateCorrect) exitCode = 1;

  if (profileDir) {
    for (const file of profilesIn(profileDir)) {
      out(`CPU profile of the web process: ${relative(ROOT, file)}`);
      for (const line of summarizeProfile(file)) out(line);
    }
  }
} finally {
  await sql.end();
  for (const q of [queue, templateQueue]) {
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
  }
  await db.close();
}
process.exitCode = exitCode;

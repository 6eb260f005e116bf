// Benchmark for the whole webhook pipeline: N signed orders/paid deliveries → the built web server
// (dist/server.mjs) → inbox → BullMQ → worker processes (dist/worker.mjs) → committed ledger
// entries. Prints the sustained orders/s (ledger entries committed per second over the steady
// window), the webhook-to-ledger latency per delivery (p50/p99/max) and PASS/FAIL against the
// targets (≥ 2,000 orders/s sustained, p99 ≤ 1 s). `npm run bench:pipeline` builds first.
//
//   tsx scripts/bench-pipeline.ts [--orders 30000] [--warmup 2000] [--rate 2500|max]
//       [--connections 64] [--customers 10000] [--web 1] [--workers 1] [--concurrency 256]
//       [--batch 250] [--transactions 2] [--cpu-prof] [--wait-quiet] [--keep-database]
//
// The worker defaults are the best of the combinations tried on the 2-core machine (docs/perf.md):
// one process holding 256 jobs, at most 250 orders to a transaction, two transactions at a time
// (the env defaults, 64/100/4, make smaller batches).
//
// --web/--workers/--concurrency/--batch/--transactions take comma lists (--web 1,2 --workers 1,2):
// every combination runs, each on a fresh database and queue, and a table compares them.
// --web N starts N web processes, each on its own port with the same DATABASE_URL and
// QUEUE_PREFIX, and the sender spreads the deliveries over them round-robin (delivery i goes to
// process i mod N), as a load balancer in front of them would. CPU is reported per role (web,
// workers), summed over that role's processes.
//
// Load: open loop at --rate deliveries/s (request i is due at start + i/rate), at most
// --connections in flight in all (not per web process); `--rate max` keeps --connections in
// flight (as fast as the server takes them). Latency: from the moment a delivery was due to be sent (this process's clock) to
// webhook_inbox.processed_at, which the worker sets with clock_timestamp() as the last statement
// of the transaction that wrote the ledger entry (so within one commit of its visibility); the
// same host means the same clock. The server-side part (received_at → processed_at) is printed too.
// Correctness: every delivery answered 2xx, every inbox row processed, every order awarded exactly
// once with the points computed independently here, every customer's balance equal to the sum of
// their orders' points. A correctness failure exits 1; a missed target prints FAIL and exits 0.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { createWebhookQueue } from '../app/queues/webhook-queue.server';
import { ensureAppBuilt, type AppProcess } from '../tests/helpers/app-server';
import { ADMIN_DATABASE_URL } from '../tests/helpers/db';
import {
  benchOrders,
  backendsOf,
  CpuMeter,
  databaseActivity,
  describeActivity,
  describeTableReads,
  cpuProfileEnv,
  deliveryHeaders,
  flag,
  loadAverage,
  machineLine,
  numberOption,
  openBenchDatabase,
  option,
  out,
  quietMachine,
  percentile,
  processEnv,
  profilesIn,
  REDIS_URL,
  ROOT,
  serviceVersions,
  startWeb,
  startWorker,
  summarizeProfile,
  verdict,
  type BenchOrder,
} from './bench-lib';

const TARGET_ORDERS_PER_SECOND = 2_000;
const TARGET_P99_MS = 1_000;

const orderCount = numberOption('orders', 30_000);
const warmupCount = numberOption('warmup', 2_000);
const rateText = option('rate', '2500');
const rate = rateText === 'max' ? Infinity : numberOption('rate', 2_500);
const connections = numberOption('connections', 64);
const customerCount = numberOption('customers', 10_000);
const drainTimeoutMs = numberOption('drain-timeout', 180) * 1000;
const keepDatabase = flag('keep-database');
const list = (name: string, fallback: string) =>
  option(name, fallback)
    .split(',')
    .map((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: ${v} is not a whole number`);
      return n;
    });
const profileRoot = flag('cpu-prof')
  ? join(
      ROOT,
      'bench-data',
      'profiles',
      `pipeline-${new Date().toISOString().replace(/[:.]/g, '-')}`,
    )
  : undefined;

interface Config {
  web: number;
  workers: number;
  concurrency: number;
  batch: number;
  transactions: number;
}

const configs: Config[] = [];
for (const web of list('web', '1'))
  for (const workers of list('workers', '1'))
    for (const concurrency of list('concurrency', '256'))
      for (const batch of list('batch', '250'))
        for (const transactions of list('transactions', '2'))
          configs.push({ web, workers, concurrency, batch, transactions });

const now = () => performance.timeOrigin + performance.now();

interface Sent {
  /** Epoch ms each delivery was due (open loop) or sent (`--rate max`). */
  dueAt: Float64Array;
  /** HTTP answer time minus actual send time, ms. */
  answerMs: Float64Array;
  status: Uint16Array;
  /** 2xx answers by web process (index into the urls given to send). */
  acceptedBy: number[];
  startedAt: number;
  finishedAt: number;
  /** Sent more than 10 ms after they were due (the in-flight cap was reached). */
  late: number;
}

/**
 * Posts every order once under webhook id `${tag}-${i}`, paced as configured, delivery i to
 * `urls[i % urls.length]`.
 */
function send(urls: string[], orders: BenchOrder[], tag: string): Promise<Sent> {
  const targets = urls.map((url) => new URL(url));
  // maxSockets is per host:port; the in-flight cap below is what bounds the total.
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const n = orders.length;
  const sent: Sent = {
    dueAt: new Float64Array(n),
    answerMs: new Float64Array(n),
    status: new Uint16Array(n),
    acceptedBy: urls.map(() => 0),
    startedAt: now(),
    finishedAt: 0,
    late: 0,
  };
  const interval = 1000 / rate;
  let next = 0;
  let inFlight = 0;
  let answered = 0;
  return new Promise((resolve) => {
    const finish = (i: number, status: number, sentAt: number) => {
      sent.status[i] = status;
      if (status >= 200 && status < 300) sent.acceptedBy[i % targets.length]!++;
      sent.answerMs[i] = now() - sentAt;
      inFlight--;
      if (++answered === n) {
        sent.finishedAt = now();
        agent.destroy();
        resolve(sent);
      } else pump();
    };
    const post = (i: number) => {
      const order = orders[i]!;
      const target = targets[i % targets.length]!;
      const sentAt = now();
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path: '/webhooks/orders/paid',
          headers: {
            ...deliveryHeaders(order, `${tag}-${i}`),
            'Content-Length': String(order.body.length),
          },
        },
        (res) => {
          res.resume();
          res.once('end', () => finish(i, res.statusCode ?? 0, sentAt));
          res.once('error', () => finish(i, 0, sentAt));
        },
      );
      req.once('error', () => finish(i, 0, sentAt));
      req.end(order.body);
    };
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      const t = now();
      while (next < n && inFlight < connections) {
        const due = rate === Infinity ? t : sent.startedAt + next * interval;
        if (due > t) break;
        if (t - due > 10) sent.late++;
        sent.dueAt[next] = due;
        inFlight++;
        post(next++);
      }
      // Open loop: come back when the next delivery is due (timers have ~1 ms resolution).
      if (next < n && rate !== Infinity && !timer) {
        const wait = Math.max(0, sent.startedAt + next * interval - now());
        timer = setTimeout(() => {
          timer = undefined;
          pump();
        }, wait);
      }
    };
    pump();
  });
}

interface RunResult {
  config: Config;
  ordersPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  correct: boolean;
  cpu: string;
  load: string;
}

async function runPipeline(
  config: Config,
  warmup: BenchOrder[],
  measured: BenchOrder[],
  index: number,
): Promise<RunResult> {
  const label = `${config.web} web process${config.web > 1 ? 'es' : ''}, ${config.workers} worker process${config.workers > 1 ? 'es' : ''}, WORKER_CONCURRENCY=${config.concurrency} WORKER_BATCH_SIZE=${config.batch} WORKER_TRANSACTIONS=${config.transactions}`;
  out();
  out(`run ${index + 1}/${configs.length}: ${label}`);
  const { db, url: databaseUrl, shop } = await openBenchDatabase();
  const prefix = `bench-${randomUUID()}`;
  const queue = createWebhookQueue({ redisUrl: REDIS_URL, prefix });
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const profileDir = profileRoot ? join(profileRoot, `run-${index + 1}`) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const env = processEnv(databaseUrl, prefix, cpuProfileEnv(profileDir));
  const workerEnv = {
    ...env,
    WORKER_CONCURRENCY: String(config.concurrency),
    WORKER_BATCH_SIZE: String(config.batch),
    WORKER_TRANSACTIONS: String(config.transactions),
  };
  const activityBefore = await databaseActivity(sql);
  const webs: AppProcess[] = [];
  const workers = [];
  try {
    for (let i = 0; i < config.web; i++) webs.push(await startWeb(env));
    const webUrls = webs.map((w) => w.url);
    for (let i = 0; i < config.workers; i++) workers.push(await startWorker(workerEnv, queue));
    const pids = { web: webs.map((w) => w.pid), workers: workers.map((w) => w.pid) };

    // Every 2xx'd delivery is committed before its answer, so once send() returns, "no row still
    // received" means all of them are processed. The status index answers that cheaply; a count
    // over the table every 100 ms would itself load PostgreSQL.
    const drain = async () => {
      const deadline = Date.now() + drainTimeoutMs;
      for (;;) {
        const [row] = await sql<{ waiting: boolean }[]>`
          SELECT EXISTS (SELECT 1 FROM webhook_inbox WHERE status = 'received') AS waiting`;
        if (!row!.waiting) return;
        if (Date.now() > deadline) {
          const [left] = await sql<{ n: number }[]>`
            SELECT count(*)::int AS n FROM webhook_inbox WHERE status = 'received'`;
          throw new Error(
            `${left!.n} deliveries still unprocessed after ${drainTimeoutMs / 1000} s`,
          );
        }
        await sleep(100);
      }
    };

    const warm = await send(webUrls, warmup, 'warmup');
    await drain();
    // A running shop's tables have statistics (autovacuum analyzes them within a minute or so); a
    // fresh database has none, and without them PostgreSQL estimates `shop_id = $1` to match 0.5 %
    // of the rows and scans whole indexes for the batch queries.
    await sql`ANALYZE`;
    out(
      `warm-up: ${warmup.length} deliveries in ${((warm.finishedAt - warm.startedAt) / 1000).toFixed(1)} s, processed (not counted); tables analyzed`,
    );

    const loadBefore = loadAverage();
    const database = new URL(databaseUrl).pathname.slice(1);
    const meter = new CpuMeter(() => ({
      ...pids,
      'load generator': [process.pid],
      'postgres (this database)': backendsOf(database),
    }));
    meter.start();
    const run = await send(webUrls, measured, 'run');
    const accepted = run.status.filter((s) => s >= 200 && s < 300).length;
    await drain();
    const cpu = meter.stop(measured.length);
    const load = `load average before ${loadBefore}, after ${loadAverage()}`;

    // --- figures -----------------------------------------------------------------------------
    const rows = await sql<{ webhook_id: string; received: number; processed: number | null }[]>`
      SELECT webhook_id, extract(epoch FROM received_at)::float8 * 1000 AS received,
             extract(epoch FROM processed_at)::float8 * 1000 AS processed
      FROM webhook_inbox WHERE webhook_id LIKE 'run-%'`;
    const endToEnd: number[] = [];
    const serverSide: number[] = [];
    const commits: number[] = [];
    for (const row of rows) {
      if (row.processed === null) continue;
      const i = Number(row.webhook_id.slice('run-'.length));
      endToEnd.push(row.processed - run.dueAt[i]!);
      serverSide.push(row.processed - row.received);
      commits.push(row.processed);
    }
    endToEnd.sort((a, b) => a - b);
    serverSide.sort((a, b) => a - b);
    commits.sort((a, b) => a - b);
    // Steady window: between the 10th and the 90th percentile commit, so neither the ramp-up nor
    // the tail of the drain counts.
    const t10 = percentile(commits, 10);
    const t90 = percentile(commits, 90);
    const inWindow = commits.filter((t) => t >= t10 && t <= t90).length;
    const ordersPerSecond = inWindow / ((t90 - t10) / 1000);
    const perSecond: number[] = [];
    for (let s = Math.ceil(t10 / 1000) * 1000; s + 1000 <= t90; s += 1000) {
      perSecond.push(commits.filter((t) => t >= s && t < s + 1000).length);
    }
    const answers = [...run.answerMs].sort((a, b) => a - b);
    const sendSeconds = (run.finishedAt - run.startedAt) / 1000;
    const lastCommit = commits[commits.length - 1] ?? NaN;
    out(
      `sent ${measured.length} deliveries in ${sendSeconds.toFixed(1)} s (${(measured.length / sendSeconds).toFixed(0)}/s offered` +
        `${rate === Infinity ? `, ${connections} in flight` : ` at --rate ${rate}, ≤ ${connections} in flight, ${run.late} sent late`}); ` +
        (webs.length > 1 ? `2xx by web process ${run.acceptedBy.join(' / ')}; ` : '') +
        `HTTP answer p50 ${percentile(answers, 50).toFixed(1)} ms, p99 ${percentile(answers, 99).toFixed(1)} ms; ` +
        `last ledger commit ${((lastCommit - run.startedAt) / 1000).toFixed(1)} s after the first send`,
    );
    out(
      `sustained: ${ordersPerSecond.toFixed(0)} orders/s committed between the 10th and 90th percentile commit ` +
        `(${((t90 - t10) / 1000).toFixed(1)} s; whole seconds in it: min ${Math.min(...perSecond)}, max ${Math.max(...perSecond)})`,
    );
    const p = (xs: number[], q: number) => percentile(xs, q).toFixed(0);
    out(
      `webhook-to-ledger (due to send → processed_at): p50 ${p(endToEnd, 50)} ms, p99 ${p(endToEnd, 99)} ms, ` +
        `max ${p(endToEnd, 100)} ms; server side (received_at → processed_at): p50 ${p(serverSide, 50)} ms, ` +
        `p99 ${p(serverSide, 99)} ms, max ${p(serverSide, 100)} ms`,
    );
    out(`  ${cpu}`);
    out(`  ${load}`);

    // --- correctness -------------------------------------------------------------------------
    const all = [...warmup, ...measured];
    // Stopped first, so their backends have exited and reported their counters.
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await Promise.all(webs.map((w) => w.stop('SIGTERM')));
    out(`  ${describeActivity(activityBefore, await databaseActivity(sql), all.length, 'order')}`);
    out(`  ${await describeTableReads(sql, all.length, 'order')}`);
    const refused =
      warm.status.filter((s) => s < 200 || s >= 300).length + (measured.length - accepted);
    const inbox = await sql<{ status: string; n: number }[]>`
      SELECT status, count(*)::int AS n FROM webhook_inbox GROUP BY status`;
    const inboxCount = (status: string) => inbox.find((r) => r.status === status)?.n ?? 0;
    const entries = await sql<{ key: string; source: string; points: number }[]>`
      SELECT idempotency_key AS key, source, points FROM ledger_entries WHERE shop_id = ${shop.id}`;
    const byKey = new Map(entries.map((e) => [e.key, e]));
    let wrongOrders = 0;
    const expectedBalance = new Map<string, number>();
    let expectedTotal = 0;
    for (const order of all) {
      const entry = byKey.get(`order:${order.orderId}:earn`);
      if (!entry || entry.source !== 'order' || entry.points !== order.points) wrongOrders++;
      expectedBalance.set(
        order.customerId,
        (expectedBalance.get(order.customerId) ?? 0) + order.points,
      );
      expectedTotal += order.points;
    }
    const balances = await sql<{ external_id: string; balance: string }[]>`
      SELECT c.external_id, b.balance::text AS balance
      FROM customer_balances b JOIN customers c ON c.id = b.customer_id
      WHERE b.shop_id = ${shop.id}`;
    const wrongBalances =
      balances.filter((b) => Number(b.balance) !== expectedBalance.get(b.external_id)).length +
      Math.abs(expectedBalance.size - balances.length);
    const ledgerTotal = entries.reduce((sum, e) => sum + e.points, 0);
    const failedJobs = (await queue.getJobCounts('failed')).failed ?? 0;
    const correct =
      refused === 0 &&
      inboxCount('processed') === all.length &&
      inboxCount('received') + inboxCount('dead') === 0 &&
      entries.length === all.length &&
      wrongOrders === 0 &&
      wrongBalances === 0 &&
      ledgerTotal === expectedTotal &&
      failedJobs === 0;
    out(
      `correctness: ${all.length} orders (warm-up + measured), ${refused} refused; inbox processed ` +
        `${inboxCount('processed')}, received ${inboxCount('received')}, dead ${inboxCount('dead')}; ` +
        `${entries.length} ledger entries, ${wrongOrders} orders without exactly their expected award, ` +
        `${ledgerTotal} points (expected ${expectedTotal}); ${balances.length} balances, ${wrongBalances} wrong; ` +
        `failed jobs ${failedJobs} → ${correct ? 'OK' : 'WRONG'}`,
    );
    const pass =
      ordersPerSecond >= TARGET_ORDERS_PER_SECOND && percentile(endToEnd, 99) <= TARGET_P99_MS;
    out(
      `target ≥ ${TARGET_ORDERS_PER_SECOND} orders/s sustained: ${verdict(ordersPerSecond >= TARGET_ORDERS_PER_SECOND)}; ` +
        `p99 ≤ ${TARGET_P99_MS} ms: ${verdict(percentile(endToEnd, 99) <= TARGET_P99_MS)}; ` +
        `run ${verdict(correct && pass)}${correct ? '' : ' (correctness failure)'}`,
    );
    return {
      config,
      ordersPerSecond,
      p50: percentile(endToEnd, 50),
      p99: percentile(endToEnd, 99),
      max: percentile(endToEnd, 100),
      correct,
      cpu,
      load,
    };
  } finally {
    // SIGTERM: graceful, so CPU profiles are written.
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await Promise.all(webs.map((w) => w.stop('SIGTERM').catch(() => undefined)));
    await sql.end();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    // --keep-database leaves it for inspection; its pool stays open until the script exits.
    if (keepDatabase) out(`  database kept (--keep-database): ${databaseUrl}`);
    else await db.close();
    if (profileDir) {
      const webPids = new Set(webs.map((w) => w.pid));
      for (const file of profilesIn(profileDir)) {
        const pid = Number(/(\d+)\.cpuprofile$/.exec(file)?.[1]);
        const who = webPids.has(pid) ? 'web' : 'worker';
        out(`CPU profile of the ${who} process: ${relative(ROOT, file)}`);
        for (const line of summarizeProfile(file)) out(line);
      }
    }
  }
}

await ensureAppBuilt();
await quietMachine();
out(machineLine());
const generated = performance.now();
const all = benchOrders(warmupCount + orderCount, {
  customers: customerCount,
  seed: 20260315,
  firstOrderId: 7_000_000_000_000,
});
const warmup = all.slice(0, warmupCount);
const measured = all.slice(warmupCount);
out(
  `orders: ${warmupCount} warm-up + ${orderCount} measured orders/paid deliveries, distinct orders over ` +
    `${customerCount} customers, subtotals $51–$500, each signed (${((performance.now() - generated) / 1000).toFixed(1)} s to generate)`,
);
out(`${await serviceVersions(ADMIN_DATABASE_URL)}; Redis ${REDIS_URL}`);
out(
  `load: node:http client in this process, ${rate === Infinity ? `closed loop, ${connections} in flight (as fast as the server takes them)` : `open loop at ${rate}/s, at most ${connections} in flight`}`,
);
out(
  'web: node dist/server.mjs (deliveries round-robin over the web processes), workers: node dist/worker.mjs; NODE_ENV=production LOG_LEVEL=warn INLINE_WORKERS=false' +
    (profileRoot ? `; CPU profiles → ${relative(ROOT, profileRoot)}` : ''),
);

const results: RunResult[] = [];
for (const [i, config] of configs.entries()) {
  results.push(await runPipeline(config, warmup, measured, i));
}

if (results.length > 1) {
  out();
  out(
    'web  workers  concurrency  batch  transactions  orders/s   p50 ms   p99 ms   max ms  correct',
  );
  for (const r of results) {
    const c = r.config;
    out(
      `${String(c.web).padStart(3)}  ${String(c.workers).padStart(7)}  ${String(c.concurrency).padStart(11)}  ${String(c.batch).padStart(5)}  ` +
        `${String(c.transactions).padStart(12)}  ${r.ordersPerSecond.toFixed(0).padStart(8)}  ${r.p50.toFixed(0).padStart(7)}  ` +
        `${r.p99.toFixed(0).padStart(7)}  ${r.max.toFixed(0).padStart(7)}  ${r.correct ? 'yes' : 'NO'}`,
    );
  }
}
const allCorrect = results.every((r) => r.correct);
const allPass = results.every(
  (r) => r.ordersPerSecond >= TARGET_ORDERS_PER_SECOND && r.p99 <= TARGET_P99_MS,
);
out(
  `result: ${verdict(allCorrect && allPass)}` +
    (allCorrect && !allPass
      ? ' (a target was missed; exit code 0: the runs themselves were correct)'
      : '') +
    (!allCorrect ? ' (correctness failure: exit code 1)' : ''),
);
process.exitCode = allCorrect ? 0 : 1;
if (keepDatabase) process.exit();

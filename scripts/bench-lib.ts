/**
 * Shared pieces of the webhook benchmarks (scripts/bench-ingest.ts, scripts/bench-pipeline.ts):
 * deterministic signed orders with their expected points, a fresh database with the shop and the
 * reference program, the built web server (tests/helpers/app-server.ts) and worker processes as
 * children, a bare node:http server, a CPU meter per process, and a CPU-profile summary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Queue } from 'bullmq';
import postgres from 'postgres';
import { publishProgram } from '../app/models/programs.server';
import { ensureShop, type Shop } from '../app/models/shops.server';
import { referencePoints } from '../dev/demo/expected';
import { Rng } from '../dev/demo/rng';
import { orderPayload, shopifyHmac } from '../dev/shopify-payloads';
import { referenceProgram } from '../loyalty/program';
import { APP_TEST_ENV, startAppProcess, type AppProcess } from '../tests/helpers/app-server';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import {
  ensureWorkerBuilt,
  startWorkerProcess,
  type WorkerProcess,
} from '../tests/helpers/worker-process';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SHOP_DOMAIN = 'laurel-bench.myshopify.com';
export const SECRET = 'laurel-bench-secret';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// --- command line ----------------------------------------------------------------------------

export function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const value = process.argv[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
  return value;
}

export function numberOption(name: string, fallback: number): number {
  const value = Number(option(name, String(fallback)));
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

export const flag = (name: string): boolean => process.argv.includes(`--${name}`);

export const out = (line = ''): void => void process.stdout.write(`${line}\n`);

// --- machine ---------------------------------------------------------------------------------

export const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

export function machineLine(): string {
  const cpu = cpus();
  return `machine: ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores; node ${process.version}; load average ${loadAverage()}`;
}

/**
 * With --wait-quiet, waits (up to 10 minutes) for the 1-minute load average to fall below 0.7;
 * then warns if the machine is still busy: other work takes cores from the processes measured.
 */
export async function quietMachine(): Promise<void> {
  if (flag('wait-quiet')) {
    const deadline = Date.now() + 10 * 60_000;
    if ((loadavg()[0] ?? 0) >= 0.7)
      out(`waiting for a quiet machine (load average ${loadAverage()}) …`);
    while ((loadavg()[0] ?? 0) >= 0.7 && Date.now() < deadline) await sleep(5_000);
  }
  if ((loadavg()[0] ?? 0) >= 1) {
    out(
      `warning: load average ${loadAverage()} — other work is using the cores; figures will be low (--wait-quiet waits)`,
    );
  }
}

export async function serviceVersions(url: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ v: string; sc: string; f: string }[]>`
      SELECT current_setting('server_version') AS v, current_setting('synchronous_commit') AS sc,
             current_setting('fsync') AS f`;
    return `PostgreSQL ${row!.v} (synchronous_commit=${row!.sc}, fsync=${row!.f})`;
  } finally {
    await sql.end();
  }
}

// --- deterministic data ----------------------------------------------------------------------

export interface BenchOrder {
  orderId: string;
  customerId: string;
  cents: number;
  /** What the reference program awards for it. */
  points: number;
  /** The exact bytes to POST and their X-Shopify-Hmac-Sha256. */
  body: Buffer;
  hmac: string;
}

/**
 * `count` distinct orders/paid bodies (Shopify's REST shape, dev/shopify-payloads.ts), each signed,
 * spread over `customers` customers, subtotals $51.00–$500.00 so every order earns at least 1 point.
 */
export function benchOrders(
  count: number,
  options: { customers: number; seed: number; firstOrderId: number },
): BenchOrder[] {
  const rng = new Rng(`bench-orders:${options.seed}`);
  const random = () => rng.next();
  const orders: BenchOrder[] = [];
  for (let i = 0; i < count; i++) {
    const id = options.firstOrderId + i;
    const customer = 8_000_000_000_000 + 1 + Math.floor(random() * options.customers);
    const cents = 5100 + Math.floor(random() * 44_901);
    const subtotal = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
    const payload = orderPayload({
      id,
      subtotal,
      customer: { id: customer },
      orderNumber: 1000 + i,
    });
    const text = JSON.stringify(payload);
    orders.push({
      orderId: String(id),
      customerId: String(customer),
      cents,
      points: referencePoints(cents),
      body: Buffer.from(text),
      hmac: shopifyHmac(text, SECRET),
    });
  }
  return orders;
}

/** The headers of one delivery of `order` (a fresh webhook id makes it a new delivery). */
export function deliveryHeaders(
  order: BenchOrder,
  webhookId: string,
  shopDomain = SHOP_DOMAIN,
): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    'X-Shopify-Topic': 'orders/paid',
    'X-Shopify-Hmac-Sha256': order.hmac,
    'X-Shopify-Shop-Domain': shopDomain,
    'X-Shopify-API-Version': '2026-07',
    'X-Shopify-Webhook-Id': webhookId,
    'X-Shopify-Triggered-At': '2026-03-14T14:15:00.000Z',
    'X-Shopify-Event-Id': `event-${order.orderId}`,
  };
}

// --- database and processes ------------------------------------------------------------------

/**
 * A fresh migrated PostgreSQL database (tests/helpers/db.ts; dropped by close()) with the bench
 * shop installed and the reference program published, as afterAuth would leave it.
 */
export async function openBenchDatabase(): Promise<{ db: TestDatabase; url: string; shop: Shop }> {
  const db = await createTestDatabase('postgres', { max: 4 });
  const shop = await ensureShop(db.db, { domain: SHOP_DOMAIN, currency: 'USD', timezone: 'UTC' });
  await publishProgram(db.db, shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
  return { db, url: db.url!, shop };
}

/** Environment shared by the web and worker children: production mode, quiet logs. */
export function processEnv(
  databaseUrl: string,
  queuePrefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    ...APP_TEST_ENV,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    INLINE_WORKERS: 'false',
    SHOPIFY_API_SECRET: SECRET,
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    QUEUE_PREFIX: queuePrefix,
    ...extra,
  };
}

/**
 * Environment for a child that writes a V8 CPU profile into `dir` when it exits
 * (scripts/cpu-profile.mjs; `--cpu-prof` itself is not allowed in NODE_OPTIONS).
 */
export const cpuProfileEnv = (dir: string | undefined): Record<string, string> =>
  dir
    ? {
        NODE_OPTIONS: `--import "${pathToFileURL(join(ROOT, 'scripts', 'cpu-profile.mjs')).href}"`,
        LAUREL_CPU_PROFILE_DIR: dir,
      }
    : {};

/** The built web server (dist/server.mjs) as a child, ready when /healthz answers 200. */
export function startWeb(env: Record<string, string>): Promise<AppProcess> {
  return startAppProcess({ env, readyTimeoutMs: 60_000 });
}

export interface ChildHandle {
  pid: number;
  child: ChildProcess;
  output(): string;
  /** SIGTERM (graceful: profiles are written on exit), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<number | null>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function spawnChild(args: string[], env: Record<string, string>): ChildHandle {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-64 * 1024);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return {
    pid: child.pid!,
    child,
    output: () => output,
    async stop(timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * `node dist/worker.mjs` as a child (tests/helpers/worker-process.ts), ready once it is registered
 * on `queue`; bundled first when its sources are newer.
 */
export async function startWorker(
  env: Record<string, string>,
  queue: Queue,
): Promise<WorkerProcess> {
  await ensureWorkerBuilt();
  return startWorkerProcess({ env, queue, readyTimeoutMs: 30_000 });
}

/**
 * A bare node:http server that reads the body and answers 200 with a small JSON body, in a child
 * process so it does not share the load generator's event loop.
 */
export async function startBareServer(): Promise<ChildHandle & { url: string }> {
  const source = `
    const { createServer } = require('node:http');
    const server = createServer((req, res) => {
      req.on('data', () => {});
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
        res.end('{"ok":true,"duplicate":false}');
      });
    });
    server.keepAliveTimeout = 65000;
    server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));
    process.on('SIGTERM', () => process.exit(0));
  `;
  const handle = spawnChild(['-e', source], {});
  const deadline = Date.now() + 10_000;
  for (;;) {
    const port = /PORT (\d+)/.exec(handle.output())?.[1];
    if (port) return { ...handle, url: `http://127.0.0.1:${port}` };
    if (handle.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the bare server did not start:\n${handle.output()}`);
    }
    await sleep(20);
  }
}

/**
 * scripts/bench-template-webhook.ts as a child (tsx): the template-style webhook handler, ready
 * when it prints its port.
 */
export async function startTemplateServer(
  env: Record<string, string>,
): Promise<ChildHandle & { url: string }> {
  const handle = spawnChild(
    ['--import', 'tsx', join(ROOT, 'scripts', 'bench-template-webhook.ts')],
    { NODE_ENV: 'production', ...env },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    const port = /listening (\d+)/.exec(handle.output())?.[1];
    if (port) return { ...handle, url: `http://127.0.0.1:${port}` };
    if (handle.child.exitCode !== null || Date.now() > deadline) {
      await handle.stop(1_000);
      throw new Error(`the template-style server did not start:\n${handle.output()}`);
    }
    await sleep(50);
  }
}

// --- CPU per process -------------------------------------------------------------------------

const CLOCK_TICKS = 100; // USER_HZ on Linux

function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * The PostgreSQL backends serving `database` now (their process title names it): the CPU a
 * benchmark's own database costs, apart from other users' work on a shared server.
 */
export function backendsOf(database: string): number[] {
  return pidsNamed('postgres').filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(` ${database} `);
    } catch {
      return false;
    }
  });
}

/**
 * CPU time of named processes between start() and stop(), in cores (1.0 = one core busy the whole
 * time). PostgreSQL and Redis are counted by process name: every backend, including other
 * users' (the machine is shared); a group such as `backendsOf(database)` counts only the
 * benchmark's own. Counted per process: one that starts in the window counts from its start; one
 * that exits in it loses what it spent (pooled connections live through a run).
 */
export class CpuMeter {
  private started = 0;
  private before = new Map<string, Map<number, number>>();
  private machineBefore = { busy: 0, total: 0 };
  /** Cores each group kept busy in the last start()–stop() window. */
  readonly cores = new Map<string, number>();

  constructor(private readonly groups: () => Record<string, number[]>) {}

  private sample(): Map<string, Map<number, number>> {
    const result = new Map<string, Map<number, number>>();
    const groups = {
      ...this.groups(),
      postgres: pidsNamed('postgres'),
      redis: pidsNamed('redis-server'),
    };
    for (const [name, pids] of Object.entries(groups)) {
      result.set(name, new Map(pids.map((pid) => [pid, processTicks(pid)])));
    }
    return result;
  }

  start(): void {
    this.started = performance.now();
    this.before = this.sample();
    this.machineBefore = machineTicks();
  }

  /**
   * "CPU (cores busy): web 0.81 (270 µs/delivery), …, whole machine 1.95 of 2". CPU time per item
   * of work is the figure that other load on the machine distorts least.
   */
  stop(items?: number, unit = 'delivery'): string {
    const seconds = (performance.now() - this.started) / 1000;
    const after = this.sample();
    const machine = machineTicks();
    const parts = [...after].map(([name, pids]) => {
      const before = this.before.get(name) ?? new Map<number, number>();
      let ticks = 0;
      for (const [pid, now] of pids) ticks += Math.max(0, now - (before.get(pid) ?? 0));
      const cpuSeconds = ticks / CLOCK_TICKS;
      this.cores.set(name, cpuSeconds / seconds);
      const each = items ? ` (${((cpuSeconds / items) * 1e6).toFixed(0)} µs/${unit})` : '';
      return `${name} ${(cpuSeconds / seconds).toFixed(2)}${each}`;
    });
    const busy = machine.busy - this.machineBefore.busy;
    const total = machine.total - this.machineBefore.total;
    const cores = cpus().length;
    parts.push(`whole machine ${((busy / total) * cores).toFixed(2)} of ${cores}`);
    return `CPU (cores busy): ${parts.join(', ')}`;
  }
}

// --- database activity -----------------------------------------------------------------------

export type DatabaseActivity = Record<
  'commits' | 'rollbacks' | 'returned' | 'fetched' | 'inserted' | 'updated' | 'deleted',
  number
>;

/**
 * The benchmark database's own counters (pg_stat_database: this database only, so other users of
 * the server do not count). Backends report them at the end of a transaction at most once a
 * second, and when they exit: read the final figures after the children have stopped.
 */
export async function databaseActivity(sql: postgres.Sql): Promise<DatabaseActivity> {
  await sql`SELECT pg_stat_clear_snapshot()`;
  const [row] = await sql<Record<keyof DatabaseActivity, string>[]>`
    SELECT xact_commit AS commits, xact_rollback AS rollbacks, tup_returned AS returned,
           tup_fetched AS fetched, tup_inserted AS inserted, tup_updated AS updated,
           tup_deleted AS deleted
    FROM pg_stat_database WHERE datname = current_database()`;
  return Object.fromEntries(
    Object.entries(row!).map(([key, value]) => [key, Number(value)]),
  ) as DatabaseActivity;
}

/** "PostgreSQL per delivery: 0.21 commits, 1.00 rows inserted, …" */
export function describeActivity(
  before: DatabaseActivity,
  after: DatabaseActivity,
  items: number,
  unit = 'delivery',
): string {
  const per = (key: keyof DatabaseActivity) => ((after[key] - before[key]) / items).toFixed(2);
  return (
    `PostgreSQL per ${unit} (this database): ${per('commits')} commits, ${per('rollbacks')} rollbacks, ` +
    `rows ${per('inserted')} inserted, ${per('updated')} updated, ${per('deleted')} deleted, ` +
    `${per('fetched')} fetched, ${per('returned')} returned`
  );
}

/**
 * Rows read per item of work by table (pg_stat_user_tables of the benchmark database): where a
 * query reads far more rows than it returns shows up here. "ledger_entries 1.0 (idx), …"
 */
export async function describeTableReads(
  sql: postgres.Sql,
  items: number,
  unit = 'delivery',
): Promise<string> {
  await sql`SELECT pg_stat_clear_snapshot()`;
  const rows = await sql<{ relname: string; seq: string; idx: string; scans: string }[]>`
    SELECT relname, coalesce(seq_tup_read, 0)::text AS seq, coalesce(idx_tup_fetch, 0)::text AS idx,
           (coalesce(seq_scan, 0) + coalesce(idx_scan, 0))::text AS scans
    FROM pg_stat_user_tables`;
  const parts = rows
    .map((r) => ({ ...r, total: Number(r.seq) + Number(r.idx) }))
    .filter((r) => r.total > 0)
    .sort((a, b) => b.total - a.total)
    .slice(0, 6)
    .map(
      (r) =>
        `${r.relname} ${(r.total / items).toFixed(1)} (${(Number(r.seq) / items).toFixed(1)} by seq scan, ` +
        `${(Number(r.scans) / items).toFixed(2)} scans)`,
    );
  return `rows read per ${unit} by table: ${parts.join('; ')}`;
}

// --- statistics ------------------------------------------------------------------------------

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export const verdict = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');

// --- CPU profiles ----------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, an app file, a Node module, or V8's own entries. */
function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) {
    const [first, second] = url.slice(5).split('/');
    return `node:${first === 'internal' && second ? `internal/${second}` : first}`;
  }
  const file = url.replace(/^file:\/\//, '');
  return file.startsWith(ROOT) ? relative(ROOT, file) : file;
}

const isCode = (owner: string) => !owner.startsWith('node:') && !owner.startsWith('(');

/**
 * The biggest costs in a .cpuprofile, as percentages of the non-idle samples: by package, with
 * Node's own modules and native code charged to the nearest package or app file that called them
 * (so a socket write made by postgres.js counts as postgres), and the hottest functions by self
 * time.
 */
export function summarizeProfile(path: string, top = 12): string[] {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let busy = 0;
  const charged = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, micros] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += micros;
    const leafOwner = ownerOf(url, functionName);
    let owner = leafOwner;
    for (let at = parent.get(id); !isCode(owner) && at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      const candidate = ownerOf(frame.url, frame.functionName);
      if (isCode(candidate)) owner = candidate;
    }
    charged.set(owner, (charged.get(owner) ?? 0) + micros);
    const fn = `${functionName || '(anonymous)'} ${leafOwner}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + micros);
  }
  const pct = (micros: number) => `${((micros / busy) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`  ${(busy / 1e6).toFixed(1)} s of CPU samples (idle excluded)`];
  lines.push('  by package (Node internals and native calls charged to their caller):');
  for (const [owner, micros] of [...charged].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`    ${pct(micros)}  ${owner}`);
  }
  lines.push('  hottest functions (self time):');
  for (const [fn, micros] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`    ${pct(micros)}  ${fn}`);
  }
  return lines;
}

/** The .cpuprofile files in `dir`, newest last. */
export function profilesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
}

/**
 * `npm run bench:admin`: the admin loaders' response times against a seeded shop (`npm run
 * seed:large`; laurel_large by default), through the built web server with real App Bridge
 * session tokens, as Remix single-fetch data requests (what in-app navigation fetches). Each loader
 * is requested `--warmup` times, then `--samples` times one after another; p50/p95 are printed
 * against the 150 ms target. The report is timed twice: its default range (the last three full
 * months, answered from the page cache after the first request) and three whole months up to this
 * month's end (never cached: the projection's cost on every request). A route not built on this branch answers 404 and is reported so.
 * With --csv, also downloads the report's CSV of the whole seeded span and reports its time, size
 * and the server's peak resident memory (VmHWM) before and after.
 *
 *   npm run bench:admin -- [--database-url URL] [--shop DOMAIN] [--samples 40] [--warmup 5] [--csv]
 *     [--wait-quiet]
 *
 * Read-only: the loaders read, and the server's own migrations are the only writes.
 */
import { readFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import postgres from 'postgres';
import { decode } from 'turbo-stream';
import { mintSessionToken } from '../app/dev-access.server';
import { APP_TEST_ENV, ensureAppBuilt, startAppProcess } from '../tests/helpers/app-server';
import {
  flag,
  machineLine,
  numberOption,
  option,
  out,
  percentile,
  quietMachine,
  verdict,
} from './bench-lib';
import { daysInMonth, monthKeyFromNumber, wallTimeOf } from '../loyalty/time';
import { DEFAULT_DATABASE_URL, DEFAULT_SHOP } from './seed-large';

const TARGET_MS = 150;
const BROWSER =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

const opt = {
  databaseUrl: option('database-url', process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL),
  shop: option('shop', DEFAULT_SHOP),
  samples: numberOption('samples', 40),
  warmup: numberOption('warmup', 5),
};

function bearer(): Record<string, string> {
  const { token } = mintSessionToken({
    shop: opt.shop,
    apiKey: APP_TEST_ENV.SHOPIFY_API_KEY!,
    apiSecret: APP_TEST_ENV.SHOPIFY_API_SECRET!,
  });
  return { Authorization: `Bearer ${token}`, 'User-Agent': BROWSER };
}

/** Peak and current resident memory of a process, MiB (Linux /proc). */
function memory(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { peak: kib('VmHWM') / 1024, now: kib('VmRSS') / 1024 };
}

interface Loader {
  name: string;
  path: string;
  routeId: string;
}

type Outcome =
  | { kind: 'ok'; status: number }
  | { kind: 'missing' }
  | { kind: 'failed'; status: number; detail: string };

/** One single-fetch request; the body is read and decoded, as the browser does. */
async function request(base: string, loader: Loader): Promise<{ ms: number; outcome: Outcome }> {
  const url = new URL(loader.path, base);
  url.pathname = `${url.pathname === '/' ? '/_root' : url.pathname}.data`;
  url.searchParams.set('_routes', loader.routeId);
  const started = performance.now();
  const response = await fetch(url, { headers: bearer() });
  if (!response.headers.get('Content-Type')?.includes('text/x-script')) {
    const text = await response.text();
    const ms = performance.now() - started;
    if (response.status === 404) return { ms, outcome: { kind: 'missing' } };
    return { ms, outcome: { kind: 'failed', status: response.status, detail: text.slice(0, 200) } };
  }
  const stream = await decode(response.body!);
  await stream.done;
  const ms = performance.now() - started;
  const entry = (stream.value as Record<string, { data?: unknown; error?: unknown }>)[
    loader.routeId
  ];
  if (response.status === 404 || entry === undefined) return { ms, outcome: { kind: 'missing' } };
  if (response.status !== 200 || entry.error !== undefined) {
    return {
      ms,
      outcome: {
        kind: 'failed',
        status: response.status,
        detail: JSON.stringify(entry.error ?? stream.value).slice(0, 200),
      },
    };
  }
  return { ms, outcome: { kind: 'ok', status: response.status } };
}

/** The two months before this one and this one, whole, in `timezone`. */
function thisQuarter(timezone: string): { from: string; to: string } {
  const today = wallTimeOf(Date.now(), timezone);
  const current = today.year * 12 + today.month - 1;
  const last = monthKeyFromNumber(current);
  const [year, month] = last.split('-').map(Number) as [number, number];
  return {
    from: `${monthKeyFromNumber(current - 2)}-01`,
    to: `${last}-${String(daysInMonth(year, month)).padStart(2, '0')}`,
  };
}

async function main(): Promise<void> {
  await quietMachine();
  const commit = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  out(`bench:admin — ${machineLine()}`);
  out(`  ${new Date().toISOString()}, commit ${commit}, ${opt.shop}`);

  const sql = postgres(opt.databaseUrl, { max: 1, onnotice: () => {} });
  let customerId: number;
  let span: { first: string; last: string };
  let timezone = 'UTC';
  try {
    const [shop] = await sql`SELECT id, timezone FROM shops WHERE domain = ${opt.shop}`;
    if (!shop) throw new Error(`no shop ${opt.shop} in the database: run npm run seed:large first`);
    const [sizes] = await sql`
      SELECT (SELECT count(*)::int FROM customers WHERE shop_id = ${shop.id}) AS customers,
             (SELECT count(*)::int FROM ledger_entries WHERE shop_id = ${shop.id}) AS entries`;
    out(
      `  ${Number(sizes!.customers).toLocaleString('en-US')} customers, ${Number(sizes!.entries).toLocaleString('en-US')} ledger entries`,
    );
    // The customer with the longest ledger: the detail page's worst case.
    const [busiest] = await sql`
      SELECT customer_id, count(*)::int AS n FROM ledger_entries WHERE shop_id = ${shop.id}
      GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`;
    customerId = Number(busiest!.customer_id);
    out(`  customer detail: customer ${customerId} (${busiest!.n} ledger entries)`);
    const [bounds] = await sql`
      SELECT to_char(min(occurred_at) AT TIME ZONE ${shop.timezone}, 'YYYY-MM-DD') AS first,
             to_char(max(occurred_at) AT TIME ZONE ${shop.timezone}, 'YYYY-MM-DD') AS last
      FROM ledger_entries WHERE shop_id = ${shop.id}`;
    span = { first: bounds!.first as string, last: bounds!.last as string };
    timezone = shop.timezone as string;
  } finally {
    await sql.end();
  }

  await ensureAppBuilt();
  const app = await startAppProcess({
    env: {
      DATABASE_URL: opt.databaseUrl,
      QUEUE_PREFIX: `bench-admin-${process.pid}`,
      LOG_LEVEL: 'warn',
      // As deployed: the offline session is read from its cache after the first request.
      SESSION_CACHE_TTL_MS: '60000',
    },
    readyTimeoutMs: 120_000,
  });
  const loaders: Loader[] = [
    { name: 'dashboard', path: '/app', routeId: 'routes/app._index' },
    // The longer periods read more purchases for the repeat-purchase and revenue figures.
    { name: 'dashboard, 90 days', path: '/app?period=last90', routeId: 'routes/app._index' },
    { name: 'dashboard, this year', path: '/app?period=year', routeId: 'routes/app._index' },
    { name: 'customers list', path: '/app/customers', routeId: 'routes/app.customers._index' },
    {
      name: 'customer detail',
      path: `/app/customers/${customerId}`,
      routeId: 'routes/app.customers.$id',
    },
    { name: 'report (last 3 months)', path: '/app/reports', routeId: 'routes/app.reports' },
    // Whole months up to this month's end: reaches the current month, so never cached — the
    // projection's cost on every request (docs/reports.md).
    {
      name: 'report, uncached',
      path: `/app/reports?${new URLSearchParams(thisQuarter(timezone)).toString()}`,
      routeId: 'routes/app.reports',
    },
  ];
  const results: { name: string; line: string; pass: boolean | null }[] = [];
  try {
    for (const loader of loaders) {
      const first = await request(app.url, loader);
      if (first.outcome.kind === 'missing') {
        results.push({ name: loader.name, line: 'not built on this branch (404)', pass: null });
        continue;
      }
      if (first.outcome.kind === 'failed') {
        results.push({
          name: loader.name,
          line: `failed: ${first.outcome.status} ${first.outcome.detail}`,
          pass: false,
        });
        continue;
      }
      for (let i = 1; i < opt.warmup; i++) await request(app.url, loader);
      const times: number[] = [];
      for (let i = 0; i < opt.samples; i++) times.push((await request(app.url, loader)).ms);
      times.sort((a, b) => a - b);
      const p50 = percentile(times, 50);
      const p95 = percentile(times, 95);
      results.push({
        name: loader.name,
        line: `p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms (max ${times.at(-1)!.toFixed(1)}, ${times.length} samples)`,
        pass: p95 <= TARGET_MS,
      });
    }

    out();
    for (const r of results) {
      const mark = r.pass === null ? '' : ` — p95 ≤ ${TARGET_MS} ms: ${verdict(r.pass)}`;
      out(`  ${r.name.padEnd(24)} ${r.line}${mark}`);
    }

    if (flag('csv')) {
      out();
      const before = memory(app.pid);
      const params = new URLSearchParams({ from: span.first, to: span.last });
      const started = performance.now();
      const response = await fetch(`${app.url}/app/reports/csv?${params.toString()}`, {
        headers: bearer(),
      });
      if (!response.ok) throw new Error(`CSV: ${response.status} ${await response.text()}`);
      let bytes = 0;
      let lines = 0;
      let peak = before.peak;
      const sampler = setInterval(() => (peak = Math.max(peak, memory(app.pid).peak)), 100);
      const reader = response.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.length;
        for (const byte of value) if (byte === 10) lines++;
      }
      clearInterval(sampler);
      const seconds = (performance.now() - started) / 1000;
      const after = memory(app.pid);
      out(
        `  CSV ${span.first} … ${span.last}: ${lines.toLocaleString('en-US')} lines, ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${seconds.toFixed(1)} s`,
      );
      out(
        `  server RSS: ${before.now.toFixed(0)} MiB before, peak ${Math.max(peak, after.peak).toFixed(0)} MiB (peak before the download ${before.peak.toFixed(0)} MiB)`,
      );
    }
  } finally {
    await app.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:admin: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

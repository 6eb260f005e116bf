// Benchmark for `loyalty report --input`: a deterministic 1,000,000-row (~40 MB) transaction file,
// the real CLI run N times as child processes, median/min/max wall time and peak RSS, pass/fail
// against the targets (median ≤ 800 ms, peak RSS ≤ 150 MB). `npm run bench:report` builds first.
//
//   node scripts/bench-report.mjs [--runs 7] [--rows 1000000] [--customers 20000] [--timezone America/New_York]
//
// The file is generated once and cached in bench-data/ (git-ignored). While generating it, the
// expected grand total of points is computed independently (reference program, integer cents), and
// every run's output is checked against it — a fast wrong answer is a failure.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TARGET_MEDIAN_MS = 800;
const TARGET_RSS_MB = 150; // 1 MB = 10^6 bytes (the stricter reading)
const GENERATOR_VERSION = 1;
const EXPECTED_VERSION = 2; // bump when the expected-results file changes shape

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}
const runs = Number(option('runs', '7'));
const rows = Number(option('rows', '1000000'));
/** Distinct customer ids drawn from (C00001 …); the ids are zero-padded to at least 5 digits. */
const customers = Number(option('customers', '20000'));
if (!Number.isSafeInteger(customers) || customers < 1) throw new Error('--customers must be ≥ 1');
const timezones = process.argv.includes('--timezone')
  ? [option('timezone', 'UTC')]
  : ['UTC', 'America/New_York'];

// --- deterministic data ----------------------------------------------------------------------

/** mulberry32: a tiny seeded PRNG so every machine benchmarks the same bytes. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reference program on integer cents: 1 pt per whole $ in (50, 100], 2 per whole $ above 100. */
function referencePoints(cents) {
  let points = 0;
  if (cents > 5000) points += Math.floor((Math.min(cents, 10000) - 5000) / 100);
  if (cents > 10000) points += 2 * Math.floor((cents - 10000) / 100);
  return points;
}

const pad = (n, width) => String(n).padStart(width, '0');

function generate(path, count, customerCount) {
  const width = Math.max(5, String(customerCount).length);
  const random = prng(20260101);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  // Independent expectations: the grand total (any timezone) and, for UTC, points per month —
  // every generated date (day or instant) falls in the month of its UTC calendar day.
  const expected = { version: EXPECTED_VERSION, totalPoints: 0, utcMonthly: {} };
  let chunk = 'transaction_id,customer_id,date,amount\n';
  const start = Date.UTC(2026, 0, 1);
  const span = Date.UTC(2026, 3, 1) - start;
  for (let i = 1; i <= count; i++) {
    const customer = `C${pad(1 + Math.floor(random() * customerCount), width)}`;
    const t = start + Math.floor(random() * span);
    const cents = Math.floor(random() * 50001); // 0.00 – 500.00
    const amount = `${Math.floor(cents / 100)}.${pad(cents % 100, 2)}`;
    const d = new Date(t);
    const ymd = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
    const hms = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
    const style = random();
    let date;
    if (style < 0.5) date = ymd;
    else if (style < 0.8) date = `${ymd}T${hms}Z`;
    else {
      // Same instant written with a -05:00 offset.
      const l = new Date(t - 5 * 3600_000);
      date = `${l.getUTCFullYear()}-${pad(l.getUTCMonth() + 1, 2)}-${pad(l.getUTCDate(), 2)}T${pad(l.getUTCHours(), 2)}:${pad(l.getUTCMinutes(), 2)}:${pad(l.getUTCSeconds(), 2)}-05:00`;
    }
    const points = referencePoints(cents);
    const month = ymd.slice(0, 7);
    expected.totalPoints += points;
    expected.utcMonthly[month] = (expected.utcMonthly[month] ?? 0) + points;
    chunk += `T${pad(i, 7)},${customer},${date},${amount}\n`;
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
  renameSync(tmp, path);
  return expected;
}

// --- measuring -------------------------------------------------------------------------------

const hasGnuTime = existsSync('/usr/bin/time');

function runOnce(file, timezone) {
  const cliArgs = [
    join(root, 'bin/loyalty.mjs'),
    'report',
    '--input',
    file,
    '--timezone',
    timezone,
  ];
  // Without GNU time, a wrapper reports the child's own peak RSS via process.resourceUsage().
  const wrapper =
    'process.argv.splice(1, 1);' +
    "process.on('exit', () => process.stderr.write(`\\nBENCH_MAXRSS_KB ${process.resourceUsage().maxRSS}\\n`));" +
    'await import(process.argv[1]);';
  const [cmd, args] = hasGnuTime
    ? ['/usr/bin/time', ['-v', process.execPath, ...cliArgs]]
    : [process.execPath, ['--input-type=module', '-e', wrapper, '--', ...cliArgs]];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let err = '';
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => (err += b));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const rss =
        /Maximum resident set size \(kbytes\): (\d+)/.exec(err) ??
        /BENCH_MAXRSS_KB (\d+)/.exec(err);
      if (code !== 0 || !rss) {
        reject(new Error(`run failed (exit ${code}):\n${err}`));
        return;
      }
      // CPU time (user + system) is steadier than wall time when other work shares the cores.
      const user = /User time \(seconds\): ([\d.]+)/.exec(err);
      const system = /System time \(seconds\): ([\d.]+)/.exec(err);
      resolve({
        cpuMs: user && system ? (Number(user[1]) + Number(system[1])) * 1000 : NaN,
        wallMs,
        rssMb: (Number(rss[1]) * 1024) / 1e6,
        stdout: Buffer.concat(out).toString('utf8'),
      });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// --- main ------------------------------------------------------------------------------------

const dir = join(root, 'bench-data');
mkdirSync(dir, { recursive: true });
// The default 20,000 customers keep the original name, so existing cached files stay valid.
const customersTag = customers === 20000 ? '' : `-c${customers}`;
const file = join(dir, `transactions-${rows}${customersTag}-v${GENERATOR_VERSION}.csv`);
const expectedFile = `${file}.expected.json`;
const stale =
  !existsSync(expectedFile) ||
  JSON.parse(readFileSync(expectedFile, 'utf8')).version !== EXPECTED_VERSION;
if (!existsSync(file) || stale) {
  process.stdout.write(`generating ${file} …\n`);
  const expected = generate(file, rows, customers);
  writeFileSync(expectedFile, JSON.stringify(expected));
}
const expected = JSON.parse(readFileSync(expectedFile, 'utf8'));
const { size } = statSync(file);
process.stdout.write(
  `input: ${rows.toLocaleString('en-US')} rows, ${customers.toLocaleString('en-US')} customers drawn, ${(size / 1e6).toFixed(1)} MB; ${runs} runs (+1 warm-up); ` +
    `peak RSS via ${hasGnuTime ? '/usr/bin/time -v' : 'process.resourceUsage()'}; node ${process.version}; ` +
    `${availableParallelism()} cores, load average ${loadavg()[0].toFixed(2)} (other work skews timings)\n`,
);

let allPass = true;
for (const timezone of timezones) {
  const first = await runOnce(file, timezone); // warm-up: page cache, not counted
  const report = JSON.parse(first.stdout);
  const customerSum = report.customers.reduce((sum, c) => sum + c.total, 0);
  const correct =
    report.totals.total === expected.totalPoints &&
    customerSum === expected.totalPoints &&
    (timezone !== 'UTC' ||
      JSON.stringify(report.totals.monthly) ===
        JSON.stringify(Object.fromEntries(Object.entries(expected.utcMonthly).sort())));
  const results = [];
  for (let i = 0; i < runs; i++) results.push(await runOnce(file, timezone));
  const walls = results.map((r) => r.wallMs);
  const rss = Math.max(...results.map((r) => r.rssMb), first.rssMb);
  const med = median(walls);
  const cpu = median(results.map((r) => r.cpuMs));
  const pass = correct && med <= TARGET_MEDIAN_MS && rss <= TARGET_RSS_MB;
  if (timezone === 'UTC') allPass &&= pass;
  process.stdout.write(
    `--timezone ${timezone}: median ${med.toFixed(0)} ms (min ${Math.min(...walls).toFixed(0)}, max ${Math.max(...walls).toFixed(0)}` +
      `${Number.isNaN(cpu) ? '' : `; CPU ${cpu.toFixed(0)} ms`}), ` +
      `peak RSS ${rss.toFixed(1)} MB, ${report.customers.length} customers, ${report.months.join('/')}, total ${report.totals.total} points ` +
      `${correct ? '(matches)' : `(EXPECTED ${expected.totalPoints})`} → ${pass ? 'PASS' : 'FAIL'}` +
      `${timezone === 'UTC' ? '' : ' (informational)'}\n`,
  );
}
process.stdout.write(
  `targets (default --timezone UTC): median ≤ ${TARGET_MEDIAN_MS} ms, peak RSS ≤ ${TARGET_RSS_MB} MB → ${allPass ? 'PASS' : 'FAIL'}\n`,
);
process.exitCode = allPass ? 0 : 1;

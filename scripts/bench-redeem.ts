// Benchmark for redemption under load (issue [6]): signed app-proxy `POST /proxy/redeem` requests
// to the built web server (dist/server.mjs, a child) on a fresh PostgreSQL database; its Admin API
// calls go to the local emulator (dev/emulator) through a timing relay in this process. Prints
// requests/s, latency p50/p95/p99/max, where a redemption's time goes, correctness, PASS/FAIL.
// Method, results and limits: docs/perf.md. `npm run bench:redeem` builds first.
//
//   tsx scripts/bench-redeem.ts [--members 1000] [--covers 4] [--requests 5000] [--warmup 300]
//     [--concurrency 32] [--shopify-delay 0] [--hot 200] [--hot-covers 10] [--cpu-prof] [--wait-quiet]
//
// Targets: p95 ≤ 500 ms end to end for the requests answered 200, 32 in flight, local emulator;
// the hot member (200 requests at once, a balance covering exactly 10): exactly 10 × 200 and
// 190 × 409 INSUFFICIENT_BALANCE, all answered within 5 s. A missed target prints FAIL, exit 0.
// Correctness (exit 1 if wrong): every answer 200 with an issued code or 409 INSUFFICIENT_BALANCE;
// per member exactly min(requests, covers) 200s; the emulator holds exactly the codes answered 200,
// each for its member alone; each member's projection == sum of entries == expected, none below
// zero; one issued redemption per 200, no requestId twice.
//
// --concurrency and --shopify-delay take comma lists: each combination runs on a fresh database,
// app and emulator. --shopify-delay N holds every Admin call N ms in the relay (Shopify's real
// round trip). The emulator's cost bucket never throttles: a plan's limit is another question.
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import postgres from 'postgres';
import { ensureCustomers } from '../app/models/customers.server';
import { postMany } from '../app/models/ledger.server';
import { createReward } from '../app/models/rewards.server';
import { Rng } from '../dev/demo/rng';
import { startAdminEmulator } from '../dev/emulator/server';
import { ensureAppBuilt } from '../tests/helpers/app-server';
import { ADMIN_DATABASE_URL } from '../tests/helpers/db';
import { storeOfflineSession } from '../tests/helpers/sessions';
import { signedProxyQuery } from '../tests/helpers/storefront';
import {
  CpuMeter,
  cpuProfileEnv,
  flag,
  machineLine,
  numberOption,
  openBenchDatabase,
  option,
  out,
  percentile,
  processEnv,
  profilesIn,
  quietMachine,
  ROOT,
  SECRET,
  serviceVersions,
  SHOP_DOMAIN,
  startWeb,
  summarizeProfile,
  verdict,
} from './bench-lib';

const TARGET = { p95Ms: 500, hotMs: 5_000 };
const COST = 500;
const REMAINDER = 250;

const wholeNumbers = (name: string, fallback: string): number[] => {
  const values = option(name, fallback).split(',').map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < 0))
    throw new Error(`--${name}: whole numbers`);
  return values;
};
const opt = {
  members: numberOption('members', 1_000),
  covers: numberOption('covers', 4),
  requests: numberOption('requests', 5_000),
  warmup: wholeNumbers('warmup', '300')[0]!,
  hot: numberOption('hot', 200),
  hotCovers: numberOption('hot-covers', 10),
};
const configs = wholeNumbers('concurrency', '32').flatMap((concurrency) =>
  wholeNumbers('shopify-delay', '0').map((delayMs) => ({
    concurrency: Math.max(1, concurrency),
    delayMs,
  })),
);
const profileRoot = flag('cpu-prof')
  ? join(ROOT, 'bench-data', 'profiles', `redeem-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  : undefined;

const now = () => performance.timeOrigin + performance.now();
const ms = (x: number) => `${x.toFixed(0)} ms`;
const spread = (xs: number[]) => {
  const sorted = xs.toSorted((a, b) => a - b);
  const [p50, p95, p99, max] = [50, 95, 99, 100].map((p) => percentile(sorted, p));
  return { p50: p50!, p95: p95!, p99: p99!, max: max! };
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

// --- the Admin API, timed from outside ----------------------------------------------------------

/**
 * An HTTP relay in front of the emulator: forwards every Admin call unchanged (after `delayMs`)
 * and records how long its answer took, so the app's Shopify time is measured without app code.
 */
async function startAdminRelay(emulatorOrigin: string, delayMs: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const calls: { operation: string; code: string | null; ms: number }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      const operation = /(?:mutation|query)\s+(\w+)/.exec(text)?.[1] ?? '?';
      const code = /"code":"(LRL-[0-9A-Z-]+)"/.exec(text)?.[1] ?? null; // redemption codes
      const startedAt = now();
      setTimeout(() => {
        const target = new URL(req.url ?? '/', emulatorOrigin);
        const upstream = request(
          target,
          { agent, method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            answer.on('end', () => calls.push({ operation, code, ms: now() - startedAt }));
          },
        );
        upstream.on('error', () => res.destroy());
        upstream.end(body);
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () => {
    agent.destroy();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, close };
}

// --- the shopper's side -------------------------------------------------------------------------

interface Answer {
  member: number;
  status: number;
  code: string | null;
  redemptionStatus: string | null;
  error: string | null;
  ms: number;
}

/** One signed POST /proxy/redeem exactly as Shopify's app proxy forwards it. */
async function redeemOnce(
  appUrl: string,
  member: { index: number; shopifyId: string },
  rewardId: number,
  requestId: string,
): Promise<Answer> {
  const query = signedProxyQuery(
    { logged_in_customer_id: member.shopifyId },
    { shop: SHOP_DOMAIN, secret: SECRET },
  );
  const startedAt = now();
  let status = 0;
  let body: { redemption?: { code: string | null; status: string }; error?: { code: string } } = {};
  try {
    const response = await fetch(`${appUrl}/proxy/redeem?${query}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ rewardId: String(rewardId), requestId }),
    });
    status = response.status;
    body = JSON.parse(await response.text()) as typeof body;
  } catch {
    // status 0 / unparsable body: counted as a wrong answer below
  }
  return {
    member: member.index,
    status,
    code: body.redemption?.code ?? null,
    redemptionStatus: body.redemption?.status ?? null,
    error: body.error?.code ?? null,
    ms: now() - startedAt,
  };
}

// --- one run ------------------------------------------------------------------------------------

type Member = { index: number; shopifyId: string };

/**
 * A fresh database with the bench shop installed (offline session), the emulator knowing the shop
 * and every member, one fixed-amount reward, members 0..N-1 seeded with `covers` redemptions'
 * worth in one postMany, and member N (the hot one) with `hotCovers`' worth.
 */
async function openStack(delayMs: number) {
  const { db, url, shop } = await openBenchDatabase();
  // Never throttles: the app's own cost is measured, not a Shopify plan's limit.
  const emulator = await startAdminEmulator({
    nodeEnv: 'test',
    accessTokens: {},
    maximumAvailable: 1e9,
    restoreRate: 1e9,
  });
  const relay = await startAdminRelay(emulator.origin, delayMs);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  emulator.state.shop(SHOP_DOMAIN, { currencyCode: 'USD' });
  const token = `shpat_${randomUUID().replaceAll('-', '')}`;
  emulator.setAccessToken(SHOP_DOMAIN, token);
  await storeOfflineSession(db.db, SHOP_DOMAIN, token);
  const reward = await createReward(db.db, shop.id, {
    type: 'fixed_amount',
    title: '$5 off',
    pointsCost: COST,
    amountMinor: 500,
  });
  const seeded = Array.from(
    { length: opt.members + 1 },
    (_, i) => (i === opt.members ? opt.hotCovers : opt.covers) * COST + REMAINDER,
  );
  const members: Member[] = seeded.map((_, index) => {
    const gid = emulator.state.addCustomer(SHOP_DOMAIN, { firstName: `Member ${index}` });
    return { index, shopifyId: gid.split('/').at(-1)! };
  });
  const externalIds = members.map((m) => ({ externalId: m.shopifyId }));
  const ids = await ensureCustomers(db.db, shop.id, externalIds);
  await postMany(
    db.db,
    shop.id,
    members.map((m) => ({
      customerId: ids.get(m.shopifyId)!,
      idempotencyKey: `adjustment:bench:${m.shopifyId}`,
      source: 'adjustment' as const,
      points: seeded[m.index]!,
      occurredAt: new Date('2026-01-01T00:00:00Z'),
      inputs: { reason: 'bench seed' },
    })),
  );
  await sql`ANALYZE`;
  const close = async () => {
    await sql.end();
    await relay.close();
    await emulator.close();
    await db.close();
  };
  return { url, shop, emulator, relay, sql, rewardId: reward.id, members, seeded, close };
}
type Stack = Awaited<ReturnType<typeof openStack>>;

/** Correctness of everything answered in a run; returns the problems found (none: correct). */
async function check(stack: Stack, answers: Answer[], plan: number[]): Promise<string[]> {
  const { members, seeded, sql, shop } = stack;
  const problems: string[] = [];
  const wrong = answers
    .filter((a) => !(a.status === 200 && a.redemptionStatus === 'issued' && a.code))
    .filter((a) => !(a.status === 409 && a.error === 'INSUFFICIENT_BALANCE'));
  if (wrong.length) {
    const first = `${wrong[0]!.status} ${wrong[0]!.error ?? wrong[0]!.redemptionStatus}`;
    problems.push(
      `${wrong.length} answers neither 200 issued nor 409 INSUFFICIENT_BALANCE (${first}, …)`,
    );
  }
  // Every request costs the same, so each member gets min(requests, covers) 200s in any order.
  const asked = new Array<number>(members.length).fill(0);
  const got = new Array<number>(members.length).fill(0);
  for (const i of plan) asked[i]!++;
  asked[opt.members] = opt.hot;
  for (const a of answers) if (a.status === 200) got[a.member]!++;
  const cover = (i: number) => (i === opt.members ? opt.hotCovers : opt.covers);
  const off = got.filter((n, i) => n !== Math.min(asked[i]!, cover(i))).length;
  if (off) problems.push(`${off} members got a number of 200s other than min(requests, covers)`);

  const issued = got.reduce((a, b) => a + b, 0);
  const owner = new Map(
    answers.filter((a) => a.status === 200).map((a) => [a.code!, members[a.member]!.shopifyId]),
  );
  const discounts = [...stack.emulator.state.snapshot(SHOP_DOMAIN).discounts.values()];
  const notTheirs = discounts.filter(
    (d) =>
      d.buyers.kind !== 'customers' ||
      d.buyers.customerIds.join() !== owner.get(d.code) ||
      !owner.has(d.code),
  ).length;
  if (discounts.length !== issued || owner.size !== issued || notTheirs) {
    problems.push(
      `the emulator holds ${discounts.length} discounts for ${issued} 200s (${owner.size} distinct codes), ${notTheirs} not for their member alone`,
    );
  }
  const balances = await sql<{ external_id: string; projection: number; entries: number }[]>`
    SELECT c.external_id, b.balance::int AS projection,
           (SELECT coalesce(sum(e.points), 0)::int FROM ledger_entries e
            WHERE e.shop_id = b.shop_id AND e.customer_id = b.customer_id) AS entries
    FROM customer_balances b JOIN customers c ON c.id = b.customer_id WHERE b.shop_id = ${shop.id}`;
  const expected = new Map(members.map((m, i) => [m.shopifyId, seeded[i]! - got[i]! * COST]));
  const wrongBalances =
    balances.filter(
      (b) =>
        b.projection !== b.entries ||
        b.projection !== expected.get(b.external_id) ||
        b.projection < 0,
    ).length + Math.abs(balances.length - members.length);
  if (wrongBalances) {
    problems.push(`${wrongBalances} members: projection, sum of entries, expected differ (or < 0)`);
  }
  const [r] = await sql<{ n: number; issued: number; requests: number }[]>`
    SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'issued')::int AS issued,
           count(DISTINCT request_id)::int AS requests
    FROM redemptions WHERE shop_id = ${shop.id}`;
  if (r!.n !== issued || r!.issued !== issued || r!.requests !== issued) {
    problems.push(
      `${r!.n} redemptions for ${issued} 200s, ${r!.issued} issued, ${r!.requests} distinct requestIds`,
    );
  }
  return problems;
}

async function run(concurrency: number, delayMs: number, index: number) {
  out();
  out(`run ${index + 1}/${configs.length}: ${concurrency} in flight, Shopify delay ${delayMs} ms`);
  const stack = await openStack(delayMs);
  const profileDir = profileRoot && join(profileRoot, `run-${index + 1}`);
  let app: Awaited<ReturnType<typeof startWeb>> | undefined;
  try {
    const rng = new Rng(`bench-redeem:${opt.members}`);
    const plan = Array.from({ length: opt.warmup + opt.requests }, () =>
      Math.floor(rng.next() * opt.members),
    );
    app = await startWeb(
      processEnv(stack.url, `bench-${randomUUID()}`, {
        ...cpuProfileEnv(profileDir),
        // The Admin client refuses any endpoint but Shopify's own in production.
        NODE_ENV: 'test',
        ADMIN_API_ENDPOINT: stack.emulator.endpointTemplate.replace(
          stack.emulator.origin,
          stack.relay.origin,
        ),
      }),
    );
    const web = app;
    const send = (member: Member, requestId: string) =>
      redeemOnce(web.url, member, stack.rewardId, requestId);
    const closedLoop = async (from: number, to: number) => {
      const answers: Answer[] = [];
      let next = from;
      const lane = async () => {
        for (let i = next++; i < to; i = next++) {
          answers[i - from] = await send(stack.members[plan[i]!]!, `bench-${index}-${i}`);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
      return answers;
    };

    const warmup = await closedLoop(0, opt.warmup);
    const relayBefore = stack.relay.calls.length;
    const meter = new CpuMeter(() => ({ web: [web.pid], 'bench process': [process.pid] }));
    meter.start();
    const started = now();
    const measured = await closedLoop(opt.warmup, plan.length);
    const seconds = (now() - started) / 1000;
    const cpu = meter.stop(opt.requests, 'request');
    // The hot member: every request at once, as issue [6] describes.
    const hotStarted = now();
    const hot = await Promise.all(
      Array.from({ length: opt.hot }, (_, i) =>
        send(stack.members[opt.members]!, `bench-hot-${index}-${i}`),
      ),
    );
    const hotMs = now() - hotStarted;

    const perSecond = opt.requests / seconds;
    const ok = measured.filter((a) => a.status === 200);
    const issued = spread(ok.map((a) => a.ms));
    const refused = spread(measured.filter((a) => a.status !== 200).map((a) => a.ms));
    out(
      `${opt.requests} requests in ${seconds.toFixed(1)} s: ${perSecond.toFixed(0)} requests/s ` +
        `(${(ok.length / seconds).toFixed(0)} codes issued/s)`,
    );
    out(`  200 issued (${ok.length}): ${describe(issued)}`);
    out(`  409 and other (${measured.length - ok.length}): ${describe(refused)}`);

    // Where a 200's time goes: the relay's time for its DiscountCodeBasicCreate, and the span
    // created_at (before the debit transaction) → issued_at (Shopify answered), both app clock.
    const creates = stack.relay.calls
      .slice(relayBefore)
      .filter((c) => c.operation === 'DiscountCodeBasicCreate' && c.code);
    const shopifyMs = new Map(creates.map((c) => [c.code!, c.ms]));
    // The emulator copies the whole shop before each mutation: its time grows with the codes held.
    const tenth = Math.max(1, Math.floor(creates.length / 10));
    const drift = [creates.slice(0, tenth), creates.slice(-tenth)].map((c) =>
      ms(spread(c.map((x) => x.ms)).p50),
    );
    const spans = await stack.sql<{ code: string; ms: number }[]>`
      SELECT code, extract(epoch FROM issued_at - created_at)::float8 * 1000 AS ms
      FROM redemptions WHERE shop_id = ${stack.shop.id} AND issued_at IS NOT NULL`;
    const span = new Map(spans.map((s) => [s.code, s.ms]));
    const parts = ok.flatMap((a) => {
      const shopify = shopifyMs.get(a.code!);
      const between = span.get(a.code!);
      if (shopify === undefined || between === undefined) return [];
      return [
        { total: a.ms, shopify, debit: Math.max(0, between - shopify), rest: a.ms - between },
      ];
    });
    const share = (key: 'shopify' | 'debit' | 'rest') => {
      const s = spread(parts.map((p) => p[key]));
      const pct = (mean(parts.map((p) => p[key])) / mean(parts.map((p) => p.total))) * 100;
      return `p50 ${ms(s.p50)}, p95 ${ms(s.p95)} (${pct.toFixed(0)} % of the mean)`;
    };
    out(`  of a 200 (${parts.length} timed): Shopify call ${share('shopify')}`);
    out(`    (p50 of the first tenth of the calls ${drift[0]}, of the last tenth ${drift[1]});`);
    out(`    debit transaction with lock and pool waits + reward read ≈ ${share('debit')};`);
    out(`    the rest (HTTP, signature, shop/customer/session reads, markIssued) ${share('rest')}`);
    out(`  ${cpu}`);
    const hotCount = (status: number) => hot.filter((a) => a.status === status).length;
    const hotOk = hotCount(200) === opt.hotCovers && hotCount(409) === opt.hot - opt.hotCovers;
    out(
      `hot member: ${opt.hot} at once, balance covers ${opt.hotCovers}: ${hotCount(200)} × 200, ` +
        `${hotCount(409)} × 409, ${opt.hot - hotCount(200) - hotCount(409)} other; ` +
        `all answered in ${ms(hotMs)}`,
    );

    const problems = await check(stack, [...warmup, ...measured, ...hot], plan);
    const correct = problems.length === 0;
    out(
      `correctness: ${warmup.length} warm-up + ${measured.length} + ${hot.length} hot answers, ` +
        `${stack.members.length} members → ${correct ? 'OK' : `WRONG: ${problems.join('; ')}`}`,
    );
    const fast = issued.p95 <= TARGET.p95Ms;
    const pass = fast && hotOk && hotMs <= TARGET.hotMs;
    out(
      `target p95 of 200s ≤ ${TARGET.p95Ms} ms: ${verdict(fast)}` +
        `${concurrency === 32 && delayMs === 0 ? '' : ' (the target is for 32 in flight, no delay)'}; ` +
        `hot member ${opt.hotCovers} × 200 / ${opt.hot - opt.hotCovers} × 409: ${verdict(hotOk)}, ` +
        `within ${TARGET.hotMs / 1000} s: ${verdict(hotMs <= TARGET.hotMs)}`,
    );
    const shopifyP50 = spread(parts.map((p) => p.shopify)).p50;
    return { concurrency, delayMs, perSecond, issued, shopifyP50, hotMs, correct, pass };
  } finally {
    await app?.stop('SIGTERM').catch(() => undefined);
    await stack.close();
    for (const file of profileDir ? profilesIn(profileDir) : []) {
      out(`CPU profile of the web process: ${relative(ROOT, file)}`);
      for (const line of summarizeProfile(file)) out(line);
    }
  }
}

const describe = (s: ReturnType<typeof spread>) =>
  `p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, p99 ${ms(s.p99)}, max ${ms(s.max)}`;

await ensureAppBuilt();
await quietMachine();
out(machineLine());
out(await serviceVersions(ADMIN_DATABASE_URL));
out(
  `set-up: ${opt.members} members holding ${opt.covers} × ${COST} + ${REMAINDER} points and a hot member ` +
    `holding ${opt.hotCovers} × ${COST} + ${REMAINDER}; one fixed-amount reward costing ${COST}; ` +
    `${opt.warmup} warm-up + ${opt.requests} measured requests, closed loop, then ${opt.hot} for the hot member`,
);
out(
  'web: node dist/server.mjs, NODE_ENV=test LOG_LEVEL=warn; Admin API: the emulator behind a timing relay, in this process' +
    (profileRoot ? `; CPU profiles → ${relative(ROOT, profileRoot)}` : ''),
);
const results: Awaited<ReturnType<typeof run>>[] = [];
for (const [i, c] of configs.entries()) results.push(await run(c.concurrency, c.delayMs, i));

if (results.length > 1) {
  // Markdown, as docs/perf.md shows it.
  out(
    '\n| in flight | Shopify delay ms | req/s | 200s p50 / p95 / p99 / max ms | Shopify p50 ms | hot member ms | correct |',
  );
  out(`|${' --- |'.repeat(7)}`);
  for (const r of results) {
    const { p50, p95, p99, max } = r.issued;
    const cells = [
      r.concurrency,
      r.delayMs,
      r.perSecond,
      `${[p50, p95, p99, max].map((x) => x.toFixed(0)).join(' / ')}`,
    ];
    out(
      `| ${[...cells, r.shopifyP50, r.hotMs].map((x) => (typeof x === 'number' ? x.toFixed(0) : x)).join(' | ')} | ${r.correct ? 'yes' : 'NO'} |`,
    );
  }
}
const allCorrect = results.every((r) => r.correct);
out(
  `result: ${verdict(allCorrect && results.every((r) => r.pass))}` +
    (allCorrect ? '' : ' (correctness failure: exit code 1)'),
);
process.exitCode = allCorrect ? 0 : 1;

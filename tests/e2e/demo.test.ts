/**
 * `npm run demo` end to end: the demo as a child process (`npx tsx dev/demo/main.ts`) on its own
 * PGlite directory and queue prefix, its admin and storefront preview opened in Chromium, Ctrl-C
 * (SIGINT to its process group, as a terminal sends it), then a second run that must post nothing.
 * The numbers are checked against the independent expectation (dev/demo/expected.ts) recomputed
 * here from the state the demo pinned — with each award's tier multiplier read from the demo's
 * ledger (its tier-change entries, dev/demo/tiers.ts) once the demo has stopped and released its
 * PGlite directory, since which tier an order was awarded under depends on when the workers
 * processed it. The early-access product is opened as the demo's Gold and Bronze shoppers. The
 * friends' referred orders the demo sends after the history (dev/demo/referrals.ts) are rebuilt
 * from the referrers' codes in its database: their own orders earn, and the referrers' rewards are
 * in the balances.
 * Screenshots go to tests/artifacts/.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adjustmentKey } from '../../loyalty/adjustment';
import { DEMO_ADJUSTMENT } from '../../dev/demo/adjustments';
import { DEMO_BONUS_PROGRAM } from '../../dev/demo/bonuses';
import { campaignBpsByOrder, DEMO_CAMPAIGN_NAME } from '../../dev/demo/campaigns';
import { DEMO_EXPIRY_SETTINGS } from '../../dev/demo/lifecycle';
import { campaigns, customers, ledgerEntries } from '../../db/schema';
import { and, eq, inArray } from 'drizzle-orm';
import { findEntryByKey } from '../../app/models/ledger.server';
import { getCustomer } from '../../app/models/customers.server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAppBuilt, ROOT } from '../../dev/build';
import { expectedReport, expectedResults } from '../../dev/demo/expected';
import { generateHistory } from '../../dev/demo/history';
import {
  activeReferrerCodes,
  expectedReferralLedger,
  referralDifferences,
} from '../../dev/demo/referral-check';
import { referralCast, referralDeliveries } from '../../dev/demo/referrals';
import { demoCatalog, topMember } from '../../dev/demo/rewards';
import { awardMultipliers, type AwardMultipliers } from '../../dev/demo/tiers';
import { getShopByDomain } from '../../app/models/shops.server';
import { openDatabase } from '../../db/client.server';
import { readDemoState } from '../../dev/demo/state';
import {
  killDemo,
  launchChromium,
  processesInGroup,
  startDemo as startDemoProcess,
  urlAfter,
  type Chromium,
  type Demo,
} from '../helpers/demo-process';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../helpers/pipeline';

// Enough for Gold members and multiplied awards in any generated history (dev/demo/tiers.ts).
const CUSTOMERS = 100;
const TIMEZONE = 'America/New_York';
const PREFIX = `test-${randomUUID()}`;
const dir = mkdtempSync(join(tmpdir(), 'laurel-demo-e2e-'));
const PGLITE_DIR = join(dir, 'pglite');
const STATE_FILE = join(dir, 'pglite-demo.json');
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const fmt = (n: number) => new Intl.NumberFormat('en-US').format(n);

const demos: Demo[] = [];

function startDemo(args: string[]): Demo {
  const demo = startDemoProcess(args, {
    PGLITE_DIR,
    QUEUE_PREFIX: PREFIX,
    REDIS_URL: TEST_REDIS_URL,
  });
  demos.push(demo);
  return demo;
}

/**
 * What the demo's store should hold, recomputed from the history the demo pinned and the tier
 * multipliers its ledger's tier changes call for (read once the demo has stopped: PGlite is one
 * process's at a time).
 */
async function expectation() {
  const state = readDemoState(STATE_FILE);
  if (!state || state.source.kind !== 'history')
    throw new Error(`no history state in ${STATE_FILE}`);
  const history = generateHistory({
    shop: state.shop,
    seed: state.source.seed,
    firstMonth: state.source.firstMonth,
    timezone: TIMEZONE,
    customers: state.source.customers,
  });
  const handle = await openDatabase({ pgliteDir: PGLITE_DIR });
  const cast = referralCast(history.deliveries)!;
  let multipliers: AwardMultipliers;
  let referrals;
  let referralPoints;
  let adjusted: string;
  let campaign: { startsAt: Date; endsAt: Date } | undefined;
  /** The demo's bonus and expiry entries, as the ledger holds them (checked below). */
  let lifecycleEntries: {
    customer: string;
    source: string;
    points: number;
    occurredAt: Date;
    inputs: Record<string, unknown>;
  }[];
  /** Each member's entries by id: what an expiry entry's lots are looked up in. */
  let entryById: Map<number, { customer: string; points: number; occurredAt: Date }>;
  try {
    const shop = await getShopByDomain(handle.db, state.shop);
    multipliers = await awardMultipliers(handle.db, shop!.id);
    referrals = referralDeliveries({
      shop: state.shop,
      timezone: TIMEZONE,
      history: history.deliveries,
      cast,
      codes: await activeReferrerCodes(handle.db, shop!.id, cast),
    });
    const checked = await referralDifferences(handle.db, shop!.id, referrals.cases);
    expect(checked.problems).toEqual([]);
    referralPoints = expectedReferralLedger(referrals.cases, checked.outcomes);
    // The demo's manual adjustment (dev/demo/adjustments.ts): its amount and reason as the demo
    // defines them, on the member the entry names.
    const entry = await findEntryByKey(handle.db, shop!.id, adjustmentKey(DEMO_ADJUSTMENT.key));
    expect(entry).toMatchObject({
      source: 'adjustment',
      points: DEMO_ADJUSTMENT.points,
      inputs: { reason: DEMO_ADJUSTMENT.reason },
    });
    adjusted = (await getCustomer(handle.db, shop!.id, entry!.customerId))!.externalId;
    [campaign] = await handle.db
      .select({ startsAt: campaigns.startsAt, endsAt: campaigns.endsAt })
      .from(campaigns)
      .where(and(eq(campaigns.shopId, shop!.id), eq(campaigns.name, DEMO_CAMPAIGN_NAME)));
    const rows = await handle.db
      .select({
        id: ledgerEntries.id,
        customer: customers.externalId,
        source: ledgerEntries.source,
        points: ledgerEntries.points,
        occurredAt: ledgerEntries.occurredAt,
        inputs: ledgerEntries.inputs,
      })
      .from(ledgerEntries)
      .innerJoin(customers, eq(customers.id, ledgerEntries.customerId))
      .where(
        and(
          eq(ledgerEntries.shopId, shop!.id),
          inArray(ledgerEntries.source, ['bonus', 'expiry', 'order', 'referral', 'adjustment']),
        ),
      );
    entryById = new Map(rows.map((r) => [r.id, r]));
    lifecycleEntries = rows
      .map((r) => ({ ...r, inputs: (r.inputs ?? {}) as Record<string, unknown> }))
      .filter(
        (r) =>
          r.source === 'expiry' ||
          (r.source === 'bonus' && ['birthday', 'newsletter'].includes(String(r.inputs.rule))),
      );
  } finally {
    await handle.close();
  }
  expect(multipliers.problems).toEqual([]);
  // The demo's double-points weekend doubles its orders on top of the tier multiplier.
  expect(campaign).toBeDefined();
  const doubled = campaignBpsByOrder([...history.deliveries, ...referrals.deliveries], campaign!);
  expect(doubled.size).toBeGreaterThan(0);
  const results = expectedResults([...history.deliveries, ...referrals.deliveries], {
    timezone: TIMEZONE,
    awardMultiplierBps: (orderId) =>
      ((multipliers.byOrder.get(orderId) ?? 10_000) * (doubled.get(orderId) ?? 10_000)) / 10_000,
  });
  const report = expectedReport(results);
  // Referral rewards are points too (not purchase points: the report leaves them out).
  const balances = new Map(results.customers.map((c) => [c.customerId, c.balance]));
  for (const entry of referralPoints.values()) {
    balances.set(entry.customer, (balances.get(entry.customer) ?? 0) + entry.points);
  }
  // The demo's redemption: the top member spends the first reward's cost (dev/demo/rewards.ts).
  const redeemer = topMember(
    [...balances].map(([externalId, lifetimeEarned]) => ({ externalId, lifetimeEarned })),
  )!;
  const cost = (demoCatalog()[0] as { pointsCost: number }).pointsCost;
  balances.set(redeemer.externalId, redeemer.lifetimeEarned - cost);
  balances.set(adjusted!, (balances.get(adjusted!) ?? 0) + DEMO_ADJUSTMENT.points);
  // Birthdays and the newsletter at the demo's settings; lots expired two months after they were
  // earned, each expiry naming lots of its own member, old enough, and taking no more than they
  // held.
  const months = DEMO_EXPIRY_SETTINGS.policy.months;
  let expiries = 0;
  for (const e of lifecycleEntries!) {
    if (e.source === 'bonus') {
      expect(e.points).toBe(
        e.inputs.rule === 'birthday'
          ? DEMO_BONUS_PROGRAM.birthdayPoints
          : DEMO_BONUS_PROGRAM.newsletterPoints,
      );
    } else {
      expiries++;
      const lots = e.inputs.lots as { entryId: number; points: number }[];
      expect(lots.length).toBeGreaterThan(0);
      expect(-e.points).toBe(lots.reduce((sum, lot) => sum + lot.points, 0));
      for (const lot of lots) {
        const earned = entryById!.get(lot.entryId)!;
        expect(earned.customer).toBe(e.customer);
        expect(lot.points).toBeLessThanOrEqual(earned.points);
        const due = new Date(earned.occurredAt);
        due.setUTCMonth(due.getUTCMonth() + months);
        expect(e.occurredAt.getTime()).toBeGreaterThan(due.getTime() - 2 * 86_400_000);
      }
    }
    balances.set(e.customer, (balances.get(e.customer) ?? 0) + e.points);
  }
  expect(expiries).toBeGreaterThan(0);
  return {
    state,
    deliveries: history.deliveries.length,
    members: results.customers.length,
    points: [...balances.values()].reduce((sum, b) => sum + b, 0),
    balances,
    cost,
    report,
    multipliers,
  };
}

let browser: Chromium | undefined;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // The demo builds a stale app itself; doing it here keeps the build out of the timed runs.
  await ensureAppBuilt({
    server: false,
    log: (line) => process.stdout.write(`[demo e2e] ${line}\n`),
  });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  for (const demo of demos) killDemo(demo);
  await obliterateWorkerQueues({ redisUrl: TEST_REDIS_URL, prefix: PREFIX }).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('replays the store, serves the admin and the preview with the ledger numbers, and stops on Ctrl-C', async () => {
    const demo = startDemo(['--port', '0', '--customers', String(CUSTOMERS)]);
    await demo.waitFor(/^Serving until Ctrl-C\.$/m, 120_000);
    const out = demo.stdout();
    // The figures are compared with the expectation once the demo has stopped (see above).
    const figure = (pattern: RegExp) => pattern.exec(out)?.[1];
    const printed = {
      members: figure(/^Members: ([\d,]+) · points outstanding/m),
      points: figure(/points outstanding: ([\d,]+)$/m),
    };
    expect(out).toMatch(/: 0 deliveries already received, [\d,]+ new entries\./);
    expect(out).toMatch(
      /^Check: the ledger agrees with the independent expectation \(dev\/demo\/expected\.ts\): [\d,]+ customers, \d+ months, [\d,]+ points, [\d,]+ awards at the multiplier of the tier held \([\d,]+ above ×1\)\.$/m,
    );
    // One redemption end to end: a code for that member only, used by an order.
    expect(out).toMatch(
      new RegExp(
        `^Redemption: .+ spent \\d+ points on "\\$5 off your next order" → code LRL(-[0-9A-Z]{4}){3} \\(Shopify: \\$5\\.00 off, for .+ only, once, until \\d{4}-\\d{2}-\\d{2}\\) → used on order #R\\d+ → status used\\.$`,
        'm',
      ),
    );
    // Members per tier, and the early-access product for a Gold and a Bronze shopper.
    expect(out).toMatch(
      /^Tiers: [\d,]+ Bronze, [\d,]+ Silver, [\d,]+ Gold, [\d,]+ Platinum \(spend over a rolling 12 months: Silver from \$250, Gold \$500, Platinum \$700\)\.$/m,
    );
    expect(out).toMatch(
      /^Early access: Uji Matcha First Harvest, Gold and above from now, everyone from \d{4}-\d{2}-\d{2} \d{2}:\d{2} \(America\/New_York\); mirrored to the product's metafield \(1 written\), checkout validation (created|adopted|current|written)\.$/m,
    );
    // "  A Gold shopper:  <preview URL> (<name>); proxy: allowed true"
    const shopperLink = (label: string) => {
      const url = new RegExp(`^ {2}${label}:\\s+(http://\\S+) \\(`, 'm').exec(out)?.[1];
      if (!url) throw new Error(`no "${label}" link in:\n${out}`);
      return url;
    };
    const goldShopper = shopperLink('A Gold shopper');
    const bronzeShopper = shopperLink('A Bronze shopper');
    expect(out).toMatch(/^ {2}A Gold shopper: .+; proxy: allowed true$/m);
    expect(out).toMatch(/^ {2}A Bronze shopper: .+; proxy: allowed false, opens \S+Z$/m);
    expect(out).not.toMatch(/Warning|DISAGREES/);
    // Referrals: five friends' first orders with members' codes, each as the demo's cases say
    // (dev/demo/referrals.ts), and the first referrer's share link answering 302.
    expect(out).toMatch(
      /^Referrals: 2 rewarded, 1 held, 1 rejected, 1 reversed; 1,000 points to referrers, net /m,
    );
    expect(out).toMatch(
      /^ {2}Check: each referral and its ledger entries are as the cases say \(dev\/demo\/referral-check\.ts\)\.$/m,
    );
    const code =
      / {2}Share link:\s+https:\/\/\S+\/apps\/loyalty\/r\/(FRIEND-[A-Z0-9]{8}) → 302 \/discount\//.exec(
        out,
      )?.[1];
    expect(code, out).toBeDefined();

    const admin = urlAfter(out, 'Admin \\(local, dev only\\)');
    const preview = urlAfter(out, 'Storefront preview');
    const health = await fetch(urlAfter(out, 'Health'));
    expect(health.status).toBe(200);

    // The share link as a shopper's browser follows it, through the storefront's app proxy (the
    // dev stand-in signs it as Shopify does): to Shopify's discount URL, which puts the code in the
    // cart and comes back to the home page with the welcome.
    const landing = await fetch(`${new URL(preview).origin}/apps/loyalty/r/${code}`, {
      redirect: 'manual',
    });
    expect(landing.status).toBe(302);
    expect(landing.headers.get('location')).toBe(
      `/discount/${code}?redirect=${encodeURIComponent('/?laurel_referral=1')}`,
    );

    browser = await launchChromium();
    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    // The embedded admin, opened through /dev/admin (a minted session token, no Shopify).
    await page.goto(admin);
    await page.getByText('Points outstanding at the end').first().waitFor({ timeout: 15_000 });
    const text = async () => page.locator('body').innerText();
    const figures = (body: string) => ({
      members: /Members\s+([\d,]+)/.exec(body)?.[1],
      points: /Points outstanding at the end\s+([\d,]+)/.exec(body)?.[1],
    });
    let body = await text();
    expect(body).toContain(readDemoState(STATE_FILE)!.shop);
    expect(body).toContain('Reference (version 1)');
    expect(body).toContain('USD · America/New_York');
    expect(figures(body)).toEqual(printed);
    expect(
      await page.evaluate(
        () => (window as { shopify?: { laurelDevStandIn?: boolean } }).shopify?.laurelDevStandIn,
      ),
    ).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-admin.png'), fullPage: true });

    // Client-side navigation: the data request carries the stand-in's bearer token.
    const dataResponse = page.waitForResponse((r) => new URL(r.url()).pathname === '/app.data');
    await page.locator('ui-nav-menu a[rel="home"]').click();
    const data = await dataResponse;
    expect(data.status()).toBe(200);
    expect(data.request().headers()['authorization']).toMatch(/^Bearer ey/);
    // A reload comes back through the library's bounce page, with a new token.
    await page.reload();
    await page.getByText('Points outstanding at the end').first().waitFor({ timeout: 15_000 });
    expect(new URL(page.url()).searchParams.get('id_token')).toMatch(/^ey/);
    body = await text();
    expect(figures(body)).toEqual(printed);

    // The storefront preview: every member in its chooser with the expected ledger balance;
    // choosing one shows the theme's balance block with that figure once the sync has written it.
    // (tests/e2e/storefront-preview.test.ts covers the blocks themselves.)
    await page.goto(preview);
    const members = new Map(
      (await page
        .locator('select[name="customer"] option[data-balance]')
        .evaluateAll((elements) =>
          elements.map((e) => [e.getAttribute('value'), Number(e.getAttribute('data-balance'))]),
        )) as [string, number][],
    );
    const [chosen, balance] = [...members].sort((a, b) => b[1] - a[1])[2]!;
    await page.locator('select[name="customer"]').selectOption(chosen);
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.waitForURL((url) => url.searchParams.get('customer') === chosen);
    const shown = page.locator('[data-laurel-balance-block] [data-laurel-balance]');
    for (let i = 0; i < 40 && (await shown.count()) === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await page.reload();
    }
    expect(Number(await shown.getAttribute('data-laurel-balance'))).toBe(balance);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-preview.png'), fullPage: true });

    // The early-access matcha: the Gold shopper is told they may buy and has the buy button; the
    // Bronze shopper is told when, without it (the real Liquid block, from the emulator's mirror
    // and the members' $app.tier metafields as the sync wrote them).
    await page.goto(goldShopper);
    await expect(page.locator('[data-laurel-early-access-member]').innerText()).resolves.toContain(
      'you can buy this now',
    );
    await expect(page.locator('.product-form [type=submit]').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-early-access-gold.png'), fullPage: true });
    await page.goto(bronzeShopper);
    await expect(
      page.locator('[data-laurel-early-access] [data-laurel-early-access-opens]').innerText(),
    ).resolves.toMatch(/^You can buy this from /);
    await expect(page.locator('.product-form [type=submit]').isVisible()).resolves.toBe(false);
    await page.screenshot({
      path: join(ARTIFACTS, 'demo-early-access-bronze.png'),
      fullPage: true,
    });

    // The first referrer's Refer a friend block shows that link (their $app.referral_code, as
    // the sync wrote it once Shopify held the code).
    const pinned = readDemoState(STATE_FILE)!;
    if (pinned.source.kind !== 'history') throw new Error('the demo pinned no history');
    const referrer = referralCast(
      generateHistory({
        shop: pinned.shop,
        seed: pinned.source.seed,
        firstMonth: pinned.source.firstMonth,
        timezone: TIMEZONE,
        customers: pinned.source.customers,
      }).deliveries,
    )!.referrers[0];
    await page.goto(`${preview}?customer=${String(referrer.id)}`);
    const shareUrl = page.locator('[data-laurel-referral] [data-laurel-referral-url]').first();
    await expect(shareUrl.inputValue()).resolves.toMatch(new RegExp(`/apps/loyalty/r/${code}$`));
    await page.screenshot({ path: join(ARTIFACTS, 'demo-referral-block.png'), fullPage: true });

    // The admin's referrals page, from the link the demo printed: the held referral with its
    // reason, to approve or reject.
    await page.goto(urlAfter(out, ' {2}Referrals'));
    await page.getByText('Referrals · 1 held for review').waitFor({ timeout: 15_000 });
    await expect(page.locator('body').innerText()).resolves.toContain(
      'Same address (hold): the friend ships to an address the referrer uses',
    );
    await page.screenshot({ path: join(ARTIFACTS, 'demo-admin-referrals.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await browser.close();
    browser = undefined;

    // SIGINT to the demo process: it stops everything it started and exits 0, which tsx and npx
    // pass on. (A terminal's Ctrl-C signals npx too, and npm then reports the signal itself.)
    const running = processesInGroup(demo.pid);
    const node = running.find(
      (p) => p.command.includes('--import') && p.command.includes('dev/demo/main.ts'),
    );
    expect(node, JSON.stringify(running)).toBeDefined();
    process.kill(node!.pid, 'SIGINT');
    const exit = await Promise.race([
      demo.exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no exit 25 s after SIGINT:\n${demo.stderr()}`)), 25_000),
      ),
    ]);
    expect(exit, demo.stderr()).toEqual({ code: 0, signal: null });
    expect(demo.stdout()).toMatch(/Stopping…\nStopped\.\n$/);
    // stderr has the progress lines and nothing else (no warnings, no stray errors).
    expect(demo.stderr()).toMatch(
      /^(?:(?:Replaying|Processing): [\d,]+\/[\d,]+ webhooks \(\d+%\)\n)+$/,
    );
    // Give the last ones a moment to be reaped, then nothing of the demo may be left.
    for (let i = 0; i < 20 && processesInGroup(demo.pid).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(processesInGroup(demo.pid)).toEqual([]);

    // Now the ledger can be read: every figure the demo showed against the expectation.
    const expected = await expectation();
    expect(expected.multipliers.multiplied).toBeGreaterThan(0);
    expect(out).toContain(`Replayed ${fmt(expected.deliveries)} webhooks in`);
    expect(printed).toEqual({ members: fmt(expected.members), points: fmt(expected.points) });
    expect(out).toContain(`Grand total: ${fmt(expected.report.totals.total)} points earned.`);
    expect(out).toContain(`spent ${expected.cost} points on`);
    // Every member has a tier (Bronze from 0), so every member's metafields are written.
    expect(out).toMatch(
      new RegExp(
        `^Storefront sync: ${fmt(expected.members)} members' metafields equal the ledger; ledger commit → metafield written p50 [\\d.]+ s, p95 [\\d.]+ s`,
        'm',
      ),
    );
    expect(members).toEqual(expected.balances);
  }, 240_000);

  it('run again, reuses the data and posts nothing twice', async () => {
    const demo = startDemo(['--port', '0', '--customers', String(CUSTOMERS), '--no-serve']);
    const exit = await Promise.race([
      demo.exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no exit within 90 s:\n${demo.stdout()}`)), 90_000),
      ),
    ]);
    const out = demo.stdout();
    expect(exit, `${out}\n${demo.stderr()}`).toEqual({ code: 0, signal: null });
    const expected = await expectation();
    expect(out).toContain(
      `: ${fmt(expected.deliveries)} deliveries already received, 0 new entries.`,
    );
    expect(out).toContain(
      `Members: ${fmt(expected.members)} · points outstanding: ${fmt(expected.points)}`,
    );
    expect(out).toContain(`Grand total: ${fmt(expected.report.totals.total)} points earned.`);
    expect(out).toContain('Check: the ledger agrees with the independent expectation');
    // The same request id: the same redemption, not a second one.
    expect(out).toMatch(
      /^Redemption: .+ spent \d+ points on .+ \(created in Shopify on an earlier run\) → used on order #R\d+ → status used\.$/m,
    );
    // The new emulator holds nothing: every member is written again, and no lag is claimed.
    expect(out).toContain(
      `Storefront sync: ${fmt(expected.members)} members' metafields equal the ledger (`,
    );
    expect(out).toContain('no new entries this run, so no lag to measure');
    expect(out).not.toContain('Serving until Ctrl-C');
    expect(processesInGroup(demo.pid)).toEqual([]);
  }, 120_000);
});

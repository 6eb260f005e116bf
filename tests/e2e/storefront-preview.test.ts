/**
 * The storefront preview (/dev/preview) in Chromium: the theme extension's real blocks rendered by
 * liquidjs on a stand-in theme page of the demo store, their script talking to the real app proxy
 * routes through the dev server's signed stand-in for /apps/loyalty.
 *
 * `npm run demo` runs as a child (tests/helpers/demo-process.ts) on its own PostgreSQL database
 * (so this test can read the ledger while the demo runs), PGlite directory for its state, and
 * queue prefix. Every figure the page shows is checked against the database: balances and
 * lifetime points against the ledger, "Earn N points" against loyalty/earn.ts with the stored
 * program, the launcher's history against the customer's entries newest first.
 *
 * Every test fails on any console error, page error, failed request or HTTP error answer, and on
 * any layout shift (a `layout-shift` PerformanceObserver, buffered, over load and interactions).
 * Screenshots go to tests/artifacts/ (storefront-preview-*.png).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, Request as BrowserRequest } from 'playwright-core';
import {
  cumulativeLayoutShift,
  layoutShifts,
  watchPage,
  type LayoutShift,
} from '../helpers/watched-page';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listMembers, type MemberSummary } from '../../app/models/members.server';
import { entriesFor, post, sumOfEntries } from '../../app/models/ledger.server';
import { compiledProgram, programAt } from '../../app/models/programs.server';
import { getShopByDomain, type Shop } from '../../app/models/shops.server';
import { ensureAppBuilt, ROOT } from '../../dev/build';
import { demoProduct } from '../../dev/demo/storefront';
import { readDemoState } from '../../dev/demo/state';
import { earnPoints } from '../../loyalty/earn';
import type { CompiledProgram } from '../../loyalty/program';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import {
  killDemo,
  launchChromium,
  startDemo,
  urlAfter,
  type Chromium,
  type Demo,
} from '../helpers/demo-process';
import { obliterateWorkerQueues, TEST_REDIS_URL } from '../helpers/pipeline';
import { dailyTierRunFinished, seedTierProgram, setMemberTier } from '../helpers/tiers';
import { getCustomerTier } from '../../app/models/tiers.server';
import { eq } from 'drizzle-orm';
import { customerMetafieldSync } from '../../db/schema';

const CUSTOMERS = 40;
const PREFIX = `test-${randomUUID()}`;
const dir = mkdtempSync(join(tmpdir(), 'laurel-preview-e2e-'));
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const EXTENSION = join(ROOT, 'extensions', 'laurel-theme');
const en = new Intl.NumberFormat('en-US');

let db: TestDatabase;
let demo: Demo;
let browser: Chromium;
let preview: string;
let origin: string;
let shop: Shop;
let program: CompiledProgram;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureAppBuilt({
    server: false,
    log: (line) => process.stdout.write(`[preview e2e] ${line}\n`),
  });
  db = await createTestDatabase('postgres');
  demo = startDemo(['--port', '0', '--customers', String(CUSTOMERS)], {
    DATABASE_URL: db.url!,
    PGLITE_DIR: join(dir, 'pglite'),
    QUEUE_PREFIX: PREFIX,
    REDIS_URL: TEST_REDIS_URL,
  });
  await demo.waitFor(/^Serving until Ctrl-C\.$/m, 150_000);
  preview = urlAfter(demo.stdout(), 'Storefront preview');
  origin = new URL(preview).origin;
  const state = readDemoState(join(dir, 'pglite-demo.json'));
  shop = (await getShopByDomain(db.db, state!.shop))!;
  // The version in force: the demo also schedules a later one (dev/demo/program.ts).
  program = compiledProgram((await programAt(db.db, shop.id, new Date()))!);
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (demo) killDemo(demo);
  await obliterateWorkerQueues({ redisUrl: TEST_REDIS_URL, prefix: PREFIX }).catch(() => {});
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

// ---------------------------------------------------------------------------------------------
// A watched page: every problem the browser reports, every request, and the layout shifts.

interface Watched {
  page: Page;
  problems: string[];
  requests: BrowserRequest[];
  /** Every layout shift so far (buffered from navigation start). */
  layoutShifts(): Promise<LayoutShift[]>;
}

const open: Watched[] = [];

async function watchedPage(options: { locale?: string } = {}): Promise<Watched> {
  const context = browser.context;
  if (options.locale) {
    await context.setExtraHTTPHeaders({ 'Accept-Language': options.locale });
  } else {
    await context.setExtraHTTPHeaders({});
  }
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: BrowserRequest[] = [];
  await watchPage(page, problems, requests);
  const watched: Watched = {
    page,
    problems,
    requests,
    layoutShifts: () => layoutShifts(page),
  };
  open.push(watched);
  return watched;
}

afterEach(async () => {
  // Checked here too, so a test that forgot cannot pass with a console error or a shift.
  for (const watched of open.splice(0)) {
    if (!watched.page.isClosed()) {
      const shifts = await watched.layoutShifts();
      expect(cumulativeLayoutShift(shifts), JSON.stringify(shifts)).toBe(0);
      const afterInput = shifts.filter((s) => s.hadRecentInput);
      if (afterInput.length > 0) {
        process.stdout.write(`[preview e2e] shifts after input: ${JSON.stringify(afterInput)}\n`);
      }
      await watched.page.close();
    }
    expect(watched.problems).toEqual([]);
  }
});

function pageUrl(query: Record<string, string> = {}): string {
  const url = new URL(preview);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  return url.toString();
}

const appProxyRequests = (requests: BrowserRequest[]) =>
  requests.filter((r) => /\/apps\/loyalty(\/|$)/.test(new URL(r.url()).pathname));

/**
 * The launcher's own requests: the Rewards block on the page loads the catalog (and the member's
 * codes) as soon as it is seen, which is not the launcher fetching.
 */
const launcherRequests = (requests: BrowserRequest[]) =>
  appProxyRequests(requests).filter(
    (r) => !/\/apps\/loyalty\/(rewards|redemptions)$/.test(new URL(r.url()).pathname),
  );

/**
 * Members some test posted ledger entries for behind the demo's back: their metafields may lag,
 * so tests that compare the balance block with the ledger pick others.
 */
const touched = new Set<string>();

/** The members by balance, highest first, from the database, untouched ones only. */
async function members(): Promise<MemberSummary[]> {
  return (await listMembers(db.db, shop.id)).filter((m) => !touched.has(m.externalId));
}

/** Posts an adjustment for `member` straight into the ledger. */
async function adjust(member: MemberSummary, points: number, occurredAt = new Date()) {
  touched.add(member.externalId);
  await post(db.db, shop.id, {
    customerId: member.id,
    idempotencyKey: `adjustment:preview-e2e:${randomUUID()}`,
    source: 'adjustment',
    points,
    occurredAt,
    programVersion: null,
    inputs: { reason: 'storefront preview test' },
  });
}

/**
 * The preview of `customerId`, reloaded until the balance block shows the ledger's balance: the
 * metafield sync writes it shortly after the ledger changes (its lag budget is 5 s).
 */
async function openMemberPage(
  watched: Watched,
  customerId: string,
  query: Record<string, string> = {},
) {
  const customer = (await members()).find((m) => m.externalId === customerId)!;
  const ledger = await sumOfEntries(db.db, shop.id, customer.id);
  const deadline = Date.now() + 20_000;
  for (;;) {
    // The balance as served (from the metafield), not as the page shows it later: the Rewards
    // block's script may put the fresh balance there first, hiding a metafield that lags.
    const response = await watched.page.goto(pageUrl({ customer: customerId, ...query }));
    const served = (await response?.text()) ?? '';
    const value =
      /data-laurel-balance-block[\s\S]*?data-laurel-balance="(-?\d+)"/.exec(served)?.[1] ?? null;
    if (value === String(ledger.balance)) break;
    if (Date.now() > deadline) {
      throw new Error(
        `the balance block shows ${value ?? 'no balance'} for customer ${customerId}; the ledger says ${ledger.balance}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { customer, ledger };
}

/**
 * A proxy in front of the demo that sends the preview page in two parts, as a slow network can:
 * up to the end of the first tag holding `marker`, then — after long enough for the browser to
 * paint what it has — the rest. Everything else passes through unchanged (cookies included).
 */
async function cutProxy(marker: string, pauseMs = 1_000) {
  let cuts = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const target = new URL(req.url ?? '/', origin);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && name !== 'host') headers.set(name, value);
      }
      const upstream = await fetch(target, { headers, redirect: 'manual' });
      const out: Record<string, string | string[]> = {};
      upstream.headers.forEach((value, name) => {
        if (
          !['content-length', 'content-encoding', 'transfer-encoding', 'set-cookie'].includes(name)
        )
          out[name] = value;
      });
      const cookies = upstream.headers.getSetCookie();
      if (cookies.length > 0) out['set-cookie'] = cookies;
      const body = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, out);
      const text = body.toString('utf8');
      const at = target.pathname === '/dev/preview' ? text.indexOf(marker) : -1;
      if (at < 0) {
        res.end(body);
        return;
      }
      cuts++;
      const end = text.indexOf('>', at) + 1;
      res.write(text.slice(0, end));
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
      res.end(text.slice(end));
    })().catch((error: Error) => res.destroy(error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    cuts: () => cuts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------

describe('npm run demo prints how to open the preview', () => {
  it('prints the preview URL and one line per block', () => {
    const out = demo.stdout();
    expect(preview).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dev\/preview$/);
    expect(out).toMatch(/^ {2}Logged out: +http:\/\/\S+\/dev\/preview /m);
    expect(out).toMatch(/^ {2}A member: +http:\/\/\S+\/dev\/preview\?customer=\d+ /m);
    expect(out).toMatch(/^ {2}Product block: +\S/m);
    expect(out).toMatch(/^ {2}Launcher: +\S/m);
  });
});

describe('the storefront preview', () => {
  it('logged out: the program in one sentence and sign-in / join links, no balance', async () => {
    const watched = await watchedPage();
    const { page } = watched;
    const response = await page.goto(preview);
    expect(await response!.headerValue('set-cookie')).toMatch(/^laurel_preview_customer=; /);
    const block = page.locator('[data-laurel-balance-block]');
    const signedOut = block.locator('[data-laurel-signed-out]');
    await signedOut.waitFor();
    expect(await block.locator('[data-laurel-balance]').count()).toBe(0);
    expect(await signedOut.locator('a[href="/account/login"]').count()).toBe(1);
    expect(await signedOut.locator('a[href="/account/register"]').count()).toBe(1);
    // The program sentence names what earns: the first band's threshold, as the shop formats it.
    expect(await signedOut.innerText()).toContain('$50');
    await page.screenshot({
      path: join(ARTIFACTS, 'storefront-preview-logged-out.png'),
      fullPage: true,
    });
  });

  it("logged in: the balance block's figures are the ledger's for that customer", async () => {
    const watched = await watchedPage();
    const { page } = watched;
    const [richest] = await members();
    const { ledger } = await openMemberPage(watched, richest!.externalId);
    const block = page.locator('[data-laurel-balance-block]');
    const balance = block.locator('[data-laurel-balance]');
    expect(await balance.innerText()).toContain(en.format(ledger.balance));
    const lifetime = block.locator('[data-laurel-lifetime]');
    expect(Number(await lifetime.getAttribute('data-laurel-lifetime'))).toBe(ledger.lifetimeEarned);
    expect(await lifetime.innerText()).toContain(en.format(ledger.lifetimeEarned));
    expect(await block.locator('[data-laurel-signed-out]').count()).toBe(0);
    await page.screenshot({
      path: join(ARTIFACTS, 'storefront-preview-member.png'),
      fullPage: true,
    });
  });

  it('product block: N is earnPoints for the selected variant, and follows the variant picker', async () => {
    const watched = await watchedPage();
    const { page } = watched;
    await page.goto(preview);
    const product = demoProduct();
    const block = page.locator('[data-laurel-product-points]');
    const expected = (price: number) => earnPoints(program, price); // USD: Liquid cents = minor
    const first = product.selected_or_first_available_variant;
    expect(Number(await block.getAttribute('data-points'))).toBe(expected(first.price));
    const picker = page.locator('form[action="/cart/add"] select[name="id"]');
    const seen = new Set<number>();
    for (const variant of [...product.variants].reverse()) {
      await picker.selectOption(String(variant.id));
      await expect
        .poll(async () => Number(await block.getAttribute('data-points')))
        .toBe(expected(variant.price));
      const points = expected(variant.price);
      seen.add(points);
      if (points > 0) expect(await block.innerText()).toContain(en.format(points));
    }
    // The demo product's sizes cover nothing, one band and both: three different figures.
    expect(seen.size).toBe(product.variants.length);
    // ?variant= selects the variant server-side, as on Shopify.
    const last = product.variants.at(-1)!;
    await page.goto(pageUrl({ variant: String(last.id) }));
    expect(Number(await block.getAttribute('data-points'))).toBe(expected(last.price));
    expect(await picker.inputValue()).toBe(String(last.id));
  });

  it('launcher: opened and closed by keyboard only, focus trapped, nothing fetched before', async () => {
    const watched = await watchedPage();
    const { page, requests } = watched;
    const [member] = await members();
    await openMemberPage(watched, member!.externalId);
    await page.waitForLoadState('networkidle');
    expect(launcherRequests(requests)).toEqual([]);

    const launcher = page.locator('button[data-laurel-launcher]');
    const panel = page.locator('[data-laurel-panel]');
    expect(await launcher.getAttribute('aria-expanded')).toBe('false');
    expect(await panel.isVisible()).toBe(false);
    expect(await panel.getAttribute('role')).toBe('dialog');
    expect(await panel.getAttribute('aria-modal')).toBe('true');
    expect(await launcher.getAttribute('aria-controls')).toBe(await panel.getAttribute('id'));
    const labelledBy = await panel.getAttribute('aria-labelledby');
    expect(await page.locator(`[id="${labelledBy}"]`).count()).toBe(1);

    const focusedIs = (selector: string) =>
      page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector);
    const focusInPanel = () =>
      page.evaluate(
        () =>
          document.querySelector('[data-laurel-panel]')?.contains(document.activeElement) ?? false,
      );
    let presses = 0;
    while (!(await focusedIs('button[data-laurel-launcher]'))) {
      expect(++presses, 'Tab never reached the launcher').toBeLessThan(60);
      await page.keyboard.press('Tab');
    }
    expect(launcherRequests(requests)).toEqual([]);

    await page.keyboard.press('Enter');
    await panel.waitFor({ state: 'visible' });
    expect(await launcher.getAttribute('aria-expanded')).toBe('true');
    expect(await focusInPanel()).toBe(true);
    await page.locator('[data-laurel-history]').waitFor();
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      expect(await focusInPanel(), `focus left the panel after ${i + 1} Tab`).toBe(true);
    }
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Shift+Tab');
      expect(await focusInPanel(), `focus left the panel after ${i + 1} Shift+Tab`).toBe(true);
    }
    await page.screenshot({
      path: join(ARTIFACTS, 'storefront-preview-launcher.png'),
      fullPage: false,
    });

    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    expect(await launcher.getAttribute('aria-expanded')).toBe('false');
    expect(await focusedIs('button[data-laurel-launcher]')).toBe(true);
  });

  it("the panel's balance is fresh from the app proxy, not the page's Liquid", async () => {
    const watched = await watchedPage();
    const { page } = watched;
    const [, second] = await members();
    const { customer, ledger } = await openMemberPage(watched, second!.externalId);
    // A ledger change after the page was rendered: only a fresh read can know it.
    const bonus = 7;
    await adjust(customer, bonus);
    const now = await sumOfEntries(db.db, shop.id, customer.id);
    expect(now.balance).toBe(ledger.balance + bonus);

    const summary = page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/apps/loyalty' && r.request().method() === 'GET',
    );
    await page.locator('button[data-laurel-launcher]').click();
    const answer = await summary;
    expect(answer.headers()['cache-control']).toBe('private, no-store');
    expect(await answer.json()).toMatchObject({
      loggedIn: true,
      customerId: second!.externalId,
      balance: now.balance,
    });
    const panelBalance = page.locator('[data-laurel-panel-balance]');
    await expect.poll(() => panelBalance.innerText()).toContain(en.format(now.balance));
  });

  it('history: entries match the ledger newest first, "More" loads the next page', async () => {
    const watched = await watchedPage();
    const { page, requests } = watched;
    // The member with the most entries; after the page is rendered (so the balance block has
    // caught up with the ledger), topped up so there are at least three pages of 10.
    const all = await members();
    const counts = await Promise.all(
      all.map(async (m) => ({ m, n: (await entriesFor(db.db, shop.id, m.id)).length })),
    );
    const { m: member, n } = counts.sort((a, b) => b.n - a.n)[0]!;
    await openMemberPage(watched, member.externalId);
    for (let i = n; i < 25; i++) {
      await adjust(member, i + 1, new Date(Date.now() - i * 60_000));
    }
    // Newest first: business time, then posting order.
    const ledger = (await entriesFor(db.db, shop.id, member.id)).reverse();

    await page.locator('button[data-laurel-launcher]').click();
    const history = page.locator('[data-laurel-history]');
    const items = history.locator('li');
    await items.first().waitFor();
    const firstPage = await items.count();
    expect(firstPage).toBeGreaterThan(0);
    expect(firstPage).toBeLessThan(ledger.length);

    const more = page.locator('button[data-laurel-history-more]');
    let pages = 1;
    while (await more.isVisible()) {
      const before = await items.count();
      await more.click();
      await expect.poll(() => items.count()).toBeGreaterThan(before);
      pages++;
      expect(pages, 'More never ran out').toBeLessThan(20);
    }
    expect(pages).toBeGreaterThanOrEqual(2);
    const shown = await items.evaluateAll((elements) =>
      elements.map((e) => ({
        id: e.getAttribute('data-laurel-entry'),
        text: (e as HTMLElement).innerText,
      })),
    );
    // Every entry of the ledger, once, newest first, each with its signed points.
    expect(shown.map((e) => e.id)).toEqual(ledger.map((e) => String(e.id)));
    ledger.forEach((entry, i) => {
      const signed = `${entry.points > 0 ? '+' : ''}${en.format(entry.points)}`;
      expect(shown[i]!.text, `entry ${entry.id}`).toContain(signed);
    });
    const historyCalls = appProxyRequests(requests).filter((r) =>
      new URL(r.url()).pathname.endsWith('/apps/loyalty/history'),
    );
    expect(historyCalls).toHaveLength(pages);
    // Each page after the first asks for the cursor the previous answer gave.
    for (const call of historyCalls.slice(1)) {
      expect(new URL(call.url()).searchParams.get('cursor')).toBeTruthy();
    }
  });

  it('French: the blocks and the launcher speak French, the proxy is reached under /fr', async () => {
    // An English browser on the French storefront: the storefront's language wins everywhere.
    const watched = await watchedPage({ locale: 'en-US,en;q=0.9' });
    const { page, requests } = watched;
    const fr = JSON.parse(readFileSync(join(EXTENSION, 'locales', 'fr.json'), 'utf8')) as {
      laurel: {
        number: { group_separator: string };
        balance: { heading: string; balance_label: string };
        launcher: { button: string; title: string; activity: string };
      };
    };
    const [member] = await members();
    const { ledger } = await openMemberPage(watched, member!.externalId, { locale: 'fr' });
    expect(await page.locator('html').getAttribute('lang')).toBe('fr');
    const block = page.locator('[data-laurel-balance-block]');
    expect(await block.locator('h2').innerText()).toBe(fr.laurel.balance.heading);
    expect(await block.innerText()).toContain(fr.laurel.balance.balance_label);
    // Digits grouped as French groups them.
    const grouped = en.format(ledger.balance).replaceAll(',', fr.laurel.number.group_separator);
    expect(await block.locator('[data-laurel-balance]').innerText()).toBe(grouped);

    const launcher = page.locator('button[data-laurel-launcher]');
    expect((await launcher.innerText()).trim()).toBe(fr.laurel.launcher.button);
    await launcher.click();
    await page.locator('[data-laurel-history] li').first().waitFor();
    const panel = page.locator('[data-laurel-panel]');
    expect(await panel.locator('h2').innerText()).toBe(fr.laurel.launcher.title);
    // The explanations too (loyalty/explain.ts words them in the locale the script asks for).
    const explained = (await page.locator('[data-laurel-history] li').allInnerTexts()).join('\n');
    expect(explained).toMatch(
      /Commande|Achat|Remboursement|Bonus de bienvenue|Ajustement|Ami parrainé/,
    );
    expect(explained).not.toMatch(/\b(Order|Purchase|Refund|Welcome bonus)\b/);
    expect(await panel.innerText()).toContain(fr.laurel.launcher.activity);
    // The panel's balance, fresh from the proxy, grouped the French way too.
    await expect.poll(() => page.locator('[data-laurel-panel-balance]').innerText()).toBe(grouped);
    // The embed's root is /fr: every proxy call went through the translated storefront's URL.
    const proxied = appProxyRequests(requests).map((r) => new URL(r.url()).pathname);
    expect(proxied.length).toBeGreaterThanOrEqual(2);
    for (const path of proxied)
      expect(path).toMatch(/^\/fr\/apps\/loyalty(\/history|\/rewards|\/redemptions)?$/);
    await page.screenshot({ path: join(ARTIFACTS, 'storefront-preview-fr.png'), fullPage: false });
  });

  it('no layout shift on a slow connection either (the page, its CSS and script in pieces)', async () => {
    const watched = await watchedPage();
    const { page } = watched;
    const [member] = await members();
    // About 3G: the HTML arrives in several packets and is painted as it comes.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 150,
      downloadThroughput: (400 * 1024) / 8,
      uploadThroughput: (400 * 1024) / 8,
    });
    await page.goto(pageUrl({ customer: member!.externalId }), { waitUntil: 'load' });
    await page.locator('button[data-laurel-launcher]').click();
    await page.locator('[data-laurel-history] li').first().waitFor();
    await cdp.detach();
  });

  /** Opens a member's preview through a proxy that cuts the page inside `marker`'s tag. */
  async function openCut(marker: string) {
    const watched = await watchedPage();
    const { page } = watched;
    const [member] = await members();
    const cut = await cutProxy(marker);
    try {
      await page.goto(`${cut.origin}/dev/preview?customer=${member!.externalId}`);
      expect(cut.cuts()).toBe(1);
      await page.locator('button[data-laurel-launcher]').click();
      await page.locator('[data-laurel-history] li').first().waitFor();
      // The panel's and the Rewards block's catalog requests go through the proxy too: every
      // request the page made is answered before it closes.
      for (let seen = -1; seen !== watched.requests.length;) {
        seen = watched.requests.length;
        await Promise.all(watched.requests.map((r) => r.response().catch(() => null)));
        await page.waitForTimeout(250);
      }
    } finally {
      await cut.close();
    }
    return watched;
  }

  it.each([
    ['inside the balance block', 'data-laurel-balance-block'],
    ['inside the product block', 'data-laurel-earn'],
    // The launcher's button, painted before its label, would grow leftwards: it stays hidden
    // until laurel.js has wired it.
    ["inside the launcher's button", 'data-laurel-launcher'],
    ["inside the launcher's panel", 'data-laurel-panel-member'],
  ])('no layout shift when the page arrives cut %s, painted before the rest', async (_, marker) => {
    await openCut(marker); // afterEach measures the shifts
  });

  it('loads nothing from outside the dev server, and no favicon', async () => {
    const watched = await watchedPage();
    const { page, requests } = watched;
    await page.goto(pageUrl());
    await page.waitForLoadState('networkidle');
    for (const request of requests) {
      const url = new URL(request.url());
      expect(url.protocol === 'data:' || url.origin === origin, request.url()).toBe(true);
      expect(url.pathname).not.toBe('/favicon.ico');
    }
  });
});

describe('tiers on the storefront preview', () => {
  it('a Gold member sees their tier and what is left to Platinum, from the metafields the sync wrote', async () => {
    // The demo's shop has its own tiers (dev/demo/tiers.ts); the four of tests/helpers/tiers.ts
    // are published over them, and one member is placed in Gold as the evaluation would (their
    // tier row and a tier ledger entry, in one transaction). The demo's own sync worker writes the
    // tier metafields to its Shopify emulator; the preview reads them from there. The demo's own
    // daily run goes first, or it would re-evaluate that member from their real spend.
    await dailyTierRunFinished(db.db, shop.id);
    await seedTierProgram(db.db, shop.id);
    const [, , gold] = await members();
    touched.add(gold!.externalId);
    await db.db.transaction(async (tx) => {
      await setMemberTier(tx, shop.id, gold!.id, 'gold', { metricValue: 482_000 });
      await post(tx, shop.id, {
        customerId: gold!.id,
        idempotencyKey: `tier:${gold!.id}:change:preview-e2e`,
        source: 'tier',
        points: 0,
        occurredAt: new Date(),
        programVersion: null,
        inputs: { rule: 'tier-change', from: null, to: 'gold' },
      });
    });
    // The member may already have been Gold under the demo's own tiers, with another progress in
    // Shopify: the preview is read once the sync has written what the entry above marked.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [sync] = await db.db
        .select()
        .from(customerMetafieldSync)
        .where(eq(customerMetafieldSync.customerId, gold!.id));
      if (sync && sync.syncedRevision >= sync.revision) break;
      if (Date.now() > deadline) throw new Error('the tier never reached the preview');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const watched = await watchedPage();
    const { page } = watched;
    await page.goto(pageUrl({ customer: gold!.externalId }));
    const block = page.locator('[data-laurel-balance-block]');
    const tier = block.locator('[data-laurel-tier]');
    expect(await tier.getAttribute('data-laurel-tier')).toBe('gold');
    expect(await tier.innerText()).toBe('Gold');
    expect(await block.locator('[data-laurel-tier-progress]').innerText()).toBe(
      '$180 more to Platinum',
    );
    // Rendered with the page: no request for it, and (afterEach) no layout shift.
    expect(watched.problems).toEqual([]);
    await page.screenshot({ path: join(ROOT, 'docs', 'images', 'storefront-preview-tier.png') });

    // Another member shows the tier the demo's replay placed them in (every member has one).
    const [richest] = await members();
    const held = await getCustomerTier(db.db, shop.id, richest!.id);
    expect(held?.tierKey).toBeTruthy();
    await openMemberPage(watched, richest!.externalId);
    expect(
      await page
        .locator('[data-laurel-balance-block] [data-laurel-tier]')
        .getAttribute('data-laurel-tier'),
    ).toBe(held!.tierKey);
  });
});

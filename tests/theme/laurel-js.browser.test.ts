/**
 * assets/laurel.js in real Chromium, on a page made of our rendered blocks, with the app proxy
 * answered by the test: variant changes, the launcher's dialog behaviour (focus, trap, Escape,
 * paging), errors, reduced motion, and nothing fetched before the shopper opens the panel.
 * The storefront preview's own tests (tests/e2e) drive the same script against the real proxy.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createStorefrontEngine,
  DEFAULT_EXTENSION_DIR,
  type BlockName,
} from '../../dev/storefront/liquid-engine';
import { member, product, storefront, variant, type Scenario } from './helpers';

const ORIGIN = 'http://shop.test';
const engine = createStorefrontEngine();
const shoe = product([
  variant(41, 12_000),
  variant(42, 3_000),
  variant(43, 5_100),
  variant(44, 1_000_000),
]);

interface ProxyAnswer {
  status?: number;
  body: unknown;
}
type Proxy = (url: URL) => ProxyAnswer | Promise<ProxyAnswer>;

const entry = (n: number) => ({
  id: `e${n}`,
  occurredAt: `2026-03-${String(10 + n).padStart(2, '0')}T12:00:00Z`,
  points: n % 3 === 0 ? -40 : 90,
  source: n % 3 === 0 ? 'refund' : 'order',
  explanation: `Order #${1000 + n}, $120.00 → 90 points`,
});

const summary = {
  loggedIn: true,
  customerId: '501',
  enrolled: true,
  balance: 1250,
  lifetimeEarned: 2000,
  tier: null,
  referralCode: null,
};

/**
 * A member with seven history entries over two pages of five, and no rewards to redeem (the
 * rewards slot is tested in laurel-rewards.browser.test.ts).
 */
const memberProxy: Proxy = (url) => {
  if (url.pathname === '/apps/loyalty') return { body: summary };
  if (url.pathname === '/apps/loyalty/rewards')
    return { body: { rewards: [], balance: summary.balance, currency: 'USD', loggedIn: true } };
  if (url.pathname === '/apps/loyalty/redemptions') return { body: { redemptions: [] } };
  if (url.pathname === '/apps/loyalty/history') {
    const cursor = url.searchParams.get('cursor');
    if (!cursor)
      return { body: { loggedIn: true, entries: [1, 2, 3, 4, 5].map(entry), nextCursor: 'c2' } };
    if (cursor === 'c2')
      return { body: { loggedIn: true, entries: [6, 7].map(entry), nextCursor: null } };
    return { status: 400, body: { error: { code: 'BAD_CURSOR', message: 'bad cursor' } } };
  }
  return { status: 404, body: { error: { code: 'NOT_FOUND', message: 'no route' } } };
};

let browser: Browser;
let context: BrowserContext | undefined;

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  await context?.close();
  context = undefined;
});

interface Storefront {
  page: Page;
  /** Proxy requests, path and query. */
  requests: string[];
  consoleErrors: string[];
}

async function visit(
  scenario: Scenario,
  options: {
    search?: string;
    proxy?: Proxy;
    launcher?: Record<string, unknown>;
    reducedMotion?: boolean;
  } = {},
): Promise<Storefront> {
  const objects = storefront({ product: shoe, ...scenario });
  const blocks: BlockName[] = ['points-balance', 'product-points', 'launcher'];
  const [balance, productPoints, launcher] = await Promise.all([
    engine.renderBlock('points-balance', objects),
    engine.renderBlock('product-points', objects),
    engine.renderBlock('launcher', objects, { history_page_size: 5, ...options.launcher }),
  ]);
  const options_ = shoe.variants.map((v) => `<option value="${v.id}">${v.title}</option>`).join('');
  const html = `<!doctype html><html lang="${objects.request?.locale.iso_code ?? 'en'}"><head>
<meta charset="utf-8"><title>Trail shoe</title><link rel="icon" href="data:,">
${engine.headTags(blocks)}</head>
<body style="font-family: sans-serif; margin: 0">
<main style="padding: 2rem; max-width: 40rem">
<h1>Trail shoe</h1>
<form action="/cart/add" method="post"><select name="id">${options_}</select>
<button type="button">Add to cart</button></form>
${productPoints}
${balance}
<p>${'A shoe for long days on rough trails. '.repeat(30)}</p>
</main>
${launcher}
</body></html>`;

  context = await browser.newContext({
    reducedMotion: options.reducedMotion ? 'reduce' : 'no-preference',
  });
  const page = await context.newPage();
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname.startsWith('/dev/preview/assets/')) {
      const file = path.basename(url.pathname);
      await route.fulfill({
        body: readFileSync(path.join(DEFAULT_EXTENSION_DIR, 'assets', file)),
        contentType: file.endsWith('.js') ? 'text/javascript' : 'text/css',
      });
    } else if (url.pathname.startsWith('/apps/loyalty')) {
      requests.push(url.pathname + url.search);
      expect(route.request().headers().accept).toBe('application/json');
      const answer = await (options.proxy ?? memberProxy)(url);
      await route.fulfill({
        status: answer.status ?? 200,
        contentType: 'application/json',
        headers: { 'Cache-Control': 'private, no-store' },
        body: JSON.stringify(answer.body),
      });
    } else if (url.pathname === '/products/trail-shoe') {
      await route.fulfill({ body: html, contentType: 'text/html; charset=utf-8' });
    } else {
      await route.fulfill({ status: 404, body: '' });
    }
  });
  await page.goto(`${ORIGIN}/products/trail-shoe${options.search ?? ''}`);
  await page.waitForFunction(() => 'Laurel' in window);
  return { page, requests, consoleErrors };
}

const attribute = (page: Page, selector: string, name: string) =>
  page.locator(selector).getAttribute(name);
const activeHook = (page: Page) =>
  page.evaluate(() => {
    const active = document.activeElement;
    if (!active) return null;
    const hook = [...active.attributes].find((a) => a.name.startsWith('data-laurel'));
    return hook?.name ?? active.tagName.toLowerCase();
  });
const focusInPanel = (page: Page) =>
  page.evaluate(() =>
    document.querySelector('[data-laurel-panel]')!.contains(document.activeElement),
  );

async function openPanel(page: Page) {
  await page.locator('[data-laurel-launcher]').click();
  await page.waitForFunction(() => {
    const state = document.querySelector('[data-laurel-panel]')?.getAttribute('data-laurel-state');
    return state !== 'loading' && state !== 'idle';
  });
}

describe('product block: "Earn N points" follows the selected variant', () => {
  it('recomputes on a change of the product form, with the zero state and digit grouping', async () => {
    const { page, requests, consoleErrors } = await visit({});
    const block = '[data-laurel-product-points]';
    expect(await attribute(page, block, 'data-points')).toBe('90');

    await page.selectOption('select[name="id"]', '42');
    expect(await attribute(page, block, 'data-points')).toBe('0');
    expect(await page.locator('[data-laurel-earn]').isHidden()).toBe(true);
    expect(await page.locator('[data-laurel-earn-zero]').innerText()).toBe(
      'Orders of $51 or more earn points.',
    );

    await page.selectOption('select[name="id"]', '43');
    expect(await attribute(page, block, 'data-points')).toBe('1');
    expect(await page.locator('[data-laurel-earn]').innerText()).toBe(
      'Earn 1 point with this item',
    );
    expect(await page.locator('[data-laurel-earn-zero]').isHidden()).toBe(true);

    await page.selectOption('select[name="id"]', '44');
    expect(await attribute(page, block, 'data-points')).toBe('19850');
    expect(await page.locator('[data-laurel-earn]').innerText()).toBe(
      'Earn 19,850 points with this item',
    );

    expect(requests).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('reads ?variant= on load, and speaks French on a French page', async () => {
    const { page } = await visit({ locale: 'fr' }, { search: '?variant=44' });
    expect(await attribute(page, '[data-laurel-product-points]', 'data-points')).toBe('19850');
    expect(await page.locator('[data-laurel-earn]').innerText()).toBe(
      'Gagnez 19\u202f850 points avec cet article',
    );
    await page.selectOption('select[name="id"]', '43');
    expect(await page.locator('[data-laurel-earn]').innerText()).toBe(
      'Gagnez 1 point avec cet article',
    );
  });

  it("ignores another product's variants and forms that do not add to cart", async () => {
    const { page } = await visit({});
    await page.evaluate(() => {
      const other = document.createElement('select');
      other.name = 'id';
      other.innerHTML =
        '<option value="999">Other</option><option value="42">Not a cart form</option>';
      document.querySelector('main')!.append(other);
      other.value = '42';
      other.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(await attribute(page, '[data-laurel-product-points]', 'data-points')).toBe('90');
  });

  it('hides the block for a variant that earns nothing when the merchant says so', async () => {
    const objects = storefront({ product: shoe });
    const block = await engine.renderBlock('product-points', objects, { show_when_zero: false });
    const { page } = await visit({});
    await page.evaluate((html) => {
      document.querySelector('[data-laurel-product-points]')!.parentElement!.outerHTML = html;
    }, block);
    await page.selectOption('select[name="id"]', '42');
    expect(await page.locator('[data-laurel-product-points]').isHidden()).toBe(true);
    await page.selectOption('select[name="id"]', '41');
    expect(await page.locator('[data-laurel-product-points]').isVisible()).toBe(true);
  });
});

describe('launcher', () => {
  it('fetches nothing until opened, then shows the fresh balance and the first page of activity', async () => {
    const { page, requests, consoleErrors } = await visit({ customer: member(1100, 1900) });
    await page.waitForTimeout(300);
    expect(requests).toEqual([]);
    const button = page.locator('[data-laurel-launcher]');
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await page.locator('[data-laurel-panel]').isHidden()).toBe(true);

    const summaries = page.evaluate(
      () =>
        new Promise((resolve) => {
          document.addEventListener(
            'laurel:summary',
            (event) => resolve((event as CustomEvent).detail),
            {
              once: true,
            },
          );
        }),
    );
    await openPanel(page);
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    expect(await activeHook(page)).toBe('data-laurel-panel');
    expect(await attribute(page, '[data-laurel-panel]', 'data-laurel-state')).toBe('ready');
    expect(requests.sort()).toEqual([
      '/apps/loyalty',
      '/apps/loyalty/history?limit=5&locale=en',
      // the rewards slot's own requests (assets/laurel-rewards.js)
      '/apps/loyalty/redemptions?locale=en',
      '/apps/loyalty/rewards?locale=en',
    ]);

    // the panel shows the proxy's balance, not the metafield's
    const balance = page.locator('[data-laurel-panel-balance]');
    expect(await balance.getAttribute('data-laurel-panel-balance')).toBe('1250');
    expect(await balance.innerText()).toBe('1,250');
    expect(await page.locator('[data-laurel-unit]').innerText()).toBe('points');
    expect(await summaries).toMatchObject({ balance: 1250, loggedIn: true });

    const entries = page.locator('[data-laurel-history] li');
    expect(await entries.count()).toBe(5);
    expect(await entries.first().innerText()).toMatch(
      /^Mar 11, 2026\s+Order #1001, \$120\.00 → 90 points\s+\+90 points$/,
    );
    expect(await entries.nth(2).locator('strong').innerText()).toBe('-40 points');
    expect(await page.locator('[data-laurel-history-more]').isVisible()).toBe(true);
    expect(await page.locator('[data-laurel-status]').innerText()).toBe('');
    expect(consoleErrors).toEqual([]);
  });

  it('pages the activity with "Show more", moving focus to the first new entry', async () => {
    const { page, requests } = await visit({ customer: member(1, 1) });
    await openPanel(page);
    await page.locator('[data-laurel-history-more]').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-laurel-history] li').length === 7,
    );
    expect(requests).toContain('/apps/loyalty/history?limit=5&locale=en&cursor=c2');
    expect(
      await page.evaluate(() => document.activeElement?.getAttribute('data-laurel-entry')),
    ).toBe('e6');
    expect(await page.locator('[data-laurel-history-more]').isHidden()).toBe(true);
  });

  it('is a modal dialog for the keyboard: focus trapped, Escape closes and returns to the button', async () => {
    const { page } = await visit({ customer: member(1, 1) });
    await page.locator('[data-laurel-launcher]').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () =>
        document.querySelector('[data-laurel-panel]')?.getAttribute('data-laurel-state') ===
        'ready',
    );
    expect(await activeHook(page)).toBe('data-laurel-panel');

    const visited: (string | null)[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      expect(await focusInPanel(page)).toBe(true);
      visited.push(await activeHook(page));
    }
    // close, then "Show more" (the last focusable), then round again
    expect(visited.slice(0, 3)).toEqual([
      'data-laurel-close',
      'data-laurel-history-more',
      'data-laurel-close',
    ]);

    await page.locator('[data-laurel-close]').focus();
    await page.keyboard.press('Shift+Tab');
    expect(await activeHook(page)).toBe('data-laurel-history-more');
    await page.keyboard.press('Tab');
    expect(await activeHook(page)).toBe('data-laurel-close');

    // a click outside cannot take focus out either
    await page.evaluate(() => (document.querySelector('select[name="id"]') as HTMLElement).focus());
    expect(await focusInPanel(page)).toBe(true);

    await page.keyboard.press('Escape');
    expect(await page.locator('[data-laurel-panel]').isHidden()).toBe(true);
    expect(await attribute(page, '[data-laurel-launcher]', 'aria-expanded')).toBe('false');
    expect(await activeHook(page)).toBe('data-laurel-launcher');
  });

  it('closes with its close button and the backdrop', async () => {
    const { page } = await visit({ customer: member(1, 1) });
    await openPanel(page);
    await page.locator('[data-laurel-close]').click();
    expect(await page.locator('[data-laurel-panel]').isHidden()).toBe(true);
    await openPanel(page);
    await page.mouse.click(20, 300);
    expect(await page.locator('[data-laurel-panel]').isHidden()).toBe(true);
    expect(await activeHook(page)).toBe('data-laurel-launcher');
  });

  it("shows the proxy's errors politely, and tries again", async () => {
    let down = true;
    const flaky: Proxy = (url) =>
      down
        ? { status: 503, body: { error: { code: 'UNAVAILABLE', message: 'Database is starting' } } }
        : memberProxy(url);
    const { page, consoleErrors } = await visit({ customer: member(1, 1) }, { proxy: flaky });
    await openPanel(page);
    const status = page.locator('[data-laurel-status]');
    expect(await attribute(page, '[data-laurel-panel]', 'data-laurel-state')).toBe('error');
    expect(await status.innerText()).toBe('We couldn’t load your rewards. Please try again.');
    expect(await status.getAttribute('data-code')).toBe('UNAVAILABLE');
    expect(await status.getAttribute('role')).toBe('status');
    // the browser logs each failed request itself; the script adds nothing
    expect(consoleErrors.every((e) => e.includes('503'))).toBe(true);

    down = false;
    await page.locator('[data-laurel-retry]').click();
    await page.waitForFunction(
      () =>
        document.querySelector('[data-laurel-panel]')?.getAttribute('data-laurel-state') ===
        'ready',
    );
    expect(await status.innerText()).toBe('');
    expect(await page.locator('[data-laurel-retry]').isHidden()).toBe(true);
    expect(await page.locator('[data-laurel-panel-balance]').innerText()).toBe('1,250');
  });

  it('treats an answer that is not JSON as an error too', async () => {
    const { page } = await visit(
      { customer: member(1, 1) },
      { proxy: () => ({ body: undefined }) },
    );
    await openPanel(page);
    expect(await attribute(page, '[data-laurel-panel]', 'data-laurel-state')).toBe('error');
  });

  it('asks a shopper whose session ended to sign in ({"loggedIn":false})', async () => {
    const { page } = await visit(
      { customer: member(1, 1) },
      { proxy: () => ({ body: { loggedIn: false } }) },
    );
    await openPanel(page);
    expect(await attribute(page, '[data-laurel-panel]', 'data-laurel-state')).toBe('signed-out');
    expect(await page.locator('[data-laurel-panel-signed-out]').isVisible()).toBe(true);
    expect(await page.locator('[data-laurel-panel-member]').isHidden()).toBe(true);
    expect(await page.locator('[data-laurel-activity]').isHidden()).toBe(true);
  });

  it('shows a signed-out shopper how to earn and where to sign in, asking the proxy only for the rewards', async () => {
    const { page, requests } = await visit({ locale: 'fr' });
    await openPanel(page);
    // the catalog is for everyone (each reward then says to sign in); the rest is for members
    expect(requests).toEqual(['/apps/loyalty/rewards?locale=fr']);
    const panel = page.locator('[data-laurel-panel]');
    expect(await panel.innerText()).toContain(
      'Connectez-vous pour voir vos points et votre activité.',
    );
    expect(await panel.innerText()).toContain('Gagnez 1 point par $1 entre $50 et $100');
    expect(
      await page.locator('[data-laurel-panel-signed-out] a').first().getAttribute('href'),
    ).toBe('/account/login');
  });

  it('animates only for shoppers who have not asked for reduced motion', async () => {
    const transition = async (reducedMotion: boolean) => {
      const { page } = await visit({}, { reducedMotion });
      return page.evaluate(
        () => getComputedStyle(document.querySelector('[data-laurel-panel]')!).transitionDuration,
      );
    };
    expect(await transition(false)).toBe('0.2s, 0.2s');
    expect(await transition(true)).toBe('0s');
  });

  it('shifts no layout: the page keeps still while it loads, the script runs and the panel fills', async () => {
    // the proxy answers after the 500 ms that follow a click, when shifts count again
    const slow: Proxy = async (url) => {
      await new Promise((resolve) => setTimeout(resolve, 700));
      return memberProxy(url);
    };
    const { page } = await visit({ customer: member(1250, 2000) }, { proxy: slow });
    await page.evaluate(() => {
      (window as unknown as { shifts: number }).shifts = 0;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as unknown as {
          value: number;
          hadRecentInput: boolean;
        }[]) {
          if (!entry.hadRecentInput)
            (window as unknown as { shifts: number }).shifts += entry.value;
        }
      }).observe({ type: 'layout-shift', buffered: true });
    });
    await openPanel(page);
    expect(await page.locator('[data-laurel-history] li').count()).toBe(5);
    await page.locator('[data-laurel-history-more]').click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-laurel-history] li').length === 7,
    );
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { shifts: number }).shifts)).toBe(0);
  });
});

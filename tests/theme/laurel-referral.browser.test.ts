/**
 * assets/laurel-referral.js in real Chromium, on a page of our rendered blocks (the Refer a friend
 * block and the launcher): Copy (Clipboard API, and the selection fallback when the clipboard is
 * refused), Share (the native share sheet where the browser has one, the email link elsewhere),
 * the welcome note a share link's landing sends a friend to, and no layout shift through any of
 * it. Nothing is fetched. Screenshots go to tests/artifacts/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStorefrontEngine, DEFAULT_EXTENSION_DIR } from '../../dev/storefront/liquid-engine';
import { member, SHOP_URL, storefront, type Scenario } from './helpers';

// https: the Clipboard API exists only in a secure context.
const ORIGIN = 'https://shop.test';
const ARTIFACTS = path.resolve(import.meta.dirname, '../artifacts');
const CODE = 'FRIEND-K7M2Q9XH';
const LINK = `${SHOP_URL}/apps/loyalty/r/${CODE}`;
const engine = createStorefrontEngine();

const referral = {
  friendDiscount: { percentage: 10 },
  friendMinimumOrderMinor: null,
  referrerPoints: 500,
  minimumOrderMinor: 0,
};
const sam: Scenario = {
  referral,
  customer: {
    ...member(1250, 2000),
    referral_code: { value: CODE, type: 'single_line_text_field' },
  },
};

let browser: Browser;
let context: BrowserContext | undefined;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
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

interface Visit {
  page: Page;
  /** Every request after the page and its assets. */
  requests: string[];
  problems: string[];
}

async function visit(
  scenario: Scenario,
  options: { search?: string; clipboard?: boolean; share?: boolean } = {},
): Promise<Visit> {
  const objects = storefront(scenario);
  const [block, launcher] = await Promise.all([
    engine.renderBlock('referral', objects),
    engine.renderBlock('launcher', objects),
  ]);
  const html = `<!doctype html><html lang="en"><head>
<meta charset="utf-8"><title>Home</title><link rel="icon" href="data:,">
${engine.headTags(['referral', 'launcher'])}</head>
<body style="font-family: sans-serif; margin: 0">
<main style="padding: 2rem; max-width: 40rem">
<h1>Laurel Demo</h1>
${block}
<p>${'Loose-leaf teas from small gardens. '.repeat(30)}</p>
</main>
${launcher}
</body></html>`;
  context = await browser.newContext({
    permissions: options.clipboard === false ? [] : ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.addInitScript(
    ({ share, clipboard }) => {
      const w = window as unknown as Record<string, unknown>;
      w.__shifts = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) (w.__shifts as unknown[]).push(entry.toJSON());
      }).observe({ type: 'layout-shift', buffered: true });
      // Chromium on Linux has no share sheet: the test gives it one, or makes sure there is none.
      if (share) {
        w.__shared = [];
        Object.defineProperty(Navigator.prototype, 'share', {
          configurable: true,
          value: (data: unknown) => {
            (w.__shared as unknown[]).push(data);
            return Promise.resolve();
          },
        });
      } else {
        delete (Navigator.prototype as unknown as Record<string, unknown>).share;
      }
      if (!clipboard) {
        Object.defineProperty(Navigator.prototype, 'clipboard', {
          configurable: true,
          get: () => ({ writeText: () => Promise.reject(new Error('denied')) }),
        });
      }
    },
    { share: options.share ?? false, clipboard: options.clipboard ?? true },
  );
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname.startsWith('/dev/preview/assets/')) {
      const file = path.basename(url.pathname);
      await route.fulfill({
        body: readFileSync(path.join(DEFAULT_EXTENSION_DIR, 'assets', file)),
        contentType: file.endsWith('.js') ? 'text/javascript' : 'text/css',
      });
    } else if (url.pathname === '/') {
      await route.fulfill({ body: html, contentType: 'text/html; charset=utf-8' });
    } else {
      requests.push(url.pathname + url.search);
      await route.fulfill({ status: 404, body: '' });
    }
  });
  await page.goto(`${ORIGIN}/${options.search ?? ''}`);
  await page.waitForFunction(() => 'LaurelReferral' in window && 'Laurel' in window);
  return { page, requests, problems };
}

const shifts = (page: Page) =>
  page.evaluate(() => (window as unknown as { __shifts: { value: number }[] }).__shifts);

const block = '[data-laurel-referral-block] ';

describe('the Refer a friend block in Chromium', () => {
  it('Copy puts the link on the clipboard and says so, with nothing moving', async () => {
    const { page, requests, problems } = await visit(sam);
    await page.locator(`${block}[data-laurel-referral-copy]`).click();
    await expect
      .poll(() => page.locator(`${block}[data-laurel-referral-status]`).innerText())
      .toBe('Link copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(LINK);
    await page.screenshot({ path: path.join(ARTIFACTS, 'storefront-referral-block.png') });
    expect(await shifts(page)).toEqual([]);
    expect(requests).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('without the Clipboard API: the link is selected and copied the old way', async () => {
    const { page, problems } = await visit(sam, { clipboard: false });
    await page.locator(`${block}[data-laurel-referral-copy]`).click();
    const status = await page.locator(`${block}[data-laurel-referral-status]`).innerText();
    expect(['Link copied.', 'Link selected: copy it with your keyboard.']).toContain(status);
    const selected = await page.evaluate(() => {
      const input = document.querySelector<HTMLInputElement>(
        '[data-laurel-referral-block] [data-laurel-referral-url]',
      )!;
      return input.value.slice(input.selectionStart!, input.selectionEnd!);
    });
    expect(selected).toBe(LINK);
    expect(problems).toEqual([]);
  });

  it('Share opens the native share sheet with the message and link where the browser has one', async () => {
    const { page, problems } = await visit(sam, { share: true });
    await page.locator(`${block}[data-laurel-referral-share]`).click();
    expect(
      await page.evaluate(() => (window as unknown as { __shared: unknown[] }).__shared),
    ).toEqual([
      {
        title: 'A welcome discount for you',
        text: 'Here is a discount on your first order:',
        url: LINK,
      },
    ]);
    expect(page.url()).toBe(`${ORIGIN}/`);
    expect(problems).toEqual([]);
  });

  it('without a share sheet, Share is an email with the link, untouched by the script', async () => {
    const { page } = await visit(sam);
    const prevented = await page.evaluate(() => {
      const link = document.querySelector<HTMLAnchorElement>(
        '[data-laurel-referral-block] [data-laurel-referral-share]',
      )!;
      let defaultPrevented: boolean | undefined;
      link.addEventListener('click', (event) => {
        defaultPrevented = event.defaultPrevented;
        event.preventDefault(); // the test's own: no mail client here
      });
      link.click();
      return { defaultPrevented, href: link.href };
    });
    expect(prevented.defaultPrevented).toBe(false);
    expect(prevented.href).toBe(
      `mailto:?subject=A%20welcome%20discount%20for%20you&body=${encodeURIComponent(
        `Here is a discount on your first order: ${LINK}`,
      )}`,
    );
  });
});

describe("a friend's welcome", () => {
  it('?laurel_referral=1: the note shows over the page, then leaves the address and closes', async () => {
    const { page, problems } = await visit({ referral }, { search: '?laurel_referral=1&x=2#top' });
    const note = page.locator('[data-laurel-welcome]');
    await expect.poll(() => note.isVisible()).toBe(true);
    expect(await note.innerText()).toBe(
      'Your friend’s welcome discount is in your cart — it applies at checkout.',
    );
    // Said once: the parameter is gone from the address, the rest kept.
    expect(page.url()).toBe(`${ORIGIN}/?x=2#top`);
    expect(await note.evaluate((el) => getComputedStyle(el).position)).toBe('fixed');
    await page.screenshot({ path: path.join(ARTIFACTS, 'storefront-referral-welcome.png') });
    await page.locator('[data-laurel-welcome-close]').click();
    expect(await note.isHidden()).toBe(true);
    expect(await shifts(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('without the parameter, or with another value, nothing shows', async () => {
    for (const search of ['', '?laurel_referral=0']) {
      const { page } = await visit({ referral }, { search });
      expect(await page.locator('[data-laurel-welcome]').isHidden()).toBe(true);
      await context?.close();
      context = undefined;
    }
  });
});

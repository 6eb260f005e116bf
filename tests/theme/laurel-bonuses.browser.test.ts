/**
 * assets/laurel-bonuses.js in real Chromium, on a page of our rendered Birthday and Social follow
 * blocks: the birthday form posts month and day as JSON to /apps/loyalty/birthday and says what
 * came of it (points now, saved, or the server's refusal); a follow button opens the profile in a
 * new tab and claims at /apps/loyalty/social-follow, saying the points, or to wait on a 429. The
 * proxy is stood in for here (its answers are the contract in docs/storefront-api.md, tested
 * against the real routes in tests/routes/proxy-bonuses.test.ts). Screenshot: tests/artifacts/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStorefrontEngine, DEFAULT_EXTENSION_DIR } from '../../dev/storefront/liquid-engine';
import { member, storefront } from './helpers';

const ORIGIN = 'https://shop.test';
const ARTIFACTS = path.resolve(import.meta.dirname, '../artifacts');
const engine = createStorefrontEngine();

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

type Answer = { status: number; body: unknown };

async function visit(answers: Record<string, Answer[]>) {
  const objects = storefront({ customer: member(120, 300) });
  const [birthday, social] = await Promise.all([
    engine.renderBlock('birthday', objects, { alignment: 'left' }),
    engine.renderBlock('social-follow', objects, {
      alignment: 'left',
      instagram: 'https://instagram.example/laurel',
    }),
  ]);
  const html = `<!doctype html><html lang="en"><head>
<meta charset="utf-8"><title>Home</title><link rel="icon" href="data:,">
${engine.headTags(['birthday', 'social-follow'])}</head>
<body style="font-family: sans-serif; margin: 0"><main style="padding: 2rem; max-width: 40rem">
${birthday}${social}</main></body></html>`;
  context = await browser.newContext();
  const page = await context.newPage();
  const posts: { path: string; type: string | null; body: unknown }[] = [];
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await context.route('https://instagram.example/**', (route) =>
    route.fulfill({ body: '<title>Instagram</title>', contentType: 'text/html' }),
  );
  await page.route(`${ORIGIN}/**`, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.pathname.startsWith('/dev/preview/assets/')) {
      const file = path.basename(url.pathname);
      await route.fulfill({
        body: readFileSync(path.join(DEFAULT_EXTENSION_DIR, 'assets', file)),
        contentType: file.endsWith('.js') ? 'text/javascript' : 'text/css',
      });
    } else if (url.pathname === '/') {
      await route.fulfill({ body: html, contentType: 'text/html; charset=utf-8' });
    } else {
      posts.push({
        path: url.pathname,
        type: request.headers()['content-type'] ?? null,
        body: request.postDataJSON() as unknown,
      });
      const answer = answers[url.pathname]?.shift() ?? { status: 500, body: {} };
      await route.fulfill({
        status: answer.status,
        body: JSON.stringify(answer.body),
        contentType: 'application/json',
      });
    }
  });
  await page.goto(`${ORIGIN}/`);
  await page.waitForFunction(() => 'LaurelBonuses' in window);
  return { page, posts, problems };
}

const status = (page: Page, kind: string) =>
  page.locator(`[data-laurel-bonus="${kind}"] [data-laurel-bonus-status]`).innerText();

describe('the bonus blocks in Chromium', () => {
  it('the birthday form posts month and day and says what came of it', async () => {
    const { page, posts, problems } = await visit({
      '/apps/loyalty/birthday': [
        {
          status: 200,
          body: { birthday: { month: 8, day: 14 }, status: 'saved', pointsAwarded: 200 },
        },
        {
          status: 409,
          body: {
            error: {
              code: 'CONFLICT',
              message: 'your birthday was set recently; it can be changed from 2027-08-14',
            },
          },
        },
      ],
    });
    await page.getByLabel('Month').selectOption({ label: 'August' });
    await page.getByLabel('Day').selectOption('14');
    await page.getByRole('button', { name: 'Save my birthday' }).click();
    await expect
      .poll(() => status(page, 'birthday'))
      .toBe('Happy birthday! 200 points were added.');
    expect(posts).toEqual([
      { path: '/apps/loyalty/birthday', type: 'application/json', body: { month: '8', day: '14' } },
    ]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'storefront-bonus-blocks.png') });
    await page.getByLabel('Day').selectOption('15');
    await page.getByRole('button', { name: 'Save my birthday' }).click();
    await expect
      .poll(() => status(page, 'birthday'))
      .toBe('your birthday was set recently; it can be changed from 2027-08-14');
    expect(problems).toEqual([]);
  });

  it('a follow opens the profile in a new tab and claims; a 429 says to wait', async () => {
    const { page, posts, problems } = await visit({
      '/apps/loyalty/social-follow': [
        { status: 200, body: { network: 'instagram', status: 'awarded', pointsAwarded: 25 } },
        { status: 429, body: { error: { code: 'RATE_LIMITED', message: 'too many claims' } } },
      ],
    });
    const follow = page.getByRole('link', { name: 'Follow us on Instagram' });
    const [tab] = await Promise.all([page.context().waitForEvent('page'), follow.click()]);
    await tab.waitForLoadState();
    expect(tab.url()).toBe('https://instagram.example/laurel');
    await expect
      .poll(() => status(page, 'social-follow'))
      .toBe('Thanks for following! 25 points were added.');
    await follow.click();
    await expect
      .poll(() => status(page, 'social-follow'))
      .toBe('Please wait a moment before the next one.');
    expect(posts.map((p) => p.body)).toEqual([{ network: 'instagram' }, { network: 'instagram' }]);
    expect(problems).toEqual([]);
  });
});

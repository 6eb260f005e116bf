/**
 * assets/laurel-rewards.js and assets/laurel-redeem.js in real Chromium, on pages made of our
 * rendered blocks, against a fake app proxy that follows the redemption contract
 * (/work/briefs/redemption-contract.md: GET /apps/loyalty/rewards, POST /apps/loyalty/redeem,
 * GET /apps/loyalty/redemptions, errors as {"error":{"code","message"}}), idempotent on requestId
 * like the real one: the catalog with its reasons, the slider, redeeming from the launcher and from
 * the block, copy and apply, a retry after a lost answer, every refusal, the keyboard, and no
 * layout shift. Screenshots go to tests/artifacts/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createStorefrontEngine,
  DEFAULT_EXTENSION_DIR,
  type BlockName,
} from '../../dev/storefront/liquid-engine';
import { currencyDigits } from '../../loyalty/money';
import { member, storefront, type Scenario } from './helpers';

const ARTIFACTS = path.resolve(import.meta.dirname, '../artifacts');
const engine = createStorefrontEngine();

// ---------------------------------------------------------------------------------------------
// The fake proxy

interface CatalogReward {
  id: string;
  type: string;
  title: string;
  pointsCost?: number;
  slider?: { pointsPerUnit: number; minPoints: number; maxPoints: number; stepPoints: number };
  value: Record<string, unknown>;
  minimumOrderMinor: number | null;
  expiryDays: number | null;
  /** A reason the fake always refuses with (limits and tiers are not what this tests). */
  blocked?: 'LIMIT_REACHED' | 'PERIOD_LIMIT_REACHED' | 'TIER';
}

interface Redemption {
  id: string;
  rewardId: string;
  title: string;
  code: string | null;
  status: string;
  points: number;
  value: Record<string, unknown>;
  expiresAt: string | null;
  usedAt: string | null;
  createdAt: string;
}

interface Answer {
  status: number;
  body: unknown;
}

const REWARDS: CatalogReward[] = [
  {
    id: '1',
    type: 'fixed_amount',
    title: '£5 off your next order',
    pointsCost: 500,
    value: { kind: 'amount_off_order', amountMinor: 500, currency: 'GBP' },
    minimumOrderMinor: 2000,
    expiryDays: 30,
  },
  {
    id: '2',
    type: 'points_slider',
    title: 'Points towards your order',
    slider: { pointsPerUnit: 100, minPoints: 200, maxPoints: 2000, stepPoints: 100 },
    value: { kind: 'amount_off_order', currency: 'GBP' },
    minimumOrderMinor: null,
    expiryDays: 1,
  },
  {
    id: '3',
    type: 'free_shipping',
    title: 'Free shipping',
    pointsCost: 2000,
    value: { kind: 'free_shipping' },
    minimumOrderMinor: null,
    expiryDays: 30,
  },
  {
    id: '4',
    type: 'percentage',
    title: '10% off',
    pointsCost: 300,
    value: { kind: 'percentage_off_order', percentage: 10 },
    minimumOrderMinor: null,
    expiryDays: 30,
    blocked: 'LIMIT_REACHED',
  },
  {
    id: '5',
    type: 'free_product',
    title: 'A pair of trail socks',
    pointsCost: 400,
    value: { kind: 'free_product', variantId: 'gid://shopify/ProductVariant/9' },
    minimumOrderMinor: null,
    expiryDays: 30,
    blocked: 'TIER',
  },
];

const error = (status: number, code: string, message: string): Answer => ({
  status,
  body: { error: { code, message } },
});

/** The app proxy's rewards routes over an in-memory member, idempotent on (customer, requestId). */
class FakeLoyalty {
  balance = 1250;
  loggedIn = true;
  debits = 0;
  readonly posts: Record<string, unknown>[] = [];
  /** The next POST /redeem is answered so instead (after the fake has done its work or not). */
  next: ((fake: FakeLoyalty, body: Record<string, unknown>) => Answer | 'lost') | undefined;
  readonly redemptions: Redemption[] = [
    {
      id: '31',
      rewardId: '1',
      title: '£5 off your next order',
      code: 'LRL-USED-0000-0001',
      status: 'used',
      points: 500,
      value: { kind: 'amount_off_order', amountMinor: 500, currency: 'GBP' },
      expiresAt: '2026-02-28T00:00:00Z',
      usedAt: '2026-02-10T12:00:00Z',
      createdAt: '2026-02-01T12:00:00Z',
    },
    {
      id: '32',
      rewardId: '3',
      title: 'Free shipping',
      code: 'LRL-ISSU-ED00-0002',
      status: 'issued',
      points: 2000,
      value: { kind: 'free_shipping' },
      expiresAt: '2026-04-30T00:00:00Z',
      usedAt: null,
      createdAt: '2026-03-31T12:00:00Z',
    },
  ];
  private readonly byRequest = new Map<string, { key: string; answer: Answer }>();
  private sequence = 40;

  reasonOf(reward: CatalogReward, points: number): string | null {
    if (!this.loggedIn) return 'NOT_LOGGED_IN';
    if (reward.blocked) return reward.blocked;
    return points > this.balance ? 'INSUFFICIENT_BALANCE' : null;
  }

  catalog(): Answer {
    const rewards = REWARDS.map(({ blocked: _blocked, ...reward }) => {
      const full = REWARDS.find((r) => r.id === reward.id)!;
      const reason = this.reasonOf(full, reward.slider?.minPoints ?? reward.pointsCost!);
      return { ...reward, canRedeem: reason === null, ...(reason ? { reason } : {}) };
    });
    return {
      status: 200,
      body: {
        rewards,
        balance: this.loggedIn ? this.balance : null,
        currency: 'GBP',
        loggedIn: this.loggedIn,
      },
    };
  }

  redeem(body: Record<string, unknown>): Answer {
    if (!this.loggedIn) return error(401, 'NOT_LOGGED_IN', 'Sign in to redeem rewards');
    const { rewardId, points, requestId } = body;
    if (typeof requestId !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(requestId))
      return error(400, 'VALIDATION', 'requestId: 8–64 characters of [A-Za-z0-9_-]');
    const key = JSON.stringify([rewardId, points ?? null]);
    const earlier = this.byRequest.get(requestId);
    if (earlier) {
      return earlier.key === key
        ? earlier.answer
        : error(409, 'IDEMPOTENCY_CONFLICT', 'requestId was used for another redemption');
    }
    const reward = REWARDS.find((r) => r.id === rewardId);
    if (!reward) return error(404, 'NOT_FOUND', 'No such reward');
    let cost = reward.pointsCost;
    if (reward.slider) {
      const { minPoints, maxPoints, stepPoints } = reward.slider;
      if (
        !Number.isInteger(points) ||
        (points as number) < minPoints ||
        (points as number) > maxPoints ||
        ((points as number) - minPoints) % stepPoints !== 0
      )
        return error(400, 'VALIDATION', 'points: not a position of the slider');
      cost = points as number;
    } else if (points !== undefined) {
      return error(400, 'VALIDATION', 'points: only for a slider');
    }
    const reason = this.reasonOf(reward, cost!);
    if (reason === 'INSUFFICIENT_BALANCE')
      return error(409, 'INSUFFICIENT_BALANCE', 'Not enough points');
    if (reason === 'TIER') return error(403, 'FORBIDDEN', 'Not for your tier');
    if (reason) return error(409, 'CONFLICT', 'Limit reached');
    this.balance -= cost!;
    this.debits += 1;
    const id = String(++this.sequence);
    const redemption: Redemption = {
      id,
      rewardId: reward.id,
      title: reward.title,
      code: `LRL-7KQ2-M9XP-${id}TV`,
      status: 'issued',
      points: cost!,
      value: reward.slider
        ? { kind: 'amount_off_order', amountMinor: cost, currency: 'GBP' }
        : reward.value,
      expiresAt: '2026-05-01T00:00:00Z',
      usedAt: null,
      createdAt: '2026-04-01T12:00:00Z',
    };
    this.redemptions.unshift(redemption);
    const answer = {
      status: 200,
      body: {
        redemption: {
          id,
          code: redemption.code,
          status: 'issued',
          points: cost,
          expiresAt: redemption.expiresAt,
          value: redemption.value,
        },
        balance: this.balance,
      },
    };
    this.byRequest.set(requestId, { key, answer });
    return answer;
  }

  answer(method: string, url: URL, body: string | null): Answer | 'lost' {
    const route = url.pathname.replace(/^\/apps\/loyalty/, '');
    if (method === 'POST' && route === '/redeem') {
      const parsed = JSON.parse(body ?? 'null') as Record<string, unknown>;
      this.posts.push(parsed);
      const next = this.next;
      this.next = undefined;
      return next ? next(this, parsed) : this.redeem(parsed);
    }
    if (method !== 'GET') return error(405, 'METHOD_NOT_ALLOWED', 'GET only');
    if (route === '') {
      return {
        status: 200,
        body: this.loggedIn
          ? {
              loggedIn: true,
              customerId: '501',
              enrolled: true,
              balance: this.balance,
              lifetimeEarned: 2000,
              tier: null,
              referralCode: null,
            }
          : { loggedIn: false },
      };
    }
    if (route === '/history') {
      return { status: 200, body: { loggedIn: this.loggedIn, entries: [], nextCursor: null } };
    }
    if (route === '/rewards') return this.catalog();
    if (route === '/redemptions') {
      if (!this.loggedIn) return error(401, 'NOT_LOGGED_IN', 'Sign in');
      return { status: 200, body: { redemptions: this.redemptions } };
    }
    return error(404, 'NOT_FOUND', 'no route');
  }
}

// ---------------------------------------------------------------------------------------------
// The page

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
  fake: FakeLoyalty;
  /** Proxy requests: method, path and query. */
  requests: string[];
  consoleErrors: string[];
  origin: string;
}

async function visit(
  scenario: Scenario,
  options: {
    /** Which blocks the page has; default the balance block, the rewards block and the launcher. */
    blocks?: BlockName[];
    fake?: FakeLoyalty;
    /** https: the Clipboard API exists (a secure context); http: it does not. */
    secure?: boolean;
    /** Page height before the rewards block, in px (it loads when scrolled into view). */
    spacer?: number;
    reducedMotion?: boolean;
    delay?: number;
    rewards?: Record<string, unknown>;
    /** routes.root_url: '/fr' on a translated storefront. */
    root?: string;
  } = {},
): Promise<Visit> {
  const origin = options.secure ? 'https://shop.test' : 'http://shop.test';
  const objects = storefront(scenario);
  if (options.root) objects.routes.root_url = options.root;
  const prefix = objects.routes.root_url.replace(/\/$/, '');
  const blocks = options.blocks ?? ['points-balance', 'rewards', 'launcher'];
  const html = await Promise.all(
    blocks.map((name) =>
      engine.renderBlock(name, objects, name === 'rewards' ? options.rewards : undefined),
    ),
  );
  const body = blocks.map((name, i) => (name === 'launcher' ? '' : html[i])).join('\n');
  const embeds = blocks.map((name, i) => (name === 'launcher' ? html[i] : '')).join('');
  const page_ = `<!doctype html><html lang="${objects.request?.locale.iso_code ?? 'en'}"><head>
<meta charset="utf-8"><title>Rewards</title><link rel="icon" href="data:,">
${engine.headTags(blocks)}</head>
<body style="font-family: sans-serif; margin: 0">
<main style="padding: 2rem; max-width: 40rem">
<h1>Rewards</h1>
<div data-spacer style="height: ${options.spacer ?? 0}px"></div>
${body}
<p>${'Every order earns points you can spend here. '.repeat(20)}</p>
</main>
${embeds}
</body></html>`;

  const fake = options.fake ?? new FakeLoyalty();
  context = await browser.newContext({
    reducedMotion: options.reducedMotion ? 'reduce' : 'no-preference',
    viewport: { width: 1000, height: 800 },
  });
  if (options.secure) {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  }
  const page = await context.newPage();
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.route(`${origin}/**`, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.pathname.startsWith('/dev/preview/assets/')) {
      const file = path.basename(url.pathname);
      await route.fulfill({
        body: readFileSync(path.join(DEFAULT_EXTENSION_DIR, 'assets', file)),
        contentType: file.endsWith('.js') ? 'text/javascript' : 'text/css',
      });
    } else if (url.pathname.startsWith(`${prefix}/apps/loyalty`)) {
      requests.push(`${request.method()} ${url.pathname}${url.search}`);
      url.pathname = url.pathname.slice(prefix.length); // as Shopify forwards it
      expect(request.headers().accept).toBe('application/json');
      if (request.method() === 'POST')
        expect(request.headers()['content-type']).toBe('application/json');
      if (options.delay) await new Promise((resolve) => setTimeout(resolve, options.delay));
      const answer = fake.answer(request.method(), url, request.postData());
      if (answer === 'lost') {
        await route.abort('connectionreset');
        return;
      }
      await route.fulfill({
        status: answer.status,
        contentType: 'application/json',
        headers: { 'Cache-Control': 'private, no-store' },
        body: JSON.stringify(answer.body),
      });
    } else if (url.pathname === '/pages/rewards') {
      await route.fulfill({ body: page_, contentType: 'text/html; charset=utf-8' });
    } else {
      await route.fulfill({ status: 404, body: '' });
    }
  });
  await page.goto(`${origin}/pages/rewards`);
  await page.waitForFunction(() => 'LaurelRewards' in window && 'LaurelRedeem' in window);
  return { page, fake, requests, consoleErrors, origin };
}

const BLOCK = '[data-laurel-rewards-block] [data-laurel-rewards]';
const PANEL = '[data-laurel-panel] [data-laurel-rewards]';

/** Waits until the section's catalog is shown (its list no longer busy, rewards in it). */
async function catalogShown(page: Page, section: string) {
  await page.waitForFunction((selector) => {
    const list = document.querySelector(`${selector} [data-laurel-rewards-list]`);
    return list && !list.hasAttribute('aria-busy') && list.querySelector('[data-laurel-reward]');
  }, section);
}

const reward = (page: Page, section: string, id: string) =>
  page.locator(`${section} [data-laurel-reward="${id}"]`);

const activeHook = (page: Page) =>
  page.evaluate(() => {
    const active = document.activeElement;
    const hook = active && [...active.attributes].find((a) => a.name.startsWith('data-laurel'));
    return hook ? hook.name : (active?.tagName.toLowerCase() ?? null);
  });

async function tabTo(page: Page, test: () => boolean, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(test)) return;
  }
  throw new Error('never reached by Tab');
}

const status = (page: Page, section: string) =>
  page.locator(`${section} [data-laurel-rewards-status]`).innerText();

// ---------------------------------------------------------------------------------------------

describe('the catalog', () => {
  it('loads when the block scrolls into view, without the launcher, with each reward’s reason', async () => {
    const { page, requests, consoleErrors } = await visit(
      { customer: member(1250, 2000) },
      { blocks: ['rewards'], spacer: 2000 },
    );
    expect(await page.evaluate(() => 'Laurel' in window)).toBe(false); // no laurel.js here
    await page.waitForTimeout(300);
    expect(requests).toEqual([]);
    expect(await page.locator(`${BLOCK} .laurel-reward--skeleton`).count()).toBe(3);

    await page.locator(BLOCK).scrollIntoViewIfNeeded();
    await catalogShown(page, BLOCK);
    expect(requests.sort()).toEqual([
      'GET /apps/loyalty/redemptions?locale=en',
      'GET /apps/loyalty/rewards?locale=en',
    ]);
    expect(await page.locator(`${BLOCK} [data-laurel-reward]`).count()).toBe(5);

    const five = reward(page, BLOCK, '1');
    expect(await five.locator('strong').innerText()).toBe('£5 off your next order');
    expect(await five.locator('.laurel-note').innerText()).toBe(
      '500 points · £5 off · On orders of £20 or more · Code valid for 30 days',
    );
    const redeem = five.locator('[data-laurel-rewards-redeem]');
    expect(await redeem.innerText()).toBe('Redeem');
    expect(await redeem.getAttribute('aria-disabled')).toBe('false');

    const reasons = async (id: string) => ({
      disabled: await reward(page, BLOCK, id)
        .locator('[data-laurel-rewards-redeem]')
        .getAttribute('aria-disabled'),
      reason: await reward(page, BLOCK, id).locator('.laurel-reason').innerText(),
    });
    expect(await reasons('3')).toEqual({ disabled: 'true', reason: '750 more points needed' });
    expect(await reasons('4')).toEqual({
      disabled: 'true',
      reason: 'You’ve reached the limit for this reward.',
    });
    expect(await reasons('5')).toEqual({ disabled: 'true', reason: 'Not available at your tier.' });
    // the reason is the button's description, for screen readers
    const describedBy = (await reward(page, BLOCK, '3')
      .locator('[data-laurel-rewards-redeem]')
      .getAttribute('aria-describedby'))!.split(' ');
    expect(
      await page.evaluate(
        (ids) => ids.map((id) => document.getElementById(id)?.textContent),
        describedBy,
      ),
    ).toEqual(['Free shipping', '750 more points needed']);
    expect(await reward(page, BLOCK, '4').locator('.laurel-note').innerText()).toBe(
      '300 points · 10% off · Code valid for 30 days',
    );
    // a free product is its title; the note does not repeat it
    expect(await reward(page, BLOCK, '5').locator('.laurel-note').innerText()).toBe(
      '400 points · Code valid for 30 days',
    );

    // the shopper's codes: an issued one with copy and apply, a used one without
    const mine = page.locator(`${BLOCK} [data-laurel-rewards-mine]`);
    expect(await mine.isVisible()).toBe(true);
    const issued = mine.locator('[data-laurel-redemption="32"]');
    expect(await issued.innerText()).toMatch(
      /^Free shipping\s+Valid until Apr 30, 2026\s+LRL-ISSU-ED00-0002/,
    );
    expect(await issued.locator('[data-laurel-rewards-apply]').getAttribute('href')).toBe(
      '/discount/LRL-ISSU-ED00-0002?redirect=/cart',
    );
    const used = mine.locator('[data-laurel-redemption="31"]');
    expect(await used.innerText()).toMatch(/Used on Feb 10, 2026/);
    expect(await used.locator('[data-laurel-rewards-copy]').count()).toBe(0);
    expect(await status(page, BLOCK)).toBe('');
    expect(consoleErrors).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'storefront-rewards-block.png') });
  });

  it('shows a signed-out shopper the catalog with sign-in links, and asks for no codes', async () => {
    const fake = new FakeLoyalty();
    fake.loggedIn = false;
    const { page, requests } = await visit({ locale: 'fr' }, { fake });
    await catalogShown(page, BLOCK);
    expect(requests).toEqual(['GET /apps/loyalty/rewards?locale=fr']);
    const signIn = reward(page, BLOCK, '1').locator('a');
    expect(await signIn.innerText()).toBe('Connectez-vous pour échanger');
    expect(await signIn.getAttribute('href')).toBe('/account/login');
    expect(await page.locator(`${BLOCK} [data-laurel-rewards-redeem]`).count()).toBe(0);
    expect(await reward(page, BLOCK, '1').locator('.laurel-reason').innerText()).toBe('');
    expect(await page.locator(`${BLOCK} [data-laurel-rewards-mine]`).isHidden()).toBe(true);
    expect(await reward(page, BLOCK, '1').locator('.laurel-note').innerText()).toBe(
      '500 points · 5\u00a0£GB de réduction · Pour les commandes de 20\u00a0£GB ou plus · Code valable 30 jours',
    );
    // the launcher asks for the catalog when opened, and nothing else for a guest
    await page.locator('[data-laurel-launcher]').click();
    await catalogShown(page, PANEL);
    expect(requests.filter((r) => r.includes('rewards')).length).toBe(2);
    expect(requests.some((r) => r.includes('redemptions') || r.includes('history'))).toBe(false);
  });

  it('reaches the proxy under a translated storefront’s root, and URL-encodes a code in Apply', async () => {
    const fake = new FakeLoyalty();
    fake.redemptions[1]!.code = 'SUMMER 5/OFF?';
    const { page, requests } = await visit(
      { customer: member(1250, 2000), locale: 'fr' },
      { fake, root: '/fr', blocks: ['rewards'] },
    );
    await catalogShown(page, BLOCK);
    expect(requests.sort()).toEqual([
      'GET /fr/apps/loyalty/redemptions?locale=fr',
      'GET /fr/apps/loyalty/rewards?locale=fr',
    ]);
    const issued = page.locator(`${BLOCK} [data-laurel-redemption="32"]`);
    expect(await issued.locator('[data-laurel-rewards-apply]').getAttribute('href')).toBe(
      '/fr/discount/SUMMER%205%2FOFF%3F?redirect=/fr/cart',
    );
    expect(await issued.innerText()).toMatch(/^Free shipping\s+Valable jusqu’au 30 avr\. 2026/);
    await reward(page, BLOCK, '1').locator('[data-laurel-rewards-redeem]').click();
    expect(await reward(page, BLOCK, '1').locator('.laurel-confirm p').innerText()).toBe(
      'Dépenser 500 points pour 5\u00a0£GB de réduction\u00a0?',
    );
    await reward(page, BLOCK, '1').locator('[data-laurel-rewards-confirm]').click();
    await page.waitForFunction(() => document.activeElement?.tagName === 'CODE');
    expect(requests).toContain('POST /fr/apps/loyalty/redeem?locale=fr');
    expect(await page.locator('[data-laurel-rewards-balance]').innerText()).toBe('750');
  });

  it('says so when the catalog cannot load, and tries again', async () => {
    const fake = new FakeLoyalty();
    const catalog = fake.catalog.bind(fake);
    let down = true;
    fake.catalog = () => (down ? error(503, 'UNAVAILABLE', 'Database is starting') : catalog());
    const { page } = await visit({ customer: member(1250, 2000) }, { fake, blocks: ['rewards'] });
    const line = page.locator(`${BLOCK} [data-laurel-rewards-status]`);
    await page.waitForFunction(
      () =>
        document.querySelector('[data-laurel-rewards-status]')?.textContent !==
          'Loading rewards…' &&
        document.querySelector('[data-laurel-rewards-status]')?.textContent !== '',
    );
    expect(await line.innerText()).toBe('We couldn’t load the rewards. Please try again.');
    expect(await line.getAttribute('data-code')).toBe('UNAVAILABLE');
    down = false;
    await page.locator(`${BLOCK} [data-laurel-rewards-retry]`).click();
    await catalogShown(page, BLOCK);
    expect(await line.innerText()).toBe('');
    expect(await page.locator(`${BLOCK} [data-laurel-rewards-retry]`).isHidden()).toBe(true);
  });

  it('shows an empty catalog as such', async () => {
    const fake = new FakeLoyalty();
    fake.catalog = () => ({
      status: 200,
      body: { rewards: [], balance: 10, currency: 'GBP', loggedIn: true },
    });
    const { page } = await visit({ customer: member(10, 10) }, { fake, blocks: ['rewards'] });
    await page.waitForFunction(
      () => !document.querySelector('[data-laurel-rewards-list]')?.hasAttribute('aria-busy'),
    );
    expect(await page.locator(`${BLOCK} [data-laurel-rewards-empty]`).innerText()).toBe(
      'No rewards to redeem yet.',
    );
    expect(await page.locator(`${BLOCK} [data-laurel-rewards-list] li`).count()).toBe(0);
  });
});

describe('the points slider', () => {
  it('is a labelled range with the API’s min, max and step, showing points and money live', async () => {
    const { page } = await visit({ customer: member(1250, 2000) }, { blocks: ['rewards'] });
    await catalogShown(page, BLOCK);
    const slider = reward(page, BLOCK, '2');
    const input = slider.locator('input[type="range"]');
    expect(await input.getAttribute('min')).toBe('200');
    expect(await input.getAttribute('max')).toBe('2000');
    expect(await input.getAttribute('step')).toBe('100');
    expect(await input.inputValue()).toBe('200');
    const label = await page.evaluate(
      (id) => document.querySelector(`label[for="${id}"]`)?.textContent,
      await input.getAttribute('id'),
    );
    expect(label).toBe('Points to spend');
    expect(await slider.locator('.laurel-note').innerText()).toBe(
      '200–2,000 points · Code valid for 1 day',
    );
    const output = slider.locator('output');
    expect(await output.innerText()).toBe('200 points → £2 off');
    expect(await input.getAttribute('aria-valuetext')).toBe('200 points → £2 off');

    await input.focus();
    await page.keyboard.press('ArrowRight');
    expect(await input.inputValue()).toBe('300');
    expect(await output.innerText()).toBe('300 points → £3 off');
    expect(await input.getAttribute('aria-valuetext')).toBe('300 points → £3 off');

    // past the balance: Redeem is disabled, saying how many points are missing
    await page.keyboard.press('End');
    expect(await output.innerText()).toBe('2,000 points → £20 off');
    const redeem = slider.locator('[data-laurel-rewards-redeem]');
    expect(await redeem.getAttribute('aria-disabled')).toBe('true');
    expect(await slider.locator('.laurel-reason').innerText()).toBe('750 more points needed');
    for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowLeft');
    expect(await input.inputValue()).toBe('1200');
    expect(await redeem.getAttribute('aria-disabled')).toBe('false');
    expect(await slider.locator('.laurel-reason').innerText()).toBe('');
  });

  it('redeems the chosen points, and formats a three-digit currency exactly', async () => {
    const { page, fake } = await visit({ customer: member(1250, 2000) }, { blocks: ['rewards'] });
    await catalogShown(page, BLOCK);
    const slider = reward(page, BLOCK, '2');
    await slider.locator('input').fill('700');
    await slider.locator('[data-laurel-rewards-redeem]').click();
    expect(await slider.locator('.laurel-confirm p').innerText()).toBe(
      'Spend 700 points for £7 off?',
    );
    // the points confirmed are the points sent
    expect(await slider.locator('input').isDisabled()).toBe(true);
    await slider.locator('[data-laurel-rewards-confirm]').click();
    await page.waitForFunction(() => document.activeElement?.tagName === 'CODE');
    expect(fake.posts).toEqual([
      { rewardId: '2', points: 700, requestId: expect.stringMatching(/^[A-Za-z0-9_-]{8,64}$/) },
    ]);
    expect(fake.balance).toBe(550);

    const money = await page.evaluate(() => {
      const digits = (window as unknown as { LaurelRewards: { digits(c: string): number } })
        .LaurelRewards.digits;
      return ['USD', 'GBP', 'JPY', 'KWD', 'CLF', 'ISK', 'IQD', 'XOF', 'EUR'].map((c) => [
        c,
        digits(c),
      ]);
    });
    for (const [currency, digits] of money)
      expect(digits, String(currency)).toBe(currencyDigits(String(currency)));
  });
});

describe('redeeming', () => {
  it('from the launcher, by keyboard alone: confirm, the code focused, copied, applied, the balance updated everywhere', async () => {
    const { page, fake, consoleErrors, origin } = await visit(
      { customer: member(1250, 2000) },
      { secure: true },
    );
    expect(origin).toBe('https://shop.test');
    await page.locator('[data-laurel-launcher]').focus();
    await page.keyboard.press('Enter');
    await catalogShown(page, PANEL);
    await page.waitForFunction(
      () =>
        document.querySelector('[data-laurel-panel]')?.getAttribute('data-laurel-state') ===
        'ready',
    );
    expect(await page.locator('[data-laurel-panel-balance]').innerText()).toBe('1,250');

    await tabTo(page, () => {
      const active = document.activeElement;
      return (
        active?.hasAttribute('data-laurel-rewards-redeem') === true &&
        active.closest('[data-laurel-reward]')?.getAttribute('data-laurel-reward') === '1'
      );
    });
    await page.keyboard.press('Enter');
    expect(await activeHook(page)).toBe('data-laurel-rewards-confirm');
    const box = reward(page, PANEL, '1').locator('.laurel-confirm');
    expect(await box.getAttribute('role')).toBe('group');
    expect(await box.locator('p').innerText()).toBe('Spend 500 points for £5 off?');
    await page.screenshot({ path: path.join(ARTIFACTS, 'storefront-rewards-confirm.png') });
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.tagName === 'CODE');

    const code = await page.evaluate(() => document.activeElement!.textContent!);
    expect(code).toMatch(/^LRL-7KQ2-M9XP-\d+TV$/);
    expect(fake.posts).toEqual([
      { rewardId: '1', requestId: expect.stringMatching(/^[A-Za-z0-9_-]{8,64}$/) },
    ]);
    const result = page.locator(`${PANEL} [data-laurel-rewards-result]`);
    expect(await result.innerText()).toContain('Your code is ready.');
    expect(await result.innerText()).toContain('Valid until May 1, 2026');
    expect(await status(page, PANEL)).toBe('Your code is ready.');
    expect(await result.locator('[data-laurel-rewards-apply]').getAttribute('href')).toBe(
      `/discount/${code}?redirect=/cart`,
    );

    // the balance, everywhere it shows
    await page.waitForFunction(
      () => document.querySelector('[data-laurel-panel-balance]')?.textContent === '750',
    );
    expect(
      await page.locator('[data-laurel-panel-balance]').getAttribute('data-laurel-panel-balance'),
    ).toBe('750');
    expect(await page.locator('[data-laurel-balance]').innerText()).toBe('750');
    expect(await page.locator('[data-laurel-balance]').getAttribute('data-laurel-balance')).toBe(
      '750',
    );
    expect(await page.locator('[data-laurel-rewards-balance]').innerText()).toBe('750');

    // copy (Clipboard API), by keyboard
    await page.keyboard.press('Tab');
    expect(await activeHook(page)).toBe('data-laurel-rewards-copy');
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () =>
        document.querySelector('[data-laurel-panel] [data-laurel-rewards-status]')?.textContent ===
        'Code copied.',
    );
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
    await page.keyboard.press('Tab');
    expect(await activeHook(page)).toBe('data-laurel-rewards-apply');

    // the catalog and the codes reload: the new code is listed first
    await page.waitForFunction(
      (c) =>
        document
          .querySelector('[data-laurel-panel] [data-laurel-rewards-mine-list] li')
          ?.textContent?.includes(c),
      code,
    );
    expect(fake.debits).toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'storefront-rewards-code.png') });
    expect(consoleErrors).toEqual([]);

    // Escape closes the panel, and the focus trap still holds
    await page.keyboard.press('Escape');
    expect(await page.locator('[data-laurel-panel]').isHidden()).toBe(true);
  });

  it('redeemed in the panel, the Rewards block on the page lists the code too; a closed panel is not reloaded', async () => {
    const { page, requests, consoleErrors } = await visit({ customer: member(1250, 2000) });
    await catalogShown(page, BLOCK);
    const blockCodes = () =>
      page
        .locator(`${BLOCK} [data-laurel-rewards-mine-list] > li`)
        .evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.laurelRedemption));
    expect(await blockCodes()).toEqual(['31', '32']);

    await page.locator('[data-laurel-launcher]').click();
    await catalogShown(page, PANEL);
    await reward(page, PANEL, '1').locator('[data-laurel-rewards-redeem]').click();
    await reward(page, PANEL, '1').locator('[data-laurel-rewards-confirm]').click();
    await page.waitForFunction(() => document.activeElement?.tagName === 'CODE');
    // the fake lists the newest first; the block (behind the panel) reloaded its catalog and codes
    await expect.poll(blockCodes).toEqual(['41', '31', '32']);
    await page.keyboard.press('Escape');
    expect(await page.locator('[data-laurel-panel]').isHidden()).toBe(true);

    // redeemed in the block with the panel closed: only the block reloads
    requests.length = 0;
    await reward(page, BLOCK, '1').locator('[data-laurel-rewards-redeem]').click();
    await reward(page, BLOCK, '1').locator('[data-laurel-rewards-confirm]').click();
    await expect.poll(blockCodes).toEqual(['42', '41', '31', '32']);
    expect(requests.sort()).toEqual([
      'GET /apps/loyalty/redemptions?locale=en',
      'GET /apps/loyalty/rewards?locale=en',
      'POST /apps/loyalty/redeem?locale=en',
    ]);
    expect(consoleErrors).toEqual([]);
  });

  it('selects the code to copy where there is no Clipboard API', async () => {
    const { page } = await visit({ customer: member(1250, 2000) }, { blocks: ['rewards'] });
    await catalogShown(page, BLOCK);
    expect(await page.evaluate(() => window.isSecureContext)).toBe(false);
    const issued = page.locator(`${BLOCK} [data-laurel-redemption="32"]`);
    await issued.locator('[data-laurel-rewards-copy]').click();
    expect(await page.evaluate(() => window.getSelection()?.toString())).toBe('LRL-ISSU-ED00-0002');
    expect(['Code copied.', 'Code selected: copy it with your keyboard.']).toContain(
      await status(page, BLOCK),
    );
  });

  it('retries after a lost answer with the same requestId, and is debited once', async () => {
    const { page, fake } = await visit({ customer: member(1250, 2000) }, { blocks: ['rewards'] });
    await catalogShown(page, BLOCK);
    // the proxy redeems, but the answer never arrives
    fake.next = (self, body) => {
      self.redeem(body);
      return 'lost';
    };
    const five = reward(page, BLOCK, '1');
    await five.locator('[data-laurel-rewards-redeem]').click();
    const confirm = five.locator('[data-laurel-rewards-confirm]');
    await confirm.click();
    await page.waitForFunction(
      () => document.querySelector('[data-laurel-rewards-confirm]')?.textContent === 'Try again',
    );
    expect(await status(page, BLOCK)).toBe(
      'We couldn’t reach the store. Check your connection and try again.',
    );
    expect(await five.locator('.laurel-reason').innerText()).toBe(
      'We couldn’t reach the store. Check your connection and try again.',
    );
    expect(await page.locator('[data-laurel-rewards-balance]').innerText()).toBe('1,250');

    await confirm.click();
    await page.waitForFunction(() => document.activeElement?.tagName === 'CODE');
    expect(fake.posts).toHaveLength(2);
    expect(fake.posts[1]).toEqual(fake.posts[0]);
    expect(fake.debits).toBe(1);
    expect(fake.balance).toBe(750);
    expect(await page.locator('[data-laurel-rewards-balance]').innerText()).toBe('750');

    // cancelling after a lost answer and confirming again still reuses it; the next one does not
    fake.next = (self, body) => {
      self.redeem(body);
      return 'lost';
    };
    await catalogShown(page, BLOCK);
    await reward(page, BLOCK, '1').locator('[data-laurel-rewards-redeem]').click();
    await reward(page, BLOCK, '1').locator('[data-laurel-rewards-confirm]').click();
    await page.waitForFunction(
      () => document.querySelector('[data-laurel-rewards-confirm]')?.textContent === 'Try again',
    );
    await reward(page, BLOCK, '1').locator('[data-laurel-rewards-cancel]').click();
    await reward(page, BLOCK, '1').locator('[data-laurel-rewards-redeem]').click();
    await reward(page, BLOCK, '1').locator('[data-laurel-rewards-confirm]').click();
    await page.waitForFunction(() => document.activeElement?.tagName === 'CODE');
    expect(fake.posts).toHaveLength(4);
    expect(fake.posts[3]).toEqual(fake.posts[2]);
    expect(fake.posts[2]!.requestId).not.toBe(fake.posts[0]!.requestId);
    expect(fake.debits).toBe(2);
  });

  it.each([
    [
      '409 INSUFFICIENT_BALANCE',
      () => error(409, 'INSUFFICIENT_BALANCE', 'Not enough points'),
      'You don’t have enough points for this reward.',
    ],
    [
      '409 CONFLICT (a limit)',
      () => error(409, 'CONFLICT', 'Limit reached'),
      'You’ve reached the limit for this reward.',
    ],
    ['403 FORBIDDEN (tier)', () => error(403, 'FORBIDDEN', 'Tier'), 'Not available at your tier.'],
    [
      '502 UPSTREAM',
      () =>
        error(502, 'UPSTREAM', 'Shopify could not create the discount; your points were returned'),
      'Shopify could not create your code; your points were returned.',
    ],
    [
      '401 NOT_LOGGED_IN',
      () => error(401, 'NOT_LOGGED_IN', 'Sign in'),
      'Your session has ended. Sign in again to redeem.',
    ],
    [
      '404 NOT_FOUND',
      () => error(404, 'NOT_FOUND', 'No such reward'),
      'This reward is no longer available.',
    ],
    [
      '400 VALIDATION',
      () => error(400, 'VALIDATION', 'bad'),
      'Something went wrong. Please try again.',
    ],
  ])(
    '%s: says why, by the reward and in the live region; the balance stays',
    async (_name, answer, message) => {
      const { page, fake, consoleErrors } = await visit({ customer: member(1250, 2000) });
      await catalogShown(page, BLOCK);
      fake.next = answer;
      const five = reward(page, BLOCK, '1');
      await five.locator('[data-laurel-rewards-redeem]').click();
      await five.locator('[data-laurel-rewards-confirm]').click();
      await page.waitForFunction(
        (m) =>
          document.querySelector('[data-laurel-rewards-block] [data-laurel-rewards-status]')
            ?.textContent === m,
        message,
      );
      expect(await five.locator('.laurel-reason').innerText()).toBe(message);
      expect(await five.locator('.laurel-confirm').count()).toBe(0);
      expect(await activeHook(page)).toBe('data-laurel-rewards-redeem');
      expect(await page.locator(`${BLOCK} [data-laurel-rewards-result]`).isHidden()).toBe(true);
      expect(await page.locator('[data-laurel-rewards-balance]').innerText()).toBe('1,250');
      expect(await page.locator('[data-laurel-balance]').innerText()).toBe('1,250');
      expect(fake.debits).toBe(0);
      // the browser's own log of the refused request, nothing from the scripts
      expect(consoleErrors.every((e) => /Failed to load resource.*status of \d{3}/.test(e))).toBe(
        true,
      );
    },
  );

  it('a real 409: the balance fell elsewhere; the message shows and the balance shown stays', async () => {
    const { page, fake } = await visit({ customer: member(1250, 2000) }, { blocks: ['rewards'] });
    await catalogShown(page, BLOCK);
    fake.balance = 100; // spent in another tab
    const five = reward(page, BLOCK, '1');
    await five.locator('[data-laurel-rewards-redeem]').click();
    await five.locator('[data-laurel-rewards-confirm]').click();
    await page.waitForFunction(
      () =>
        document.querySelector('[data-laurel-rewards-status]')?.textContent ===
        'You don’t have enough points for this reward.',
    );
    expect(fake.posts).toHaveLength(1);
    expect(await page.locator('[data-laurel-rewards-balance]').innerText()).toBe('1,250');
  });

  it('202: the code is on its way; the balance is updated and the codes reload', async () => {
    const { page, fake, requests } = await visit(
      { customer: member(1250, 2000) },
      { blocks: ['rewards'] },
    );
    await catalogShown(page, BLOCK);
    fake.next = (self, body) => {
      const answer = self.redeem(body) as { body: { redemption: { status: string } } };
      self.redemptions[0]!.status = 'pending';
      answer.body.redemption.status = 'pending';
      return { status: 202, body: answer.body };
    };
    await reward(page, BLOCK, '1').locator('[data-laurel-rewards-redeem]').click();
    await reward(page, BLOCK, '1').locator('[data-laurel-rewards-confirm]').click();
    const message = 'Your code is on its way. It will appear under Redeemed rewards in a moment.';
    await page.waitForFunction(
      (m) => document.querySelector('[data-laurel-rewards-status]')?.textContent === m,
      message,
    );
    const result = page.locator(`${BLOCK} [data-laurel-rewards-result]`);
    expect(await result.innerText()).toBe(message);
    expect(await result.locator('code').count()).toBe(0); // not a usable code yet
    expect(await activeHook(page)).toBe('data-laurel-rewards-result');
    expect(await page.locator('[data-laurel-rewards-balance]').innerText()).toBe('750');
    await page.waitForFunction(
      () =>
        document
          .querySelector('[data-laurel-rewards-mine-list] li')
          ?.getAttribute('data-status') === 'pending',
    );
    expect(
      await page.locator(`${BLOCK} [data-laurel-rewards-mine-list] li`).first().innerText(),
    ).toContain('On its way');
    expect(requests.filter((r) => r.startsWith('GET /apps/loyalty/rewards')).length).toBe(2);
  });

  it('Escape or Cancel leaves the confirm step, not the panel, and sends nothing', async () => {
    const { page, fake } = await visit({ customer: member(1250, 2000) }, { blocks: ['launcher'] });
    await page.locator('[data-laurel-launcher]').click();
    await catalogShown(page, PANEL);
    const five = reward(page, PANEL, '1');
    await five.locator('[data-laurel-rewards-redeem]').click();
    expect(await activeHook(page)).toBe('data-laurel-rewards-confirm');
    await page.keyboard.press('Escape');
    expect(await page.locator('[data-laurel-panel]').isVisible()).toBe(true);
    expect(await five.locator('.laurel-confirm').count()).toBe(0);
    expect(await activeHook(page)).toBe('data-laurel-rewards-redeem');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await activeHook(page)).toBe('data-laurel-rewards-cancel');
    await page.keyboard.press('Enter');
    expect(await activeHook(page)).toBe('data-laurel-rewards-redeem');
    expect(fake.posts).toEqual([]);
    await page.keyboard.press('Escape');
    expect(await page.locator('[data-laurel-panel]').isHidden()).toBe(true);
  });

  it('does nothing for a disabled Redeem', async () => {
    const { page, fake } = await visit({ customer: member(1250, 2000) }, { blocks: ['rewards'] });
    await catalogShown(page, BLOCK);
    // aria-disabled, not disabled: it stays focusable, so its reason is read with it
    const redeem = reward(page, BLOCK, '3').locator('[data-laurel-rewards-redeem]');
    await redeem.focus();
    await page.keyboard.press('Enter');
    await redeem.click({ force: true });
    expect(await activeHook(page)).toBe('data-laurel-rewards-redeem');
    expect(await reward(page, BLOCK, '3').locator('.laurel-confirm').count()).toBe(0);
    expect(fake.posts).toEqual([]);
  });
});

describe('layout and motion', () => {
  it('shifts nothing while the catalog loads late, in the block and in the panel', async () => {
    const { page } = await visit({ customer: member(1250, 2000) }, { delay: 700 });
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
    await catalogShown(page, BLOCK);
    await page.locator('[data-laurel-launcher]').click();
    await catalogShown(page, PANEL);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { shifts: number }).shifts)).toBe(0);
  });

  it('pulses the skeleton only for shoppers who have not asked for reduced motion', async () => {
    const animation = async (reducedMotion: boolean) => {
      const { page } = await visit(
        { customer: member(1, 1) },
        { blocks: ['rewards'], reducedMotion, spacer: 3000 },
      );
      return page.evaluate(
        () => getComputedStyle(document.querySelector('.laurel-reward--skeleton')!).animationName,
      );
    };
    expect(await animation(false)).toBe('laurel-pulse');
    expect(await animation(true)).toBe('none');
  });
});

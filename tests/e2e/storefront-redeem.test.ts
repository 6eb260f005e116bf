/**
 * Issue [6], done when "a shopper in the demo redeems each reward type and uses the code on an
 * order", in Chromium against the real `npm run demo` (a child process, as
 * tests/e2e/storefront-preview.test.ts runs it): the storefront preview's real theme blocks, the
 * real app proxy routes (signed by the dev server's stand-in for Shopify's proxy), the real
 * redeem flow and workers, and the demo's Admin API emulator as Shopify.
 *
 * One member (not the one the demo redeems for) is given points with an adjustment, then redeems
 * every type through the UI — $5 off, free shipping and store credit in the launcher's panel; 10%
 * off, the free tin and the points slider (by keyboard) in the Rewards block — and after each:
 * the confirm step, the code focused, Copy (the clipboard), Apply to cart; Shopify's discount for
 * that code, for this customer only, once, until the expiry, worth what the reward says (store
 * credit: the customer's store credit account up by $10 and no code); every balance on the page
 * down by the cost and equal to the ledger. The Gold-only reward is shown with its reason, its
 * Redeem does nothing, and the proxy refuses it (403). One redemption loses its answer on the way
 * back: "Try again" sends the same requestId and the points go once. Then signed orders/paid
 * webhooks carry the $5 and the free tin codes, the redemptions become `used` with their orders,
 * and the panel's "Redeemed rewards" and history say so.
 *
 * Fails on any console error or warning, page error, failed request or HTTP error answer other
 * than the two it causes on purpose (the lost answer, the tier refusal), on any layout shift not
 * caused by an input, and on any warning or error in the app's log but that refusal's.
 * Screenshots: tests/artifacts/storefront-redeem-*.png; the panel with a fresh code is also
 * docs/images/storefront-redeem.png (README), written when missing or with UPDATE_DOC_IMAGES=1.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page, Request as BrowserRequest } from 'playwright-core';
import {
  cumulativeLayoutShift,
  layoutShifts,
  watchPage,
  type LayoutShift,
} from '../helpers/watched-page';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listMembers, type MemberSummary } from '../../app/models/members.server';
import { entriesFor, post, sumOfEntries } from '../../app/models/ledger.server';
import { getRedemption, listRedemptions } from '../../app/models/redemptions.server';
import { getCustomerTier } from '../../app/models/tiers.server';
import { dailyTierRunFinished } from '../helpers/tiers';
import { listRewards, type Reward } from '../../app/models/rewards.server';
import { getShopByDomain, type Shop } from '../../app/models/shops.server';
import { ensureAppBuilt, ROOT } from '../../dev/build';
import { replayDeliveries } from '../../dev/demo/replay';
import { readDemoState, type DemoState } from '../../dev/demo/state';
import { demoProduct } from '../../dev/demo/storefront';
import { orderPayload } from '../../dev/shopify-payloads';
import type { RewardType } from '../../loyalty/rewards';
import { adminGraphql, type AdminGraphql } from '../helpers/admin-emulator';
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

const PREFIX = `test-${randomUUID()}`;
const dir = mkdtempSync(join(tmpdir(), 'laurel-redeem-e2e-'));
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const README_IMAGE = join(ROOT, 'docs', 'images', 'storefront-redeem.png');
const en = new Intl.NumberFormat('en-US');
const DAY_MS = 86_400_000;
const mediumDate = new Intl.DateTimeFormat('en', { dateStyle: 'medium' });

let db: TestDatabase;
let demo: Demo;
let browser: Chromium;
let preview: string;
let origin: string;
let state: DemoState;
let shop: Shop;
let shopify: AdminGraphql;
let rewards: Reward[];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureAppBuilt({
    server: false,
    log: (line) => process.stdout.write(`[redeem e2e] ${line}\n`),
  });
  db = await createTestDatabase('postgres');
  demo = startDemo(['--port', '0', '--customers', '12'], {
    DATABASE_URL: db.url!,
    PGLITE_DIR: join(dir, 'pglite'),
    QUEUE_PREFIX: PREFIX,
    REDIS_URL: TEST_REDIS_URL,
  });
  await demo.waitFor(/^Serving until Ctrl-C\.$/m, 150_000);
  preview = urlAfter(demo.stdout(), 'Storefront preview');
  origin = new URL(preview).origin;
  state = readDemoState(join(dir, 'pglite-demo.json'))!;
  shop = (await getShopByDomain(db.db, state.shop))!;
  shopify = adminGraphql(urlAfter(demo.stdout(), 'Admin API emulator'), state.accessToken);
  rewards = await listRewards(db.db, shop.id);
  browser = await launchChromium();
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  if (demo) killDemo(demo);
  await obliterateWorkerQueues({ redisUrl: TEST_REDIS_URL, prefix: PREFIX }).catch(() => {});
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

// ---------------------------------------------------------------------------------------------
// The one page the shopper uses, watched: problems, requests, layout shifts.

let page: Page;
/** Every problem the browser reported; a step that causes one on purpose takes it out. */
const problems: string[] = [];
const requests: BrowserRequest[] = [];

async function openWatchedPage(): Promise<Page> {
  const opened = await browser.context.newPage();
  await watchPage(opened, problems, requests);
  return opened;
}

/** Layout shifts no input explains (what CLS counts), since the page was opened. */
async function unexplainedShifts(): Promise<LayoutShift[]> {
  return (await layoutShifts(page)).filter((s) => !s.hadRecentInput);
}

afterEach(async () => {
  if (page && !page.isClosed()) {
    const shifts = await unexplainedShifts();
    expect(cumulativeLayoutShift(shifts), JSON.stringify(shifts)).toBe(0);
  }
  expect(problems).toEqual([]);
});

// ---------------------------------------------------------------------------------------------
// The shopper and what they see.

let member: MemberSummary;
const customerGid = () => `gid://shopify/Customer/${member.externalId}`;

const rewardOf = (type: RewardType, tiers = false) =>
  rewards.find((r) => r.definition.type === type && (r.definition.tiers !== null) === tiers)!;

const panel = () => page.locator('[data-laurel-panel] [data-laurel-rewards]');
const block = () => page.locator('[data-laurel-rewards-block] [data-laurel-rewards]');
const catalogItem = (section: Locator, reward: Reward) =>
  section.locator(`[data-laurel-rewards-list] > li[data-laurel-reward="${reward.id}"]`);
const isFocused = (locator: Locator) =>
  locator.evaluate((element) => element === document.activeElement);

/** Waits until `section` shows the catalog (not the skeleton) and is not loading. */
async function catalogShown(section: Locator) {
  await section.locator('[data-laurel-rewards-list] > li[data-laurel-reward]').first().waitFor();
  await expect
    .poll(() => section.locator('[data-laurel-rewards-list]').getAttribute('aria-busy'))
    .toBeNull();
}

async function ledgerBalance(): Promise<number> {
  return (await sumOfEntries(db.db, shop.id, member.id)).balance;
}

/** Every balance the page shows (panel, balance block, Rewards block) is `balance`. */
async function expectBalancesShown(balance: number) {
  for (const hook of ['panel-balance', 'balance', 'rewards-balance']) {
    const figures = page.locator(`[data-laurel-${hook}]`);
    await expect
      .poll(() =>
        figures.evaluateAll((all, h) => all.map((e) => e.getAttribute(h)), `data-laurel-${hook}`),
      )
      .toEqual(Array(await figures.count()).fill(String(balance)));
    for (const text of await figures.allTextContents()) expect(text).toBe(en.format(balance));
  }
}

async function openPanel() {
  const launcher = page.locator('button[data-laurel-launcher]');
  if ((await launcher.getAttribute('aria-expanded')) !== 'true') await launcher.click();
  await page.locator('[data-laurel-panel]').waitFor({ state: 'visible' });
  await catalogShown(panel());
}

async function closePanel() {
  await page.locator('[data-laurel-panel] [data-laurel-close]').click();
  await page.locator('[data-laurel-panel]').waitFor({ state: 'hidden' });
}

interface Redeemed {
  /** The redeem answer. */
  body: {
    redemption: {
      id: string;
      code: string | null;
      status: string;
      points: number;
      expiresAt: string | null;
    };
    balance: number;
  };
  /** The requestId each POST carried. */
  requestIds: string[];
}

/**
 * Redeem → the confirm step (focused, asking "Spend N points for …?") → Confirm, by mouse, or by
 * keyboard when `keyboard` (Redeem must then have the focus). With `loseFirstAnswer` (which routes
 * the redeem request so its answer is lost), Confirm fails and the button's "Try again" is
 * pressed. Checks what the shopper sees after: the code focused with Copy (the clipboard gets it)
 * and "Apply to cart", or "Store credit added".
 */
async function redeem(
  section: Locator,
  reward: Reward,
  options: {
    points: number;
    worth: string;
    keyboard?: boolean;
    loseFirstAnswer?: () => Promise<unknown>;
  },
): Promise<Redeemed> {
  const item = catalogItem(section, reward);
  const action = item.locator('button[data-laurel-rewards-redeem]');
  expect(await action.getAttribute('aria-disabled')).toBe('false');
  if (options.keyboard) {
    expect(await isFocused(action)).toBe(true);
    await page.keyboard.press('Enter');
  } else {
    await action.click();
  }
  const confirm = item.locator('button[data-laurel-rewards-confirm]');
  await confirm.waitFor();
  expect(await isFocused(confirm)).toBe(true);
  const group = item.locator('[role="group"]');
  expect(await group.locator('p').innerText()).toBe(
    `Spend ${en.format(options.points)} points for ${options.worth}?`,
  );
  await options.loseFirstAnswer?.();

  const posts: BrowserRequest[] = [];
  const watch = (request: BrowserRequest) => {
    if (new URL(request.url()).pathname === '/apps/loyalty/redeem') posts.push(request);
  };
  page.on('request', watch);
  let answer = page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/apps/loyalty/redeem' && r.status() !== 0,
  );
  if (options.keyboard) await page.keyboard.press('Enter');
  else await confirm.click();
  if (options.loseFirstAnswer) {
    // The first answer was lost: the button now says "Try again", and retries.
    await expect.poll(() => confirm.innerText()).toBe('Try again');
    expect(await section.locator('[data-laurel-rewards-status]').innerText()).toBe(
      'We couldn’t reach the store. Check your connection and try again.',
    );
    await page.unrouteAll({ behavior: 'wait' });
    answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/apps/loyalty/redeem');
    await confirm.click();
  }
  const response = await answer;
  page.off('request', watch);
  expect(response.status()).toBe(200);
  const body = (await response.json()) as Redeemed['body'];
  expect(body.redemption.points).toBe(options.points);

  const result = section.locator('[data-laurel-rewards-result]');
  await result.waitFor({ state: 'visible' });
  const code = body.redemption.code;
  if (code) {
    expect(body.redemption.status).toBe('issued');
    expect(await result.locator('p').first().innerText()).toBe('Your code is ready.');
    const shown = result.locator('code[data-laurel-rewards-code]');
    expect(await shown.innerText()).toBe(code);
    expect(code).toMatch(/^LRL-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(await isFocused(shown)).toBe(true);
    expect(await result.locator('a[data-laurel-rewards-apply]').getAttribute('href')).toBe(
      `/discount/${code}?redirect=/cart`,
    );
    expect(await result.innerText()).toContain(
      `Valid until ${mediumDate.format(new Date(body.redemption.expiresAt!))}`,
    );
    await page.evaluate(() => navigator.clipboard.writeText('-'));
    await result.locator('button[data-laurel-rewards-copy]').click();
    await expect
      .poll(() => section.locator('[data-laurel-rewards-status]').innerText())
      .toBe('Code copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
  } else {
    expect(body.redemption.status).toBe('credited');
    expect(await result.innerText()).toBe('Store credit added to your account.');
    expect(await result.locator('code').count()).toBe(0);
    expect(await isFocused(result)).toBe(true);
  }
  return {
    body,
    requestIds: posts.map((p) => (p.postDataJSON() as { requestId: string }).requestId),
  };
}

const DISCOUNT_FIELDS = `
  title startsAt endsAt usageLimit appliesOncePerCustomer status
  context { __typename ... on DiscountCustomers { customers { id } } }
  minimumRequirement {
    __typename
    ... on DiscountMinimumSubtotal { greaterThanOrEqualToSubtotal { amount currencyCode } }
  }`;
const DISCOUNT_BY_CODE = `query DiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) {
    id
    codeDiscount {
      __typename
      ... on DiscountCodeBasic {
        ${DISCOUNT_FIELDS}
        customerGets {
          value {
            __typename
            ... on DiscountAmount { amount { amount currencyCode } appliesOnEachItem }
            ... on DiscountPercentage { percentage }
          }
          items {
            __typename
            ... on DiscountProducts { productVariants(first: 5) { nodes { id } } }
          }
        }
      }
      ... on DiscountCodeFreeShipping { ${DISCOUNT_FIELDS} }
    }
  }
}`;

interface Money {
  amount: string;
  currencyCode: string;
}
interface DiscountView {
  __typename: string;
  title: string;
  startsAt: string;
  endsAt: string | null;
  usageLimit: number | null;
  appliesOncePerCustomer: boolean;
  status: string;
  context: { __typename: string; customers?: { id: string }[] };
  minimumRequirement: { greaterThanOrEqualToSubtotal: Money } | null;
  customerGets?: {
    value: { __typename: string; amount?: Money; appliesOnEachItem?: boolean; percentage?: number };
    items: { __typename: string; productVariants?: { nodes: { id: string }[] } };
  };
}

const minor = (money: Money) => Math.round(Number(money.amount) * 100);

/** What the customer gets from the discount, in the terms of the reward definition. */
type Gets =
  | { amountOffOrderMinor: number }
  | { percentage: number }
  | { freeShipping: true }
  | { variantId: string; amountMinor: number };

/**
 * Shopify's side of an issued code: it exists, for exactly this customer, usable once, from now
 * until now + expiryDays, with the reward's minimum, and gives what `gets` says. Also the
 * redemption row: issued, with Shopify's id and the code's expiry.
 */
async function expectShopifyCode(redeemed: Redeemed, reward: Reward, gets: Gets) {
  const code = redeemed.body.redemption.code!;
  const { codeDiscountNodeByCode: node } = await shopify<{
    codeDiscountNodeByCode: { id: string; codeDiscount: DiscountView } | null;
  }>(DISCOUNT_BY_CODE, { code });
  expect(node, `Shopify has no discount ${code}`).not.toBeNull();
  const discount = node!.codeDiscount;
  expect(discount.context).toEqual({
    __typename: 'DiscountCustomers',
    customers: [{ id: customerGid() }],
  });
  expect(discount.title).toBe(reward.definition.title);
  expect(discount.usageLimit).toBe(1);
  expect(discount.appliesOncePerCustomer).toBe(true);
  expect(discount.status).toBe('ACTIVE');
  expect(Date.parse(discount.startsAt)).toBeLessThanOrEqual(Date.now());
  const expiryDays = reward.definition.expiryDays!;
  expect(Math.abs(Date.parse(discount.endsAt!) - (Date.now() + expiryDays * DAY_MS))).toBeLessThan(
    5 * 60_000,
  );
  const minimum = reward.definition.minimumOrderMinor;
  expect(
    discount.minimumRequirement && minor(discount.minimumRequirement.greaterThanOrEqualToSubtotal),
  ).toBe(minimum ?? null);

  if ('freeShipping' in gets) {
    expect(discount.__typename).toBe('DiscountCodeFreeShipping');
  } else {
    expect(discount.__typename).toBe('DiscountCodeBasic');
    const { value, items } = discount.customerGets!;
    if ('percentage' in gets) {
      expect(value).toEqual({
        __typename: 'DiscountPercentage',
        percentage: gets.percentage / 100,
      });
      expect(items.__typename).toBe('AllDiscountItems');
    } else {
      expect(value.__typename).toBe('DiscountAmount');
      expect(value.appliesOnEachItem).toBe(false);
      expect(value.amount!.currencyCode).toBe('USD');
      if ('variantId' in gets) {
        expect(minor(value.amount!)).toBe(gets.amountMinor);
        expect(items.__typename).toBe('DiscountProducts');
        expect(items.productVariants!.nodes).toEqual([{ id: gets.variantId }]);
      } else {
        expect(minor(value.amount!)).toBe(gets.amountOffOrderMinor);
        expect(items.__typename).toBe('AllDiscountItems');
      }
    }
  }

  const redemption = await getRedemption(db.db, shop.id, Number(redeemed.body.redemption.id));
  expect(redemption).toMatchObject({
    status: 'issued',
    code,
    customerId: member.id,
    rewardId: reward.id,
    shopifyDiscountId: node!.id,
  });
  expect(redeemed.body.redemption.expiresAt).toBe(redemption!.expiresAt!.toISOString());
  expect(Date.parse(discount.endsAt!)).toBe(
    Math.floor(redemption!.expiresAt!.getTime() / 1000) * 1000,
  );
}

/** The balance answered is the balance before minus the cost, the ledger's, and shown everywhere. */
async function expectDebited(redeemed: Redeemed, before: number, cost: number) {
  expect(redeemed.body.balance).toBe(before - cost);
  expect(await ledgerBalance()).toBe(before - cost);
  await expectBalancesShown(before - cost);
}

const STORE_CREDIT = `query StoreCredit($id: ID!) {
  customer(id: $id) { storeCreditAccounts(first: 5) { nodes { balance { amount currencyCode } } } }
}`;

async function storeCreditMinor(): Promise<number> {
  const { customer } = await shopify<{
    customer: { storeCreditAccounts: { nodes: { balance: Money }[] } } | null;
  }>(STORE_CREDIT, { id: customerGid() });
  return (customer?.storeCreditAccounts.nodes ?? [])
    .filter((a) => a.balance.currencyCode === 'USD')
    .reduce((sum, a) => sum + minor(a.balance), 0);
}

// ---------------------------------------------------------------------------------------------

const issued = new Map<RewardType, Redeemed>();

describe('a shopper in the demo redeems each reward type', { timeout: 60_000 }, () => {
  it('the demo redeemed for its top member; ours is another, given points by an adjustment', async () => {
    expect(demo.stdout()).toMatch(/^Redemption: .+ → status used\.$/m);
    expect(rewards.map((r) => r.definition.type).sort()).toEqual(
      [
        'fixed_amount',
        'fixed_amount',
        'free_product',
        'free_shipping',
        'percentage',
        'points_slider',
        'store_credit',
      ].sort(),
    );
    const members = await listMembers(db.db, shop.id);
    // Below Gold, so the Gold-only reward is out of reach (the demo's members hold tiers, settled
    // once the demo's daily tier run is over).
    await dailyTierRunFinished(db.db, shop.id);
    const belowGold = new Set<number>();
    for (const m of members) {
      const tier = await getCustomerTier(db.db, shop.id, m.id);
      if (tier?.tierKey !== 'gold' && tier?.tierKey !== 'platinum') belowGold.add(m.id);
    }
    // Not the demo's redeemer (its top member when it redeemed: the demo's adjustment, posted
    // after, can change who is top now).
    let chosen: MemberSummary | undefined;
    for (const m of members) {
      if (!belowGold.has(m.id)) continue;
      if ((await listRedemptions(db.db, shop.id, m.id)).length > 0) continue;
      chosen = m;
      break;
    }
    expect(chosen).toBeDefined();
    member = chosen!;
    await post(db.db, shop.id, {
      customerId: member.id,
      idempotencyKey: `adjustment:redeem-e2e:${randomUUID()}`,
      source: 'adjustment',
      points: 3000,
      occurredAt: new Date(),
      programVersion: null,
      inputs: { reason: 'storefront redeem test' },
    });
    const balance = await ledgerBalance();
    expect(balance).toBeGreaterThanOrEqual(3000);

    // Reloaded until the balance block's Liquid (from the member's metafield, which the sync
    // writes shortly after the ledger changes) shows it: the page as served, not as the scripts
    // have updated it since.
    page = await openWatchedPage();
    const deadline = Date.now() + 20_000;
    for (;;) {
      const html = await (await page.goto(`${preview}?customer=${member.externalId}`))!.text();
      if (html.includes(`data-laurel-balance="${balance}"`)) break;
      expect(Date.now(), 'the balance block never showed the ledger balance').toBeLessThan(
        deadline,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // The Rewards block loads the catalog as it comes into view, without shifting anything.
    await catalogShown(block());
    await expectBalancesShown(balance);
    expect(await unexplainedShifts()).toEqual([]);
  });

  it('the Gold-only reward shows why and cannot be redeemed', async () => {
    const gold = catalogItem(block(), rewardOf('fixed_amount', true));
    const action = gold.locator('button[data-laurel-rewards-redeem]');
    expect(await action.getAttribute('aria-disabled')).toBe('true');
    expect(await gold.locator('.laurel-reason').innerText()).toBe('Not available at your tier.');
    const described = (await action.getAttribute('aria-describedby'))!.split(' ');
    expect(await gold.locator('.laurel-reason').getAttribute('id')).toBe(described[1]);
    // Pressed (by keyboard: a pointer cannot press what says it is disabled): nothing happens.
    const before = requests.length;
    await action.focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Space');
    expect(await gold.locator('[role="group"]').count()).toBe(0);
    expect(requests.slice(before)).toEqual([]);
    // The proxy agrees: the catalog says TIER, and a redeem sent anyway is refused, nothing spent.
    const goldId = String(rewardOf('fixed_amount', true).id);
    const balance = await ledgerBalance();
    const answers = (await page.evaluate(async (rewardId) => {
      const catalog = await fetch('/apps/loyalty/rewards');
      const redeem = await fetch('/apps/loyalty/redeem', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ rewardId, requestId: 'e2e-tier-check-1' }),
      });
      return { catalog: await catalog.json(), redeem: [redeem.status, await redeem.json()] };
    }, goldId)) as {
      catalog: { rewards: { id: string; canRedeem: boolean; reason?: string }[] };
      redeem: [number, { error: { code: string } }];
    };
    expect(answers.catalog.rewards.find((r) => r.id === goldId)).toMatchObject({
      canRedeem: false,
      reason: 'TIER',
    });
    expect(answers.redeem).toMatchObject([403, { error: { code: 'FORBIDDEN' } }]);
    expect(await ledgerBalance()).toBe(balance);
    expect(await listRedemptions(db.db, shop.id, member.id)).toEqual([]);
    // The browser reports the 403 it was sent on purpose.
    const refused = problems.filter((p) => p.includes('/apps/loyalty/redeem'));
    expect(refused).toEqual([
      expect.stringMatching(/^HTTP 403: /),
      expect.stringMatching(/^console\.error: Failed to load resource: .*403/),
    ]);
    problems.splice(0, problems.length, ...problems.filter((p) => !refused.includes(p)));
  });

  it('launcher: $5 off — confirm, the code focused, copied, Apply to cart; Shopify holds it for them only', async () => {
    await openPanel();
    const reward = rewardOf('fixed_amount');
    const before = await ledgerBalance();
    const redeemed = await redeem(panel(), reward, { points: 100, worth: '$5 off' });
    issued.set('fixed_amount', redeemed);
    await expectDebited(redeemed, before, 100);
    await expectShopifyCode(redeemed, reward, { amountOffOrderMinor: 500 });
    await page.screenshot({ path: join(ARTIFACTS, 'storefront-redeem-launcher.png') });
    // The README's picture: the panel with the fresh code, Copy and Apply to cart.
    await page
      .locator('[data-laurel-panel]')
      .screenshot({ path: join(ARTIFACTS, 'storefront-redeem-panel-code.png') });
    // Copied only when missing or asked for: every run's code differs, the committed one stays.
    if (!existsSync(README_IMAGE) || process.env.UPDATE_DOC_IMAGES === '1') {
      copyFileSync(join(ARTIFACTS, 'storefront-redeem-panel-code.png'), README_IMAGE);
    }
  });

  it('launcher: free shipping after a lost answer — Try again sends the same requestId, one debit', async () => {
    const reward = rewardOf('free_shipping');
    const before = await ledgerBalance();
    let lost: unknown;
    const redeemed = await redeem(panel(), reward, {
      points: 150,
      worth: 'Free shipping',
      // The proxy runs the first request; its answer never reaches the browser.
      loseFirstAnswer: () =>
        page.route(
          (url) => url.pathname === '/apps/loyalty/redeem',
          async (route) => {
            lost = await (await route.fetch()).json();
            await route.abort('connectionreset');
          },
        ),
    });
    // Chromium reports the dropped connection; nothing else went wrong.
    const expected = problems.filter((p) => p.includes('/apps/loyalty/redeem'));
    expect(expected.length).toBeGreaterThan(0);
    for (const p of expected) {
      expect(p).toMatch(/ERR_CONNECTION_RESET|Failed to load resource/);
      problems.splice(problems.indexOf(p), 1);
    }
    expect(redeemed.requestIds).toHaveLength(2);
    expect(new Set(redeemed.requestIds).size).toBe(1);
    expect(lost).toMatchObject({ redemption: { id: redeemed.body.redemption.id } });
    const [requestId] = redeemed.requestIds;
    const mine = await listRedemptions(db.db, shop.id, member.id);
    expect(mine.filter((r) => r.requestId === requestId)).toHaveLength(1);
    const debits = (await entriesFor(db.db, shop.id, member.id)).filter(
      (e) => e.idempotencyKey === `redemption:${redeemed.body.redemption.id}:debit`,
    );
    expect(debits.map((e) => e.points)).toEqual([-150]);
    issued.set('free_shipping', redeemed);
    await expectDebited(redeemed, before, 150);
    await expectShopifyCode(redeemed, reward, { freeShipping: true });
  });

  it('launcher: $10 store credit — no code, "credited", Shopify’s store credit up by $10', async () => {
    const reward = rewardOf('store_credit');
    const before = await ledgerBalance();
    const creditBefore = await storeCreditMinor();
    const redeemed = await redeem(panel(), reward, { points: 200, worth: '$10 in store credit' });
    issued.set('store_credit', redeemed);
    expect(redeemed.body.redemption).toMatchObject({ code: null, expiresAt: null });
    await expectDebited(redeemed, before, 200);
    expect(await storeCreditMinor()).toBe(creditBefore + 1000);
    const redemption = await getRedemption(db.db, shop.id, Number(redeemed.body.redemption.id));
    expect(redemption).toMatchObject({ status: 'credited', code: null, shopifyDiscountId: null });
    expect(redemption!.storeCreditTransactionId).toBeTruthy();
    await page.screenshot({ path: join(ARTIFACTS, 'storefront-redeem-panel-credit.png') });
    await closePanel();
    // The Rewards block on the page lists what was redeemed in the panel, newest first.
    const listed = block().locator('[data-laurel-rewards-mine-list] > li');
    await expect
      .poll(() =>
        listed.evaluateAll((items) =>
          items.map((li) => (li as HTMLElement).dataset.laurelRedemption),
        ),
      )
      .toEqual(
        (['store_credit', 'free_shipping', 'fixed_amount'] as const).map(
          (type) => issued.get(type)!.body.redemption.id,
        ),
      );
  });

  it('Rewards block: 10% off (then limited for the period)', async () => {
    const reward = rewardOf('percentage');
    const before = await ledgerBalance();
    const redeemed = await redeem(block(), reward, { points: 250, worth: '10% off' });
    issued.set('percentage', redeemed);
    await expectDebited(redeemed, before, 250);
    await expectShopifyCode(redeemed, reward, { percentage: 10 });
    // The reloaded catalog: once per 30 days.
    const item = catalogItem(block(), reward);
    await expect
      .poll(() => item.locator('.laurel-reason').innerText())
      .toBe('Limit reached for now. Try again later.');
    expect(
      await item.locator('button[data-laurel-rewards-redeem]').getAttribute('aria-disabled'),
    ).toBe('true');
  });

  it('Rewards block: the free 50 g tin — its price off that variant, once (then limited)', async () => {
    const reward = rewardOf('free_product');
    const tin = demoProduct().variants[0]!;
    expect(reward.definition.variantId).toBe(`gid://shopify/ProductVariant/${tin.id}`);
    const before = await ledgerBalance();
    const redeemed = await redeem(block(), reward, { points: 400, worth: reward.definition.title });
    issued.set('free_product', redeemed);
    await expectDebited(redeemed, before, 400);
    await expectShopifyCode(redeemed, reward, {
      variantId: reward.definition.variantId!,
      amountMinor: tin.price, // Liquid prices are hundredths: USD minor units
    });
    const item = catalogItem(block(), reward);
    await expect
      .poll(() => item.locator('.laurel-reason').innerText())
      .toBe('You’ve reached the limit for this reward.');
  });

  it('Rewards block: the points slider, by keyboard alone, to 260 points = $13 off', async () => {
    const reward = rewardOf('points_slider');
    const item = catalogItem(block(), reward);
    const slider = item.locator('input[type="range"]');
    await slider.focus();
    await page.keyboard.press('Home');
    for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowRight');
    expect(await slider.inputValue()).toBe('260');
    expect(await item.locator('output').innerText()).toBe('260 points → $13 off');
    expect(await slider.getAttribute('aria-valuetext')).toBe('260 points → $13 off');
    await page.keyboard.press('Tab');
    const before = await ledgerBalance();
    const redeemed = await redeem(block(), reward, {
      points: 260,
      worth: '$13 off',
      keyboard: true,
    });
    issued.set('points_slider', redeemed);
    await expectDebited(redeemed, before, 260);
    await expectShopifyCode(redeemed, reward, { amountOffOrderMinor: 1300 });
    await page.screenshot({ path: join(ARTIFACTS, 'storefront-redeem-block.png'), fullPage: true });
  });
});

describe('and uses the code on an order', { timeout: 60_000 }, () => {
  /** orders/paid as Shopify sends it after a checkout with `code`, through the real endpoint. */
  async function paidOrder(
    orderId: number,
    options: Omit<Parameters<typeof orderPayload>[0], 'id'>,
  ) {
    const payload = orderPayload({
      ...options,
      id: orderId,
      processedAt: new Date().toISOString(),
      customer: {
        id: Number(member.externalId),
        email: member.email,
        firstName: member.firstName,
        lastName: member.lastName,
      },
      email: member.email,
    });
    await replayDeliveries({
      baseUrl: origin,
      shop: state.shop,
      secret: state.apiSecret,
      deliveries: [{ topic: 'orders/paid', payload, webhookId: randomUUID() }],
    });
  }

  it('orders/paid with the $5 and the free tin codes: both used; the panel lists them used, the rest as they are', async () => {
    const five = issued.get('fixed_amount')!.body.redemption;
    const free = issued.get('free_product')!.body.redemption;
    const tin = demoProduct().variants[0]!;
    const tinPrice = (tin.price / 100).toFixed(2);
    await paidOrder(9_100_000_001, {
      subtotal: '25.00',
      discounts: [{ code: five.code!.toLowerCase(), amount: '5.00' }], // as typed: any case
    });
    await paidOrder(9_100_000_002, {
      lineItems: [
        {
          title: `${demoProduct().title} - 200 g tin`,
          price: '85.50',
          variantId: demoProduct().variants[1]!.id,
        },
        { title: `${demoProduct().title} - 50 g tin`, price: tinPrice, variantId: tin.id },
      ],
      discounts: [{ code: free.code!, amount: tinPrice }],
    });
    for (const id of [five.id, free.id]) {
      await expect
        .poll(async () => (await getRedemption(db.db, shop.id, Number(id)))?.status, {
          timeout: 20_000,
        })
        .toBe('used');
    }
    expect(await getRedemption(db.db, shop.id, Number(five.id))).toMatchObject({
      shopifyOrderId: '9100000001',
      usedAt: expect.any(Date),
    });
    expect(await getRedemption(db.db, shop.id, Number(free.id))).toMatchObject({
      shopifyOrderId: '9100000002',
    });
    // `used` is set in the transaction that records the order: its points are in the ledger now.

    await openPanel();
    const mine = panel().locator('[data-laurel-rewards-mine-list] > li');
    await expect.poll(() => mine.count()).toBe(issued.size);
    const today = mediumDate.format(new Date());
    const statuses = await mine.evaluateAll((items) =>
      items.map((li) => ({
        id: (li as HTMLElement).dataset.laurelRedemption,
        status: (li as HTMLElement).dataset.status,
        text: (li as HTMLElement).innerText,
      })),
    );
    const expected = new Map([
      [five.id, 'used'],
      [free.id, 'used'],
      [issued.get('store_credit')!.body.redemption.id, 'credited'],
      [issued.get('free_shipping')!.body.redemption.id, 'issued'],
      [issued.get('percentage')!.body.redemption.id, 'issued'],
      [issued.get('points_slider')!.body.redemption.id, 'issued'],
    ]);
    // Newest first.
    expect(statuses.map((s) => s.id)).toEqual(
      [...issued.values()].map((r) => r.body.redemption.id).sort((a, b) => Number(b) - Number(a)),
    );
    for (const shown of statuses) {
      expect(shown.status, `redemption ${shown.id}`).toBe(expected.get(shown.id!));
      if (shown.status === 'used') expect(shown.text).toContain(`Used on ${today}`);
      if (shown.status === 'issued') expect(shown.text).toMatch(/Valid until /);
      if (shown.status === 'credited') expect(shown.text).toContain('Store credit added');
    }
    // The used codes are shown, without Copy or Apply; the issued ones keep them.
    for (const id of [five.id, free.id]) {
      const li = panel().locator(
        `[data-laurel-rewards-mine-list] > li[data-laurel-redemption="${id}"]`,
      );
      expect(await li.locator('code').innerText()).toBe(id === five.id ? five.code : free.code);
      expect(await li.locator('[data-laurel-rewards-apply]').count()).toBe(0);
    }
    const shipping = issued.get('free_shipping')!.body.redemption;
    const open = panel().locator(
      `[data-laurel-rewards-mine-list] > li[data-laurel-redemption="${shipping.id}"]`,
    );
    expect(await open.locator('a[data-laurel-rewards-apply]').getAttribute('href')).toBe(
      `/discount/${shipping.code}?redirect=/cart`,
    );
    await expect
      .poll(() =>
        page.locator('[data-laurel-panel-balance]').getAttribute('data-laurel-panel-balance'),
      )
      .toBe(String(await ledgerBalance()));
    // The history names each reward redeemed, with the points it took.
    const history = page.locator('[data-laurel-history] li');
    await history.first().waitFor();
    const shownEntries = new Map(
      await history.evaluateAll((items) =>
        items.map((li) => [
          (li as HTMLElement).dataset.laurelEntry!,
          (li as HTMLElement).innerText,
        ]),
      ),
    );
    const titles = new Map(
      (await listRedemptions(db.db, shop.id, member.id)).map((r) => [r.id, r.title]),
    );
    const debits = (await entriesFor(db.db, shop.id, member.id)).filter(
      (e) => e.source === 'redemption',
    );
    expect(debits).toHaveLength(issued.size);
    for (const debit of debits) {
      const id = Number(/^redemption:(\d+):debit$/.exec(debit.idempotencyKey)![1]);
      const text = shownEntries.get(String(debit.id));
      expect(text, `history entry ${debit.id}`).toContain(`Redeemed: ${titles.get(id)}`);
      expect(text).toContain(en.format(debit.points));
    }
    await panel().locator('[data-laurel-rewards-mine]').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'storefront-redeem-panel-used.png') });

    // A fresh page: the member's metafields, which Liquid renders, have caught up with it all.
    const balance = await ledgerBalance();
    await expect
      .poll(
        async () => {
          const html = await (await page.goto(`${preview}?customer=${member.externalId}`))!.text();
          return /data-laurel-balance="(\d+)"/.exec(html)?.[1];
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(String(balance));
    await catalogShown(block());
    await expectBalancesShown(balance);
  });
});

describe('the app behind it', () => {
  it('logged no error or warning but the tier refusal it was sent on purpose', () => {
    const lines = readFileSync(join(dir, 'demo.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (line) => JSON.parse(line) as { level: number; msg: string; path?: string; code?: string },
      );
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.level >= 40)).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'app proxy request refused',
        path: '/proxy/redeem',
        code: 'FORBIDDEN',
      }),
    ]);
  });
});

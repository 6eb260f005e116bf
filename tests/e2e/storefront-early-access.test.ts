/**
 * Early access in the storefront preview, in Chromium: the demo product under a window that lets
 * Gold members buy now and everyone else in two days. The window is saved through the app
 * (saveEarlyAccessWindow, checked against the Admin API emulator), mirrored to the product's
 * `$app.early_access` metafield by the real sync, and the members' `$app.tier` metafields are set
 * as the tier sync writes them; the preview (/dev/preview, through Remix's own routing) renders the
 * real early-access block from what the emulator holds.
 *
 * Ada (Gold) sees the product page with its buy button; Grace (Bronze) sees when she may buy and
 * no buy button — in the HTML as served, so nothing flashes: the page is checked with scripts off
 * too. Fails on any console error, page error, failed request or HTTP error. Screenshots:
 * tests/artifacts/storefront-early-access-*.png, and docs/images/storefront-early-access-gold.png /
 * -bronze.png (docs/early-access.md), written when missing or with UPDATE_DOC_IMAGES=1.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createRequestHandler } from '@remix-run/server-runtime';
import type { Page, Request as BrowserRequest } from 'playwright-core';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const DEMO = vi.hoisted(() => {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  const secret = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-demo-key',
    SHOPIFY_API_SECRET: secret,
    SHOPIFY_APP_URL: 'http://127.0.0.1:3000',
    SCOPES: 'read_customers,write_customers,read_orders',
    LOG_LEVEL: 'silent',
    SESSION_CACHE_TTL_MS: '0',
  });
  return { secret, shop: 'laurel-demo.myshopify.com', token: 'shpat_demo' };
});

// Shopify as the demo runs it, with Laurel's Function deployed. Started before the app's modules
// load: ADMIN_API_ENDPOINT is read once.
const EMULATOR = await vi.hoisted(async () => {
  const { startAdminEmulator } = await import('../../dev/emulator/server');
  const emulator = await startAdminEmulator({
    accessTokens: { 'laurel-demo.myshopify.com': 'shpat_demo' },
    functions: [
      { handle: 'laurel-early-access', apiType: 'cart_checkout_validation', title: 'Early access' },
    ],
  });
  process.env.ADMIN_API_ENDPOINT = emulator.endpointTemplate;
  return emulator;
});

import { getDatabase } from '../../app/db.server';
import { saveEarlyAccessWindow } from '../../app/early-access.server';
import { syncShopEarlyAccess } from '../../app/early-access-sync.server';
import { MetafieldsSet } from '../../app/graphql';
import { findCustomerByExternalId } from '../../app/models/customers.server';
import { getShopByDomain } from '../../app/models/shops.server';
import { createAdminClient } from '../../app/shopify/admin-client.server';
import { ROOT } from '../../dev/build';
import { demoProduct } from '../../dev/demo/storefront';
import { localTimeText } from '../../loyalty/early-access';
import { useDemoShop } from '../helpers/dev-demo';
import { launchChromium, type Chromium } from '../helpers/demo-process';
import { routeTreeBuild } from '../helpers/route-tree';
import { seedTierProgram, setMemberTier } from '../helpers/tiers';
import { watchPage } from '../helpers/watched-page';

useDemoShop(DEMO, EMULATOR);

const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const DOC_IMAGES = join(ROOT, 'docs', 'images');
const NY = 'America/New_York';
const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const EVERYONE = NOW + 48 * HOUR;

let server: Server;
let origin: string;
let browser: Chromium;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { db } = await getDatabase();
  const shop = (await getShopByDomain(db, DEMO.shop))!;
  await seedTierProgram(db, shop.id);
  const admin = createAdminClient({
    shop: DEMO.shop,
    accessToken: DEMO.token,
    endpoint: EMULATOR.endpointTemplate,
  });
  // The members' tiers in Laurel, and on their Shopify customers as the tier sync writes them.
  for (const [externalId, tier] of [
    ['7001', 'gold'],
    ['7002', 'bronze'],
  ] as const) {
    const customer = (await findCustomerByExternalId(db, shop.id, externalId))!;
    await setMemberTier(db, shop.id, customer.id, tier);
  }
  await admin.request(MetafieldsSet, {
    metafields: [
      ['7001', 'gold'],
      ['7002', 'bronze'],
    ].map(([id, tier]) => ({
      ownerId: `gid://shopify/Customer/${id}`,
      namespace: '$app',
      key: 'tier',
      type: 'single_line_text_field',
      value: tier!,
    })),
  });
  await saveEarlyAccessWindow(
    { db, shopId: shop.id, admin },
    {
      name: 'Gyokuro first flush',
      target: { type: 'product', id: String(demoProduct().id) },
      stages: [{ tier: 'gold', opensAt: localTimeText(NOW - HOUR, NY).slice(0, 16) }],
      everyoneAt: localTimeText(EVERYONE, NY).slice(0, 16),
    },
  );
  const synced = await syncShopEarlyAccess({
    db,
    shop: DEMO.shop,
    log: pino({ level: 'silent' }),
    endpoint: EMULATOR.endpointTemplate,
  });
  expect(synced).toMatchObject({ status: 'synced', written: 1, validation: 'created' });

  const handler = createRequestHandler(
    routeTreeBuild({
      'routes/dev.preview': await import('../../app/routes/dev.preview'),
      'routes/dev.preview_.assets.$': await import('../../app/routes/dev.preview_.assets.$'),
      'routes/($locale).apps.loyalty.$': await import('../../app/routes/($locale).apps.loyalty.$'),
    }),
  );
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const request = new Request(`${origin}${req.url}`, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        ...(body && req.method !== 'GET' && req.method !== 'HEAD' ? { body } : {}),
      });
      handler(request)
        .then(async (response) => {
          res.writeHead(response.status, Object.fromEntries(response.headers));
          res.end(Buffer.from(await response.arrayBuffer()));
        })
        .catch((error: Error) => {
          res.writeHead(500);
          res.end(error.message);
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
  await EMULATOR.close();
});

async function open(customer: string, options: { javaScript?: boolean } = {}) {
  const problems: string[] = [];
  const requests: BrowserRequest[] = [];
  const page: Page = await browser.context.newPage();
  if (options.javaScript === false) {
    // The persistent context cannot turn scripts off for one page; Chromium's DevTools can.
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Emulation.setScriptExecutionDisabled', { value: true });
  }
  await watchPage(page, problems, requests);
  await page.setViewportSize({ width: 1000, height: 900 });
  const response = await page.goto(`${origin}/dev/preview?customer=${customer}`, {
    waitUntil: 'networkidle',
  });
  expect(response?.status()).toBe(200);
  return { page, problems };
}

const everyoneText = () => {
  const at = localTimeText(EVERYONE, NY);
  const month = 'Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec'.split(',')[
    Number(at.slice(5, 7)) - 1
  ];
  return `${month} ${Number(at.slice(8, 10))}, ${at.slice(11, 16)}`;
};

/** GET /apps/loyalty/early-access for the page's product, from the page (the preview signs it). */
const proxyAnswer = (page: Page) =>
  page.evaluate(async (product) => {
    const response = await fetch(`/apps/loyalty/early-access?product=${product}`, {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    return (await response.json()) as unknown;
  }, demoProduct().id);

function keep(shot: string, docName: string) {
  const image = join(DOC_IMAGES, docName);
  // Copied only when missing or asked for: the dates differ every run, the committed one stays.
  if (!existsSync(image) || process.env.UPDATE_DOC_IMAGES === '1') copyFileSync(shot, image);
}

describe('early access in the storefront preview', () => {
  it('a Gold member may buy: told so, the buy button is there', async () => {
    const { page, problems } = await open('7001');
    await expect(page.locator('[data-laurel-early-access]').count()).resolves.toBe(0);
    await expect(page.locator('[data-laurel-early-access-member]').innerText()).resolves.toContain(
      'Early access for Gold members: you can buy this now.',
    );
    await expect(page.locator('.product-form [type=submit]').isVisible()).resolves.toBe(true);
    // The app proxy agrees, asked from the page as a storefront script would.
    await expect(proxyAnswer(page)).resolves.toMatchObject({
      allowed: true,
      opensAt: null,
      tier: { key: 'gold', name: 'Gold' },
    });
    const shot = join(ARTIFACTS, 'storefront-early-access-gold.png');
    await page.locator('section.product').screenshot({ path: shot });
    keep(shot, 'storefront-early-access-gold.png');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a Bronze member may not yet: told when, no buy button — already in the served HTML', async () => {
    const { page, problems } = await open('7002');
    const notice = page.locator('[data-laurel-early-access]');
    await expect(notice.isVisible()).resolves.toBe(true);
    await expect(notice.locator('[data-laurel-early-access-opens]').innerText()).resolves.toBe(
      `You can buy this from ${everyoneText()}.`,
    );
    await expect(
      notice.locator('[data-laurel-early-access-schedule]').innerText(),
    ).resolves.toContain('Gold members from');
    await expect(page.locator('.product-form [type=submit]').isVisible()).resolves.toBe(false);
    await expect(proxyAnswer(page)).resolves.toMatchObject({
      allowed: false,
      opensAt: new Date(EVERYONE).toISOString(),
      tier: { key: 'bronze', name: 'Bronze' },
    });
    const shot = join(ARTIFACTS, 'storefront-early-access-bronze.png');
    await page.locator('section.product').screenshot({ path: shot });
    keep(shot, 'storefront-early-access-bronze.png');
    expect(problems).toEqual([]);
    await page.close();

    // With scripts off the page is the same: the decision is the server's, nothing to flash.
    const still = await open('7002', { javaScript: false });
    await expect(still.page.locator('.product-form [type=submit]').isVisible()).resolves.toBe(
      false,
    );
    await expect(still.page.locator('[data-laurel-early-access]').isVisible()).resolves.toBe(true);
    await still.page.close();
  });
});

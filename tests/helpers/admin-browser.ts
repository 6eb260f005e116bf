/**
 * The embedded admin in Chromium, opened as the demo opens it: /dev/admin (a minted session token,
 * the App Bridge stand-in; docs/demo.md). The built server runs as a child in the demo
 * configuration — NODE_ENV=development, a demo state file naming the shop and the secret — on the
 * caller's own PostgreSQL database, so a test can seed data and read what the pages saved. Pages
 * record every console error or warning, page error, failed request and HTTP error the
 * environment does not explain. (The same setup as tests/e2e/admin-rewards.test.ts, shared by the
 * tiers and early-access admin tests.)
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConsoleMessage, Page } from 'playwright-core';
import { ROOT } from '../../dev/build';
import { startAdminEmulator, type AdminEmulator } from '../../dev/emulator/server';
import type { ShopSettings } from '../../dev/emulator/state';
import { ensureAppBuilt, freePort, startAppProcess, type AppProcess } from './app-server';
import { launchChromium, type Chromium } from './demo-process';
import { obliterateWorkerQueues, TEST_REDIS_URL } from './pipeline';

export const ARTIFACTS = join(ROOT, 'tests', 'artifacts');

export interface AdminBrowser {
  app: AppProcess;
  /** Shopify as the demo runs it: the app's ADMIN_API_ENDPOINT, holding the shop. */
  emulator: AdminEmulator;
  browser: Chromium;
  /** A page recording its problems; push patterns to `expected` for errors a step provokes. */
  watchedPage(): Promise<{ page: Page; problems: string[]; expected: RegExp[] }>;
  /** Stops Chromium and the server, empties the queues. */
  close(): Promise<void>;
}

/**
 * Starts the Admin API emulator (accepting `accessToken` for `shop`, the shop's settings set), the
 * built app for `shop` on `databaseUrl` against it (extra environment in `env`), and Chromium.
 * The shop must already have an offline session with that token (tests/helpers/sessions.ts).
 */
export async function startAdminBrowser(options: {
  shop: string;
  accessToken: string;
  databaseUrl: string;
  queuePrefix: string;
  settings?: Partial<ShopSettings>;
  env?: Record<string, string>;
}): Promise<AdminBrowser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await ensureAppBuilt();
  const emulator = await startAdminEmulator({
    accessTokens: { [options.shop]: options.accessToken },
    nodeEnv: 'test',
    functions: [
      { handle: 'laurel-early-access', apiType: 'cart_checkout_validation', title: 'Early access' },
    ],
  });
  emulator.state.shop(options.shop, options.settings ?? {});
  const secret = randomBytes(32).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'laurel-admin-browser-'));
  const stateFile = join(dir, 'pglite-demo.json');
  writeFileSync(stateFile, JSON.stringify({ version: 1, shop: options.shop, apiSecret: secret }));
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const app = await startAppProcess({
    env: {
      NODE_ENV: 'development',
      PORT: String(port),
      DATABASE_URL: options.databaseUrl,
      QUEUE_PREFIX: options.queuePrefix,
      SHOPIFY_API_SECRET: secret,
      SHOPIFY_APP_URL: appUrl,
      DEMO_STATE_FILE: stateFile,
      APP_BRIDGE_URL: `${appUrl}/dev/app-bridge.js`,
      SESSION_CACHE_TTL_MS: '0',
      LOG_LEVEL: 'warn',
      ADMIN_API_ENDPOINT: emulator.endpointTemplate,
      ...options.env,
    },
  }).catch(async (error: unknown) => {
    await emulator.close();
    throw error;
  });
  let browser: Chromium;
  try {
    browser = await launchChromium();
  } catch (error) {
    await app.stop();
    await emulator.close();
    throw error;
  }
  return {
    app,
    emulator,
    browser,
    watchedPage: () => watchedAdminPage(browser),
    async close() {
      await browser.close();
      await app.stop();
      await emulator.close();
      await obliterateWorkerQueues({ redisUrl: TEST_REDIS_URL, prefix: options.queuePrefix }).catch(
        () => {},
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What the environment, not the app, makes the browser report. Shopify's library answers every
 * admin document with `Link` preload headers for cdn.shopify.com (App Bridge, the Inter font),
 * which a sandbox without internet cannot reach and which the dev stand-in for App Bridge makes
 * unused; and the app has no favicon. Nothing else is tolerated.
 */
const ENVIRONMENT = [
  /^failed request: https:\/\/cdn\.shopify\.com\/.* \(net::ERR_NAME_NOT_RESOLVED\)$/,
  /^console\.error: Failed to load resource: net::ERR_NAME_NOT_RESOLVED \(https:\/\/cdn\.shopify\.com\//,
  /^console\.warning: The resource https:\/\/cdn\.shopify\.com\/\S+ was preloaded using link preload but not used/,
  /^console\.error: Failed to load resource: the server responded with a status of 404 .*\/favicon\.ico\)$/,
  /^HTTP 404: GET http:\/\/127\.0\.0\.1:\d+\/favicon\.ico$/,
];

/** A page whose every console error/warning, page error, failed request and HTTP error is kept. */
export async function watchedAdminPage(
  browser: Chromium,
): Promise<{ page: Page; problems: string[]; expected: RegExp[] }> {
  const page = await browser.context.newPage();
  const problems: string[] = [];
  const expected: RegExp[] = [];
  const allowed = (text: string) =>
    [...ENVIRONMENT, ...expected].some((pattern) => pattern.test(text));
  page.on('console', (message: ConsoleMessage) => {
    const line = `console.${message.type()}: ${message.text()} (${message.location().url})`;
    if ((message.type() === 'error' || message.type() === 'warning') && !allowed(line)) {
      problems.push(line);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    const line = `failed request: ${request.url()} (${request.failure()?.errorText})`;
    if (!allowed(line)) problems.push(line);
  });
  page.on('response', (response) => {
    const line = `HTTP ${response.status()}: ${response.request().method()} ${response.url()}`;
    if (response.status() >= 400 && !allowed(line)) problems.push(line);
  });
  return { page, problems, expected };
}

/** Remix has hydrated the page (a form submitted before would be a plain document POST). */
export async function hydrated(page: Page): Promise<void> {
  await page.waitForFunction(() => '__remixRouter' in window, undefined, { timeout: 15_000 });
  await page.waitForLoadState('networkidle');
}

/**
 * A full-page screenshot into tests/artifacts/<name>.png. With `doc`, also docs/images/<name>.png
 * (docs/admin.md shows it) — written when missing or with UPDATE_DOC_IMAGES=1, since dates and
 * counts differ from run to run and the committed picture should not churn.
 */
export async function shot(page: Page, name: string, options: { doc?: boolean } = {}) {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  const doc = join(ROOT, 'docs', 'images', `${name}.png`);
  if (options.doc && (!existsSync(doc) || process.env.UPDATE_DOC_IMAGES === '1')) {
    copyFileSync(path, doc);
  }
}

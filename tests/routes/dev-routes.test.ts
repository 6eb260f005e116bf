/**
 * The dev-only routes (app/routes/dev.*): every one refuses in production (404) and outside the
 * demo configuration (403), and in the demo configuration they open the real embedded admin
 * (authenticate.admin unchanged), mint tokens, serve the App Bridge stand-in and the preview.
 */
import { writeFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { Session } from '@shopify/shopify-api';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

const DEMO = vi.hoisted(() => {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  const secret = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const env = {
    SHOPIFY_API_KEY: 'laurel-demo-key',
    SHOPIFY_API_SECRET: secret,
    SHOPIFY_APP_URL: 'http://127.0.0.1:3000',
    SCOPES: 'read_customers,write_customers,read_orders',
    LOG_LEVEL: 'silent',
    SESSION_CACHE_TTL_MS: '0',
  };
  Object.assign(process.env, env);
  return { secret, shop: 'laurel-demo.myshopify.com' };
});

import { useDatabase } from '../../app/db.server';
import { DEV_APP_BRIDGE_SCRIPT } from '../../app/dev-app-bridge.server';
import { ensureCustomer } from '../../app/models/customers.server';
import { post } from '../../app/models/ledger.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop } from '../../app/models/shops.server';
import { loader as adminIndex } from '../../app/routes/app._index';
import { loader as devAdmin } from '../../app/routes/dev.admin';
import { loader as devPreview } from '../../app/routes/dev.preview';
import { loader as devSessionToken } from '../../app/routes/dev.session-token';
import { sessionStorage } from '../../app/shopify.server';
import { referenceProgram } from '../../loyalty/program';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

const ROUTES_DIR = fileURLToPath(new URL('../../app/routes', import.meta.url));
const DEV_ROUTES = readdirSync(ROUTES_DIR).filter((f) => /^dev\./.test(f) && !/\.test\./.test(f));
const dir = mkdtempSync(join(tmpdir(), 'laurel-dev-routes-'));
const stateFile = join(dir, 'pglite-demo.json');
const args = (url: string, init?: RequestInit) =>
  ({
    request: new Request(`http://127.0.0.1:3000${url}`, init),
    params: {},
    context: {},
  }) as LoaderFunctionArgs;

async function thrownBy(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  return undefined;
}

type Loader = (a: LoaderFunctionArgs) => unknown;
async function devLoaders(): Promise<[string, Loader][]> {
  return Promise.all(
    DEV_ROUTES.map(async (file) => {
      const module = (await import(join(ROUTES_DIR, file))) as { loader?: Loader };
      if (!module.loader) throw new Error(`${file} has no loader`);
      return [file, module.loader] as [string, Loader];
    }),
  );
}

let db: TestDatabase;
beforeAll(async () => {
  writeFileSync(stateFile, JSON.stringify({ version: 1, shop: DEMO.shop, apiSecret: DEMO.secret }));
  process.env.DEMO_STATE_FILE = stateFile;
  db = await createTestDatabase('pglite');
  useDatabase(db);
  const shop = await ensureShop(db.db, {
    domain: DEMO.shop,
    currency: 'USD',
    timezone: 'America/New_York',
  });
  await publishProgram(db.db, shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
  for (const [externalId, firstName, points] of [
    ['7001', 'Ada', 120],
    ['7002', 'Grace', 30],
  ] as const) {
    const customer = await ensureCustomer(db.db, shop.id, { externalId, firstName });
    await post(db.db, shop.id, {
      customerId: customer.id,
      idempotencyKey: `order:${externalId}:earn`,
      source: 'order',
      points,
      occurredAt: new Date('2026-03-01T17:00:00Z'),
      programVersion: 1,
      inputs: { amountMinor: points * 100, currency: 'USD' },
    });
  }
  await ensureCustomer(db.db, shop.id, { externalId: '7003', firstName: 'Linus' });
  await sessionStorage.storeSession(
    new Session({
      id: `offline_${DEMO.shop}`,
      shop: DEMO.shop,
      state: 'installed',
      isOnline: false,
      scope: process.env.SCOPES,
      accessToken: 'shpat_demo',
    }),
  );
});
afterAll(async () => {
  useDatabase(undefined);
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('every dev route', () => {
  it('is one of the known ones (a new dev route must go through requireDevAccess too)', () => {
    expect(DEV_ROUTES.sort()).toEqual([
      'dev.admin.tsx',
      'dev.app-bridge[.js].tsx',
      'dev.preview.tsx',
      'dev.session-token.tsx',
    ]);
  });

  it('answers 404 with the reason when NODE_ENV=production, even with the demo secret', async () => {
    vi.stubEnv('NODE_ENV', 'production');
    for (const [file, loader] of await devLoaders()) {
      const thrown = await thrownBy(() => loader(args('/dev/x')));
      expect(thrown, file).toBeInstanceOf(Response);
      expect((thrown as Response).status, file).toBe(404);
      expect(await (thrown as Response).text(), file).toMatch(/do not exist in production/);
    }
  });

  it('answers 403 with the reason when the secret is not the demo one', async () => {
    vi.stubEnv('SHOPIFY_API_SECRET', 'shpss_0123456789abcdef0123456789abcdef');
    for (const [file, loader] of await devLoaders()) {
      const thrown = await thrownBy(() => loader(args('/dev/x')));
      expect((thrown as Response).status, file).toBe(403);
      expect(await (thrown as Response).text(), file).toMatch(/not the secret `npm run demo`/);
    }
  });

  it('answers 403 when there is no demo state file', async () => {
    vi.stubEnv('DEMO_STATE_FILE', join(dir, 'nothing-here.json'));
    for (const [file, loader] of await devLoaders()) {
      const thrown = await thrownBy(() => loader(args('/dev/x')));
      expect((thrown as Response).status, file).toBe(403);
      expect(await (thrown as Response).text(), file).toMatch(/no demo state file/);
    }
  });
});

describe('in the demo configuration', () => {
  it('/dev/admin opens the embedded admin: the real authenticate.admin accepts its URL', async () => {
    const response = (await devAdmin(args('/dev/admin'))) as Response;
    expect(response.status).toBe(302);
    const location = response.headers.get('Location')!;
    expect(location).toMatch(
      /^\/app\?embedded=1&shop=laurel-demo\.myshopify\.com&host=.+&id_token=/,
    );
    const data = await adminIndex(
      args(location, { headers: { 'User-Agent': 'Mozilla/5.0 Chrome/120' } }),
    );
    expect(data).toMatchObject({
      shop: DEMO.shop,
      setUp: true,
      program: { version: 1, name: 'Reference' },
      members: 3,
      pointsOutstanding: 150,
    });
  });

  it('/dev/session-token gives a bearer token the admin accepts on data requests', async () => {
    const response = devSessionToken();
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const { token, exp } = (await response.json()) as { token: string; exp: number };
    expect(exp).toBeGreaterThan(Date.now() / 1000);
    const data = await adminIndex(
      args('/app.data', { headers: { Authorization: `Bearer ${token}` } }),
    );
    expect(data).toMatchObject({ shop: DEMO.shop, members: 3 });
  });

  it('/dev/admin refuses a path outside /app', async () => {
    const thrown = await thrownBy(() => devAdmin(args('/dev/admin?path=https://evil.example/')));
    expect((thrown as Response).status).toBe(400);
  });

  it('/dev/app-bridge.js serves the stand-in script', async () => {
    const { loader } = (await import('../../app/routes/dev.app-bridge[.js]')) as {
      loader: Loader;
    };
    const response = (await loader(args('/dev/app-bridge.js'))) as Response;
    expect(response.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    const script = await response.text();
    expect(script).toBe(DEV_APP_BRIDGE_SCRIPT);
    // The parts authentication relies on (see the library's authenticate.admin).
    expect(script).toContain("'/dev/session-token'");
    expect(script).toContain("'X-Shopify-Retry-Invalid-Session-Request'");
    expect(script).toContain("'/auth/session-token'");
    expect(() => new Function(script)).not.toThrow();
  });

  it('/dev/preview lists the members with their balances and shows the chosen one', async () => {
    const all = (await devPreview(args('/dev/preview'))) as Extract<
      Awaited<ReturnType<typeof devPreview>>,
      { setUp: true }
    >;
    expect(all.members.map((m) => [m.externalId, m.name, m.balance])).toEqual([
      ['7001', 'Ada', 120],
      ['7002', 'Grace', 30],
      ['7003', 'Linus', 0],
    ]);
    expect(all.selected).toBeNull();
    const one = (await devPreview(args('/dev/preview?customer=7001'))) as typeof all;
    expect(one.selected).toEqual({
      externalId: '7001',
      name: 'Ada',
      balance: 120,
      lifetimeEarned: 120,
      entries: [{ key: 'order:7001:earn', source: 'order', points: 120, day: '2026-03-01' }],
    });
    const unknown = (await devPreview(args('/dev/preview?customer=999'))) as typeof all;
    expect(unknown.unknownCustomer).toBe('999');
  });
});

/**
 * The dev-only routes (app/routes/dev.*, and the app proxy stand-in): every one refuses in
 * production (404) and outside the demo configuration (403), and in the demo configuration they
 * open the real embedded admin (authenticate.admin unchanged), mint tokens and serve the App
 * Bridge stand-in. The storefront preview, its assets and the app proxy stand-in are tested in
 * dev-preview.test.ts.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

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
  return { secret, shop: 'laurel-demo.myshopify.com', token: 'shpat_demo' };
});

import { DEV_APP_BRIDGE_SCRIPT } from '../../app/dev-app-bridge.server';
import { loader as adminIndex } from '../../app/routes/app._index';
import { loader as devAdmin } from '../../app/routes/dev.admin';
import { loader as devSessionToken } from '../../app/routes/dev.session-token';
import { args, thrownBy, useDemoShop, type Loader } from '../helpers/dev-demo';

const ROUTES_DIR = fileURLToPath(new URL('../../app/routes', import.meta.url));
// The /dev/* routes and the app proxy stand-in (/apps/loyalty/*, with its optional locale).
const DEV_ROUTES = readdirSync(ROUTES_DIR).filter(
  (f) => /^(dev\.|\(\$locale\)\.apps\.loyalty\.)/.test(f) && !/\.test\./.test(f),
);
const { dir } = useDemoShop(DEMO);

/** Every dev route's loader, and its action when it has one. */
async function devLoaders(): Promise<[string, Loader][]> {
  const found: [string, Loader][] = [];
  for (const file of DEV_ROUTES) {
    const module = (await import(join(ROUTES_DIR, file))) as { loader?: Loader; action?: Loader };
    if (!module.loader) throw new Error(`${file} has no loader`);
    found.push([file, module.loader]);
    if (module.action) found.push([`${file} (action)`, module.action]);
  }
  return found;
}

describe('every dev route', () => {
  it('is one of the known ones (a new dev route must go through requireDevAccess too)', () => {
    expect(DEV_ROUTES.sort()).toEqual([
      '($locale).apps.loyalty.$.tsx',
      'dev.admin.tsx',
      'dev.app-bridge[.js].tsx',
      'dev.preview.tsx',
      'dev.preview_.assets.$.tsx',
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
      shop: { domain: DEMO.shop },
      setUp: true,
      program: { version: 1, name: 'Reference' },
      members: '3',
    });
    const { comparisons } = data as { comparisons: { label: string; current: string }[] };
    expect(comparisons.find((c) => c.label === 'Points outstanding at the end')?.current).toBe(
      '150',
    );
  });

  it('/dev/session-token gives a bearer token the admin accepts on data requests', async () => {
    const response = devSessionToken();
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    const { token, exp } = (await response.json()) as { token: string; exp: number };
    expect(exp).toBeGreaterThan(Date.now() / 1000);
    const data = await adminIndex(
      args('/app.data', { headers: { Authorization: `Bearer ${token}` } }),
    );
    expect(data).toMatchObject({ shop: { domain: DEMO.shop }, members: '3' });
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
});

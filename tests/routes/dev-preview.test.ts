/**
 * The storefront preview's dev routes (app/routes/dev.preview*, ($locale).apps.loyalty.$): the
 * preview page with the theme extension's real blocks (objects read from the Admin API emulator),
 * its assets, and the app proxy stand-in that signs /apps/loyalty requests as Shopify does. Their
 * refusals in production and outside the demo configuration are in dev-routes.test.ts.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequestHandler } from '@remix-run/server-runtime';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

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

// The Admin API the preview reads Liquid's objects from, as the demo runs it. Started before the
// app's modules load: the environment (ADMIN_API_ENDPOINT) is read once.
const EMULATOR = await vi.hoisted(async () => {
  const { startAdminEmulator } = await import('../../dev/emulator/server');
  const emulator = await startAdminEmulator({
    accessTokens: { 'laurel-demo.myshopify.com': 'shpat_demo' },
  });
  process.env.ADMIN_API_ENDPOINT = emulator.endpointTemplate;
  return emulator;
});

import { appProxySignature } from '../../app/app-proxy.server';
import { getDatabase } from '../../app/db.server';
import { findCustomerByExternalId } from '../../app/models/customers.server';
import { ensureReferralCodes, setReferralCodeStatus } from '../../app/models/referral-codes.server';
import { publishReferralProgram } from '../../app/models/referral-programs.server';
import { getShopByDomain } from '../../app/models/shops.server';
import {
  previewCustomerCookie,
  PREVIEW_CUSTOMER_COOKIE,
  signAsAppProxy,
} from '../../app/dev-app-proxy.server';
import { loader as proxySummary } from '../../app/routes/proxy';
import { loader as devPreview } from '../../app/routes/dev.preview';
import { storefrontLiquidPage } from '../../app/storefront-preview.server';
import { themeAssetResponse, themeExtensionDir } from '../../app/theme-extension.server';
import { routeManifest, routeTreeBuild } from '../helpers/route-tree';
import { args, thrownBy, useDemoShop, type Loader } from '../helpers/dev-demo';

useDemoShop(DEMO, EMULATOR);
afterAll(async () => {
  await EMULATOR.close();
});

describe('/dev/preview, the storefront preview', () => {
  async function page(query = '') {
    const response = (await devPreview(args(`/dev/preview${query}`))) as Response;
    return { response, html: await response.text() };
  }
  const balanceOf = (html: string) => /data-laurel-balance="(\d+)"/.exec(html)?.[1];

  it('renders the real blocks on a plain page: balance, product with a variant picker, launcher', async () => {
    const { response, html } = await page();
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('data-laurel-balance-block');
    expect(html).toContain('data-laurel-product-points');
    expect(html).toMatch(
      /<form class="product-form" action="\/cart\/add" method="post">[\s\S]*<select id="product-variant" name="id">/,
    );
    // The embed is the last thing in the body, as Shopify places an app embed.
    const launcherAt = html.indexOf('data-laurel-launcher');
    expect(launcherAt).toBeGreaterThan(html.indexOf('</main>'));
    expect(html.indexOf('</body>')).toBeGreaterThan(launcherAt);
    // The blocks' schema assets, once each, from the asset route; no other script or stylesheet.
    // The rewards scripts come with both the Rewards block and the launcher (each guards against
    // running twice); laurel.js once, from the blocks' schema; laurel-referral.js from the Refer a
    // friend block's schema (and the launcher's, once the shop's referral program is on).
    const scripts = html.match(/<script src=[^>]*>/g) ?? [];
    expect([...new Set(scripts)].sort()).toEqual([
      '<script src="/dev/preview/assets/laurel-redeem.js" defer="defer">',
      '<script src="/dev/preview/assets/laurel-referral.js" defer="defer">',
      '<script src="/dev/preview/assets/laurel-rewards.js" defer="defer">',
      '<script src="/dev/preview/assets/laurel.js" defer="defer">',
    ]);
    expect(scripts.filter((s) => s.includes('/laurel.js'))).toHaveLength(1);
    expect(html.match(/<link [^>]*rel="stylesheet"[^>]*>/g)).toEqual([
      '<link href="/dev/preview/assets/laurel.css" rel="stylesheet" type="text/css" media="all">',
    ]);
    expect(html.match(/<script\b/g)).toHaveLength(
      scripts.length + (html.match(/<script type="application\/json"/g)?.length ?? 0),
    );
    expect(html).toContain('<link rel="icon" href="data:,">');
    for (const [, url] of html.matchAll(/\b(?:src|href|action)="([^"]*)"/g)) {
      expect(url, 'a URL off the dev server').toMatch(/^(\/|\?|#|data:)/);
    }
  });

  it('logged out: the signed-out block and a chooser of every member; the preview cookie cleared', async () => {
    const { response, html } = await page();
    expect(response.headers.get('Set-Cookie')).toBe(
      `${PREVIEW_CUSTOMER_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`,
    );
    expect(html).toContain('data-laurel-signed-out');
    expect(balanceOf(html)).toBeUndefined();
    expect(html).toContain('href="/account/login"');
    expect(html).toContain('href="/account/register"');
    const chooser = /<select id="preview-customer" name="customer">([\s\S]*?)<\/select>/.exec(
      html,
    )![1]!;
    const options = [...chooser.matchAll(/<option value="(\d*)"(?: data-balance="(\d+)")?/g)];
    expect(options.map((o) => [o[1], o[2]])).toEqual([
      ['', undefined],
      ['7001', '120'],
      ['7002', '30'],
      ['7003', '0'],
    ]);
  });

  it('a member: the balance block shows the $app metafields Shopify holds; the cookie names them', async () => {
    const { response, html } = await page('?customer=7001');
    expect(response.status).toBe(200);
    expect(response.headers.get('Set-Cookie')).toBe(
      `${PREVIEW_CUSTOMER_COOKIE}=7001; Path=/; HttpOnly; SameSite=Lax`,
    );
    expect(balanceOf(html)).toBe('120');
    expect(html).toMatch(/data-laurel-lifetime="120"/);
    expect(html).not.toContain('data-laurel-signed-out');
    expect(html).toMatch(/<option value="7001" data-balance="120" selected>/);
  });

  it('reads the metafield, not the ledger: what the sync wrote is what a shopper sees', async () => {
    // 7003: no ledger entry, a metafield of 55. 7002: 30 in the ledger, no metafield yet.
    expect(balanceOf((await page('?customer=7003')).html)).toBe('55');
    const pending = await page('?customer=7002');
    expect(pending.response.status).toBe(200);
    expect(balanceOf(pending.html)).toBeUndefined();
    expect(pending.html).toContain('data-laurel-balance-block');
  });

  it('?locale=fr renders the French strings of the extension and French routes', async () => {
    const strings = (value: unknown): string[] =>
      typeof value === 'string'
        ? [value]
        : Object.values(value as Record<string, unknown>).flatMap(strings);
    const french = strings(
      JSON.parse(readFileSync(join(themeExtensionDir(), 'locales', 'fr.json'), 'utf8')),
    );
    const { response, html } = await page('?locale=fr');
    expect(response.status).toBe(200);
    expect(html).toContain('<html lang="fr">');
    expect(html).toContain('href="/fr/account/login"');
    expect(html).toContain('data-root="/fr"');
    const english = (await page()).html;
    // Whole strings of fr.json (those without placeholders) on the page, and not on the English one.
    const frenchOnly = french
      .filter((text) => !text.includes('{{') && text.length > 3)
      .filter((text) => html.includes(text) && !english.includes(text));
    expect(frenchOnly.length).toBeGreaterThanOrEqual(5);
  });

  it.each([
    ['?customer=abc', 400, /\?customer= must be a Shopify customer id/],
    ['?customer=7001&customer=7002', 400, /given more than once/],
    ['?locale=de', 400, /\?locale= must be a language of the extension \(en, fr\)/],
    ['?variant=x', 400, /\?variant= must be a variant id/],
    ['?customer=999', 404, /No demo customer has the id 999/],
  ])('%s → %i with the reason, and the chooser', async (query, status, reason) => {
    const { response, html } = await page(query);
    expect(response.status).toBe(status);
    expect(html).toMatch(reason);
    expect(html).toContain('<select id="preview-customer" name="customer">');
    expect(html).not.toContain('data-laurel-balance-block');
  });
});

describe('/dev/preview/assets/*, the theme extension assets', () => {
  const assets = async (name: string, method = 'GET') => {
    const { loader } = (await import('../../app/routes/dev.preview_.assets.$')) as {
      loader: Loader;
    };
    return (await loader(args(`/dev/preview/assets/x`, { method }, { '*': name }))) as Response;
  };
  const files = readdirSync(join(themeExtensionDir(), 'assets'));

  it('serves every asset with its content type, bytes unchanged', async () => {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const response = await assets(file);
      expect(response.status, file).toBe(200);
      const type = response.headers.get('Content-Type');
      if (file.endsWith('.js')) expect(type, file).toBe('text/javascript; charset=utf-8');
      if (file.endsWith('.css')) expect(type, file).toBe('text/css; charset=utf-8');
      expect(response.headers.get('X-Content-Type-Options')).toBe('nosniff');
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.equals(readFileSync(join(themeExtensionDir(), 'assets', file))), file).toBe(
        true,
      );
    }
    const head = await assets(files[0]!, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it.each([
    '../shopify.extension.toml',
    '../../package.json',
    '../../../.env',
    '..',
    '/etc/passwd',
    'sub/laurel.js',
    'laurel.js/../../package.json',
    '.gitignore',
    '',
    'laurel.js\0.png',
    '..\\..\\package.json',
  ])('refuses %j without reading outside assets/', async (name) => {
    const response = await assets(name);
    expect([400, 404]).toContain(response.status);
    expect(response.headers.get('Content-Type')).toBe('text/plain; charset=utf-8');
  });

  it('refuses a symlink out of assets/, a folder, an unknown type and a missing file', () => {
    const root = mkdtempSync(join(tmpdir(), 'laurel-theme-'));
    try {
      mkdirSync(join(root, 'assets', 'folder.js'), { recursive: true });
      writeFileSync(join(root, 'secret.js'), 'secret');
      writeFileSync(join(root, 'assets', 'tool.sh'), 'echo');
      writeFileSync(join(root, 'assets', 'ok.js'), 'ok');
      symlinkSync(join(root, 'secret.js'), join(root, 'assets', 'escape.js'));
      expect(themeAssetResponse('ok.js', { dir: root }).status).toBe(200);
      for (const name of ['escape.js', 'folder.js', 'tool.sh', 'missing.js']) {
        expect(themeAssetResponse(name, { dir: root }).status, name).toBe(404);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('/apps/loyalty/*, the app proxy stand-in', () => {
  const standIn = async (
    path: string,
    options: { cookie?: string; method?: string; locale?: string } = {},
  ) => {
    const { loader, action } = (await import('../../app/routes/($locale).apps.loyalty.$')) as {
      loader: Loader;
      action: Loader;
    };
    const splat = path.split('?')[0]!.replace(/^\/apps\/loyalty\/?/, '');
    const url = `${options.locale ? `/${options.locale}` : ''}${path}`;
    const method = options.method ?? 'GET';
    const request = {
      method,
      headers: {
        Accept: 'application/json',
        ...(options.cookie !== undefined && { Cookie: options.cookie }),
      },
    };
    const params = { '*': splat, ...(options.locale && { locale: options.locale }) };
    const handler = method === 'GET' ? loader : action;
    return (await handler(args(url, request, params))) as Response;
  };
  const cookie = (id: string) => `${PREVIEW_CUSTOMER_COOKIE}=${id}`;

  it("answers as the real proxy route for the previewed customer, signed as Shopify's proxy", async () => {
    const response = await standIn('/apps/loyalty', { cookie: `other=1; ${cookie('7001')}` });
    expect(response.status).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('private, no-store');
    expect(await response.json()).toMatchObject({
      loggedIn: true,
      customerId: '7001',
      enrolled: true,
      balance: 120,
      lifetimeEarned: 120,
    });
  });

  it('/apps/loyalty/r/<code> reaches the share link landing with the code as its param', async () => {
    const { db } = await getDatabase();
    const shop = (await getShopByDomain(db, DEMO.shop))!;
    await publishReferralProgram(db, shop.id, {
      enabled: true,
      currency: 'USD',
      friendDiscount: { percentage: 10 },
      referrerReward: { points: 500 },
    });
    const ada = (await findCustomerByExternalId(db, shop.id, '7001'))!;
    const code = (await ensureReferralCodes(db, shop.id, [ada.id], 'FRIEND-')).get(ada.id)!;
    await setReferralCodeStatus(db, shop.id, [code.id], 'active');
    const landing = await standIn(`/apps/loyalty/r/${code.friendCode}`);
    expect(landing.status).toBe(302);
    expect(landing.headers.get('Location')).toBe(
      `/discount/${code.friendCode}?redirect=${encodeURIComponent('/?laurel_referral=1')}`,
    );
    const unknown = await standIn('/apps/loyalty/r/FRIEND-ZZZZZZZZ');
    expect(unknown.headers.get('Location')).toBe('/');
    expect((await standIn('/apps/loyalty/r/a/b')).status).toBe(404);
    expect((await standIn('/apps/loyalty/r/')).status).toBe(404);
  });

  it('without the cookie the shopper is logged out', async () => {
    const response = await standIn('/apps/loyalty');
    expect(await response.json()).toEqual({ loggedIn: false });
    const cleared = await standIn('/apps/loyalty', { cookie: `${PREVIEW_CUSTOMER_COOKIE}=` });
    expect(await cleared.json()).toEqual({ loggedIn: false });
  });

  it('under a translated root (/fr/apps/loyalty) too; another prefix is not a language', async () => {
    const french = await standIn('/apps/loyalty', { cookie: cookie('7002'), locale: 'fr' });
    expect(await french.json()).toMatchObject({ loggedIn: true, customerId: '7002', balance: 30 });
    const unknown = await standIn('/apps/loyalty', { cookie: cookie('7002'), locale: 'de' });
    expect(unknown.status).toBe(404);
    // The primary language has no prefix.
    expect((await standIn('/apps/loyalty', { locale: 'en' })).status).toBe(404);
  });

  it('a storefront query naming its own customer reaches the route twice-named and is refused', async () => {
    const response = await standIn('/apps/loyalty?logged_in_customer_id=7001', {
      cookie: cookie('7002'),
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toMatch(/logged_in_customer_id/);
  });

  it('the signature it makes is the one the route checks: another secret is refused', async () => {
    const storefront = new Request('http://127.0.0.1:3000/apps/loyalty?x=1', {
      headers: { Accept: 'application/json', Cookie: cookie('7001') },
    });
    const signed = signAsAppProxy(storefront, '', {
      shop: DEMO.shop,
      secret: 'not-the-app-secret',
      customerId: '7001',
    });
    const url = new URL(signed.url);
    expect(url.pathname).toBe('/proxy');
    expect([...url.searchParams.keys()]).toEqual([
      'x',
      'shop',
      'logged_in_customer_id',
      'path_prefix',
      'timestamp',
      'signature',
    ]);
    expect(url.searchParams.get('path_prefix')).toBe('/apps/loyalty');
    // Shopify drops the storefront's cookies.
    expect(signed.headers.get('Cookie')).toBeNull();
    const refused = (await proxySummary(args(`${url.pathname}${url.search}`))) as Response;
    expect(refused.status).toBe(401);

    const good = signAsAppProxy(storefront, '', {
      shop: DEMO.shop,
      secret: DEMO.secret,
      customerId: null,
    });
    const query = new URL(good.url).searchParams;
    expect(query.get('logged_in_customer_id')).toBe('');
    const grouped = new Map<string, string[]>();
    for (const [name, value] of query) {
      if (name !== 'signature') grouped.set(name, [...(grouped.get(name) ?? []), value]);
    }
    expect(query.get('signature')).toBe(appProxySignature(grouped, DEMO.secret));
  });

  it('/apps/loyalty/history reaches the history route for the previewed customer', async () => {
    const response = await standIn('/apps/loyalty/history?limit=1', { cookie: cookie('7001') });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      loggedIn: true,
      entries: [{ points: 120, source: 'order' }],
      nextCursor: null,
    });
  });

  it('a subpath with no proxy route is 404, a POST is signed and refused by the route, a bad cookie 400', async () => {
    expect((await standIn('/apps/loyalty/nothing-here', { cookie: cookie('7001') })).status).toBe(
      404,
    );
    // Signed like a GET, so the route's own answer (not a 401 for a missing signature).
    const post = await standIn('/apps/loyalty', { method: 'POST', cookie: cookie('7001') });
    expect(post.status).toBe(405);
    expect(await post.json()).toEqual({
      error: { code: 'METHOD_NOT_ALLOWED', message: 'only GET is answered here' },
    });
    const bad = await thrownBy(() => standIn('/apps/loyalty', { cookie: cookie('7001x') }));
    expect((bad as Response).status).toBe(400);
    expect(await (bad as Response).text()).toMatch(/laurel_preview_customer cookie/);
  });

  it("renders a Liquid answer as Shopify would: in the shopper's context, inside the theme", async () => {
    const access = {
      allowed: true as const,
      ...DEMO,
      apiKey: 'k',
      apiSecret: DEMO.secret,
      appUrl: '',
    };
    const liquid =
      '<h1>{% if request.locale.iso_code == "fr" %}Récompenses{% else %}Rewards{% endif %}</h1>' +
      '{% if customer %}<p data-who>{{ customer.first_name }}</p>{% endif %}' +
      '<a href="{{ routes.account_login_url }}">in</a>';
    const english = await storefrontLiquidPage(
      access,
      { customerId: '7001', locale: 'en' },
      liquid,
    );
    expect(english.status).toBe(200);
    const page = await english.text();
    expect(page).toContain(
      '<main>\n<h1>Rewards</h1><p data-who>Ada</p><a href="/account/login">in</a>\n</main>',
    );
    expect(page).toContain('data-laurel-launcher');
    expect(page).toContain('<script src="/dev/preview/assets/laurel.js" defer="defer">');
    const french = await (
      await storefrontLiquidPage(access, { customerId: null, locale: 'fr' }, liquid)
    ).text();
    expect(french).toContain('<h1>Récompenses</h1><a href="/fr/account/login">in</a>');

    // A Shopify-only filter or an unknown object would be a blank on the shop: here, an error.
    for (const broken of ['{{ 100 | money }}', '{{ nothing.here }}']) {
      const answer = await storefrontLiquidPage(access, { customerId: null, locale: 'en' }, broken);
      expect(answer.status, broken).toBe(500);
      expect(await answer.text()).toMatch(/not valid Liquid for Shopify/);
    }
  });

  it('the preview cookie is HttpOnly, SameSite=Lax, for the whole site, and only holds an id', () => {
    expect(previewCustomerCookie('7001')).toBe(
      'laurel_preview_customer=7001; Path=/; HttpOnly; SameSite=Lax',
    );
    expect(() => previewCustomerCookie('7001; Domain=evil.example')).toThrow(RangeError);
  });
});

describe("the preview's routes through Remix's handler, with the real route tree", () => {
  let handler: ReturnType<typeof createRequestHandler>;
  beforeAll(async () => {
    handler = createRequestHandler(
      routeTreeBuild({
        'routes/dev.preview': await import('../../app/routes/dev.preview'),
        'routes/dev.preview_.assets.$': await import('../../app/routes/dev.preview_.assets.$'),
        'routes/($locale).apps.loyalty.$':
          await import('../../app/routes/($locale).apps.loyalty.$'),
      }),
    );
  });
  const get = (path: string, headers: Record<string, string> = {}) =>
    handler(new Request(`http://127.0.0.1:3000${path}`, { headers }));
  const member = { Cookie: `${PREVIEW_CUSTOMER_COOKIE}=7001`, Accept: 'application/json' };

  it('names the routes as Remix sees them: the assets are not nested under the preview', () => {
    const manifest = routeManifest();
    expect(manifest['routes/dev.preview_.assets.$']).toMatchObject({
      path: 'dev/preview/assets/*',
      parentId: 'root',
    });
    expect(manifest['routes/($locale).apps.loyalty.$']).toMatchObject({
      path: ':locale?/apps/loyalty/*',
    });
  });

  it('/apps/loyalty, /apps/loyalty/history and /fr/apps/loyalty/history reach the stand-in', async () => {
    expect(await (await get('/apps/loyalty', member)).json()).toMatchObject({
      loggedIn: true,
      customerId: '7001',
      balance: 120,
    });
    for (const path of ['/apps/loyalty/history?limit=1', '/fr/apps/loyalty/history?limit=1']) {
      const response = await get(path, member);
      expect(response.status, path).toBe(200);
      expect(await response.json(), path).toMatchObject({ loggedIn: true, nextCursor: null });
    }
    expect((await get('/de/apps/loyalty', member)).status).toBe(404);
  });

  it('a browser navigating to /apps/loyalty gets the rewards page inside the preview theme', async () => {
    const response = await get('/apps/loyalty', { ...member, Accept: 'text/html' });
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    const page = await response.text();
    expect(page).toContain('<main>');
    expect(page).toContain('data-laurel-launcher');
    expect(page).not.toMatch(/\{\{|\{%/);
    expect(page).toMatch(/120/);
  });

  it('/dev/preview renders, its assets are served, a traversal through the URL is refused', async () => {
    const preview = await get('/dev/preview?customer=7001');
    expect(preview.status).toBe(200);
    expect(await preview.text()).toContain('data-laurel-balance="120"');
    const script = await get('/dev/preview/assets/laurel.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    for (const path of [
      '/dev/preview/assets/..%2F..%2F..%2Fpackage.json',
      '/dev/preview/assets/..%5C..%5Cpackage.json',
    ]) {
      const refused = await get(path);
      expect([400, 404], path).toContain(refused.status);
      expect(await refused.text(), path).not.toContain('"name": "laurel"');
    }
  });
});

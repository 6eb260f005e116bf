/**
 * The rewards page at /apps/loyalty (GET /proxy with a browser's Accept): an application/liquid
 * body, rendered here with liquidjs in strict mode the way Shopify renders it inside the theme —
 * with the storefront's `request.locale` and `routes` — from a ledger written by the real pipeline.
 * Names and order names that look like Liquid or HTML must come out as text.
 */
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { Liquid } from 'liquidjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers,write_customers,read_orders',
    LOG_LEVEL: 'silent',
  });
});

import { useDatabase } from '../../app/db.server';
import { loader as proxy } from '../../app/routes/proxy';
import { escapeLiquidHtml } from '../../app/storefront-page.server';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { createReward } from '../../app/models/rewards.server';
import {
  HOSTILE_NAME,
  proxyRequest,
  seedStorefront,
  type StorefrontSeed,
} from '../helpers/storefront';

/** Chrome's Accept for a top-level navigation. */
const BROWSER =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const ROUTES = { account_login_url: '/account/login', account_register_url: '/account/register' };
const args = (request: Request) => ({ request, params: {}, context: {} }) as LoaderFunctionArgs;

// Strict: a variable or filter the page did not mean to use fails the render.
const liquid = new Liquid({ strictVariables: true, strictFilters: true });

async function fetchPage(
  params: Record<string, string>,
  options: { acceptLanguage?: string; shop?: string } = {},
): Promise<{ response: Response; source: string }> {
  const headers: Record<string, string> = { Accept: BROWSER };
  if (options.acceptLanguage) headers['Accept-Language'] = options.acceptLanguage;
  const response = await proxy(
    args(proxyRequest('/proxy', params, { headers, shop: options.shop })),
  );
  return { response, source: await response.text() };
}

/** The page as a shopper sees it: the Liquid rendered with the storefront's objects. */
async function renderPage(
  params: Record<string, string>,
  options: { storefrontLocale?: string; acceptLanguage?: string; shop?: string } = {},
): Promise<string> {
  const { response, source } = await fetchPage(params, options);
  expect(response.status, source).toBe(200);
  return liquid.parseAndRender(source, {
    request: { locale: { iso_code: options.storefrontLocale ?? 'en' } },
    routes: ROUTES,
  });
}

/** Visible text: tags dropped, the references the page uses decoded, whitespace collapsed. */
function textOf(html: string): string {
  return (
    html
      .replace(/<style>[\s\S]*?<\/style>/g, '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
      // Ordinary whitespace only: the no-break spaces of French money are part of the text.
      .replace(/[ \t\r\n]+/g, ' ')
      .trim()
  );
}

let handle: TestDatabase;
let seed: StorefrontSeed;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  seed = await seedStorefront(handle.db);
  useDatabase(handle);
});
afterAll(async () => {
  useDatabase(undefined);
  await handle?.close();
});

describe('GET /proxy from a browser', () => {
  it('answers application/liquid, private, varying on Accept and Accept-Language', async () => {
    const { response, source } = await fetchPage({ logged_in_customer_id: '7001' });
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('application/liquid');
    expect(response.headers.get('Cache-Control')).toBe('private, no-store');
    expect(response.headers.get('Vary')).toBe('Accept, Accept-Language');
    expect(source).toContain('data-laurel-rewards-page');
    // The storefront script asking for JSON still gets JSON from the same URL.
    const json = await proxy(
      args(
        proxyRequest(
          '/proxy',
          { logged_in_customer_id: '7001' },
          { headers: { Accept: 'application/json' } },
        ),
      ),
    );
    expect(json.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(await json.json()).toMatchObject({ loggedIn: true, balance: 113, tier: null });
  });

  it("shows the customer's balance, lifetime points, how to earn and the latest activity", async () => {
    const html = await renderPage({ logged_in_customer_id: '7001' });
    expect(html).toContain('data-laurel-page-balance="113"');
    expect(html).toContain('data-laurel-page-lifetime="113"');
    expect(textOf(html)).toBe(
      [
        'Rewards',
        'Hi Ada',
        'Your points',
        '113 points',
        '113 points earned in total',
        'How to earn',
        '1 point per $1.00 spent from $50.00 to $100.00',
        '2 points per $1.00 spent above $100.00',
        'Creating an account earns 25 points.',
        'Points count on each order’s subtotal after discounts, once the order is paid.',
        'Latest activity',
        'Mar 25, 2026 Adjustment: Goodwill → 10 points',
        'Mar 20, 2026 Refund on order #1001 → −22 points',
        `Mar 18, 2026 Order ${HOSTILE_NAME}, $60.00 → 10 points`,
        'Mar 17, 2026 Order #1002 cancelled → −25 points',
        'Mar 16, 2026 Order #1002, $75.00 → 25 points',
      ].join(' '),
    );
    // Five entries, newest first, each with its machine-readable time.
    expect(html.match(/<li data-laurel-page-entry=/g)).toHaveLength(5);
    expect(html).toContain('<time datetime="2026-03-25T12:00:00.000Z">');
  });

  it('renders a name or an order name made of Liquid and HTML as inert text', async () => {
    const { source } = await fetchPage({ logged_in_customer_id: '7003' });
    // Nothing in the body can open a Liquid tag or an HTML element of the shopper's making.
    expect(source).not.toContain('{{ customer');
    expect(source).not.toContain('{% render');
    expect(source).not.toMatch(/<script/i);
    expect(source).toContain(escapeLiquidHtml(`Hi ${HOSTILE_NAME}`));
    // Strict Liquid would throw on `customer.email` or `render` had either been left live.
    const html = await liquid.parseAndRender(source, {
      request: { locale: { iso_code: 'en' } },
      routes: ROUTES,
    });
    expect(html).not.toMatch(/<script/i);
    expect(textOf(html)).toContain(`Hi ${HOSTILE_NAME} Your points`);
    const ada = await renderPage({ logged_in_customer_id: '7001' });
    expect(ada).not.toMatch(/<script/i);
    expect(textOf(ada)).toContain(`Order ${HOSTILE_NAME}, $60.00 → 10 points`);
  });

  it("speaks the storefront's language, else the one asked for, else English", async () => {
    const fr = await renderPage({ logged_in_customer_id: '7001' }, { storefrontLocale: 'fr-CA' });
    expect(fr).toContain('<div lang="fr">');
    expect(fr.match(/<div lang=/g)).toHaveLength(1);
    const frText = textOf(fr);
    expect(frText).toContain(
      'Récompenses Bonjour Ada Vos points 113 points 113 points gagnés au total',
    );
    expect(frText).toContain(
      '1 point par tranche de 1,00\u00a0$US dépensée entre 50,00\u00a0$US et 100,00\u00a0$US',
    );
    expect(frText).toContain('20 mars 2026 Remboursement sur la commande #1001 → −22 points');
    // The storefront is in English: English, whatever the browser prefers.
    const en = await renderPage(
      { logged_in_customer_id: '7001' },
      { storefrontLocale: 'en', acceptLanguage: 'fr' },
    );
    expect(en).toContain('<div lang="en">');
    // A storefront language Laurel does not speak: the request's, from Accept-Language…
    const de = await renderPage(
      { logged_in_customer_id: '7001' },
      { storefrontLocale: 'de', acceptLanguage: 'de-DE,fr;q=0.8' },
    );
    expect(de).toContain('<div lang="fr">');
    // …or the locale parameter, else English.
    expect(
      await renderPage({ logged_in_customer_id: '7001', locale: 'fr' }, { storefrontLocale: 'de' }),
    ).toContain('<div lang="fr">');
    expect(
      await renderPage({ logged_in_customer_id: '7001' }, { storefrontLocale: 'de' }),
    ).toContain('<div lang="en">');
  });

  it('offers sign-in and join through Liquid routes to a logged-out shopper', async () => {
    const html = await renderPage({ logged_in_customer_id: '' });
    expect(html).toContain('<a href="/account/login">Sign in</a>');
    expect(html).toContain('<a href="/account/register">Create an account</a>');
    expect(html).not.toContain('data-laurel-page-balance');
    expect(textOf(html)).toContain('How to earn 1 point per $1.00 spent from $50.00 to $100.00');
    const fr = await renderPage({ logged_in_customer_id: '' }, { storefrontLocale: 'fr' });
    expect(fr).toContain('<a href="/account/login">Se connecter</a>');
  });

  it('shows no number to a customer Laurel has not seen, and no program for an unknown shop', async () => {
    const unseen = await renderPage({ logged_in_customer_id: '7777' });
    expect(unseen).not.toContain('data-laurel-page-balance');
    expect(textOf(unseen)).toContain(
      'Your points You have no points yet. Your first paid order earns them, and they show here.',
    );
    const unknownShop = await renderPage(
      { logged_in_customer_id: '7001' },
      { shop: 'laurel-nowhere.myshopify.com' },
    );
    expect(textOf(unknownShop)).toContain('The rewards program has not opened yet.');
    expect(unknownShop).not.toContain('data-laurel-page-balance');
  });
});

// Last: it adds rewards to the shop, which the pages above do not show.
describe('the rewards on the page', () => {
  it('lists the catalog with what the member can redeem and why not, read only', async () => {
    for (const definition of [
      { type: 'fixed_amount', title: '$1 off', pointsCost: 100, amountMinor: 100 },
      { type: 'free_shipping', title: 'Free {{ shipping }}', pointsCost: 150 },
      { type: 'percentage', title: 'Gold 10%', pointsCost: 50, percentage: 10, tiers: ['Gold'] },
      {
        type: 'points_slider',
        title: 'Choose',
        slider: { pointsPerUnit: 100, minPoints: 100, maxPoints: 1000, stepPoints: 100 },
      },
    ]) {
      await createReward(handle.db, seed.shop.id, definition);
    }
    const text = textOf(await renderPage({ logged_in_customer_id: '7001' }));
    expect(text).toContain(
      [
        'Rewards',
        '$1 off · 100 points You can redeem this now',
        'Free {{ shipping }} · 150 points 37 points more to go',
        'Gold 10% · 50 points For members of certain tiers',
        'Choose · 100 points to 1,000 points You can redeem this now',
        'Redeem your points with the Rewards button on any page of the shop.',
      ].join(' '),
    );
    const french = textOf(
      await renderPage({ logged_in_customer_id: '7001' }, { storefrontLocale: 'fr' }),
    );
    expect(french).toContain('Free {{ shipping }} · 150 points encore 37 points');
    // Logged out: the catalog without statuses, after the sign-in links.
    const signedOut = textOf(await renderPage({}));
    expect(signedOut).toMatch(/Sign in Create an account .* Rewards \$1 off · 100 points Free/);
  });
});

describe('escapeLiquidHtml', () => {
  it('leaves no character that opens HTML or Liquid markup', () => {
    expect(escapeLiquidHtml(`a&b<c>"d"'e'{{f}}{%g%}`)).toBe(
      'a&amp;b&lt;c&gt;&quot;d&quot;&#39;e&#39;&#123;&#123;f&#125;&#125;&#123;&#37;g&#37;&#125;',
    );
  });
});

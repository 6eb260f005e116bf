/**
 * The storefront preview (/dev/preview, development only): a small stand-in theme page with the
 * theme extension's REAL blocks rendered by liquidjs (dev/storefront/liquid-engine.ts) — the points
 * balance block, a product page with the product points block and a variant picker, and the
 * launcher embed before </body> — for a chosen demo customer or a logged-out shopper.
 *
 * The Liquid objects are what Shopify would hand the blocks on the demo shop: `shop`, `customer`
 * with its `$app` metafields and `app.metafields.laurel` read from the Admin API (the emulator in
 * the demo, through the shop's offline token), so the page shows what the metafield sync wrote and
 * nothing the ledger says directly; `product` is the demo store's (dev/demo/storefront.ts);
 * `routes`, `cart` and `request` as Shopify sets them for the language shown. The blocks' assets
 * are served from /dev/preview/assets/ (app/theme-extension.server.ts) and their requests to
 * /apps/loyalty are signed as Shopify's app proxy signs them (app/dev-app-proxy.server.ts).
 *
 * The page itself loads nothing else: no web fonts, no favicon, no external URL, no script of its
 * own — what runs on it is the extension's script and nothing more.
 */
import { createStorefrontEngine, type StorefrontObjects } from '../dev/storefront/liquid-engine';
import { demoProduct, type LiquidProduct } from '../dev/demo/storefront';
import { getDatabase } from './db.server';
import type { DevAccess } from './dev-access.server';
import { previewCustomerCookie } from './dev-app-proxy.server';
import { env } from './env.server';
import { StorefrontPreview, type StorefrontMetafield } from './graphql';
import { logger } from './logger.server';
import { listMembers } from './models/members.server';
import { getShopByDomain } from './models/shops.server';
import { AdminApiError, createAdminClient } from './shopify/admin-client.server';
import { sessionStorage } from './shopify.server';
import { PREVIEW_ASSET_BASE, storefrontLocales, themeExtensionDir } from './theme-extension.server';

type Access = Extract<DevAccess, { allowed: true }>;

export const PREVIEW_PATH = '/dev/preview';

const CUSTOMER_ID = /^[1-9][0-9]{0,19}$/;
const VARIANT_ID = /^[1-9][0-9]{0,19}$/;

/** What the page is asked to show. */
export interface PreviewRequest {
  /** The shopper: a Shopify customer id, or null for logged out. */
  customerId: string | null;
  /** A storefront language of the extension. */
  locale: string;
  /** `?variant=` of the product page, as on Shopify. */
  variantId: number | undefined;
}

/** A page the preview answers with instead of the storefront (shop not set up, bad input…). */
class PreviewProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads `?customer=`, `?locale=` and `?variant=`; a malformed value is a 400 with its reason. */
export function parsePreviewRequest(url: URL, locales: readonly string[]): PreviewRequest {
  const one = (name: string): string | undefined => {
    const values = url.searchParams.getAll(name);
    if (values.length > 1) throw new PreviewProblem(400, `?${name}= is given more than once.`);
    return values[0] === '' ? undefined : values[0];
  };
  const customer = one('customer');
  if (customer !== undefined && !CUSTOMER_ID.test(customer)) {
    throw new PreviewProblem(400, `?customer= must be a Shopify customer id; got "${customer}".`);
  }
  const locale = one('locale') ?? locales[0]!;
  if (!locales.includes(locale)) {
    throw new PreviewProblem(
      400,
      `?locale= must be a language of the extension (${locales.join(', ')}); got "${locale}".`,
    );
  }
  const variant = one('variant');
  if (variant !== undefined && !VARIANT_ID.test(variant)) {
    throw new PreviewProblem(400, `?variant= must be a variant id; got "${variant}".`);
  }
  return {
    customerId: customer ?? null,
    locale,
    variantId: variant === undefined ? undefined : Number(variant),
  };
}

// ---------------------------------------------------------------------------------------------
// Liquid objects

/** A metafield as Liquid exposes it: `.value` typed by the metafield's type, and `.type`. */
export interface LiquidMetafield {
  value: unknown;
  type: string;
}

/** Admin API metafields (values as text) → Liquid's `{key: {value, type}}`. */
export function liquidMetafields(
  nodes: readonly StorefrontMetafield[],
): Record<string, LiquidMetafield> {
  const out: Record<string, LiquidMetafield> = {};
  for (const { key, type, value } of nodes) {
    let parsed: unknown = value;
    if (type === 'number_integer' || type === 'number_decimal') parsed = Number(value);
    else if (type === 'boolean') parsed = value === 'true';
    else if (type === 'json') parsed = JSON.parse(value);
    out[key] = { value: parsed, type };
  }
  return out;
}

/**
 * Shopify's `routes` for a storefront language: the primary language at `/`, a translated one
 * under its code (`/fr`, no trailing slash — which is why the embed normalises root_url).
 */
export function storefrontRoutes(locale: string, primary: string) {
  const base = locale === primary ? '' : `/${locale}`;
  const path = (p: string) => `${base}${p}`;
  return {
    root_url: base === '' ? '/' : base,
    account_url: path('/account'),
    account_login_url: path('/account/login'),
    account_logout_url: path('/account/logout'),
    account_register_url: path('/account/register'),
    account_addresses_url: path('/account/addresses'),
    cart_url: path('/cart'),
    cart_add_url: path('/cart/add'),
    cart_change_url: path('/cart/change'),
    cart_clear_url: path('/cart/clear'),
    cart_update_url: path('/cart/update'),
    collections_url: path('/collections'),
    all_products_collection_url: path('/collections/all'),
    search_url: path('/search'),
    predictive_search_url: path('/search/suggest'),
    product_recommendations_url: path('/recommendations/products'),
  };
}

/** Shopify's default money formats are the currency's symbol before the amount. */
function moneyFormats(currency: string): {
  money_format: string;
  money_with_currency_format: string;
} {
  const parts = new Intl.NumberFormat('en-US', { style: 'currency', currency }).formatToParts(0);
  const symbol = parts.find((p) => p.type === 'currency')?.value ?? currency;
  const digits = parts.find((p) => p.type === 'fraction')?.value.length ?? 0;
  const amount = digits === 0 ? '{{amount_no_decimals}}' : '{{amount}}';
  return {
    money_format: `${symbol}${amount}`,
    money_with_currency_format: `${symbol}${amount} ${currency}`,
  };
}

export interface PreviewState {
  shopName: string;
  currency: string;
  members: { externalId: string; name: string; balance: number }[];
  objects: StorefrontObjects;
  product: LiquidProduct;
  routes: ReturnType<typeof storefrontRoutes>;
}

function memberName(m: {
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  externalId: string;
}): string {
  return (
    [m.firstName, m.lastName].filter(Boolean).join(' ') || m.email || `Customer ${m.externalId}`
  );
}

type Member = PreviewState['members'][number];

/** The shop's members for the chooser, from the database; undefined when the shop is not set up. */
async function demoMembers(shop: string): Promise<Member[] | undefined> {
  const { db } = await getDatabase();
  const row = await getShopByDomain(db, shop);
  if (!row) return undefined;
  return (await listMembers(db, row.id)).map((m) => ({
    externalId: m.externalId,
    name: memberName(m),
    balance: m.balance,
  }));
}

/** What Liquid reads on the page, from the Admin API (the emulator in the demo). */
export async function loadPreviewState(
  access: Access,
  wanted: PreviewRequest,
  primaryLocale: string,
  members: Member[],
): Promise<PreviewState> {
  if (wanted.customerId !== null && !members.some((m) => m.externalId === wanted.customerId)) {
    throw new PreviewProblem(404, `No demo customer has the id ${wanted.customerId}.`);
  }

  const session = await sessionStorage.loadSession(`offline_${access.shop}`);
  if (!session?.accessToken) {
    throw new PreviewProblem(
      409,
      `${access.shop} has no offline session to read Shopify with: run \`npm run demo\`.`,
    );
  }
  const endpoint = env().ADMIN_API_ENDPOINT;
  const client = createAdminClient({
    shop: access.shop,
    accessToken: session.accessToken,
    ...(endpoint && { endpoint }),
    logger: logger(),
    maxAttempts: 2,
  });
  let data;
  try {
    data = await client.request(StorefrontPreview, {
      customerId: `gid://shopify/Customer/${wanted.customerId ?? '0'}`,
      withCustomer: wanted.customerId !== null,
    });
  } catch (error) {
    if (!(error instanceof AdminApiError)) throw error;
    throw new PreviewProblem(502, `Reading the shop from the Admin API failed: ${error.message}`);
  }
  if (wanted.customerId !== null && !data.customer) {
    throw new PreviewProblem(
      404,
      `The Admin API has no customer ${wanted.customerId} (the emulator was seeded without them?).`,
    );
  }

  const currency = data.shop.currencyCode;
  const product = demoProduct(wanted.variantId);
  const routes = storefrontRoutes(wanted.locale, primaryLocale);
  const customer = data.customer
    ? {
        id: Number(wanted.customerId),
        first_name: data.customer.firstName ?? '',
        last_name: data.customer.lastName ?? '',
        name: data.customer.displayName,
        email: data.customer.defaultEmailAddress?.emailAddress ?? '',
        has_account: true,
        metafields: { $app: liquidMetafields(data.customer.metafields.nodes) },
      }
    : null;
  const objects = {
    shop: {
      name: data.shop.name,
      permanent_domain: data.shop.myshopifyDomain,
      domain: data.shop.myshopifyDomain,
      url: `https://${data.shop.myshopifyDomain}`,
      secure_url: `https://${data.shop.myshopifyDomain}`,
      currency,
      ...moneyFormats(currency),
    },
    customer,
    product,
    cart: { currency: { iso_code: currency }, item_count: 0 },
    routes,
    app: {
      metafields: { laurel: liquidMetafields(data.currentAppInstallation.metafields.nodes) },
    },
    request: {
      locale: {
        iso_code: wanted.locale,
        primary: wanted.locale === primaryLocale,
        root_url: routes.root_url,
      },
      design_mode: false,
      page_type: 'product',
      path: product.url,
      host: data.shop.myshopifyDomain,
    },
  } as StorefrontObjects;
  return { shopName: data.shop.name, currency, members, objects, product, routes };
}

// ---------------------------------------------------------------------------------------------
// The page

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const LANGUAGE_NAMES: Record<string, string> = { en: 'English', fr: 'Français' };

/** The stand-in theme's own strings (the blocks' come from the extension's locales). */
const THEME_STRINGS: Record<string, { account: string; addToCart: string; noCart: string }> = {
  en: { account: 'Your account', addToCart: 'Add to cart', noCart: 'The preview has no cart' },
  fr: {
    account: 'Votre compte',
    addToCart: 'Ajouter au panier',
    noCart: "L'aperçu n'a pas de panier",
  },
};

/** The theme's own style: system fonts, nothing loaded, nothing that moves after first paint. */
const THEME_CSS = `
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
a{color:#0b5394}
.dev-bar{background:#fff8c5;border-bottom:1px solid #d4a72c;padding:.5rem 1rem;font-size:.875rem}
.dev-bar form,.dev-bar nav{display:inline-flex;gap:.5rem;align-items:center;margin-right:1.5rem}
.dev-bar select{max-width:22rem}
.site-header{border-bottom:1px solid #d0d7de;padding:1rem}
.site-header a{font-weight:700;font-size:1.25rem;color:inherit;text-decoration:none}
main{max-width:60rem;margin:0 auto;padding:1rem;display:grid;gap:2rem}
.product{display:grid;gap:.75rem}
.product h1{margin:0;font-size:1.75rem}
.product-form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.product-form select,.product-form button{font:inherit;padding:.4rem .6rem}
.account h2{margin:0 0 .5rem;font-size:1.25rem}
`;

function money(minorHundredths: number, currency: string, locale: string): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(
    minorHundredths / 100,
  );
}

function previewHref(
  parts: { customerId: string | null; locale: string },
  primary: string,
): string {
  const query = new URLSearchParams();
  if (parts.customerId) query.set('customer', parts.customerId);
  if (parts.locale !== primary) query.set('locale', parts.locale);
  const text = query.toString();
  return text ? `${PREVIEW_PATH}?${text}` : PREVIEW_PATH;
}

interface Page {
  title: string;
  lang: string;
  head?: string;
  body: string;
}

function document(page: Page): string {
  return `<!doctype html>
<html lang="${escapeHtml(page.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<link rel="icon" href="data:,">
<style>${THEME_CSS}</style>
${page.head ?? ''}</head>
<body>
${page.body}
</body>
</html>
`;
}

function chooser(
  members: PreviewState['members'] | undefined,
  wanted: PreviewRequest | undefined,
  locales: readonly string[],
): string {
  const primary = locales[0]!;
  const selected = wanted?.customerId ?? '';
  const locale = wanted?.locale ?? primary;
  const options = [
    `<option value=""${selected === '' ? ' selected' : ''}>Logged out</option>`,
    ...(members ?? []).map(
      (m) =>
        `<option value="${escapeHtml(m.externalId)}" data-balance="${m.balance}"${m.externalId === selected ? ' selected' : ''}>${escapeHtml(m.name)} · ${m.balance.toLocaleString('en-US')} points in the ledger</option>`,
    ),
  ].join('');
  const languages = locales
    .map((code) =>
      code === locale
        ? `<strong aria-current="page">${escapeHtml(LANGUAGE_NAMES[code] ?? code)}</strong>`
        : `<a href="${escapeHtml(previewHref({ customerId: wanted?.customerId ?? null, locale: code }, primary))}" hreflang="${escapeHtml(code)}">${escapeHtml(LANGUAGE_NAMES[code] ?? code)}</a>`,
    )
    .join(' ');
  return `<div class="dev-bar" data-preview-controls>
<form method="get" action="${PREVIEW_PATH}"><label for="preview-customer">Shopper</label>
<select id="preview-customer" name="customer">${options}</select>
${locale === primary ? '' : `<input type="hidden" name="locale" value="${escapeHtml(locale)}">`}<button type="submit">Preview</button></form>
<nav aria-label="Storefront language">${languages}</nav>
<span>Storefront preview · development only</span>
</div>`;
}

/** The answer for a problem: the chooser (when it could be read) and the reason, with its status. */
function problemPage(
  problem: PreviewProblem,
  members: PreviewState['members'] | undefined,
  locales: readonly string[],
): Response {
  const body = `${chooser(members, undefined, locales)}
<main><h1>Storefront preview</h1><p role="alert">${escapeHtml(problem.message)}</p></main>`;
  return new Response(document({ title: 'Storefront preview (development)', lang: 'en', body }), {
    status: problem.status,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}

/** The whole answer of /dev/preview for `request` (see the module comment). */
export async function storefrontPreview(request: Request, access: Access): Promise<Response> {
  const extensionDir = themeExtensionDir();
  const locales = storefrontLocales(extensionDir).all;
  const primary = locales[0]!;
  const members = await demoMembers(access.shop);
  let wanted: PreviewRequest;
  let state: PreviewState;
  try {
    if (!members) {
      throw new PreviewProblem(404, `${access.shop} is not set up yet: run \`npm run demo\`.`);
    }
    wanted = parsePreviewRequest(new URL(request.url), locales);
    state = await loadPreviewState(access, wanted, primary, members);
  } catch (error) {
    if (error instanceof PreviewProblem) return problemPage(error, members, locales);
    throw error;
  }

  const engine = createStorefrontEngine({
    extensionDir,
    assetBaseUrl: PREVIEW_ASSET_BASE,
    locale: wanted.locale,
  });
  const blocks = ['points-balance', 'product-points', 'launcher'] as const;
  // Each comes back as Shopify places it: in its shopify-block wrapper.
  const [balance, productPoints, launcher] = await Promise.all(
    blocks.map((name) => engine.renderBlock(name, state.objects)),
  );
  const { product, currency, routes } = state;
  const strings = THEME_STRINGS[wanted.locale] ?? THEME_STRINGS.en!;
  const selected = product.selected_or_first_available_variant;
  const variants = product.variants
    .map(
      (v) =>
        `<option value="${v.id}"${v.id === selected.id ? ' selected' : ''}>${escapeHtml(v.title)} — ${escapeHtml(money(v.price, currency, wanted.locale))}</option>`,
    )
    .join('');
  const body = `${chooser(state.members, wanted, locales)}
<header class="site-header"><a href="${escapeHtml(routes.root_url)}">${escapeHtml(state.shopName)}</a></header>
<main>
<section class="account" aria-labelledby="account-heading">
<h2 id="account-heading">${escapeHtml(strings.account)}</h2>
${balance!}
</section>
<section class="product" aria-labelledby="product-title">
<h1 id="product-title">${escapeHtml(product.title)}</h1>
<p>${escapeHtml(product.description)}</p>
<form class="product-form" action="${escapeHtml(routes.cart_add_url)}" method="post">
<label for="product-variant">${escapeHtml(product.options[0] ?? 'Variant')}</label>
<select id="product-variant" name="id">${variants}</select>
<button type="submit" disabled title="${escapeHtml(strings.noCart)}">${escapeHtml(strings.addToCart)}</button>
</form>
${productPoints!}
</section>
</main>
${launcher!}`;

  return new Response(
    document({
      title: `${product.title} – ${state.shopName} (storefront preview)`,
      lang: wanted.locale,
      // Shopify loads each block's schema stylesheet and deferred script once per page.
      head: `${engine.headTags(blocks)}\n`,
      body,
    }),
    {
      status: 200,
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'Set-Cookie': previewCustomerCookie(wanted.customerId),
      },
    },
  );
}

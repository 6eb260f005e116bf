/**
 * The storefront preview (/dev/preview, development only): a small stand-in theme page with the
 * theme extension's REAL blocks rendered by liquidjs (dev/storefront/liquid-engine.ts) — the points
 * balance, rewards and Refer a friend blocks, a product page with the product points block and a
 * variant picker, and the launcher embed before </body> — for a chosen demo customer or a
 * logged-out shopper. `?laurel_referral=1` is where a share link's landing sends a friend: the
 * page then shows the welcome note.
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
import { Liquid } from 'liquidjs';
import {
  createStorefrontEngine,
  type BlockName,
  type StorefrontObjects,
} from '../dev/storefront/liquid-engine';
import {
  demoProduct,
  demoProductByHandle,
  demoProducts,
  type LiquidProduct,
} from '../dev/demo/storefront';
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
import {
  escapeHtml,
  formatLiquidMoney,
  problemPage,
  themePage,
  themeStrings,
  type ChooserMember,
  type Controls,
} from './storefront-preview-html.server';
import { PREVIEW_ASSET_BASE, storefrontLocales, themeExtensionDir } from './theme-extension.server';

type Access = Extract<DevAccess, { allowed: true }>;

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
  /** `?product=`: the handle of the demo product shown (default: the first, the tea). */
  productHandle?: string;
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
  const handle = one('product');
  if (handle !== undefined && !demoProductByHandle(handle)) {
    throw new PreviewProblem(
      400,
      `?product= must be a demo product's handle (${demoProducts()
        .map((p) => p.handle)
        .join(', ')}); got "${handle}".`,
    );
  }
  return {
    customerId: customer ?? null,
    locale,
    variantId: variant === undefined ? undefined : Number(variant),
    ...(handle !== undefined ? { productHandle: handle } : {}),
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
 * The program summary with its `referral` key: a summary written before referrals existed has
 * none, which Shopify's Liquid reads as nil but the strict engine would refuse, so it is made the
 * null it means (referrals off).
 */
export function withReferralKey(
  laurel: Record<string, LiquidMetafield>,
): Record<string, LiquidMetafield> {
  const program = laurel.program;
  const value = program?.value;
  if (!program || typeof value !== 'object' || value === null || 'referral' in value) return laurel;
  return { ...laurel, program: { ...program, value: { ...value, referral: null } } };
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

/** What a storefront page of the preview is rendered from. */
export interface PreviewState {
  shopName: string;
  currency: string;
  objects: StorefrontObjects;
  /** Null on pages other than the product's. */
  product: LiquidProduct | null;
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

/** The shop's members for the chooser, from the database; undefined when the shop is not set up. */
async function demoMembers(shop: string): Promise<ChooserMember[] | undefined> {
  const { db } = await getDatabase();
  const row = await getShopByDomain(db, shop);
  if (!row) return undefined;
  return (await listMembers(db, row.id)).map((m) => ({
    externalId: m.externalId,
    name: memberName(m),
    balance: m.balance,
  }));
}

/**
 * What Liquid reads on a page, from the Admin API (the emulator in the demo): the product page, or
 * a page of the app proxy (`page: 'proxy'`, no product).
 */
export async function loadPreviewState(
  access: Access,
  wanted: PreviewRequest,
  primaryLocale: string,
  members: readonly ChooserMember[],
  page: 'product' | 'proxy' = 'product',
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
  const shown = (variantId?: number) =>
    (wanted.productHandle && demoProductByHandle(wanted.productHandle, variantId)) ||
    demoProduct(variantId);
  let data;
  try {
    data = await client.request(StorefrontPreview, {
      customerId: `gid://shopify/Customer/${wanted.customerId ?? '0'}`,
      withCustomer: wanted.customerId !== null,
      productId: `gid://shopify/Product/${shown().id}`,
      withProduct: page === 'product',
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
  // The product with its `$app` metafields as Shopify holds them (the early-access mirror).
  const product =
    page === 'product'
      ? {
          ...shown(wanted.variantId),
          metafields: { $app: liquidMetafields(data.product?.metafields.nodes ?? []) },
        }
      : null;
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
      metafields: {
        laurel: withReferralKey(liquidMetafields(data.currentAppInstallation.metafields.nodes)),
      },
    },
    request: {
      locale: {
        iso_code: wanted.locale,
        primary: wanted.locale === primaryLocale,
        root_url: routes.root_url,
      },
      design_mode: false,
      page_type: page === 'product' ? 'product' : 'page',
      path: product?.url ?? `${routes.root_url.replace(/\/$/, '')}/apps/loyalty`,
      host: data.shop.myshopifyDomain,
    },
  } as StorefrontObjects;
  return { shopName: data.shop.name, currency, objects, product, routes };
}

// ---------------------------------------------------------------------------------------------
// The answers

/** The blocks every page of the stand-in theme carries: Shopify adds app embeds to every page. */
const EMBEDS: readonly BlockName[] = ['launcher'];

function html(body: string, status: number, cookieFor?: string | null): Response {
  return new Response(body, {
    status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      ...(cookieFor !== undefined && { 'Set-Cookie': previewCustomerCookie(cookieFor) }),
    },
  });
}

interface Shopper {
  customerId: string | null;
  locale: string;
}

/**
 * Reads what every page needs — the extension's languages, the members, the Liquid objects for
 * the shopper — or answers the problem page (400/404/409/502 with its reason).
 */
async function preparePage(
  access: Access,
  wanted: () => PreviewRequest,
  page: 'product' | 'proxy',
): Promise<
  | { ok: true; state: PreviewState; wanted: PreviewRequest; controls: Controls; dir: string }
  | { ok: false; response: Response }
> {
  const dir = themeExtensionDir();
  const locales = storefrontLocales(dir).all;
  const members = await demoMembers(access.shop);
  const controls: Controls = { members, locales, customerId: null, locale: locales[0]! };
  try {
    if (!members) {
      throw new PreviewProblem(404, `${access.shop} is not set up yet: run \`npm run demo\`.`);
    }
    const asked = wanted();
    const state = await loadPreviewState(access, asked, locales[0]!, members, page);
    return {
      ok: true,
      state,
      wanted: asked,
      controls: {
        ...controls,
        customerId: asked.customerId,
        locale: asked.locale,
        ...(page === 'product'
          ? {
              products: demoProducts().map((p) => ({ handle: p.handle, title: p.title })),
              product: asked.productHandle ?? demoProduct().handle,
            }
          : {}),
      },
      dir,
    };
  } catch (error) {
    if (!(error instanceof PreviewProblem)) throw error;
    return { ok: false, response: html(problemPage(error.message, controls), error.status) };
  }
}

/** The answer of /dev/preview: the demo product's page (see the module comment). */
export async function storefrontPreview(request: Request, access: Access): Promise<Response> {
  const locales = storefrontLocales().all;
  const prepared = await preparePage(
    access,
    () => parsePreviewRequest(new URL(request.url), locales),
    'product',
  );
  if (!prepared.ok) return prepared.response;
  const { state, wanted, controls, dir } = prepared;
  const product = state.product!;
  const engine = createStorefrontEngine({
    extensionDir: dir,
    assetBaseUrl: PREVIEW_ASSET_BASE,
    locale: wanted.locale,
  });
  const blocks: BlockName[] = [
    'points-balance',
    'rewards',
    'referral',
    'product-points',
    'early-access',
    ...EMBEDS,
  ];
  // Each comes back as Shopify places it: in its shopify-block wrapper.
  const [balance, rewards, referral, productPoints, earlyAccess, ...embeds] = await Promise.all(
    blocks.map((name) => engine.renderBlock(name, state.objects)),
  );
  const strings = themeStrings(wanted.locale);
  const selected = product.selected_or_first_available_variant;
  const variants = product.variants
    .map(
      (v) =>
        `<option value="${v.id}"${v.id === selected.id ? ' selected' : ''}>${escapeHtml(v.title)} — ${escapeHtml(formatLiquidMoney(v.price, state.currency, wanted.locale))}</option>`,
    )
    .join('');
  const main = `<section class="account" aria-label="${escapeHtml(strings.account)}">
${balance!}
${rewards!}
${referral!}
</section>
<section class="product" aria-labelledby="product-title">
<h1 id="product-title">${escapeHtml(product.title)}</h1>
<p>${escapeHtml(product.description)}</p>
<form class="product-form" action="${escapeHtml(state.routes.cart_add_url)}" method="post">
<label for="product-variant">${escapeHtml(product.options[0] ?? 'Variant')}</label>
<select id="product-variant" name="id">${variants}</select>
<button type="submit" disabled title="${escapeHtml(strings.noCart)}">${escapeHtml(strings.addToCart)}</button>
</form>
${productPoints!}
${earlyAccess!}
</section>`;
  const page = themePage({
    title: `${product.title} – ${state.shopName} (storefront preview)`,
    lang: wanted.locale,
    // Shopify loads each block's schema stylesheet and deferred script once per page.
    head: `${engine.headTags(blocks)}\n`,
    controls,
    shopName: state.shopName,
    rootUrl: state.routes.root_url,
    main,
    embeds: embeds.join('\n'),
  });
  return html(page, 200, wanted.customerId);
}

/**
 * An app proxy answer of type `application/liquid` (the rewards page at /apps/loyalty), rendered as
 * Shopify renders it: its Liquid evaluated in the storefront's context — `shop`, `customer`,
 * `routes`, `request.locale` of the shopper the proxy signed for — and placed in the theme's
 * layout with the app embeds. Stock liquidjs, strict: a Shopify-only filter or an unknown variable
 * in the page is an error here, as it would be a blank on the storefront.
 */
export async function storefrontLiquidPage(
  access: Access,
  shopper: Shopper,
  liquid: string,
): Promise<Response> {
  const prepared = await preparePage(access, () => ({ ...shopper, variantId: undefined }), 'proxy');
  if (!prepared.ok) return prepared.response;
  const { state, wanted, controls, dir } = prepared;
  const renderer = new Liquid({
    strictFilters: true,
    strictVariables: true,
    ownPropertyOnly: true,
  });
  const objects = state.objects as unknown as Record<string, unknown>;
  let main: string;
  try {
    main = await renderer.parseAndRender(liquid, {
      ...objects,
      product: null,
      settings: {},
    });
  } catch (error) {
    const reason = `The app proxy page is not valid Liquid for Shopify: ${(error as Error).message}`;
    return html(problemPage(reason, controls), 500);
  }
  const engine = createStorefrontEngine({
    extensionDir: dir,
    assetBaseUrl: PREVIEW_ASSET_BASE,
    locale: wanted.locale,
  });
  const embeds = await Promise.all(EMBEDS.map((name) => engine.renderBlock(name, state.objects)));
  const page = themePage({
    title: `${state.shopName} (storefront preview)`,
    lang: wanted.locale,
    head: `${engine.headTags(EMBEDS)}\n`,
    controls,
    shopName: state.shopName,
    rootUrl: state.routes.root_url,
    main,
    embeds: embeds.join('\n'),
  });
  return html(page, 200);
}

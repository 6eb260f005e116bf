/**
 * Renders Laurel's real theme app extension blocks (extensions/laurel-theme/) with liquidjs, for the
 * storefront preview and the theme tests. Strict: an unknown filter, an undefined variable or a
 * missing translation is an error, not an empty string. Shopify's own filters and tags are stubbed
 * only where our blocks use them, each following what Shopify documents it to output
 * (shopify-filters.ts); everything else is stock liquidjs.
 *
 * Objects are passed "as Liquid sees them": money values in hundredths, metafields as
 * `{ value, type }`, `customer` null when logged out. Metafield namespaces behave like Shopify's
 * drops: a key that is not there is nil, never an error.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Drop, Liquid, Tag, type TagToken, type TopLevelToken } from 'liquidjs';
import type { ProgramSummary, ProgramSummaryReferral } from '../../loyalty/program-summary';
import {
  createTranslator,
  divided_by,
  json,
  money,
  money_without_trailing_zeros,
  type Locales,
} from './shopify-filters';

export type BlockName =
  | 'points-balance'
  | 'product-points'
  | 'launcher'
  | 'rewards'
  | 'early-access'
  | 'referral'
  | 'birthday'
  | 'social-follow';
export const BLOCK_NAMES: readonly BlockName[] = [
  'points-balance',
  'product-points',
  'launcher',
  'rewards',
  'early-access',
  'referral',
  'birthday',
  'social-follow',
];

export const DEFAULT_EXTENSION_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../extensions/laurel-theme',
);
export const DEFAULT_ASSET_BASE_URL = '/dev/preview/assets/';

/** A metafield as Liquid reads it: `.value` is the typed value (number, string, parsed JSON). */
export interface LiquidMetafield<T> {
  value: T;
  type: string;
}

/** The `$app` customer metafields Laurel's sync worker writes (docs/storefront.md). */
export interface LaurelCustomerMetafields {
  points_balance?: LiquidMetafield<number>;
  lifetime_points?: LiquidMetafield<number>;
  tier?: LiquidMetafield<string>;
  /** TierStatus of app/metafields.ts (json). */
  tier_status?: LiquidMetafield<unknown>;
  referral_code?: LiquidMetafield<string>;
}

export interface StorefrontCustomer {
  id: number;
  email?: string;
  first_name?: string;
  metafields: { $app?: LaurelCustomerMetafields } & Record<string, object | undefined>;
}

export interface StorefrontVariant {
  id: number;
  title: string;
  /** Hundredths of the presentment currency, whatever its digits (Liquid money). */
  price: number;
  available?: boolean;
}

export interface StorefrontProduct {
  id: number;
  title: string;
  handle: string;
  variants: StorefrontVariant[];
  /** What Shopify resolves from `?variant=`, else the first available variant. */
  selected_or_first_available_variant: StorefrontVariant;
  /** `$app`: the early-access mirror Laurel's sync writes (docs/early-access.md). */
  metafields?: { $app?: { early_access?: LiquidMetafield<unknown> } } & Record<
    string,
    object | undefined
  >;
}

/** The referral offer in the program summary (loyalty/program-summary.ts). */
export type ReferralOfferSummary = ProgramSummaryReferral;

export type StorefrontProgramSummary = ProgramSummary & { referral?: ReferralOfferSummary | null };

export interface StorefrontObjects {
  /**
   * `money_format` is the shop's "HTML without currency" format for the presentment currency;
   * `url` its primary domain's URL (`https://…`, no trailing slash), which share links use.
   */
  shop: { name: string; money_format: string; currency?: string; url: string };
  customer: StorefrontCustomer | null;
  /** Only on product pages (nil elsewhere, as in Shopify). */
  product?: StorefrontProduct | null;
  cart: { currency: { iso_code: string } };
  routes: {
    root_url: string;
    account_login_url: string;
    account_register_url: string;
    account_url?: string;
  };
  app: { metafields: { laurel?: { program?: LiquidMetafield<StorefrontProgramSummary> } } };
  /** Defaults to the engine's locale and `design_mode: false`. */
  request?: { locale: { iso_code: string }; design_mode?: boolean };
}

/** One `{% schema %}` as written in a block file. */
export interface BlockSchema {
  name: string;
  target: 'section' | 'head' | 'body';
  javascript?: string;
  stylesheet?: string;
  enabled_on?: { templates?: string[]; groups?: string[] };
  disabled_on?: { templates?: string[]; groups?: string[] };
  settings?: BlockSetting[];
  [attribute: string]: unknown;
}

export interface BlockSetting {
  type: string;
  id?: string;
  default?: unknown;
  [attribute: string]: unknown;
}

export interface StorefrontEngineOptions {
  /** Default extensions/laurel-theme of this repository. */
  extensionDir?: string;
  /** Where the preview serves assets/; default '/dev/preview/assets/'. */
  assetBaseUrl?: string;
  /** The shopper's locale when `objects.request` does not say; default 'en'. */
  locale?: string;
}

export interface StorefrontEngine {
  /**
   * Renders one block as Shopify does: wrapped in its `shopify-block` div, settings defaulted from
   * its schema (unknown setting ids are an error), `block` = { id, type, settings,
   * shopify_attributes } (shopify_attributes is empty outside the theme editor).
   */
  renderBlock(
    name: BlockName,
    objects: StorefrontObjects,
    settings?: Record<string, unknown>,
  ): Promise<string>;
  blockSchema(name: BlockName): BlockSchema;
  /**
   * The tags Shopify injects for the blocks on a page (their schema `stylesheet` and `javascript`,
   * each once; the script deferred): put them in the preview page's <head>.
   */
  headTags(names: readonly BlockName[]): string;
  /** URL of a file in assets/, as the preview serves it. */
  assetUrl(file: string): string;
}

/** Shopify's metafields drop: a missing namespace or key reads as nil. */
class MetafieldsDrop extends Drop {
  constructor(private readonly namespaces: Record<string, object | undefined>) {
    super();
  }
  override liquidMethodMissing(namespace: string): unknown {
    const keys = Object.hasOwn(this.namespaces, namespace) ? this.namespaces[namespace] : undefined;
    return keys ? new NamespaceDrop(keys) : null;
  }
}

class NamespaceDrop extends Drop {
  constructor(private readonly keys: object) {
    super();
  }
  override liquidMethodMissing(key: string): unknown {
    return Object.hasOwn(this.keys, key) ? (this.keys as Record<string, unknown>)[key] : null;
  }
}

/** `{% schema %}` and `{% doc %}`: Shopify reads them, the page never shows them. */
class SilentBlockTag extends Tag {
  constructor(token: TagToken, remainTokens: TopLevelToken[], liquid: Liquid) {
    super(token, remainTokens, liquid);
    const end = `end${token.name}`;
    while (remainTokens.length > 0) {
      const next = remainTokens.shift()!;
      if ('name' in next && next.name === end) return;
    }
    throw new Error(`tag ${token.getText()} not closed`);
  }
  render(): string {
    return '';
  }
}

const SCHEMA_PATTERN = /\{%-?\s*schema\s*-?%\}([\s\S]*?)\{%-?\s*endschema\s*-?%\}/;

/** The JSON inside a Liquid file's `{% schema %}`; throws naming the file when absent or invalid. */
export function readSchema(file: string, source: string): BlockSchema {
  const match = SCHEMA_PATTERN.exec(source);
  if (!match) throw new Error(`${file}: no {% schema %} tag`);
  try {
    return JSON.parse(match[1]!) as BlockSchema;
  } catch (error) {
    throw new Error(`${file}: {% schema %} is not valid JSON (${(error as Error).message})`);
  }
}

/** Every locale file of the extension, by code (`en`, `fr`); the default one is named apart. */
export function readLocales(localesDir: string, kind: 'storefront' | 'schema'): Locales {
  const suffix = kind === 'schema' ? '.schema.json' : '.json';
  const files: Locales['files'] = {};
  let defaultLocale: string | undefined;
  for (const file of readdirSync(localesDir).sort()) {
    if (!file.endsWith(suffix) || (kind === 'storefront' && file.endsWith('.schema.json'))) {
      continue;
    }
    let code = file.slice(0, -suffix.length);
    if (code.endsWith('.default')) {
      code = code.slice(0, -'.default'.length);
      defaultLocale = code;
    }
    files[code] = JSON.parse(readFileSync(path.join(localesDir, file), 'utf8')) as Record<
      string,
      unknown
    >;
  }
  if (!defaultLocale) throw new Error(`${localesDir}: no *.default${suffix} locale file`);
  return { defaultLocale, files };
}

const escapeAttribute = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function createStorefrontEngine(options: StorefrontEngineOptions = {}): StorefrontEngine {
  const extensionDir = path.resolve(options.extensionDir ?? DEFAULT_EXTENSION_DIR);
  const assetBaseUrl = options.assetBaseUrl ?? DEFAULT_ASSET_BASE_URL;
  const defaultLocale = options.locale ?? 'en';
  const blocksDir = path.join(extensionDir, 'blocks');
  const translate = createTranslator(readLocales(path.join(extensionDir, 'locales'), 'storefront'));

  const assetUrl = (file: string) => `${assetBaseUrl}${file}`;
  const liquid = new Liquid({
    root: [blocksDir],
    partials: [path.join(extensionDir, 'snippets')],
    extname: '.liquid',
    relativeReference: false,
    strictFilters: true,
    strictVariables: true,
    ownPropertyOnly: true,
    cache: true,
  });
  liquid.registerTag('schema', SilentBlockTag);
  liquid.registerTag('doc', SilentBlockTag);
  liquid.registerFilter('t', translate);
  liquid.registerFilter('money', money);
  liquid.registerFilter('money_without_trailing_zeros', money_without_trailing_zeros);
  liquid.registerFilter('json', json);
  liquid.registerFilter('divided_by', divided_by);
  // Shopify: the URL of a file in the extension's assets/ on its CDN; here, where the preview serves it.
  liquid.registerFilter('asset_url', (file: unknown) => assetUrl(String(file)));

  const schemas = new Map<BlockName, BlockSchema>();
  const blockSchema = (name: BlockName): BlockSchema => {
    let schema = schemas.get(name);
    if (!schema) {
      const file = path.join(blocksDir, `${name}.liquid`);
      schema = readSchema(file, readFileSync(file, 'utf8'));
      schemas.set(name, schema);
    }
    return schema;
  };

  let rendered = 0;

  return {
    blockSchema,
    assetUrl,

    async renderBlock(name, objects, settings = {}) {
      if (!BLOCK_NAMES.includes(name)) throw new Error(`unknown block '${String(name)}'`);
      const schema = blockSchema(name);
      const values: Record<string, unknown> = {};
      for (const setting of schema.settings ?? []) {
        if (setting.id !== undefined) values[setting.id] = setting.default ?? null;
      }
      for (const [id, value] of Object.entries(settings)) {
        if (!Object.hasOwn(values, id)) {
          throw new Error(`block '${name}' has no setting '${id}'`);
        }
        values[id] = value;
      }
      rendered += 1;
      const id = `laurel_${name.replaceAll('-', '_')}_${rendered}`;
      const block = {
        id,
        type: `shopify://apps/laurel/blocks/${name}/${id}`,
        settings: values,
        shopify_attributes: '',
      };
      const globals = {
        shop: objects.shop,
        customer: objects.customer
          ? { ...objects.customer, metafields: new MetafieldsDrop(objects.customer.metafields) }
          : null,
        product: objects.product
          ? { ...objects.product, metafields: new MetafieldsDrop(objects.product.metafields ?? {}) }
          : null,
        cart: objects.cart,
        routes: objects.routes,
        app: { ...objects.app, metafields: new MetafieldsDrop(objects.app.metafields) },
        request: {
          design_mode: false,
          ...objects.request,
          locale: objects.request?.locale ?? { iso_code: defaultLocale },
        },
      };
      const html = await liquid.renderFile(name, { block }, { globals });
      return `<div id="shopify-block-${id}" class="shopify-block shopify-app-block">${html}</div>`;
    },

    headTags(names) {
      const styles = new Set<string>();
      const scripts = new Set<string>();
      for (const name of names) {
        const schema = blockSchema(name);
        if (schema.stylesheet) styles.add(schema.stylesheet);
        if (schema.javascript) scripts.add(schema.javascript);
      }
      const tags = [
        ...[...styles].map(
          (file) =>
            `<link href="${escapeAttribute(assetUrl(file))}" rel="stylesheet" type="text/css" media="all">`,
        ),
        ...[...scripts].map(
          (file) => `<script src="${escapeAttribute(assetUrl(file))}" defer="defer"></script>`,
        ),
      ];
      return tags.join('\n');
    },
  };
}

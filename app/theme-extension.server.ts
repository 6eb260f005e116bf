/**
 * The theme app extension (extensions/laurel-theme/) as the dev server reads it for the storefront
 * preview (development only): where it is, which storefront locales it ships, and its assets served
 * the way Shopify's CDN serves them for `asset_url`. On a real shop Shopify hosts all of this; the
 * app itself never serves the extension.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXTENSION = 'extensions/laurel-theme';

/** Where `asset_url` points in the preview: /dev/preview/assets/<file>. */
export const PREVIEW_ASSET_BASE = '/dev/preview/assets/';

/**
 * The extension's directory. Beside the sources under tsx and vitest (app/ → ..), two levels up
 * from the server build (build/server/index.js), or from the working directory as a last resort.
 */
export function themeExtensionDir(): string {
  const candidates = [
    fileURLToPath(new URL(`../${EXTENSION}`, import.meta.url)),
    fileURLToPath(new URL(`../../${EXTENSION}`, import.meta.url)),
    resolve(process.cwd(), EXTENSION),
  ];
  const found = candidates.find((dir) => existsSync(join(dir, 'shopify.extension.toml')));
  if (!found) {
    throw new Error(`the theme extension was not found; looked in ${candidates.join(', ')}`);
  }
  return found;
}

export interface StorefrontLocales {
  /** The shop's primary language: the `.default.json` file's (Shopify: `en.default.json`). */
  primary: string;
  /** Every storefront language the extension translates, primary first. */
  all: string[];
}

/** The storefront locale files of the extension (`locales/<code>[.default].json`). */
export function storefrontLocales(dir: string = themeExtensionDir()): StorefrontLocales {
  let primary: string | undefined;
  const others: string[] = [];
  for (const file of readdirSync(join(dir, 'locales')).sort()) {
    const match = /^([a-z]{2,3}(?:-[A-Z]{2})?)(\.default)?\.json$/.exec(file);
    if (!match) continue; // schema translations (*.schema.json) are for the theme editor
    if (match[2]) primary = match[1];
    else others.push(match[1]!);
  }
  if (!primary) throw new Error(`${dir}/locales has no <code>.default.json`);
  return { primary, all: [primary, ...others.filter((code) => code !== primary)] };
}

/** What Shopify's CDN answers for the asset types a theme app extension may ship. */
const ASSET_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** Asset names are flat file names (the folder has no subfolders): no separators, no dot-files. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

function refusal(status: 400 | 404, reason: string): Response {
  return new Response(`${reason}\n`, {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}

/**
 * One file of the extension's assets/ folder, by name, with its content type. Anything that is not
 * a plain file name of a known type inside that folder — `..`, separators, encoded or not, a
 * symlink leading out — is refused without reading it.
 */
export function themeAssetResponse(
  name: string,
  options: { dir?: string; method?: string } = {},
): Response {
  if (!ASSET_NAME.test(name) || name.includes('..')) {
    return refusal(400, `not an asset file name: ${JSON.stringify(name)}`);
  }
  const type = ASSET_TYPES[extname(name).toLowerCase()];
  if (!type) return refusal(404, `no theme asset ${name} (not a type the preview serves)`);
  const assets = join(options.dir ?? themeExtensionDir(), 'assets');
  let path: string;
  try {
    const root = realpathSync(assets);
    path = realpathSync(join(assets, name));
    if (!path.startsWith(root + sep) || !statSync(path).isFile()) throw new Error('outside');
  } catch {
    return refusal(404, `no theme asset ${name}`);
  }
  const body = readFileSync(path);
  return new Response(options.method === 'HEAD' ? null : body, {
    status: 200,
    headers: {
      'Content-Type': type,
      'Content-Length': String(body.byteLength),
      // The files change while the demo runs: always revalidate.
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

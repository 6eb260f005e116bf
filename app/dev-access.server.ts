/**
 * The one gate of every development-only route (/dev/*): local access to the embedded admin and
 * the storefront preview of the store `npm run demo` creates. See docs/demo.md.
 *
 * A dev route works only when BOTH hold, checked in this order:
 * 1. NODE_ENV is not `production` (else 404: in production the routes do not exist);
 * 2. the demo's state file exists (DEMO_STATE_FILE, default .data/pglite-demo.json) and
 *    SHOPIFY_API_SECRET equals the random secret the demo generated and stored in it (else 403).
 * A deployed app has Shopify's client secret, which no demo state file holds, so even a
 * production server started without NODE_ENV=production keeps the routes shut.
 *
 * The routes stand in for what Shopify's admin and App Bridge (cdn.shopify.com, unreachable
 * offline) normally provide: session tokens, minted here exactly as Shopify shapes them and
 * signed with the demo secret, so `authenticate.admin` accepts them unchanged.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { parseShopifyEnv, type ShopifyEnv } from './env.server';

/**
 * Where the demo keeps its state: DEMO_STATE_FILE, else `<PGLITE_DIR>-demo.json` beside the
 * database directory (.data/pglite-demo.json), so each data directory has its own.
 */
export function demoStatePath(config: { DEMO_STATE_FILE?: string; PGLITE_DIR: string }): string {
  if (config.DEMO_STATE_FILE) return resolve(config.DEMO_STATE_FILE);
  const dir = resolve(config.PGLITE_DIR);
  return join(dirname(dir), `${basename(dir)}-demo.json`);
}

/** What the gate reads from the demo state file (dev/demo/state.ts writes the whole file). */
const accessStateSchema = z.object({
  shop: z.string().regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/),
  // 32 random bytes: never a guessable or empty value.
  apiSecret: z.string().regex(/^[0-9a-f]{64}$/),
});

export type DevAccess =
  | {
      allowed: true;
      /** The demo shop. */
      shop: string;
      apiKey: string;
      apiSecret: string;
      appUrl: string;
    }
  | { allowed: false; status: 403 | 404; reason: string };

function refuse(status: 403 | 404, reason: string): DevAccess {
  return { allowed: false, status, reason };
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Decides whether the dev routes are open in this environment (see the module comment). */
export function checkDevAccess(source: NodeJS.ProcessEnv = process.env): DevAccess {
  // First and on its own: nothing else is even read in production.
  if (source.NODE_ENV === 'production') {
    return refuse(
      404,
      'Not found: development routes do not exist in production (NODE_ENV=production).',
    );
  }
  let config: ShopifyEnv;
  try {
    config = parseShopifyEnv(source);
  } catch (error) {
    return refuse(403, `Development routes are off: ${(error as Error).message}`);
  }
  const path = demoStatePath(config);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return refuse(
      403,
      `Development routes are off: there is no demo state file at ${path}. They serve only the store \`npm run demo\` creates.`,
    );
  }
  let state: z.infer<typeof accessStateSchema>;
  try {
    const parsed = accessStateSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join('; '));
    state = parsed.data;
  } catch (error) {
    return refuse(
      403,
      `Development routes are off: the demo state file ${path} is not valid (${(error as Error).message}).`,
    );
  }
  if (!sameSecret(config.SHOPIFY_API_SECRET, state.apiSecret)) {
    return refuse(
      403,
      `Development routes are off: SHOPIFY_API_SECRET is not the secret \`npm run demo\` generated (${path}).`,
    );
  }
  return {
    allowed: true,
    shop: state.shop,
    apiKey: config.SHOPIFY_API_KEY,
    apiSecret: config.SHOPIFY_API_SECRET,
    appUrl: config.SHOPIFY_APP_URL,
  };
}

/** For a dev route's loader: the access, or a thrown 404/403 text Response with the reason. */
export function requireDevAccess(source: NodeJS.ProcessEnv = process.env) {
  const access = checkDevAccess(source);
  if (!access.allowed) {
    throw new Response(`${access.reason}\n`, {
      status: access.status,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
    });
  }
  return access;
}

/** The stand-in for App Bridge's script (app/routes/dev.app-bridge[.js].tsx). */
export const DEV_APP_BRIDGE_PATH = '/dev/app-bridge.js';

/**
 * For app/routes/app.tsx: the App Bridge script to load instead of Shopify's CDN one when the dev
 * routes are open; undefined otherwise (always in production), which keeps Shopify's script.
 */
export function devAppBridgeUrl(source: NodeJS.ProcessEnv = process.env): string | undefined {
  return checkDevAccess(source).allowed ? DEV_APP_BRIDGE_PATH : undefined;
}

export interface SessionTokenOptions {
  shop: string;
  apiKey: string;
  apiSecret: string;
  /** The admin user (`sub`); default 1, the shop owner. */
  userId?: string;
  /** Seconds since the epoch (default: now). */
  now?: number;
  /** Lifetime in seconds (default 60, as Shopify's). */
  ttlSeconds?: number;
}

/**
 * A Shopify session token (App Bridge's `shopify.idToken()`): an HS256 JWT signed with the API
 * secret with Shopify's claims — iss `https://<shop>/admin`, dest `https://<shop>`, aud the API key,
 * sub the user, exp/nbf/iat, jti and sid.
 */
export function mintSessionToken(options: SessionTokenOptions): { token: string; exp: number } {
  const iat = options.now ?? Math.floor(Date.now() / 1000);
  const exp = iat + (options.ttlSeconds ?? 60);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = encode({ alg: 'HS256', typ: 'JWT' });
  const payload = encode({
    iss: `https://${options.shop}/admin`,
    dest: `https://${options.shop}`,
    aud: options.apiKey,
    sub: options.userId ?? '1',
    exp,
    nbf: iat,
    iat,
    jti: randomUUID(),
    sid: randomBytes(16).toString('hex'),
  });
  const signature = createHmac('sha256', options.apiSecret)
    .update(`${header}.${payload}`)
    .digest('base64url');
  return { token: `${header}.${payload}.${signature}`, exp };
}

/** Shopify's `host` parameter for a shop: base64 of `admin.shopify.com/store/<handle>`. */
export function hostParam(shop: string): string {
  return Buffer.from(`admin.shopify.com/store/${shop.replace(/\.myshopify\.com$/, '')}`).toString(
    'base64',
  );
}

/**
 * The embedded-admin URL Shopify's admin would load in its iframe: `path` with embedded=1, shop,
 * host and a fresh session token in id_token. `path` must be under /app (no open redirect).
 */
export function embeddedAdminUrl(
  access: Extract<DevAccess, { allowed: true }>,
  path = '/app',
  now?: number,
): string {
  const target = new URL(path, 'http://dev.invalid');
  if (target.origin !== 'http://dev.invalid' || !/^\/app(\/|$)/.test(target.pathname)) {
    throw new RangeError(`path must be under /app (got ${JSON.stringify(path)})`);
  }
  const { token } = mintSessionToken({ ...access, ...(now !== undefined && { now }) });
  target.searchParams.set('embedded', '1');
  target.searchParams.set('shop', access.shop);
  target.searchParams.set('host', hostParam(access.shop));
  target.searchParams.set('id_token', token);
  return `${target.pathname}?${target.searchParams.toString()}`;
}

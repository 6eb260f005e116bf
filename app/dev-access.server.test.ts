import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkDevAccess,
  demoStatePath,
  devAppBridgeUrl,
  embeddedAdminUrl,
  hostParam,
  mintSessionToken,
  requireDevAccess,
} from './dev-access.server';

const SHOP = 'laurel-demo.myshopify.com';
const dir = mkdtempSync(join(tmpdir(), 'laurel-dev-access-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function demo(options: { secret?: string; state?: unknown } = {}) {
  const secret = options.secret ?? randomBytes(32).toString('hex');
  const stateFile = join(dir, `${randomBytes(4).toString('hex')}-demo.json`);
  writeFileSync(
    stateFile,
    JSON.stringify(options.state ?? { version: 1, shop: SHOP, apiSecret: secret }),
  );
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'development',
    SHOPIFY_API_KEY: 'laurel-demo-key',
    SHOPIFY_API_SECRET: secret,
    SHOPIFY_APP_URL: 'http://127.0.0.1:3000',
    SCOPES: 'read_customers',
    DEMO_STATE_FILE: stateFile,
  };
  return { secret, stateFile, env };
}

/** The library's own verifier, as authenticate.admin uses it. */
function library(secret: string, apiKey = 'laurel-demo-key') {
  return shopifyApi({
    apiKey,
    apiSecretKey: secret,
    hostName: '127.0.0.1:3000',
    hostScheme: 'http',
    apiVersion: ApiVersion.July26,
    isEmbeddedApp: true,
    logger: { log: () => {} },
  });
}

describe('checkDevAccess', () => {
  it('opens in the demo configuration: not production, and the secret the demo stored', () => {
    const { env, secret } = demo();
    expect(checkDevAccess(env)).toEqual({
      allowed: true,
      shop: SHOP,
      apiKey: 'laurel-demo-key',
      apiSecret: secret,
      appUrl: 'http://127.0.0.1:3000',
    });
    expect(devAppBridgeUrl(env)).toBe('/dev/app-bridge.js');
  });

  it('refuses with 404 in production, even with the demo state and secret', () => {
    const { env } = demo();
    const access = checkDevAccess({ ...env, NODE_ENV: 'production' });
    expect(access).toEqual({
      allowed: false,
      status: 404,
      reason: expect.stringMatching(/do not exist in production \(NODE_ENV=production\)/),
    });
    expect(devAppBridgeUrl({ ...env, NODE_ENV: 'production' })).toBeUndefined();
    // Refused before anything else is read: an incomplete environment changes nothing.
    expect(checkDevAccess({ NODE_ENV: 'production' })).toMatchObject({ status: 404 });
  });

  it('refuses with 403 when the secret is not the one the demo generated', () => {
    const { env } = demo();
    const access = checkDevAccess({ ...env, SHOPIFY_API_SECRET: 'shpss_a_real_client_secret' });
    expect(access).toMatchObject({
      allowed: false,
      status: 403,
      reason: expect.stringMatching(
        /SHOPIFY_API_SECRET is not the secret `npm run demo` generated/,
      ),
    });
    // Same length, one character off.
    const { env: other, secret } = demo();
    const flipped = `${secret.slice(0, -1)}${secret.endsWith('0') ? '1' : '0'}`;
    expect(checkDevAccess({ ...other, SHOPIFY_API_SECRET: flipped })).toMatchObject({
      status: 403,
    });
  });

  it('refuses with 403 without a state file', () => {
    const { env } = demo();
    const access = checkDevAccess({ ...env, DEMO_STATE_FILE: join(dir, 'missing.json') });
    expect(access).toMatchObject({
      allowed: false,
      status: 403,
      reason: expect.stringContaining(`no demo state file at ${join(dir, 'missing.json')}`),
    });
  });

  it('refuses with 403 when the state file is not a demo state (no guessable or empty secret)', () => {
    for (const state of [
      { version: 1, shop: SHOP, apiSecret: '' },
      { version: 1, shop: SHOP, apiSecret: 'laurel-demo-secret' },
      { version: 1, shop: 'not a shop', apiSecret: 'a'.repeat(64) },
      'not json {',
    ]) {
      const { env, stateFile } = demo({ secret: 'laurel-demo-secret' });
      if (typeof state === 'string') writeFileSync(stateFile, state);
      else writeFileSync(stateFile, JSON.stringify(state));
      expect(checkDevAccess(env)).toMatchObject({
        allowed: false,
        status: 403,
        reason: expect.stringContaining('is not valid'),
      });
    }
  });

  it('refuses with 403 when the Shopify environment is incomplete', () => {
    const { env } = demo();
    expect(checkDevAccess({ ...env, SHOPIFY_API_SECRET: undefined })).toMatchObject({
      status: 403,
      reason: expect.stringMatching(
        /^Development routes are off: Invalid environment:[\s\S]*SHOPIFY_API_SECRET/,
      ),
    });
  });

  it('requireDevAccess throws the refusal as a text Response', async () => {
    const { env } = demo();
    const thrown = (() => {
      try {
        requireDevAccess({ ...env, NODE_ENV: 'production' });
      } catch (error) {
        return error;
      }
    })() as Response;
    expect(thrown).toBeInstanceOf(Response);
    expect(thrown.status).toBe(404);
    expect(thrown.headers.get('Content-Type')).toMatch(/^text\/plain/);
    expect(await thrown.text()).toMatch(/production/);
    expect(requireDevAccess(env)).toMatchObject({ allowed: true, shop: SHOP });
  });

  it('finds the state file beside the PGlite directory unless DEMO_STATE_FILE says otherwise', () => {
    expect(demoStatePath({ PGLITE_DIR: '/srv/laurel/.data/pglite' })).toBe(
      '/srv/laurel/.data/pglite-demo.json',
    );
    expect(demoStatePath({ PGLITE_DIR: '/srv/x/db/', DEMO_STATE_FILE: '/tmp/s.json' })).toBe(
      '/tmp/s.json',
    );
  });
});

describe('mintSessionToken', () => {
  it("makes a token Shopify's library accepts, with Shopify's claims", async () => {
    const secret = randomBytes(32).toString('hex');
    const now = Math.floor(Date.now() / 1000);
    const { token, exp } = mintSessionToken({
      shop: SHOP,
      apiKey: 'laurel-demo-key',
      apiSecret: secret,
      now,
    });
    expect(exp).toBe(now + 60);
    const payload = await library(secret).session.decodeSessionToken(token);
    expect(payload).toEqual({
      iss: `https://${SHOP}/admin`,
      dest: `https://${SHOP}`,
      aud: 'laurel-demo-key',
      sub: '1',
      exp: now + 60,
      nbf: now,
      iat: now,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      sid: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    const second = mintSessionToken({ shop: SHOP, apiKey: 'laurel-demo-key', apiSecret: secret });
    const decoded = await library(secret).session.decodeSessionToken(second.token);
    expect(decoded.jti).not.toBe(payload.jti);
  });

  it('is refused by the library when signed with another secret, for another app or expired', async () => {
    const secret = randomBytes(32).toString('hex');
    const options = { shop: SHOP, apiKey: 'laurel-demo-key', apiSecret: secret };
    const other = mintSessionToken({ ...options, apiSecret: randomBytes(32).toString('hex') });
    await expect(library(secret).session.decodeSessionToken(other.token)).rejects.toThrow(
      /signature verification failed/,
    );
    const foreign = mintSessionToken({ ...options, apiKey: 'another-app' });
    await expect(library(secret).session.decodeSessionToken(foreign.token)).rejects.toThrow(
      /invalid API key/,
    );
    const expired = mintSessionToken({ ...options, now: Math.floor(Date.now() / 1000) - 120 });
    await expect(library(secret).session.decodeSessionToken(expired.token)).rejects.toThrow(
      /"exp" claim timestamp check failed/,
    );
  });
});

describe('embeddedAdminUrl', () => {
  const { env } = demo();
  const access = checkDevAccess(env);
  if (!access.allowed) throw new Error(access.reason);

  it('is the admin URL Shopify would open: embedded, shop, host and a fresh id_token', async () => {
    const url = new URL(embeddedAdminUrl(access, '/app?tab=members'), 'http://127.0.0.1:3000');
    expect(url.pathname).toBe('/app');
    expect(url.searchParams.get('tab')).toBe('members');
    expect(url.searchParams.get('embedded')).toBe('1');
    expect(url.searchParams.get('shop')).toBe(SHOP);
    expect(url.searchParams.get('host')).toBe(hostParam(SHOP));
    expect(Buffer.from(hostParam(SHOP), 'base64').toString()).toBe(
      'admin.shopify.com/store/laurel-demo',
    );
    const api = library(access.apiSecret);
    expect(api.utils.sanitizeHost(url.searchParams.get('host')!)).toBe(hostParam(SHOP));
    const payload = await api.session.decodeSessionToken(url.searchParams.get('id_token')!);
    expect(payload.dest).toBe(`https://${SHOP}`);
  });

  it('only leads into /app (no open redirect)', () => {
    for (const path of ['https://evil.example/app', '//evil.example/app', '/auth/login', '/apps']) {
      expect(() => embeddedAdminUrl(access, path)).toThrow(/must be under \/app/);
    }
    expect(() => embeddedAdminUrl(access, '/app/settings')).not.toThrow();
  });
});

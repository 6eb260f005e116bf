import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDevAccess } from '../../app/dev-access.server';
import {
  DEMO_SHOP,
  DemoStateError,
  newDemoState,
  readDemoState,
  sourceMismatch,
  writeDemoState,
} from './state';

const dir = mkdtempSync(join(tmpdir(), 'laurel-demo-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo state', () => {
  it('is created with a fresh random secret, token and seed, and read back as written', () => {
    const a = newDemoState({ kind: 'history', customers: 200, firstMonth: '2026-08' });
    const b = newDemoState({ kind: 'history', customers: 200, firstMonth: '2026-08' });
    expect(a.apiSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(a.apiSecret).not.toBe(b.apiSecret);
    expect(a.accessToken).not.toBe(b.accessToken);
    expect(a).toMatchObject({
      version: 1,
      shop: DEMO_SHOP,
      source: { kind: 'history', customers: 200, firstMonth: '2026-08', seed: expect.any(Number) },
    });
    const path = join(dir, 'nested', 'pglite-demo.json');
    expect(readDemoState(path)).toBeUndefined();
    writeDemoState(path, a);
    expect(readDemoState(path)).toEqual(a);
    // It holds the secret: owner-only.
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('opens the dev routes for the app configured with its secret, and only that one', () => {
    const state = newDemoState({ kind: 'history', customers: 40, firstMonth: '2026-08' });
    const path = join(dir, 'gate-demo.json');
    writeDemoState(path, state);
    const env = {
      NODE_ENV: 'development',
      SHOPIFY_API_KEY: state.apiKey,
      SHOPIFY_API_SECRET: state.apiSecret,
      SHOPIFY_APP_URL: 'http://127.0.0.1:3000',
      SCOPES: 'read_customers',
      DEMO_STATE_FILE: path,
    };
    expect(checkDevAccess(env)).toMatchObject({ allowed: true, shop: DEMO_SHOP });
    const other = newDemoState({ kind: 'history', customers: 40, firstMonth: '2026-08' });
    expect(checkDevAccess({ ...env, SHOPIFY_API_SECRET: other.apiSecret })).toMatchObject({
      allowed: false,
      status: 403,
    });
  });

  it('refuses a file that is not a demo state', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{"version":1}');
    expect(() => readDemoState(path)).toThrow(DemoStateError);
    writeFileSync(path, 'nope');
    expect(() => readDemoState(path)).toThrow(/is not JSON/);
  });

  it('names a different store instead of mixing two', () => {
    const history = newDemoState({ kind: 'history', customers: 200, firstMonth: '2026-08' });
    expect(
      sourceMismatch(history, { kind: 'history', customers: 200, firstMonth: '2027-01' }),
    ).toBeUndefined();
    expect(
      sourceMismatch(history, { kind: 'history', customers: 40, firstMonth: '2026-08' }),
    ).toMatch(/made from the generated history with 200 customers; --customers 40/);
    expect(
      sourceMismatch(history, { kind: 'orders', file: 'a.csv', sha256: 'a'.repeat(64) }),
    ).toMatch(/--orders a.csv would be a different store/);
    const orders = newDemoState({ kind: 'orders', file: 'a.csv', sha256: 'a'.repeat(64) });
    expect(
      sourceMismatch(orders, { kind: 'orders', file: 'copy.csv', sha256: 'a'.repeat(64) }),
    ).toBeUndefined();
    expect(
      sourceMismatch(orders, { kind: 'orders', file: 'b.csv', sha256: 'b'.repeat(64) }),
    ).toMatch(/b.csv has different contents/);
  });
});

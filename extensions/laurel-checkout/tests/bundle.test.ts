// The bundle Shopify would ship, not the sources: scripts/size-extension.mjs builds it as Shopify
// CLI does, and it runs here in a fresh JavaScript context that has what an extension worker has —
// no `process`, no Node — to register its target, compute the earn line and fetch the codes from
// the deploy-time app URL.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  EXTENSION_DIR,
  hostPerTest,
  json,
  SESSION_TOKEN,
  signIn,
  TARGET,
  text,
  waitFor,
} from './helpers/host';

const REPO = join(EXTENSION_DIR, '..', '..');
const DEPLOYED_APP_URL = 'https://loyalty.shop-operator.example';

let outdir: string;
let report: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'laurel-checkout-'));
  report = execFileSync(
    process.execPath,
    [
      'scripts/size-extension.mjs',
      'extensions/laurel-checkout',
      '--goal',
      '20',
      '--fail-over',
      '64',
      '--outdir',
      outdir,
    ],
    { cwd: REPO, env: { ...process.env, APP_URL: DEPLOYED_APP_URL }, encoding: 'utf8' },
  );
});

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

const host = hostPerTest();

test('is reported within the 20 KB goal', () => {
  const line = /laurel-checkout\.js.*\n.*?(\d+) B raw.*?(\d+) B gzipped.*within 20\.0 KB/.exec(
    report,
  );
  expect(Number(line?.[1])).toBeGreaterThan(Number(line?.[2]));
  const gzipped = Number(line?.[2]);
  expect(gzipped).toBeGreaterThan(1000);
  expect(gzipped).toBeLessThanOrEqual(20 * 1024);
});

test('runs without Node, with the deploy-time app URL inlined', async () => {
  const { extension, network } = host;
  signIn(host);
  const rewards = `${DEPLOYED_APP_URL}/api/checkout/rewards`;
  network.on(rewards, () =>
    json({
      redemptions: [
        {
          id: '1',
          code: 'LRL-7KQ2-M9XP-4HTV',
          title: 'Free shipping',
          value: { kind: 'free_shipping' },
          expiresAt: null,
        },
      ],
    }),
  );
  const code = readFileSync(join(outdir, 'laurel-checkout.js'), 'utf8');
  expect(code).not.toMatch(/from\s*["']react|require\(/);

  const registered = new Map<string, () => unknown>();
  const shopify = new Proxy(extension.shopify, {
    get: (target, property) =>
      property === 'extend'
        ? (name: string, render: () => unknown) => registered.set(name, render)
        : Reflect.get(target, property),
  });
  const scope = vm.createContext({
    shopify,
    document,
    fetch: network.fetch,
    setTimeout,
    clearTimeout,
    AbortController,
    URL,
    Intl,
    console,
  });
  vm.runInContext(code, scope);
  expect([...registered.keys()]).toEqual([TARGET]);
  expect('process' in scope).toBe(false);

  await registered.get(TARGET)?.();
  await waitFor(() => expect(text(document.body as never)).toContain('LRL-7KQ2-M9XP-4HTV'));
  expect(text(document.body as never)).toContain('This order earns 90 points');
  const [request] = network.to(rewards);
  expect(request?.headers.get('Authorization')).toBe(`Bearer ${SESSION_TOKEN}`);
});

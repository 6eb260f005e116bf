// The bundles Shopify would ship, not the sources: scripts/size-account.mjs builds them as Shopify CLI
// does, and each one runs here in a fresh JavaScript context that has what an extension worker
// has — no `process`, no Node — to register its target and render the member's points.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  accountApi,
  CUSTOMER_ACCOUNT_API,
  EXTENSION_DIR,
  json,
  NO_METAFIELDS,
  SESSION_TOKEN,
  hostPerTest,
  text,
  waitFor,
} from './helpers/host';

const REPO = join(EXTENSION_DIR, '..', '..');
const DEPLOYED_APP_URL = 'https://loyalty.shop-operator.example';

let outdir: string;
let report: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'laurel-account-'));
  report = execFileSync(process.execPath, ['scripts/size-account.mjs', '--outdir', outdir], {
    cwd: REPO,
    env: { ...process.env, APP_URL: DEPLOYED_APP_URL },
    encoding: 'utf8',
  });
});

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

/** A worker-like global scope: web APIs only, the host's `shopify`, and the test's document. */
function workerScope(shopify: object, fetch: typeof globalThis.fetch) {
  const registered = new Map<string, (...args: unknown[]) => unknown>();
  const host = new Proxy(shopify, {
    get: (target, property) =>
      property === 'extend'
        ? (name: string, render: (...args: unknown[]) => unknown) => registered.set(name, render)
        : Reflect.get(target, property),
  });
  const scope = vm.createContext({
    shopify: host,
    document,
    fetch,
    setTimeout,
    clearTimeout,
    AbortController,
    URL,
    URLSearchParams,
    Headers,
    Response,
    console,
  });
  return { scope, registered };
}

describe.each([
  ['laurel-account-profile', 'customer-account.profile.block.render'],
  ['laurel-account-page', 'customer-account.page.render'],
] as const)('%s.js', (handle, target) => {
  const host = hostPerTest(target);

  test('is reported within budget', () => {
    const line = new RegExp(`${handle}\\.js.*\\n.*?(\\d+) B gzipped.*within 20\\.0 KB`);
    const gzipped = Number(line.exec(report)?.[1]);
    expect(gzipped).toBeGreaterThan(1000);
    expect(gzipped).toBeLessThanOrEqual(20 * 1024);
  });

  test('runs without Node, with the deploy-time app URL inlined', async () => {
    const { extension, network } = host;
    const { summary, history } = accountApi(DEPLOYED_APP_URL);
    network
      .on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS)
      .on(summary, () =>
        json({ enrolled: true, balance: 42, lifetimeEarned: 50, tier: null, referralCode: null }),
      )
      .on(history, () => json({ entries: [], nextCursor: null }));
    const code = readFileSync(join(outdir, `${handle}.js`), 'utf8');
    expect(code).not.toMatch(/from\s*["']react|require\(/);

    const { scope, registered } = workerScope(extension.shopify, network.fetch);
    vm.runInContext(code, scope);
    expect([...registered.keys()]).toEqual([target]);
    expect('process' in scope).toBe(false);

    await registered.get(target)?.();
    await waitFor(() => expect(text(document.body as never)).toContain('42 points'));
    const [request] = network.to(summary);
    expect(request?.headers.get('Authorization')).toBe(`Bearer ${SESSION_TOKEN}`);
  });
});

describe('an app URL the CLI did not inline', () => {
  async function appUrlIn(define: Record<string, string>) {
    const result = await build({
      entryPoints: [join(EXTENSION_DIR, 'src', 'sources.ts')],
      bundle: true,
      write: false,
      format: 'iife',
      globalName: 'sources',
      define,
      logLevel: 'error',
    });
    const scope = vm.createContext({ URL });
    vm.runInContext(result.outputFiles[0]?.text ?? '', scope);
    return vm.runInContext('sources.appUrl()', scope) as string | null;
  }

  test('reads as no URL rather than throwing in a worker without `process`', async () => {
    expect(await appUrlIn({})).toBeNull();
  });

  test('falls back to SHOPIFY_APP_URL, and refuses one that is not https', async () => {
    const defineUrl = (url: string) => ({ 'process.env.SHOPIFY_APP_URL': JSON.stringify(url) });
    expect(await appUrlIn(defineUrl('https://laurel.example.com/'))).toBe(
      'https://laurel.example.com',
    );
    expect(await appUrlIn(defineUrl('http://localhost:3000'))).toBeNull();
  });
});

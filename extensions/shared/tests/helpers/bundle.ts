/**
 * The bundles Shopify would ship, for an extension's bundle test: scripts/size-extension.mjs (or a
 * script that calls it) builds them as Shopify CLI does into a temporary folder before the file's
 * tests, and {@link startInWorker} runs one in a fresh JavaScript context with what an extension
 * worker has — web APIs, the host's `shopify`, the test's document; no `process`, no Node.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { afterAll, beforeAll, expect } from 'vitest';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

/** The app URL the bundles are built with, as `APP_URL=… shopify app deploy` inlines it. */
export const DEPLOYED_APP_URL = 'https://loyalty.shop-operator.example';

/**
 * Runs `node <script…> --outdir <tmp>` from the repository root in beforeAll (removed in afterAll):
 * `report` is what it printed, `code(handle)` the bundle it wrote for that extension handle.
 */
export function bundlesBuiltBy(script: string[]) {
  let outdir: string | undefined;
  let report = '';
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'laurel-bundle-'));
    report = execFileSync(process.execPath, [...script, '--outdir', outdir], {
      cwd: REPO,
      env: { ...process.env, APP_URL: DEPLOYED_APP_URL },
      encoding: 'utf8',
    });
  });
  afterAll(() => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });
  return {
    get report() {
      return report;
    },
    code(handle: string): string {
      if (!outdir) throw new Error('the bundles are built before the tests');
      return readFileSync(join(outdir, `${handle}.js`), 'utf8');
    },
  };
}

/**
 * A worker-like global scope: web APIs only, the host's `shopify` (whose `extend` records what the
 * bundle registers) and the test's document.
 */
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
    Intl,
    console,
  });
  return { scope, registered };
}

/**
 * Runs a production bundle as Shopify's worker does: it must be self-contained (no React, no
 * require), register exactly `target` through shopify.extend and never see `process`; then the
 * registered function is called, which renders into the test's document.
 */
export async function startInWorker(
  code: string,
  host: { shopify: object; fetch: typeof globalThis.fetch; target: string },
): Promise<void> {
  expect(code).not.toMatch(/from\s*["']react|require\(/);
  const { scope, registered } = workerScope(host.shopify, host.fetch);
  vm.runInContext(code, scope);
  expect([...registered.keys()]).toEqual([host.target]);
  expect('process' in scope).toBe(false);
  await registered.get(host.target)?.();
}

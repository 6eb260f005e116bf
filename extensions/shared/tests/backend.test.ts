// What both extensions read of the app backend the same way (src/backend.ts, src/answers.ts): the
// app URL the CLI inlined, and the contract's error body. The calls themselves are tested through
// each extension's rendered targets and production bundles.
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, test } from 'vitest';
import { parseErrorCode } from '../src/answers';

const BACKEND = fileURLToPath(new URL('../src/backend.ts', import.meta.url));

describe('an app URL the CLI did not inline', () => {
  async function appUrlIn(define: Record<string, string>) {
    const result = await build({
      entryPoints: [BACKEND],
      bundle: true,
      write: false,
      format: 'iife',
      globalName: 'backend',
      define,
      logLevel: 'error',
    });
    const scope = vm.createContext({ URL });
    vm.runInContext(result.outputFiles[0]?.text ?? '', scope);
    return vm.runInContext('backend.appUrl()', scope) as string | null;
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

test('parseErrorCode reads the contract error body and nothing else', () => {
  expect(parseErrorCode({ error: { code: 'BAD_CURSOR', message: 'x' } })).toBe('BAD_CURSOR');
  expect(parseErrorCode({ error: 'BAD_CURSOR' })).toBeUndefined();
  expect(parseErrorCode({ error: { code: 400 } })).toBeUndefined();
  expect(parseErrorCode(undefined)).toBeUndefined();
});

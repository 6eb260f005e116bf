// Bundles the CLI (cli/main.ts and what it imports from loyalty/, db/, app/models) into dist/ so
// `loyalty` starts fast: no TypeScript compiler at run time. Packages stay external.
// Runs on `npm install` (prepare) and before the tests.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names are content hashes: start clean so stale chunks do not pile up.
rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: { cli: 'cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
});

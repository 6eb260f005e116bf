// Bundles the command-line entry points into dist/ so they start fast, with no TypeScript compiler
// at run time: the `loyalty` CLI (cli/main.ts), the web server (server/main.ts → dist/server.mjs,
// which loads the Remix build from build/) and the worker process (workers/main.ts →
// dist/worker.mjs). Packages stay external. Runs on `npm install` (prepare), in `npm run build` and
// before the tests.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names are content hashes: start clean so stale chunks do not pile up.
rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: { cli: 'cli/main.ts', server: 'server/main.ts', worker: 'workers/main.ts' },
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

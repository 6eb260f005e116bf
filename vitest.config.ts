import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'app/**/*.test.ts',
      'loyalty/**/*.test.ts',
      'db/**/*.test.ts',
      'cli/**/*.test.ts',
      'workers/**/*.test.ts',
      'tests/**/*.test.ts',
      'dev/**/*.test.ts',
      'server/**/*.test.ts',
      'extensions/**/*.test.ts',
    ],
    environment: 'node',
    setupFiles: ['tests/setup/console.ts'],
    // The tester imports the extension's .tsx itself (dynamic import()); inlined, that import goes
    // through Vite's transform instead of Node's loader, which cannot read TSX.
    server: { deps: { inline: ['@shopify/ui-extensions-tester'] } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: keep a little parallelism without starving Postgres/Redis.
    maxWorkers: 2,
    // Every test file is a fresh process, and each that opens PGlite compiles its 8 MB of
    // WebAssembly: Liftoff, then TurboFan in background threads that compete with the other
    // worker. Liftoff alone halves that (about 2.5 s of CPU per file) and runs the same code.
    execArgv: ['--liftoff-only'],
  },
});

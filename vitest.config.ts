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
    ],
    environment: 'node',
    setupFiles: ['tests/setup/console.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: keep a little parallelism without starving Postgres/Redis.
    maxWorkers: 2,
  },
});

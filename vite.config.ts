import { cpSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { vitePlugin as remix } from '@remix-run/dev';
import { defineConfig, type Plugin } from 'vite';

declare module '@remix-run/server-runtime' {
  interface Future {
    v3_singleFetch: true;
  }
}

/**
 * db/client.server.ts finds the SQL migrations at `../db/migrations` from its own module URL. In
 * the server build that module lives in build/server/index.js, so the migrations are copied to
 * build/db/migrations: `npm start` can then migrate on start-up like every other process.
 */
function copyMigrations(): Plugin {
  let outDir = '';
  let ssr = false;
  return {
    name: 'laurel:copy-migrations',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
      ssr = Boolean(config.build.ssr);
    },
    closeBundle() {
      if (!ssr) return;
      const target = resolve(outDir, '..', 'db', 'migrations');
      rmSync(target, { recursive: true, force: true });
      cpSync(resolve('db', 'migrations'), target, { recursive: true });
    },
  };
}

export default defineConfig({
  server: {
    port: Number(process.env.PORT || 3000),
    fs: { allow: ['app', 'node_modules'] },
  },
  plugins: [
    remix({
      future: {
        v3_fetcherPersist: true,
        v3_relativeSplatPath: true,
        v3_throwAbortReason: true,
        v3_singleFetch: true,
        v3_lazyRouteDiscovery: true,
        v3_routeConfig: true,
      },
    }),
    copyMigrations(),
  ],
  build: { assetsInlineLimit: 0 },
  optimizeDeps: { include: ['@shopify/app-bridge-react', '@shopify/polaris'] },
});

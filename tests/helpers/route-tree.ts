/**
 * A Remix server build of the REAL route tree (what Remix's flat-routes convention makes of the
 * files in app/routes), with modules only for the routes a test names; every other route has an
 * empty module. Requests then go through Remix's own handler, so a test sees which route Remix
 * picks for a URL (nesting, splats, optional segments) and that a resource route is not rendered
 * as a document (the build's entry answers 299 "document").
 *
 *   const handler = createRequestHandler(routeTreeBuild({ 'routes/proxy': proxyModule }));
 */
import { fileURLToPath } from 'node:url';
import { UNSAFE_flatRoutes as flatRoutes } from '@remix-run/dev';
import type { ServerBuild } from '@remix-run/server-runtime';

const APP_DIR = fileURLToPath(new URL('../../app', import.meta.url));

/** The route manifest flat routes makes of app/routes (ids like `routes/proxy.history`). */
export function routeManifest() {
  return flatRoutes(APP_DIR, ['**/.*', '**/*.test.{ts,tsx}']);
}

export function routeTreeBuild(modules: Record<string, unknown>): ServerBuild {
  const routes: ServerBuild['routes'] = {
    root: { id: 'root', path: '', module: {} as never },
  };
  for (const route of Object.values(routeManifest())) {
    routes[route.id] = {
      id: route.id,
      parentId: route.parentId ?? 'root',
      path: route.path,
      index: route.index,
      caseSensitive: route.caseSensitive,
      module: (modules[route.id] ?? {}) as never,
    };
  }
  return {
    mode: 'production',
    // A document request would mean the route was not taken for a resource route.
    entry: { module: { default: () => new Response('document', { status: 299 }) } },
    routes,
    assets: { entry: { imports: [], module: '' }, routes: {}, url: '', version: 'test' } as never,
    publicPath: '/build/',
    assetsBuildDirectory: 'build/client',
    future: { v3_singleFetch: true } as never,
    isSpaMode: false,
  };
}

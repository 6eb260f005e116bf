import { flatRoutes } from '@remix-run/fs-routes';
import type { RouteConfig } from '@remix-run/route-config';

// With v3_routeConfig the route files are listed here, so the ignore list lives here too (the Vite
// plugin's ignoredRouteFiles option is not read when routes.ts exists): tests beside routes are
// not routes.
export default flatRoutes({
  ignoredRouteFiles: ['**/.*', '**/*.test.{ts,tsx}', '**/*.spec.{ts,tsx}'],
}) satisfies RouteConfig;

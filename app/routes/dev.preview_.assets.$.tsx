// /dev/preview/assets/<file> (development only): the theme extension's assets at the URLs the
// preview's `asset_url` gives, as Shopify's CDN serves them on a real shop. See
// app/theme-extension.server.ts. Refused in production (404) and outside the demo (403).
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { requireDevAccess } from '../dev-access.server';
import { themeAssetResponse } from '../theme-extension.server';

export const loader = ({ request, params }: LoaderFunctionArgs) => {
  requireDevAccess();
  return themeAssetResponse(params['*'] ?? '', { method: request.method });
};

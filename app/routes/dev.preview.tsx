// /dev/preview[?customer=<id>][&locale=fr][&variant=<id>] (development only): a stand-in theme page
// with the theme extension's real blocks for a chosen demo customer or a logged-out shopper. See
// app/storefront-preview.server.ts and docs/demo.md. Refused in production (404) and outside the
// demo (403).
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { requireDevAccess } from '../dev-access.server';
import { storefrontPreview } from '../storefront-preview.server';

export const loader = ({ request }: LoaderFunctionArgs) =>
  storefrontPreview(request, requireDevAccess());

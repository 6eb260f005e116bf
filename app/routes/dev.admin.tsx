// /dev/admin[?path=/app/…] (development only): opens the embedded admin of the demo shop in a
// plain browser, as Shopify's admin would load it in its iframe: a redirect to the path with
// embedded=1, shop, host and a freshly minted session token in id_token. See docs/demo.md.
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { redirect } from '@remix-run/server-runtime';
import { embeddedAdminUrl, requireDevAccess } from '../dev-access.server';

export const loader = ({ request }: LoaderFunctionArgs) => {
  const access = requireDevAccess();
  const path = new URL(request.url).searchParams.get('path') ?? '/app';
  let target: string;
  try {
    target = embeddedAdminUrl(access, path);
  } catch (error) {
    throw new Response(`${(error as Error).message}\n`, {
      status: 400,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    });
  }
  return redirect(target, { headers: { 'Cache-Control': 'no-store' } });
};

// GET /apps/loyalty/r/<code> (→ /proxy/r/<code>): a referral share link's landing. Always a 302 —
// to Shopify's discount URL for an active code of the shop's enabled program, else to the home
// page — never an error page: a shopper who followed a link must land in the shop whatever
// happened. A request that fails verification (unsigned, stale, forged) or meets an error is sent
// home with nothing recorded: only Shopify-signed landings count as clicks. A resource route.
// Rules: app/referral-proxy.server.ts; contract: docs/storefront-api.md.
import type { LoaderFunctionArgs } from '@remix-run/server-runtime';
import { appProxyRoute } from '../app-proxy.server';
import { getDatabase } from '../db.server';
import { clientIpOf, HOME_PATH, referralLanding } from '../referral-proxy.server';

const redirect = (location: string) =>
  new Response(null, {
    status: 302,
    headers: { Location: location, 'Cache-Control': 'private, no-store' },
  });

const land = appProxyRoute(async (proxy, { request, params }) => {
  const { db } = await getDatabase();
  const landing = await referralLanding(db, {
    shop: proxy.shop,
    code: params.code ?? '',
    ip: clientIpOf(request.headers),
  });
  return redirect(landing.location);
});

export async function loader(args: LoaderFunctionArgs): Promise<Response> {
  // appProxyRoute answers a refusal or failure in the shared JSON shape (and logs it): here that
  // becomes the home page.
  const answer = await land(args);
  return answer.status === 302 ? answer : redirect(HOME_PATH);
}

// A POST to a share link is nobody's: home, like any other landing that is not a click.
export const action = () => redirect(HOME_PATH);

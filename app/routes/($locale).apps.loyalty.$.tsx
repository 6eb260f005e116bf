// /apps/loyalty[/*] and /<locale>/apps/loyalty[/*] (development only): the storefront's app proxy,
// stood in for so the storefront preview (/dev/preview) reaches the real proxy routes signed as
// Shopify signs them; a translated storefront's root_url (/fr) prefixes it as on a real shop. A
// Liquid answer (the rewards page) is rendered in the preview's theme, as Shopify renders it. See
// app/dev-app-proxy.server.ts. Refused in production (404) and outside the demo (403).
import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { answerThroughAppProxy, type ProxyRouteModule } from '../dev-app-proxy.server';
import { storefrontLiquidPage } from '../storefront-preview.server';
import * as summary from './proxy';
import * as earlyAccess from './proxy.early-access';
import * as history from './proxy.history';
import * as referral from './proxy.referral';
import * as referralLanding from './proxy.r.$code';
import * as redeem from './proxy.redeem';
import * as redemptions from './proxy.redemptions';
import * as rewards from './proxy.rewards';

/** `/apps/loyalty/<key>` → the module of `/proxy/<key>` (`:code`: a path segment, as in Remix). */
const PROXY_ROUTES: Readonly<Record<string, ProxyRouteModule>> = {
  '': summary,
  history,
  rewards,
  redeem,
  redemptions,
  'early-access': earlyAccess,
  referral,
  'r/:code': referralLanding,
};

export const loader = (args: LoaderFunctionArgs) =>
  answerThroughAppProxy(args, PROXY_ROUTES, storefrontLiquidPage);
export const action = (args: ActionFunctionArgs) =>
  answerThroughAppProxy(args, PROXY_ROUTES, storefrontLiquidPage);

// /app/*: the embedded admin. Every child route is authenticated here first (token exchange).
import type { HeadersFunction, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { Link, Outlet, useLoaderData, useRouteError } from '@remix-run/react';
import { NavMenu } from '@shopify/app-bridge-react';
import polarisStyles from '@shopify/polaris/build/esm/styles.css?url';
import { AppProvider } from '@shopify/shopify-app-remix/react';
import { boundary } from '@shopify/shopify-app-remix/server';
import { authenticateAdmin } from '../admin-auth.server';
import { devAppBridgeUrl } from '../dev-access.server';
import { refusalReason } from '../refusal';
import { apiKey } from '../shopify.server';

export const links = () => [{ rel: 'stylesheet', href: polarisStyles }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  await authenticateAdmin(request);
  // Outside `npm run demo` (always in production) undefined: Shopify's own App Bridge script.
  const appBridgeUrl = devAppBridgeUrl();
  return appBridgeUrl ? { apiKey, appBridgeUrl } : { apiKey };
};

export default function App() {
  const data = useLoaderData<typeof loader>();
  const devBridge = 'appBridgeUrl' in data ? { __APP_BRIDGE_URL: data.appBridgeUrl } : {};
  return (
    <AppProvider isEmbeddedApp apiKey={data.apiKey} {...devBridge}>
      <NavMenu>
        <Link to="/app" rel="home">
          Loyalty
        </Link>
        <Link to="/app/program">Program</Link>
        <Link to="/app/customers">Customers</Link>
        <Link to="/app/reports">Reports</Link>
        <Link to="/app/liability">Liability</Link>
        <Link to="/app/rewards">Rewards</Link>
        <Link to="/app/redemptions">Redemptions</Link>
        <Link to="/app/tiers">Tiers</Link>
        <Link to="/app/expiry">Expiry</Link>
        <Link to="/app/early-access">Early access</Link>
        <Link to="/app/campaigns">Campaigns</Link>
        <Link to="/app/referrals">Referrals</Link>
        <Link to="/app/bonuses">Bonuses</Link>
        <Link to="/app/import">Import history</Link>
      </NavMenu>
      <Outlet />
    </AppProvider>
  );
}

// Shopify needs its own error and header handling for embedded auth (redirects, re-auth). Our own
// refusals (admin-auth.server.ts) are JSON with a reason: shown as text, since Shopify's boundary
// would put a response's data into the page as HTML.
export function ErrorBoundary() {
  const error = useRouteError();
  const reason = refusalReason(error);
  if (reason !== undefined) return <p>{reason}</p>;
  return boundary.error(error);
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);

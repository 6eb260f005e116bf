// The error boundary of an admin page: a refusal the app answered (a 4xx with a reason, app/refusal.ts)
// is shown as a critical banner on a page that leads back; anything else goes to Shopify's
// boundary, which handles embedded auth (redirects, re-auth).
import { useRouteError } from '@remix-run/react';
import { Banner, Page } from '@shopify/polaris';
import { boundary } from '@shopify/shopify-app-remix/server';
import { refusalReason } from './refusal';

export function adminErrorBoundary(page: {
  title: string;
  back: { content: string; url: string };
}) {
  return function ErrorBoundary() {
    const error = useRouteError();
    const reason = refusalReason(error);
    if (reason === undefined) return boundary.error(error);
    return (
      <Page title={page.title} backAction={page.back}>
        <Banner tone="critical" title={reason} />
      </Page>
    );
  };
}

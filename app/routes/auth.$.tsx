// /auth/*: the library's auth paths (session-token bounce, exit-iframe, …).
import type { HeadersFunction, LoaderFunctionArgs } from '@remix-run/server-runtime';
import { boundary } from '@shopify/shopify-app-remix/server';
import { authenticateAdmin } from '../admin-auth.server';

export const loader = async ({ request }: LoaderFunctionArgs) => {
  await authenticateAdmin(request);
  return null;
};

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);

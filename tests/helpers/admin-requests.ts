/**
 * Requests as the embedded admin sends them to the built app (tests/helpers/app-server.ts): an App
 * Bridge session token in the Authorization header, loaders fetched as Remix single-fetch `.data`
 * (what client-side navigation requests) and forms posted to the same URL, answers decoded as
 * @remix-run/react decodes them.
 */
import { decode } from 'turbo-stream';
import { mintSessionToken } from '../../app/dev-access.server';
import { APP_TEST_ENV } from './app-server';

/** The admin is a browser: bots are answered differently by the document renderer. */
export const ADMIN_BROWSER =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

/** Headers of an embedded-admin request for `shop`, by staff member `userId` when given. */
export function adminHeaders(shop: string, userId?: string): Record<string, string> {
  const { token } = mintSessionToken({
    shop,
    apiKey: APP_TEST_ENV.SHOPIFY_API_KEY!,
    apiSecret: APP_TEST_ENV.SHOPIFY_API_SECRET!,
    ...(userId === undefined ? {} : { userId }),
  });
  return { Authorization: `Bearer ${token}`, 'User-Agent': ADMIN_BROWSER };
}

/**
 * A single-fetch answer decoded as @remix-run/react decodes it: error responses, redirects and
 * sanitized errors marked; anything that is not single-fetch comes back as text.
 */
export async function decodeSingleFetch(
  response: Response,
): Promise<{ status: number; body: unknown }> {
  if (!response.headers.get('Content-Type')?.includes('text/x-script')) {
    return { status: response.status, body: await response.text() };
  }
  const stream = await decode(response.body!, {
    plugins: [
      (type: string, ...rest: unknown[]) => {
        if (type === 'ErrorResponse') {
          const [data, status] = rest as [unknown, number];
          return { value: { errorResponse: { status, data } } };
        }
        if (type === 'SingleFetchRedirect') return { value: { redirect: rest[0] } };
        if (type === 'SanitizedError') return { value: { error: rest[1] } };
        return undefined;
      },
    ],
  });
  await stream.done;
  return { status: response.status, body: stream.value };
}

/** An error a loader threw, as decoded above. */
export interface AdminRouteError {
  errorResponse?: { status: number; data: { error: string } };
  error?: unknown;
}

/** The loader answer of `routeId` for a GET of `path` (its query kept). */
export async function adminLoader<T = Record<string, unknown>>(
  appUrl: string,
  path: string,
  routeId: string,
  headers: Record<string, string>,
): Promise<{ status: number; data: T; error: AdminRouteError | undefined; contentType: string }> {
  const url = new URL(path, appUrl);
  url.pathname = `${url.pathname}.data`;
  url.searchParams.set('_routes', routeId);
  const response = await fetch(url, { headers });
  const contentType = response.headers.get('Content-Type') ?? '';
  const { status, body } = await decodeSingleFetch(response);
  const entry = (body as Record<string, { data?: unknown; error?: unknown }>)[routeId];
  return {
    status,
    data: entry?.data as T,
    error: entry?.error as AdminRouteError | undefined,
    contentType,
  };
}

/** A form post to `path`'s action, as <Form method="post"> sends it from the embedded admin. */
export async function adminSubmit(
  appUrl: string,
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(new URL(`${path}.data`, appUrl), {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  const { status, body } = await decodeSingleFetch(response);
  return { status, body: body as Record<string, unknown> };
}

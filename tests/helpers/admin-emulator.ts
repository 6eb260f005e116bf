/**
 * Reading Shopify's side of a running demo from a test: one Admin GraphQL request to the demo's
 * Admin API emulator (the URL `npm run demo` prints after "Admin API emulator:"), with the shop's
 * offline access token from the demo's state file — what the app itself sends.
 *
 *   const shopify = adminGraphql(urlAfter(demo.stdout(), 'Admin API emulator'), state.accessToken);
 *   const { codeDiscountNodeByCode } = await shopify(`query($c: String!) {…}`, { c: code });
 */

export type AdminGraphql = <T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
) => Promise<T>;

/** A GraphQL caller for `endpoint`; throws with Shopify's errors when the answer has any. */
export function adminGraphql(endpoint: string, accessToken: string): AdminGraphql {
  return async <T>(query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': accessToken },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    let body: { data?: T; errors?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`Admin API emulator answered ${response.status}: ${text.slice(0, 300)}`);
    }
    if (!response.ok || body.errors || !body.data) {
      throw new Error(
        `Admin API emulator answered ${response.status}: ${JSON.stringify(body.errors ?? body)}`,
      );
    }
    return body.data;
  };
}

/**
 * A shop's permanent domain as Shopify writes it: `<handle>.myshopify.com`, lower-case. The one
 * test every surface applies (webhook headers, app-proxy queries, admin redirects, compliance
 * bodies, the Admin API client, the shops table); callers lower-case first where Shopify's
 * spelling is not guaranteed.
 */
const MYSHOPIFY_DOMAIN = /^[a-z0-9][a-z0-9-]{0,99}\.myshopify\.com$/;

export function isMyshopifyDomain(domain: string): boolean {
  return MYSHOPIFY_DOMAIN.test(domain);
}

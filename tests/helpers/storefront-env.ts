/**
 * The app's environment in the storefront and extension-endpoint tests (tests/helpers/storefront.ts
 * signs with it). It imports nothing, so a test can load it in a vi.hoisted block, before the app
 * modules it imports read process.env:
 *
 *   await vi.hoisted(() => import('../helpers/storefront-env').then((env) => env.useStorefrontEnv()));
 */
export const STOREFRONT_ENV = {
  SHOPIFY_API_KEY: 'laurel-test-key',
  SHOPIFY_API_SECRET: 'laurel-test-secret',
  SHOPIFY_APP_URL: 'https://laurel.test',
  SCOPES: 'read_customers,write_customers,read_orders',
  LOG_LEVEL: 'silent',
};

/** Sets {@link STOREFRONT_ENV} in process.env. */
export function useStorefrontEnv(): void {
  Object.assign(process.env, STOREFRONT_ENV);
}

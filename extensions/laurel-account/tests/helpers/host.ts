/**
 * The customer-account host for this extension's tests: the shared Laurel extension host
 * (extensions/shared/tests/helpers/host.ts: document, i18n over this extension's locale files,
 * the app URL, a recording network), plus the endpoints and the Customer Account API answers this
 * extension reads.
 */
import * as shared from '../../../shared/tests/helpers/host';

// Everything the shared host has; below, what is this extension's own.
export * from '../../../shared/tests/helpers/host';

export const { dir: EXTENSION_DIR, locales: LOCALES } = shared.extensionOf(import.meta.url);
export const CUSTOMER_ACCOUNT_API = 'shopify://customer-account/api/2026-07/graphql.json';
export const SESSION_TOKEN = 'header.payload-of-customer-42.signature';

/** The storefront contract's customer account endpoints on the app at `appUrl`. */
export function accountApi(appUrl = shared.APP_URL) {
  return { summary: `${appUrl}/api/account/summary`, history: `${appUrl}/api/account/history` };
}

/** The Customer Account API answer for the member's $app metafields (null: not written). */
export function metafieldsAnswer(values: {
  pointsBalance?: string | null;
  lifetimePoints?: string | null;
  tier?: string | null;
  referralCode?: string | null;
}): Response {
  const field = (value: string | null | undefined) =>
    value === null || value === undefined ? null : { value };
  return shared.json({
    data: {
      customer: {
        pointsBalance: field(values.pointsBalance),
        lifetimePoints: field(values.lifetimePoints),
        // The tier status JSON (its `name` is shown); `tier` is that name, or raw text as written.
        tierStatus: field(
          values.tier === null || values.tier === undefined || values.tier === ''
            ? values.tier
            : JSON.stringify({ key: values.tier.toLowerCase(), name: values.tier }),
        ),
        referralCode: field(values.referralCode),
      },
    },
  });
}

export const NO_METAFIELDS = () => metafieldsAnswer({});

type Target = 'customer-account.profile.block.render' | 'customer-account.page.render';

/** The tester's harness for `target` on the shared host; call teardown after the test. */
export function setUpHost(target: Target) {
  return shared.setUpExtension(target, {
    extensionDir: EXTENSION_DIR,
    locales: LOCALES,
    sessionToken: SESSION_TOKEN,
  });
}

export type Host = Omit<ReturnType<typeof setUpHost>, 'teardown'>;

/**
 * A fresh host for `target` in each test of the calling file (or describe block), torn down after
 * it; the returned object reads the current test's. Hooks the caller adds later run after set-up.
 */
export function hostPerTest(target: Target): Host {
  return shared.perTest(() => setUpHost(target));
}

// The bundles Shopify would ship, not the sources: scripts/size-account.mjs builds them as Shopify CLI
// does, and each one runs here in a fresh JavaScript context that has what an extension worker
// has — no `process`, no Node — to register its target and render the member's points.
import { describe, expect, test } from 'vitest';
import { bundlesBuiltBy, DEPLOYED_APP_URL, startInWorker } from '../../shared/tests/helpers/bundle';
import {
  accountApi,
  CUSTOMER_ACCOUNT_API,
  json,
  NO_METAFIELDS,
  SESSION_TOKEN,
  hostPerTest,
  text,
  waitFor,
} from './helpers/host';

const bundles = bundlesBuiltBy(['scripts/size-account.mjs']);

describe.each([
  ['laurel-account-profile', 'customer-account.profile.block.render'],
  ['laurel-account-page', 'customer-account.page.render'],
] as const)('%s.js', (handle, target) => {
  const host = hostPerTest(target);

  test('is reported within budget', () => {
    const line = new RegExp(`${handle}\\.js.*\\n.*?(\\d+) B gzipped.*within 20\\.0 KB`);
    const gzipped = Number(line.exec(bundles.report)?.[1]);
    expect(gzipped).toBeGreaterThan(1000);
    expect(gzipped).toBeLessThanOrEqual(20 * 1024);
  });

  test('runs without Node, with the deploy-time app URL inlined', async () => {
    const { extension, network } = host;
    const { summary, history } = accountApi(DEPLOYED_APP_URL);
    network
      .on(CUSTOMER_ACCOUNT_API, NO_METAFIELDS)
      .on(summary, () =>
        json({ enrolled: true, balance: 42, lifetimeEarned: 50, tier: null, referralCode: null }),
      )
      .on(history, () => json({ entries: [], nextCursor: null }));
    await startInWorker(bundles.code(handle), {
      shopify: extension.shopify,
      fetch: network.fetch,
      target,
    });
    await waitFor(() => expect(text(document.body as never)).toContain('42 points'));
    const [request] = network.to(summary);
    expect(request?.headers.get('Authorization')).toBe(`Bearer ${SESSION_TOKEN}`);
  });
});

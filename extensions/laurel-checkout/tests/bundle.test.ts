// The bundle Shopify would ship, not the sources: scripts/size-extension.mjs builds it as Shopify
// CLI does, and it runs here in a fresh JavaScript context that has what an extension worker has —
// no `process`, no Node — to register its target, compute the earn line and fetch the codes from
// the deploy-time app URL.
import { expect, test } from 'vitest';
import { bundlesBuiltBy, DEPLOYED_APP_URL, startInWorker } from '../../shared/tests/helpers/bundle';
import { hostPerTest, json, SESSION_TOKEN, signIn, TARGET, text, waitFor } from './helpers/host';

const bundles = bundlesBuiltBy([
  'scripts/size-extension.mjs',
  'extensions/laurel-checkout',
  '--goal',
  '20',
  '--fail-over',
  '64',
]);

const host = hostPerTest();

test('is reported within the 20 KB goal', () => {
  const line = /laurel-checkout\.js.*\n.*?(\d+) B raw.*?(\d+) B gzipped.*within 20\.0 KB/.exec(
    bundles.report,
  );
  expect(Number(line?.[1])).toBeGreaterThan(Number(line?.[2]));
  const gzipped = Number(line?.[2]);
  expect(gzipped).toBeGreaterThan(1000);
  expect(gzipped).toBeLessThanOrEqual(20 * 1024);
});

test('runs without Node, with the deploy-time app URL inlined', async () => {
  const { extension, network } = host;
  signIn(host);
  const rewards = `${DEPLOYED_APP_URL}/api/checkout/rewards`;
  network.on(rewards, () =>
    json({
      redemptions: [
        {
          id: '1',
          code: 'LRL-7KQ2-M9XP-4HTV',
          title: 'Free shipping',
          value: { kind: 'free_shipping' },
          expiresAt: null,
        },
      ],
    }),
  );
  await startInWorker(bundles.code('laurel-checkout'), {
    shopify: extension.shopify,
    fetch: network.fetch,
    target: TARGET,
  });
  await waitFor(() => expect(text(document.body as never)).toContain('LRL-7KQ2-M9XP-4HTV'));
  expect(text(document.body as never)).toContain('This order earns 90 points');
  const [request] = network.to(rewards);
  expect(request?.headers.get('Authorization')).toBe(`Bearer ${SESSION_TOKEN}`);
});

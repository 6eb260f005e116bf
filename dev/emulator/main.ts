// Runs the Admin API emulator on its own for manual use: `npm run emulator -- --port 8787`.
// Options: --port N (default $PORT, else 8787), --host H, --shop S --token T (only accept T for S;
// without them any shop and any non-empty token are accepted), --seed (a few demo customers/orders
// and a product for free-product rewards),
// --app-config FILE (the metafield definitions it declares, as after `shopify app deploy`; default
// the repository's shopify.app.toml).
import { parseArgs } from 'node:util';
import { startAdminEmulator } from './server';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    shop: { type: 'string' },
    token: { type: 'string' },
    seed: { type: 'boolean', default: false },
    'app-config': { type: 'string', default: 'shopify.app.toml' },
  },
});

const port = Number(values.port ?? process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a port number; got ${values.port ?? process.env.PORT}`);
  process.exit(2);
}
if ((values.shop === undefined) !== (values.token === undefined)) {
  console.error('--shop and --token go together');
  process.exit(2);
}

const emulator = await startAdminEmulator({
  port,
  host: values.host,
  appConfig: values['app-config'],
  ...(values.shop && values.token ? { accessTokens: { [values.shop]: values.token } } : {}),
});

const shop = values.shop ?? 'laurel-demo.myshopify.com';
if (values.seed) {
  const ada = emulator.state.addCustomer(shop, {
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
  });
  const grace = emulator.state.addCustomer(shop, {
    firstName: 'Grace',
    lastName: 'Hopper',
    email: 'grace@example.com',
  });
  emulator.state.addOrder(shop, {
    customerId: ada,
    subtotalMinor: 12_050,
    processedAt: '2026-05-03T10:00:00Z',
  });
  emulator.state.addOrder(shop, {
    customerId: grace,
    subtotalMinor: 4_999,
    processedAt: '2026-06-14T16:30:00Z',
  });
  emulator.state.addOrder(shop, {
    customerId: null,
    subtotalMinor: 2_500,
    processedAt: '2026-06-20T08:15:00Z',
  });
  const tea = emulator.state.addProduct(shop, {
    title: 'Gyokuro Reserve',
    variants: [
      { title: '50 g tin', priceMinor: 2_400 },
      { title: '200 g tin', priceMinor: 8_550 },
    ],
  });
  console.log(`  seeded product variants: ${tea.variantGids.join(', ')}`);
}

console.log(
  `Laurel Admin API emulator (Shopify Admin 2026-07 schema) listening on ${emulator.origin}`,
);
console.log(`  endpoint for ${shop}: ${emulator.url(shop)}`);
console.log(`  endpoint template:   ${emulator.endpointTemplate}`);
console.log(
  `  try: curl -s -X POST ${emulator.url(shop)} -H 'Content-Type: application/json' ` +
    `-H 'X-Shopify-Access-Token: ${values.token ?? 'any-token'}' -d '{"query":"{ shop { name currencyCode } }"}'`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void emulator.close().then(() => process.exit(0));
  });
}

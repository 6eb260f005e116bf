// What the processes write to their logs, at info level, for a delivery full of personal data:
// one structured line per delivery carrying the shop, topic and ids — never the payload, the
// customer's email, name, phone or address, or the app secret.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { customerPayload, orderPayload } from '../fixtures/shopify';
import { E2E_SECRET, openStack, type Stack } from '../helpers/e2e-stack';

let stack: Stack;

beforeAll(async () => {
  stack = await openStack();
  await stack.startWeb({ LOG_LEVEL: 'info' });
  await stack.startWorker({ LOG_LEVEL: 'info' });
}, 180_000);

afterAll(async () => {
  await stack?.close();
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    process.stdout.write(`${stack.diagnostics()}\n`);
  });
});

const PERSONAL = {
  email: 'ursula.privatestreet@example.com',
  firstName: 'Ursula',
  lastName: 'Privatestreet',
  phone: '+15550142337',
};

it('logs ids and outcomes for every delivery, and no personal data anywhere', async () => {
  const customerId = 7_700_000_000_001;
  const orderId = 7_700_000_000_101;
  const customerHook = randomUUID();
  const orderHook = randomUUID();
  const customer = customerPayload({ id: customerId, ...PERSONAL });
  const order = orderPayload({
    id: orderId,
    customer: { id: customerId, ...PERSONAL },
    email: PERSONAL.email,
    lineItems: [{ price: '120.00' }],
  });
  expect(
    (await stack.post({ topic: 'customers/create', payload: customer, webhookId: customerHook }))
      .status,
  ).toBe(200);
  expect(
    (await stack.post({ topic: 'orders/paid', payload: order, webhookId: orderHook })).status,
  ).toBe(200);
  await stack.waitUntilSettled();
  const balances = await stack.balances();
  expect(balances.get(String(customerId))).toEqual({ balance: 90, entriesSum: 90 });

  const web = stack.web();
  const worker = stack.workers[0]!;
  const everything = [web.stdout(), web.stderr(), worker.stdout(), worker.stderr()].join('\n');
  for (const value of [
    PERSONAL.email,
    PERSONAL.firstName,
    PERSONAL.lastName,
    PERSONAL.phone,
    E2E_SECRET,
    // The fixture's default address.
    String((customer.default_address as { address1?: string } | undefined)?.address1 ?? 'never'),
  ]) {
    expect(everything, `logs contain ${value}`).not.toContain(value);
  }

  // One accepted line per delivery with its ids, one processed line per delivery.
  const accepted = web.logLines().filter((l) => l.msg === 'webhook accepted');
  expect(accepted.map((l) => [l.topic, l.webhookId, l.shop])).toEqual([
    ['customers/create', customerHook, stack.shop.domain],
    ['orders/paid', orderHook, stack.shop.domain],
  ]);
  // The worker may take both deliveries at once and finish them in either order.
  const processed = worker.logLines().filter((l) => l.msg === 'webhook processed');
  expect(processed.map((l) => [l.topic, l.shop]).sort()).toEqual([
    ['customers/create', stack.shop.domain],
    ['orders/paid', stack.shop.domain],
  ]);
  expect(processed.find((l) => l.topic === 'orders/paid')).toMatchObject({
    orderId: String(orderId),
    awardedPoints: 90,
  });
  for (const line of [...accepted, ...processed]) {
    expect(line).not.toHaveProperty('payload');
    expect(typeof line.inboxId).toBe('number');
  }
});

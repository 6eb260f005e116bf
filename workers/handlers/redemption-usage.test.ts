// orders/paid through the inbox as the worker runs it: a code Laurel issued, seen on a paid
// order, marks its redemption used and links the order (docs/redemption.md, "Usage").
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ensureCustomers } from '../../app/models/customers.server';
import { balanceOf, entriesFor } from '../../app/models/ledger.server';
import { getRedemption } from '../../app/models/redemptions.server';
import { cancelledOrderPayload, orderPayload, refundPayload } from '../../tests/fixtures/shopify';
import { publishProgram } from '../../app/models/programs.server';
import { explainEntry } from '../../loyalty/explain';
import { referenceProgram } from '../../loyalty/program';
import { useInboxHarness } from '../../tests/helpers/inbox-harness';
import { seedRedemption, seedReward } from '../../tests/helpers/redemptions';
import { processInbox } from '../process-inbox';

const log = pino({ level: 'silent' });
const handle = useInboxHarness();

let nextId = 9_400_000_000_000;
const id = () => ++nextId;

async function member(shopId: number) {
  const externalId = String(id());
  const ids = await ensureCustomers(handle.db, shopId, [{ externalId, email: null }]);
  return { externalId, customerId: ids.get(externalId)! };
}

it('a paid order carrying the code marks the redemption used, once, whatever the case', async () => {
  const shop = await handle.newShop('usage', { currency: 'USD', timezone: 'UTC' });
  const { externalId, customerId } = await member(shop.id);
  const reward = await seedReward(handle.db, shop.id);
  const redemption = await seedRedemption(handle.db, shop.id, customerId, reward);
  const before = await balanceOf(handle.db, shop.id, customerId);

  const order = orderPayload({
    id: id(),
    customer: { id: Number(externalId) },
    subtotal: '60.00',
    discounts: [{ code: redemption.code!.toLowerCase(), amount: '5.00' }],
  });
  const inboxId = await handle.record(shop, 'orders/paid', order);
  const outcome = await processInbox(handle.db, inboxId, log);
  expect(outcome).toMatchObject({ status: 'processed', summary: { redemptionsUsed: 1 } });

  const used = (await getRedemption(handle.db, shop.id, redemption.id))!;
  expect(used).toMatchObject({ status: 'used', shopifyOrderId: String(order.id) });
  expect(used.usedAt).toBeInstanceOf(Date);
  // Using the code spends nothing more: the points went when it was issued.
  const redemptionEntries = (await entriesFor(handle.db, shop.id, customerId)).filter(
    (e) => e.source === 'redemption',
  );
  expect(redemptionEntries.map((e) => e.points)).toEqual([-redemption.points]);
  expect((await balanceOf(handle.db, shop.id, customerId)).balance).toBeGreaterThanOrEqual(
    before.balance,
  );

  // The same order again (a duplicate delivery): nothing more is marked.
  const again = await handle.record(shop, 'orders/paid', order);
  const repeat = await processInbox(handle.db, again, log);
  expect(repeat).toMatchObject({ status: 'processed' });
  expect((repeat as { summary: Record<string, unknown> }).summary.redemptionsUsed).toBeUndefined();
});

it('a code from another shop, or one Laurel never issued, marks nothing', async () => {
  const shop = await handle.newShop('usage', { currency: 'USD', timezone: 'UTC' });
  const other = await handle.newShop('usage', { currency: 'USD', timezone: 'UTC' });
  const mine = await member(shop.id);
  const theirs = await member(other.id);
  const theirReward = await seedReward(handle.db, other.id);
  const theirRedemption = await seedRedemption(handle.db, other.id, theirs.customerId, theirReward);

  const order = orderPayload({
    id: id(),
    customer: { id: Number(mine.externalId) },
    subtotal: '60.00',
    discounts: [
      { code: theirRedemption.code!, amount: '5.00' },
      { code: 'SUMMER10', amount: '1.00' },
    ],
  });
  const inboxId = await handle.record(shop, 'orders/paid', order);
  expect(await processInbox(handle.db, inboxId, log)).toMatchObject({ status: 'processed' });
  expect((await getRedemption(handle.db, other.id, theirRedemption.id))!.status).toBe('issued');
});

it('orders/cancelled does not count as a use', async () => {
  const shop = await handle.newShop('usage', { currency: 'USD', timezone: 'UTC' });
  const { externalId, customerId } = await member(shop.id);
  const reward = await seedReward(handle.db, shop.id);
  const redemption = await seedRedemption(handle.db, shop.id, customerId, reward);
  const order = orderPayload({
    id: id(),
    customer: { id: Number(externalId) },
    subtotal: '60.00',
    discounts: [{ code: redemption.code!, amount: '5.00' }],
  });
  const inboxId = await handle.record(shop, 'orders/cancelled', cancelledOrderPayload(order));
  expect(await processInbox(handle.db, inboxId, log)).toMatchObject({ status: 'processed' });
  expect((await getRedemption(handle.db, shop.id, redemption.id))!.status).toBe('issued');
});

describe('an undone order that used a code', () => {
  async function usedCode(rule: 'keep_points' | 'return_points') {
    const shop = await handle.newShop('undo', { currency: 'USD', timezone: 'UTC' });
    // The same instant as the harness's version 1: the higher version is in force.
    await publishProgram(
      handle.db,
      shop.id,
      { ...referenceProgram, redemptionRefunds: rule },
      new Date('2026-01-01T00:00:00Z'),
    );
    const { externalId, customerId } = await member(shop.id);
    const reward = await seedReward(handle.db, shop.id);
    const redemption = await seedRedemption(handle.db, shop.id, customerId, reward);
    const order = orderPayload({
      id: id(),
      customer: { id: Number(externalId) },
      subtotal: '20.00',
      discounts: [{ code: redemption.code!, amount: '5.00' }],
    });
    await handle.deliver(shop, 'orders/paid', order);
    expect((await getRedemption(handle.db, shop.id, redemption.id))!.status).toBe('used');
    const balance = (await balanceOf(handle.db, shop.id, customerId)).balance;
    return { shop, order, customerId, redemption, balance };
  }

  it('keeps the points by default', async () => {
    const { shop, order, customerId, redemption, balance } = await usedCode('keep_points');
    await handle.deliver(shop, 'orders/cancelled', cancelledOrderPayload(order));
    expect((await getRedemption(handle.db, shop.id, redemption.id))!.status).toBe('used');
    expect((await balanceOf(handle.db, shop.id, customerId)).balance).toBe(balance);
  });

  it('gives them back, once, when the program says so and the order is cancelled', async () => {
    const { shop, order, customerId, redemption, balance } = await usedCode('return_points');
    const { outcome } = await handle.deliver(
      shop,
      'orders/cancelled',
      cancelledOrderPayload(order),
    );
    expect(outcome).toMatchObject({ summary: { redemptionsReturned: 1 } });
    const back = (await getRedemption(handle.db, shop.id, redemption.id))!;
    expect(back).toMatchObject({ status: 'refunded', shopifyOrderId: String(order.id) });
    expect((await balanceOf(handle.db, shop.id, customerId)).balance).toBe(
      balance + redemption.points,
    );
    const entry = (await entriesFor(handle.db, shop.id, customerId)).find(
      (e) => e.id === back.returnEntryId,
    )!;
    expect(explainEntry({ ...entry, orderName: null }, { locale: 'en', shopCurrency: 'USD' })).toBe(
      `Points returned: order ${order.name as string} was cancelled → ${redemption.points} points`,
    );
    // The cancellation again (a duplicate delivery): nothing more comes back.
    await handle.deliver(shop, 'orders/cancelled', cancelledOrderPayload(order));
    expect((await balanceOf(handle.db, shop.id, customerId)).balance).toBe(
      balance + redemption.points,
    );
  });

  it('a partial refund keeps them; the refund of the rest gives them back', async () => {
    const { shop, order, customerId, redemption, balance } = await usedCode('return_points');
    const line = (order.line_items as { id: number }[])[0]!.id;
    await handle.deliver(
      shop,
      'refunds/create',
      refundPayload({
        id: id(),
        orderId: order.id as number,
        order,
        lineItems: [{ lineItemId: line, subtotal: '5.00', quantity: 1 }],
      }),
    );
    expect((await getRedemption(handle.db, shop.id, redemption.id))!.status).toBe('used');
    await handle.deliver(
      shop,
      'refunds/create',
      refundPayload({
        id: id(),
        orderId: order.id as number,
        order,
        lineItems: [{ lineItemId: line, subtotal: '15.00', quantity: 1 }],
      }),
    );
    expect((await getRedemption(handle.db, shop.id, redemption.id))!.status).toBe('refunded');
    expect((await balanceOf(handle.db, shop.id, customerId)).balance).toBe(
      balance + redemption.points,
    );
  });
});

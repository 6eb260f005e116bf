/**
 * customers/create and customers/update through the real inbox path: who may claim guest orders.
 * Rule: docs/earning-rules.md ("Guest orders").
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { findCustomerByExternalId } from '../../app/models/customers.server';
import { balanceOf, entriesFor } from '../../app/models/ledger.server';
import { getOrder } from '../../app/models/orders.server';
import { type Shop } from '../../app/models/shops.server';
import { ledgerEntries } from '../../db/schema';
import { customerPayload, orderPayload } from '../../tests/fixtures/shopify';
import { useInboxHarness } from '../../tests/helpers/inbox-harness';

type Json = Record<string, unknown>;

const handle = useInboxHarness();

let nextId = 7_100_000_000_000;
const id = () => ++nextId;

const newShop = () => handle.newShop('claims');

async function deliver(shop: Shop, topic: string, payload: Json) {
  return (await handle.deliver(shop, topic, payload)).outcome;
}

/** A $300 guest order placed with `email`. */
async function guestOrder(shop: Shop, email: string) {
  const order = orderPayload({
    id: id(),
    customer: null,
    email,
    lineItems: [{ price: '300.00' }],
  });
  await deliver(shop, 'orders/paid', order);
  return String(order.id);
}

const account = (
  customerId: number,
  email: string,
  flags: { verified_email: boolean; state: string },
): Json => ({ ...customerPayload({ id: customerId, email }), ...flags });

async function pointsOf(shop: Shop, customerId: number) {
  const customer = await findCustomerByExternalId(handle.db, shop.id, String(customerId));
  return customer ? (await balanceOf(handle.db, shop.id, customer.id)).balance : undefined;
}

async function shopEntries(shop: Shop) {
  return handle.db.select().from(ledgerEntries).where(eq(ledgerEntries.shopId, shop.id));
}

describe('guest-order claims', () => {
  it.each([
    { verified_email: false, state: 'enabled' },
    { verified_email: true, state: 'disabled' },
    { verified_email: false, state: 'disabled' },
    { verified_email: true, state: 'invited' },
  ])('customers/create with %o claims nothing', async (flags) => {
    const shop = await newShop();
    const orderId = await guestOrder(shop, 'victim@example.com');
    const attacker = id();
    const outcome = await deliver(
      shop,
      'customers/create',
      account(attacker, 'victim@example.com', flags),
    );
    expect(outcome).toMatchObject({ status: 'processed', summary: { guestOrdersClaimed: 0 } });
    // The order is still a guest order with its email, and no points were posted anywhere.
    expect(await getOrder(handle.db, shop.id, orderId)).toMatchObject({
      customerId: null,
      email: 'victim@example.com',
    });
    expect(await pointsOf(shop, attacker)).toBe(0);
    expect(await shopEntries(shop)).toEqual([]);
  });

  it('a verified, enabled account claims on create', async () => {
    const shop = await newShop();
    const orderId = await guestOrder(shop, 'owner@example.com');
    const owner = id();
    const outcome = await deliver(
      shop,
      'customers/create',
      account(owner, 'owner@example.com', { verified_email: true, state: 'enabled' }),
    );
    expect(outcome).toMatchObject({ summary: { guestOrdersClaimed: 1, claimedPoints: 450 } });
    expect(await pointsOf(shop, owner)).toBe(450);
    const customer = await findCustomerByExternalId(handle.db, shop.id, String(owner));
    expect((await getOrder(handle.db, shop.id, orderId))?.customerId).toBe(customer!.id);
  });

  it('an account that verifies later claims on the customers/update that shows it, once', async () => {
    const shop = await newShop();
    await guestOrder(shop, 'later@example.com');
    const shopper = id();
    await deliver(
      shop,
      'customers/create',
      account(shopper, 'later@example.com', { verified_email: false, state: 'disabled' }),
    );
    // Still unverified: an update claims nothing either.
    const unverified = await deliver(
      shop,
      'customers/update',
      account(shopper, 'later@example.com', { verified_email: false, state: 'enabled' }),
    );
    expect(unverified).toMatchObject({ summary: { guestOrdersClaimed: 0 } });
    expect(await pointsOf(shop, shopper)).toBe(0);

    const verified = await deliver(
      shop,
      'customers/update',
      account(shopper, 'later@example.com', { verified_email: true, state: 'enabled' }),
    );
    expect(verified).toMatchObject({ summary: { guestOrdersClaimed: 1, claimedPoints: 450 } });
    expect(await pointsOf(shop, shopper)).toBe(450);
    const again = await deliver(
      shop,
      'customers/update',
      account(shopper, 'later@example.com', { verified_email: true, state: 'enabled' }),
    );
    expect(again).toMatchObject({ summary: { guestOrdersClaimed: 0 } });
    const customer = await findCustomerByExternalId(handle.db, shop.id, String(shopper));
    expect(await entriesFor(handle.db, shop.id, customer!.id)).toHaveLength(1);
  });
});

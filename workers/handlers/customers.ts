/**
 * customers/create enrols the member, posts the program's signup bonus and lets the new account
 * claim its earlier guest orders; customers/update keeps email, name and birthday current.
 */
import { ensureCustomer } from '../../app/models/customers.server';
import { post } from '../../app/models/ledger.server';
import {
  attachCustomer,
  lockOrders,
  settleOrders,
  unclaimedGuestOrders,
} from '../../app/models/orders.server';
import { compiledProgram, programAt } from '../../app/models/programs.server';
import type { Executor } from '../../db/client.server';
import { parseCustomerPayload, type CustomerFacts } from '../../loyalty/shopify-order';
import { requireInstalledShop, type WebhookHandler } from './context';

export const signupBonusKey = (customerExternalId: string) =>
  `customer:${customerExternalId}:signup`;

/**
 * The member as the body describes them. REST customer bodies carry a birthday only when the
 * metafield namespace is subscribed: absence means "not sent", not "cleared".
 */
function upsertMember(tx: Executor, shopId: number, facts: CustomerFacts) {
  return ensureCustomer(tx, shopId, {
    externalId: facts.id,
    email: facts.email,
    firstName: facts.firstName,
    lastName: facts.lastName,
    ...(facts.birthday !== null && { birthday: facts.birthday }),
  });
}

export const customersCreate: WebhookHandler = async (tx, { row }) => {
  const shop = await requireInstalledShop(tx, row.shopDomain);
  const facts = parseCustomerPayload(row.payload);
  const customer = await upsertMember(tx, shop.id, facts);

  const enrolledAt = new Date(facts.createdAt ?? row.receivedAt.getTime());
  const program = await programAt(tx, shop.id, enrolledAt);
  const bonus = program ? compiledProgram(program).signupBonus : 0;
  let bonusPosted = false;
  if (program && bonus > 0) {
    const result = await post(tx, shop.id, {
      customerId: customer.id,
      idempotencyKey: signupBonusKey(facts.id),
      source: 'bonus',
      points: bonus,
      occurredAt: enrolledAt,
      programVersion: program.version,
      inputs: { rule: 'signup-bonus', signupBonus: bonus },
      subjectId: facts.id,
    });
    bonusPosted = result.created;
  }

  // Guest orders placed with this email before the account existed (docs/earning-rules.md).
  let claimed: string[] = [];
  let claimedPoints = 0;
  if (customer.email) {
    const guestOrders = await unclaimedGuestOrders(tx, shop.id, customer.email);
    const ids = guestOrders.map((o) => o.shopifyOrderId);
    await lockOrders(tx, shop.id, ids);
    // Only those still unclaimed once locked: a concurrent claim may have taken some.
    claimed = await attachCustomer(tx, shop.id, ids, customer.id);
    for (const result of (await settleOrders(tx, shop, claimed)).values()) {
      claimedPoints += result.posted.reduce((sum, e) => sum + e.points, 0);
    }
  }
  return {
    customerId: customer.id,
    bonusPosted,
    guestOrdersClaimed: claimed.length,
    claimedPoints,
  };
};

export const customersUpdate: WebhookHandler = async (tx, { row }) => {
  const shop = await requireInstalledShop(tx, row.shopDomain);
  const customer = await upsertMember(tx, shop.id, parseCustomerPayload(row.payload));
  return { customerId: customer.id };
};

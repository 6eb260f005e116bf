/**
 * customers/create enrols the member and posts the program's signup bonus; customers/update keeps
 * email, name and birthday current. Either lets a verified, enabled account claim the guest orders
 * placed with its email. A body about a redacted customer writes no personal field and is dropped
 * (docs/privacy.md). A new member, and one whose claim posted entries, is placed in their tier
 * in the same transaction (docs/tiers.md). Both record the account's contact fingerprints for the
 * referral fraud rules (docs/referrals.md), and the bonuses a body can trigger: the birthday from
 * facts.birth_date and the newsletter bonus on a `subscribed` consent (docs/bonuses.md).
 */
import { awardNewsletterBonus, giveBirthday } from '../../app/models/bonuses.server';
import { ensureCustomer, type Customer } from '../../app/models/customers.server';
import { recordFingerprints } from '../../app/models/fingerprints.server';
import { attachReferralFriend } from '../../app/models/referrals.server';
import { dropRedactedPayloads } from '../../app/models/inbox.server';
import { post } from '../../app/models/ledger.server';
import {
  attachCustomer,
  lockOrders,
  settleOrders,
  unclaimedGuestOrders,
} from '../../app/models/orders.server';
import { compiledProgram, programAt } from '../../app/models/programs.server';
import { evaluateMembers, type EvaluationSummary } from '../../app/models/tier-evaluation.server';
import type { Executor } from '../../db/client.server';
import { monthDayOfDate } from '../../loyalty/bonuses';
import { parseCustomerPayload, type CustomerFacts } from '../../loyalty/shopify-customer';
import type { Shop } from '../../app/models/shops.server';
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
    // Recorded so an import can attach guest orders to the account as a claim would.
    emailVerified: mayClaimGuestOrders(facts),
  });
}

/**
 * The account's contact details as keyed hashes, for the referral fraud rules
 * (docs/referrals.md). Nothing is recorded again for a redacted customer (docs/privacy.md).
 */
async function recordContact(
  tx: Executor,
  shopId: number,
  customer: Customer,
  facts: CustomerFacts,
) {
  if (customer.redactedAt !== null) return;
  await recordFingerprints(tx, shopId, customer.id, {
    emails: [facts.email],
    phones: [facts.phone, ...facts.addressPhones],
    addresses: facts.addresses,
  });
}

/**
 * Shopify creates customer records from any email typed at checkout or by staff; only an enabled
 * account whose owner proved the address may take the orders placed with it.
 */
export function mayClaimGuestOrders(facts: Pick<CustomerFacts, 'verifiedEmail' | 'state'>) {
  return facts.verifiedEmail && facts.state === 'enabled';
}

/**
 * Guest orders placed with the account's email (docs/earning-rules.md, "Guest orders"), claimed by
 * the first delivery that shows the account verified and enabled: customers/create, or the
 * customers/update sent when the shopper verifies later.
 */
async function claimGuestOrders(
  tx: Executor,
  shop: Shop,
  customer: Customer,
  facts: CustomerFacts,
) {
  let claimed: string[] = [];
  let claimedPoints = 0;
  // customer.email is what is stored: empty for a redacted customer, who claims nothing.
  if (customer.email && mayClaimGuestOrders(facts)) {
    const guestOrders = await unclaimedGuestOrders(tx, shop.id, customer.email);
    const ids = guestOrders.map((o) => o.shopifyOrderId);
    await lockOrders(tx, shop.id, ids);
    // Only those still unclaimed once locked: a concurrent claim may have taken some.
    claimed = await attachCustomer(tx, shop.id, ids, customer.id);
    await attachReferralFriend(tx, shop.id, claimed, customer.id);
    for (const result of (await settleOrders(tx, shop, claimed)).values()) {
      claimedPoints += result.posted.reduce((sum, e) => sum + e.points, 0);
    }
  }
  return { guestOrdersClaimed: claimed.length, claimedPoints };
}

/**
 * The bonuses a customer body can trigger (docs/bonuses.md): the birthday from facts.birth_date
 * (month and day kept; changed at most once per 12 months; awarded at once in its month) and the
 * newsletter bonus once the email marketing consent is `subscribed`. Nothing for a redacted
 * customer.
 */
async function customerBonuses(
  tx: Executor,
  shop: Shop,
  customer: Customer,
  facts: CustomerFacts,
  receivedAt: Date,
) {
  if (customer.redactedAt !== null) return {};
  let birthdayPoints = 0;
  if (facts.birthday !== null) {
    const given = await giveBirthday(
      tx,
      shop,
      customer,
      monthDayOfDate(facts.birthday),
      'metafield',
      receivedAt,
    );
    birthdayPoints = given.points;
  }
  const newsletterPoints = await awardNewsletterBonus(
    tx,
    shop.id,
    customer,
    facts.emailMarketingConsent,
    receivedAt,
  );
  return {
    ...(birthdayPoints > 0 && { birthdayPoints }),
    ...(newsletterPoints > 0 && { newsletterPoints }),
  };
}

/** The log summary's word on the member's tier: the tier moved to, when it moved. */
function tierOutcome(summary: EvaluationSummary | null): { tier?: string | null } {
  const change = summary?.members.find((m) => m.change);
  return change ? { tier: change.to } : {};
}

export const customersCreate: WebhookHandler = async (tx, { row }) => {
  const shop = await requireInstalledShop(tx, row.shopDomain);
  const facts = parseCustomerPayload(row.payload);
  const customer = await upsertMember(tx, shop.id, facts);
  await recordContact(tx, shop.id, customer, facts);

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
  const bonuses = await customerBonuses(tx, shop, customer, facts, row.receivedAt);

  const claim = await claimGuestOrders(tx, shop, customer, facts);
  const tiers = await evaluateMembers(tx, shop, [customer.id], new Date());
  await dropRedactedPayloads(tx, shop.domain, [row.id]);
  return { customerId: customer.id, bonusPosted, ...bonuses, ...claim, ...tierOutcome(tiers) };
};

export const customersUpdate: WebhookHandler = async (tx, { row }) => {
  const shop = await requireInstalledShop(tx, row.shopDomain);
  const facts = parseCustomerPayload(row.payload);
  const customer = await upsertMember(tx, shop.id, facts);
  await recordContact(tx, shop.id, customer, facts);
  const bonuses = await customerBonuses(tx, shop, customer, facts, row.receivedAt);
  const claim = await claimGuestOrders(tx, shop, customer, facts);
  const tiers =
    claim.guestOrdersClaimed > 0 || Object.keys(bonuses).length > 0
      ? await evaluateMembers(tx, shop, [customer.id], new Date())
      : null;
  await dropRedactedPayloads(tx, shop.domain, [row.id]);
  return { customerId: customer.id, ...bonuses, ...claim, ...tierOutcome(tiers) };
};

/**
 * The storefront's bonus requests (docs/storefront-api.md, docs/bonuses.md): a logged-in shopper
 * gives their birthday (month and day) or says they followed the shop on a network. The shopper is
 * only ever the signed logged_in_customer_id (app/app-proxy.server.ts); the body is validated
 * here, and a refusal is an AppError the proxy helper answers in the shared shape.
 */
import { getDatabase } from './db.server';
import { AppError, ErrorCode, validationFrom } from './errors';
import { giveBirthday, claimSocialFollow } from './models/bonuses.server';
import { ensureCustomer } from './models/customers.server';
import { getShopByDomain } from './models/shops.server';
import {
  BonusProgramError,
  isSocialNetwork,
  parseBirthMonthDay,
  SOCIAL_NETWORKS,
  type BirthMonthDay,
  type SocialNetwork,
} from '../loyalty/bonuses';
import type { Executor } from '../db/client.server';

export interface BonusShopper {
  shop: string;
  customerId: string;
}

/** `{ month, day }` from a proxy body; VALIDATION names the field. */
export function readBirthdayBody(body: Record<string, unknown>): BirthMonthDay {
  try {
    return parseBirthMonthDay(body);
  } catch (error) {
    if (error instanceof BonusProgramError) {
      const first = error.issues[0]!;
      throw validationFrom(error, `${first.path} ${first.message}`);
    }
    throw error;
  }
}

/** `{ network }` from a proxy body; VALIDATION names the field. */
export function readSocialFollowBody(body: Record<string, unknown>): SocialNetwork {
  const network = body.network;
  if (!isSocialNetwork(network)) {
    throw new AppError(
      ErrorCode.VALIDATION,
      `network must be one of ${SOCIAL_NETWORKS.join(', ')}`,
      { field: 'network' },
    );
  }
  const extra = Object.keys(body).filter((k) => k !== 'network');
  if (extra.length > 0) {
    throw new AppError(ErrorCode.VALIDATION, `${extra[0]} is not accepted (network only)`, {
      field: extra[0],
    });
  }
  return network;
}

/**
 * The member the signed customer id names, made a member now if Shopify's customers/create has not
 * reached Laurel yet (the signature proves the account exists). A redacted customer gives nothing.
 */
async function memberOf(db: Executor, shopper: BonusShopper) {
  const shop = await getShopByDomain(db, shopper.shop);
  if (!shop || shop.uninstalledAt !== null) {
    throw new AppError(ErrorCode.NOT_FOUND, 'this shop has no loyalty program');
  }
  const customer = await ensureCustomer(db, shop.id, { externalId: shopper.customerId });
  if (customer.redactedAt !== null) {
    throw new AppError(ErrorCode.FORBIDDEN, 'this account’s loyalty data was erased');
  }
  return { shop, customer };
}

export interface BirthdayAnswer {
  birthday: BirthMonthDay;
  /** `saved` (new or changed), `unchanged` (the same as stored). */
  status: 'saved' | 'unchanged';
  /** Points posted now: the birthday falls in the current month and was not yet awarded. */
  pointsAwarded: number;
}

/**
 * Records the shopper's birthday; 409 CONFLICT when it was changed less than 12 months ago (the
 * message says from when it can change).
 */
export async function setShopperBirthday(
  shopper: BonusShopper,
  birthday: BirthMonthDay,
  now: Date = new Date(),
): Promise<BirthdayAnswer> {
  const { db } = await getDatabase();
  return db.transaction(async (tx) => {
    const { shop, customer } = await memberOf(tx, shopper);
    const { result, points } = await giveBirthday(tx, shop, customer, birthday, 'storefront', now);
    if (result.kind === 'locked') {
      throw new AppError(
        ErrorCode.CONFLICT,
        `your birthday was set recently; it can be changed from ${result.until.toISOString().slice(0, 10)}`,
        { field: 'birthday', until: result.until.toISOString() },
      );
    }
    return {
      birthday: { month: result.birthday.month, day: result.birthday.day },
      status: result.kind === 'same' ? 'unchanged' : 'saved',
      pointsAwarded: points,
    };
  });
}

export type SocialFollowAnswer =
  | { network: SocialNetwork; status: 'awarded' | 'already-claimed'; pointsAwarded: number }
  | { rateLimited: { reason: string; retryAfterSeconds: number } };

/** Claims the follow bonus for `network`; a rate-limited claim says why and when to retry. */
export async function claimShopperSocialFollow(
  shopper: BonusShopper,
  network: SocialNetwork,
  now: Date = new Date(),
): Promise<SocialFollowAnswer> {
  const { db } = await getDatabase();
  const { shop, customer } = await memberOf(db, shopper);
  const result = await claimSocialFollow(db, shop.id, customer, network, now);
  if (result.status === 'rate-limited') {
    return {
      rateLimited: { reason: result.reason, retryAfterSeconds: result.retryAfterSeconds },
    };
  }
  return {
    network,
    status: result.status,
    pointsAwarded: result.status === 'awarded' ? result.points : 0,
  };
}

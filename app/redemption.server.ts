/**
 * Redeeming points for a reward, end to end: the balance-checked debit (app/models/redeem.server.ts),
 * then Shopify (app/reward-issuer.server.ts) creating the discount code or the store credit, then
 * the redemption's status from Shopify's answer. Also the reconciliation of redemptions whose
 * outcome Shopify left unknown, for a shopper's retry and for the sweep job
 * (workers/handlers/redemptions.ts). Spec: docs/redemption.md.
 *
 * The rules this file keeps:
 * - Points are never lost: when Shopify refused, or provably created nothing, the points come back
 *   in a compensating entry that says why (failAndReturn), and the shopper is told so (502).
 * - One request id, one code: the code is chosen before Shopify is called and stored with the
 *   pending redemption, so a retry looks it up (findIssuedDiscount) rather than creating again.
 * - Never guess: an outcome nobody can establish stays `pending` (202) for the sweep, and after
 *   MAX_RECONCILE_ATTEMPTS for the merchant.
 */
import type { Logger } from 'pino';
import type { Database } from '../db/client.server';
import type { RewardDefinition } from '../loyalty/rewards';
import { rewardAvailability } from '../loyalty/rewards';
import { getDatabase } from './db.server';
import { env } from './env.server';
import { AppError, ErrorCode, isAppError } from './errors';
import { logger } from './logger.server';
import { customerGid } from './metafields';
import { findCustomerByExternalId, getCustomer } from './models/customers.server';
import {
  beginRedemption,
  claimPending,
  failAndReturn,
  markCredited,
  markIssued,
  pointsFor,
  redeemableReward,
  refusalFor,
  shopsWithStalePending,
  stalePending,
  touchPending,
} from './models/redeem.server';
import { getRedemption, type Redemption } from './models/redemptions.server';
import { getRewardVersion } from './models/rewards.server';
import { offlineAccessToken } from './models/sessions.server';
import { getShopByDomain, type Shop } from './models/shops.server';
import type { IssueOutcome, IssueRequest } from './reward-issuer.server';
import {
  AdminApiError,
  createAdminClient,
  type AdminClient,
  type AdminClientOptions,
} from './shopify/admin-client.server';

export type { IssueOutcome, IssueRequest };

/** The reward issuer's functions this service calls: the real module, or a test's stand-in. */
export interface RewardIssuer {
  /** May throw a transient AdminApiError, which means nothing ran. */
  issueReward(client: AdminClient, request: IssueRequest): Promise<IssueOutcome>;
  /** With `customerGid`, only a discount restricted to exactly that customer counts. */
  findIssuedDiscount(
    client: AdminClient,
    code: string,
    customerGid?: string,
  ): Promise<{ discountId: string; status: string; usageCount: number } | null>;
  deactivateDiscount(client: AdminClient, discountId: string): Promise<void>;
}

/**
 * A pending redemption is left to its first call this long before a retry or the sweep may
 * conclude from Shopify's silence that the code was never created: far longer than that call can
 * last (the Admin client's retries are bounded to seconds here).
 */
export const RECONCILE_IDLE_MS = 2 * 60_000;
/** Reconciliations of one redemption before it is left to the merchant (still pending). */
export const MAX_RECONCILE_ATTEMPTS = 10;

export interface RedemptionDeps {
  db: Database;
  issuer: RewardIssuer;
  /** The Admin client for `shop` (its offline token), or undefined when it has none. */
  adminClient(shop: Shop): Promise<AdminClient | undefined>;
  now(): Date;
  log: Logger;
}

export interface DefaultDepsOptions {
  /** Default: the process database. */
  db?: Database;
  /** Admin endpoint override (default env ADMIN_API_ENDPOINT, else Shopify). */
  endpoint?: string;
  /** Passed to the Admin client (tests shorten retries). */
  client?: Partial<Omit<AdminClientOptions, 'shop' | 'accessToken' | 'endpoint'>>;
  log?: Logger;
}

/**
 * Production wiring: the process database, the shop's offline token, and `issuer` — the real
 * app/reward-issuer.server.ts, passed in by the callers (the proxy routes, the sweep job).
 */
export async function redemptionDeps(
  issuer: RewardIssuer,
  options: DefaultDepsOptions = {},
): Promise<RedemptionDeps> {
  const db = options.db ?? (await getDatabase()).db;
  const log = options.log ?? logger().child({ component: 'redemption' });
  return {
    db,
    issuer,
    now: () => new Date(),
    log,
    async adminClient(shop) {
      const accessToken = await offlineAccessToken(db, shop.domain);
      if (!accessToken) return undefined;
      const endpoint = options.endpoint ?? env().ADMIN_API_ENDPOINT;
      return createAdminClient({
        shop: shop.domain,
        accessToken,
        ...(endpoint ? { endpoint } : {}),
        logger: log,
        // A shopper is waiting: a few seconds of retries at most, then the answer says so.
        maxAttempts: 4,
        maxDelayMs: 4_000,
        ...options.client,
      });
    },
  };
}

/** The verified shop (myshopify domain) and customer (Shopify id) a request speaks for. */
export interface RedemptionOwner {
  shop: string;
  customerId: string;
}

export interface RedeemInput {
  rewardId: number;
  /** Slider rewards only: the points chosen. */
  points?: unknown;
  requestId: string;
}

export interface RedeemAnswer {
  /** 200: issued or credited (or an earlier outcome of this request); 202: still pending. */
  status: 200 | 202;
  redemption: Redemption;
  balance: number;
}

const RETURNED = 'your points were returned';

function upstream(message: string, redemption: Redemption): AppError {
  return new AppError(ErrorCode.UPSTREAM, message, {
    redemptionId: redemption.id,
    reason: redemption.failureReason,
  });
}

async function installedShop(db: Database, domain: string): Promise<Shop> {
  const shop = await getShopByDomain(db, domain);
  if (!shop || !shop.active) {
    throw new AppError(ErrorCode.SHOP_INACTIVE, 'the loyalty program is not active on this shop', {
      shop: domain,
    });
  }
  return shop;
}

async function requireClient(deps: RedemptionDeps, shop: Shop): Promise<AdminClient> {
  const client = await deps.adminClient(shop);
  if (!client) {
    // Before any debit: a shop without a token cannot issue anything.
    throw new AppError(
      ErrorCode.UNAVAILABLE,
      `shop ${shop.domain} has no offline access token; rewards cannot be issued`,
      { shop: shop.domain },
    );
  }
  return client;
}

/**
 * Redeems `input.rewardId` for the customer: 200 with the issued (or credited) redemption, 202
 * while Shopify's outcome is unknown, or an AppError: the refusals of beginRedemption (nothing
 * debited), UPSTREAM when Shopify refused or could not be reached (the points were returned),
 * SHOP_INACTIVE, UNAVAILABLE (no access token). A repeated request id answers what the first
 * request came to, and re-attempts reconciliation while it is pending.
 */
export async function redeem(
  owner: RedemptionOwner,
  input: RedeemInput,
  deps: RedemptionDeps,
): Promise<RedeemAnswer> {
  const { db } = deps;
  const shop = await installedShop(db, owner.shop);
  const customer = await findCustomerByExternalId(db, shop.id, owner.customerId);
  if (!customer) {
    // Laurel has never heard of the shopper: a balance of zero, after the same 404s and 400s.
    const reward = await redeemableReward(db, shop.id, input.rewardId);
    const points = pointsFor(reward.definition, input.points);
    const standing = { balance: 0, tier: null, redeemedTotal: 0, redeemedInPeriod: 0 };
    const availability = rewardAvailability(reward.definition, standing, points);
    throw refusalFor(availability.canRedeem ? 'INSUFFICIENT_BALANCE' : availability.reason, {
      balance: 0,
      cost: points,
    });
  }
  const client = await requireClient(deps, shop);
  const begun = await beginRedemption(db, shop.id, {
    customerId: customer.id,
    rewardId: input.rewardId,
    requestId: input.requestId,
    points: input.points,
    now: deps.now(),
  });
  let redemption = begun.redemption;
  if (begun.created) {
    redemption = await issue(deps, shop, client, redemption, owner.customerId);
  } else if (redemption.status === 'pending') {
    redemption = await reconcile(deps, shop, client, redemption, {
      idleBefore: new Date(deps.now().getTime() - RECONCILE_IDLE_MS),
    });
    if (redemption.status === 'failed') {
      throw upstream(
        `Shopify never created this reward (${redemption.failureReason}); ${RETURNED}`,
        redemption,
      );
    }
  } else if (redemption.status === 'failed') {
    throw upstream(
      `this request failed earlier (${redemption.failureReason}); ${RETURNED}`,
      redemption,
    );
  }
  if (redemption.status === 'failed') {
    // Failed by the sweep while this request's call was still running (recordIssued withdrew
    // the code Shopify made).
    throw upstream(`${redemption.failureReason}; ${RETURNED}`, redemption);
  }
  // A refusal or a failure threw above: what is left was issued, credited or is still pending.
  return {
    status: redemption.status === 'pending' ? 202 : 200,
    redemption,
    balance: begun.balance,
  };
}

async function definitionOf(
  deps: RedemptionDeps,
  shop: Shop,
  redemption: Redemption,
): Promise<RewardDefinition> {
  const definition = await getRewardVersion(
    deps.db,
    shop.id,
    redemption.rewardId,
    redemption.rewardVersion,
  );
  if (!definition) {
    throw new Error(
      `redemption ${redemption.id} names reward ${redemption.rewardId} version ${redemption.rewardVersion}, which does not exist`,
    );
  }
  return definition;
}

/** What Shopify is asked for, from the redemption as recorded (its code, value and expiry). */
export function issueRequestFor(
  redemption: Redemption,
  definition: RewardDefinition,
  shop: Shop,
  shopifyCustomerId: string,
): IssueRequest {
  return {
    code: redemption.code ?? '',
    title: definition.title,
    customerGid: customerGid(shopifyCustomerId),
    value: redemption.value,
    startsAt: redemption.createdAt,
    endsAt: redemption.expiresAt,
    minimumOrderMinor: definition.minimumOrderMinor,
    currency: shop.currency,
    combinesWith: definition.combinesWith,
  };
}

/**
 * The first call to Shopify for a new redemption (its request owns it: attempts = 1 from the
 * insert). Returns the redemption as it now is, or throws UPSTREAM after returning the points.
 */
async function issue(
  deps: RedemptionDeps,
  shop: Shop,
  client: AdminClient,
  redemption: Redemption,
  shopifyCustomerId: string,
): Promise<Redemption> {
  const log = deps.log.child({ shop: shop.domain, redemptionId: redemption.id });
  const definition = await definitionOf(deps, shop, redemption);
  const request = issueRequestFor(redemption, definition, shop, shopifyCustomerId);
  let outcome: IssueOutcome;
  try {
    outcome = await deps.issuer.issueReward(client, request);
  } catch (error) {
    if (error instanceof AdminApiError && error.transient) {
      // The issuer's contract: a transient AdminApiError means Shopify ran nothing (throttled,
      // or a retry-safe call that never got through). So no code exists, and giving the points
      // back now answers the shopper at once; leaving the redemption pending would lock the
      // points for minutes until the sweep proved the same thing. The request id is spent: a new
      // click is a new request.
      const reason = `Shopify could not be reached (${error.code}); nothing was created`;
      log.warn({ err: error.message }, 'reward not issued: Shopify unreachable; points returned');
      const failed = await failAndReturn(deps.db, shop.id, redemption.id, reason, deps.now());
      throw upstream(`${reason}; ${RETURNED}. Try again shortly`, failed.redemption);
    }
    // Anything else may have happened after Shopify applied the mutation: never guess.
    log.error(
      { err: error instanceof Error ? (error.stack ?? error.message) : String(error) },
      'reward issue failed with an unexpected error; left pending for reconciliation',
    );
    await touchPending(deps.db, shop.id, redemption.id);
    return (await getRedemption(deps.db, shop.id, redemption.id))!;
  }
  return applyOutcome(deps, shop, client, redemption, outcome, log);
}

async function applyOutcome(
  deps: RedemptionDeps,
  shop: Shop,
  client: AdminClient,
  redemption: Redemption,
  outcome: IssueOutcome,
  log: Logger,
): Promise<Redemption> {
  const now = deps.now();
  switch (outcome.kind) {
    case 'issued':
      return recordIssued(deps, shop, client, redemption, outcome.discountId, log);
    case 'credited':
      return markCredited(deps.db, shop.id, redemption.id, {
        storeCreditTransactionId: outcome.storeCreditTransactionId,
        issuedAt: now,
      });
    case 'refused': {
      const reason = `Shopify refused: ${outcome.reason}`;
      log.warn({ reason: outcome.reason }, 'Shopify refused the reward; points returned');
      const failed = await failAndReturn(deps.db, shop.id, redemption.id, reason, now);
      throw upstream(
        `Shopify refused to create the reward (${outcome.reason}); ${RETURNED}`,
        failed.redemption,
      );
    }
    case 'unknown':
      log.warn({ reason: outcome.reason }, 'reward outcome unknown; left pending');
      await touchPending(deps.db, shop.id, redemption.id);
      return (await getRedemption(deps.db, shop.id, redemption.id))!;
  }
}

/**
 * pending → issued. If the redemption was failed meanwhile (its points already returned), the
 * discount Shopify just made must not stay usable: it is deactivated.
 */
async function recordIssued(
  deps: RedemptionDeps,
  shop: Shop,
  client: AdminClient,
  redemption: Redemption,
  discountId: string,
  log: Logger,
): Promise<Redemption> {
  try {
    return await markIssued(deps.db, shop.id, redemption.id, {
      discountId,
      issuedAt: deps.now(),
    });
  } catch (error) {
    if (!isAppError(error, ErrorCode.CONFLICT)) throw error;
    const current = (await getRedemption(deps.db, shop.id, redemption.id))!;
    log.error(
      { discountId, status: current.status },
      'Shopify created a discount for a redemption that is no longer pending; deactivating it',
    );
    await deps.issuer.deactivateDiscount(client, discountId);
    return current;
  }
}

/**
 * Settles a pending redemption from what Shopify has. Only a caller that may take it — idle since
 * `idleBefore`, so no other call about it can still be running — may conclude from a missing code
 * that none was created and return the points; anyone may record a code that exists. Store credit
 * cannot be looked up: it stays pending. Returns the redemption as it now is.
 */
export async function reconcile(
  deps: RedemptionDeps,
  shop: Shop,
  client: AdminClient,
  redemption: Redemption,
  options: { idleBefore: Date },
): Promise<Redemption> {
  const log = deps.log.child({ shop: shop.domain, redemptionId: redemption.id });
  const claimed = await claimPending(deps.db, shop.id, redemption.id, options.idleBefore);
  const current = claimed ?? redemption;
  if (current.code === null) {
    if (claimed) {
      log.warn(
        { attempts: claimed.attempts },
        'store credit outcome unknown: Shopify offers no look-up by request; left pending for the merchant',
      );
    }
    return current;
  }
  const customer = await getCustomer(deps.db, shop.id, current.customerId);
  let found;
  try {
    found = await deps.issuer.findIssuedDiscount(
      client,
      current.code,
      customer ? customerGid(customer.externalId) : undefined,
    );
  } catch (error) {
    log.warn(
      { err: (error as Error).message, attempts: current.attempts },
      'could not look the code up at Shopify; left pending',
    );
    return current;
  }
  if (found) return recordIssued(deps, shop, client, current, found.discountId, log);
  if (!claimed) return current;
  log.warn('Shopify has no discount with the code: it was never created; points returned');
  const failed = await failAndReturn(
    deps.db,
    shop.id,
    current.id,
    'Shopify has no discount with this code: it was never created',
    deps.now(),
  );
  return failed.redemption;
}

export interface SweepResult {
  /** Redemptions looked at. */
  checked: number;
  issued: number;
  /** Shopify had no code: failed, points returned. */
  failed: number;
  /** Still pending (look-up failed, store credit, or taken by another caller). */
  pending: number;
  /** Left to the merchant this run: MAX_RECONCILE_ATTEMPTS reached, still pending. */
  gaveUp: number;
}

/**
 * The sweep (workers/handlers/redemptions.ts): reconciles every pending redemption idle for
 * `idleMs` (default RECONCILE_IDLE_MS) with fewer than `maxAttempts` attempts, shop by shop, at
 * most `limitPerShop` per shop and run. One that reaches `maxAttempts` still pending is logged
 * for the merchant and no longer swept: only a person can say what happened to it.
 */
export async function reconcileStalePending(
  deps: RedemptionDeps,
  options: { idleMs?: number; maxAttempts?: number; limitPerShop?: number } = {},
): Promise<SweepResult> {
  const idleBefore = new Date(deps.now().getTime() - (options.idleMs ?? RECONCILE_IDLE_MS));
  const maxAttempts = options.maxAttempts ?? MAX_RECONCILE_ATTEMPTS;
  const result: SweepResult = { checked: 0, issued: 0, failed: 0, pending: 0, gaveUp: 0 };
  for (const { domain } of await shopsWithStalePending(deps.db, idleBefore, maxAttempts)) {
    const shop = await getShopByDomain(deps.db, domain);
    if (!shop) continue;
    const client = await deps.adminClient(shop);
    if (!client) {
      deps.log.warn(
        { shop: domain },
        'pending redemptions not reconciled: the shop has no offline access token',
      );
      continue;
    }
    const rows = await stalePending(deps.db, shop.id, {
      idleBefore,
      maxAttempts,
      limit: options.limitPerShop ?? 100,
    });
    for (const row of rows) {
      result.checked++;
      const after = await reconcile(deps, shop, client, row, { idleBefore });
      if (after.status === 'issued') result.issued++;
      else if (after.status === 'failed') result.failed++;
      else result.pending++;
      if (after.status === 'pending' && after.attempts >= maxAttempts) {
        result.gaveUp++;
        deps.log.error(
          {
            shop: domain,
            redemptionId: after.id,
            attempts: after.attempts,
            code: after.code,
            type: after.value.kind,
          },
          'redemption still pending after every reconciliation: the merchant must check Shopify ' +
            'and settle it (issued, or failed with the points returned); it is no longer swept',
        );
      }
    }
  }
  return result;
}

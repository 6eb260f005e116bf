import {
  CustomerTierTags,
  MetafieldsDelete,
  MetafieldsSet,
  TagsRemove,
  type UserError,
} from '../graphql';
import {
  CUSTOMER_METAFIELD_NAMESPACE,
  CUSTOMER_METAFIELDS,
  customerGid,
  isShopifyCustomerId,
  type PointsExpiring,
} from '../metafields';
import type { Logger } from 'pino';
import type { Executor } from '../../db/client.server';
import { env } from '../env.server';
import { syncTarget } from '../models/metafield-sync.server';
import {
  AdminApiError,
  createAdminClient,
  type AdminClient,
  type AdminClientOptions,
} from '../shopify/admin-client.server';
import type { ExpiryReminder, Notifier, NotifyOutcome } from './notifier';
import { checkReminder } from './reminder-email';

/**
 * Expiry reminders through Shopify itself: the customer's `$app.points_expiring` metafield (json,
 * PointsExpiring) and the tag `laurel-points-expiring`, so Shopify Flow ("Customer tags added")
 * and email tools that read tags and metafields can send their own message. Laurel sends nothing
 * to the member on this channel. docs/notifications.md "Reminders: channels".
 *
 * One reminder is two Admin calls, in this order so that a workflow started by the tag reads the
 * new figures: metafieldsSet, then the tag removed and added again in one request (the
 * CustomerTierTags document) — a member still tagged from an earlier threshold would otherwise
 * get no "tag added" and no second message. Both are safe to resend, so the Admin client retries
 * them itself on throttling and 5xx.
 *
 * Outcomes: `sent` once Shopify accepted both; `skipped` when there is no Shopify customer to
 * write to (an imported member, or one Shopify no longer has); a throw otherwise — AdminApiError
 * as the client raised it (`transient` for throttling, 5xx and connection failures; a revoked
 * token or a frozen shop is not transient), including any other userErrors, which name the field
 * and Shopify's message.
 */

/** The tag a reminder adds; Flow's "Customer tags added" trigger matches on it. */
export const POINTS_EXPIRING_TAG = 'laurel-points-expiring';

export interface ShopifyCustomerNotifierOptions {
  /** The shop's Admin client (createAdminClient with the shop's offline token). */
  client: Pick<AdminClient, 'shop' | 'request'>;
  /** Default POINTS_EXPIRING_TAG. */
  tag?: string;
}

export interface ShopifyCustomerNotifier extends Notifier {
  channel: 'shopify';
}

/** The metafield's value for a reminder. */
export function pointsExpiringValue(reminder: ExpiryReminder): PointsExpiring {
  return {
    points: reminder.points,
    expiresAt: reminder.expiresAt.toISOString(),
    lastDay: reminder.lastDay,
    thresholdDays: reminder.thresholdDays,
    balance: reminder.balance,
  };
}

function checkTag(tag: string): string {
  const trimmed = tag.trim();
  if (trimmed === '' || trimmed.length > 255 || trimmed.includes(',')) {
    throw new Error(`reminder tag must be 1–255 characters without a comma; got '${tag}'`);
  }
  return trimmed;
}

export function createShopifyCustomerNotifier(
  options: ShopifyCustomerNotifierOptions,
): ShopifyCustomerNotifier {
  const { client } = options;
  const tag = checkTag(options.tag ?? POINTS_EXPIRING_TAG);
  return {
    channel: 'shopify',
    async notify(reminder: ExpiryReminder): Promise<NotifyOutcome> {
      if (reminder.shop.domain !== client.shop) {
        throw new Error(
          `reminder for ${reminder.shop.domain} given to the Shopify notifier of ${client.shop}`,
        );
      }
      checkReminder(reminder);
      const { externalId } = reminder.customer;
      if (!isShopifyCustomerId(externalId)) {
        return { status: 'skipped', reason: 'not a Shopify customer (imported member)' };
      }
      const id = customerGid(externalId);
      try {
        await client.request(MetafieldsSet, {
          metafields: [
            {
              ownerId: id,
              namespace: CUSTOMER_METAFIELD_NAMESPACE,
              key: CUSTOMER_METAFIELDS.pointsExpiring.key,
              type: CUSTOMER_METAFIELDS.pointsExpiring.type,
              value: JSON.stringify(pointsExpiringValue(reminder)),
            },
          ],
        });
        await client.request(CustomerTierTags, {
          id,
          remove: [tag],
          removing: true,
          add: [tag],
          adding: true,
        });
      } catch (error) {
        const gone = customerGone(error);
        if (gone) return { status: 'skipped', reason: gone };
        throw error;
      }
      return { status: 'sent', detail: `${CUSTOMER_METAFIELDS.pointsExpiring.key} and tag ${tag}` };
    },
  };
}

export type ShopifyNotifierTarget =
  | { notifier: ShopifyCustomerNotifier; client: AdminClient }
  | {
      notifier?: undefined;
      client?: undefined;
      /** unknown-shop (no shops row), uninstalled, no-token (no offline session). */
      skipped: 'unknown-shop' | 'uninstalled' | 'no-token';
    };

/**
 * The Shopify notifier of an installed shop, with the Admin client it uses (also what
 * clearShopifyExpiryReminder takes), from the shop's offline token; or why there is none. The
 * client's retries are bounded (4 attempts, 8 s apart at most) so a reminder job stays short.
 */
export async function shopifyCustomerNotifierFor(
  db: Executor,
  domain: string,
  options: {
    log?: Logger;
    /** Admin endpoint override (default env ADMIN_API_ENDPOINT, else Shopify). */
    endpoint?: string;
    client?: Partial<Omit<AdminClientOptions, 'shop' | 'accessToken' | 'endpoint'>>;
    tag?: string;
  } = {},
): Promise<ShopifyNotifierTarget> {
  const target = await syncTarget(db, domain);
  if (!target) return { skipped: 'unknown-shop' };
  if (!target.active) return { skipped: 'uninstalled' };
  if (!target.accessToken) return { skipped: 'no-token' };
  const endpoint = options.endpoint ?? env().ADMIN_API_ENDPOINT;
  const client = createAdminClient({
    shop: target.domain,
    accessToken: target.accessToken,
    ...(endpoint ? { endpoint } : {}),
    ...(options.log ? { logger: options.log } : {}),
    maxAttempts: 4,
    maxDelayMs: 8_000,
    ...options.client,
  });
  return {
    notifier: createShopifyCustomerNotifier({
      client,
      ...(options.tag !== undefined ? { tag: options.tag } : {}),
    }),
    client,
  };
}

/**
 * The worker's Shopify channel: one notifier for every shop, which finds the reminder's shop's
 * client (its offline token) for each reminder. A shop uninstalled or without a token skips the
 * reminder with that reason instead of retrying it forever.
 */
export function shopifyCustomerChannel(
  db: Executor,
  options: Parameters<typeof shopifyCustomerNotifierFor>[2] = {},
): Notifier {
  return {
    channel: 'shopify',
    async notify(reminder: ExpiryReminder): Promise<NotifyOutcome> {
      const target = await shopifyCustomerNotifierFor(db, reminder.shop.domain, options);
      if (!target.notifier) return { status: 'skipped', reason: `shop ${target.skipped}` };
      return target.notifier.notify(reminder);
    },
  };
}

export type ClearOutcome = { status: 'cleared' } | { status: 'skipped'; reason: string };

/**
 * Takes a member's reminder back off Shopify — deletes `$app.points_expiring` and removes the
 * tag — once the points it announced expired or were spent. Idempotent: clearing a member with
 * neither changes nothing. Throws as notify does.
 */
export async function clearShopifyExpiryReminder(
  client: Pick<AdminClient, 'request'>,
  externalId: string,
  options: { tag?: string } = {},
): Promise<ClearOutcome> {
  const tag = checkTag(options.tag ?? POINTS_EXPIRING_TAG);
  if (!isShopifyCustomerId(externalId)) {
    return { status: 'skipped', reason: 'not a Shopify customer (imported member)' };
  }
  const id = customerGid(externalId);
  try {
    await client.request(MetafieldsDelete, {
      metafields: [
        {
          ownerId: id,
          namespace: CUSTOMER_METAFIELD_NAMESPACE,
          key: CUSTOMER_METAFIELDS.pointsExpiring.key,
        },
      ],
    });
    await client.request(TagsRemove, { id, tags: [tag] });
  } catch (error) {
    const gone = customerGone(error);
    if (gone) return { status: 'skipped', reason: gone };
    throw error;
  }
  return { status: 'cleared' };
}

/**
 * The reason when Shopify refused because the customer does not exist there (deleted, or never
 * was): a userError on the owner (`metafields.0.ownerId`) or on the tagged resource (`id`).
 */
function customerGone(error: unknown): string | undefined {
  if (!(error instanceof AdminApiError) || error.code !== 'USER_ERRORS') return undefined;
  const onCustomer = (e: UserError) => {
    const last = e.field?.at(-1);
    return last === 'ownerId' || last === 'id';
  };
  if (error.userErrors.length === 0 || !error.userErrors.every(onCustomer)) return undefined;
  return `Shopify has no such customer: ${error.messages.join('; ')}`;
}

import type { Logger } from 'pino';
import type { Executor } from '../../db/client.server';
import { AppError, ErrorCode } from '../../app/errors';
import type { InboxRow } from '../../app/models/inbox.server';
import { getShopByDomain, type Shop } from '../../app/models/shops.server';

/** One inbox row being processed, inside the transaction that will mark it processed. */
export interface HandlerContext {
  row: InboxRow & { payload: unknown };
  log: Logger;
}

/**
 * Applies one delivery. Runs inside the transaction that marks the inbox row processed, so either
 * everything it wrote commits with the `processed` mark or nothing does. Returns a short summary
 * for the log: ids and counts, never personal data.
 */
export type WebhookHandler = (
  tx: Executor,
  context: HandlerContext,
) => Promise<Record<string, unknown>>;

/**
 * The shop the delivery is for. A missing shop parks the delivery (workers/process-inbox.ts): the
 * install may still be finishing, and the reconciler replays it once the shop row exists.
 */
export async function requireInstalledShop(tx: Executor, domain: string): Promise<Shop> {
  const shop = await getShopByDomain(tx, domain);
  if (!shop) throw shopNotInstalled(domain);
  return shop;
}

/** The delivery came before its shop's row: not a failure of the delivery, so no retries. */
export class ShopNotInstalled extends AppError {
  constructor(readonly domain: string) {
    super(
      ErrorCode.UNAVAILABLE,
      `shop ${domain} is not installed yet (no shops row): parked until it is`,
      { shop: domain },
    );
  }
}

export function shopNotInstalled(domain: string): ShopNotInstalled {
  return new ShopNotInstalled(domain);
}

/** Amounts in another currency than the shop's would be misread: refuse, permanently. */
export function checkShopCurrency(
  shop: { currency: string; domain: string },
  currency: string | null,
  what: string,
): void {
  if (currency !== null && currency !== shop.currency) {
    throw new AppError(
      ErrorCode.VALIDATION,
      `${what} is in ${currency} but shop ${shop.domain} keeps its points in ${shop.currency}`,
      { shop: shop.domain, currency, shopCurrency: shop.currency },
    );
  }
}

/** A compliance body names its shop; it must be the shop that signed the delivery. */
export function checkSameShop(context: HandlerContext, payloadDomain: string): void {
  if (payloadDomain !== context.row.shopDomain) {
    throw new AppError(
      ErrorCode.VALIDATION,
      `the body is about shop ${payloadDomain} but the delivery came from ${context.row.shopDomain}`,
      { payloadDomain, shop: context.row.shopDomain },
    );
  }
}

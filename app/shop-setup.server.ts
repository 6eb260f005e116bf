/**
 * What happens when a merchant installs (or re-opens) Laurel: the shop row is created or refreshed
 * with the currency and timezone Shopify reports, a shop without a program gets a starting one
 * (the reference program's rules, in the shop's currency), and the storefront's copy is refreshed:
 * the program summary written now, every member's metafields left to the sync worker. Called from
 * shopifyApp's afterAuth hook.
 */
import { ShopInfo } from './graphql';
import type { Database } from '../db/client.server';
import { currencyDigits, formatMoney, isKnownCurrency, parseMoney } from '../loyalty/money';
import { referenceProgram, type ProgramDefinition } from '../loyalty/program';
import { isValidTimeZone } from '../loyalty/time';
import { env } from './env.server';
import { logger } from './logger.server';
import { syncShopMetafields } from './metafield-sync.server';
import type { ProgramOutcome } from './metafield-sync-program.server';
import { resyncShop } from './models/metafield-sync.server';
import { listPrograms, publishProgram, type ProgramVersion } from './models/programs.server';
import { ensureShop, type Shop } from './models/shops.server';
import { createAdminClient, type AdminClientOptions } from './shopify/admin-client.server';

/**
 * The reference program with its amounts moved to `currency` unit for unit ("50.00" USD → "50" JPY,
 * "50.000" KWD), written with that currency's digits. Undefined when an amount cannot be written
 * exactly in the currency (a fractional amount in a currency without minor units) or the currency
 * is unknown: better no starting program than a silently rounded one.
 */
export function referenceProgramIn(currency: string): ProgramDefinition | undefined {
  if (!isKnownCurrency(currency)) return undefined;
  const from = referenceProgram.currency;
  const shift = currencyDigits(currency) - currencyDigits(from);
  const move = (amount: string): string | undefined => {
    const minor = parseMoney(amount, from);
    if (shift >= 0) return formatMoney(minor * 10 ** shift, currency);
    const scale = 10 ** -shift;
    return minor % scale === 0 ? formatMoney(minor / scale, currency) : undefined;
  };
  const unit = move(referenceProgram.earn.unit);
  const bands = referenceProgram.earn.bands.map((band) => {
    const over = move(band.over);
    const upTo = band.upTo === undefined ? undefined : move(band.upTo);
    if (over === undefined || (band.upTo !== undefined && upTo === undefined)) return undefined;
    return upTo === undefined
      ? { over, pointsPerUnit: band.pointsPerUnit }
      : { over, upTo, pointsPerUnit: band.pointsPerUnit };
  });
  if (unit === undefined || bands.some((b) => b === undefined)) return undefined;
  return {
    ...referenceProgram,
    currency,
    earn: { unit, bands: bands as ProgramDefinition['earn']['bands'] },
  };
}

export interface SetUpShopOptions {
  db: Database;
  /** The session's shop domain. */
  shop: string;
  /** The offline access token the installation produced. */
  accessToken: string;
  /** Admin endpoint override (default env ADMIN_API_ENDPOINT, else Shopify). */
  endpoint?: string;
  /** Passed to the Admin client (tests shorten retries). */
  client?: Partial<Omit<AdminClientOptions, 'shop' | 'accessToken' | 'endpoint'>>;
  now?: () => Date;
}

export interface ShopSetup {
  shop: Shop;
  /** The program published now, or undefined when one existed or none could be expressed. */
  published: ProgramVersion | undefined;
  /**
   * The program summary metafield: written, none (no program), or not written now (`skipped`: a
   * sync was running, or it failed; the sync worker's sweep writes it).
   */
  programSummary: ProgramOutcome | 'skipped';
}

export async function setUpShop(options: SetUpShopOptions): Promise<ShopSetup> {
  const endpoint = options.endpoint ?? env().ADMIN_API_ENDPOINT;
  const client = createAdminClient({
    shop: options.shop,
    accessToken: options.accessToken,
    ...(endpoint ? { endpoint } : {}),
    logger: logger(),
    ...options.client,
  });
  const { shop: info } = await client.request(ShopInfo);
  const log = logger().child({ shop: options.shop });

  const currencyKnown = isKnownCurrency(info.currencyCode);
  const timezoneValid = isValidTimeZone(info.ianaTimezone);
  if (!currencyKnown) {
    log.error(
      { currency: info.currencyCode },
      'Shopify reports a currency Laurel does not know; the shop keeps its stored currency and gets no starting program',
    );
  }
  if (!timezoneValid) {
    log.warn(
      { timezone: info.ianaTimezone },
      'Shopify reports a timezone this runtime does not know; the shop keeps its stored timezone',
    );
  }

  // One transaction: the shop upsert locks the shop row, so two installs racing (two admin tabs)
  // cannot both see "no program" and publish two.
  const setup = await options.db.transaction(async (tx) => {
    const shop = await ensureShop(tx, {
      domain: options.shop,
      name: info.name,
      ...(currencyKnown ? { currency: info.currencyCode } : {}),
      ...(timezoneValid ? { timezone: info.ianaTimezone } : {}),
    });
    if (!currencyKnown) return { shop, published: undefined };
    if ((await listPrograms(tx, shop.id)).length > 0) return { shop, published: undefined };
    const definition = referenceProgramIn(shop.currency);
    if (!definition) {
      log.warn(
        { currency: shop.currency },
        'the reference program cannot be written exactly in the shop currency; no starting program published',
      );
      return { shop, published: undefined };
    }
    const published = await publishProgram(tx, shop.id, definition, options.now?.() ?? new Date());
    log.info({ programVersion: published.version }, 'starting program published');
    return { shop, published };
  });

  // A new installation holds none of the app data of an earlier one, so whatever was recorded as
  // written is written again: the members by the sync worker (its sweep finds them pending), the
  // program summary here, so the product block has it from the first page view.
  await resyncShop(options.db, setup.shop.id);
  let programSummary: ShopSetup['programSummary'] = 'skipped';
  try {
    const result = await syncShopMetafields({
      db: options.db,
      shop: setup.shop.domain,
      accessToken: options.accessToken,
      log,
      ...(endpoint ? { endpoint } : {}),
      ...(options.client ? { client: options.client } : {}),
      members: false,
      forceProgram: true,
      ...(options.now ? { now: options.now } : {}),
    });
    if (result.status === 'synced') programSummary = result.program;
  } catch (error) {
    // Not worth failing the installation for: the sweep writes it within minutes.
    log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'program summary not written at set-up; the metafield sweep will',
    );
  }
  return { ...setup, programSummary };
}

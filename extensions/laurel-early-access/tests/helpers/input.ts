/**
 * Function inputs as Shopify would build them for a shop whose clock reads `now`: the product
 * mirrors and the time slots come from the app's own code (loyalty/early-access.ts productMirror,
 * functionTimeSlots), and each `aN` is what `dateTimeAfter($tN)` answers at `now` — so the tests
 * exercise the contract between the app and the Function, not a copy of it.
 */
import {
  FUNCTION_PAST_TIME,
  FUNCTION_TIME_SLOTS,
  functionTimeSlots,
  parseEarlyAccessWindow,
  parseLocalTime,
  productMirror,
  type CompiledEarlyAccessWindow,
  type EarlyAccessWindowDefinition,
  type ProductMirror,
} from '../../../../loyalty/early-access';
import { zonedInstant } from '../../../../loyalty/time';
import { parseTierProgram, type CompiledTierProgram } from '../../../../loyalty/tiers';
import type { CartValidationsGenerateRunInput, LanguageCode } from '../../generated/api';

export const TIME_ZONE = 'Europe/Paris';

export const TIERS: CompiledTierProgram = parseTierProgram(
  {
    metric: 'spend',
    window: 'calendar_year',
    currency: 'EUR',
    tiers: [
      { key: 'bronze', name: 'Bronze', threshold: '0.00' },
      { key: 'silver', name: 'Silver', threshold: '250.00' },
      { key: 'gold', name: 'Gold', threshold: '1000.00' },
      { key: 'platinum', name: 'Platinum', threshold: '5000.00' },
    ],
  },
  { shopCurrency: 'EUR' },
);

/** "Gold and above from Nov 20 09:00; everyone from Nov 24 09:00" (the example). */
export const BLACK_FRIDAY: EarlyAccessWindowDefinition = {
  name: 'Black Friday preview',
  target: { type: 'product', id: '1001' },
  stages: [{ tier: 'gold', opensAt: '2026-11-20T09:00' }],
  everyoneAt: '2026-11-24T09:00',
};

export function compile(
  definition: EarlyAccessWindowDefinition,
  timeZone = TIME_ZONE,
): CompiledEarlyAccessWindow {
  return parseEarlyAccessWindow(definition, { timeZone, tiers: TIERS });
}

export function mirrorOf(...windows: CompiledEarlyAccessWindow[]): ProductMirror {
  return productMirror(
    windows.map((window, i) => ({ id: i + 1, window })),
    TIERS,
  );
}

/** Epoch ms of a shop-local `YYYY-MM-DDTHH:MM[:SS]`. */
export function instant(local: string, timeZone = TIME_ZONE): number {
  const wall = parseLocalTime(local);
  if (typeof wall === 'string') throw new Error(`${local} ${wall}`);
  return zonedInstant(wall, timeZone);
}

export interface LineSpec {
  title?: string;
  /** The product's `$app.early_access` jsonValue; undefined = no metafield. */
  mirror?: unknown;
  /** A custom (non-product) line, e.g. a draft order's custom item. */
  custom?: boolean;
  quantity?: number;
}

export interface ShopSpec {
  /** The shop's local wall time, `YYYY-MM-DDTHH:MM:SS`. */
  now: string;
  /** The validation's `$app.early_access_times` JSON; null = metafield absent. */
  slots: Record<string, string> | null;
}

/** The slots the app writes at `now` for `windows` (what the sync puts on the validation). */
export function slotsAt(
  now: string,
  windows: readonly CompiledEarlyAccessWindow[],
  timeZone = TIME_ZONE,
): Record<string, string> {
  return functionTimeSlots(windows, instant(now, timeZone));
}

/**
 * The input for a cart at `shop.now`. The slot answers are Shopify's: `aN` = the shop's local time
 * is after `$tN`, where `$tN` is the metafield's `tN` or, missing, the query's default.
 */
export function cartInput(
  shop: ShopSpec,
  lines: LineSpec[],
  buyer: { tier: string | null } | { loggedOut: true } | { noBuyerIdentity: true },
  language: LanguageCode = 'EN',
): CartValidationsGenerateRunInput {
  const slotValue = (i: number) => shop.slots?.[`t${i}`] ?? FUNCTION_PAST_TIME;
  const after = (i: number) => shop.now > slotValue(i);
  const localTime = {
    date: shop.now.slice(0, 10),
    a0: after(0),
    a1: after(1),
    a2: after(2),
    a3: after(3),
    a4: after(4),
    a5: after(5),
    a6: after(6),
    a7: after(7),
    a8: after(8),
    a9: after(9),
    a10: after(10),
    a11: after(11),
    a12: after(12),
    a13: after(13),
    a14: after(14),
    a15: after(15),
  };
  if (Object.keys(localTime).length !== FUNCTION_TIME_SLOTS + 1) {
    throw new Error('the helper must answer every slot of the query');
  }
  const buyerIdentity =
    'noBuyerIdentity' in buyer
      ? null
      : 'loggedOut' in buyer
        ? { customer: null }
        : { customer: { tier: buyer.tier === null ? null : { value: buyer.tier } } };
  return {
    cart: {
      lines: lines.map((line) => ({
        quantity: line.quantity ?? 1,
        merchandise: line.custom
          ? { __typename: 'CustomProduct' as const }
          : {
              __typename: 'ProductVariant' as const,
              product: {
                title: line.title ?? 'Aurora Jacket',
                earlyAccess: line.mirror === undefined ? null : { jsonValue: line.mirror },
              },
            },
      })),
      buyerIdentity,
    },
    localization: { language: { isoCode: language } },
    shop: { localTime },
    validation: { timeSlots: shop.slots === null ? null : { jsonValue: shop.slots } },
  };
}

/**
 * What a ledger entry means to the shopper, in one line: "Order #1001, $120.00 → 90 points".
 *
 * Pure: built only from what the entry stored when it was posted (its source, points and inputs)
 * and the order's name, never from today's program, so an explanation never changes after the
 * fact. Money is the entry's recorded amount in minor units, formatted exactly (the decimal text
 * of loyalty/money.ts handed to Intl as a string, never through a float). Inputs are read
 * defensively: an entry whose inputs lack a field still gets a true, shorter sentence, and a source
 * this module does not know (issues [6]–[10] add some) gets a generic one that reads nothing from
 * its inputs. The text is plain: whoever puts it in HTML or Liquid escapes it.
 */
import { currencyDigits, formatMoney, isKnownCurrency } from './money';

/** The languages the storefront speaks. The first is the default. */
export const STOREFRONT_LOCALES = ['en', 'fr'] as const;
export type StorefrontLocale = (typeof STOREFRONT_LOCALES)[number];

export function isStorefrontLocale(value: string): value is StorefrontLocale {
  return (STOREFRONT_LOCALES as readonly string[]).includes(value);
}

/** A ledger entry as stored, with the name of the order it is about when there is one. */
export interface ExplainableEntry {
  /** The ledger source (`order`, `refund`, …); any other text gets the generic sentence. */
  source: string;
  /** Signed points of the entry. */
  points: number;
  /** The entry's recorded inputs (jsonb): read field by field, each checked. */
  inputs: Readonly<Record<string, unknown>>;
  /**
   * `#1001` from the orders table (what Shopify calls the order now), or the award's recorded name
   * for a reversal; null when unknown. Falls back to the entry's own `inputs.orderName`.
   */
  orderName: string | null;
}

export interface ExplainOptions {
  locale: StorefrontLocale;
  /** Used when the entry's inputs record no (known) currency of their own. */
  shopCurrency: string;
}

/** Longest order name or reason shown; a longer one is cut with an ellipsis. */
const MAX_TEXT = 120;
const MINUS = '\u2212';
const ARROW = '\u2192';

interface Phrases {
  order(name: string | null, money: string | null): string;
  purchase(day: string | null, money: string | null): string;
  refund(name: string | null): string;
  cancellation(name: string | null): string;
  adjustment(reason: string | null): string;
  signupBonus: string;
  bonus(reason: string | null): string;
  redemption(title: string | null): string;
  returned(cause: string | null, orderName: string | null): string;
  expiry: string;
  referral: string;
  tier: string;
  added: string;
  removed: string;
  /** "1 point", "90 points" (the number already formatted, sign included). */
  points(formatted: string, plural: Intl.LDMLPluralRule): string;
}

const withMoney = (head: string, money: string | null) => (money ? `${head}, ${money}` : head);

const PHRASES: Record<StorefrontLocale, Phrases> = {
  en: {
    order: (name, money) => withMoney(name ? `Order ${name}` : 'Order', money),
    purchase: (day, money) => withMoney(day ? `Purchase on ${day}` : 'Purchase', money),
    refund: (name) => (name ? `Refund on order ${name}` : 'Refund'),
    cancellation: (name) => (name ? `Order ${name} cancelled` : 'Order cancelled'),
    adjustment: (reason) => (reason ? `Adjustment: ${reason}` : 'Adjustment'),
    signupBonus: 'Welcome bonus',
    bonus: (reason) => (reason ? `Bonus: ${reason}` : 'Bonus'),
    redemption: (title) => (title ? `Redeemed: ${title}` : 'Points redeemed'),
    returned: (cause, name) => {
      const order = name ? `order ${name}` : 'the order';
      if (cause === 'order-cancelled') return `Points returned: ${order} was cancelled`;
      if (cause === 'order-refunded') return `Points returned: ${order} was refunded`;
      if (cause === 'expired') return 'Points returned: the reward expired unused';
      return 'Points returned: the reward could not be created';
    },
    expiry: 'Points expired',
    referral: 'Referral reward',
    tier: 'Tier reward',
    added: 'Points added',
    removed: 'Points removed',
    points: (n, plural) => `${n} ${plural === 'one' ? 'point' : 'points'}`,
  },
  fr: {
    order: (name, money) => withMoney(name ? `Commande ${name}` : 'Commande', money),
    purchase: (day, money) => withMoney(day ? `Achat du ${day}` : 'Achat', money),
    refund: (name) => (name ? `Remboursement sur la commande ${name}` : 'Remboursement'),
    cancellation: (name) => (name ? `Commande ${name} annulée` : 'Commande annulée'),
    adjustment: (reason) => (reason ? `Ajustement\u00a0: ${reason}` : 'Ajustement'),
    signupBonus: 'Bonus de bienvenue',
    bonus: (reason) => (reason ? `Bonus\u00a0: ${reason}` : 'Bonus'),
    redemption: (title) => (title ? `Échangés\u00a0: ${title}` : 'Points utilisés'),
    returned: (cause, name) => {
      const order = name ? `la commande ${name}` : 'la commande';
      if (cause === 'order-cancelled') return `Points rendus\u00a0: ${order} a été annulée`;
      if (cause === 'order-refunded') return `Points rendus\u00a0: ${order} a été remboursée`;
      if (cause === 'expired')
        return 'Points rendus\u00a0: la récompense a expiré sans être utilisée';
      return 'Points rendus\u00a0: la récompense n’a pas pu être créée';
    },
    expiry: 'Points expirés',
    referral: 'Récompense de parrainage',
    tier: 'Récompense de palier',
    added: 'Points ajoutés',
    removed: 'Points retirés',
    points: (n, plural) => `${n} ${plural === 'one' ? 'point' : 'points'}`,
  },
};

const pluralRules = new Map<StorefrontLocale, Intl.PluralRules>();
const integerFormats = new Map<StorefrontLocale, Intl.NumberFormat>();
const moneyFormats = new Map<string, Intl.NumberFormat>();

/** "90 points", "1 point", "−30 points", "1,200 points" (fr: "1 200 points", "0 point"). */
export function formatPoints(points: number, locale: StorefrontLocale): string {
  const abs = Math.abs(points);
  let rules = pluralRules.get(locale);
  if (!rules) pluralRules.set(locale, (rules = new Intl.PluralRules(locale)));
  let integer = integerFormats.get(locale);
  if (!integer) integerFormats.set(locale, (integer = new Intl.NumberFormat(locale)));
  const number = `${points < 0 ? MINUS : ''}${integer.format(abs)}`;
  return PHRASES[locale].points(number, rules.select(abs));
}

/**
 * `minor` units of `currency` as the shopper reads money: "$120.00", "120,00 €", "¥1,200".
 * Exact for every safe integer: the decimal text goes to Intl as a string, with the currency's
 * ISO digits (Intl's own idea of them differs for a few currencies).
 */
export function formatMinorMoney(
  minor: number,
  currency: string,
  locale: StorefrontLocale,
): string {
  const key = `${locale} ${currency}`;
  let format = moneyFormats.get(key);
  if (!format) {
    const digits = currencyDigits(currency);
    format = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    moneyFormats.set(key, format);
  }
  // Intl.NumberFormat formats decimal strings exactly (ES2023); the lib types still say number.
  return format.format(formatMoney(minor, currency) as unknown as number);
}

function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.replace(/\s+/g, ' ').trim();
  if (trimmed === '') return null;
  return trimmed.length > MAX_TEXT ? `${trimmed.slice(0, MAX_TEXT - 1)}…` : trimmed;
}

function amountOf(
  inputs: ExplainableEntry['inputs'],
  options: ExplainOptions,
): { minor: number; currency: string } | null {
  const minor = inputs.amountMinor;
  if (typeof minor !== 'number' || !Number.isSafeInteger(minor) || minor < 0) return null;
  const recorded = inputs.currency;
  const currency =
    typeof recorded === 'string' && isKnownCurrency(recorded) ? recorded : options.shopCurrency;
  return isKnownCurrency(currency) ? { minor, currency } : null;
}

/** A file import's `date` (YYYY-MM-DD), as the locale writes a day; null when not a real day. */
function dayOf(value: unknown, locale: StorefrontLocale): string | null {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) return null;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
}

/** The entry's one-line explanation in `options.locale`. */
export function explainEntry(entry: ExplainableEntry, options: ExplainOptions): string {
  const { locale } = options;
  const say = PHRASES[locale];
  const inputs = entry.inputs ?? {};
  const name = text(entry.orderName) ?? text(inputs.orderName);
  let head: string;
  switch (entry.source) {
    case 'order': {
      const amount = amountOf(inputs, options);
      const money = amount ? formatMinorMoney(amount.minor, amount.currency, locale) : null;
      // Rows of a transactions file (docs/cli.md) are purchases, not Shopify orders.
      head =
        inputs.importedFrom === 'file' && !name
          ? say.purchase(dayOf(inputs.date, locale), money)
          : say.order(name, money);
      break;
    }
    case 'refund':
      head = say.refund(name);
      break;
    case 'cancellation':
      head = say.cancellation(name);
      break;
    case 'adjustment':
      head = say.adjustment(text(inputs.reason));
      break;
    case 'bonus':
      head = inputs.rule === 'signup-bonus' ? say.signupBonus : say.bonus(text(inputs.reason));
      break;
    case 'redemption':
      // A debit names the reward; a positive entry gave a redemption's points back.
      head =
        entry.points > 0
          ? say.returned(text(inputs.cause), name)
          : say.redemption(text(inputs.title));
      break;
    case 'expiry':
      head = say.expiry;
      break;
    case 'referral':
      head = say.referral;
      break;
    case 'tier':
      head = say.tier;
      break;
    default:
      head = entry.points < 0 ? say.removed : say.added;
  }
  return `${head} ${ARROW} ${formatPoints(entry.points, locale)}`;
}

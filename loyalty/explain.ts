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
  birthdayBonus: string;
  newsletterBonus: string;
  /** "Followed us on Instagram" (the network's name). */
  socialFollow(network: string): string;
  bonus(reason: string | null): string;
  redemption(title: string | null): string;
  returned(cause: string | null, orderName: string | null): string;
  expiry: string;
  /** "Points expired: 120 earned Mar 3, 2025 (order #1001), …" (lots already phrased). */
  expired(lots: string[], more: number): string;
  /** One expired lot: "120 earned Mar 3, 2025 (order #1001)". */
  expiredLot(points: string, day: string | null, what: string | null): string;
  /** What a lot came from: "order #1001", "bonus", … */
  lotSource(source: string, orderName: string | null): string | null;
  referral: string;
  /** The referrer's reward: "Referred a friend: order #1002". */
  referralReward(name: string | null): string;
  /** Its reversal: "Referral reversed: order #1002 was refunded". */
  referralReversed(cause: string | null, name: string | null): string;
  tier: string;
  /** "(Gold ×1.5)" after an award a tier multiplied; `factor` already formatted. */
  multiplied(tierName: string, factor: string): string;
  /** "(Double points weekend ×2)", "(… ×2 on $40.00)" for a campaign limited to some products. */
  campaign(name: string, factor: string, on: string | null): string;
  /** "(Spring bonus +50)". */
  campaignBonus(name: string, points: string): string;
  /** "Reached Gold: $1,000.00 spent in 2026"; `what` e.g. "$1,000.00 spent", `span` below. */
  tierUp(to: string, what: string | null): string;
  tierDown(from: string, to: string | null, what: string | null): string;
  tierEntry(name: string): string;
  /** "$1,000.00 spent", "1,000 points earned", "5 orders placed" (amount already formatted). */
  tierMetric(metric: string, amount: string, count: number, plural: Intl.LDMLPluralRule): string;
  /** " in 2026", " in the last 12 months", "" (lifetime). */
  tierSpan(window: string, year: number | null): string;
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
    birthdayBonus: 'Birthday bonus',
    newsletterBonus: 'Newsletter sign-up bonus',
    socialFollow: (network) => `Followed us on ${network}`,
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
    expired: (lots, more) =>
      `Points expired: ${lots.join(', ')}${more > 0 ? ` and ${more} more` : ''}`,
    expiredLot: (points, day, what) =>
      `${points}${day ? ` earned ${day}` : ''}${what ? ` (${what})` : ''}`,
    lotSource: (source, orderName) =>
      source === 'order'
        ? orderName
          ? `order ${orderName}`
          : 'order'
        : ({
            bonus: 'bonus',
            referral: 'referral',
            tier: 'tier reward',
            adjustment: 'adjustment',
            redemption: 'points returned',
          }[source] ?? null),
    referral: 'Referral reward',
    referralReward: (name) => (name ? `Referred a friend: order ${name}` : 'Referred a friend'),
    referralReversed: (cause, name) => {
      const order = name ? `order ${name}` : 'the order';
      if (cause === 'order-cancelled') return `Referral reversed: ${order} was cancelled`;
      if (cause === 'order-refunded') return `Referral reversed: ${order} was refunded`;
      return 'Referral reversed';
    },
    tier: 'Tier reward',
    multiplied: (tier, factor) => `(${tier} ×${factor})`,
    campaign: (name, factor, on) => `(${name} ×${factor}${on ? ` on ${on}` : ''})`,
    campaignBonus: (name, points) => `(${name} +${points})`,
    tierUp: (to, what) => (what ? `Reached ${to}: ${what}` : `Reached ${to}`),
    tierDown: (from, to, what) => {
      const head = `Moved from ${from} to ${to ?? 'no tier'}`;
      return what ? `${head}: below ${what} after the grace period` : head;
    },
    tierEntry: (name) => `Welcome to ${name}`,
    tierMetric: (metric, amount, _count, plural) => {
      if (metric === 'spend') return `${amount} spent`;
      if (metric === 'points') return `${amount} ${plural === 'one' ? 'point' : 'points'} earned`;
      return `${amount} ${plural === 'one' ? 'order' : 'orders'} placed`;
    },
    tierSpan: (window, year) =>
      window === 'calendar_year' && year !== null
        ? ` in ${year}`
        : window === 'rolling_12_months'
          ? ' in the last 12 months'
          : '',
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
    birthdayBonus: 'Bonus d’anniversaire',
    newsletterBonus: 'Bonus d’inscription à la newsletter',
    socialFollow: (network) => `Vous nous suivez sur ${network}`,
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
    expired: (lots, more) =>
      `Points expirés\u00a0: ${lots.join(', ')}${more > 0 ? ` et ${more} autres` : ''}`,
    expiredLot: (points, day, what) =>
      `${points}${day ? ` gagnés le ${day}` : ''}${what ? ` (${what})` : ''}`,
    lotSource: (source, orderName) =>
      source === 'order'
        ? orderName
          ? `commande ${orderName}`
          : 'commande'
        : ({
            bonus: 'bonus',
            referral: 'parrainage',
            tier: 'récompense de palier',
            adjustment: 'ajustement',
            redemption: 'points rendus',
          }[source] ?? null),
    referral: 'Récompense de parrainage',
    referralReward: (name) => (name ? `Ami parrainé\u00a0: commande ${name}` : 'Ami parrainé'),
    referralReversed: (cause, name) => {
      const order = name ? `la commande ${name}` : 'la commande';
      if (cause === 'order-cancelled') return `Parrainage annulé\u00a0: ${order} a été annulée`;
      if (cause === 'order-refunded') return `Parrainage annulé\u00a0: ${order} a été remboursée`;
      return 'Parrainage annulé';
    },
    tier: 'Récompense de palier',
    multiplied: (tier, factor) => `(${tier} ×${factor})`,
    campaign: (name, factor, on) => `(${name} ×${factor}${on ? ` sur ${on}` : ''})`,
    campaignBonus: (name, points) => `(${name} +${points})`,
    tierUp: (to, what) => (what ? `Palier ${to} atteint\u00a0: ${what}` : `Palier ${to} atteint`),
    tierDown: (from, to, what) => {
      const head = to ? `Passage de ${from} à ${to}` : `Fin du palier ${from}`;
      return what ? `${head}\u00a0: moins de ${what} après la période de grâce` : head;
    },
    tierEntry: (name) => `Bienvenue au palier ${name}`,
    tierMetric: (metric, amount, _count, plural) => {
      const many = plural !== 'one';
      if (metric === 'spend') return `${amount} dépensés`;
      if (metric === 'points') return `${amount} ${many ? 'points gagnés' : 'point gagné'}`;
      return `${amount} ${many ? 'commandes passées' : 'commande passée'}`;
    },
    tierSpan: (window, year) =>
      window === 'calendar_year' && year !== null
        ? ` en ${year}`
        : window === 'rolling_12_months'
          ? ' au cours des 12 derniers mois'
          : '',
    added: 'Points ajoutés',
    removed: 'Points retirés',
    points: (n, plural) => `${n} ${plural === 'one' ? 'point' : 'points'}`,
  },
};

const pluralRules = new Map<StorefrontLocale, Intl.PluralRules>();
const integerFormats = new Map<StorefrontLocale, Intl.NumberFormat>();
const moneyFormats = new Map<string, Intl.NumberFormat>();

function integerFormat(locale: StorefrontLocale): Intl.NumberFormat {
  let integer = integerFormats.get(locale);
  if (!integer) integerFormats.set(locale, (integer = new Intl.NumberFormat(locale)));
  return integer;
}

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

const factorFormats = new Map<StorefrontLocale, Intl.NumberFormat>();

/** "1.5" / "1,5" from basis points. */
function formatFactor(bps: number, locale: StorefrontLocale): string {
  let format = factorFormats.get(locale);
  if (!format)
    factorFormats.set(
      locale,
      (format = new Intl.NumberFormat(locale, { maximumFractionDigits: 4 })),
    );
  return format.format(bps / 10_000);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** " (Gold ×1.5)" when the award recorded a tier multiplier, else "". */
function multiplierSuffix(inputs: ExplainableEntry['inputs'], locale: StorefrontLocale): string {
  if (!Array.isArray(inputs.multipliers)) return '';
  const tierMultiplier = inputs.multipliers.find(
    (m): m is Record<string, unknown> => isRecord(m) && m.source === 'tier',
  );
  const bps = tierMultiplier?.factorBps;
  if (typeof bps !== 'number' || !Number.isSafeInteger(bps) || bps <= 0) return '';
  const recorded = isRecord(inputs.tier) ? text(inputs.tier.name) : null;
  // Recorded ids read "gold@v3": the key names the tier when the name is missing.
  const name =
    recorded ??
    (typeof tierMultiplier!.id === 'string' ? text(tierMultiplier!.id.split('@')[0]) : null);
  if (!name) return '';
  return ` ${PHRASES[locale].multiplied(name, formatFactor(bps, locale))}`;
}

/**
 * " (Double points weekend ×2)", " (… ×2 on $40.00)", " (Spring bonus +50)": the campaigns the
 * award recorded (loyalty/campaigns.ts AppliedCampaign), each read defensively.
 */
function campaignSuffix(inputs: ExplainableEntry['inputs'], options: ExplainOptions): string {
  if (!Array.isArray(inputs.campaigns)) return '';
  const { locale } = options;
  const say = PHRASES[locale];
  const amount = amountOf(inputs, options);
  let suffix = '';
  for (const c of inputs.campaigns) {
    if (!isRecord(c)) continue;
    const name = text(c.name);
    if (!name) continue;
    if (c.kind === 'multiplier') {
      const bps = c.factorBps;
      if (typeof bps !== 'number' || !Number.isSafeInteger(bps) || bps <= 0) continue;
      const eligible = c.eligibleAmountMinor;
      const on =
        amount &&
        typeof eligible === 'number' &&
        Number.isSafeInteger(eligible) &&
        eligible >= 0 &&
        eligible < amount.minor
          ? formatMinorMoney(eligible, amount.currency, locale)
          : null;
      suffix += ` ${say.campaign(name, formatFactor(bps, locale), on)}`;
    } else if (c.kind === 'bonus') {
      const points = c.points;
      if (typeof points !== 'number' || !Number.isSafeInteger(points) || points <= 0) continue;
      let integer = integerFormats.get(locale);
      if (!integer) integerFormats.set(locale, (integer = new Intl.NumberFormat(locale)));
      suffix += ` ${say.campaignBonus(name, integer.format(points))}`;
    }
  }
  return suffix;
}

/** A tier change entry (`rule: 'tier-change'`): "Reached Gold: $1,000.00 spent in 2026". */
function explainTierChange(
  inputs: ExplainableEntry['inputs'],
  options: ExplainOptions,
): string | null {
  const { locale } = options;
  const say = PHRASES[locale];
  const names = isRecord(inputs.names) ? inputs.names : {};
  const nameOf = (key: unknown): string | null =>
    typeof key === 'string' ? (text(names[key]) ?? text(key)) : null;
  const to = nameOf(inputs.to);
  const from = nameOf(inputs.from);
  const reason = isRecord(inputs.reason) ? inputs.reason : {};
  let what: string | null = null;
  const threshold = reason.threshold;
  // A threshold of 0 (a starting tier, or a tier the program removed) is no reason worth a figure.
  if (typeof threshold === 'number' && Number.isSafeInteger(threshold) && threshold > 0) {
    const metric = reason.metric;
    let amount: string | null = null;
    if (metric === 'spend') {
      const currency = typeof reason.currency === 'string' ? reason.currency : options.shopCurrency;
      if (isKnownCurrency(currency)) amount = formatMinorMoney(threshold, currency, locale);
    } else if (metric === 'points' || metric === 'orders') {
      let integer = integerFormats.get(locale);
      if (!integer) integerFormats.set(locale, (integer = new Intl.NumberFormat(locale)));
      amount = integer.format(threshold);
    }
    if (amount !== null) {
      let rules = pluralRules.get(locale);
      if (!rules) pluralRules.set(locale, (rules = new Intl.PluralRules(locale)));
      const year = typeof reason.year === 'number' ? reason.year : null;
      what =
        say.tierMetric(metric as string, amount, threshold, rules.select(threshold)) +
        say.tierSpan(String(reason.window), year);
    }
  }
  if (inputs.direction === 'up' && to) return say.tierUp(to, what);
  if (inputs.direction === 'down' && from) return say.tierDown(from, to, what);
  return null;
}

/** Network keys of social follow bonuses (loyalty/bonuses.ts) → their names, in every locale. */
const NETWORK_NAMES: Record<string, string> = {
  instagram: 'Instagram',
  facebook: 'Facebook',
  tiktok: 'TikTok',
  x: 'X',
  youtube: 'YouTube',
  pinterest: 'Pinterest',
};

/** A bonus entry's sentence by its rule (docs/bonuses.md); a manual bonus gives its reason. */
function bonusHead(inputs: Record<string, unknown>, say: Phrases): string {
  switch (inputs.rule) {
    case 'signup-bonus':
      return say.signupBonus;
    case 'birthday':
      return say.birthdayBonus;
    case 'newsletter':
      return say.newsletterBonus;
    case 'social-follow': {
      const network =
        typeof inputs.network === 'string' ? NETWORK_NAMES[inputs.network] : undefined;
      return network ? say.socialFollow(network) : say.bonus(null);
    }
    default:
      return say.bonus(text(inputs.reason));
  }
}

/** The entry's one-line explanation in `options.locale`. */
/** Lots shown in an expiry's sentence; the rest are counted. */
const EXPIRED_LOTS_SHOWN = 3;

/** "Points expired: 120 earned Mar 3, 2025 (order #1001), …" from an expiry's `inputs.lots`. */
function explainExpiredLots(
  inputs: ExplainableEntry['inputs'],
  locale: StorefrontLocale,
): string | null {
  const say = PHRASES[locale];
  if (!Array.isArray(inputs.lots)) return null;
  const lots = (inputs.lots as unknown[]).filter(
    (lot): lot is Record<string, unknown> =>
      typeof lot === 'object' &&
      lot !== null &&
      Number.isSafeInteger((lot as Record<string, unknown>).points),
  );
  if (lots.length === 0) return null;
  const phrased = lots.slice(0, EXPIRED_LOTS_SHOWN).map((lot) => {
    const points = Number(lot.points);
    return say.expiredLot(
      integerFormat(locale).format(points),
      dayOf(lot.earnedDay, locale),
      typeof lot.source === 'string' ? say.lotSource(lot.source, text(lot.orderName)) : null,
    );
  });
  return say.expired(phrased, lots.length - phrased.length);
}

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
      return `${head} ${ARROW} ${formatPoints(entry.points, locale)}${multiplierSuffix(inputs, locale)}${campaignSuffix(inputs, options)}`;
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
      head = bonusHead(inputs, say);
      break;
    case 'redemption':
      // A debit names the reward; a positive entry gave a redemption's points back.
      head =
        entry.points > 0
          ? say.returned(text(inputs.cause), name)
          : say.redemption(text(inputs.title));
      break;
    case 'expiry':
      head = explainExpiredLots(inputs, locale) ?? say.expiry;
      break;
    case 'referral': {
      // The friend's order, as the referral recorded it (`order`: "#1002").
      const orderName = name ?? text(inputs.order);
      head =
        inputs.rule === 'referral-reward'
          ? say.referralReward(orderName)
          : inputs.rule === 'referral-reversal'
            ? say.referralReversed(text(inputs.cause), orderName)
            : say.referral;
      break;
    }
    case 'tier': {
      // A change moves no points: its sentence is the whole explanation.
      if (inputs.rule === 'tier-change') {
        const change = explainTierChange(inputs, options);
        if (change && entry.points === 0) return change;
        head = change ?? say.tier;
        break;
      }
      const tierName =
        inputs.rule === 'tier-entry-reward' ? (text(inputs.name) ?? text(inputs.tier)) : null;
      head = tierName ? say.tierEntry(tierName) : say.tier;
      break;
    }
    default:
      head = entry.points < 0 ? say.removed : say.added;
  }
  return `${head} ${ARROW} ${formatPoints(entry.points, locale)}`;
}

/**
 * The rewards page at https://<shop>/apps/loyalty: an `application/liquid` answer that Shopify
 * renders inside the shop's theme (app/routes/proxy.tsx answers it to a browser navigating there).
 *
 * Values come from Laurel's database for the customer Shopify signed for. Every value and every
 * string is escaped for HTML and for Liquid at once ({@link escapeLiquidHtml}): `{`, `}` and `%`
 * become character references as well, so a customer's name or an order name written as
 * `{{ customer.email }}`, `{% … %}` or `<script>` is shown as typed and never runs — Shopify
 * renders the whole body as Liquid. The only Liquid in the page is ours: the sign-in and join
 * links (`routes.*`) and the choice of language.
 *
 * Language: Shopify's proxied query carries no locale, but Shopify renders the Liquid in the
 * storefront's context, where `request.locale.iso_code` is the language the shopper chose on the
 * shop. The page holds its text once per language Laurel speaks and Liquid picks the one the
 * storefront is in; for any other storefront language, the one the request asked for
 * (app/public-api.server.ts pickLocale: `locale` parameter, Accept-Language, English).
 */
import { getDatabase } from './db.server';
import { historyPage, memberStanding, type HistoryEntry } from './models/history.server';
import { compiledProgram, programAt } from './models/programs.server';
import { getShopByDomain } from './models/shops.server';
import { rewardsCatalog, type RewardView } from './storefront-rewards.server';
import {
  explainEntry,
  formatMinorMoney,
  formatPoints,
  STOREFRONT_LOCALES,
  type StorefrontLocale,
} from '../loyalty/explain';
import type { CompiledProgram } from '../loyalty/program';

/** Entries shown under "Latest activity" (the launcher pages through the rest). */
export const PAGE_ACTIVITY = 5;

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '{': '&#123;',
  '}': '&#125;',
  '%': '&#37;',
};

/**
 * Text made inert for both languages the page is read in: HTML (`<`, `&`, quotes) and Liquid
 * (with no literal `{`, `}` or `%` left, no `{{` or `{%` can form). Browsers show it unchanged.
 */
export function escapeLiquidHtml(text: string): string {
  return text.replace(/[&<>"'{}%]/g, (c) => ESCAPES[c]!);
}

export interface RewardsMember {
  firstName: string | null;
  enrolled: boolean;
  balance: number;
  lifetimeEarned: number;
  /** Newest first, at most PAGE_ACTIVITY. */
  activity: HistoryEntry[];
}

export interface RewardsPageView {
  /** The language for a storefront whose language Laurel does not speak. */
  fallbackLocale: StorefrontLocale;
  /** Null: nobody is logged in. */
  member: RewardsMember | null;
  /** The program in force now; null before the shop has one. */
  program: CompiledProgram | null;
  shopCurrency: string;
  /** IANA zone the shop's dates are shown in. */
  timezone: string;
  /** The catalog as the app proxy answers it for this shopper (docs/redemption.md). */
  rewards: RewardView[];
  /** The member's balance (for "N more points"); null when logged out. */
  balance: number | null;
}

interface PageText {
  title: string;
  greeting(name: string): string;
  balance: string;
  lifetime(points: string): string;
  notEnrolled: string;
  howToEarn: string;
  band(points: string, unit: string, over: string | null, upTo: string | null): string;
  earnOn: Record<CompiledProgram['earnOn'], string>;
  signup(points: string): string;
  noProgram: string;
  activity: string;
  noActivity: string;
  signedOut: string;
  signIn: string;
  join: string;
  rewards: string;
  rewardsHow: string;
  cost(points: string): string;
  costRange(min: string, max: string): string;
  canRedeem: string;
  morePoints(points: string): string;
  limitReached: string;
  periodLimitReached: string;
  tierOnly: string;
}

const TEXT: Record<StorefrontLocale, PageText> = {
  en: {
    title: 'Rewards',
    greeting: (name) => `Hi ${name}`,
    balance: 'Your points',
    lifetime: (points) => `${points} earned in total`,
    notEnrolled: 'You have no points yet. Your first paid order earns them, and they show here.',
    howToEarn: 'How to earn',
    band: (points, unit, over, upTo) => {
      const base = `${points} per ${unit} spent`;
      if (over && upTo) return `${base} from ${over} to ${upTo}`;
      if (over) return `${base} above ${over}`;
      if (upTo) return `${base} up to ${upTo}`;
      return base;
    },
    earnOn: {
      subtotal_after_discounts:
        'Points count on each order’s subtotal after discounts, once the order is paid.',
      total: 'Points count on each order’s total, once the order is paid.',
    },
    signup: (points) => `Creating an account earns ${points}.`,
    noProgram: 'The rewards program has not opened yet.',
    activity: 'Latest activity',
    noActivity: 'No activity yet.',
    signedOut: 'Earn points on every order. Sign in to see your balance and your activity.',
    signIn: 'Sign in',
    join: 'Create an account',
    rewards: 'Rewards',
    rewardsHow: 'Redeem your points with the Rewards button on any page of the shop.',
    cost: (points) => points,
    costRange: (min, max) => `${min} to ${max}`,
    canRedeem: 'You can redeem this now',
    morePoints: (points) => `${points} more to go`,
    limitReached: 'You have redeemed this as often as it allows',
    periodLimitReached: 'Redeemed recently: available again later',
    tierOnly: 'For members of certain tiers',
  },
  fr: {
    title: 'Récompenses',
    greeting: (name) => `Bonjour ${name}`,
    balance: 'Vos points',
    lifetime: (points) => `${points} gagnés au total`,
    notEnrolled:
      'Vous n’avez pas encore de points. Votre première commande payée en rapporte, et ils s’affichent ici.',
    howToEarn: 'Comment gagner des points',
    band: (points, unit, over, upTo) => {
      const base = `${points} par tranche de ${unit} dépensée`;
      if (over && upTo) return `${base} entre ${over} et ${upTo}`;
      if (over) return `${base} au-delà de ${over}`;
      if (upTo) return `${base} jusqu’à ${upTo}`;
      return base;
    },
    earnOn: {
      subtotal_after_discounts:
        'Les points sont calculés sur le sous-total de chaque commande après remises, une fois la commande payée.',
      total:
        'Les points sont calculés sur le total de chaque commande, une fois la commande payée.',
    },
    signup: (points) => `La création d’un compte rapporte ${points}.`,
    noProgram: 'Le programme de récompenses n’est pas encore ouvert.',
    activity: 'Activité récente',
    noActivity: 'Aucune activité pour le moment.',
    signedOut:
      'Gagnez des points à chaque commande. Connectez-vous pour voir votre solde et votre activité.',
    signIn: 'Se connecter',
    join: 'Créer un compte',
    rewards: 'Récompenses à échanger',
    rewardsHow:
      'Échangez vos points avec le bouton Récompenses, sur toutes les pages de la boutique.',
    cost: (points) => points,
    costRange: (min, max) => `de ${min} à ${max}`,
    canRedeem: 'Vous pouvez l’échanger maintenant',
    morePoints: (points) => `encore ${points}`,
    limitReached: 'Vous l’avez échangée autant de fois que possible',
    periodLimitReached: 'Échangée récemment\u00a0: de nouveau disponible plus tard',
    tierOnly: 'Réservée aux membres de certains paliers',
  },
};

const e = escapeLiquidHtml;

function earnSection(view: RewardsPageView, locale: StorefrontLocale): string {
  const t = TEXT[locale];
  const program = view.program;
  if (!program) return `<p>${e(t.noProgram)}</p>`;
  const money = (minor: number) => formatMinorMoney(minor, program.currency, locale);
  const items = program.bands.map((band) =>
    t.band(
      formatPoints(band.pointsPerUnit, locale),
      money(program.unitMinor),
      band.overMinor > 0 ? money(band.overMinor) : null,
      band.upToMinor === null ? null : money(band.upToMinor),
    ),
  );
  if (program.signupBonus > 0) items.push(t.signup(formatPoints(program.signupBonus, locale)));
  return [
    '<ul class="laurel-rewards-page__earn">',
    ...items.map((item) => `<li>${e(item)}</li>`),
    '</ul>',
    `<p>${e(t.earnOn[program.earnOn])}</p>`,
  ].join('\n');
}

function activitySection(
  view: RewardsPageView,
  member: RewardsMember,
  locale: StorefrontLocale,
): string {
  const t = TEXT[locale];
  if (member.activity.length === 0) return `<p>${e(t.noActivity)}</p>`;
  const day = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: view.timezone });
  const items = member.activity.map((entry) => {
    const explanation = explainEntry(entry, { locale, shopCurrency: view.shopCurrency });
    const iso = entry.occurredAt.toISOString();
    return `<li data-laurel-page-entry="${e(String(entry.id))}"><time datetime="${e(iso)}">${e(day.format(entry.occurredAt))}</time> ${e(explanation)}</li>`;
  });
  return ['<ol class="laurel-rewards-page__activity">', ...items, '</ol>'].join('\n');
}

function rewardCost(reward: RewardView, locale: StorefrontLocale): string {
  const t = TEXT[locale];
  if (reward.slider) {
    return t.costRange(
      formatPoints(reward.slider.minPoints, locale),
      formatPoints(reward.slider.maxPoints, locale),
    );
  }
  return t.cost(formatPoints(reward.pointsCost ?? 0, locale));
}

function rewardStatus(view: RewardsPageView, reward: RewardView, locale: StorefrontLocale) {
  const t = TEXT[locale];
  if (reward.canRedeem) return t.canRedeem;
  switch (reward.reason) {
    case 'INSUFFICIENT_BALANCE': {
      const cost = reward.pointsCost ?? reward.slider?.minPoints ?? 0;
      return t.morePoints(formatPoints(Math.max(cost - (view.balance ?? 0), 1), locale));
    }
    case 'LIMIT_REACHED':
      return t.limitReached;
    case 'PERIOD_LIMIT_REACHED':
      return t.periodLimitReached;
    case 'TIER':
      return t.tierOnly;
    default:
      return null;
  }
}

/** The catalog, read only: redeeming happens in the launcher, where the code can be shown. */
function rewardsSection(view: RewardsPageView, locale: StorefrontLocale): string {
  if (view.rewards.length === 0) return '';
  const t = TEXT[locale];
  const items = view.rewards.map((reward) => {
    const status = rewardStatus(view, reward, locale);
    return (
      `<li data-laurel-page-reward="${e(reward.id)}"><strong>${e(reward.title)}</strong> · ${e(rewardCost(reward, locale))}` +
      (status ? ` <span class="laurel-rewards-page__status">${e(status)}</span>` : '') +
      '</li>'
    );
  });
  return [
    `<h2>${e(t.rewards)}</h2>`,
    '<ul class="laurel-rewards-page__rewards">',
    ...items,
    '</ul>',
    `<p>${e(t.rewardsHow)}</p>`,
  ].join('\n');
}

function memberSection(
  view: RewardsPageView,
  member: RewardsMember,
  locale: StorefrontLocale,
): string {
  const t = TEXT[locale];
  const lines: string[] = [];
  if (member.firstName) lines.push(`<p>${e(t.greeting(member.firstName))}</p>`);
  lines.push(`<h2>${e(t.balance)}</h2>`);
  if (member.enrolled) {
    lines.push(
      `<p class="laurel-rewards-page__balance" data-laurel-page-balance="${member.balance}"><strong>${e(formatPoints(member.balance, locale))}</strong></p>`,
      `<p data-laurel-page-lifetime="${member.lifetimeEarned}">${e(t.lifetime(formatPoints(member.lifetimeEarned, locale)))}</p>`,
    );
  } else {
    lines.push(`<p>${e(t.notEnrolled)}</p>`);
  }
  const rewards = rewardsSection(view, locale);
  if (rewards) lines.push(rewards);
  lines.push(`<h2>${e(t.howToEarn)}</h2>`, earnSection(view, locale));
  lines.push(`<h2>${e(t.activity)}</h2>`, activitySection(view, member, locale));
  return lines.join('\n');
}

function signedOutSection(view: RewardsPageView, locale: StorefrontLocale): string {
  const t = TEXT[locale];
  return [
    `<p>${e(t.signedOut)}</p>`,
    '<p class="laurel-rewards-page__actions" data-laurel-page-signed-out>',
    `<a href="{{ routes.account_login_url }}">${e(t.signIn)}</a>`,
    `<a href="{{ routes.account_register_url }}">${e(t.join)}</a>`,
    '</p>',
    `<h2>${e(t.howToEarn)}</h2>`,
    earnSection(view, locale),
    rewardsSection(view, locale),
  ]
    .filter((line) => line !== '')
    .join('\n');
}

function localeBlock(view: RewardsPageView, locale: StorefrontLocale): string {
  return [
    `{%- if laurel_page_locale == '${locale}' -%}`,
    `<div lang="${locale}">`,
    `<h1>${e(TEXT[locale].title)}</h1>`,
    view.member ? memberSection(view, view.member, locale) : signedOutSection(view, locale),
    '</div>',
    '{%- endif -%}',
  ].join('\n');
}

const STYLE = `<style>
.laurel-rewards-page{max-width:40rem;margin:2rem auto;padding:0 1rem}
.laurel-rewards-page__balance{font-size:2em;margin:.25em 0}
.laurel-rewards-page__activity{padding-left:1.25em}
.laurel-rewards-page__activity time{font-variant-numeric:tabular-nums;margin-right:.5em}
.laurel-rewards-page__actions a{display:inline-block;margin-right:1em}
.laurel-rewards-page__rewards{padding-left:1.25em}
.laurel-rewards-page__status{opacity:.75}
</style>`;

/** The Liquid body of the page; pure. */
export function renderRewardsPage(view: RewardsPageView): string {
  const known = STOREFRONT_LOCALES.map((l) => `laurel_storefront_locale == '${l}'`).join(' or ');
  return [
    STYLE,
    '<section class="laurel-rewards-page" data-laurel-rewards-page>',
    // `request.locale.iso_code` is `fr`, `fr-CA`, `pt-BR`…: its language is the first two letters.
    "{%- assign laurel_storefront_locale = request.locale.iso_code | default: '' | downcase | slice: 0, 2 -%}",
    `{%- assign laurel_page_locale = '${view.fallbackLocale}' -%}`,
    `{%- if ${known} -%}{%- assign laurel_page_locale = laurel_storefront_locale -%}{%- endif -%}`,
    ...STOREFRONT_LOCALES.map((locale) => localeBlock(view, locale)),
    '</section>',
  ].join('\n');
}

/**
 * The page for the shop and (when logged in) the customer Shopify signed for. `customerId` null:
 * the signed-out page. A shop Laurel does not know shows no program; a customer it does not know,
 * no balance.
 */
export async function rewardsPage(
  owner: { shop: string; customerId: string | null },
  fallbackLocale: StorefrontLocale,
): Promise<string> {
  const { db } = await getDatabase();
  const shop = await getShopByDomain(db, owner.shop);
  const version = shop ? await programAt(db, shop.id, new Date()) : undefined;
  let member: RewardsMember | null = null;
  if (owner.customerId !== null) {
    const standing = shop ? await memberStanding(db, shop.id, owner.customerId) : undefined;
    const activity =
      shop && standing?.customerId != null
        ? (await historyPage(db, shop.id, standing.customerId, { limit: PAGE_ACTIVITY })).entries
        : [];
    member = {
      firstName: standing?.firstName ?? null,
      enrolled: standing?.enrolled ?? false,
      balance: standing?.balance ?? 0,
      lifetimeEarned: standing?.lifetimeEarned ?? 0,
      activity,
    };
  }
  const catalog = await rewardsCatalog(owner);
  return renderRewardsPage({
    fallbackLocale,
    member,
    rewards: catalog.rewards,
    balance: catalog.balance,
    program: version ? compiledProgram(version) : null,
    shopCurrency: shop?.currency ?? 'USD',
    timezone: shop?.timezone ?? 'UTC',
  });
}

/**
 * Storefront objects for the theme tests (as Liquid sees them) and a few readers for the HTML the
 * blocks render, keyed by our data-* hooks.
 */
import type { TierStatus } from '../../app/metafields';
import { parseProgram, referenceProgram, type ProgramDefinition } from '../../loyalty/program';
import { programSummary } from '../../loyalty/program-summary';
import type {
  LaurelCustomerMetafields,
  ReferralOfferSummary,
  StorefrontObjects,
  StorefrontProgramSummary,
  StorefrontProduct,
  StorefrontVariant,
} from '../../dev/storefront/liquid-engine';

/** A program summary as the blocks read it: `referral` null (referrals off) unless set. */
export function summaryOf(definition: ProgramDefinition, version = 1): StorefrontProgramSummary {
  return programSummary(parseProgram(definition), version);
}

export const referenceSummary: StorefrontProgramSummary = summaryOf(referenceProgram);

export function variant(id: number, price: number): StorefrontVariant {
  return { id, title: `Variant ${id}`, price, available: true };
}

export function product(variants: StorefrontVariant[], selected = variants[0]!): StorefrontProduct {
  return {
    id: 7001,
    title: 'Trail shoe',
    handle: 'trail-shoe',
    variants,
    selected_or_first_available_variant: selected,
  };
}

export interface Scenario {
  program?: StorefrontProgramSummary | null;
  customer?: 'guest' | LaurelCustomerMetafields;
  currency?: string;
  moneyFormat?: string;
  locale?: string;
  product?: StorefrontProduct;
  designMode?: boolean;
  /** The program summary's referral offer (default: the program's own, null when it has none). */
  referral?: ReferralOfferSummary | null;
}

/** The shop's primary domain URL, as `shop.url` gives it. */
export const SHOP_URL = 'https://laurel-demo.example';

export function storefront(scenario: Scenario = {}): StorefrontObjects {
  const program = scenario.program === undefined ? referenceSummary : scenario.program;
  const customer = scenario.customer ?? 'guest';
  return {
    shop: {
      name: 'Laurel Demo',
      money_format: scenario.moneyFormat ?? '${{amount}}',
      url: SHOP_URL,
    },
    customer:
      customer === 'guest'
        ? null
        : { id: 501, email: 'sam@example.com', first_name: 'Sam', metafields: { $app: customer } },
    product: scenario.product ?? null,
    cart: { currency: { iso_code: scenario.currency ?? program?.currency ?? 'USD' } },
    routes: {
      root_url: '/',
      account_login_url: '/account/login',
      account_register_url: '/account/register',
      account_url: '/account',
    },
    app: {
      metafields: program
        ? {
            laurel: {
              program: {
                value: {
                  ...program,
                  referral:
                    scenario.referral === undefined
                      ? (program.referral ?? null)
                      : scenario.referral,
                },
                type: 'json',
              },
            },
          }
        : {},
    },
    request: {
      locale: { iso_code: scenario.locale ?? 'en' },
      design_mode: scenario.designMode ?? false,
    },
  };
}

export const member = (
  balance: number,
  lifetime: number,
  tier?: TierStatus,
): LaurelCustomerMetafields => ({
  points_balance: { value: balance, type: 'number_integer' },
  lifetime_points: { value: lifetime, type: 'number_integer' },
  ...(tier === undefined
    ? {}
    : {
        ...(tier.key === null ? {} : { tier: { value: tier.key, type: 'single_line_text_field' } }),
        tier_status: { value: tier, type: 'json' },
      }),
});

/** The tier status the sync writes (app/metafields.ts TierStatus) for the demo's four tiers. */
export function tierStatus(
  key: 'bronze' | 'silver' | 'gold' | 'platinum' | null,
  value: number,
  overrides: Partial<TierStatus> = {},
): TierStatus {
  const tiers = [
    { key: 'bronze', name: 'Bronze', threshold: 0 },
    { key: 'silver', name: 'Silver', threshold: 25_000 },
    { key: 'gold', name: 'Gold', threshold: 100_000 },
    { key: 'platinum', name: 'Platinum', threshold: 500_000 },
  ];
  const rank = tiers.findIndex((t) => t.key === key);
  const next = tiers.find((t, i) => i > rank && t.threshold > value);
  return {
    version: 1,
    key,
    name: rank < 0 ? null : tiers[rank]!.name,
    since: rank < 0 ? null : '2026-03-01T12:00:00.000Z',
    downgradeAt: null,
    metric: 'spend',
    window: 'calendar_year',
    currency: 'USD',
    digits: 2,
    value,
    next: next ? { ...next, remaining: next.threshold - value } : null,
    ...overrides,
  };
}

interface Element {
  tag: string;
  attributes: Record<string, string>;
  /** Inner HTML. */
  inner: string;
}

const START_TAG =
  /<([a-zA-Z][\w-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*\/?>/g;
const ATTRIBUTE = /([^\s=>/]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?/g;
const VOID = new Set(['br', 'hr', 'img', 'input', 'link', 'meta', 'path']);

const decode = (text: string) =>
  text
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

function parseAttributes(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of source.matchAll(ATTRIBUTE)) {
    const raw = match[2] ?? '';
    attributes[match[1]!] = decode(raw.replace(/^["']|["']$/g, ''));
  }
  return attributes;
}

/** Every element whose start tag has `attribute`, in document order. */
export function findAll(html: string, attribute: string): Element[] {
  const found: Element[] = [];
  for (const match of html.matchAll(START_TAG)) {
    const attributes = parseAttributes(match[2] ?? '');
    if (!Object.hasOwn(attributes, attribute)) continue;
    const tag = match[1]!.toLowerCase();
    const start = match.index! + match[0].length;
    let inner = '';
    if (!VOID.has(tag) && !match[0].endsWith('/>')) {
      // the matching end tag, counting nested elements of the same name
      const pattern = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'gi');
      pattern.lastIndex = start;
      let depth = 1;
      for (let m = pattern.exec(html); m; m = pattern.exec(html)) {
        depth += m[1] ? -1 : 1;
        if (depth === 0) {
          inner = html.slice(start, m.index);
          break;
        }
      }
    }
    found.push({ tag, attributes, inner });
  }
  return found;
}

export function find(html: string, attribute: string): Element | undefined {
  return findAll(html, attribute)[0];
}

/** Visible text of an element: tags stripped, entities decoded, whitespace collapsed. */
export function text(element: Element | undefined): string {
  if (!element) return '';
  return decode(element.inner.replace(/<script[\s\S]*?<\/script>/gi, '').replace(/<[^>]+>/g, ' '))
    .replace(/[ \t\n\r\f]+/g, ' ') // not \s: it would also fold the no-break spaces French uses
    .replace(/^ | $/g, '');
}

export const isHidden = (element: Element | undefined) =>
  element !== undefined && Object.hasOwn(element.attributes, 'hidden');

/**
 * The metafields Laurel keeps on Shopify for the storefront and customer accounts: the one list of
 * their keys, types and access. shopify.app.toml declares the customer ones (app/metafields.test.ts
 * checks the two agree), the sync worker writes them (app/metafield-sync-members.server.ts, the
 * program summary app/metafield-sync-program.server.ts), and the theme and customer-account
 * extensions read them. Decision and trade-offs: docs/decisions/011-*.md.
 */

/** App-owned namespace: Shopify resolves it to `app--<app id>`; only Laurel may write it. */
export const CUSTOMER_METAFIELD_NAMESPACE = '$app';

export type MetafieldType = 'number_integer' | 'single_line_text_field' | 'json';

export interface CustomerMetafield {
  /** 2–64 letters, digits, `_` or `-`: the TOML table name and the Liquid key. */
  key: string;
  type: MetafieldType;
  /** What the merchant sees in the Shopify admin. */
  name: string;
  description: string;
  /** The issue whose worker writes it; the key is declared (and readable) before then. */
  writtenBy: 'metafield sync' | 'tiers [7]' | 'referrals [8]' | 'expiry reminders [10]';
}

/**
 * Customer metafields, in the order shopify.app.toml declares them. Every one is readable by the
 * storefront (Liquid `customer.metafields['$app'].<key>`, Storefront API) and by customer-account
 * extensions, and read-only for the merchant: the ledger is the truth, an edit in the admin would
 * be overwritten by the next sync.
 */
export const CUSTOMER_METAFIELDS = {
  pointsBalance: {
    key: 'points_balance',
    type: 'number_integer',
    name: 'Points balance',
    description: "The member's current points balance, kept in sync with Laurel's ledger.",
    writtenBy: 'metafield sync',
  },
  lifetimePoints: {
    key: 'lifetime_points',
    type: 'number_integer',
    name: 'Lifetime points',
    description: 'Points the member has earned, net of reversals (spending does not lower it).',
    writtenBy: 'metafield sync',
  },
  tier: {
    key: 'tier',
    type: 'single_line_text_field',
    name: 'Loyalty tier',
    description:
      "The key of the member's tier (e.g. gold); absent when the member has no tier. Early access and the storefront read it.",
    writtenBy: 'metafield sync',
  },
  tierStatus: {
    key: 'tier_status',
    type: 'json',
    name: 'Loyalty tier status',
    description:
      "The member's tier with its name and progress to the next tier (TierStatus in app/metafields.ts), for the storefront and customer accounts.",
    writtenBy: 'metafield sync',
  },
  referralCode: {
    key: 'referral_code',
    type: 'single_line_text_field',
    name: 'Referral code',
    description: "The member's referral code.",
    writtenBy: 'metafield sync',
  },
  pointsExpiring: {
    key: 'points_expiring',
    type: 'json',
    name: 'Points expiring',
    description:
      "The member's latest points-expiry reminder (PointsExpiring in app/metafields.ts): points, when they expire, last day to use them. Removed once they expired or were spent.",
    writtenBy: 'expiry reminders [10]',
  },
} as const satisfies Record<string, CustomerMetafield>;

/** Access every customer metafield is declared with, as shopify.app.toml spells it. */
export const CUSTOMER_METAFIELD_ACCESS = {
  admin: 'merchant_read',
  storefront: 'public_read',
  customer_account: 'read',
} as const;

/**
 * Product metafields, in the order shopify.app.toml declares them: the early-access mirror
 * (loyalty/early-access.ts ProductMirror) the theme block and the checkout Function read. Readable
 * by the storefront; customer accounts have no use for it.
 */
export const PRODUCT_METAFIELDS = {
  earlyAccess: {
    key: 'early_access',
    type: 'json',
    name: 'Early access',
    description:
      "Laurel's early-access windows on this product (docs/early-access.md). Written by Laurel only.",
    writtenBy: 'early-access sync',
  },
} as const satisfies Record<string, Omit<CustomerMetafield, 'writtenBy'> & { writtenBy: string }>;

/** Access every product metafield is declared with, as shopify.app.toml spells it. */
export const PRODUCT_METAFIELD_ACCESS = {
  admin: 'merchant_read',
  storefront: 'public_read',
  customer_account: 'none',
} as const;

/**
 * The program summary (loyalty/program-summary.ts) as an app-data metafield: owned by the app
 * installation (`currentAppInstallation.id`), read in Liquid as `app.metafields.laurel.program`.
 * App-data metafields are private to the app and its extensions, so they need no definition.
 */
export const PROGRAM_METAFIELD = { namespace: 'laurel', key: 'program', type: 'json' } as const;

/**
 * The same summary on the shop, in the app's own namespace: checkout extensions read metafields of
 * the shop, customer, cart and products only, never app-data ones (extensions/laurel-checkout,
 * docs/checkout.md). Written together with PROGRAM_METAFIELD, in one call.
 */
export const CHECKOUT_PROGRAM_METAFIELD = {
  namespace: '$app',
  key: 'program',
  type: 'json',
} as const;

/**
 * The value of `$app.tier_status` (json), written with the points for every member of a shop with
 * a tier program: what the storefront block and the customer-account extension show ("Gold ·
 * $180.00 more to Platinum", "Top tier"). Amounts are in the metric's unit: minor units of
 * `currency` for spend (`digits` says how many), points, or orders. docs/metafields.md.
 */
export interface TierStatus {
  /** Tier program version the standing was read under. */
  version: number;
  /** The tier held (null: below the lowest tier). */
  key: string | null;
  name: string | null;
  /** When the member entered the tier (ISO 8601), null without one. */
  since: string | null;
  /** When the member moves down unless they qualify again first (ISO 8601), else null. */
  downgradeAt: string | null;
  metric: 'points' | 'spend' | 'orders';
  window: 'lifetime' | 'calendar_year' | 'rolling_12_months';
  /** ISO 4217 for spend, else null. */
  currency: string | null;
  /** Minor-unit digits of `currency` (USD 2, JPY 0), null when not money. */
  digits: number | null;
  /** The metric over the window at the last evaluation. */
  value: number;
  /** The next tier up and what is still missing to reach it; null at the top tier. */
  next: { key: string; name: string; threshold: number; remaining: number } | null;
}

/**
 * The value of `$app.points_expiring` (json), written with the `laurel-points-expiring` tag by the
 * Shopify channel of the expiry reminders (app/notify/shopify-customer.server.ts) for Shopify Flow
 * and email tools; deleted with the tag once those points expired or were spent.
 * docs/notifications.md.
 */
export interface PointsExpiring {
  /** Points that expire at `expiresAt` unless spent. */
  points: number;
  /** The instant they expire (ISO 8601, UTC): the shop's midnight ending `lastDay`. */
  expiresAt: string;
  /** The last day they can be used, the shop's local calendar day (YYYY-MM-DD). */
  lastDay: string;
  /** The reminder's threshold: sent this many days before. */
  thresholdDays: number;
  /** The member's balance when the reminder was made. */
  balance: number;
}

/** Shopify's limit on metafields per metafieldsSet call. */
export const METAFIELDS_PER_SET = 25;

/** Shopify's global id of a customer from its numeric id (customers.external_id). */
export function customerGid(shopifyCustomerId: string): string {
  return `gid://shopify/Customer/${shopifyCustomerId}`;
}

/**
 * Whether an external id is a Shopify customer id. Customers imported from a transaction file can
 * carry any id; those have no Shopify customer to write to.
 */
export function isShopifyCustomerId(externalId: string): boolean {
  return /^[1-9]\d{0,19}$/.test(externalId);
}

import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * Laurel's tables. Every row belongs to a shop and every model query filters on shop_id.
 * Tables are unqualified (no pgSchema) so a test can isolate itself in its own database.
 */

const createdAt = () =>
  timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const shops = pgTable('shops', {
  id: serial('id').primaryKey(),
  /** The permanent *.myshopify.com domain: Shopify's identity for the shop. */
  domain: text('domain').notNull().unique(),
  name: text('name'),
  /** ISO 4217 code of the shop currency; all money columns are integer minor units of it. */
  currency: text('currency').notNull().default('USD'),
  /** IANA zone the merchant's reports use for calendar months. */
  timezone: text('timezone').notNull().default('UTC'),
  active: boolean('active').notNull().default(true),
  /** Test orders (`test: true`) earn only when the merchant opts in. */
  testOrdersEarn: boolean('test_orders_earn').notNull().default(false),
  installedAt: tstz('installed_at').notNull().defaultNow(),
  uninstalledAt: tstz('uninstalled_at'),
  createdAt: createdAt(),
});

/** The table `@shopify/shopify-app-session-storage-drizzle` (DrizzleSessionStoragePostgres) expects. */
export const sessions = pgTable('session', {
  id: text('id').primaryKey(),
  shop: text('shop').notNull(),
  state: text('state').notNull(),
  isOnline: boolean('isOnline').default(false).notNull(),
  scope: text('scope'),
  expires: timestamp('expires', { mode: 'date' }),
  accessToken: text('accessToken'),
  userId: bigint('userId', { mode: 'number' }),
  firstName: text('firstName'),
  lastName: text('lastName'),
  email: text('email'),
  accountOwner: boolean('accountOwner').default(false),
  locale: text('locale'),
  collaborator: boolean('collaborator').default(false),
  emailVerified: boolean('emailVerified').default(false),
  refreshToken: text('refreshToken'),
  refreshTokenExpires: timestamp('refreshTokenExpires', { mode: 'date' }),
});

export const customers = pgTable(
  'customers',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    /** Shopify customer id, or the customer_id of an imported transaction file. */
    externalId: text('external_id').notNull(),
    email: text('email'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    birthday: date('birthday', { mode: 'string' }),
    enrolledAt: tstz('enrolled_at').notNull().defaultNow(),
    /**
     * When Shopify first reported the account enabled with `email` verified; null when it has not,
     * or the email changed since. Only such an account takes guest orders by email
     * (docs/earning-rules.md, "Guest orders"; docs/cli.md, import).
     */
    emailVerifiedAt: tstz('email_verified_at'),
    /** Set by customers/redact: personal fields are scrubbed, ledger totals are kept. */
    redactedAt: tstz('redacted_at'),
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('customers_shop_external_uq').on(t.shopId, t.externalId),
    // The report's CSV walks a shop's customers in external id code-unit order, as the CLI lists
    // them, whatever the database's default collation (app/models/admin-report.server.ts).
    index('customers_shop_external_c_idx').on(t.shopId, sql`${t.externalId} COLLATE "C"`),
    index('customers_shop_email_idx').on(t.shopId, t.email),
    /** Whether a shop redacted anyone: checked for every order batch (dropRedactedPayloads). */
    index('customers_shop_redacted_idx')
      .on(t.shopId)
      .where(sql`${t.redactedAt} IS NOT NULL`),
    /** Target of ledger_entries' (shop_id, customer_id) foreign key: no entry crosses shops. */
    unique('customers_shop_id_uq').on(t.shopId, t.id),
    // The admin's customers list reads a page in these orders (app/models/customer-directory.server.ts
    // SORTS: the same expressions), instead of sorting every member of the shop per page.
    index('customers_shop_name_idx').on(
      t.shopId,
      sql`lower(btrim(coalesce(${t.firstName}, '') || ' ' || coalesce(${t.lastName}, '')))`,
      t.id,
    ),
    index('customers_shop_email_sort_idx').on(t.shopId, sql`coalesce(${t.email}, '')`, t.id),
    index('customers_shop_enrolled_idx').on(t.shopId, t.enrolledAt, t.id),
    // Its search: prefixes of the email, its domain, the full name and the last name (LIKE 'x%'
    // under any collation needs text_pattern_ops).
    index('customers_shop_email_prefix_idx').on(t.shopId, t.email.op('text_pattern_ops')),
    index('customers_shop_domain_prefix_idx').on(
      t.shopId,
      sql`split_part(${t.email}, '@', 2) text_pattern_ops`,
    ),
    index('customers_shop_name_prefix_idx').on(
      t.shopId,
      sql`lower(btrim(coalesce(${t.firstName}, '') || ' ' || coalesce(${t.lastName}, ''))) text_pattern_ops`,
    ),
    index('customers_shop_last_name_prefix_idx').on(
      t.shopId,
      sql`lower(${t.lastName}) text_pattern_ops`,
    ),
  ],
);

/**
 * Earn programs, versioned. A change is a new row with a higher version and its own
 * effective_from; rows are never updated, so any entry's program_version explains it forever.
 */
export const programs = pgTable(
  'programs',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    effectiveFrom: tstz('effective_from').notNull(),
    /** The program definition (see loyalty/program.ts): rules are data, not code. */
    definition: jsonb('definition').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('programs_shop_version_uq').on(t.shopId, t.version),
    index('programs_shop_effective_idx').on(t.shopId, t.effectiveFrom),
  ],
);

/**
 * The ledger: insert-only. A balance is the sum of a customer's entries; customer_balances is a
 * projection of that sum updated in the same transaction as each insert.
 */
export const ledgerEntries = pgTable(
  'ledger_entries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    customerId: integer('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    /** Unique per shop, e.g. `order:<id>:earn`, `refund:<id>:reverse`. */
    idempotencyKey: text('idempotency_key').notNull(),
    /** Why: order | refund | cancellation | redemption | expiry | adjustment | bonus | referral | tier. */
    source: text('source').notNull(),
    /** Signed integer points: awards positive, reversals/redemptions/expiry negative. */
    points: integer('points').notNull(),
    /** Business time (order paid at, refund created at): what reports bucket by. */
    occurredAt: tstz('occurred_at').notNull(),
    /** Program version the points were computed with (null for manual adjustments). */
    programVersion: integer('program_version'),
    /** The inputs the points were computed from: amount in minor units, currency, bands, multiplier… */
    inputs: jsonb('inputs').notNull(),
    /** What the entry is about in Shopify's terms (order id, refund id), for lookups. */
    subjectId: text('subject_id'),
    /** For a reversal: the award entry it reverses. */
    reversesEntryId: bigint('reverses_entry_id', { mode: 'number' }),
    /** For an earn lot: when its points expire (lifecycle issue). Null: never. */
    expiresAt: tstz('expires_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('ledger_entries_shop_key_uq').on(t.shopId, t.idempotencyKey),
    index('ledger_entries_shop_customer_idx').on(t.shopId, t.customerId, t.occurredAt),
    index('ledger_entries_shop_occurred_idx').on(t.shopId, t.occurredAt),
    index('ledger_entries_shop_subject_idx').on(t.shopId, t.subjectId),
    // Settling an order reads the reversals of its award (app/models/orders.server.ts).
    index('ledger_entries_shop_reverses_idx')
      .on(t.shopId, t.reversesEntryId)
      .where(sql`${t.reversesEntryId} IS NOT NULL`),
    // The customer must belong to the entry's shop; the database refuses anything else.
    foreignKey({
      name: 'ledger_entries_shop_customer_fk',
      columns: [t.shopId, t.customerId],
      foreignColumns: [customers.shopId, customers.id],
    }).onDelete('cascade'),
    // Mirrors app/models/ledger.server.ts validation, so no other writer can bypass it.
    check(
      'ledger_entries_source_known',
      sql`${t.source} IN ('order', 'refund', 'cancellation', 'redemption', 'expiry', 'adjustment', 'bonus', 'referral', 'tier')`,
    ),
    check('ledger_entries_points_range', sql`${t.points} BETWEEN -1000000000 AND 1000000000`),
    check('ledger_entries_key_length', sql`char_length(${t.idempotencyKey}) BETWEEN 1 AND 200`),
  ],
);

/** Projection of ledger_entries per customer, maintained in the same transaction as each post. */
export const customerBalances = pgTable(
  'customer_balances',
  {
    customerId: integer('customer_id')
      .primaryKey()
      .references(() => customers.id, { onDelete: 'cascade' }),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    balance: bigint('balance', { mode: 'number' }).notNull().default(0),
    /** Points earned net of reversals; redemptions and expiry do not reduce it. */
    lifetimeEarned: bigint('lifetime_earned', { mode: 'number' }).notNull().default(0),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('customer_balances_shop_idx').on(t.shopId),
    // The admin's customers list sorted by balance or lifetime points reads these in order.
    index('customer_balances_shop_balance_idx').on(t.shopId, t.balance, t.customerId),
    index('customer_balances_shop_lifetime_idx').on(t.shopId, t.lifetimeEarned, t.customerId),
  ],
);

/**
 * Projection of the purchase entries (order, refund, cancellation) per customer and calendar month
 * of the shop's timezone: what the admin's report reads instead of summing the ledger on every
 * request (docs/reports.md). Maintained by triggers in the transaction of every ledger insert, and
 * rebuilt for a shop whose timezone changes, so it always equals the entries (migration 0013).
 * A row exists once the customer has a purchase entry in that month, even when they sum to 0.
 */
export const customerMonthPoints = pgTable(
  'customer_month_points',
  {
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    customerId: integer('customer_id').notNull(),
    /** The first day of the month, in the shop's timezone. */
    month: date('month', { mode: 'string' }).notNull(),
    points: bigint('points', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.customerId, t.month] }),
    index('customer_month_points_shop_month_idx').on(t.shopId, t.month, t.customerId, t.points),
    foreignKey({
      name: 'customer_month_points_shop_customer_fk',
      columns: [t.shopId, t.customerId],
      foreignColumns: [customers.shopId, customers.id],
    }).onDelete('cascade'),
  ],
);

/**
 * Which months of a shop's report changed after they ended (migration 0014): the report page's
 * cache of a past range is used while no month in it has a newer version. Bumped (from one
 * sequence) by the customer_month_points triggers only for entries outside the writing
 * transaction's current month — backdated writes, deletes, a timezone change (month 0001-01-01) —
 * so the everyday write path, which lands in the current month, never touches it.
 */
export const reportMonthChanges = pgTable(
  'report_month_changes',
  {
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    month: date('month', { mode: 'string' }).notNull(),
    version: bigint('version', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.month] })],
);

/** Orders as Laurel has seen them (including guest and test orders that earned nothing). */
export const orders = pgTable(
  'orders',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    shopifyOrderId: text('shopify_order_id').notNull(),
    name: text('name'),
    customerId: integer('customer_id').references(() => customers.id, { onDelete: 'set null' }),
    /** Guest orders keep the email so points can be claimed when an account is created. */
    email: text('email'),
    currency: text('currency').notNull(),
    sourceName: text('source_name'),
    test: boolean('test').notNull().default(false),
    /** The amount the program earns on (default: subtotal after discounts), minor units. */
    earnAmountMinor: bigint('earn_amount_minor', { mode: 'number' }).notNull(),
    totalMinor: bigint('total_minor', { mode: 'number' }).notNull(),
    /** Business time of the order (`processed_at`): what the award's month is. */
    processedAt: tstz('processed_at'),
    /** When Laurel learned the order was paid (orders/paid); null until then. */
    paidAt: tstz('paid_at'),
    cancelledAt: tstz('cancelled_at'),
    programVersion: integer('program_version'),
    /**
     * The order's lines as the latest body gave them ({productId, amountMinor} after discounts):
     * what campaigns limited to some products count (docs/campaigns.md). Null: not known.
     */
    lines: jsonb('lines').$type<{ productId: string | null; amountMinor: number }[]>(),
    /** Set by customers/redact: the email is scrubbed and stays empty. */
    redactedAt: tstz('redacted_at'),
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('orders_shop_order_uq').on(t.shopId, t.shopifyOrderId),
    index('orders_shop_email_idx').on(t.shopId, t.email),
    // A member's orders: what their tier's spend and order count are summed from (docs/tiers.md).
    index('orders_shop_customer_idx')
      .on(t.shopId, t.customerId, t.processedAt)
      .where(sql`${t.customerId} IS NOT NULL`),
    index('orders_shop_redacted_idx')
      .on(t.shopId)
      .where(sql`${t.redactedAt} IS NOT NULL`),
    // The dashboard's purchases (paid, not cancelled, not test; docs/dashboard.md), read from the
    // indexes alone: those of a period with what the figures need, and the earlier purchases of a
    // member or a guest email (does this buyer repeat?).
    index('orders_shop_purchases_idx')
      .on(t.shopId, t.processedAt, t.customerId, t.totalMinor, t.shopifyOrderId, t.email)
      .where(sql`${t.paidAt} IS NOT NULL AND ${t.cancelledAt} IS NULL AND NOT ${t.test}`),
    index('orders_shop_member_purchases_idx')
      .on(t.shopId, t.customerId, t.processedAt)
      .where(
        sql`${t.customerId} IS NOT NULL AND ${t.paidAt} IS NOT NULL AND ${t.cancelledAt} IS NULL AND NOT ${t.test}`,
      ),
    index('orders_shop_guest_purchases_idx')
      .on(t.shopId, t.email, t.processedAt)
      .where(
        sql`${t.customerId} IS NULL AND ${t.paidAt} IS NOT NULL AND ${t.cancelledAt} IS NULL AND NOT ${t.test}`,
      ),
    check('orders_amounts_nonnegative', sql`${t.earnAmountMinor} >= 0 AND ${t.totalMinor} >= 0`),
  ],
);

/**
 * Every accepted webhook delivery, written before the 200 goes back to Shopify, so nothing
 * acknowledged is ever lost. Deduplicated on (shop, X-Shopify-Webhook-Id).
 */
export const webhookInbox = pgTable(
  'webhook_inbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    shopDomain: text('shop_domain').notNull(),
    webhookId: text('webhook_id').notNull(),
    topic: text('topic').notNull(),
    apiVersion: text('api_version'),
    /** The delivery as received. Null once pruned: processed rows keep no personal data for long. */
    payload: jsonb('payload'),
    /**
     * The body as received when jsonb cannot hold it (a `\u0000` escape): signed and accepted, so
     * kept as text, and the row is a dead letter with the reason (null otherwise). Pruned with
     * `payload`.
     */
    payloadText: text('payload_text'),
    /**
     * received → processed | dead (permanent failure, replayable by ops) | parked (the shop is not
     * installed yet: the reconciler puts the row back to received once the shop row exists).
     */
    status: text('status').notNull().default('received'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    receivedAt: tstz('received_at').notNull().defaultNow(),
    processedAt: tstz('processed_at'),
    /**
     * Set by customers/redact on a delivery about its subject still waiting to be processed: the
     * personal fields Laurel would store were stripped from the body, and the body is dropped in
     * the transaction that processes it (docs/privacy.md).
     */
    subjectRedactedAt: tstz('subject_redacted_at'),
  },
  (t) => [
    uniqueIndex('webhook_inbox_shop_webhook_uq').on(t.shopDomain, t.webhookId),
    index('webhook_inbox_status_received_idx').on(t.status, t.receivedAt),
  ],
);

/**
 * Refunds as Laurel has seen them (refunds/create, or embedded in an order body), whether or not
 * the order's award exists yet: a refund that arrives before its orders/paid waits here, and the
 * reversal is posted when the award is. Cumulative refunded merchandise is summed in id order.
 */
export const orderRefunds = pgTable(
  'order_refunds',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    shopifyOrderId: text('shopify_order_id').notNull(),
    shopifyRefundId: text('shopify_refund_id').notNull(),
    /** Refunded merchandise (line subtotals after discounts, before tax), shop currency minor units. */
    merchandiseMinor: bigint('merchandise_minor', { mode: 'number' }).notNull(),
    shippingMinor: bigint('shipping_minor', { mode: 'number' }).notNull().default(0),
    discrepancyMinor: bigint('discrepancy_minor', { mode: 'number' }).notNull().default(0),
    currency: text('currency'),
    /** Business time of the refund: the reversal's month. */
    processedAt: tstz('processed_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('order_refunds_shop_refund_uq').on(t.shopId, t.shopifyRefundId),
    index('order_refunds_shop_order_idx').on(t.shopId, t.shopifyOrderId, t.id),
    // The dashboard's refunds of a period's purchases: recorded on or after the period's start
    // (a refund follows its order), read from the index alone.
    index('order_refunds_shop_processed_idx').on(
      t.shopId,
      t.processedAt,
      t.shopifyOrderId,
      t.merchandiseMinor,
      t.shippingMinor,
    ),
    check(
      'order_refunds_amounts_nonnegative',
      sql`${t.merchandiseMinor} >= 0 AND ${t.shippingMinor} >= 0`,
    ),
  ],
);

/**
 * customers/data_request: what Laurel holds about a customer, exported once per request for the
 * merchant to pass on. Kept until the shop is redacted.
 */
export const customerDataRequests = pgTable(
  'customer_data_requests',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    /** Shopify's data_request.id. */
    dataRequestId: text('data_request_id').notNull(),
    customerId: integer('customer_id').references(() => customers.id, { onDelete: 'set null' }),
    /** The export: customer fields, balance, ledger entries, orders (see app/models/compliance.server.ts). */
    export: jsonb('export').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('customer_data_requests_shop_request_uq').on(t.shopId, t.dataRequestId)],
);

/**
 * Members whose points metafields Shopify may not show yet (docs/metafields.md). The ledger marks a
 * customer in the transaction that writes its entry: `revision` goes up by one under the row lock,
 * so it grows in commit order (a ledger entry id does not: two transactions can commit their ids
 * in the other order). The sync worker writes the balance it read together with a revision and
 * records that revision as synced; a member is pending while revision > synced_revision.
 */
export const customerMetafieldSync = pgTable(
  'customer_metafield_sync',
  {
    customerId: integer('customer_id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    /** One more for every committed transaction that changed the member's balance. */
    revision: bigint('revision', { mode: 'number' }).notNull().default(1),
    /** The newest ledger entry id the balance includes. */
    ledgerPosition: bigint('ledger_position', { mode: 'number' }).notNull(),
    /** The revision whose balance Shopify holds (0: never written). */
    syncedRevision: bigint('synced_revision', { mode: 'number' }).notNull().default(0),
    /** The newest ledger entry id the balance Shopify holds includes. */
    syncedPosition: bigint('synced_position', { mode: 'number' }),
    syncedAt: tstz('synced_at'),
    /** Failed writes of the current revision (userErrors); given up at a cap until the next change. */
    attempts: integer('attempts').notNull().default(0),
    /** After a failed write: not tried again before this (backoff); null otherwise. */
    retryAfter: tstz('retry_after'),
    lastError: text('last_error'),
  },
  (t) => [
    // What the sync job and the sweep read: only the pending members are in it.
    index('customer_metafield_sync_pending_idx')
      .on(t.shopId, t.customerId)
      .where(sql`${t.revision} > ${t.syncedRevision}`),
    foreignKey({
      name: 'customer_metafield_sync_shop_customer_fk',
      columns: [t.shopId, t.customerId],
      foreignColumns: [customers.shopId, customers.id],
    }).onDelete('cascade'),
  ],
);

/**
 * Per shop: the lease that lets one metafield sync run at a time (so an older balance is never
 * written after a newer one), and the program summary version last written to Shopify.
 */
export const shopMetafieldSync = pgTable('shop_metafield_sync', {
  shopId: integer('shop_id')
    .primaryKey()
    .references(() => shops.id, { onDelete: 'cascade' }),
  /** The run holding the lease, until lease_until (database clock); null when free. */
  leaseOwner: text('lease_owner'),
  leaseUntil: tstz('lease_until'),
  /** Program version whose summary the app-data metafield holds; null: never written. */
  programVersion: integer('program_version'),
  programSyncedAt: tstz('program_synced_at'),
  /** When Shopify's copy was last read back and found current (it is checked daily). */
  programCheckedAt: tstz('program_checked_at'),
  /** The AppInstallation gid it was written on (a reinstall is a new installation). */
  appInstallationId: text('app_installation_id'),
});

/**
 * The rewards catalog: one row per reward, its definition in reward_versions. Editing a reward
 * adds a version; archiving hides it from shoppers. Redemptions keep the version they used.
 */
export const rewards = pgTable(
  'rewards',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    /** The newest reward_versions.version: what shoppers redeem now. */
    currentVersion: integer('current_version').notNull().default(1),
    /** Display order in the catalog (ascending, then id). */
    position: integer('position').notNull().default(0),
    archivedAt: tstz('archived_at'),
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('rewards_shop_idx').on(t.shopId, t.position, t.id),
    /** Target of reward_versions' and redemptions' (shop_id, reward_id) foreign keys. */
    unique('rewards_shop_id_uq').on(t.shopId, t.id),
  ],
);

/** Reward definitions (loyalty/rewards.ts), insert-only like programs: a version explains forever. */
export const rewardVersions = pgTable(
  'reward_versions',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id').notNull(),
    rewardId: integer('reward_id').notNull(),
    version: integer('version').notNull(),
    /** The normalised RewardDefinition. */
    definition: jsonb('definition').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('reward_versions_shop_reward_version_uq').on(t.shopId, t.rewardId, t.version),
    foreignKey({
      name: 'reward_versions_shop_reward_fk',
      columns: [t.shopId, t.rewardId],
      foreignColumns: [rewards.shopId, rewards.id],
    }).onDelete('cascade'),
  ],
);

/**
 * One redemption: the debit that paid for it and what Shopify was asked to create (docs/redemption.md).
 * pending → issued | credited | failed; issued → used | expired | refunded.
 */
export const redemptions = pgTable(
  'redemptions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    customerId: integer('customer_id').notNull(),
    rewardId: integer('reward_id').notNull(),
    rewardVersion: integer('reward_version').notNull(),
    /** The shopper's request id (Idempotency-Key): one per redemption of that customer. */
    requestId: text('request_id').notNull(),
    status: text('status').notNull(),
    points: integer('points').notNull(),
    /** The IssuedValue asked of Shopify (amount, percentage, variant…). */
    value: jsonb('value').notNull(),
    /** The discount code (chosen before Shopify is called, so an unsure create can be looked up). */
    code: text('code'),
    shopifyDiscountId: text('shopify_discount_id'),
    storeCreditTransactionId: text('store_credit_transaction_id'),
    debitEntryId: bigint('debit_entry_id', { mode: 'number' }).notNull(),
    /** The compensating entry that gave the points back (failed or refunded). */
    returnEntryId: bigint('return_entry_id', { mode: 'number' }),
    expiresAt: tstz('expires_at'),
    issuedAt: tstz('issued_at'),
    usedAt: tstz('used_at'),
    shopifyOrderId: text('shopify_order_id'),
    /** When it became failed, expired or refunded. */
    closedAt: tstz('closed_at'),
    /** Why Shopify did not create it (failed), in words a merchant can act on. */
    failureReason: text('failure_reason'),
    /** Calls to Shopify so far (issue and reconcile). */
    attempts: integer('attempts').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('redemptions_shop_customer_request_uq').on(t.shopId, t.customerId, t.requestId),
    // Shopify compares codes without case; so does the lookup from an order's discount codes.
    uniqueIndex('redemptions_shop_code_uq')
      .on(t.shopId, sql`upper(${t.code})`)
      .where(sql`${t.code} IS NOT NULL`),
    index('redemptions_shop_customer_idx').on(t.shopId, t.customerId, t.createdAt),
    index('redemptions_shop_status_idx').on(t.shopId, t.status, t.createdAt),
    // The expiry sweep and the pending reconciler read only these.
    index('redemptions_open_expiry_idx')
      .on(t.expiresAt)
      .where(sql`${t.status} = 'issued' AND ${t.expiresAt} IS NOT NULL`),
    index('redemptions_pending_idx')
      .on(t.updatedAt)
      .where(sql`${t.status} = 'pending'`),
    foreignKey({
      name: 'redemptions_shop_customer_fk',
      columns: [t.shopId, t.customerId],
      foreignColumns: [customers.shopId, customers.id],
    }).onDelete('cascade'),
    foreignKey({
      name: 'redemptions_shop_reward_fk',
      columns: [t.shopId, t.rewardId],
      foreignColumns: [rewards.shopId, rewards.id],
    }).onDelete('cascade'),
    check(
      'redemptions_status_known',
      sql`${t.status} IN ('pending', 'issued', 'credited', 'failed', 'used', 'expired', 'refunded')`,
    ),
    check('redemptions_points_positive', sql`${t.points} > 0`),
    check('redemptions_request_id_length', sql`char_length(${t.requestId}) BETWEEN 1 AND 64`),
  ],
);

/**
 * Tier programs (loyalty/tiers.ts), versioned like earn programs: a change is a new row effective
 * from its time; rows are never updated, so every tier change and multiplier names its version.
 */
export const tierPrograms = pgTable(
  'tier_programs',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    effectiveFrom: tstz('effective_from').notNull(),
    /** The normalised TierProgramDefinition. */
    definition: jsonb('definition').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('tier_programs_shop_version_uq').on(t.shopId, t.version),
    index('tier_programs_shop_effective_idx').on(t.shopId, t.effectiveFrom),
  ],
);

/**
 * Each member's tier as last evaluated (docs/tiers.md). A projection: every change is also a ledger
 * entry (source `tier`) saying why, so the history explains it; this row is what the evaluation,
 * the multiplier and the sync read.
 */
export const customerTiers = pgTable(
  'customer_tiers',
  {
    customerId: integer('customer_id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    /** Null: below the lowest tier. */
    tierKey: text('tier_key'),
    /** The tier program version that placed the member here. */
    tierVersion: integer('tier_version').notNull(),
    /** When the member entered tierKey. */
    since: tstz('since').notNull(),
    /** Protection end (loyalty/tiers.ts TierStanding.heldUntil); null: while it qualifies. */
    heldUntil: tstz('held_until'),
    /** When the member moves down if nothing happens first (for the daily job and the storefront). */
    downgradeAt: tstz('downgrade_at'),
    /** The metric over the window at the last evaluation (minor units, points or orders). */
    metricValue: bigint('metric_value', { mode: 'number' }).notNull().default(0),
    evaluatedAt: tstz('evaluated_at').notNull(),
    /** Tier changes so far: the next change's ledger key is `tier:<customer>:change:<changes+1>`. */
    changes: integer('changes').notNull().default(0),
    /** The tier tag Shopify has on the customer (the sync removes it when the tier changes). */
    syncedTag: text('synced_tag'),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('customer_tiers_shop_tier_idx').on(t.shopId, t.tierKey),
    index('customer_tiers_downgrade_idx')
      .on(t.shopId, t.downgradeAt)
      .where(sql`${t.downgradeAt} IS NOT NULL`),
    foreignKey({
      name: 'customer_tiers_shop_customer_fk',
      columns: [t.shopId, t.customerId],
      foreignColumns: [customers.shopId, customers.id],
    }).onDelete('cascade'),
  ],
);

/** The daily tier run per shop and local day: what makes the roll-over job idempotent per day. */
export const tierDailyRuns = pgTable(
  'tier_daily_runs',
  {
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    /** The shop-local calendar day the run is for. */
    localDay: date('local_day', { mode: 'string' }).notNull(),
    startedAt: tstz('started_at').notNull().defaultNow(),
    finishedAt: tstz('finished_at'),
    evaluated: integer('evaluated').notNull().default(0),
    changed: integer('changed').notNull().default(0),
  },
  (t) => [uniqueIndex('tier_daily_runs_shop_day_uq').on(t.shopId, t.localDay)],
);

/**
 * What Laurel created at Shopify for a tier's perks: the customer segment of the tier's tag and the
 * automatic free-shipping discount limited to it. One row per shop and tier key.
 */
export const tierPerks = pgTable(
  'tier_perks',
  {
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    tierKey: text('tier_key').notNull(),
    segmentId: text('segment_id'),
    freeShippingDiscountId: text('free_shipping_discount_id'),
    /** Tier program version these objects match; null: never synced. */
    syncedVersion: integer('synced_version'),
    lastError: text('last_error'),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('tier_perks_shop_tier_uq').on(t.shopId, t.tierKey)],
);

/** Early-access windows (loyalty/early-access.ts): stored here, mirrored to Shopify. */
export const earlyAccessWindows = pgTable(
  'early_access_windows',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** product | collection */
    targetType: text('target_type').notNull(),
    /** Shopify numeric id of the product or collection. */
    targetId: text('target_id').notNull(),
    /** Product or collection title when saved (for the admin list). */
    targetTitle: text('target_title'),
    /** The EarlyAccessWindowDefinition as saved. */
    definition: jsonb('definition').notNull(),
    /** Epoch of the first stage and of everyoneAt, for listing and pruning. */
    startsAt: tstz('starts_at').notNull(),
    endsAt: tstz('ends_at').notNull(),
    archivedAt: tstz('archived_at'),
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('early_access_windows_shop_target_idx').on(t.shopId, t.targetType, t.targetId),
    check('early_access_windows_target_type', sql`${t.targetType} IN ('product', 'collection')`),
    check('early_access_windows_ends_after_start', sql`${t.endsAt} > ${t.startsAt}`),
  ],
);

/**
 * Per product: the `$app.early_access` metafield Shopify should hold (mirror null: remove it) and
 * what it holds. revision grows with every change of the desired value; the sync writes and records
 * the revision it wrote, so a product is pending while revision > synced_revision.
 */
export const earlyAccessProducts = pgTable(
  'early_access_products',
  {
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    productId: text('product_id').notNull(),
    /** The ProductMirror to write; null when no window covers the product any more. */
    mirror: jsonb('mirror'),
    revision: bigint('revision', { mode: 'number' }).notNull().default(1),
    syncedRevision: bigint('synced_revision', { mode: 'number' }).notNull().default(0),
    syncedAt: tstz('synced_at'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [
    uniqueIndex('early_access_products_shop_product_uq').on(t.shopId, t.productId),
    index('early_access_products_pending_idx')
      .on(t.shopId)
      .where(sql`${t.revision} > ${t.syncedRevision}`),
  ],
);

/**
 * Per shop: the cart-and-checkout validation Laurel created for its Function, and the time slots
 * (loyalty/early-access.ts functionTimeSlots) its `$app.early_access_times` metafield holds.
 */
export const shopEarlyAccess = pgTable('shop_early_access', {
  shopId: integer('shop_id')
    .primaryKey()
    .references(() => shops.id, { onDelete: 'cascade' }),
  /** gid://shopify/Validation/…; null until created. */
  validationId: text('validation_id'),
  /** The slots last written. */
  syncedTimes: jsonb('synced_times'),
  syncedAt: tstz('synced_at'),
  lastError: text('last_error'),
});

/** Referral program versions (loyalty/referrals.ts): insert-only, like earn and tier programs. */
export const referralPrograms = pgTable(
  'referral_programs',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    effectiveFrom: tstz('effective_from').notNull(),
    /** The normalised ReferralProgramDefinition. */
    definition: jsonb('definition').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('referral_programs_shop_version_uq').on(t.shopId, t.version),
    index('referral_programs_shop_effective_idx').on(t.shopId, t.effectiveFrom),
  ],
);

/**
 * Each member's referral code (stable: made once, never changed) and the friend discount code it
 * was added to the shop's friend discount as. `pending` until Shopify has the code; only an
 * `active` code reaches the storefront (the `$app.referral_code` metafield).
 */
export const referralCodes = pgTable(
  'referral_codes',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    customerId: integer('customer_id').notNull(),
    /** loyalty/referrals.ts CODE_ALPHABET × CODE_LENGTH, upper case: the share link's. */
    code: text('code').notNull(),
    /** The code friends type or get from the link: the program's prefix + code, upper case. */
    friendCode: text('friend_code').notNull(),
    /** pending | active | failed */
    status: text('status').notNull().default('pending'),
    /** Why Shopify refused the code (status failed). */
    lastError: text('last_error'),
    createdAt: createdAt(),
    activatedAt: tstz('activated_at'),
  },
  (t) => [
    uniqueIndex('referral_codes_shop_customer_uq').on(t.shopId, t.customerId),
    uniqueIndex('referral_codes_shop_code_uq').on(t.shopId, t.code),
    uniqueIndex('referral_codes_shop_friend_code_uq').on(t.shopId, t.friendCode),
    index('referral_codes_pending_idx')
      .on(t.shopId)
      .where(sql`${t.status} = 'pending'`),
    foreignKey({
      name: 'referral_codes_shop_customer_fk',
      columns: [t.shopId, t.customerId],
      foreignColumns: [customers.shopId, customers.id],
    }).onDelete('cascade'),
  ],
);

/**
 * The shop's friend discount at Shopify: one code discount (new customers only, once per customer)
 * holding every member's friend code, so a friend can use one referral code, once.
 */
export const referralDiscounts = pgTable('referral_discounts', {
  shopId: integer('shop_id')
    .primaryKey()
    .references(() => shops.id, { onDelete: 'cascade' }),
  /** The DiscountCodeNode gid. */
  discountId: text('discount_id'),
  /** The "customers with no orders" segment the discount is limited to. */
  segmentId: text('segment_id'),
  /** Referral program version the discount's value and minimum match; null: never synced. */
  syncedVersion: integer('synced_version'),
  lastError: text('last_error'),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/**
 * Share-link landings (/apps/loyalty/r/<code>), for the click count and the per-IP limit. The IP is
 * kept only as a keyed hash (docs/privacy.md).
 */
export const referralClicks = pgTable(
  'referral_clicks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    /** Null: the code was unknown (counted for the per-IP limit only). */
    codeId: integer('code_id').references(() => referralCodes.id, { onDelete: 'cascade' }),
    ipHash: text('ip_hash'),
    /** redirected | unknown_code | inactive_code | disabled */
    outcome: text('outcome').notNull(),
    at: tstz('at').notNull().defaultNow(),
  },
  (t) => [
    index('referral_clicks_shop_code_idx').on(t.shopId, t.codeId, t.at),
    index('referral_clicks_shop_ip_idx').on(t.shopId, t.ipHash, t.at),
  ],
);

/**
 * A friend's first order with a referrer's code, and what came of it (loyalty/referrals.ts
 * ReferralStatus): rewarded, held for review, rejected, or reversed — with every reason.
 */
export const referrals = pgTable(
  'referrals',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    referrerCustomerId: integer('referrer_customer_id').notNull(),
    /** Null: a guest order (the friend has no account). */
    friendCustomerId: integer('friend_customer_id'),
    codeId: integer('code_id')
      .notNull()
      .references(() => referralCodes.id, { onDelete: 'cascade' }),
    /** Shopify order id of the friend's order. */
    shopifyOrderId: text('shopify_order_id').notNull(),
    /** `#1002`. */
    orderName: text('order_name').notNull(),
    /** The discount code as the order carried it. */
    discountCode: text('discount_code').notNull(),
    programVersion: integer('program_version').notNull(),
    /** rewarded | held | rejected | reversed */
    status: text('status').notNull(),
    /** ReferralReason[]: every rule that matched, and review decisions. */
    reasons: jsonb('reasons').notNull().default([]),
    /** The order's earn amount when paid, minor units. */
    orderAmountMinor: bigint('order_amount_minor', { mode: 'number' }).notNull(),
    paidAt: tstz('paid_at').notNull(),
    ipHash: text('ip_hash'),
    /** Points given to the referrer (0 until rewarded); the reversal takes exactly these back. */
    rewardPoints: integer('reward_points').notNull().default(0),
    reviewedBy: text('reviewed_by'),
    reviewedAt: tstz('reviewed_at'),
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('referrals_shop_order_uq').on(t.shopId, t.shopifyOrderId),
    index('referrals_shop_referrer_idx').on(t.shopId, t.referrerCustomerId, t.paidAt),
    index('referrals_shop_friend_idx').on(t.shopId, t.friendCustomerId),
    index('referrals_shop_status_idx').on(t.shopId, t.status, t.paidAt),
    index('referrals_shop_ip_idx').on(t.shopId, t.ipHash, t.paidAt),
  ],
);

/**
 * Contact details seen for a customer (order shipping addresses and phones, account emails), kept
 * only as keyed hashes of loyalty/contact-keys.ts matchableEmail / addressKey / phoneKey — enough to
 * say two customers share one, never what it is. Deleted with the customer's redaction.
 */
export const customerFingerprints = pgTable(
  'customer_fingerprints',
  {
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    customerId: integer('customer_id').notNull(),
    /** email | address | phone */
    kind: text('kind').notNull(),
    hash: text('hash').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('customer_fingerprints_uq').on(t.shopId, t.customerId, t.kind, t.hash),
    index('customer_fingerprints_hash_idx').on(t.shopId, t.kind, t.hash),
    foreignKey({
      name: 'customer_fingerprints_shop_customer_fk',
      columns: [t.shopId, t.customerId],
      foreignColumns: [customers.shopId, customers.id],
    }).onDelete('cascade'),
  ],
);

/**
 * A random key per shop for the keyed hashes of contact details and IP addresses
 * (customer_fingerprints, referral_clicks.ip_hash): equal inputs match within a shop, and nothing
 * matches across shops.
 */
export const shopFingerprintKeys = pgTable('shop_fingerprint_keys', {
  shopId: integer('shop_id')
    .primaryKey()
    .references(() => shops.id, { onDelete: 'cascade' }),
  /** 32 random bytes, hex. */
  key: text('key').notNull(),
  createdAt: createdAt(),
});

/**
 * History imports started from the admin (docs/import.md): the uploaded file waits here for the
 * import job, which records progress as it goes, so a reloaded page (or another staff member)
 * sees where it is. The file is dropped once the import has finished; its outcome stays.
 */
export const historyImports = pgTable(
  'history_imports',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    fileName: text('file_name').notNull(),
    /** shopify (Admin → Orders → Export) | transactions (customer_id,date,amount…) */
    format: text('format').notNull(),
    /** queued → running → done | failed */
    status: text('status').notNull().default('queued'),
    /** The file as uploaded (UTF-8 CSV); null once the import has finished. */
    content: text('content'),
    bytes: integer('bytes').notNull(),
    totalRows: integer('total_rows').notNull(),
    processedRows: integer('processed_rows').notNull().default(0),
    /** What the import did: posted, alreadyPresent, ordersRecorded, ordersAttached, guestOrders… */
    counts: jsonb('counts').notNull().default({}),
    /** Rows imported without effect, each `{line, reason}` (the first 1,000). */
    skipped: jsonb('skipped').notNull().default([]),
    skippedCount: integer('skipped_count').notNull().default(0),
    /** Why a failed import stopped. */
    error: text('error'),
    /** The staff member who started it (app/admin-request.server.ts StaffMember). */
    startedBy: jsonb('started_by').notNull(),
    createdAt: createdAt(),
    startedAt: tstz('started_at'),
    finishedAt: tstz('finished_at'),
  },
  (t) => [
    index('history_imports_shop_idx').on(t.shopId, t.id),
    // One import at a time per shop: a second upload while one is queued or running is refused.
    uniqueIndex('history_imports_one_active_idx')
      .on(t.shopId)
      .where(sql`${t.status} IN ('queued', 'running')`),
    check(
      'history_imports_status_known',
      sql`${t.status} IN ('queued', 'running', 'done', 'failed')`,
    ),
    check('history_imports_format_known', sql`${t.format} IN ('shopify', 'transactions')`),
  ],
);

/**
 * Points moved per shop, UTC day, ledger source and sign (`credit`: points ≥ 0): a projection of
 * ledger_entries written by a trigger in the same statement as each insert (migration 0013), so
 * the dashboard and the liability rollforward sum a few thousand rows instead of a million
 * entries. Append-only: the trigger inserts one row per (day, source, sign) of each INSERT
 * statement and never updates one, so concurrent ledger writers never wait on each other here;
 * app/models/movements.server.ts folds a shop's rows together (`compacted`) when they pile up.
 * Design and measurements: docs/liability.md, "How it stays fast".
 */
export const ledgerDailyMovements = pgTable(
  'ledger_daily_movements',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    /** The UTC calendar day of the entries' occurred_at. */
    day: date('day', { mode: 'string' }).notNull(),
    source: text('source').notNull(),
    credit: boolean('credit').notNull(),
    points: bigint('points', { mode: 'number' }).notNull(),
    entries: integer('entries').notNull(),
    /** False for rows the trigger wrote; true for a folded row (one per day, source and sign). */
    compacted: boolean('compacted').notNull().default(false),
  },
  (t) => [
    index('ledger_daily_movements_shop_day_idx').on(t.shopId, t.day),
    index('ledger_daily_movements_loose_idx')
      .on(t.shopId)
      .where(sql`NOT ${t.compacted}`),
  ],
);

/**
 * The same projection per UTC hour (`hour`: its first instant), written by the same trigger: what
 * the days a range starts or ends inside are read from, so a boundary at a shop-local midnight —
 * a whole UTC hour in most timezones — costs a few rows instead of a day of ledger entries.
 */
export const ledgerHourlyMovements = pgTable(
  'ledger_hourly_movements',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    hour: tstz('hour').notNull(),
    source: text('source').notNull(),
    credit: boolean('credit').notNull(),
    points: bigint('points', { mode: 'number' }).notNull(),
    entries: integer('entries').notNull(),
    compacted: boolean('compacted').notNull().default(false),
  },
  (t) => [
    index('ledger_hourly_movements_shop_hour_idx').on(t.shopId, t.hour),
    index('ledger_hourly_movements_loose_idx')
      .on(t.shopId)
      .where(sql`NOT ${t.compacted}`),
  ],
);

/**
 * The latest occurred_at of each customer's ledger entries, written by the same trigger: which
 * balances are dormant (no entry for 12 months) without probing the ledger once per member.
 */
export const customerLedgerActivity = pgTable(
  'customer_ledger_activity',
  {
    customerId: integer('customer_id')
      .primaryKey()
      .references(() => customers.id, { onDelete: 'cascade' }),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    lastOccurredAt: tstz('last_occurred_at').notNull(),
  },
  (t) => [index('customer_ledger_activity_shop_last_idx').on(t.shopId, t.lastOccurredAt)],
);

/**
 * Each member's first purchase (paid, not cancelled, not test: docs/dashboard.md), kept by
 * triggers on `orders` in the writer's transaction. The dashboard's repeat-purchase rate joins a
 * period's buyers to it once instead of probing every single-purchase buyer's earlier orders.
 * Null while the member has no purchase (a row is kept so concurrent writers lock it).
 */
export const customerFirstPurchases = pgTable(
  'customer_first_purchases',
  {
    customerId: integer('customer_id')
      .primaryKey()
      .references(() => customers.id, { onDelete: 'cascade' }),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    firstPurchaseAt: tstz('first_purchase_at'),
  },
  (t) => [
    index('customer_first_purchases_shop_first_idx').on(t.shopId, t.firstPurchaseAt, t.customerId),
  ],
);

// [10] lots and expiry (docs/expiry.md)

/**
 * Expiry settings, versioned like programs: a change is a new row effective from its time, never
 * an update, so every expiry entry names the version it applied.
 */
export const expiryPolicies = pgTable(
  'expiry_policies',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    effectiveFrom: tstz('effective_from').notNull(),
    /** never | lot | inactivity (loyalty/lots.ts ExpiryPolicy). */
    mode: text('mode').notNull(),
    /** 1–120 for lot and inactivity; null for never. */
    months: integer('months'),
    /** Days before expiry a reminder goes out: up to 5 distinct values, 1–365. */
    reminderDays: jsonb('reminder_days').$type<number[]>().notNull().default([]),
    reminderEmail: boolean('reminder_email').notNull().default(false),
    reminderShopify: boolean('reminder_shopify').notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('expiry_policies_shop_version_uq').on(t.shopId, t.version),
    index('expiry_policies_shop_effective_idx').on(t.shopId, t.effectiveFrom),
    check('expiry_policies_mode_known', sql`${t.mode} IN ('never', 'lot', 'inactivity')`),
    check(
      'expiry_policies_months_range',
      sql`(${t.mode} = 'never' AND ${t.months} IS NULL) OR (${t.mode} <> 'never' AND ${t.months} BETWEEN 1 AND 120)`,
    ),
  ],
);

/**
 * Where each member's lots stood when the expiry run last read them: the earliest instant any of
 * their points expire, and the balance row it was computed from. The run only rereads the ledger
 * of members whose balance row changed since, whose next expiry is near, or who were computed
 * under another policy version (docs/expiry.md, "Finding who is due").
 */
export const customerLotStates = pgTable(
  'customer_lot_states',
  {
    customerId: integer('customer_id')
      .primaryKey()
      .references(() => customers.id, { onDelete: 'cascade' }),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    policyVersion: integer('policy_version').notNull(),
    /** Null: nothing of what remains will expire under that version. */
    nextExpiresAt: tstz('next_expires_at'),
    /** customer_balances.updated_at and balance as read under the member's lock. */
    seenUpdatedAt: tstz('seen_updated_at').notNull(),
    seenBalance: bigint('seen_balance', { mode: 'number' }).notNull(),
    /**
     * What remains to expire after computed_at, by instant: [{ at, lastDay, points }]. The admin's
     * points-due-per-month sums it instead of rereading every ledger.
     */
    schedule: jsonb('schedule')
      .$type<{ at: string; lastDay: string; points: number }[]>()
      .notNull()
      .default([]),
    computedAt: tstz('computed_at').notNull(),
  },
  (t) => [index('customer_lot_states_shop_next_idx').on(t.shopId, t.nextExpiresAt)],
);

/** The daily lifecycle run (expiry, then reminders, …) per shop and local day: once per day. */
export const lifecycleDailyRuns = pgTable(
  'lifecycle_daily_runs',
  {
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    localDay: date('local_day', { mode: 'string' }).notNull(),
    startedAt: tstz('started_at').notNull().defaultNow(),
    finishedAt: tstz('finished_at'),
    /** Each step's summary (counts only), by step name. */
    results: jsonb('results').notNull().default({}),
  },
  (t) => [uniqueIndex('lifecycle_daily_runs_shop_day_uq').on(t.shopId, t.localDay)],
);

/**
 * One reminder: these lots of a member expire at expires_at, reminded `threshold_days` before.
 * Ids and amounts only (docs/expiry.md, "Privacy").
 */
export const expiryReminders = pgTable(
  'expiry_reminders',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    customerId: integer('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    thresholdDays: integer('threshold_days').notNull(),
    expiresAt: tstz('expires_at').notNull(),
    /** The last local day the points can be used. */
    lastDay: date('last_day', { mode: 'string' }).notNull(),
    points: integer('points').notNull(),
    /** The member's balance when the reminder was made. */
    balance: bigint('balance', { mode: 'number' }).notNull(),
    /** [{ entryId, points }]: the lots it covers, with what remained of each. */
    lots: jsonb('lots').$type<{ entryId: number; points: number }[]>().notNull(),
    /** The smallest entry id of `lots`: lots reminded once each make it unique per part. */
    firstEntryId: bigint('first_entry_id', { mode: 'number' }).notNull(),
    policyVersion: integer('policy_version').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('expiry_reminders_member_instant_uq').on(
      t.shopId,
      t.customerId,
      t.expiresAt,
      t.thresholdDays,
      t.firstEntryId,
    ),
    index('expiry_reminders_shop_created_idx').on(t.shopId, t.createdAt),
  ],
);

/** Each lot reminded at each threshold for each expiry instant: never twice (the primary key). */
export const expiryReminderLots = pgTable(
  'expiry_reminder_lots',
  {
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    entryId: bigint('entry_id', { mode: 'number' }).notNull(),
    expiresAt: tstz('expires_at').notNull(),
    thresholdDays: integer('threshold_days').notNull(),
    reminderId: bigint('reminder_id', { mode: 'number' })
      .notNull()
      .references(() => expiryReminders.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.entryId, t.expiresAt, t.thresholdDays] })],
);

/**
 * A reminder through one channel: pending → sent | skipped (with reason) | failed (after its
 * attempts, or interrupted mid-send: never sent twice). `sending` while a worker holds it.
 */
export const reminderDeliveries = pgTable(
  'reminder_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    reminderId: bigint('reminder_id', { mode: 'number' })
      .notNull()
      .references(() => expiryReminders.id, { onDelete: 'cascade' }),
    channel: text('channel').notNull(),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tstz('next_attempt_at').notNull().defaultNow(),
    /** Why it was skipped or the last failure (no personal data). */
    reason: text('reason'),
    /** What the notifier said when it sent (a message id). */
    detail: text('detail'),
    sentAt: tstz('sent_at'),
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('reminder_deliveries_reminder_channel_uq').on(t.reminderId, t.channel),
    index('reminder_deliveries_shop_status_idx').on(t.shopId, t.status, t.nextAttemptAt),
    check('reminder_deliveries_channel_known', sql`${t.channel} IN ('email', 'shopify')`),
    check(
      'reminder_deliveries_status_known',
      sql`${t.status} IN ('pending', 'sending', 'sent', 'skipped', 'failed')`,
    ),
  ],
);

// [10] bonuses

/**
 * Bonus programs (loyalty/bonuses.ts, docs/bonuses.md): birthday, newsletter and social follow
 * points, versioned like earn programs — a change is a new row, so every bonus entry's
 * `bonusVersion` explains it forever.
 */
export const bonusPrograms = pgTable(
  'bonus_programs',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    effectiveFrom: tstz('effective_from').notNull(),
    /** The normalised BonusProgramDefinition. */
    definition: jsonb('definition').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('bonus_programs_shop_version_uq').on(t.shopId, t.version),
    index('bonus_programs_shop_effective_idx').on(t.shopId, t.effectiveFrom),
  ],
);

/**
 * A member's birthday for the birthday bonus: month and day only, never a year (privacy), where it
 * came from (`storefront` block or `metafield` facts.birth_date) and when it was last set — it may
 * change once per 12 months. Deleted by customers/redact.
 */
export const customerBirthdays = pgTable(
  'customer_birthdays',
  {
    customerId: integer('customer_id')
      .primaryKey()
      .references(() => customers.id, { onDelete: 'cascade' }),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    month: integer('month').notNull(),
    day: integer('day').notNull(),
    source: text('source').notNull(),
    setAt: tstz('set_at').notNull(),
  },
  (t) => [
    index('customer_birthdays_shop_month_idx').on(t.shopId, t.month),
    check('customer_birthdays_month_range', sql`${t.month} BETWEEN 1 AND 12`),
    check('customer_birthdays_day_range', sql`${t.day} BETWEEN 1 AND 31`),
    check('customer_birthdays_source', sql`${t.source} IN ('storefront', 'metafield')`),
  ],
);

/**
 * Every social follow claim a member made (awarded or not): the rate limit counts them
 * (loyalty/bonuses.ts socialClaimAllowed). Holds no personal data beyond the member's id.
 */
export const socialFollowClaims = pgTable(
  'social_follow_claims',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    customerId: integer('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    network: text('network').notNull(),
    claimedAt: tstz('claimed_at').notNull(),
  },
  (t) => [index('social_follow_claims_member_idx').on(t.shopId, t.customerId, t.claimedAt)],
);

// [10] campaigns
/**
 * Campaigns (docs/campaigns.md): a multiplier or a fixed bonus per order over [starts_at, ends_at),
 * typed as shop-local date-times (kept as typed in *_local). Editable until it starts; after that
 * only "end now" (ended_at), never rewriting what awards recorded. The effective end is
 * least(ends_at, ended_at).
 */
export const campaigns = pgTable(
  'campaigns',
  {
    id: serial('id').primaryKey(),
    shopId: integer('shop_id')
      .notNull()
      .references(() => shops.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** multiplier | bonus */
    kind: text('kind').notNull(),
    /** Multiplier campaigns: basis points, > 10000 and ≤ 100000. */
    factorBps: integer('factor_bps'),
    /** Bonus campaigns: points per qualifying order. */
    bonusPoints: integer('bonus_points'),
    /** Bonus campaigns: the minimum eligible amount, shop currency minor units. */
    minimumMinor: bigint('minimum_minor', { mode: 'number' }),
    /** all | products | collections */
    scope: text('scope').notNull(),
    /** Product ids (scope products) or collection ids (collections), as chosen. */
    targetIds: jsonb('target_ids').$type<string[]>().notNull().default([]),
    /** The eligible product ids: the chosen ones, or the collections' products when saved. */
    productIds: jsonb('product_ids').$type<string[]>().notNull().default([]),
    /** multiply | best: how the campaign's multiplier meets the member's tier. */
    stacking: text('stacking').notNull().default('multiply'),
    startsAt: tstz('starts_at').notNull(),
    endsAt: tstz('ends_at').notNull(),
    startsAtLocal: text('starts_at_local').notNull(),
    endsAtLocal: text('ends_at_local').notNull(),
    /** "End now": the moment the merchant ended it early. */
    endedAt: tstz('ended_at'),
    /** The staff member who created it (the admin session's user), when known. */
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('campaigns_shop_starts_idx').on(t.shopId, t.startsAt),
    check('campaigns_kind', sql`${t.kind} IN ('multiplier', 'bonus')`),
    check('campaigns_scope', sql`${t.scope} IN ('all', 'products', 'collections')`),
    check('campaigns_stacking', sql`${t.stacking} IN ('multiply', 'best')`),
    check('campaigns_ends_after_start', sql`${t.endsAt} > ${t.startsAt}`),
    check(
      'campaigns_amounts',
      sql`(${t.kind} = 'multiplier' AND ${t.factorBps} > 10000 AND ${t.factorBps} <= 100000 AND ${t.bonusPoints} IS NULL)
        OR (${t.kind} = 'bonus' AND ${t.bonusPoints} BETWEEN 1 AND 1000000 AND ${t.factorBps} IS NULL)`,
    ),
  ],
);

/**
 * Redemptions as stored: reads for the shopper's surfaces (app proxy, checkout, account) and the
 * admin. Writing them — the balance-checked debit, Shopify's answer, usage and expiry — is in
 * app/redemption.server.ts and its models. Lifecycle: docs/redemption.md.
 */
import { and, desc, eq, ilike, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customers, redemptions, rewardVersions } from '../../db/schema';
import type { IssuedValue, RewardDefinition } from '../../loyalty/rewards';

export const REDEMPTION_STATUSES = [
  'pending',
  'issued',
  'credited',
  'failed',
  'used',
  'expired',
  'refunded',
] as const;
export type RedemptionStatus = (typeof REDEMPTION_STATUSES)[number];

export type Redemption = Omit<typeof redemptions.$inferSelect, 'status' | 'value'> & {
  status: RedemptionStatus;
  value: IssuedValue;
};

/** A redemption with the title of the reward version it used (what the shopper redeemed). */
export type RedemptionWithTitle = Redemption & { title: string; rewardType: string };

export const MAX_REDEMPTIONS_PAGE = 100;

export interface RedemptionFilter {
  customerId?: number;
  statuses?: readonly RedemptionStatus[];
  rewardId?: number;
  /**
   * The admin's customer search: a Shopify customer id (`7001` or `gid://shopify/Customer/7001`)
   * matches that customer exactly; any other text matches part of the email or the name, ignoring
   * case.
   */
  customerSearch?: string;
  /** Keyset paging: only redemptions with a smaller id. */
  beforeId?: number;
  /** 1–100, default 50. */
  limit?: number;
}

const SHOPIFY_CUSTOMER_ID = /^(?:gid:\/\/shopify\/Customer\/)?([1-9][0-9]{0,19})$/;

/** `text` as a LIKE pattern matching itself anywhere (its % and _ taken literally). */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function customerCondition(search: string): SQL {
  const term = search.trim();
  const id = SHOPIFY_CUSTOMER_ID.exec(term);
  if (id) return eq(customers.externalId, id[1]!);
  const pattern = containing(term);
  return or(
    ilike(customers.email, pattern),
    ilike(sql`concat_ws(' ', ${customers.firstName}, ${customers.lastName})`, pattern),
  )!;
}

function filterConditions(shopId: number, filter: RedemptionFilter): SQL[] {
  const conditions: SQL[] = [eq(redemptions.shopId, shopId)];
  if (filter.customerId !== undefined)
    conditions.push(eq(redemptions.customerId, filter.customerId));
  if (filter.statuses && filter.statuses.length > 0) {
    conditions.push(inArray(redemptions.status, [...filter.statuses]));
  }
  if (filter.rewardId !== undefined) conditions.push(eq(redemptions.rewardId, filter.rewardId));
  if (filter.beforeId !== undefined) conditions.push(lt(redemptions.id, filter.beforeId));
  if (filter.customerSearch !== undefined && filter.customerSearch.trim() !== '') {
    conditions.push(customerCondition(filter.customerSearch));
  }
  return conditions;
}

const pageSize = (limit: number | undefined) =>
  Math.min(Math.max(Math.trunc(limit ?? 50), 1), MAX_REDEMPTIONS_PAGE);

const versionJoin = and(
  eq(rewardVersions.shopId, redemptions.shopId),
  eq(rewardVersions.rewardId, redemptions.rewardId),
  eq(rewardVersions.version, redemptions.rewardVersion),
);
const customerJoin = and(
  eq(customers.shopId, redemptions.shopId),
  eq(customers.id, redemptions.customerId),
);

/** Newest first, with the redeemed version's title. Every query is the shop's own. */
export async function searchRedemptions(
  db: Executor,
  shopId: number,
  filter: RedemptionFilter = {},
): Promise<RedemptionWithTitle[]> {
  const query = db
    .select({ redemption: redemptions, definition: rewardVersions.definition })
    .from(redemptions)
    .innerJoin(rewardVersions, versionJoin)
    .$dynamic();
  // The customer search reads the customers table; other reads need not join it.
  const rows = await (
    filter.customerSearch?.trim() ? query.innerJoin(customers, customerJoin) : query
  )
    .where(and(...filterConditions(shopId, filter)))
    .orderBy(desc(redemptions.id))
    .limit(pageSize(filter.limit));
  return rows.map(({ redemption, definition }) => {
    const def = definition as RewardDefinition;
    return { ...(redemption as Redemption), title: def.title, rewardType: def.type };
  });
}

/** Who redeemed, as the admin shows them (personal fields are null once redacted). */
export interface RedemptionCustomer {
  /** The Shopify customer id. */
  externalId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
}

export type AdminRedemption = RedemptionWithTitle & { customer: RedemptionCustomer };

/** The admin's redemptions list: {@link searchRedemptions} with the customer of each. */
export async function searchRedemptionsWithCustomers(
  db: Executor,
  shopId: number,
  filter: RedemptionFilter = {},
): Promise<AdminRedemption[]> {
  const rows = await db
    .select({
      redemption: redemptions,
      definition: rewardVersions.definition,
      customer: {
        externalId: customers.externalId,
        email: customers.email,
        firstName: customers.firstName,
        lastName: customers.lastName,
      },
    })
    .from(redemptions)
    .innerJoin(rewardVersions, versionJoin)
    .innerJoin(customers, customerJoin)
    .where(and(...filterConditions(shopId, filter)))
    .orderBy(desc(redemptions.id))
    .limit(pageSize(filter.limit));
  return rows.map(({ redemption, definition, customer }) => {
    const def = definition as RewardDefinition;
    return { ...(redemption as Redemption), title: def.title, rewardType: def.type, customer };
  });
}

/** One customer's redemptions, newest first (the shopper's "your rewards"). */
export function listRedemptions(
  db: Executor,
  shopId: number,
  customerId: number,
  options: { statuses?: readonly RedemptionStatus[]; limit?: number } = {},
): Promise<RedemptionWithTitle[]> {
  return searchRedemptions(db, shopId, { ...options, customerId });
}

export async function getRedemption(
  db: Executor,
  shopId: number,
  redemptionId: number,
): Promise<Redemption | undefined> {
  const [row] = await db
    .select()
    .from(redemptions)
    .where(and(eq(redemptions.shopId, shopId), eq(redemptions.id, redemptionId)));
  return row as Redemption | undefined;
}

/** The redemption that issued `code` (compared without case, as Shopify does); undefined if none. */
export async function findRedemptionByCode(
  db: Executor,
  shopId: number,
  code: string,
): Promise<Redemption | undefined> {
  const [row] = await db
    .select()
    .from(redemptions)
    .where(
      and(
        eq(redemptions.shopId, shopId),
        sql`upper(${redemptions.code}) = upper(${code})`,
        sql`${redemptions.code} IS NOT NULL`,
      ),
    );
  return row as Redemption | undefined;
}

/**
 * Moves a redemption from `from` to the status in `set`, only if it is still `from`: the guarded
 * update every status change goes through, so two workers (a shopper's retry and the sweep, an
 * order and the expiry) never both move one redemption. Undefined when it was not `from`.
 */
export async function moveRedemption(
  db: Executor,
  shopId: number,
  redemptionId: number,
  from: RedemptionStatus,
  set: Partial<typeof redemptions.$inferInsert> & { status: RedemptionStatus },
): Promise<Redemption | undefined> {
  const [row] = await db
    .update(redemptions)
    .set({ ...set, updatedAt: sql`now()` })
    .where(
      and(
        eq(redemptions.shopId, shopId),
        eq(redemptions.id, redemptionId),
        eq(redemptions.status, from),
      ),
    )
    .returning();
  return row as Redemption | undefined;
}

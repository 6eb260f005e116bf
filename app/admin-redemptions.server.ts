/**
 * The admin's redemptions page (app/routes/app.redemptions.tsx): its query string → a filter for
 * app/models/redemptions.server.ts, and the rows as the page shows them.
 */
import { AppError, ErrorCode } from './errors';
import { parseId, refusal } from './admin-request.server';
import { displayMoney } from './admin-rewards.server';
import {
  REDEMPTION_STATUSES,
  type AdminRedemption,
  type RedemptionFilter,
  type RedemptionStatus,
} from './models/redemptions.server';
import type { Shop } from './models/shops.server';

const integer = new Intl.NumberFormat('en-US');

export const REDEMPTIONS_PAGE = 50;
const MAX_SEARCH_LENGTH = 200;

export interface RedemptionQuery {
  statuses: RedemptionStatus[];
  rewardId: number | null;
  customer: string;
  beforeId: number | null;
}

/**
 * The redemptions page's query string: `status` (repeatable; Polaris' ChoiceList sends
 * `status[]`), `reward`, `customer` (email, name or Shopify id) and `before` (keyset paging).
 * Throws a 400 refusal naming the parameter that is not valid.
 */
export function parseRedemptionQuery(params: URLSearchParams): RedemptionQuery {
  const statuses = [...params.getAll('status'), ...params.getAll('status[]')].filter(
    (s) => s !== '',
  );
  for (const status of statuses) {
    if (!(REDEMPTION_STATUSES as readonly string[]).includes(status)) {
      throw refusal(
        new AppError(
          ErrorCode.VALIDATION,
          `status must be one of ${REDEMPTION_STATUSES.join(', ')} (got ${JSON.stringify(status.slice(0, 40))})`,
        ),
      );
    }
  }
  const reward = params.get('reward') ?? '';
  const before = params.get('before') ?? '';
  const customer = (params.get('customer') ?? '').trim();
  if (customer.length > MAX_SEARCH_LENGTH) {
    throw refusal(
      new AppError(
        ErrorCode.VALIDATION,
        `customer must be at most ${MAX_SEARCH_LENGTH} characters`,
      ),
    );
  }
  return {
    statuses: [...new Set(statuses as RedemptionStatus[])],
    rewardId: reward === '' ? null : parseId(reward, 'reward'),
    customer,
    beforeId: before === '' ? null : parseId(before, 'before', Number.MAX_SAFE_INTEGER),
  };
}

/** The model's filter for a query, asking for one more row than a page to know there is a next. */
export function redemptionFilter(query: RedemptionQuery): RedemptionFilter {
  return {
    ...(query.statuses.length > 0 && { statuses: query.statuses }),
    ...(query.rewardId !== null && { rewardId: query.rewardId }),
    ...(query.customer !== '' && { customerSearch: query.customer }),
    ...(query.beforeId !== null && { beforeId: query.beforeId }),
    limit: REDEMPTIONS_PAGE + 1,
  };
}

/** One row of the redemptions page, as shown. */
export interface RedemptionRow {
  id: number;
  date: string;
  customer: string;
  customerId: string;
  reward: string;
  value: string;
  points: string;
  code: string | null;
  status: RedemptionStatus;
  order: string | null;
  expires: string | null;
  failureReason: string | null;
}

function issuedValueText(value: AdminRedemption['value']): string {
  switch (value.kind) {
    case 'amount_off_order':
      return `${displayMoney(value.amountMinor, value.currency)} off`;
    case 'percentage_off_order':
      return `${value.percentage}% off`;
    case 'free_shipping':
      return 'Free shipping';
    case 'free_product':
      return `1 × variant ${value.variantId.replace('gid://shopify/ProductVariant/', '')}`;
    case 'store_credit':
      return `${displayMoney(value.amountMinor, value.currency)} store credit`;
  }
}

export function redemptionRow(r: AdminRedemption, shop: Pick<Shop, 'timezone'>): RedemptionRow {
  const when = new Intl.DateTimeFormat('en-US', {
    timeZone: shop.timezone,
    dateStyle: 'medium',
    timeStyle: 'short',
  });
  const name = [r.customer.firstName, r.customer.lastName].filter(Boolean).join(' ');
  return {
    id: r.id,
    date: when.format(r.createdAt),
    customer:
      [name, r.customer.email].filter(Boolean).join(' · ') || `Customer ${r.customer.externalId}`,
    customerId: r.customer.externalId,
    reward: `${r.title} (v${r.rewardVersion})`,
    value: issuedValueText(r.value),
    points: integer.format(r.points),
    code: r.code,
    status: r.status,
    order: r.shopifyOrderId,
    expires: r.expiresAt ? when.format(r.expiresAt) : null,
    failureReason: r.failureReason,
  };
}

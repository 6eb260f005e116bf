/**
 * The admin's referrals page (app/routes/app.referrals.tsx): the stats for a range of days on the
 * shop's clock, the referral list as the page shows it, the review of a held referral, and the
 * page's loader. The settings form is app/admin-referral-settings.server.ts. docs/admin.md,
 * "Referrals"; the rules: docs/referrals.md.
 *
 * What a review does is reviewReferral's (app/models/referrals.server.ts); this module says it.
 */
import type { Executor } from '../db/client.server';
import { formatMinorMoney } from '../loyalty/explain';
import {
  REFERRAL_RULES,
  type CompiledReferralProgram,
  type ReferralReason,
  type ReferralStatus,
} from '../loyalty/referrals';
import { addZonedDays, parseCalendarDay, wallTimeOf, zonedMidnight } from '../loyalty/time';
import {
  defaultReferralForm,
  referralFormValues,
  RULE_LABELS,
} from './admin-referral-settings.server';
import { AppError, ErrorCode, isAppError } from './errors';
import { currentReferralProgram, listReferralPrograms } from './models/referral-programs.server';
import {
  countHeldReferrals,
  friendDiscountState,
  listReferrals,
  REFERRAL_STATUSES,
  referralCodeCounts,
  referralStats,
  type ListedReferral,
  type ReferralParty,
  type ReferralStats,
} from './models/referral-stats.server';
import type { Shop } from './models/shops.server';

// ---------------------------------------------------------------------------------------------
// The stats

export const MAX_RANGE_DAYS = 366;
export const DEFAULT_RANGE_DAYS = 30;

export interface StatsQuery {
  /** Calendar days on the shop's clock, both included. */
  from: string;
  to: string;
}

const ymdOf = (epochMs: number, timeZone: string) => {
  const w = wallTimeOf(epochMs, timeZone);
  return `${String(w.year).padStart(4, '0')}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
};

/**
 * The stats' days from the query string (`from`, `to`: YYYY-MM-DD on the shop's clock, both
 * included): by default the last 30 days, today included. A day that is not one, `from` after
 * `to`, or a range over {@link MAX_RANGE_DAYS} days is a VALIDATION error naming the parameter.
 */
export function parseStatsQuery(params: URLSearchParams, timeZone: string, now: Date): StatsQuery {
  const today = ymdOf(now.getTime(), timeZone);
  const day = (name: 'from' | 'to', fallback: string) => {
    const text = (params.get(name) ?? '').trim();
    if (text === '') return fallback;
    try {
      parseCalendarDay(text);
    } catch {
      throw new AppError(
        ErrorCode.VALIDATION,
        `${name} must be a calendar day YYYY-MM-DD (got ${JSON.stringify(text.slice(0, 40))})`,
      );
    }
    return text;
  };
  const to = day('to', today);
  const from = day(
    'from',
    ymdOf(addZonedDays(zonedMidnight(to, timeZone), -(DEFAULT_RANGE_DAYS - 1), timeZone), timeZone),
  );
  if (from > to) {
    throw new AppError(ErrorCode.VALIDATION, `from (${from}) must not be after to (${to})`);
  }
  if (rangeOf({ from, to }, timeZone).days > MAX_RANGE_DAYS) {
    throw new AppError(ErrorCode.VALIDATION, `the range must be at most ${MAX_RANGE_DAYS} days`);
  }
  return { from, to };
}

/** The instants a range of shop-clock days covers: from its first midnight to the next day's. */
export function rangeOf(query: StatsQuery, timeZone: string) {
  const from = zonedMidnight(query.from, timeZone);
  const to = addZonedDays(zonedMidnight(query.to, timeZone), 1, timeZone);
  const days =
    Math.round((Date.UTC(...civil(query.to)) - Date.UTC(...civil(query.from))) / 864e5) + 1;
  return { from: new Date(from), to: new Date(to), days };
}

function civil(ymd: string): [number, number, number] {
  const { year, month, day } = parseCalendarDay(ymd);
  return [year, month - 1, day];
}

const integer = new Intl.NumberFormat('en-US');

export interface StatTile {
  label: string;
  value: string;
  help: string;
}

/** The stats as the page's tiles, money in the shop currency. Definitions: docs/admin.md. */
export function statTiles(stats: ReferralStats, currency: string): StatTile[] {
  return [
    {
      label: 'Clicks',
      value: integer.format(stats.clicks),
      help: 'Share-link visits sent on to the friend discount',
    },
    {
      label: 'Friends joined',
      value: integer.format(stats.friendsJoined),
      help: 'Referred first orders that counted: rewarded, held or reversed',
    },
    {
      label: 'First orders',
      value: integer.format(stats.firstOrders),
      help: "Orders paid with a member's friend code, rejected ones included",
    },
    {
      label: 'Revenue',
      value: formatMinorMoney(stats.revenueMinor, currency, 'en'),
      help: 'Referred orders that stand (rewarded or held), after discounts, when paid',
    },
    {
      label: 'Rewards',
      value: `${integer.format(stats.rewardsPoints)} points`,
      help: 'Referral points given, net of reversals',
    },
    {
      label: 'Held · rejected · reversed',
      value: `${integer.format(stats.held)} · ${integer.format(stats.rejected)} · ${integer.format(stats.reversed)}`,
      help: 'Referred orders by what came of them',
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// The list

/** Each reason's rule, as the list names it. */
const REASON_LABELS: Record<ReferralReason['rule'], string> = {
  same_customer: 'Same customer',
  same_email: 'Same email',
  same_address: 'Same address',
  same_phone: 'Same phone',
  existing_customer: 'Existing customer',
  referrer_limit: 'Referrer limit',
  ip_limit: 'IP limit',
  below_minimum: 'Below minimum',
  program_disabled: 'Program off',
  not_first_order: 'Not a first order',
  review: 'Review',
  reversal: 'Reversed',
};

export const REFERRALS_PAGE = 50;

export interface ListQuery {
  status: ReferralStatus | null;
  before: number | null;
}

/** A referral id from a query string or form field: a positive whole number (a serial's). */
export function rowId(text: string, what: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > 2_147_483_647) {
    throw new AppError(ErrorCode.VALIDATION, `${what} must be a positive whole number`, { text });
  }
  return Number(text);
}

/** The list's query string: `status` (one of the statuses, or empty) and `before` (keyset). */
export function parseListQuery(params: URLSearchParams): ListQuery {
  const status = (params.get('status') ?? '').trim();
  if (status !== '' && !(REFERRAL_STATUSES as readonly string[]).includes(status)) {
    throw new AppError(
      ErrorCode.VALIDATION,
      `status must be one of ${REFERRAL_STATUSES.join(', ')} (got ${JSON.stringify(status.slice(0, 40))})`,
    );
  }
  const before = params.get('before') ?? '';
  return {
    status: status === '' ? null : (status as ReferralStatus),
    before: before === '' ? null : rowId(before, 'before'),
  };
}

export interface ReferralRowView {
  id: number;
  status: ReferralStatus;
  referrer: string;
  referrerId: string;
  friend: string;
  friendId: string | null;
  order: string;
  amount: string;
  paidAt: string;
  code: string;
  /** "Same address (hold): the friend ships to an address the referrer uses" */
  reasons: string[];
  reward: string | null;
  reviewed: string | null;
}

function partyText(p: ReferralParty): string {
  const name = [p.firstName, p.lastName].filter(Boolean).join(' ');
  return [name, p.email].filter(Boolean).join(' · ') || `Customer ${p.externalId}`;
}

export function reasonText(reason: ReferralReason): string {
  return `${REASON_LABELS[reason.rule] ?? reason.rule} (${reason.action}): ${reason.detail}`;
}

/** One referral as the list shows it, times on the shop's clock. */
export function referralRow(
  r: ListedReferral,
  shop: Pick<Shop, 'timezone' | 'currency'>,
): ReferralRowView {
  const when = new Intl.DateTimeFormat('en-US', {
    timeZone: shop.timezone,
    dateStyle: 'medium',
    timeStyle: 'short',
  });
  return {
    id: r.id,
    status: r.status,
    referrer: partyText(r.referrer),
    referrerId: r.referrer.externalId,
    friend: r.friend ? partyText(r.friend) : 'Guest order (no account)',
    friendId: r.friend?.externalId ?? null,
    order: r.orderName,
    amount: formatMinorMoney(r.orderAmountMinor, shop.currency, 'en'),
    paidAt: when.format(r.paidAt),
    code: r.discountCode,
    reasons: r.reasons.map(reasonText),
    reward: r.rewardPoints > 0 ? `${integer.format(r.rewardPoints)} points` : null,
    reviewed: r.reviewedBy && r.reviewedAt ? `${r.reviewedBy}, ${when.format(r.reviewedAt)}` : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Review

/** The staff member a review is recorded under: their name, else their email, else their user id. */
export function staffName(context: {
  session: {
    onlineAccessInfo?: {
      associated_user?: { first_name?: string; last_name?: string; email?: string };
    };
  };
  sessionToken?: { sub?: string };
}): string {
  const user = context.session.onlineAccessInfo?.associated_user;
  const name = [user?.first_name, user?.last_name].filter(Boolean).join(' ').trim();
  if (name) return name;
  if (user?.email) return user.email;
  const sub = context.sessionToken?.sub;
  return sub ? `staff user ${sub}` : 'staff';
}

export type ReviewAction = 'approve' | 'reject';

/** What a review returned that the page says. */
export interface ReviewedReferral {
  id: number;
  status: ReferralStatus;
  orderName: string;
  rewardPoints: number;
  reasons: ReferralReason[];
}

export type ReviewOutcome =
  | { ok: true; message: string; tone: 'success' | 'warning' }
  | { ok: false; status: 404 | 409; message: string };

/**
 * Approve or reject a held referral through `review` (reviewReferral): the sentence the page shows.
 * An approval can end rejected (the order was cancelled or refunded below the minimum since); that
 * is said with the reason. Another shop's or an unknown referral is a 404, one no longer held a 409.
 */
export async function reviewFromAdmin(
  review: () => Promise<ReviewedReferral>,
  action: ReviewAction,
): Promise<ReviewOutcome> {
  let reviewed: ReviewedReferral;
  try {
    reviewed = await review();
  } catch (error) {
    if (isAppError(error, ErrorCode.NOT_FOUND)) {
      return { ok: false, status: 404, message: `No such referral: ${error.message}` };
    }
    if (isAppError(error, ErrorCode.CONFLICT)) {
      return {
        ok: false,
        status: 409,
        message: `Not changed: ${error.message}. Someone may have reviewed it already; the list is current now.`,
      };
    }
    throw error;
  }
  if (reviewed.status === 'rewarded') {
    return {
      ok: true,
      tone: 'success',
      message: `Referral ${reviewed.orderName} approved: ${integer.format(reviewed.rewardPoints)} points to the referrer.`,
    };
  }
  const last = reviewed.reasons.at(-1);
  return {
    ok: true,
    tone: action === 'reject' ? 'success' : 'warning',
    message:
      action === 'reject'
        ? `Referral ${reviewed.orderName} rejected: no reward.`
        : `Referral ${reviewed.orderName} was not rewarded${last ? `: ${last.detail}` : ''}.`,
  };
}

// ---------------------------------------------------------------------------------------------
// The page

/** The program in force in a sentence: "10% off for the friend, 500 points for the referrer…". */
export function programSummary(program: CompiledReferralProgram): string {
  const discount =
    program.friendDiscount.kind === 'percentage'
      ? `${program.friendDiscount.percentage}% off`
      : `${formatMinorMoney(program.friendDiscount.amountMinor, program.currency, 'en')} off`;
  const friendMinimum =
    program.friendMinimumOrderMinor !== null && program.friendMinimumOrderMinor > 0
      ? ` over ${formatMinorMoney(program.friendMinimumOrderMinor, program.currency, 'en')}`
      : '';
  const minimum =
    program.minimumOrderMinor > 0
      ? ` of ${formatMinorMoney(program.minimumOrderMinor, program.currency, 'en')} or more`
      : '';
  return `${discount} a friend's first order${friendMinimum}; ${integer.format(program.referrerPoints)} points to the referrer when it is paid${minimum}, taken back if it is refunded or cancelled within ${program.reversalWindowDays} days.`;
}

/** The page's loader: the program and its form, the stats for the range, a page of referrals. */
export async function referralPage(db: Executor, shop: Shop, url: URL, now: Date = new Date()) {
  const range = parseStatsQuery(url.searchParams, shop.timezone, now);
  const list = parseListQuery(url.searchParams);
  const current = await currentReferralProgram(db, shop.id, now);
  const versions = await listReferralPrograms(db, shop.id);
  const instants = rangeOf(range, shop.timezone);
  const [stats, found, held, codes, discount] = await Promise.all([
    referralStats(db, shop.id, instants),
    listReferrals(db, shop.id, {
      ...(list.status !== null && { status: list.status }),
      ...(list.before !== null && { before: list.before }),
      limit: REFERRALS_PAGE + 1,
    }),
    countHeldReferrals(db, shop.id),
    referralCodeCounts(db, shop.id),
    friendDiscountState(db, shop.id),
  ]);
  const page = found.slice(0, REFERRALS_PAGE);
  const latest = versions.at(-1);
  return {
    currency: shop.currency,
    timezone: shop.timezone,
    program: current
      ? {
          version: current.version,
          enabled: current.program.enabled,
          summary: programSummary(current.program),
        }
      : null,
    // The form starts from the newest version (one scheduled ahead included), else the defaults.
    values: latest ? referralFormValues(latest.definition) : defaultReferralForm(),
    versions: versions.length,
    range,
    rangeDays: instants.days,
    stats: statTiles(stats, shop.currency),
    held,
    codes,
    shareLink: codes.sample ? `https://${shop.domain}/apps/loyalty/r/${codes.sample}` : null,
    discount: discount
      ? {
          created: discount.discountId !== null,
          syncedVersion: discount.syncedVersion,
          lastError: discount.lastError,
        }
      : null,
    list: {
      ...list,
      rows: page.map((r) => referralRow(r, shop)),
      // Keyset paging: the next page is everything recorded before this page's last row.
      nextBefore: found.length > REFERRALS_PAGE ? page.at(-1)!.id : null,
    },
    statuses: REFERRAL_STATUSES,
    rules: REFERRAL_RULES.map((rule) => ({ rule, label: RULE_LABELS[rule] })),
  };
}

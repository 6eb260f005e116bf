/**
 * The admin's customers pages (app/routes/app.customers._index.tsx, app.customers.$id.tsx;
 * docs/customers.md): the list's query string → a directory query and its rows as shown; one
 * member's standing and ledger, every entry explained; and the manual adjustment form → a posted
 * adjustment, or its problems by field with nothing posted.
 */
import { randomUUID } from 'node:crypto';
import { explainEntry } from '../loyalty/explain';
import { currencyDigits, isKnownCurrency } from '../loyalty/money';
import { pointsToMinor } from '../loyalty/point-value';
import { tierByKey, type CompiledTierProgram } from '../loyalty/tiers';
import {
  validateAdjustment,
  type AdjustmentErrors,
  type AdjustmentField,
} from '../loyalty/adjustment';
import { enqueueMetafieldSync } from './queues/metafield-queue.server';
import { enqueueFromWeb, webMetafieldQueue } from './queues/web-enqueue.server';
import { formatInstant, formatInteger, formatMinor, formatDay } from './admin-format';
import { parseId, refusal, type StaffMember } from './admin-request.server';
import { AppError, ErrorCode, isAppError } from './errors';
import { postAdjustment, type AdjustmentInputs } from './models/adjustments.server';
import {
  decodeCursor,
  DIRECTORY_SORTS,
  encodeCursor,
  ledgerPage,
  memberProfile,
  searchDirectory,
  type DirectoryCursor,
  type DirectoryMember,
  type DirectorySort,
  type LedgerLine,
  type SortDirection,
} from './models/customer-directory.server';
import type { Executor } from '../db/client.server';
import { shopPointValue } from './models/point-value.server';
import type { Shop } from './models/shops.server';
import { localDay } from './models/tier-evaluation.server';
import { currentTierProgram } from './models/tiers.server';

export const CUSTOMERS_PAGE = 50;
export const LEDGER_PAGE = 50;
const MAX_SEARCH_LENGTH = 200;
export const REDACTED_NAME = 'Redacted customer';

export const SORT_LABELS: Record<DirectorySort, string> = {
  balance: 'Balance',
  lifetime: 'Lifetime earned',
  name: 'Name',
  email: 'Email',
  since: 'Member since',
};

export interface DirectoryParams {
  search: string;
  sort: DirectorySort;
  direction: SortDirection;
  /** The cursor text as the link carried it ('' on the first page). */
  cursor: string;
}

function badParameter(message: string): Response {
  return refusal(new AppError(ErrorCode.VALIDATION, message));
}

/**
 * The list's query string: `q` (search), `sort` (balance, lifetime, name, email, since), `dir`
 * (asc, desc; default: highest balance first, names A→Z) and `cursor`. A 400 names what is wrong.
 */
export function parseDirectoryParams(params: URLSearchParams): DirectoryParams {
  const search = (params.get('q') ?? '').trim();
  if (search.length > MAX_SEARCH_LENGTH) {
    throw badParameter(`Search must be at most ${MAX_SEARCH_LENGTH} characters`);
  }
  const sortText = params.get('sort') || 'balance';
  if (!(DIRECTORY_SORTS as readonly string[]).includes(sortText)) {
    throw badParameter(
      `sort must be one of ${DIRECTORY_SORTS.join(', ')} (got ${JSON.stringify(sortText.slice(0, 40))})`,
    );
  }
  const sort = sortText as DirectorySort;
  const textSort = sort === 'name' || sort === 'email';
  const dir = params.get('dir') || (textSort ? 'asc' : 'desc');
  if (dir !== 'asc' && dir !== 'desc') {
    throw badParameter(`dir must be asc or desc (got ${JSON.stringify(dir.slice(0, 40))})`);
  }
  return { search, sort, direction: dir, cursor: params.get('cursor') ?? '' };
}

/** One row of the customers list, as shown. */
export interface DirectoryRow {
  id: number;
  name: string;
  email: string;
  shopifyId: string;
  balance: string;
  lifetimeEarned: string;
  tier: string;
  memberSince: string;
  redacted: boolean;
}

/** The Shopify id as shown: a redaction replaces an email-like external id, which is not one. */
function shownExternalId(externalId: string): string {
  return externalId.startsWith('redacted:') ? '—' : externalId;
}

function displayName(m: {
  firstName: string | null;
  lastName: string | null;
  redacted: boolean;
}): string {
  if (m.redacted) return REDACTED_NAME;
  return [m.firstName, m.lastName].filter(Boolean).join(' ') || '—';
}

function tierName(program: CompiledTierProgram | null, key: string | null): string {
  // A tier the program in force no longer has reads as none until the next evaluation moves the
  // member (what the storefront shows too: app/models/tiers.server.ts memberTier).
  return (program && tierByKey(program, key)?.name) ?? '—';
}

export function directoryRow(
  m: DirectoryMember,
  shop: Pick<Shop, 'timezone'>,
  tiers: CompiledTierProgram | null,
  locale: string,
): DirectoryRow {
  return {
    id: m.id,
    name: displayName(m),
    // A redacted member's row carries no personal data, whatever a late write left.
    email: m.redacted ? '—' : (m.email ?? '—'),
    shopifyId: shownExternalId(m.externalId),
    balance: formatInteger(m.balance, locale),
    lifetimeEarned: formatInteger(m.lifetimeEarned, locale),
    tier: tierName(tiers, m.tierKey),
    memberSince: formatDay(localDay(m.enrolledAt, shop.timezone), locale),
    redacted: m.redacted,
  };
}

/** Everything the list page shows for `params`. */
export async function loadDirectory(
  db: Executor,
  shop: Shop,
  locale: string,
  params: DirectoryParams,
) {
  let cursor: DirectoryCursor | null = null;
  if (params.cursor !== '') {
    try {
      cursor = decodeCursor(params.cursor, params.sort);
    } catch (error) {
      throw refusal(error);
    }
  }
  const [page, tiers] = await Promise.all([
    searchDirectory(db, shop.id, {
      search: params.search,
      sort: params.sort,
      direction: params.direction,
      cursor,
      limit: CUSTOMERS_PAGE,
    }),
    currentTierProgram(db, shop.id),
  ]);
  return {
    params,
    rows: page.members.map((m) => directoryRow(m, shop, tiers?.program ?? null, locale)),
    total: page.total,
    totalText: formatInteger(page.total, locale),
    next: page.next ? encodeCursor(page.next) : null,
    previous: page.previous ? encodeCursor(page.previous) : null,
    sorts: DIRECTORY_SORTS.map((s) => ({ value: s, label: SORT_LABELS[s] })),
  };
}

// ---------------------------------------------------------------------------------------------
// The detail page

/** `minor` as the shortest exact money text: `$100`, `$50.50`. */
function compactMoney(minor: number, currency: string, locale: string): string {
  const digits = currencyDigits(currency);
  const whole = minor % 10 ** digits === 0;
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: whole ? 0 : digits,
    maximumFractionDigits: digits,
  }).format(minor / 10 ** digits);
}

function compactNumber(minor: number, currency: string, locale: string): string {
  const digits = currencyDigits(currency);
  const whole = minor % 10 ** digits === 0;
  return new Intl.NumberFormat(locale, {
    minimumFractionDigits: whole ? 0 : digits,
    maximumFractionDigits: digits,
  }).format(minor / 10 ** digits);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * The bands an award earned in, highest first, as the merchant wrote them: `2×>$100, 1×$50–100`
 * (points per unit × band); ` per $10` when the unit is not one whole currency unit. Read from
 * what the award recorded (loyalty/settlement.ts AwardInputs), never from today's program. Null
 * when the inputs hold no usable bands.
 */
export function bandsText(inputs: Record<string, unknown>, locale: string): string | null {
  const currency = inputs.currency;
  if (typeof currency !== 'string' || !isKnownCurrency(currency)) return null;
  if (!Array.isArray(inputs.bands)) return null;
  const parts: { over: number; text: string }[] = [];
  for (const band of inputs.bands) {
    if (!isRecord(band)) return null;
    const { over, upTo, pointsPerUnit, points } = band;
    if (!isCount(over) || !isCount(pointsPerUnit) || !isCount(points)) return null;
    if (upTo !== null && !isCount(upTo)) return null;
    if (points <= 0) continue;
    const range =
      upTo === null
        ? `>${compactMoney(over, currency, locale)}`
        : `${compactMoney(over, currency, locale)}–${compactNumber(upTo, currency, locale)}`;
    parts.push({ over, text: `${pointsPerUnit}×${range}` });
  }
  if (parts.length === 0) return null;
  parts.sort((a, b) => b.over - a.over);
  const unit = inputs.unitMinor;
  const perUnit =
    isCount(unit) && unit !== 10 ** currencyDigits(currency)
      ? ` per ${compactMoney(unit, currency, locale)}`
      : '';
  return parts.map((p) => p.text).join(', ') + perUnit;
}

/** Who made an adjustment, as its entry recorded them. */
export function adjustmentAuthor(inputs: Record<string, unknown>): string | null {
  const staff = (inputs as Partial<AdjustmentInputs>).staff;
  if (!isRecord(staff)) return null;
  // Recorded as the session token's `sub` text; a numeric id (an older writer, seeds) reads alike.
  const id = staff.userId;
  if (!(typeof id === 'string' && id !== '') && !isCount(id)) return null;
  return `staff member ${String(id)}`;
}

/**
 * An entry's explanation as the admin reads it: the storefront's sentence (loyalty/explain.ts,
 * English) and what only staff need — the program version and bands of an award
 * ("Order #1001, $120.00 → 90 points, program v3: 2×>$100, 1×$50–100"), the version a reversal
 * used, and who made an adjustment.
 */
export function adminExplanation(line: LedgerLine, shopCurrency: string, locale: string): string {
  const sentence = explainEntry(
    { source: line.source, points: line.points, inputs: line.inputs, orderName: line.orderName },
    { locale: 'en', shopCurrency },
  );
  if (line.source === 'order' && line.programVersion !== null) {
    const bands = bandsText(line.inputs, locale);
    return `${sentence}, program v${line.programVersion}${bands ? `: ${bands}` : ''}`;
  }
  if (
    (line.source === 'refund' || line.source === 'cancellation') &&
    line.programVersion !== null
  ) {
    return `${sentence}, program v${line.programVersion}`;
  }
  if (line.source === 'adjustment') {
    const author = adjustmentAuthor(line.inputs);
    return author ? `${sentence}, by ${author}` : sentence;
  }
  return sentence;
}

export interface LedgerRow {
  id: number;
  date: string;
  source: string;
  points: string;
  credit: boolean;
  explanation: string;
}

export function ledgerRow(
  line: LedgerLine,
  shop: Pick<Shop, 'currency' | 'timezone'>,
  locale: string,
): LedgerRow {
  const sign = line.points > 0 ? '+' : line.points < 0 ? '−' : '';
  return {
    id: line.id,
    date: formatInstant(line.occurredAt, shop.timezone, locale),
    source: line.source.charAt(0).toUpperCase() + line.source.slice(1),
    points: `${sign}${formatInteger(Math.abs(line.points), locale)}`,
    credit: line.points > 0,
    explanation: adminExplanation(line, shop.currency, locale),
  };
}

/**
 * The detail page: the member (404 with a reason when the shop has none with this id), their
 * standing, one page of their ledger (older than `before`), and a fresh form key.
 */
export async function loadCustomerDetail(
  db: Executor,
  shop: Shop,
  locale: string,
  customerId: number,
  beforeText: string | null,
) {
  const beforeId =
    beforeText === null || beforeText === ''
      ? null
      : parseId(beforeText, 'before', Number.MAX_SAFE_INTEGER);
  const [profile, page, tiers, value] = await Promise.all([
    memberProfile(db, shop.id, customerId),
    ledgerPage(db, shop.id, customerId, { beforeId, limit: LEDGER_PAGE }),
    currentTierProgram(db, shop.id),
    shopPointValue(db, shop),
  ]);
  if (!profile) {
    throw refusal(
      new AppError(
        ErrorCode.NOT_FOUND,
        `This shop has no customer ${customerId}: the id may belong to another shop, or the customer was deleted.`,
      ),
    );
  }
  const tier = profile.tier && tiers ? tierByKey(tiers.program, profile.tier.key) : null;
  return {
    customer: {
      id: profile.id,
      name: displayName(profile),
      email: profile.redacted ? null : profile.email,
      shopifyId: shownExternalId(profile.externalId),
      redacted: profile.redacted,
      memberSince: formatDay(localDay(profile.enrolledAt, shop.timezone), locale),
      balance: formatInteger(profile.balance, locale),
      balancePoints: profile.balance,
      balanceValue: value
        ? formatMinor(pointsToMinor(profile.balance, value), shop.currency, locale)
        : null,
      lifetimeEarned: formatInteger(profile.lifetimeEarned, locale),
      tier: tier ? tier.name : null,
      tierSince:
        tier && profile.tier
          ? formatDay(localDay(profile.tier.since, shop.timezone), locale)
          : null,
      referralCode: profile.referralCode,
      entries: formatInteger(profile.entries, locale),
    },
    ledger: page.entries.map((line) => ledgerRow(line, shop, locale)),
    nextBefore: page.nextBeforeId,
    firstPage: beforeId === null,
    formKey: randomUUID(),
  };
}

// ---------------------------------------------------------------------------------------------
// The adjustment form

export type AdjustOutcome =
  | { ok: true; message: string; created: boolean }
  | {
      ok: false;
      /** 400: the input is wrong; 409: it is fine but the balance or the key says no. */
      status: 400 | 409;
      errors: AdjustmentErrors;
      values: Record<AdjustmentField, string>;
    };

/**
 * The form → a posted adjustment. Bad input, a debit past the balance and a reused key come back as
 * problems by field, with nothing posted; another shop's customer is a 404 refusal. After a new
 * post, asks for the storefront sync (`requestSync`; a failure is the sweep's to catch).
 */
export async function adjustFromForm(
  db: Executor,
  shop: Shop,
  staff: StaffMember,
  customerId: number,
  form: Record<string, unknown>,
  requestSync: (shopDomain: string) => Promise<unknown> = requestMetafieldSync,
  locale = 'en-US',
): Promise<AdjustOutcome> {
  const values = {
    points: typeof form.points === 'string' ? form.points : '',
    reason: typeof form.reason === 'string' ? form.reason : '',
    key: typeof form.key === 'string' ? form.key : '',
  };
  const validation = validateAdjustment(values);
  if (!validation.ok) return { ok: false, status: 400, errors: validation.errors, values };
  let result;
  try {
    result = await postAdjustment(db, shop, customerId, validation.adjustment, staff);
  } catch (error) {
    if (isAppError(error, ErrorCode.INSUFFICIENT_BALANCE)) {
      return { ok: false, status: 409, errors: { points: error.message }, values };
    }
    if (isAppError(error, ErrorCode.IDEMPOTENCY_CONFLICT)) {
      return { ok: false, status: 409, errors: { key: error.message }, values };
    }
    throw refusal(error);
  }
  if (result.created) await requestSync(shop.domain);
  const points = validation.adjustment.points;
  const amount = formatInteger(Math.abs(points), locale);
  const verb = points > 0 ? `Added ${amount}` : `Removed ${amount}`;
  return {
    ok: true,
    created: result.created,
    message: `${verb} ${Math.abs(points) === 1 ? 'point' : 'points'}${result.created ? '' : ' (already posted)'}: the balance is ${formatInteger(result.balance, locale)}. The storefront shows it within seconds.`,
  };
}

/**
 * A storefront metafield sync of the shop soon (the coalesced job of
 * workers/handlers/metafield-sync.ts), so the member's balance reaches Shopify within seconds.
 * Never throws (app/queues/web-enqueue.server.ts): the metafield sweep finds the member marked
 * pending.
 */
export function requestMetafieldSync(shopDomain: string): Promise<boolean> {
  return enqueueFromWeb(() => enqueueMetafieldSync(webMetafieldQueue(), shopDomain), {
    log: { shop: shopDomain, component: 'adjustment' },
    what: 'a metafield sync',
  });
}

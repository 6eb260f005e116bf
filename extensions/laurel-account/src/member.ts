/**
 * What the extension shows, and the checks every answer passes before it is shown. Answers come
 * from the network (our backend, Shopify's Customer Account API), so nothing is trusted for its
 * shape: a field of the wrong type, an unsafe number or an absurd length rejects the whole answer
 * (the UI then shows its error state) rather than rendering a guess. Unknown extra fields are
 * ignored so the backend can add fields (issues [6]–[8]) without breaking deployed extensions.
 */
import { isNullableText, isRecord, isText } from '../../shared/src/answers';

/** GET /api/account/summary (storefront contract), or the same read from the $app metafields. */
export interface MemberSummary {
  enrolled: boolean;
  balance: number;
  lifetimeEarned: number;
  tier: string | null;
  referralCode: string | null;
}

export interface HistoryEntry {
  id: string;
  occurredAt: string;
  points: number;
  source: string;
  explanation: string;
}

/** GET /api/account/history: newest first; nextCursor null on the last page. */
export interface HistoryPage {
  entries: HistoryEntry[];
  nextCursor: string | null;
}

/** The backend pages at most 50 entries (limit 1..50), so more in one answer is not ours. */
export const MAX_PAGE_ENTRIES = 50;

const LIMITS = {
  tier: 100,
  referralCode: 64,
  entryId: 128,
  source: 64,
  explanation: 500,
  cursor: 2048,
} as const;

function isPoints(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

// ISO 8601 with a time, as the backend writes Date#toISOString(); a bare date or "yesterday" is
// not an instant we can place in the customer's time zone.
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function isInstant(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const match = ISO_INSTANT.exec(value);
  if (!match || !Number.isFinite(Date.parse(value))) return false;
  // Date.parse rolls 30 February over into March; a real instant names a real day.
  const [year, month, day] = match.slice(1, 4).map(Number) as [number, number, number];
  const probe = new Date(Date.UTC(year, month - 1, day));
  return probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
}

export function parseSummary(body: unknown): MemberSummary | null {
  if (!isRecord(body)) return null;
  const { enrolled, balance, lifetimeEarned, tier, referralCode } = body;
  if (typeof enrolled !== 'boolean' || !isPoints(balance) || !isPoints(lifetimeEarned)) return null;
  if (!isNullableText(tier, LIMITS.tier) || !isNullableText(referralCode, LIMITS.referralCode)) {
    return null;
  }
  return { enrolled, balance, lifetimeEarned, tier, referralCode };
}

function parseEntry(value: unknown): HistoryEntry | null {
  if (!isRecord(value)) return null;
  const { id, occurredAt, points, source, explanation } = value;
  if (!isText(id, LIMITS.entryId) || !isInstant(occurredAt) || !isPoints(points)) return null;
  if (!isText(source, LIMITS.source) || !isText(explanation, LIMITS.explanation)) return null;
  return { id, occurredAt, points, source, explanation };
}

export function parseHistoryPage(body: unknown): HistoryPage | null {
  if (!isRecord(body) || !Array.isArray(body.entries)) return null;
  if (body.entries.length > MAX_PAGE_ENTRIES) return null;
  if (!isNullableText(body.nextCursor, LIMITS.cursor)) return null;
  const entries: HistoryEntry[] = [];
  for (const raw of body.entries) {
    const entry = parseEntry(raw);
    if (!entry) return null;
    entries.push(entry);
  }
  return { entries, nextCursor: body.nextCursor };
}

// A number_integer metafield value is a decimal string; 15 digits keeps it a safe integer.
const INTEGER_VALUE = /^-?\d{1,15}$/;

function metafieldValue(field: unknown): string | null | undefined {
  if (field === null) return null;
  if (!isRecord(field) || typeof field.value !== 'string') return undefined;
  return field.value;
}

/**
 * The tier's name from the `tier_status` metafield's JSON (app/metafields.ts TierStatus): null
 * without a tier (or tiers), undefined when the value is not one Laurel writes.
 */
function tierName(value: string | null | undefined): string | null | undefined {
  if (value === null || value === undefined) return value;
  let status: unknown;
  try {
    status = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!isRecord(status)) return undefined;
  return status.name === null || typeof status.name === 'string' ? status.name : undefined;
}

/**
 * The Customer Account API answer to {@link MEMBER_METAFIELDS_QUERY}. `null` when the balance is
 * not written yet (sync pending, brand-new customer) — the caller then asks the backend rather
 * than show a number it does not know — and also when the answer is malformed.
 */
export function summaryFromMetafields(body: unknown): MemberSummary | null {
  if (!isRecord(body) || body.errors !== undefined || !isRecord(body.data)) return null;
  const customer = body.data.customer;
  if (!isRecord(customer)) return null;
  const balance = metafieldValue(customer.pointsBalance);
  const lifetime = metafieldValue(customer.lifetimePoints);
  if (typeof balance !== 'string' || typeof lifetime !== 'string') return null;
  if (!INTEGER_VALUE.test(balance) || !INTEGER_VALUE.test(lifetime)) return null;
  const tier = tierName(metafieldValue(customer.tierStatus));
  const referralCode = metafieldValue(customer.referralCode);
  if (tier === undefined || referralCode === undefined) return null;
  if (!isNullableText(tier, LIMITS.tier) || !isNullableText(referralCode, LIMITS.referralCode)) {
    return null;
  }
  return {
    // The sync worker writes these only for members, so a written balance means enrolled.
    enrolled: true,
    balance: Number(balance),
    lifetimeEarned: Number(lifetime),
    tier,
    referralCode,
  };
}

/**
 * App-owned ($app) customer metafields, declared in shopify.app.toml with
 * access.customer_account = "read": the Customer Account API returns them to this app's extension.
 */
export const MEMBER_METAFIELDS_QUERY = `query LaurelMember {
  customer {
    pointsBalance: metafield(namespace: "$app", key: "points_balance") { value }
    lifetimePoints: metafield(namespace: "$app", key: "lifetime_points") { value }
    tierStatus: metafield(namespace: "$app", key: "tier_status") { value }
    referralCode: metafield(namespace: "$app", key: "referral_code") { value }
  }
}`;

/** Appends a page, dropping entries already shown (a repeated page must not double the list). */
export function appendPage(shown: HistoryEntry[], page: HistoryEntry[]): HistoryEntry[] {
  const seen = new Set(shown.map((entry) => entry.id));
  const fresh = page.filter((entry) => !seen.has(entry.id) && seen.add(entry.id));
  return fresh.length === 0 ? shown : [...shown, ...fresh];
}

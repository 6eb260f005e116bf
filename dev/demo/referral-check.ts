/**
 * The demo's referrals after the history's replay (dev/demo/referrals.ts has the scenario): the
 * referrers' codes made and put into the friend discount by the referral code sync, the friends'
 * deliveries replayed, and what Laurel recorded checked against the cases — each referral's status,
 * and the referral ledger entries as the demo itself reads the program (a reward of the program's
 * points for a rewarded or reversed referral, its exact opposite for a reversed one, nothing for a
 * held or rejected one) — then one share-link landing through the app proxy.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { appProxySignature } from '../../app/app-proxy.server';
import { ensureReferralCodes } from '../../app/models/referral-codes.server';
import { currentReferralProgram } from '../../app/models/referral-programs.server';
import type { Database, Executor } from '../../db/client.server';
import { customers, ledgerEntries, referralCodes, referrals } from '../../db/schema';
import type { Delivery } from './deliveries';
import {
  DEMO_REFERRER_POINTS,
  referralCast,
  referralDeliveries,
  type ReferralCase,
  type ReferralCast,
} from './referrals';
import { replayDeliveries } from './replay';
import { waitForWorkers } from './wait';

/**
 * The referrers' codes, made now if the sync has not made them yet (the program's prefix): what
 * the sync must put into the friend discount before a friend can use them.
 */
export async function referrerCodes(
  db: Executor,
  shopId: number,
  cast: ReferralCast,
  codePrefix: string,
): Promise<Map<string, { friendCode: string; status: string }>> {
  const externalIds = cast.referrers.map((r) => String(r.id));
  const rows = await db
    .select({ id: customers.id, externalId: customers.externalId })
    .from(customers)
    .where(and(eq(customers.shopId, shopId), inArray(customers.externalId, externalIds)));
  const made = await ensureReferralCodes(
    db,
    shopId,
    rows.map((r) => r.id),
    codePrefix,
  );
  const byExternal = new Map<string, { friendCode: string; status: string }>();
  for (const row of rows) {
    const code = made.get(row.id);
    if (code) byExternal.set(row.externalId, { friendCode: code.friendCode, status: code.status });
  }
  return byExternal;
}

/** A referral as the ledger and the referrals table hold it now. */
export interface ReferralOutcome {
  orderId: string;
  status: string;
  reasons: { rule: string }[];
  reviewedBy: string | null;
  referralId: number;
}

export async function referralOutcomes(
  db: Executor,
  shopId: number,
  orderIds: readonly string[],
): Promise<Map<string, ReferralOutcome>> {
  if (orderIds.length === 0) return new Map();
  const rows = await db
    .select()
    .from(referrals)
    .where(and(eq(referrals.shopId, shopId), inArray(referrals.shopifyOrderId, [...orderIds])));
  return new Map(
    rows.map((r) => [
      r.shopifyOrderId,
      {
        orderId: r.shopifyOrderId,
        status: r.status,
        reasons: r.reasons as { rule: string }[],
        reviewedBy: r.reviewedBy,
        referralId: r.id,
      },
    ]),
  );
}

/** Ledger entry key → points, for the referral entries the ledger should hold. */
export type ExpectedLedger = Map<string, { customer: string; points: number }>;

/**
 * What the ledger should hold for the cases, from the demo's own reading of the program: a reward
 * of the program's points for each rewarded or reversed referral, its exact opposite for each
 * reversed one, nothing for held or rejected ones. A held referral the merchant has since approved
 * (reviewed, now rewarded) has its reward too.
 */
export function expectedReferralLedger(
  cases: readonly ReferralCase[],
  outcomes: ReadonlyMap<string, ReferralOutcome>,
  points = DEMO_REFERRER_POINTS,
): ExpectedLedger {
  const expected: ExpectedLedger = new Map();
  for (const c of cases) {
    const outcome = outcomes.get(c.orderId);
    if (!outcome) continue;
    const approved =
      c.expected === 'held' && outcome.reviewedBy !== null && outcome.status === 'rewarded';
    if (c.expected === 'rewarded' || c.expected === 'reversed' || approved) {
      expected.set(`referral:${outcome.referralId}:reward`, { customer: c.referrerId, points });
    }
    if (c.expected === 'reversed') {
      expected.set(`referral:${outcome.referralId}:reverse`, {
        customer: c.referrerId,
        points: -points,
      });
    }
  }
  return expected;
}

/** Every difference between the referral cases and what Laurel recorded, in sentences. */
export async function referralDifferences(
  db: Executor,
  shopId: number,
  cases: readonly ReferralCase[],
): Promise<{ problems: string[]; outcomes: Map<string, ReferralOutcome> }> {
  const outcomes = await referralOutcomes(
    db,
    shopId,
    cases.map((c) => c.orderId),
  );
  const problems: string[] = [];
  for (const c of cases) {
    const outcome = outcomes.get(c.orderId);
    if (!outcome) {
      problems.push(`${c.orderName} (${c.label}): no referral recorded, expected ${c.expected}`);
      continue;
    }
    // A held referral may have been reviewed since (in the admin, or by the e2e tests).
    const reviewed = c.expected === 'held' && outcome.reviewedBy !== null;
    if (outcome.status !== c.expected && !reviewed) {
      problems.push(
        `${c.orderName} (${c.label}): ${outcome.status} (${outcome.reasons.map((r) => r.rule).join(', ') || 'no reasons'}), expected ${c.expected}`,
      );
    }
  }
  const expected = expectedReferralLedger(cases, outcomes);
  const ids = [...outcomes.values()].map((o) => o.referralId);
  const entries =
    ids.length === 0
      ? []
      : await db
          .select({
            key: ledgerEntries.idempotencyKey,
            points: ledgerEntries.points,
            customer: customers.externalId,
          })
          .from(ledgerEntries)
          .innerJoin(customers, eq(customers.id, ledgerEntries.customerId))
          .where(
            and(
              eq(ledgerEntries.shopId, shopId),
              eq(ledgerEntries.source, 'referral'),
              inArray(
                ledgerEntries.idempotencyKey,
                ids.flatMap((id) => [`referral:${id}:reward`, `referral:${id}:reverse`]),
              ),
            ),
          )
          .orderBy(asc(ledgerEntries.id));
  const seen = new Set<string>();
  for (const entry of entries) {
    seen.add(entry.key);
    const want = expected.get(entry.key);
    if (!want) {
      problems.push(`${entry.key}: ${entry.points} points to ${entry.customer}, expected none`);
    } else if (want.points !== entry.points || want.customer !== entry.customer) {
      problems.push(
        `${entry.key}: ${entry.points} points to ${entry.customer}, expected ${want.points} to ${want.customer}`,
      );
    }
  }
  for (const [key, want] of expected) {
    if (!seen.has(key))
      problems.push(`${key}: missing (${want.points} points to ${want.customer})`);
  }
  return { problems, outcomes };
}

/** "2 rewarded, 1 held, 1 rejected, 1 reversed" over the cases' referrals as they stand now. */
export function referralCounts(outcomes: ReadonlyMap<string, ReferralOutcome>): string {
  const by = (s: string) => [...outcomes.values()].filter((o) => o.status === s).length;
  return (['rewarded', 'held', 'rejected', 'reversed'] as const)
    .map((s) => `${by(s)} ${s}`)
    .join(', ');
}

/**
 * GET /apps/loyalty/r/<code> as Shopify's app proxy forwards a shopper's visit (signed, nobody
 * logged in): the landing's status and Location.
 */
export async function shareLinkLanding(options: {
  shop: string;
  secret: string;
  baseUrl: string;
  code: string;
}): Promise<{ status: number; location: string | null }> {
  const query = new Map<string, string[]>([
    ['shop', [options.shop]],
    ['logged_in_customer_id', ['']],
    ['path_prefix', ['/apps/loyalty']],
    ['timestamp', [String(Math.trunc(Date.now() / 1000))]],
  ]);
  query.set('signature', [appProxySignature(query, options.secret)]);
  const search = new URLSearchParams([...query].map(([name, [value]]) => [name, value!]));
  const response = await fetch(
    `${options.baseUrl}/proxy/r/${encodeURIComponent(options.code)}?${search}`,
    { redirect: 'manual', headers: { 'X-Forwarded-For': '198.51.100.99' } },
  );
  await response.body?.cancel();
  return { status: response.status, location: response.headers.get('location') };
}

/** The codes of `cast`'s referrers that are active at Shopify (in the friend discount). */
export async function activeReferrerCodes(
  db: Executor,
  shopId: number,
  cast: ReferralCast,
): Promise<Map<string, string>> {
  const rows = await db
    .select({ externalId: customers.externalId, friendCode: referralCodes.friendCode })
    .from(referralCodes)
    .innerJoin(customers, eq(customers.id, referralCodes.customerId))
    .where(
      and(
        eq(referralCodes.shopId, shopId),
        eq(referralCodes.status, 'active'),
        inArray(
          customers.externalId,
          cast.referrers.map((r) => String(r.id)),
        ),
      ),
    );
  return new Map(rows.map((r) => [r.externalId, r.friendCode]));
}

// ---------------------------------------------------------------------------------------------
// The demo's run

export interface DemoReferrals {
  ok: boolean;
  /** What the demo prints. */
  lines: string[];
  /** The friends' deliveries (their own orders earn too: the report's expectation includes them). */
  deliveries: Delivery[];
  /** The first referrer's share link, e.g. for the admin and e2e. */
  shareLink: string | null;
}

/**
 * The referral scenario end to end after the history's replay: the referrers' codes made and put
 * into the friend discount by the referral code sync (`syncCodes`, run until they are active at
 * Shopify), the friends' deliveries seeded at the emulator (`seed`) and replayed through the real
 * webhook endpoints, the workers waited for, what Laurel recorded checked against the cases, and
 * one share-link landing through the app proxy.
 */
export async function demoReferrals(options: {
  db: Database;
  shopId: number;
  shop: string;
  timezone: string;
  history: readonly Delivery[];
  secret: string;
  baseUrl: string;
  syncCodes: () => Promise<unknown>;
  seed: (deliveries: readonly Delivery[]) => void;
  names: ReadonlyMap<string, string>;
  timeoutMs: number;
}): Promise<DemoReferrals> {
  const { db, shopId } = options;
  const none = (line: string): DemoReferrals => ({
    ok: true,
    lines: [line],
    deliveries: [],
    shareLink: null,
  });
  const cast = referralCast(options.history);
  if (!cast) return none('Referrals: the history has too few customers with orders to show them.');
  const current = await currentReferralProgram(db, shopId);
  if (!current?.program.enabled) {
    return none('Referrals: off (turned off in the admin); no referred orders were sent.');
  }
  await referrerCodes(db, shopId, cast, current.program.codePrefix);
  const deadline = Date.now() + options.timeoutMs;
  let codes = await activeReferrerCodes(db, shopId, cast);
  while (codes.size < cast.referrers.length) {
    if (Date.now() > deadline) {
      return {
        ...none(
          `Referrals: the referral code sync did not put the referrers' codes into the friend discount within ${Math.round(options.timeoutMs / 1000)} s; see the app log.`,
        ),
        ok: false,
      };
    }
    await options.syncCodes();
    codes = await activeReferrerCodes(db, shopId, cast);
    if (codes.size < cast.referrers.length) await sleep(250);
  }

  const scenario = referralDeliveries({
    shop: options.shop,
    timezone: options.timezone,
    history: options.history,
    cast,
    codes,
  });
  options.seed(scenario.deliveries);
  await replayDeliveries({
    baseUrl: options.baseUrl,
    shop: options.shop,
    secret: options.secret,
    deliveries: scenario.deliveries,
  });
  const waited = await waitForWorkers(db, options.shop, { progress: false });
  const { problems, outcomes } = await referralDifferences(db, shopId, scenario.cases);

  const [first] = scenario.cases;
  const code = first!.friendCode;
  const landing = await shareLinkLanding({ ...options, code });
  const wantLocation = `/discount/${encodeURIComponent(code)}?`;
  const landed = landing.status === 302 && (landing.location ?? '').startsWith(wantLocation);
  if (!landed) {
    problems.push(
      `the share link answered ${landing.status} ${landing.location ?? '(no Location)'}, expected 302 ${wantLocation}…`,
    );
  }
  if (waited.stalled) problems.push('the workers did not finish the referred orders in time');

  const net = [...expectedReferralLedger(scenario.cases, outcomes).values()].reduce(
    (sum, e) => sum + e.points,
    0,
  );
  const who = (c: ReferralCase) =>
    `${c.friend}, referred by ${options.names.get(c.referrerId) || c.referrerId}`;
  const shareLink = `https://${options.shop}/apps/loyalty/r/${code}`;
  const lines = [
    `Referrals: ${referralCounts(outcomes)}; ${net.toLocaleString('en-US')} points to referrers, net (program: 10% off a friend's first order, ${DEMO_REFERRER_POINTS} points from $25).`,
    ...scenario.cases.map((c) => {
      const status = outcomes.get(c.orderId)?.status ?? 'not recorded';
      return `  ${`${who(c)}:`.padEnd(44)} ${c.orderName} with ${c.friendCode}, ${c.why}: ${status}`;
    }),
    `  Share link:                                ${shareLink} → ${landing.status} ${landing.location ?? ''}`,
  ];
  if (problems.length === 0) {
    lines.push(
      '  Check: each referral and its ledger entries are as the cases say (dev/demo/referral-check.ts).',
    );
  } else {
    lines.push('  Check: the referrals DISAGREE with the cases (dev/demo/referral-check.ts):');
    for (const p of problems) lines.push(`    ${p}`);
  }
  return { ok: problems.length === 0, lines, deliveries: scenario.deliveries, shareLink };
}

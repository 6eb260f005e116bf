/**
 * The referral friend discount made real on Shopify (docs/referrals.md, "The friend discount"):
 * ONE code discount per shop holding every member's friend code — the first code at its create,
 * the rest added 250 at a time with discountRedeemCodeBulkAdd — limited to a segment of customers
 * with no orders (`number_of_orders = 0`), once per customer, no total limit, its value and minimum
 * those of the referral program in force; deactivated while the program is disabled. A member's
 * code becomes `active` once Shopify holds it, and the member is marked for the metafield sync,
 * which writes it as `$app.referral_code`.
 *
 * Idempotent and safe to re-run after a crash anywhere: the discount is found by the id recorded,
 * else by its first code (a create whose answer was lost), before one is made; a code Shopify
 * refuses as taken is looked up, and counts as added when our discount holds it (an add whose
 * outcome was lost). One run per shop at a time, with every other Shopify writer of the shop: it
 * holds the shop's metafield sync lease (app/models/metafield-sync.server.ts).
 */
import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { Database } from '../db/client.server';
import { formatMoney, parseMoney } from '../loyalty/money';
import type { CompiledReferralProgram } from '../loyalty/referrals';
import { AppError, ErrorCode } from './errors';
import {
  DiscountCodeActivate,
  DiscountCodeBasicCreate,
  DiscountCodeBasicUpdate,
  DiscountCodeDeactivate,
  DiscountRedeemCodeBulkAdd,
  DiscountRedeemCodeBulkCreation,
  ReferralCodeOwner,
  ReferralDiscount,
  SegmentById,
  SegmentCreate,
  TierPerkSegments,
  type AdminDocument,
  type BulkCreationCodeResult,
  type DiscountCodeBasicInput,
  type ReferralDiscountResult,
  type SegmentResult,
  type TierPerkSegmentsResult,
} from './graphql';
import {
  acquireSyncLease,
  markMembersPending,
  programSummaryDue,
  releaseSyncLease,
  renewSyncLease,
} from './models/metafield-sync.server';
import {
  ensureReferralCodes,
  membersWithoutCodes,
  pendingReferralCodes,
  setReferralCodeStatus,
  type ReferralCode,
} from './models/referral-codes.server';
import {
  getReferralDiscount,
  recordReferralDiscount,
  recordReferralDiscountError,
  redrawReferralCode,
  reopenActiveCodes,
  type ReferralDiscountRow,
} from './models/referral-discounts.server';
import { currentReferralProgram } from './models/referral-programs.server';
import type { Shop } from './models/shops.server';
import { AdminApiError, type AdminClient } from './shopify/admin-client.server';

/** What the merchant sees in Discounts; a lookup by code adopts only a discount with this title. */
export const REFERRAL_DISCOUNT_TITLE = "Laurel referral: a friend's welcome discount";
export const REFERRAL_SEGMENT_NAME = 'Laurel referral: customers with no orders';
/** New customers: the friend discount is for a first order. */
export const REFERRAL_SEGMENT_QUERY = 'number_of_orders = 0';
/** Shopify's maximum codes per discountRedeemCodeBulkAdd. */
export const CODES_PER_BULK_ADD = 250;
/** Members given a code per statement. */
const MEMBER_PAGE = 500;

export interface ReferralSyncOptions {
  log?: Logger;
  /** Codes made and codes added in one run at most; the rest are left for the next (`more`). */
  maxCodes?: number;
  /** How long a run waits for one bulk creation to be done before leaving it to the next run. */
  bulkWaitMs?: number;
  /** The lease's length; renewed before each Shopify write. Default 60 s. */
  leaseMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export type ReferralDiscountOutcome =
  'created' | 'updated' | 'activated' | 'deactivated' | 'current' | 'none';

export interface ReferralSyncCounts {
  /** The referral program version in force, and whether it is enabled. */
  version: number;
  enabled: boolean;
  discount: ReferralDiscountOutcome;
  /** Members given a code in this run. */
  codesMade: number;
  /** Codes Shopify now holds (their members marked for the metafield sync). */
  activated: number;
  /** Codes Shopify refused for good (status failed). */
  failed: number;
  /** Codes refused as taken by another discount and drawn again (pending). */
  redrawn: number;
  /** Work is left (the run's limit, a bulk creation not done yet): run again. */
  more: boolean;
}

export type ReferralSyncResult =
  | {
      status: 'skipped';
      /** no-program: none in force; busy: another run holds the shop's lease. */
      reason: 'no-program' | 'busy';
    }
  | ({ status: 'synced' } & ReferralSyncCounts)
  /** Shopify refused the discount or segment: why (also in referral_discounts.last_error). */
  | ({ status: 'failed'; error: string } & ReferralSyncCounts);

type Counts = ReferralSyncCounts;

/**
 * Brings the shop's friend discount and codes in line with its referral program in force at `now`.
 * Transient Shopify failures are recorded and thrown (the job retries); refusals are recorded and
 * answered as `failed` (the sweep tries again later).
 */
export async function syncReferralCodes(
  db: Database,
  shop: Shop,
  client: AdminClient,
  now: Date = new Date(),
  options: ReferralSyncOptions = {},
): Promise<ReferralSyncResult> {
  const log = (options.log ?? pino({ level: 'silent' })).child({
    shop: shop.domain,
    component: 'referral-sync',
  });
  const current = await currentReferralProgram(db, shop.id, now);
  if (!current) return { status: 'skipped', reason: 'no-program' };
  const leaseMs = options.leaseMs ?? 60_000;
  const owner = randomUUID();
  if (!(await acquireSyncLease(db, shop.id, owner, leaseMs))) {
    return { status: 'skipped', reason: 'busy' };
  }
  const run = new ReferralRun(db, shop, client, now, current.version, current.program, {
    log,
    owner,
    leaseMs,
    maxCodes: options.maxCodes ?? 2_000,
    bulkWaitMs: options.bulkWaitMs ?? 10_000,
    sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
  });
  try {
    const counts = await run.sync();
    if (
      counts.codesMade + counts.activated + counts.failed + counts.redrawn > 0 ||
      counts.discount !== 'current'
    ) {
      log.info({ ...counts }, 'referral codes synced');
    }
    return { status: 'synced', ...counts };
  } catch (error) {
    const message = (error as Error).message;
    await recordReferralDiscountError(db, shop.id, message);
    if (error instanceof AdminApiError && !error.transient && error.code !== 'OUTCOME_UNKNOWN') {
      log.error({ err: message }, 'Shopify refused the referral discount; the sweep tries again');
      return { status: 'failed', ...run.counts, error: message };
    }
    throw error;
  } finally {
    await releaseSyncLease(db, shop.id, owner).catch((error: Error) =>
      log.warn({ err: error.message }, 'could not release the sync lease; it expires'),
    );
  }
}

interface RunSettings {
  log: Logger;
  owner: string;
  leaseMs: number;
  maxCodes: number;
  bulkWaitMs: number;
  sleep: (ms: number) => Promise<void>;
}

interface HeldDiscount {
  id: string;
  status: string;
  /** Whether it is as the program wants it (value, minimum, segment, once per customer). */
  matches: boolean;
}

class ReferralRun {
  readonly counts: Counts;
  private leaseValidUntil: number;

  constructor(
    private readonly db: Database,
    private readonly shop: Shop,
    private readonly client: AdminClient,
    private readonly now: Date,
    private readonly version: number,
    private readonly program: CompiledReferralProgram,
    private readonly settings: RunSettings,
  ) {
    this.counts = {
      version,
      enabled: program.enabled,
      discount: 'current',
      codesMade: 0,
      activated: 0,
      failed: 0,
      redrawn: 0,
      more: false,
    };
    this.leaseValidUntil = performance.now() + settings.leaseMs;
  }

  /** A Shopify call made only while the lease is certainly ours (renewed past its half). */
  private async call<R, V>(document: AdminDocument<R, V>, variables: V): Promise<R> {
    if (this.leaseValidUntil - performance.now() < this.settings.leaseMs / 2) {
      const askedAt = performance.now();
      const { db, shop, settings } = this;
      if (!(await renewSyncLease(db, shop.id, settings.owner, settings.leaseMs))) {
        throw new AppError(
          ErrorCode.UNAVAILABLE,
          `the sync lease of ${shop.domain} expired mid-run; stopped before writing`,
        );
      }
      this.leaseValidUntil = askedAt + settings.leaseMs;
    }
    const request = this.client.request as (d: AdminDocument<R, V>, v: V) => Promise<R>;
    return request(document, variables);
  }

  async sync(): Promise<Counts> {
    const row = await getReferralDiscount(this.db, this.shop.id);
    if (!this.program.enabled) {
      await this.disable(row);
      return this.counts;
    }
    await this.makeCodes();
    const segmentId = await this.ensureSegment(row?.segmentId ?? null);
    const discountId = await this.ensureDiscount(row, segmentId);
    await recordReferralDiscount(this.db, this.shop.id, {
      discountId,
      segmentId,
      syncedVersion: this.version,
    });
    // The summary's referral offer reads from the version in force: Shopify's copy is read back.
    if (row?.syncedVersion !== this.version) await programSummaryDue(this.db, this.shop.id);
    if (discountId) await this.addPendingCodes(discountId);
    return this.counts;
  }

  /** Disabled: the discount (if any) ends now; codes are neither made nor added meanwhile. */
  private async disable(row: ReferralDiscountRow | undefined): Promise<void> {
    if (row?.syncedVersion === this.version) return;
    if (row?.discountId) {
      const held = await this.readDiscount(row.discountId, row.segmentId);
      if (held && held.status !== 'EXPIRED') {
        await this.call(DiscountCodeDeactivate, { id: held.id });
        this.counts.discount = 'deactivated';
      }
    }
    await recordReferralDiscount(this.db, this.shop.id, {
      discountId: row?.discountId ?? null,
      segmentId: row?.segmentId ?? null,
      syncedVersion: this.version,
    });
    await programSummaryDue(this.db, this.shop.id);
  }

  /** Codes for members who have none, a page at a time, up to the run's limit. */
  private async makeCodes(): Promise<void> {
    for (;;) {
      const room = this.settings.maxCodes - this.counts.codesMade;
      if (room <= 0) {
        this.counts.more = true;
        return;
      }
      const members = await membersWithoutCodes(this.db, this.shop.id, Math.min(MEMBER_PAGE, room));
      if (members.length === 0) return;
      const made = await ensureReferralCodes(
        this.db,
        this.shop.id,
        members,
        this.program.codePrefix,
      );
      this.counts.codesMade += made.size;
      if (made.size < members.length) {
        throw new Error(
          `could not draw free referral codes for ${members.length - made.size} members`,
        );
      }
    }
  }

  /** The "no orders" segment: the one recorded, else ours by name, else a new one. */
  private async ensureSegment(recorded: string | null): Promise<string> {
    if (recorded) {
      const { segment } = await this.call(SegmentById, { id: recorded });
      if (segment && segment.query === REFERRAL_SEGMENT_QUERY) return segment.id;
    }
    const ours = (await this.allSegments()).find(
      (s) => s.name === REFERRAL_SEGMENT_NAME && s.query === REFERRAL_SEGMENT_QUERY,
    );
    if (ours) return ours.id;
    const created = await this.call(SegmentCreate, {
      name: REFERRAL_SEGMENT_NAME,
      query: REFERRAL_SEGMENT_QUERY,
    });
    return created.segmentCreate!.segment!.id;
  }

  private async allSegments(): Promise<SegmentResult[]> {
    const out: SegmentResult[] = [];
    let after: string | null = null;
    for (;;) {
      const page: TierPerkSegmentsResult = await this.call(TierPerkSegments, { after });
      out.push(...page.segments.nodes);
      if (!page.segments.pageInfo.hasNextPage) return out;
      after = page.segments.pageInfo.endCursor;
    }
  }

  /** The discount's value, minimum and buyers as the program in force wants them. */
  private desired(segmentId: string): DiscountCodeBasicInput {
    const { friendDiscount, friendMinimumOrderMinor, currency } = this.program;
    return {
      title: REFERRAL_DISCOUNT_TITLE,
      context: { customerSegments: { add: [segmentId] } },
      appliesOncePerCustomer: true,
      usageLimit: null,
      customerGets: {
        value:
          friendDiscount.kind === 'percentage'
            ? { percentage: friendDiscount.percentage / 100 }
            : {
                discountAmount: {
                  amount: formatMoney(friendDiscount.amountMinor, currency),
                  appliesOnEachItem: false,
                },
              },
        items: { all: true },
      },
      minimumRequirement:
        friendMinimumOrderMinor === null
          ? null
          : {
              subtotal: {
                greaterThanOrEqualToSubtotal: formatMoney(friendMinimumOrderMinor, currency),
              },
            },
      // Free shipping (a tier's perk) still goes with a friend's welcome discount.
      combinesWith: { orderDiscounts: false, productDiscounts: false, shippingDiscounts: true },
    };
  }

  /** What Shopify holds under `id`, compared with the program; null when it is gone. */
  private async readDiscount(id: string, segmentId: string | null): Promise<HeldDiscount | null> {
    const { discountNode }: ReferralDiscountResult = await this.call(ReferralDiscount, { id });
    if (!discountNode || discountNode.discount.__typename !== 'DiscountCodeBasic') return null;
    const held = discountNode.discount;
    const { friendDiscount, friendMinimumOrderMinor, currency } = this.program;
    const value = held.customerGets.value;
    const valueMatches =
      friendDiscount.kind === 'percentage'
        ? value.__typename === 'DiscountPercentage' &&
          Math.round(value.percentage * 100) === friendDiscount.percentage
        : value.__typename === 'DiscountAmount' &&
          !value.appliesOnEachItem &&
          parseMoney(value.amount.amount, currency) === friendDiscount.amountMinor;
    const minimum = held.minimumRequirement?.greaterThanOrEqualToSubtotal;
    const minimumMatches =
      friendMinimumOrderMinor === null
        ? held.minimumRequirement === null
        : minimum !== undefined && parseMoney(minimum.amount, currency) === friendMinimumOrderMinor;
    const segments =
      held.context.__typename === 'DiscountCustomerSegments' && 'segments' in held.context
        ? held.context.segments.map((s) => s.id)
        : [];
    return {
      id: discountNode.id,
      status: held.status,
      matches:
        valueMatches &&
        minimumMatches &&
        held.appliesOncePerCustomer &&
        held.usageLimit === null &&
        held.title === REFERRAL_DISCOUNT_TITLE &&
        segments.length === 1 &&
        segments[0] === segmentId,
    };
  }

  /**
   * The discount as the program wants it and active: the one recorded (updated, activated), else
   * one made by an earlier run whose answer was lost (found by its first code), else a new one
   * with the first pending code. Null while no member has a code to make it with.
   */
  private async ensureDiscount(
    row: ReferralDiscountRow | undefined,
    segmentId: string,
  ): Promise<string | null> {
    let held = row?.discountId ? await this.readDiscount(row.discountId, segmentId) : null;
    if (row?.discountId && !held) {
      // Deleted in the admin, with every code it held: they go into the discount made next.
      const reopened = await reopenActiveCodes(this.db, this.shop.id);
      this.settings.log.warn(
        { discountId: row.discountId, reopened },
        'the referral friend discount is gone from Shopify; making it again',
      );
    }
    while (!held) {
      const [first] = await pendingReferralCodes(this.db, this.shop.id, 1);
      if (!first) return null;
      const owner = await this.ownerOf(first.friendCode);
      if (owner === 'elsewhere') {
        await this.refusedAsTaken(first);
        continue;
      }
      let id = owner;
      if (id === null) {
        const created = await this.call(DiscountCodeBasicCreate, {
          basicCodeDiscount: {
            ...this.desired(segmentId),
            code: first.friendCode,
            startsAt: this.now.toISOString(),
          },
        });
        id = created.discountCodeBasicCreate!.codeDiscountNode!.id;
        this.counts.discount = 'created';
      }
      // Recorded before anything else can fail, so a later crash never makes a second one.
      await recordReferralDiscount(this.db, this.shop.id, {
        discountId: id,
        segmentId,
        syncedVersion: row?.syncedVersion ?? null,
      });
      await this.activate([first]);
      held = await this.readDiscount(id, segmentId);
      if (!held) throw new Error(`the referral discount ${id} vanished right after it was made`);
    }
    if (!held.matches) {
      const {
        title,
        context,
        appliesOncePerCustomer,
        usageLimit,
        customerGets,
        minimumRequirement,
        combinesWith,
      } = this.desired(segmentId);
      await this.call(DiscountCodeBasicUpdate, {
        id: held.id,
        basicCodeDiscount: {
          title,
          context,
          appliesOncePerCustomer,
          usageLimit,
          customerGets: { value: customerGets!.value },
          minimumRequirement,
          combinesWith,
        },
      });
      if (this.counts.discount === 'current') this.counts.discount = 'updated';
    }
    if (held.status !== 'ACTIVE') {
      await this.call(DiscountCodeActivate, { id: held.id });
      if (this.counts.discount === 'current') this.counts.discount = 'activated';
    }
    return held.id;
  }

  /** Which discount holds `code`: ours (its id), another one, or none. */
  private async ownerOf(code: string): Promise<string | 'elsewhere' | null> {
    const { codeDiscountNodeByCode: node } = await this.call(ReferralCodeOwner, { code });
    if (!node) return null;
    const ours =
      node.codeDiscount.__typename === 'DiscountCodeBasic' &&
      node.codeDiscount.title === REFERRAL_DISCOUNT_TITLE;
    return ours ? node.id : 'elsewhere';
  }

  /** Pending codes into the discount, CODES_PER_BULK_ADD a call, each outcome recorded. */
  private async addPendingCodes(discountId: string): Promise<void> {
    let added = 0;
    for (;;) {
      if (added >= this.settings.maxCodes) {
        this.counts.more = true;
        return;
      }
      const pending = await pendingReferralCodes(this.db, this.shop.id, CODES_PER_BULK_ADD);
      if (pending.length === 0) return;
      added += pending.length;
      const { discountRedeemCodeBulkAdd: payload } = await this.call(DiscountRedeemCodeBulkAdd, {
        discountId,
        codes: pending.map((c) => ({ code: c.friendCode })),
      });
      const results = await this.bulkResults(payload!.bulkCreation!.id);
      if (!results) {
        // Still queued at Shopify: the next run adds them again and finds them ours.
        this.counts.more = true;
        return;
      }
      await this.settle(pending, results, discountId);
    }
  }

  /** The bulk creation's outcome per code once done, waiting up to bulkWaitMs; null if not done. */
  private async bulkResults(id: string): Promise<Map<string, BulkCreationCodeResult> | null> {
    const started = performance.now();
    for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
      const first = await this.call(DiscountRedeemCodeBulkCreation, { id, after: null });
      const creation = first.discountRedeemCodeBulkCreation;
      if (!creation) throw new Error(`Shopify has no bulk creation ${id}`);
      if (creation.done) {
        const results = new Map<string, BulkCreationCodeResult>();
        let page = creation.codes;
        for (;;) {
          for (const node of page.nodes) results.set(node.code.trim().toUpperCase(), node);
          if (!page.pageInfo.hasNextPage) return results;
          const next = await this.call(DiscountRedeemCodeBulkCreation, {
            id,
            after: page.pageInfo.endCursor,
          });
          page = next.discountRedeemCodeBulkCreation!.codes;
        }
      }
      if (performance.now() - started + wait > this.settings.bulkWaitMs) return null;
      await this.settings.sleep(wait);
    }
  }

  /**
   * Records a bulk creation's outcome: added codes are active; a code refused as taken is ours when
   * our discount holds it (an earlier add whose outcome was lost), else drawn again; any other
   * refusal fails the code with Shopify's reason.
   */
  private async settle(
    pending: ReferralCode[],
    results: Map<string, BulkCreationCodeResult>,
    discountId: string,
  ): Promise<void> {
    const active: ReferralCode[] = [];
    for (const code of pending) {
      const result = results.get(code.friendCode);
      if (!result) {
        // Not reported (Shopify lists every code it was given): left pending for the next run.
        this.counts.more = true;
        continue;
      }
      if (result.errors.length === 0) {
        active.push(code);
        continue;
      }
      const reason = result.errors.map((e) => e.message).join('; ');
      if (result.errors.some((e) => e.code === 'TAKEN')) {
        const owner = await this.ownerOf(code.friendCode);
        if (owner === discountId) active.push(code);
        else await this.refusedAsTaken(code);
        continue;
      }
      await setReferralCodeStatus(this.db, this.shop.id, [code.id], 'failed', reason);
      this.counts.failed++;
      this.settings.log.warn(
        { codeId: code.id, customerId: code.customerId, reason },
        'Shopify refused a referral code',
      );
    }
    await this.activate(active);
  }

  /** Codes Shopify holds in our discount: active, their members' metafields due, in one commit. */
  private async activate(codes: ReferralCode[]): Promise<void> {
    if (codes.length === 0) return;
    await this.db.transaction(async (tx) => {
      await setReferralCodeStatus(
        tx,
        this.shop.id,
        codes.map((c) => c.id),
        'active',
      );
      await markMembersPending(
        tx,
        this.shop.id,
        codes.map((c) => c.customerId),
      );
    });
    this.counts.activated += codes.length;
  }

  /** Another discount of the shop holds the code: the member gets a fresh one (never shown). */
  private async refusedAsTaken(code: ReferralCode): Promise<void> {
    const reason = `${code.friendCode} is taken by another discount at Shopify; drew a new code`;
    await redrawReferralCode(this.db, this.shop.id, code.id, this.program.codePrefix, reason);
    this.counts.redrawn++;
    this.settings.log.warn({ codeId: code.id, customerId: code.customerId }, reason);
  }
}

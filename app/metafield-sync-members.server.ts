/**
 * Each member's metafields and tier tag on Shopify: points balance and lifetime points, with a tier
 * program the tier key, tier status and tier tag, and an active referral code. Written in batches
 * of metafieldsSet calls by a metafield sync run (app/metafield-sync.server.ts), whose lease fences
 * every call made here. Design: docs/metafields.md, docs/referrals.md.
 */
import type { Logger } from 'pino';
import type { Database } from '../db/client.server';
import { currencyDigits } from '../loyalty/money';
import { tierByKey, tierProgress } from '../loyalty/tiers';
import {
  CustomerTierTags,
  MetafieldsDelete,
  TagsAdd,
  MetafieldsSet,
  type MetafieldsSetInput,
  type UserError,
} from './graphql';
import {
  CUSTOMER_METAFIELD_NAMESPACE,
  CUSTOMER_METAFIELDS,
  customerGid,
  isShopifyCustomerId,
  METAFIELDS_PER_SET,
  type TierStatus,
} from './metafields';
import {
  pendingMembers,
  recordSynced,
  recordSyncedTags,
  recordSyncFailures,
  type PendingMember,
} from './models/metafield-sync.server';
import type { CurrentTierProgram } from './models/tiers.server';
import type { AdminCall } from './tier-perks.server';
import { AdminApiError } from './shopify/admin-client.server';

/** The metafields written per member. */
const MEMBER_METAFIELDS = [CUSTOMER_METAFIELDS.pointsBalance, CUSTOMER_METAFIELDS.lifetimePoints];
/** Written too, for every member, when the shop has a tier program (`tier` only with a tier). */
const TIER_METAFIELDS = [CUSTOMER_METAFIELDS.tier, CUSTOMER_METAFIELDS.tierStatus];
/** Written too for a member whose referral code Shopify holds (docs/referrals.md). */
const REFERRAL_METAFIELDS = [CUSTOMER_METAFIELDS.referralCode];
/** A member's metafields go in one call (all or none), so at most this many members per call. */
export const MEMBERS_PER_CALL = Math.floor(METAFIELDS_PER_SET / MEMBER_METAFIELDS.length);
/** The same with the tier metafields (a shop with a tier program): 25 / 4. */
export const TIER_MEMBERS_PER_CALL = Math.floor(
  METAFIELDS_PER_SET / (MEMBER_METAFIELDS.length + TIER_METAFIELDS.length),
);
/** Members read per statement (the run's first read, under the lease, too). */
export const READ_CHUNK = MEMBERS_PER_CALL * 10;
/** metafieldsSet calls a run has in flight at once. */
export const CALLS_IN_FLIGHT = 4;

/** What the member writes use of the run that holds the shop's lease. */
export interface MemberSyncRun {
  db: Database;
  shopId: number;
  /** Fenced by the run's lease, so no write lands after another run has taken the shop over. */
  call: AdminCall;
  log: Logger;
}

/**
 * The member's tier status under the tier program in force: the tier they hold (a key this version
 * no longer has reads as none, as memberTier reads it) and the progress to the next.
 */
export function memberTierStatus(
  member: Pick<PendingMember, 'tier'>,
  tiers: CurrentTierProgram,
): TierStatus {
  const { program } = tiers;
  const row = member.tier;
  const tier = tierByKey(program, row?.tierKey ?? null);
  const value = row?.metricValue ?? 0;
  const progress = tierProgress(program, tier?.key ?? null, value);
  return {
    version: tiers.version,
    key: tier?.key ?? null,
    name: tier?.name ?? null,
    since: tier && row ? row.since.toISOString() : null,
    downgradeAt: tier && row?.downgradeAt ? row.downgradeAt.toISOString() : null,
    metric: program.metric,
    window: program.window,
    currency: program.metric === 'spend' ? program.currency : null,
    digits:
      program.metric === 'spend' && program.currency ? currencyDigits(program.currency) : null,
    value,
    next: progress.next && { ...progress.next, remaining: progress.remaining },
  };
}

/** The tier tag the member should carry (null: none) under the tier program in force. */
export function memberTierTag(
  member: Pick<PendingMember, 'tier'>,
  tiers: CurrentTierProgram,
): string | null {
  return tierByKey(tiers.program, member.tier?.tierKey ?? null)?.tag ?? null;
}

/**
 * The values a member's metafields get (integers as text, as metafieldsSet takes them): the points,
 * and with a tier program the tier key (when they hold one) and the tier status.
 */
export function memberMetafields(
  member: {
    externalId: string;
    balance: number;
    lifetimeEarned: number;
  } & Partial<Pick<PendingMember, 'tier' | 'referralCode'>>,
  tiers?: CurrentTierProgram | null,
): MetafieldsSetInput[] {
  const ownerId = customerGid(member.externalId);
  const value = { points_balance: member.balance, lifetime_points: member.lifetimeEarned };
  const inputs: MetafieldsSetInput[] = MEMBER_METAFIELDS.map((field) => ({
    ownerId,
    namespace: CUSTOMER_METAFIELD_NAMESPACE,
    key: field.key,
    type: field.type,
    value: String(value[field.key]),
  }));
  if (tiers) {
    const status = memberTierStatus({ tier: member.tier ?? null }, tiers);
    if (status.key !== null) {
      inputs.push({
        ownerId,
        namespace: CUSTOMER_METAFIELD_NAMESPACE,
        key: CUSTOMER_METAFIELDS.tier.key,
        type: CUSTOMER_METAFIELDS.tier.type,
        value: status.key,
      });
    }
    inputs.push({
      ownerId,
      namespace: CUSTOMER_METAFIELD_NAMESPACE,
      key: CUSTOMER_METAFIELDS.tierStatus.key,
      type: CUSTOMER_METAFIELDS.tierStatus.type,
      value: JSON.stringify(status),
    });
  }
  // Once written it stays: a code is never changed, and only an active one is ever written.
  if (member.referralCode) {
    inputs.push({
      ownerId,
      namespace: CUSTOMER_METAFIELD_NAMESPACE,
      key: CUSTOMER_METAFIELDS.referralCode.key,
      type: CUSTOMER_METAFIELDS.referralCode.type,
      value: member.referralCode,
    });
  }
  return inputs;
}

/**
 * Whether the member's `tier` metafield must be deleted: they hold no tier now and Shopify may
 * hold one — a tier tag was recorded, they changed tier before, or the last write failed midway.
 */
function mayHoldStaleTier(member: PendingMember, tiers: CurrentTierProgram): boolean {
  if (tierByKey(tiers.program, member.tier?.tierKey ?? null) !== null) return false;
  return (
    (member.tier?.syncedTag ?? null) !== null ||
    (member.tier?.changes ?? 0) > 0 ||
    member.lastError !== null
  );
}

/** Writes `first` (read with the lease), then reads on in customer id order. */
export async function syncMemberMetafields(
  run: MemberSyncRun,
  maxMembers: number,
  first: PendingMember[] | undefined,
  tiers: CurrentTierProgram | null = null,
) {
  const totals = { written: 0, failed: 0, skipped: 0, calls: 0, more: false };
  const tierPerCall = tiers ? TIER_MEMBERS_PER_CALL : MEMBERS_PER_CALL;
  // With a referral code each member has one metafield more: fewer fit in one call.
  const referralPerCall = Math.floor(
    METAFIELDS_PER_SET /
      (MEMBER_METAFIELDS.length +
        (tiers ? TIER_METAFIELDS.length : 0) +
        REFERRAL_METAFIELDS.length),
  );
  let after = 0;
  let prefetched: PendingMember[] | undefined = first;
  for (;;) {
    const room = maxMembers - (totals.written + totals.failed + totals.skipped);
    if (room <= 0) {
      totals.more = true;
      break;
    }
    const members =
      prefetched ??
      (await pendingMembers(run.db, run.shopId, {
        limit: Math.min(READ_CHUNK, room),
        afterCustomerId: after,
      }));
    prefetched = undefined;
    if (members.length === 0) break;
    after = members.at(-1)!.customerId;
    const last = members.length < Math.min(READ_CHUNK, room);
    const writable: PendingMember[] = [];
    const noTarget: { member: PendingMember; reason: string }[] = [];
    for (const member of members) {
      if (member.redacted) noTarget.push({ member, reason: 'redacted' });
      else if (!isShopifyCustomerId(member.externalId))
        noTarget.push({ member, reason: 'not a Shopify customer id' });
      else writable.push(member);
    }
    for (const reason of new Set(noTarget.map((n) => n.reason))) {
      const skipped = noTarget.filter((n) => n.reason === reason).map((n) => n.member);
      run.log.info(
        { customerIds: skipped.map((m) => m.customerId), reason },
        reason === 'redacted'
          ? 'metafields not written for redacted customers'
          : 'metafields not written for customers without a Shopify customer id (imported)',
      );
      await recordSynced(run.db, run.shopId, skipped, `skipped: ${reason}`);
      totals.skipped += skipped.length;
    }
    // A few batches at once (each member is in one batch only, so their order does not matter;
    // the Admin client paces them by the shop's cost bucket). A batch is one metafieldsSet, then
    // — only for members whose tier changed — a metafieldsDelete and a tag call each, so at
    // most CALLS_IN_FLIGHT calls are in flight. Recorded once per chunk, not per call: fewer
    // database round trips, and a write never recorded (a crash) is written again.
    const batches: PendingMember[][] = [];
    const perCall = writable.some((m) => m.referralCode) ? referralPerCall : tierPerCall;
    for (let start = 0; start < writable.length; start += perCall) {
      batches.push(writable.slice(start, start + perCall));
    }
    const written: PendingMember[] = [];
    const tags: { customerId: number; tag: string | null }[] = [];
    let failure: { error: unknown } | undefined;
    const worker = async () => {
      for (let batch = batches.shift(); batch && !failure; batch = batches.shift()) {
        try {
          const result = await writeMembers(run, batch, tiers);
          written.push(...result.written);
          tags.push(...result.tags);
          totals.failed += result.failed;
          totals.calls += result.calls;
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: CALLS_IN_FLIGHT }, worker));
    // Tags first: a member recorded as synced must have its tag recorded with it.
    await recordSyncedTags(run.db, run.shopId, tags);
    await recordSynced(run.db, run.shopId, written);
    totals.written += written.length;
    if (failure) throw failure.error;
    if (last) break;
  }
  return totals;
}

/**
 * One batch: its metafieldsSet; with a tier program, the `tier` metafield deleted for members
 * who left their tier, and the tier tag moved for members whose tag changed. A member counts as
 * written only when all of its steps were accepted; one Shopify refuses is recorded as failed
 * (retried with backoff, like a refused metafield) and the rest go on.
 */
async function writeMembers(
  run: MemberSyncRun,
  batch: PendingMember[],
  tiers: CurrentTierProgram | null,
) {
  const result = {
    written: [] as PendingMember[],
    tags: [] as { customerId: number; tag: string | null }[],
    failed: 0,
    calls: 0,
  };
  const set = await setMetafields(run, batch, tiers);
  result.calls += set.calls;
  result.failed += set.failed;
  let accepted = set.written;
  if (tiers && accepted.length > 0) {
    const deleted = await deleteStaleTiers(run, accepted, tiers);
    result.calls += deleted.calls;
    result.failed += deleted.failed;
    accepted = deleted.written;
    const tagged = await moveTierTags(run, accepted, tiers);
    result.calls += tagged.calls;
    result.failed += tagged.failed;
    accepted = tagged.written;
    result.tags.push(...tagged.tags);
  }
  result.written.push(...accepted);
  return result;
}

/**
 * One metafieldsSet for the batch. It is atomic, so when Shopify refuses some members
 * (userErrors name their element) those are recorded as failed and the rest sent again.
 */
async function setMetafields(
  run: MemberSyncRun,
  batch: PendingMember[],
  tiers: CurrentTierProgram | null,
) {
  const result = { written: [] as PendingMember[], failed: 0, calls: 0 };
  let remaining = batch;
  while (remaining.length > 0) {
    const owners: PendingMember[] = [];
    const inputs = remaining.flatMap((member) => {
      const fields = memberMetafields(member, tiers);
      for (let i = 0; i < fields.length; i++) owners.push(member);
      return fields;
    });
    try {
      result.calls++;
      await run.call(MetafieldsSet, { metafields: inputs });
      result.written.push(...remaining);
      return result;
    } catch (error) {
      const refused = await refusals(run, error, remaining, (index) => owners[index]);
      result.failed += refused.size;
      remaining = remaining.filter((m) => !refused.has(m));
    }
  }
  return result;
}

/** Deletes the `tier` metafield of members who hold no tier now but may have one on Shopify. */
async function deleteStaleTiers(
  run: MemberSyncRun,
  members: PendingMember[],
  tiers: CurrentTierProgram,
) {
  const result = { written: [...members], failed: 0, calls: 0 };
  const stale = members.filter((m) => mayHoldStaleTier(m, tiers));
  if (stale.length === 0) return result;
  result.calls++;
  try {
    await run.call(MetafieldsDelete, {
      metafields: stale.map((m) => ({
        ownerId: customerGid(m.externalId),
        namespace: CUSTOMER_METAFIELD_NAMESPACE,
        key: CUSTOMER_METAFIELDS.tier.key,
      })),
    });
  } catch (error) {
    // The delete's userErrors name no element: every member of it is retried.
    const refused = await refusals(run, error, stale, () => undefined);
    result.failed += refused.size;
    result.written = members.filter((m) => !refused.has(m));
  }
  return result;
}

/**
 * Moves each member's tier tag where it changed (the tag recorded differs from the one their
 * tier gives): one call per member, removing every other tier tag of the program and the one
 * recorded, adding theirs. Removing all of them, not only the recorded one, keeps one tier tag
 * even if a tag was added and never recorded (a crash between the two). A member never tagged
 * gets only the add (tagsAdd): a crash before its record is repaired by the same add next run.
 */
async function moveTierTags(
  run: MemberSyncRun,
  members: PendingMember[],
  tiers: CurrentTierProgram,
) {
  const result = {
    written: [] as PendingMember[],
    tags: [] as { customerId: number; tag: string | null }[],
    failed: 0,
    calls: 0,
  };
  const programTags = tiers.program.tiers.map((t) => t.tag);
  for (const member of members) {
    const tag = memberTierTag(member, tiers);
    const recorded = member.tier?.syncedTag ?? null;
    if (tag === recorded || member.tier === null) {
      result.written.push(member);
      continue;
    }
    const remove = [...new Set([...programTags, ...(recorded ? [recorded] : [])])].filter(
      (t) => t !== tag,
    );
    result.calls++;
    try {
      if (recorded === null && tag !== null) {
        // Never tagged by Laurel: adding is the whole move, at half the cost of a remove and an
        // add (Shopify's rate limit is per shop, and every new member gets here once).
        await run.call(TagsAdd, { id: customerGid(member.externalId), tags: [tag] });
      } else {
        await run.call(CustomerTierTags, {
          id: customerGid(member.externalId),
          add: tag ? [tag] : [],
          adding: tag !== null,
          remove,
          removing: remove.length > 0,
        });
      }
      result.written.push(member);
      result.tags.push({ customerId: member.customerId, tag });
    } catch (error) {
      const refused = await refusals(run, error, [member], () => member);
      result.failed += refused.size;
    }
  }
  return result;
}

/**
 * A refused call's members, recorded as failed (one more attempt, backoff, last_error). Rethrows
 * what is not a refusal: transient failures, a revoked token, a frozen shop.
 */
async function refusals(
  run: MemberSyncRun,
  error: unknown,
  members: PendingMember[],
  memberAt: (elementIndex: number) => PendingMember | undefined,
): Promise<Map<PendingMember, string[]>> {
  if (!(error instanceof AdminApiError) || error.transient || stopReason(error)) throw error;
  const refused = new Map<PendingMember, string[]>();
  if (error.code === 'USER_ERRORS') {
    for (const userError of error.userErrors as (UserError & {
      elementIndex?: number | null;
    })[]) {
      const member =
        typeof userError.elementIndex === 'number' ? memberAt(userError.elementIndex) : undefined;
      if (!member) continue;
      const messages = refused.get(member) ?? [];
      messages.push(describeUserError(userError));
      refused.set(member, messages);
    }
  }
  // Refused as a whole (no element named, or a GraphQL error about the document): every
  // member of the call counts a failure, so a bad call cannot repeat for ever.
  if (refused.size === 0) {
    for (const member of members) refused.set(member, [error.message]);
  }
  run.log.warn(
    {
      members: [...refused].map(([m, messages]) => ({
        customerId: m.customerId,
        attempt: m.attempts + 1,
        errors: messages,
      })),
    },
    'Shopify refused the metafields of some members; they stay pending and are retried with backoff',
  );
  await recordSyncFailures(
    run.db,
    run.shopId,
    [...refused].map(([m, messages]) => ({ ...m, error: messages.join('; ') })),
  );
  return refused;
}

/**
 * An Admin error that stops the whole run (the token or the shop), not a refusal of members: the
 * refusals rethrow it, and the run reports it as its skip reason.
 */
export function stopReason(error: unknown): 'unauthorized' | 'shop-unavailable' | undefined {
  if (!(error instanceof AdminApiError)) return undefined;
  if (error.code === 'UNAUTHORIZED') return 'unauthorized';
  if (error.code === 'HTTP_ERROR') return 'shop-unavailable';
  return undefined;
}

function describeUserError(error: UserError): string {
  const field = error.field?.length ? `${error.field.join('.')}: ` : '';
  return `${field}${error.message}${error.code ? ` (${error.code})` : ''}`;
}

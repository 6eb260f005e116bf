/**
 * Keeps Shopify's copy of early access equal to Laurel's: each covered product's `$app.early_access`
 * json metafield (the ProductMirror the theme block and the checkout Function read), deleted when no
 * window covers the product any more; and the shop's cart and checkout validation — created once
 * for the `laurel-early-access` Function — with its `$app.early_access_times` metafield holding the
 * Function's clock slots (functionTimeSlots of the windows still mirrored, rewritten as boundaries
 * pass). Run by the early-access sync job after a window is saved or archived and by its periodic
 * sweep (workers/handlers/early-access.ts). docs/early-access.md.
 *
 * One run per shop at a time: the run holds a per-shop transaction lock (pg_try_advisory_xact_lock)
 * and does its database work in that transaction, so two runs can never write two revisions of a
 * product out of order, nor create two validations. What it records is committed even when it
 * stops on a Shopify failure (the failure is rethrown after the commit so the job retries):
 * refusals are recorded per product (attempts, last_error) and retried by the next run, never lost.
 * A written revision is recorded only if it is still the product's revision; a product changed
 * meanwhile stays pending.
 */
import type { Logger } from 'pino';
import { sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/client.server';
import { functionTimeSlots } from '../loyalty/early-access';
import { remirrorShop } from './early-access.server';
import { env } from './env.server';
import {
  MetafieldsDelete,
  MetafieldsSet,
  ValidationCreate,
  ValidationsPage,
  type UserError,
  type ValidationsPageResult,
} from './graphql';
import { canonicalJson } from './models/ledger.server';
import {
  compileWindows,
  getShopEarlyAccess,
  hasPendingProducts,
  mirroredWindows,
  pendingProducts,
  recordProductFailure,
  recordProductSynced,
  recordShopEarlyAccess,
  type EarlyAccessProductRow,
} from './models/early-access.server';
import { syncTarget } from './models/metafield-sync.server';
import { currentTierProgram } from './models/tiers.server';
import { requireShop } from './models/shops.server';
import {
  AdminApiError,
  createAdminClient,
  type AdminClient,
  type AdminClientOptions,
} from './shopify/admin-client.server';

/** The Function's handle (extensions/laurel-early-access/shopify.extension.toml). */
export const EARLY_ACCESS_FUNCTION_HANDLE = 'laurel-early-access';
export const EARLY_ACCESS_VALIDATION_TITLE = 'Laurel early access';
/** The product metafield: ProductMirror JSON. */
export const PRODUCT_MIRROR_METAFIELD = { namespace: '$app', key: 'early_access', type: 'json' };
/** The validation's metafield: the Function's clock slots, `{t0..t15}`. */
export const TIMES_METAFIELD = { namespace: '$app', key: 'early_access_times', type: 'json' };
/** Products written in one call (metafieldsSet and metafieldsDelete take at most 25). */
export const PRODUCTS_PER_CALL = 25;
/** pg_advisory_xact_lock class of the per-shop sync lock (its second key is the shop id). */
const SYNC_LOCK_CLASS = 0x4541_0002;

export interface EarlyAccessSyncOptions {
  db: Database;
  /** The shop's myshopify domain. */
  shop: string;
  log: Logger;
  /** Admin endpoint override (default env ADMIN_API_ENDPOINT, else Shopify). */
  endpoint?: string;
  client?: Partial<Omit<AdminClientOptions, 'shop' | 'accessToken' | 'endpoint'>>;
  /** Products written in one run at most; the rest are left for the next (`more`). */
  maxProducts?: number;
  now?: () => Date;
}

export type ValidationOutcome =
  /** No window is mirrored and no validation exists yet: nothing to install. */
  | 'none'
  | 'created'
  /** Found at Shopify (a lost record, a create whose answer was lost) and recorded. */
  | 'adopted'
  /** Its clock slots were rewritten. */
  | 'written'
  | 'current'
  | 'failed';

export type EarlyAccessSyncResult =
  | { status: 'skipped'; reason: 'unknown-shop' | 'uninstalled' | 'no-token' | 'busy' }
  | {
      status: 'synced';
      /** Product mirrors written. */
      written: number;
      /** Product mirrors deleted (no window covers the product any more). */
      deleted: number;
      /** Products Shopify refused: left pending with one more attempt and the reason. */
      failed: number;
      /** Products whose mirror dropped a window that ended more than a day ago. */
      dropped: number;
      validation: ValidationOutcome;
      /** Products are left (maxProducts reached): run again. */
      more: boolean;
    };

const productGid = (id: string) => `gid://shopify/Product/${id}`;

function describeUserError(error: UserError): string {
  const field = error.field?.length ? `${error.field.join('.')}: ` : '';
  return `${field}${error.message}${error.code ? ` (${error.code})` : ''}`;
}

/** Refusals by the product they name (elementIndex, else the field path's index). */
function refusedIndexes(error: AdminApiError, count: number): Map<number, string[]> {
  const refused = new Map<number, string[]>();
  for (const userError of error.userErrors as (UserError & { elementIndex?: number | null })[]) {
    const index =
      typeof userError.elementIndex === 'number'
        ? userError.elementIndex
        : Number(userError.field?.[1]);
    if (!Number.isInteger(index) || index < 0 || index >= count) continue;
    refused.set(index, [...(refused.get(index) ?? []), describeUserError(userError)]);
  }
  return refused;
}

export async function syncShopEarlyAccess(
  options: EarlyAccessSyncOptions,
): Promise<EarlyAccessSyncResult> {
  const { db } = options;
  const now = options.now?.() ?? new Date();
  const log = options.log.child({ shop: options.shop, component: 'early-access-sync' });
  const target = await syncTarget(db, options.shop);
  if (!target) return { status: 'skipped', reason: 'unknown-shop' };
  if (!target.active) return { status: 'skipped', reason: 'uninstalled' };
  if (!target.accessToken) {
    log.warn('early-access sync skipped: no offline access token for the shop');
    return { status: 'skipped', reason: 'no-token' };
  }
  // Windows that ended more than a day ago leave the mirrors first (no Shopify call): the
  // products they change become pending and are written below.
  const dropped = await remirrorShop(db, target.shopId, { now, staleOnly: true });

  const endpoint = options.endpoint ?? env().ADMIN_API_ENDPOINT;
  const client = createAdminClient({
    shop: target.domain,
    accessToken: target.accessToken,
    ...(endpoint ? { endpoint } : {}),
    logger: log,
    maxAttempts: 4,
    maxDelayMs: 8_000,
    ...options.client,
  });
  const maxProducts = options.maxProducts ?? 250;
  let stopped: unknown;
  const outcome = await db.transaction(async (tx) => {
    const lock = await tx.execute(
      sql`SELECT pg_try_advisory_xact_lock(${SYNC_LOCK_CLASS}::int, ${target.shopId}::int) AS held`,
    );
    if ((lock as unknown as { rows: { held: boolean }[] }).rows[0]?.held !== true) return 'busy';
    const run = new SyncRun(tx, target.shopId, client, log);
    const totals = { written: 0, deleted: 0, failed: 0 };
    let validation: ValidationOutcome = 'failed';
    try {
      const pending = await pendingProducts(tx, target.shopId, maxProducts);
      Object.assign(totals, await run.writeProducts(pending));
      validation = await run.syncValidation(now);
    } catch (error) {
      // Committed with what was recorded so far; rethrown below so the job retries.
      stopped = error;
    }
    return { ...totals, validation };
  });
  if (outcome === 'busy') return { status: 'skipped', reason: 'busy' };
  if (stopped !== undefined) {
    log.warn({ err: (stopped as Error).message }, 'early-access sync stopped; will retry');
    throw stopped;
  }
  const more = await hasPendingProducts(db, target.shopId);
  const result = { status: 'synced' as const, ...outcome, dropped: dropped.length, more };
  if (
    result.written + result.deleted + result.failed + result.dropped > 0 ||
    !['current', 'none'].includes(result.validation)
  ) {
    log.info(result, 'early access synced');
  }
  return result;
}

class SyncRun {
  constructor(
    private readonly tx: Executor,
    private readonly shopId: number,
    private readonly client: AdminClient,
    private readonly log: Logger,
  ) {}

  /** Writes (or deletes) the pending mirrors, 25 a call, recording each product's outcome. */
  async writeProducts(rows: readonly EarlyAccessProductRow[]) {
    const totals = { written: 0, deleted: 0, failed: 0 };
    const sets = rows.filter((r) => r.mirror !== null);
    const deletes = rows.filter((r) => r.mirror === null);
    for (let i = 0; i < sets.length; i += PRODUCTS_PER_CALL) {
      const batch = await this.write(sets.slice(i, i + PRODUCTS_PER_CALL), 'set');
      totals.written += batch.done;
      totals.failed += batch.failed;
    }
    for (let i = 0; i < deletes.length; i += PRODUCTS_PER_CALL) {
      const batch = await this.write(deletes.slice(i, i + PRODUCTS_PER_CALL), 'delete');
      totals.deleted += batch.done;
      totals.failed += batch.failed;
    }
    return totals;
  }

  /**
   * One call for the batch. Both mutations are all-or-none, so when Shopify refuses some products
   * (userErrors name them) those are recorded as failed and the rest sent again; a refusal naming
   * none counts against every product of the call, so it cannot repeat for ever unnoticed.
   */
  private async write(batch: readonly EarlyAccessProductRow[], kind: 'set' | 'delete') {
    const result = { done: 0, failed: 0 };
    let remaining = [...batch];
    while (remaining.length > 0) {
      try {
        if (kind === 'set') {
          await this.client.request(MetafieldsSet, {
            metafields: remaining.map((row) => ({
              ownerId: productGid(row.productId),
              ...PRODUCT_MIRROR_METAFIELD,
              value: JSON.stringify(row.mirror),
            })),
          });
        } else {
          await this.client.request(MetafieldsDelete, {
            metafields: remaining.map((row) => ({
              ownerId: productGid(row.productId),
              namespace: PRODUCT_MIRROR_METAFIELD.namespace,
              key: PRODUCT_MIRROR_METAFIELD.key,
            })),
          });
        }
      } catch (error) {
        if (!(error instanceof AdminApiError) || error.code !== 'USER_ERRORS') throw error;
        const byIndex = refusedIndexes(error, remaining.length);
        const refused =
          byIndex.size > 0
            ? [...byIndex].map(([index, messages]) => ({ row: remaining[index]!, messages }))
            : remaining.map((row) => ({ row, messages: [error.message] }));
        for (const { row, messages } of refused) {
          await recordProductFailure(
            this.tx,
            this.shopId,
            row.productId,
            row.revision,
            messages.join('; '),
          );
        }
        this.log.warn(
          {
            products: refused.map(({ row, messages }) => ({
              productId: row.productId,
              attempt: row.attempts + 1,
              errors: messages,
            })),
          },
          'Shopify refused the early-access mirror of some products; they stay pending and the next run retries them',
        );
        result.failed += refused.length;
        const out = new Set(refused.map((r) => r.row));
        remaining = remaining.filter((row) => !out.has(row));
        continue;
      }
      for (const row of remaining) {
        await recordProductSynced(this.tx, this.shopId, row.productId, row.revision);
      }
      result.done += remaining.length;
      remaining = [];
    }
    return result;
  }

  /**
   * Installs the validation once the shop has a mirrored window (finding it first, should a
   * record have been lost), then keeps its clock slots equal to functionTimeSlots(windows, now).
   */
  async syncValidation(now: Date): Promise<ValidationOutcome> {
    const shop = await requireShop(this.tx, this.shopId);
    const program = await currentTierProgram(this.tx, this.shopId, now);
    const context = { timeZone: shop.timezone, tiers: program?.program ?? null };
    const windows = compileWindows(await mirroredWindows(this.tx, this.shopId, now), context);
    const slots = functionTimeSlots(
      windows.map((w) => w.window),
      now.getTime(),
    );
    const value = JSON.stringify(slots);
    const state = await getShopEarlyAccess(this.tx, this.shopId);
    const refused = async (error: unknown): Promise<ValidationOutcome> => {
      if (!(error instanceof AdminApiError) || error.code !== 'USER_ERRORS') {
        await recordShopEarlyAccess(this.tx, this.shopId, {
          lastError: (error as Error).message.slice(0, 500),
        });
        throw error;
      }
      const reason = error.userErrors.map(describeUserError).join('; ');
      this.log.error(
        { err: reason },
        'Shopify refused the early-access validation; checkout cannot enforce early access until it is fixed (the next run retries)',
      );
      await recordShopEarlyAccess(this.tx, this.shopId, { lastError: reason.slice(0, 500) });
      return 'failed';
    };

    if (!state?.validationId) {
      if (windows.length === 0) return 'none';
      let found: ValidationsPageResult['validations']['nodes'][number] | undefined;
      try {
        found = await this.findValidation();
      } catch (error) {
        return refused(error);
      }
      if (found) {
        if (!found.times || !sameJson(found.times.value, slots)) {
          try {
            await this.writeTimes(found.id, value);
          } catch (error) {
            await recordShopEarlyAccess(this.tx, this.shopId, { validationId: found.id });
            return refused(error);
          }
        }
        await recordShopEarlyAccess(this.tx, this.shopId, {
          validationId: found.id,
          syncedTimes: slots,
          lastError: null,
          synced: true,
        });
        return 'adopted';
      }
      try {
        const created = await this.client.request(ValidationCreate, {
          validation: {
            functionHandle: EARLY_ACCESS_FUNCTION_HANDLE,
            title: EARLY_ACCESS_VALIDATION_TITLE,
            enable: true,
            // Fail closed: a Function that cannot run (timeout, crash) blocks checkout rather than
            // letting an early-access product through. docs/early-access.md, "Failure modes".
            blockOnFailure: true,
            metafields: [{ ...TIMES_METAFIELD, value }],
          },
        });
        const id = created.validationCreate?.validation?.id;
        if (!id) throw new Error('validationCreate answered no validation and no userErrors');
        await recordShopEarlyAccess(this.tx, this.shopId, {
          validationId: id,
          syncedTimes: slots,
          lastError: null,
          synced: true,
        });
        return 'created';
      } catch (error) {
        // OUTCOME_UNKNOWN included: the next run looks the validation up before creating one.
        return refused(error);
      }
    }
    if (state.syncedTimes !== null && canonicalJson(state.syncedTimes) === canonicalJson(slots)) {
      return 'current';
    }
    try {
      await this.writeTimes(state.validationId, value);
    } catch (error) {
      if (!ownerGone(error)) return refused(error);
      // The recorded validation is not at Shopify any more (deleted there, or a store that was
      // reset): forget it, then find or create the shop's validation as on a first run.
      this.log.warn(
        { validationId: state.validationId },
        'the recorded early-access validation is gone at Shopify; finding or creating it again',
      );
      await recordShopEarlyAccess(this.tx, this.shopId, { validationId: null, syncedTimes: null });
      return this.syncValidation(now);
    }
    await recordShopEarlyAccess(this.tx, this.shopId, {
      syncedTimes: slots,
      lastError: null,
      synced: true,
    });
    return 'written';
  }

  private async writeTimes(validationId: string, value: string): Promise<void> {
    await this.client.request(MetafieldsSet, {
      metafields: [{ ownerId: validationId, ...TIMES_METAFIELD, value }],
    });
  }

  /** The shop's validation running Laurel's Function, if there is one. */
  private async findValidation() {
    let after: string | null = null;
    for (;;) {
      const page: ValidationsPageResult = await this.client.request(ValidationsPage, {
        first: 50,
        after,
      });
      const found = page.validations.nodes.find(
        (v) => v.shopifyFunction.handle === EARLY_ACCESS_FUNCTION_HANDLE,
      );
      if (found) return found;
      if (!page.validations.pageInfo.hasNextPage) return undefined;
      after = page.validations.pageInfo.endCursor;
    }
  }
}

/** Whether a metafield's JSON text holds `value` (Shopify may reorder keys or spaces). */
function sameJson(text: string, value: unknown): boolean {
  try {
    return canonicalJson(JSON.parse(text)) === canonicalJson(value);
  } catch {
    return false;
  }
}

/** Shopify refused a metafield write because its owner (the validation) does not exist. */
function ownerGone(error: unknown): boolean {
  return (
    error instanceof AdminApiError &&
    error.code === 'USER_ERRORS' &&
    error.userErrors.length > 0 &&
    error.userErrors.every((e) => (e.field ?? []).includes('ownerId'))
  );
}

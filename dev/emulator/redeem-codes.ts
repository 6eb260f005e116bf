import {
  connection,
  type Args,
  type PageArgs,
  type ResolverContext,
  type View,
} from './connections';
import { discountNodeView, noSuchDiscount } from './discounts';
import {
  findDiscountByCode,
  type BulkCodeError,
  type BulkCreationRecord,
  type EmulatorState,
  type ShopStore,
} from './state';
import { dateTime, gid, idOfType } from './values';

/**
 * More codes on one code discount: discountRedeemCodeBulkAdd queues a bulk creation (at most 250
 * codes a call) and answers at once with `done: false`; the codes are added when it runs, each one
 * on its own — a code already used anywhere in the shop (by any discount, case-insensitively) or
 * repeated within the call fails with its error and the rest are added — and
 * discountRedeemCodeBulkCreation(id) reports the outcome per code. A queued creation runs at the
 * first request from `EmulatorState.bulkCreationDelayMs` after the call (server.ts runs
 * {@link runDueBulkCreations} before every request).
 */

/** Shopify's maximum codes per discountRedeemCodeBulkAdd. */
export const MAX_CODES_PER_BULK_ADD = 250;

export function discountRedeemCodeBulkAdd(ctx: ResolverContext, args: Args): View {
  const numeric = idOfType(args.discountId, 'DiscountCodeNode');
  const discount = numeric === undefined ? undefined : ctx.store.discounts.get(numeric);
  if (!discount) {
    const { userErrors } = noSuchDiscount(['discountId']);
    return { bulkCreation: null, userErrors };
  }
  const codes = (args.codes as { code: string }[]).map((c) => c.code);
  const problem = (message: string, code: string) => ({
    bulkCreation: null,
    userErrors: [{ field: ['codes'], message, code, extraInfo: null }],
  });
  if (codes.length === 0) return problem("Codes can't be blank", 'BLANK');
  if (codes.length > MAX_CODES_PER_BULK_ADD) {
    return problem(
      `Codes can't exceed ${MAX_CODES_PER_BULK_ADD} per request`,
      'TOO_MANY_ARGUMENTS',
    );
  }
  const record: BulkCreationRecord = {
    id: ctx.state.id(),
    discountId: discount.id,
    codes,
    createdAt: ctx.now,
    runAt: ctx.now + ctx.state.bulkCreationDelayMs,
    results: null,
  };
  ctx.store.bulkCreations.set(record.id, record);
  return { bulkCreation: bulkCreationView(ctx, record), userErrors: [] };
}

export function discountRedeemCodeBulkCreation(ctx: ResolverContext, id: string): View | null {
  const numeric = idOfType(id, 'DiscountRedeemCodeBulkCreation');
  const record = numeric === undefined ? undefined : ctx.store.bulkCreations.get(numeric);
  return record ? bulkCreationView(ctx, record) : null;
}

function bulkCreationView(ctx: ResolverContext, record: BulkCreationRecord): View {
  const results = record.results;
  const imported = results?.filter((r) => r.errors.length === 0).length ?? 0;
  const discount = ctx.store.discounts.get(record.discountId);
  // Before it runs, Shopify lists the codes with no outcome yet.
  const rows = (
    results ?? record.codes.map((code) => ({ code, redeemCodeId: null, errors: [] }))
  ).map((r, index) => ({ ...r, index }));
  return {
    __typename: 'DiscountRedeemCodeBulkCreation',
    id: gid('DiscountRedeemCodeBulkCreation', record.id),
    done: results !== null,
    codesCount: record.codes.length,
    importedCount: imported,
    failedCount: results === null ? 0 : results.length - imported,
    createdAt: dateTime(record.createdAt),
    discountCode: discount ? discountNodeView(ctx, discount) : null,
    codes: (args: PageArgs) =>
      connection(
        rows,
        args,
        (r) => r.index + 1,
        (r) => ({
          __typename: 'DiscountRedeemCodeBulkCreationCode',
          code: r.code,
          discountRedeemCode:
            r.redeemCodeId === null
              ? null
              : {
                  __typename: 'DiscountRedeemCode',
                  id: gid('DiscountRedeemCode', r.redeemCodeId),
                  code: r.code.trim(),
                  asyncUsageCount: 0,
                  createdBy: null,
                },
          errors: r.errors.map((e) => ({ ...e, extraInfo: null })),
        }),
      ),
  };
}

/** Runs the shop's queued bulk creations whose time has come, oldest first. */
export function runDueBulkCreations(state: EmulatorState, store: ShopStore, now: number): void {
  const due = [...store.bulkCreations.values()]
    .filter((r) => r.results === null && r.runAt <= now)
    .sort((a, b) => a.id - b.id);
  for (const record of due) {
    const discount = store.discounts.get(record.discountId);
    record.results = record.codes.map((raw) => {
      const code = raw.trim();
      const errors = discount ? codeErrors(store, code) : [gone()];
      if (errors.length > 0 || !discount) return { code: raw, redeemCodeId: null, errors };
      const id = state.id();
      discount.moreCodes.push({ id, code, usageCount: 0 });
      discount.updatedAt = now;
      return { code: raw, redeemCodeId: id, errors: [] };
    });
  }
}

function codeErrors(store: ShopStore, code: string): BulkCodeError[] {
  if (code === '') return [{ field: ['code'], message: "Code can't be blank", code: 'BLANK' }];
  if (code.length > 255) {
    return [
      {
        field: ['code'],
        message: 'Code is too long (maximum is 255 characters)',
        code: 'TOO_LONG',
      },
    ];
  }
  if (/[\r\n]/.test(code)) {
    return [
      { field: ['code'], message: 'Code cannot contain newline characters.', code: 'INVALID' },
    ];
  }
  if (findDiscountByCode(store, code)) {
    return [
      {
        field: ['code'],
        message: 'Code must be unique. Please try a different code.',
        code: 'TAKEN',
      },
    ];
  }
  return [];
}

function gone(): BulkCodeError {
  return { field: ['discountId'], message: 'Code discount does not exist.', code: 'INVALID' };
}

/**
 * The demo's manual adjustment (docs/customers.md): staff give the store's first member 25 points
 * with a reason, through the validation and model the admin's adjustment form uses, and prints it
 * as a line with the member's admin page. The form key is fixed, so a re-run finds the adjustment
 * it posted the first time (the same member, nothing new) instead of posting another.
 *
 * The storefront learns of it as of every ledger change: the entry marks the member's metafields
 * pending, and the demo's metafield sweep (every 5 s) syncs them.
 */
import type { Executor } from '../../db/client.server';
import { postAdjustment } from '../../app/models/adjustments.server';
import { memberProfile, searchDirectory } from '../../app/models/customer-directory.server';
import { findEntryByKey } from '../../app/models/ledger.server';
import type { Shop } from '../../app/models/shops.server';
import { adjustmentKey, validateAdjustment } from '../../loyalty/adjustment';
import { fmt } from './source';

export const DEMO_ADJUSTMENT = {
  key: 'demo-goodwill-adjustment-1',
  points: 25,
  reason: 'Goodwill: a parcel arrived late',
  staff: { userId: 'demo-staff', sessionId: null },
} as const;

export interface DemoAdjustmentResult {
  ok: boolean;
  /** Laurel's customer id of the member adjusted (none when the shop has no member). */
  customerId: number | null;
  created: boolean;
  line: string;
}

/**
 * The member a first run adjusts: the first enrolled who is not redacted. A re-run takes the
 * member its entry names, whoever enrolled since.
 */
async function demoMember(db: Executor, shopId: number): Promise<number | null> {
  const posted = await findEntryByKey(db, shopId, adjustmentKey(DEMO_ADJUSTMENT.key));
  if (posted) return posted.customerId;
  const page = await searchDirectory(db, shopId, { sort: 'since', direction: 'asc', limit: 20 });
  return page.members.find((m) => !m.redacted)?.id ?? null;
}

export async function demoAdjustment(options: {
  db: Executor;
  shop: Shop;
  /** Shopify id → display name, for the line. */
  names: ReadonlyMap<string, string>;
  /** `<app>/dev/admin`, for the member's page. */
  adminUrl: string;
}): Promise<DemoAdjustmentResult> {
  const { db, shop } = options;
  const customerId = await demoMember(db, shop.id);
  if (customerId === null) {
    return { ok: true, customerId: null, created: false, line: 'Adjustment: no member to adjust.' };
  }
  // The form's validation and the model the admin's action posts with (app/admin-customers.server.ts
  // itself reads the Shopify app's environment when imported, which the demo sets later).
  const form = validateAdjustment({
    points: String(DEMO_ADJUSTMENT.points),
    reason: DEMO_ADJUSTMENT.reason,
    key: DEMO_ADJUSTMENT.key,
  });
  if (!form.ok) throw new Error(`demo adjustment: ${JSON.stringify(form.errors)}`);
  let created: boolean;
  try {
    ({ created } = await postAdjustment(
      db,
      shop,
      customerId,
      form.adjustment,
      DEMO_ADJUSTMENT.staff,
    ));
  } catch (error) {
    return {
      ok: false,
      customerId,
      created: false,
      line: `Adjustment FAILED for customer ${customerId}: ${(error as Error).message}`,
    };
  }
  const member = await memberProfile(db, shop.id, customerId);
  const who = (member && options.names.get(member.externalId)) || `customer ${customerId}`;
  const page = `${options.adminUrl}?path=${encodeURIComponent(`/app/customers/${customerId}`)}`;
  return {
    ok: true,
    customerId,
    created,
    line: `Adjustment: +${DEMO_ADJUSTMENT.points} points to ${who} (“${DEMO_ADJUSTMENT.reason}”, by staff member ${DEMO_ADJUSTMENT.staff.userId})${created ? '' : ', posted by an earlier run'}, balance ${member ? fmt(member.balance) : '?'}: ${page}`,
  };
}

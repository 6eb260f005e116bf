/**
 * Shop-wide settings the program editor changes besides a program version. Test orders stay a
 * shop flag (shops.test_orders_earn), not part of the versioned definition: settlement, the tier
 * evaluation's spend and referrals all read it as "does this shop count its test orders", and a
 * test order is not business to be judged by the rules of its day. docs/program-editor.md.
 */
import { eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { shops } from '../../db/schema';

/** Sets whether the shop's test orders earn (from the next order settled on). */
export async function setTestOrdersEarn(
  db: Executor,
  shopId: number,
  testOrdersEarn: boolean,
): Promise<void> {
  await db.update(shops).set({ testOrdersEarn }).where(eq(shops.id, shopId));
}

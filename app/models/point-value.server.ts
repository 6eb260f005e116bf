/** The shop's redemption value (loyalty/point-value.ts): its active catalog's best money rate. */
import type { Executor } from '../../db/client.server';
import { pointValueOf, type PointValue } from '../../loyalty/point-value';
import { listRewards } from './rewards.server';

export async function shopPointValue(
  db: Executor,
  shop: { id: number; currency: string },
): Promise<PointValue | null> {
  return pointValueOf(await listRewards(db, shop.id), shop.currency);
}

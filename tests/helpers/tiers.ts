/**
 * Tier fixtures: the demo's four tiers, and a member placed in a tier directly (for tests of what
 * reads a tier — proxy, storefront, sync — without running the evaluation).
 */
import type { Executor } from '../../db/client.server';
import { customerTiers } from '../../db/schema';
import { publishTierProgram, type TierProgramVersion } from '../../app/models/tiers.server';
import { shopsDueForTierRun } from '../../app/models/tier-evaluation.server';
import type { TierProgramDefinition } from '../../loyalty/tiers';

/** Bronze from $0, Silver $250, Gold $1,000, Platinum $5,000 spent in the calendar year. */
export const FOUR_TIERS: TierProgramDefinition = {
  metric: 'spend',
  window: 'calendar_year',
  currency: 'USD',
  graceDays: 30,
  tiers: [
    { key: 'bronze', name: 'Bronze', threshold: '0.00' },
    {
      key: 'silver',
      name: 'Silver',
      threshold: '250.00',
      multiplier: '1.25',
      entryReward: { points: 50 },
    },
    {
      key: 'gold',
      name: 'Gold',
      threshold: '1000.00',
      multiplier: '1.5',
      entryReward: { points: 200 },
      freeShipping: true,
    },
    {
      key: 'platinum',
      name: 'Platinum',
      threshold: '5000.00',
      multiplier: '2',
      entryReward: { points: 500 },
      freeShipping: true,
    },
  ],
};

export async function seedTierProgram(
  db: Executor,
  shopId: number,
  definition: unknown = FOUR_TIERS,
  effectiveFrom = new Date(Date.now() - 60_000),
): Promise<TierProgramVersion> {
  return publishTierProgram(db, shopId, definition, effectiveFrom);
}

/** Puts a member in `tierKey` (null: none) as if an evaluation had, with `metricValue` as its metric. */
export async function setMemberTier(
  db: Executor,
  shopId: number,
  customerId: number,
  tierKey: string | null,
  options: { version?: number; metricValue?: number; heldUntil?: Date | null } = {},
): Promise<void> {
  const now = new Date();
  const values = {
    customerId,
    shopId,
    tierKey,
    tierVersion: options.version ?? 1,
    since: now,
    heldUntil: options.heldUntil ?? null,
    metricValue: options.metricValue ?? 0,
    evaluatedAt: now,
  };
  await db
    .insert(customerTiers)
    .values(values)
    .onConflictDoUpdate({ target: customerTiers.customerId, set: values });
}

/**
 * Waits until the shop's daily tier run for its current local day has finished. A running demo's
 * workers start that run at once (an hourly sweep that fires on start); a test that places a
 * member by hand waits for it first, or the run, arriving later, re-evaluates the member from
 * their real activity.
 */
export async function dailyTierRunFinished(
  db: Executor,
  shopId: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const due = await shopsDueForTierRun(db, new Date());
    if (!due.some((d) => d.shopId === shopId)) return;
    if (Date.now() > deadline) {
      throw new Error(`shop ${shopId}'s daily tier run did not finish within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

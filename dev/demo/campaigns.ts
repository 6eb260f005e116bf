/**
 * The demo store's campaign (docs/demo.md, docs/campaigns.md): a past "Double points weekend",
 * Saturday 00:00 → Monday 00:00 on the shop's clock, the first whole weekend at least 30 days
 * after the history starts (so in the middle of a three-month history). Saved before the replay
 * (as the merchant would have, before it started), so the orders of that weekend earn ×2 as they
 * are processed, and the award says so ("… (Double points weekend ×2)").
 *
 * The independent check (dev/demo/expected.ts) learns which orders fell inside it from
 * {@link campaignBpsByOrder}: the orders' own processed_at against the window, as written here.
 * Stacking is `multiply`, so an award keeps its tier multiplier (dev/demo/tiers.ts checks it) and
 * tier × ×2 is an exact basis-point product.
 */
import { and, eq } from 'drizzle-orm';
import { insertCampaign, type Campaign } from '../../app/models/campaigns.server';
import type { Shop } from '../../app/models/shops.server';
import type { Executor } from '../../db/client.server';
import { campaigns } from '../../db/schema';
import { parseCampaign, type CampaignDefinition } from '../../loyalty/campaigns';
import { localTimeText } from '../../loyalty/early-access';

export const DEMO_CAMPAIGN_NAME = 'Double points weekend';
export const DEMO_CAMPAIGN_BPS = 20_000;
const DAY = 86_400_000;

/** The weekend: the first Saturday ≥ 30 days after `from`, 00:00 → Monday 00:00 (shop-local). */
export function demoCampaignDefinition(from: Date, timezone: string): CampaignDefinition {
  const day = localTimeText(from.getTime() + 30 * DAY, timezone).slice(0, 10);
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + ((6 - d.getUTCDay() + 7) % 7));
  const saturday = d.toISOString().slice(0, 10);
  d.setUTCDate(d.getUTCDate() + 2);
  const monday = d.toISOString().slice(0, 10);
  return {
    name: DEMO_CAMPAIGN_NAME,
    kind: 'multiplier',
    multiplier: '2',
    scope: 'all',
    stacking: 'multiply',
    startsAt: `${saturday}T00:00`,
    endsAt: `${monday}T00:00`,
  };
}

/**
 * Creates the demo's weekend unless the shop has it already (a second run keeps the first's).
 * `from` is the history's start; the campaign is recorded as created then, before it began.
 */
export async function demoCampaigns(
  db: Executor,
  shop: Pick<Shop, 'id' | 'timezone' | 'currency'>,
  from: Date,
): Promise<Campaign> {
  const definition = demoCampaignDefinition(from, shop.timezone);
  const parsed = parseCampaign(definition, {
    timeZone: shop.timezone,
    currency: shop.currency,
    now: from.getTime(),
    // The weekend is in the past now; it was not when the history's merchant saved it.
    allowPastStart: true,
  });
  const [existing] = await db
    .select()
    .from(campaigns)
    .where(
      and(
        eq(campaigns.shopId, shop.id),
        eq(campaigns.name, DEMO_CAMPAIGN_NAME),
        eq(campaigns.startsAtLocal, parsed.startsAtLocal),
      ),
    );
  if (existing) return existing;
  return insertCampaign(db, shop.id, parsed, { productIds: [], createdBy: 'demo', now: from });
}

/**
 * Which orders of `deliveries` the weekend multiplies: orders/* payloads whose processed_at (else
 * created_at) is in [startsAt, endsAt) → {@link DEMO_CAMPAIGN_BPS}. The demo's own reading of the
 * rule, for dev/demo/expected.ts; not loyalty/campaigns.ts's.
 */
export function campaignBpsByOrder(
  deliveries: readonly { topic: string; payload: unknown }[],
  campaign: Pick<Campaign, 'startsAt' | 'endsAt'>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of deliveries) {
    if (!d.topic.startsWith('orders/')) continue;
    const p = d.payload as { id?: unknown; processed_at?: unknown; created_at?: unknown };
    const at = Date.parse(String(p.processed_at ?? p.created_at));
    if (at >= campaign.startsAt.getTime() && at < campaign.endsAt.getTime()) {
      out.set(String(p.id), DEMO_CAMPAIGN_BPS);
    }
  }
  return out;
}

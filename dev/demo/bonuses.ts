/**
 * The demo store's bonuses (docs/bonuses.md): the bonus settings, published before the replay
 * (effective from the history's start), and — once the replay is processed — three members given
 * a birthday and one a newsletter subscription, as the customers webhooks would record them:
 *
 * | Member (by Shopify id) | Birthday                       | Newsletter | Expected now               |
 * | ---------------------- | ------------------------------ | ---------- | -------------------------- |
 * | lowest                 | the 1st of the demo's month    | subscribed | birthday and newsletter    |
 * | second                 | the 15th of next month         | —          | nothing yet (daily run)    |
 * | third                  | 29 February                    | —          | in February                |
 *
 * Everything is keyed as in production (birthday once per local year, newsletter once ever), so a
 * re-run adds nothing.
 */
import { listBonusPrograms, publishBonusProgram } from '../../app/models/bonus-programs.server';
import { awardNewsletterBonus, giveBirthday, localDayOf } from '../../app/models/bonuses.server';
import { listMembers } from '../../app/models/members.server';
import type { Shop } from '../../app/models/shops.server';
import type { Executor } from '../../db/client.server';
import type { BonusProgramDefinition } from '../../loyalty/bonuses';

/** 200 points on a birthday, 50 for the newsletter, 25 for Instagram and 10 for TikTok. */
export const DEMO_BONUS_PROGRAM = {
  birthdayPoints: 200,
  newsletterPoints: 50,
  social: {
    instagram: { url: 'https://www.instagram.com/laureldemotea', points: 25 },
    tiktok: { url: 'https://www.tiktok.com/@laureldemotea', points: 10 },
  },
} satisfies Partial<Record<keyof BonusProgramDefinition, unknown>>;

/** Publishes the demo's bonus settings effective `from` unless the shop has some. */
export async function ensureDemoBonusProgram(
  db: Executor,
  shopId: number,
  from: Date,
): Promise<void> {
  if ((await listBonusPrograms(db, shopId)).length > 0) return;
  await publishBonusProgram(db, shopId, DEMO_BONUS_PROGRAM, from);
}

export interface DemoBonusSummary {
  /** Shopify ids of the members given a birthday, in the table's order. */
  members: string[];
  birthdayPoints: number;
  newsletterPoints: number;
}

/**
 * Gives the cast their birthdays and the first a newsletter subscription, at `now` (the demo's
 * clock). Undefined when the shop has fewer than three members.
 */
export async function demoBonuses(
  db: Executor,
  shop: Shop,
  now: Date,
): Promise<DemoBonusSummary | undefined> {
  const members = (await listMembers(db, shop.id))
    .slice()
    .sort((a, b) => a.externalId.localeCompare(b.externalId, 'en', { numeric: true }))
    .slice(0, 3);
  if (members.length < 3) return undefined;
  const month = Number(localDayOf(now, shop.timezone).slice(5, 7));
  const birthdays = [
    { month, day: 1 },
    { month: (month % 12) + 1, day: 15 },
    { month: 2, day: 29 },
  ];
  let birthdayPoints = 0;
  for (const [i, member] of members.entries()) {
    const given = await giveBirthday(db, shop, member, birthdays[i]!, 'metafield', now);
    birthdayPoints += given.points;
  }
  const newsletterPoints = await awardNewsletterBonus(
    db,
    shop.id,
    { ...members[0]!, redactedAt: null },
    { state: 'subscribed', consentUpdatedAt: now.toISOString() },
    now,
  );
  return { members: members.map((m) => m.externalId), birthdayPoints, newsletterPoints };
}

/** The demo's summary line; `names` gives members' names by Shopify id where known. */
export function bonusesLine(
  summary: DemoBonusSummary | undefined,
  names: ReadonlyMap<string, string> = new Map(),
): string {
  if (!summary) return 'Bonuses: too few members for the demo birthdays.';
  const who = summary.members.map((id) => names.get(id) || id);
  return `Bonuses: birthdays given to ${who.join(', ')} (this month's awarded at once); ${summary.birthdayPoints} birthday and ${summary.newsletterPoints} newsletter points posted now.`;
}

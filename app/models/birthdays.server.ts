/**
 * Members' birthdays for the birthday bonus (docs/bonuses.md): month and day only, where they came
 * from and when they were set. A birthday may change once per 12 months (loyalty/bonuses.ts
 * birthdayChange); customers/redact deletes it (forgetBirthday, called by redactCustomer).
 */
import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customerBirthdays } from '../../db/schema';
import { birthdayChange, type BirthMonthDay } from '../../loyalty/bonuses';

export type BirthdaySource = 'storefront' | 'metafield';

export interface StoredBirthday extends BirthMonthDay {
  source: BirthdaySource;
  setAt: Date;
}

export async function getBirthday(
  db: Executor,
  shopId: number,
  customerId: number,
): Promise<StoredBirthday | null> {
  const [row] = await db
    .select()
    .from(customerBirthdays)
    .where(and(eq(customerBirthdays.shopId, shopId), eq(customerBirthdays.customerId, customerId)))
    .for('update');
  return row
    ? { month: row.month, day: row.day, source: row.source as BirthdaySource, setAt: row.setAt }
    : null;
}

export type SetBirthdayResult =
  | { kind: 'new' | 'same' | 'change'; birthday: StoredBirthday }
  | { kind: 'locked'; until: Date; birthday: StoredBirthday };

/**
 * Records the member's birthday unless it was changed less than 12 months ago (`locked`: the
 * stored one is kept). Giving the same month and day again changes nothing. Call inside the
 * transaction that awards: the row is locked while read.
 */
export async function setBirthday(
  db: Executor,
  shopId: number,
  customerId: number,
  birthday: BirthMonthDay,
  source: BirthdaySource,
  now: Date,
): Promise<SetBirthdayResult> {
  const current = await getBirthday(db, shopId, customerId);
  const change = birthdayChange(current, birthday, now);
  if (change.kind === 'locked') return { kind: 'locked', until: change.until, birthday: current! };
  if (change.kind === 'same') return { kind: 'same', birthday: current! };
  const stored: StoredBirthday = { ...birthday, source, setAt: now };
  await db
    .insert(customerBirthdays)
    .values({ customerId, shopId, ...stored })
    .onConflictDoUpdate({
      target: customerBirthdays.customerId,
      set: { month: stored.month, day: stored.day, source, setAt: now },
    });
  return { kind: change.kind, birthday: stored };
}

/** customers/redact: the birthday is personal data, gone with the rest. */
export async function forgetBirthday(db: Executor, shopId: number, customerId: number) {
  await db
    .delete(customerBirthdays)
    .where(and(eq(customerBirthdays.shopId, shopId), eq(customerBirthdays.customerId, customerId)));
}

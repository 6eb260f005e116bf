/**
 * Expiry settings, versioned and insert-only like programs (docs/expiry.md, "Policy changes"): a
 * change is a new row effective from its time; the version in force at an instant is the newest
 * with effective_from at or before it.
 */
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { expiryPolicies } from '../../db/schema';
import {
  ExpirySettingsError,
  parseExpirySettings,
  type ExpirySettings,
} from '../../loyalty/expiry-settings';
import type { ExpiryPolicy } from '../../loyalty/lots';
import { validationFrom } from '../errors';
import { retryVersionRace } from './versions.server';

export interface ExpiryPolicyVersion extends ExpirySettings {
  version: number;
  effectiveFrom: Date;
  createdAt: Date;
}

function toVersion(row: typeof expiryPolicies.$inferSelect): ExpiryPolicyVersion {
  const policy: ExpiryPolicy =
    row.mode === 'never'
      ? { mode: 'never' }
      : { mode: row.mode as 'lot' | 'inactivity', months: row.months ?? 0 };
  return {
    version: row.version,
    effectiveFrom: row.effectiveFrom,
    createdAt: row.createdAt,
    policy,
    reminderDays: [...(row.reminderDays ?? [])],
    channels: { email: row.reminderEmail, shopify: row.reminderShopify },
  };
}

/** Checks settings; VALIDATION naming each field at fault (details.issues), nothing saved. */
export function checkExpirySettings(value: unknown): ExpirySettings {
  try {
    return parseExpirySettings(value);
  } catch (error) {
    if (error instanceof ExpirySettingsError) throw validationFrom(error);
    throw error;
  }
}

/** Publishes a new version (max+1) effective from `effectiveFrom`; invalid settings save nothing. */
export async function publishExpiryPolicy(
  db: Executor,
  shopId: number,
  value: unknown,
  effectiveFrom: Date,
): Promise<ExpiryPolicyVersion> {
  const settings = checkExpirySettings(value);
  return retryVersionRace(() =>
    db.transaction(async (tx) => {
      const [row] = await tx
        .insert(expiryPolicies)
        .values({
          shopId,
          version: sql`(SELECT coalesce(max(${expiryPolicies.version}), 0) + 1 FROM ${expiryPolicies} WHERE ${expiryPolicies.shopId} = ${shopId})`,
          effectiveFrom,
          mode: settings.policy.mode,
          months: settings.policy.mode === 'never' ? null : settings.policy.months,
          reminderDays: settings.reminderDays,
          reminderEmail: settings.channels.email,
          reminderShopify: settings.channels.shopify,
        })
        .returning();
      return toVersion(row!);
    }),
  );
}

/** The version in force at `at`; null when the shop never set expiry (points never expire). */
export async function currentExpiryPolicy(
  db: Executor,
  shopId: number,
  at: Date,
): Promise<ExpiryPolicyVersion | null> {
  const [row] = await db
    .select()
    .from(expiryPolicies)
    .where(
      and(
        eq(expiryPolicies.shopId, shopId),
        sql`${expiryPolicies.effectiveFrom} <= ${at.toISOString()}::timestamptz`,
      ),
    )
    .orderBy(desc(expiryPolicies.effectiveFrom), desc(expiryPolicies.version))
    .limit(1);
  return row ? toVersion(row) : null;
}

/** Every version, oldest first (the admin's history). */
export async function listExpiryPolicies(
  db: Executor,
  shopId: number,
): Promise<ExpiryPolicyVersion[]> {
  const rows = await db
    .select()
    .from(expiryPolicies)
    .where(eq(expiryPolicies.shopId, shopId))
    .orderBy(asc(expiryPolicies.version));
  return rows.map(toVersion);
}

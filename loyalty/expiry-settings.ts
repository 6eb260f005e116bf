/**
 * A shop's expiry settings (docs/expiry.md): the policy, the reminder thresholds and channels.
 * Pure validation: every problem is listed with the field it is about, and nothing is saved
 * unless there is none.
 */
import { ExpiryPolicyError, parseExpiryPolicy, type ExpiryPolicy } from './lots';

export const MAX_REMINDER_THRESHOLDS = 5;
export const MAX_REMINDER_DAYS = 365;

export interface ExpirySettings {
  policy: ExpiryPolicy;
  /** Days before expiry, descending, distinct, 1–365, at most 5. */
  reminderDays: number[];
  channels: { email: boolean; shopify: boolean };
}

export interface ExpirySettingsIssue {
  /** The field at fault: `mode`, `months`, `reminderDays`, `channels`. */
  path: string;
  message: string;
}

export class ExpirySettingsError extends Error {
  constructor(readonly issues: readonly ExpirySettingsIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'ExpirySettingsError';
  }
}

/** Checks settings as the admin form or an API sends them; throws ExpirySettingsError. */
export function parseExpirySettings(value: unknown): ExpirySettings {
  const raw = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const issues: ExpirySettingsIssue[] = [];
  let policy: ExpiryPolicy | null = null;
  try {
    policy = parseExpiryPolicy(raw.policy);
  } catch (error) {
    if (!(error instanceof ExpiryPolicyError)) throw error;
    issues.push({ path: error.field, message: error.message });
  }
  const days = raw.reminderDays ?? [];
  const reminderDays: number[] = [];
  if (!Array.isArray(days)) {
    issues.push({ path: 'reminderDays', message: 'reminderDays must be a list of whole numbers' });
  } else {
    for (const day of days as unknown[]) {
      if (typeof day !== 'number' || !Number.isInteger(day) || day < 1 || day > MAX_REMINDER_DAYS) {
        issues.push({
          path: 'reminderDays',
          message: `reminder days must be whole numbers from 1 to ${MAX_REMINDER_DAYS} (got ${String(day)})`,
        });
      } else if (reminderDays.includes(day)) {
        issues.push({ path: 'reminderDays', message: `reminder day ${day} is listed twice` });
      } else {
        reminderDays.push(day);
      }
    }
    if (days.length > MAX_REMINDER_THRESHOLDS) {
      issues.push({
        path: 'reminderDays',
        message: `at most ${MAX_REMINDER_THRESHOLDS} reminders (got ${days.length})`,
      });
    }
  }
  const channelsRaw = (raw.channels ?? {}) as Record<string, unknown>;
  const channels = { email: channelsRaw.email === true, shopify: channelsRaw.shopify === true };
  if (reminderDays.length > 0 && !channels.email && !channels.shopify) {
    issues.push({
      path: 'channels',
      message: 'reminders need at least one channel (email or Shopify customer metafield)',
    });
  }
  if (policy?.mode === 'never' && reminderDays.length > 0) {
    issues.push({ path: 'reminderDays', message: 'points that never expire need no reminders' });
  }
  if (issues.length > 0 || policy === null) throw new ExpirySettingsError(issues);
  return { policy, reminderDays: reminderDays.sort((a, b) => b - a), channels };
}

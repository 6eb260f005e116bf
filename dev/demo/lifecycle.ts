/**
 * The demo's points lifecycle (docs/expiry.md, docs/demo.md "Lifecycle"): an expiry policy short
 * enough for three months of history to show it — each lot expires two months after it was earned,
 * members are reminded 14 days ahead by email and on their Shopify customer — and, once the history
 * is in, the day's lifecycle steps as the nightly run performs them, the reminders delivered by the
 * workers' own job through the real channels (the local mail sink, the Admin API emulator).
 *
 * Why the steps are called here rather than left to the schedule: the workers' first lifecycle
 * sweep runs when they start, before the history is replayed, and the day is then done; the next
 * run would be at the shop's next midnight.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Queue } from 'bullmq';
import type { Executor } from '../../db/client.server';
import { ledgerEntries, reminderDeliveries } from '../../db/schema';
import { listExpiryPolicies, publishExpiryPolicy } from '../../app/models/expiry-policies.server';
import { planReminders } from '../../app/models/expiry-reminders.server';
import { runExpiry } from '../../app/models/expiry.server';
import type { Shop } from '../../app/models/shops.server';
import { enqueueSendReminders } from '../../workers/handlers/lifecycle';

export const DEMO_EXPIRY_SETTINGS = {
  policy: { mode: 'lot', months: 2 },
  reminderDays: [14],
  channels: { email: true, shopify: true },
} as const;

/** Publishes the demo's expiry settings effective `from` unless the shop has some. */
export async function ensureDemoExpiryPolicy(
  db: Executor,
  shopId: number,
  from: Date,
): Promise<void> {
  if ((await listExpiryPolicies(db, shopId)).length > 0) return;
  await publishExpiryPolicy(db, shopId, DEMO_EXPIRY_SETTINGS, from);
}

export interface DemoLifecycle {
  ok: boolean;
  line: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Expires what is due at `now`, plans the reminders, has the workers deliver them and waits (at
 * most `timeoutMs`) until no delivery is pending. Repeating it on the same day posts nothing new.
 */
export async function demoLifecycle(options: {
  db: Executor;
  shop: Pick<Shop, 'id' | 'domain' | 'timezone'>;
  queue: Queue;
  now: Date;
  /** Messages the mail sink has received so far. */
  mails: () => number;
  timeoutMs: number;
}): Promise<DemoLifecycle> {
  const { db, shop, now } = options;
  const expired = await runExpiry(db, shop, now);
  const planned = await planReminders(db, shop, now);
  await enqueueSendReminders(options.queue, shop.domain, 0);
  const deadline = Date.now() + options.timeoutMs;
  let counts = await deliveryCounts(db, shop.id);
  while ((counts.pending ?? 0) + (counts.sending ?? 0) > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    counts = await deliveryCounts(db, shop.id);
  }
  const [all] = await db
    .select({
      entries: sql<number>`count(*)`.mapWith(Number),
      points: sql<number>`coalesce(-sum(${ledgerEntries.points}), 0)`.mapWith(Number),
    })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.shopId, shop.id), eq(ledgerEntries.source, 'expiry')));
  const waiting = (counts.pending ?? 0) + (counts.sending ?? 0);
  const failed = counts.failed ?? 0;
  const months = DEMO_EXPIRY_SETTINGS.policy.months;
  const line =
    `Lifecycle (lots expire ${months} months after they were earned; reminders ${DEMO_EXPIRY_SETTINGS.reminderDays[0]} days ahead): ` +
    `${fmt(all?.points ?? 0)} points expired in ${fmt(all?.entries ?? 0)} entries naming their lots ` +
    `(${fmt(expired.points)} in ${fmt(expired.entries)} this run); ` +
    `${fmt(planned.reminders)} reminders planned this run, deliveries: ${fmt(counts.sent ?? 0)} sent, ${fmt(counts.skipped ?? 0)} skipped, ${fmt(failed)} failed, ${fmt(waiting)} waiting; ` +
    `${fmt(options.mails())} emails in the local mail sink.`;
  return { ok: waiting === 0 && failed === 0, line };
}

async function deliveryCounts(db: Executor, shopId: number): Promise<Record<string, number>> {
  const rows = await db
    .select({ status: reminderDeliveries.status, n: sql<number>`count(*)`.mapWith(Number) })
    .from(reminderDeliveries)
    .where(eq(reminderDeliveries.shopId, shopId))
    .groupBy(reminderDeliveries.status);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

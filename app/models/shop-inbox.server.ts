/**
 * One shop's slice of the webhook inbox, for tools that replay deliveries and wait for them
 * (`npm run demo`): counts by status, which webhook ids are already in, the dead letters.
 * The inbox itself and its life cycle are in inbox.server.ts.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { webhookInbox } from '../../db/schema';
import { emptyStatusCounts, type InboxStatus } from './inbox.server';

const LOOKUP_CHUNK = 5_000;

export async function shopInboxCounts(
  db: Executor,
  shopDomain: string,
): Promise<Record<InboxStatus, number>> {
  const rows = await db
    .select({ status: webhookInbox.status, n: sql<number>`count(*)`.mapWith(Number) })
    .from(webhookInbox)
    .where(eq(webhookInbox.shopDomain, shopDomain))
    .groupBy(webhookInbox.status);
  const counts = emptyStatusCounts();
  for (const row of rows) counts[row.status as InboxStatus] = row.n;
  return counts;
}

/** Which of `webhookIds` the shop's inbox already holds (in any status). */
export async function knownWebhookIds(
  db: Executor,
  shopDomain: string,
  webhookIds: readonly string[],
): Promise<Set<string>> {
  const known = new Set<string>();
  for (let i = 0; i < webhookIds.length; i += LOOKUP_CHUNK) {
    const chunk = webhookIds.slice(i, i + LOOKUP_CHUNK);
    const rows = await db
      .select({ webhookId: webhookInbox.webhookId })
      .from(webhookInbox)
      .where(and(eq(webhookInbox.shopDomain, shopDomain), inArray(webhookInbox.webhookId, chunk)));
    for (const row of rows) known.add(row.webhookId);
  }
  return known;
}

/** Rows of the shop in `status` that recorded a failure, oldest first (no payloads). */
export async function shopInboxFailures(
  db: Executor,
  shopDomain: string,
  status: InboxStatus,
  limit = 20,
) {
  return db
    .select({
      id: webhookInbox.id,
      topic: webhookInbox.topic,
      webhookId: webhookInbox.webhookId,
      attempts: webhookInbox.attempts,
      lastError: webhookInbox.lastError,
    })
    .from(webhookInbox)
    .where(
      and(
        eq(webhookInbox.shopDomain, shopDomain),
        eq(webhookInbox.status, status),
        sql`${webhookInbox.lastError} IS NOT NULL`,
      ),
    )
    .orderBy(asc(webhookInbox.id))
    .limit(limit);
}

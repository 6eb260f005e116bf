/**
 * Job definitions (house style: one job = a definition and a handler). A definition holds the queue
 * and job name, a zod schema for the payload and a deterministic jobId; its handler is in
 * workers/handlers. The definitions are in app/ because both sides need them — the web process
 * enqueues, the workers process — and app/ must not import workers/ (ADR 017). Payloads carry ids
 * only — never personal data; the handler reads the rest from the database.
 */
import type { Queue } from 'bullmq';
import { z } from 'zod';
import { WEBHOOK_TOPICS, type WebhookTopic } from '../webhook-topics';
import { isMyshopifyDomain } from '../../loyalty/shop-domain';

export { WEBHOOK_TOPICS, type WebhookTopic };

export const WEBHOOK_QUEUE = 'webhooks';
/**
 * Storefront metafield sync: its own queue and worker, so Shopify's rate limits and outages never
 * hold up webhook processing (and a webhook burst never starves the sync).
 */
export const METAFIELD_QUEUE = 'metafields';

export function isWebhookTopic(topic: string): topic is WebhookTopic {
  return (WEBHOOK_TOPICS as readonly string[]).includes(topic);
}

export interface JobDefinition<P> {
  queue: string;
  name: string;
  schema: z.ZodType<P>;
  /** Same input → same job id, so BullMQ never holds two jobs for one piece of work. */
  jobId: (payload: P) => string;
}

/** Turn one webhook_inbox row into ledger entries. */
export const processInboxJob: JobDefinition<{ inboxId: number; shop: string; topic: string }> = {
  queue: WEBHOOK_QUEUE,
  name: 'process-inbox',
  schema: z.object({
    inboxId: z.number().int().positive(),
    shop: z.string().min(1),
    topic: z.string().min(1),
  }),
  jobId: ({ inboxId }) => `inbox-${inboxId}`,
};

/** The most rows one processInboxBatchJob carries (the inbox writer's batches are ≤ 200). */
export const MAX_INBOX_BATCH = 1_000;

/**
 * Turn the rows one group commit of the web process stored into ledger entries: one job for them
 * all instead of a job each, so BullMQ's per-job round trips (add, fetch, complete) are paid once
 * per commit. A row that fails in it continues alone as a processInboxJob on the retry schedule.
 * The id is the batch's smallest inbox id: each row is stored by exactly one commit.
 */
export const processInboxBatchJob: JobDefinition<{ inboxIds: number[] }> = {
  queue: WEBHOOK_QUEUE,
  name: 'process-inbox-batch',
  schema: z.object({
    inboxIds: z.array(z.number().int().positive()).min(1).max(MAX_INBOX_BATCH),
  }),
  jobId: ({ inboxIds }) => `inbox-batch-${Math.min(...inboxIds)}`,
};

/** Re-enqueue inbox rows that were accepted but not processed in time (repeatable). */
export const reconcileInboxJob: JobDefinition<Record<string, never>> = {
  queue: WEBHOOK_QUEUE,
  name: 'reconcile-inbox',
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  jobId: () => 'reconcile-inbox',
};

/**
 * A job that stands for "this shop has work", coalesced rather than identified: enqueues for the
 * same deduplication id within `delayMs` are one job, which starts `delayMs` after the first (see
 * enqueueCoalesced below for why that loses no change). A
 * fixed jobId would not do: while a job runs, an enqueue with its id would be dropped, and the
 * change behind it possibly missed by the running job's earlier read.
 */
export interface CoalescedJobDefinition<P> {
  queue: string;
  name: string;
  schema: z.ZodType<P>;
  deduplicationId: (payload: P) => string;
  /** Default delay (and deduplication window) in ms. */
  delayMs: number;
}

/**
 * Asks for `job` with `payload`, after the change that prompted it committed. Bursts coalesce with
 * BullMQ's deduplication in throttle mode: the first enqueue creates a job delayed by `delayMs` and
 * a deduplication key living `ttlMs` (the delay, unless the caller needs another); every enqueue
 * while the key lives is absorbed by that job. Nothing is lost: an absorbed enqueue came after its
 * change committed and before the key expired, and the job starts no earlier than the key expires,
 * so the snapshot it reads after starting holds that change. An enqueue after the key expired makes
 * a new job. (Clocks: the key's ttl is Redis's, the delay the enqueuer's; on one host they agree,
 * and the sweeps cover any skew.)
 */
export async function enqueueCoalesced<P>(
  queue: Queue,
  job: CoalescedJobDefinition<P>,
  payload: P,
  delayMs: number = job.delayMs,
  ttlMs: number = delayMs,
): Promise<void> {
  const data = job.schema.parse(payload);
  await queue.add(job.name, data, {
    delay: delayMs,
    deduplication: { id: job.deduplicationId(data), ttl: ttlMs },
  });
}

/** Write a shop's pending member metafields and, if outdated, its program summary. */
export const syncMetafieldsJob: CoalescedJobDefinition<{ shop: string }> = {
  queue: METAFIELD_QUEUE,
  name: 'sync-metafields',
  schema: z
    .object({
      shop: z.string().refine(isMyshopifyDomain, 'must be a *.myshopify.com domain'),
    })
    .strict(),
  deduplicationId: ({ shop }) => `sync-metafields:${shop}`,
  delayMs: 250,
};

/** Enqueue a sync for every shop with pending work (repeatable): what a lost job missed. */
export const sweepMetafieldsJob: JobDefinition<Record<string, never>> = {
  queue: METAFIELD_QUEUE,
  name: 'sweep-metafields',
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  jobId: () => 'sweep-metafields',
};

/**
 * Redemptions whose Shopify outcome is still unknown: their own queue, so a Shopify outage never
 * holds up webhooks or the metafield sync.
 */
export const REDEMPTION_QUEUE = 'redemptions';

/** Reconcile every pending redemption idle for 2 minutes with Shopify (repeatable, every 60 s). */
export const reconcileRedemptionsJob: JobDefinition<Record<string, never>> = {
  queue: REDEMPTION_QUEUE,
  name: 'reconcile-redemptions',
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  jobId: () => 'reconcile-redemptions',
};

/**
 * Tier roll-overs (docs/tiers.md, "The daily run"): their own queue, so a big shop's run never
 * holds up webhooks, the sync or redemptions.
 */
export const TIER_QUEUE = 'tiers';

const LOCAL_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Evaluate the members of one shop whose tier can change by time alone, once per local day. */
export const evaluateTiersJob: JobDefinition<{ shop: string; day: string }> = {
  queue: TIER_QUEUE,
  name: 'evaluate-tiers',
  schema: z
    .object({
      shop: z.string().refine(isMyshopifyDomain, 'must be a *.myshopify.com domain'),
      day: z.string().regex(LOCAL_DAY, 'must be a shop-local day YYYY-MM-DD'),
    })
    .strict(),
  // BullMQ refuses ':' in custom ids.
  jobId: ({ shop, day }) => `evaluate-tiers-${shop}-${day}`,
};

/** Enqueue evaluate-tiers for every shop whose local midnight passed since its last run (hourly). */
export const sweepTiersJob: JobDefinition<Record<string, never>> = {
  queue: TIER_QUEUE,
  name: 'sweep-tiers',
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  jobId: () => 'sweep-tiers',
};

// ---------------------------------------------------------------------------------------------
// Early access (issue 11, docs/early-access.md): on the metafield queue, beside the member sync —
// both write storefront metafields and wait on the same Shopify rate limit.

/** Write a shop's pending product mirrors and its validation's clock slots. */
export const syncEarlyAccessJob: CoalescedJobDefinition<{ shop: string }> = {
  queue: METAFIELD_QUEUE,
  name: 'sync-early-access',
  schema: z
    .object({
      shop: z.string().refine(isMyshopifyDomain, 'must be a *.myshopify.com domain'),
    })
    .strict(),
  deduplicationId: ({ shop }) => `sync-early-access:${shop}`,
  delayMs: 250,
};

/**
 * Enqueue an early-access sync for every shop with work (repeatable): pending products, mirrors
 * naming a window that ended more than a day ago, clock slots that moved as boundaries passed.
 */
export const sweepEarlyAccessJob: JobDefinition<Record<string, never>> = {
  queue: METAFIELD_QUEUE,
  name: 'sweep-early-access',
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  jobId: () => 'sweep-early-access',
};

// ---------------------------------------------------------------------------------------------
// Referrals (issue 12, docs/referrals.md): on the metafield queue too — the friend discount and
// codes wait on the same Shopify rate limit, and a code made active is written by the member sync.

/** Make a shop's missing referral codes and bring its friend discount and codes to Shopify. */
export const syncReferralCodesJob: CoalescedJobDefinition<{ shop: string }> = {
  queue: METAFIELD_QUEUE,
  name: 'sync-referral-codes',
  schema: z
    .object({
      shop: z.string().refine(isMyshopifyDomain, 'must be a *.myshopify.com domain'),
    })
    .strict(),
  deduplicationId: ({ shop }) => `sync-referral-codes:${shop}`,
  // Signups come in bursts (an import, a sale): a second gathers them into one bulk add.
  delayMs: 1_000,
};

/**
 * Enqueue a referral sync for every shop with work (repeatable, every few seconds: a new member's
 * code must reach the storefront soon after customers/create, and nothing else asks for it).
 */
export const sweepReferralsJob: JobDefinition<Record<string, never>> = {
  queue: METAFIELD_QUEUE,
  name: 'sweep-referrals',
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  jobId: () => 'sweep-referrals',
};

// ---------------------------------------------------------------------------------------------
// History import (issue 13, docs/import.md): its own queue and worker, one import at a time, so a
// 100,000-row file never holds up webhooks, the sync or the tier runs.

export const IMPORT_QUEUE = 'imports';

/** Import one uploaded file (a history_imports row: the file and its progress live there). */
export const historyImportJob: JobDefinition<{ importId: number }> = {
  queue: IMPORT_QUEUE,
  name: 'history-import',
  schema: z.object({ importId: z.number().int().positive() }).strict(),
  jobId: ({ importId }) => `import-${importId}`,
};

/**
 * Give every queued or running import a job (repeatable): an upload whose enqueue failed (Redis
 * down), a job Redis lost, a job that failed without its row saying so.
 */
export const sweepImportsJob: JobDefinition<Record<string, never>> = {
  queue: IMPORT_QUEUE,
  name: 'sweep-imports',
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  jobId: () => 'sweep-imports',
};

// ---------------------------------------------------------------------------------------------
// Points lifecycle (issue [10], docs/expiry.md): its own queue, so a big shop's expiry run never
// holds up webhooks, the sync or the tier runs.

export const LIFECYCLE_QUEUE = 'lifecycle';

/** One shop's lifecycle day (expiry, reminders, …), once per shop and local day. */
export const runLifecycleDayJob: JobDefinition<{ shop: string; day: string }> = {
  queue: LIFECYCLE_QUEUE,
  name: 'run-lifecycle-day',
  schema: z
    .object({
      shop: z.string().refine(isMyshopifyDomain, 'must be a *.myshopify.com domain'),
      day: z.string().regex(LOCAL_DAY, 'must be a shop-local day YYYY-MM-DD'),
    })
    .strict(),
  jobId: ({ shop, day }) => `lifecycle-${shop}-${day}`,
};

/**
 * Enqueue run-lifecycle-day for every shop whose local midnight passed since its last run, and
 * send-reminders for every shop with deliveries due (hourly).
 */
export const sweepLifecycleJob: JobDefinition<Record<string, never>> = {
  queue: LIFECYCLE_QUEUE,
  name: 'sweep-lifecycle',
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  jobId: () => 'sweep-lifecycle',
};

/** Deliver a shop's pending expiry reminders through their notifiers. */
export const sendRemindersJob: CoalescedJobDefinition<{ shop: string }> = {
  queue: LIFECYCLE_QUEUE,
  name: 'send-reminders',
  schema: z
    .object({
      shop: z.string().refine(isMyshopifyDomain, 'must be a *.myshopify.com domain'),
    })
    .strict(),
  deduplicationId: ({ shop }) => `send-reminders:${shop}`,
  delayMs: 1_000,
};

export const jobDefinitions = [
  processInboxJob,
  processInboxBatchJob,
  reconcileInboxJob,
  syncMetafieldsJob,
  sweepMetafieldsJob,
  reconcileRedemptionsJob,
  evaluateTiersJob,
  sweepTiersJob,
  syncEarlyAccessJob,
  sweepEarlyAccessJob,
  syncReferralCodesJob,
  sweepReferralsJob,
  historyImportJob,
  sweepImportsJob,
  runLifecycleDayJob,
  sweepLifecycleJob,
  sendRemindersJob,
] as const;
export type JobName = (typeof jobDefinitions)[number]['name'];

/**
 * Job definitions (house style: one job = a definition and a handler). A definition holds the queue
 * and job name, a zod schema for the payload and a deterministic jobId. Payloads carry ids only —
 * never personal data; the handler reads the rest from the database.
 */
import { z } from 'zod';
import { WEBHOOK_TOPICS, type WebhookTopic } from '../app/webhook-topics';

export { WEBHOOK_TOPICS, type WebhookTopic };

export const WEBHOOK_QUEUE = 'webhooks';

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

/** Re-enqueue inbox rows that were accepted but not processed in time (repeatable). */
export const reconcileInboxJob: JobDefinition<Record<string, never>> = {
  queue: WEBHOOK_QUEUE,
  name: 'reconcile-inbox',
  schema: z.object({}).strict() as z.ZodType<Record<string, never>>,
  jobId: () => 'reconcile-inbox',
};

export const jobDefinitions = [processInboxJob, reconcileInboxJob] as const;
export type JobName = (typeof jobDefinitions)[number]['name'];

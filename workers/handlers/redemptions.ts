/**
 * The redemption sweep: `reconcile-redemptions` (repeatable, every 60 s) settles the redemptions
 * Shopify's answer left pending — the code found at Shopify: issued; provably never created:
 * failed with the points returned; still unknown: pending, one attempt more, and after
 * MAX_RECONCILE_ATTEMPTS left to the merchant (app/redemption.server.ts reconcileStalePending) —
 * then closes the issued codes whose time ran out (app/redemption-expiry.server.ts).
 * The payload is empty: the job reads what is due from the database.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Database } from '../../db/client.server';
import {
  reconcileStalePending,
  redemptionDeps,
  type DefaultDepsOptions,
  type RewardIssuer,
  type SweepResult,
} from '../../app/redemption.server';
import { expireDueRedemptions, type ExpiryResult } from '../../app/redemption-expiry.server';
import * as rewardIssuer from '../../app/reward-issuer.server';
import { reconcileRedemptionsJob, REDEMPTION_QUEUE } from '../../app/queues/jobs';
import { openQueue, type QueueSettings } from '../../app/queues/connection.server';

/** A failed run is not retried: the next run, a minute later, looks again. */
export const REDEMPTION_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: { count: 100 },
};

export function createRedemptionQueue(settings: QueueSettings, connection: RedisOptions): Queue {
  return openQueue(REDEMPTION_QUEUE, settings, connection, REDEMPTION_JOB_OPTIONS);
}

/** Creates or refreshes the sweep's schedule (idempotent, like the reconciler's). */
export async function scheduleRedemptionSweep(queue: Queue, everyMs: number): Promise<void> {
  await queue.upsertJobScheduler(
    reconcileRedemptionsJob.jobId({}),
    { every: everyMs },
    {
      name: reconcileRedemptionsJob.name,
      data: {},
      opts: { removeOnComplete: true, removeOnFail: 100 },
    },
  );
}

export interface RedemptionJobDeps {
  db: Database;
  log: Logger;
  /** Default: the real app/reward-issuer.server.ts. */
  issuer?: RewardIssuer;
  /** Admin endpoint and client options. */
  shopify?: Pick<DefaultDepsOptions, 'endpoint' | 'client'>;
  /** How long a pending redemption is left to its call first (default RECONCILE_IDLE_MS). */
  idleMs?: number;
  /** How long after its end a code is closed (default EXPIRY_GRACE_MS). */
  expiryGraceMs?: number;
}

export async function runRedemptionSweepJob(
  deps: RedemptionJobDeps,
): Promise<{ pending: SweepResult; expiry: ExpiryResult }> {
  const service = await redemptionDeps(deps.issuer ?? rewardIssuer, {
    db: deps.db,
    log: deps.log,
    ...deps.shopify,
  });
  const pending = await reconcileStalePending(service, {
    ...(deps.idleMs !== undefined ? { idleMs: deps.idleMs } : {}),
  });
  if (pending.checked > 0) deps.log.info(pending, 'pending redemptions reconciled');
  const expiry = await expireDueRedemptions(service, {
    ...(deps.expiryGraceMs !== undefined ? { graceMs: deps.expiryGraceMs } : {}),
  });
  if (expiry.checked > 0) deps.log.info(expiry, 'expired reward codes closed');
  return { pending, expiry };
}

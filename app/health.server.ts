/**
 * GET /healthz: can this process reach PostgreSQL and Redis right now? Each check has its own
 * timeout so a hung dependency answers 503 within about a second instead of hanging the probe.
 * Anyone can call it, so the answer says only ok/down per dependency; why it is down (hosts,
 * ports, driver and auth messages) goes to the log, one warn line per failed dependency.
 */
import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { getDatabase } from './db.server';
import { rootCauseMessage } from './errors';
import { logger } from './logger.server';
import { getWebhookQueue } from './queues/webhook-queue.server';

export type DependencyState = 'ok' | 'down';

export interface Health {
  status: 'ok' | 'error';
  postgres: DependencyState;
  redis: DependencyState;
}

async function within<T>(ms: number, what: string, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function check(
  ms: number,
  dependency: keyof Omit<Health, 'status'>,
  what: string,
  work: () => Promise<unknown>,
): Promise<DependencyState> {
  try {
    await within(ms, what, work);
    return 'ok';
  } catch (error) {
    logger().warn(
      { dependency, err: rootCauseMessage(error) },
      `health check: ${dependency} is down`,
    );
    return 'down';
  }
}

export async function checkHealth(options: { timeoutMs?: number } = {}): Promise<Health> {
  const ms = options.timeoutMs ?? 1_000;
  const [postgres, redis] = await Promise.all([
    check(ms, 'postgres', 'PostgreSQL', async () => {
      const { db } = await getDatabase();
      await db.execute(sql`select 1`);
    }),
    // The webhook queue's own connection: the one the ingest path enqueues through.
    check(ms, 'redis', 'Redis', async () => {
      const client = (await getWebhookQueue().client) as unknown as Redis;
      const pong = await client.ping();
      if (pong !== 'PONG') throw new Error(`Redis answered ${pong} to PING`);
    }),
  ]);
  return { status: postgres === 'ok' && redis === 'ok' ? 'ok' : 'error', postgres, redis };
}

export async function healthResponse(): Promise<Response> {
  const health = await checkHealth();
  return new Response(JSON.stringify(health), {
    status: health.status === 'ok' ? 200 : 503,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}

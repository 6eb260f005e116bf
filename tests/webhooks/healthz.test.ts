import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.SHOPIFY_API_KEY = 'laurel-test-key';
  process.env.SHOPIFY_API_SECRET = 'laurel-test-secret';
  process.env.SHOPIFY_APP_URL = 'https://laurel.test';
  process.env.SCOPES = 'read_customers';
  process.env.LOG_LEVEL = 'silent';
});

import { useDatabase } from '../../app/db.server';
import { logger } from '../../app/logger.server';
import { loader } from '../../app/routes/healthz';
import { openDatabase } from '../../db/client.server';
import { createWebhookQueue, useWebhookQueue } from '../../app/queues/webhook-queue.server';
import { closedPort, openPipeline } from '../helpers/pipeline';

let cleanup: (() => Promise<void>) | undefined;
let warn: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  warn = vi.spyOn(logger(), 'warn');
});
afterEach(async () => {
  warn.mockRestore();
  await cleanup?.();
  cleanup = undefined;
});

describe('GET /healthz', () => {
  it('answers 200 when PostgreSQL and Redis both answer', async () => {
    const pipeline = await openPipeline();
    cleanup = () => pipeline.close();
    const response = await loader();
    expect(response.status).toBe(200);
    expect(response.headers.get('Cache-Control')).toBe('no-store');
    expect(await response.json()).toEqual({ status: 'ok', postgres: 'ok', redis: 'ok' });
  });

  it('answers 503 saying Redis is down, within about a second, and logs why', async () => {
    const queue = createWebhookQueue({
      redisUrl: `redis://127.0.0.1:${await closedPort()}`,
      prefix: 'test-health',
    });
    const pipeline = await openPipeline({ queue });
    cleanup = () => pipeline.close();
    const started = Date.now();
    const response = await loader();
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ status: 'error', postgres: 'ok', redis: 'down' });
    // Hosts, ports and driver messages are for the operator's log, not for anyone who asks.
    expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|answer/);
    expect(warn).toHaveBeenCalledWith(
      { dependency: 'redis', err: expect.stringMatching(/Redis did not answer|ECONNREFUSED/) },
      'health check: redis is down',
    );
  });

  it('answers 503 saying PostgreSQL is down, and logs the root cause', async () => {
    const handle = await openDatabase({
      url: `postgresql://postgres@127.0.0.1:${await closedPort()}/none`,
      max: 1,
    });
    const queue = createWebhookQueue({ redisUrl: 'redis://127.0.0.1:6379', prefix: 'test-health' });
    useDatabase(handle);
    useWebhookQueue(queue);
    cleanup = async () => {
      useDatabase(undefined);
      useWebhookQueue(undefined);
      await queue.close();
      await handle.close();
    };
    const response = await loader();
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ status: 'error', postgres: 'down', redis: 'ok' });
    expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
    expect(warn).toHaveBeenCalledWith(
      { dependency: 'postgres', err: expect.stringMatching(/ECONNREFUSED 127\.0\.0\.1/) },
      'health check: postgres is down',
    );
  });
});

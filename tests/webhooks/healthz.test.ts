import { afterEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.SHOPIFY_API_KEY = 'laurel-test-key';
  process.env.SHOPIFY_API_SECRET = 'laurel-test-secret';
  process.env.SHOPIFY_APP_URL = 'https://laurel.test';
  process.env.SCOPES = 'read_customers';
  process.env.LOG_LEVEL = 'silent';
});

import { useDatabase } from '../../app/db.server';
import { loader } from '../../app/routes/healthz';
import { openDatabase } from '../../db/client.server';
import { createWebhookQueue, useWebhookQueue } from '../../workers/queue.server';
import { closedPort, openPipeline } from '../helpers/pipeline';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
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

  it('answers 503 naming Redis when it is unreachable, within about a second', async () => {
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
    const body = (await response.json()) as Record<string, string>;
    expect(body).toMatchObject({ status: 'error', postgres: 'ok' });
    expect(body.redis).not.toBe('ok');
  });

  it('answers 503 naming PostgreSQL when it is unreachable', async () => {
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
    const body = (await response.json()) as Record<string, string>;
    expect(body).toMatchObject({ status: 'error', redis: 'ok' });
    expect(body.postgres).toMatch(/ECONNREFUSED/);
  });
});

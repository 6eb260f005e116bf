import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureRedis, findOnPath } from './redis';

const RUNNING = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const empty = mkdtempSync(join(tmpdir(), 'laurel-no-redis-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

describe('ensureRedis', () => {
  it('uses a Redis that answers, and starts nothing', async () => {
    const logs: string[] = [];
    const redis = await ensureRedis(RUNNING, { log: (m) => logs.push(m) });
    expect(redis).toMatchObject({ url: RUNNING, started: false });
    await redis.stop();
    expect(await answers(RUNNING)).toBe(true);
    expect(logs).toEqual([]);
  });

  it('starts redis-server on a free port when nothing answers, and stop() ends it', async () => {
    expect(
      findOnPath('redis-server', process.env.PATH ?? ''),
      'redis-server on PATH',
    ).toBeDefined();
    const dead = `redis://127.0.0.1:${await closedPort()}`;
    const logs: string[] = [];
    const redis = await ensureRedis(dead, { log: (m) => logs.push(m) });
    try {
      expect(redis.started).toBe(true);
      expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(redis.url).not.toBe(dead);
      expect(await answers(redis.url)).toBe(true);
      // Nothing is persisted.
      const client = new Redis(redis.url);
      expect(await client.config('GET', 'save')).toEqual(['save', '']);
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      client.disconnect();
      expect(logs).toHaveLength(1);
      expect(logs[0]).toContain(`No Redis answered at ${dead} (ECONNREFUSED); started`);
    } finally {
      await redis.stop();
    }
    expect(await answers(redis.url)).toBe(false);
    await redis.stop(); // twice is harmless
  });

  it('reports a redis-server that fails to start, with its output', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'laurel-fake-redis-'));
    try {
      const fake = join(bin, 'redis-server');
      writeFileSync(fake, '#!/bin/sh\necho "# Fatal error: bad config directive"\nexit 1\n');
      chmodSync(fake, 0o755);
      const dead = `redis://127.0.0.1:${await closedPort()}`;
      await expect(ensureRedis(dead, { searchPath: bin })).rejects.toThrow(
        /starting one failed: .*redis-server exited \(1\) before answering PING:\n# Fatal error: bad config directive/s,
      );
      writeFileSync(fake, '#!/bin/sh\necho "stuck"\nexec sleep 30\n');
      await expect(ensureRedis(dead, { searchPath: bin, startTimeoutMs: 300 })).rejects.toThrow(
        /did not answer PING on redis:\/\/127\.0\.0\.1:\d+ within 300 ms:\nstuck/,
      );
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('says how to get a Redis when none answers and redis-server is not on PATH', async () => {
    const dead = `redis://127.0.0.1:${await closedPort()}`;
    const failure = await ensureRedis(dead, { searchPath: empty }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    const message = (failure as Error).message;
    expect(message).toContain(`No Redis answered at ${dead} (ECONNREFUSED)`);
    expect(message).toContain('no redis-server on PATH');
    expect(message).toContain('apt-get install redis-server');
    expect(message).toContain('set REDIS_URL to a running Redis');
  });

  it('refuses a URL that is not a Redis URL', async () => {
    await expect(ensureRedis('http://127.0.0.1:6379')).rejects.toThrow(
      /not a redis:\/\/ or rediss:\/\/ URL/,
    );
    await expect(ensureRedis('127.0.0.1:6379')).rejects.toThrow(
      /is not a redis:\/\/ or rediss:\/\/ URL|not a URL/,
    );
  });
});

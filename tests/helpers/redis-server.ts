/**
 * A private `redis-server` child for tests that must flush Redis or take it away: the shared one
 * at 127.0.0.1:6379 belongs to everybody's test runs and is never flushed or paused.
 *
 *   const redis = await startRedisServer();  // in memory, on a free loopback port
 *   await redis.flushAll();                  // only this server
 *   await redis.stop();                      // Redis is down: connections are refused
 *   await redis.start();                     // back, empty, on the same port
 *   await redis.stop();                      // in afterAll (stopAllRedisServers() also works)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { findOnPath } from '../../dev/demo/redis';
import { freePort } from './app-server';

export interface RedisServer {
  url: string;
  port: number;
  /** Whether the server is running now. */
  readonly running: boolean;
  /** Starts it again (after stop) on the same port, empty. */
  start(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s) and wait for the exit. Safe to call when stopped. */
  stop(): Promise<void>;
  /** FLUSHALL on this server, nothing else. */
  flushAll(): Promise<void>;
  /** Number of keys in database 0. */
  dbSize(): Promise<number>;
  /** The tail of the server's own output, for failure messages. */
  output(): string;
}

const servers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of servers) child.kill('SIGKILL');
});

/** Stops every server this helper started that is still running. */
export async function stopAllRedisServers(): Promise<void> {
  await Promise.all([...servers].map((child) => end(child)));
}

async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function withClient<T>(url: string, work: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await work(client);
  } finally {
    client.disconnect();
  }
}

export async function startRedisServer(): Promise<RedisServer> {
  const binary = findOnPath('redis-server', process.env.PATH ?? '');
  if (!binary)
    throw new Error('redis-server is not on PATH (Debian: apt-get install redis-server)');
  let port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async (): Promise<void> => {
    // No persistence: a restart comes back empty, as an unpersisted production Redis would.
    const process_ = spawn(
      binary,
      ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    process_.stdout!.on('data', keep);
    process_.stderr!.on('data', keep);
    servers.add(process_);
    process_.once('exit', () => servers.delete(process_));
    child = process_;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (process_.exitCode !== null || process_.signalCode !== null) {
        throw new Error(`redis-server on port ${port} exited at start:\n${output}`);
      }
      const pong = await withClient(`redis://127.0.0.1:${port}`, (c) => c.ping()).catch(
        () => undefined,
      );
      if (pong === 'PONG') return;
      if (Date.now() > deadline) {
        await end(process_);
        throw new Error(`redis-server on port ${port} did not answer PING:\n${output}`);
      }
      await sleep(25);
    }
  };

  // Another process may take the free port before redis-server binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3 || !/address already in use/i.test(output)) throw error;
      port = await freePort();
    }
  }

  const url = `redis://127.0.0.1:${port}`;
  const isRunning = () =>
    child !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    url,
    port,
    get running() {
      return isRunning();
    },
    async start() {
      if (isRunning()) return;
      await launch();
    },
    async stop() {
      if (child) await end(child);
    },
    flushAll: () => withClient(url, async (c) => void (await c.flushall())),
    dbSize: () => withClient(url, (c) => c.dbsize()),
    output: () => output,
  };
}

/**
 * A Redis for the demo: the one at REDIS_URL when it answers, else a throwaway `redis-server` from
 * PATH on a free loopback port (no persistence, a child of this process), else a clear message
 * saying how to get one.
 *
 *   const redis = await ensureRedis(env.REDIS_URL, { log: console.log });
 *   … use redis.url …
 *   await redis.stop();   // stops the server only if this call started it
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { Redis } from 'ioredis';

export interface EnsuredRedis {
  url: string;
  /** This call started redis-server. */
  started: boolean;
  /** Stops the server this call started (a no-op otherwise). */
  stop: () => Promise<void>;
}

export interface EnsureRedisOptions {
  log?: (message: string) => void;
  /** Where to look for redis-server. Default: process.env.PATH. */
  searchPath?: string;
  /** How long a PING may take. Default 1000 ms. */
  pingTimeoutMs?: number;
  /** How long a started server has to answer PING. Default 10 s. */
  startTimeoutMs?: number;
}

/** Result of one PING: answered, or why not. */
async function ping(
  url: string,
  timeoutMs: number,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
  });
  // ioredis rejects with "Connection is closed."; the socket's own error says why (ECONNREFUSED…).
  let socketError: NodeJS.ErrnoException | undefined;
  client.on('error', (error: NodeJS.ErrnoException) => {
    socketError ??= error;
  });
  try {
    await client.connect();
    const answer = await client.ping();
    return answer === 'PONG' ? { ok: true } : { ok: false, reason: `PING answered ${answer}` };
  } catch (error) {
    const e = socketError ?? (error as NodeJS.ErrnoException);
    return { ok: false, reason: e.code ?? e.message };
  } finally {
    client.disconnect();
  }
}

/** The first executable `name` in `searchPath`, or undefined. */
export function findOnPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A loopback port nobody listens on right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not pick a free port'));
      });
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ends `child`: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
async function endChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

class StartError extends Error {
  constructor(
    message: string,
    readonly portTaken: boolean,
  ) {
    super(message);
  }
}

async function startServer(
  binary: string,
  port: number,
  options: Required<Pick<EnsureRedisOptions, 'pingTimeoutMs' | 'startTimeoutMs'>>,
): Promise<ChildProcess> {
  const child = spawn(
    binary,
    ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // redis-server logs to stdout; keep the tail of both streams for the error message.
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + options.startTimeoutMs;
  for (;;) {
    if (spawnError) throw new StartError(`could not run ${binary}: ${spawnError.message}`, false);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new StartError(
        `${binary} exited (${child.exitCode ?? child.signalCode}) before answering PING:\n${output.trim()}`,
        /address already in use/i.test(output),
      );
    }
    if ((await ping(url, Math.min(options.pingTimeoutMs, 500))).ok) return child;
    if (Date.now() > deadline) {
      await endChild(child);
      throw new StartError(
        `${binary} did not answer PING on ${url} within ${options.startTimeoutMs} ms:\n${output.trim()}`,
        false,
      );
    }
    await sleep(50);
  }
}

/** See the module comment. Throws when no Redis can be had, saying how to get one. */
export async function ensureRedis(
  url: string,
  options: EnsureRedisOptions = {},
): Promise<EnsuredRedis> {
  const log = options.log ?? (() => {});
  const pingTimeoutMs = options.pingTimeoutMs ?? 1_000;
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`REDIS_URL '${url}' is not a URL such as redis://127.0.0.1:6379`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL '${url}' is not a redis:// or rediss:// URL`);
  }

  const answer = await ping(url, pingTimeoutMs);
  if (answer.ok) return { url, started: false, stop: async () => {} };
  if (/NOAUTH|WRONGPASS|NOPERM/.test(answer.reason)) {
    throw new Error(
      `Redis at ${url} answered but refused PING (${answer.reason}): check the credentials in REDIS_URL`,
    );
  }

  const binary = findOnPath('redis-server', options.searchPath ?? process.env.PATH ?? '');
  if (binary === undefined) {
    throw new Error(
      `No Redis answered at ${url} (${answer.reason}), and there is no redis-server on PATH to start one.\n` +
        'Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), ' +
        'or set REDIS_URL to a running Redis, e.g. REDIS_URL=redis://127.0.0.1:6379.',
    );
  }

  // Another process can take the free port before redis-server binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let child: ChildProcess;
    try {
      child = await startServer(binary, port, { pingTimeoutMs, startTimeoutMs });
    } catch (error) {
      if (error instanceof StartError && error.portTaken && attempt < 3) continue;
      throw new Error(
        `No Redis answered at ${url} (${answer.reason}), and starting one failed: ${(error as Error).message}`,
      );
    }
    const started = `redis://127.0.0.1:${port}`;
    log(
      `No Redis answered at ${url} (${answer.reason}); started ${binary} on ${started} (in memory, stopped on exit).`,
    );
    // If this process ends without stop(), do not leave the server behind.
    const onExit = () => child.kill('SIGKILL');
    process.once('exit', onExit);
    return {
      url: started,
      started: true,
      stop: async () => {
        process.removeListener('exit', onExit);
        await endChild(child);
      },
    };
  }
}

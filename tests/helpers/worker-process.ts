/**
 * The worker process (`node dist/worker.mjs`, what `npm run worker` runs) as a child, for
 * end-to-end tests: real signals, a real process to SIGKILL in the middle of a job.
 *
 *   await ensureWorkerBuilt();               // bundles dist/worker.mjs when its sources are newer
 *   const worker = await startWorkerProcess({
 *     env: { DATABASE_URL: db.url, REDIS_URL: url, QUEUE_PREFIX: prefix, WORKER_LOCK_MS: '1000' },
 *     queue,                                 // optional: wait until it is registered on the queue
 *   });
 *   await worker.kill();                     // SIGKILL → { code: null, signal: 'SIGKILL', … }
 *
 * Readiness is the worker's Redis connection showing up in the queue's worker list (BullMQ names
 * its connections), so it works at any LOG_LEVEL. Every child still running when the test process
 * exits is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { bundle, newest, ROOT, withFileLock } from '../../dev/build';
import { childEnv, type ChildHandle, type ExitStatus } from './app-server';

const WORKER_BUNDLE = join(ROOT, 'dist', 'worker.mjs');
const LOCK = join(ROOT, '.cache', 'worker-build.lock');
/** What dist/worker.mjs is made of (workers/main.ts and everything it imports). */
const WORKER_SOURCES = ['workers', 'app', 'db', 'loyalty'];
const MAX_CAPTURE = 4 * 1024 * 1024;

/** Environment every worker child gets unless the caller overrides it. */
export const WORKER_TEST_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  REDIS_URL: 'redis://127.0.0.1:6379',
  LOG_LEVEL: 'warn',
};

function staleReason(): string | undefined {
  if (!existsSync(WORKER_BUNDLE)) return 'dist/worker.mjs is missing';
  const source = newest(WORKER_SOURCES);
  if (source.mtimeMs > statSync(WORKER_BUNDLE).mtimeMs) {
    return `${relative(ROOT, source.path)} is newer than dist/worker.mjs`;
  }
  return undefined;
}

/**
 * Bundles workers/main.ts to dist/worker.mjs (self-contained, packages external) when a source is
 * newer. Written to a temporary name and renamed, so a worker starting meanwhile in another test
 * file never loads half a file. Other dist/ bundles are left alone.
 */
export async function ensureWorkerBuilt(): Promise<void> {
  if (!staleReason()) return;
  await withFileLock(LOCK, async () => {
    const reason = staleReason();
    if (!reason) return;
    process.stdout.write(`[worker-process] ${reason}: bundling workers/main.ts\n`);
    await bundle(join(ROOT, 'workers', 'main.ts'), WORKER_BUNDLE);
  });
}

export interface WorkerProcessOptions {
  /** Added to WORKER_TEST_ENV: DATABASE_URL, QUEUE_PREFIX, WORKER_LOCK_MS… (undefined unsets). */
  env?: Record<string, string | undefined>;
  /** When given, wait until the new worker is registered on this queue. */
  queue?: Queue;
  /** How long to wait for that (default 20 s). */
  readyTimeoutMs?: number;
}

export interface WorkerProcess extends ChildHandle {
  /** Sends `signal` (default SIGTERM) and waits; SIGKILLs after `timeoutMs` (default 20 s). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitStatus>;
  /** SIGKILL: no shutdown code runs, active jobs stay locked until their lock expires. */
  kill(): Promise<ExitStatus>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** SIGKILLs every worker this helper started that is still running (for afterAll/afterEach). */
export async function stopAllWorkerProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Starts `node dist/worker.mjs` (call ensureWorkerBuilt first). */
export async function startWorkerProcess(
  options: WorkerProcessOptions = {},
): Promise<WorkerProcess> {
  if (!existsSync(WORKER_BUNDLE)) {
    throw new Error('dist/worker.mjs is missing: call ensureWorkerBuilt() first');
  }
  // Readiness: a worker connection that was not there before (ids, not a count, so a worker
  // killed meanwhile cannot hide a new one).
  const workerIds = async () =>
    new Set((await options.queue!.getWorkers()).map((w) => String(w.id)));
  const before = options.queue ? await workerIds() : new Set<string>();
  const child = spawn(process.execPath, [WORKER_BUNDLE], {
    cwd: ROOT,
    env: childEnv({ ...WORKER_TEST_ENV, ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout = (stdout + chunk).slice(-MAX_CAPTURE);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-MAX_CAPTURE);
  });
  let exit: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      // Let the pipes drain so the last lines are captured.
      setImmediate(() => {
        exit = { code, signal, stdout, stderr };
        resolve(exit);
      });
    });
  });

  if (options.queue) {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
    for (;;) {
      if (exit) {
        throw new Error(
          `dist/worker.mjs exited before it was ready (code ${exit.code}, signal ${exit.signal}):\n${exit.stderr || exit.stdout}`,
        );
      }
      const now = await workerIds().catch(() => new Set<string>());
      if ([...now].some((id) => !before.has(id))) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        const status = await exited;
        throw new Error(
          `dist/worker.mjs did not register on the queue within ${options.readyTimeoutMs ?? 20_000} ms:\n${status.stderr}\n${status.stdout}`,
        );
      }
      await sleep(50);
    }
  }

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000) => {
    if (exit) return exit;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const status = await exited;
    clearTimeout(timer);
    return status;
  };
  return {
    pid: child.pid!,
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    logLines: () =>
      stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    stop,
    kill: () => stop('SIGKILL'),
  };
}

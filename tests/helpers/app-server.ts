/**
 * The built web server as a child process (`node dist/server.mjs`), for end-to-end tests and
 * benchmarks: real HTTP, real signals, a real process to SIGKILL.
 *
 *   await ensureAppBuilt();                  // builds build/ and dist/server.mjs when stale
 *   const app = await startAppProcess({ env: { DATABASE_URL: db.url, QUEUE_PREFIX: prefix } });
 *   await fetch(`${app.url}/healthz`);
 *   await app.stop('SIGTERM');               // → { code: 0, signal: null, stdout, stderr }
 *
 * Readiness is GET /healthz answering 200. A child that exits early or never gets ready fails
 * with its exit status and stderr. Every child still running when the test process exits is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureAppBuilt as ensureBuilt, BUILD_MARKER, ROOT, SERVER_BUNDLE } from '../../dev/build';

function say(message: string): void {
  // stdout: console.error would fail the calling test (tests/setup/console.ts).
  process.stdout.write(`[app-server] ${message}\n`);
}

/**
 * Builds the Remix app (remix vite:build → build/) and the server bundle (dist/server.mjs) when
 * their sources are newer, one test file at a time (dev/build.ts decides what is stale). Does not
 * touch the other dist/ bundles (the CLI tests may be running them).
 */
export async function ensureAppBuilt(): Promise<void> {
  await ensureBuilt({ log: say });
}

/** Environment every child gets unless the caller overrides it. */
export const APP_TEST_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  SHOPIFY_API_KEY: 'laurel-test-key',
  SHOPIFY_API_SECRET: 'laurel-test-secret',
  SHOPIFY_APP_URL: 'https://laurel.test',
  SCOPES: 'read_customers,write_customers,read_orders',
  REDIS_URL: 'redis://127.0.0.1:6379',
  INLINE_WORKERS: 'false',
  LOG_LEVEL: 'info',
  HOST: '127.0.0.1',
};

export interface AppProcessOptions {
  /** Added to APP_TEST_ENV (DATABASE_URL, QUEUE_PREFIX, …). PORT defaults to a free port. */
  env?: Record<string, string | undefined>;
  /** How long to wait for /healthz (default 30 s). */
  readyTimeoutMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A child process a test started: its output, its exit, and a way to stop it. */
export interface ChildHandle {
  pid: number;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout's JSON log lines (pino). */
  logLines(): Record<string, unknown>[];
  /** Resolves when the process has exited (on its own, or by stop/kill). */
  exited: Promise<ExitStatus>;
}

export interface AppProcess extends ChildHandle {
  url: string;
  port: number;
  /**
   * Sends `signal` (default SIGTERM) and waits for the exit; SIGKILLs after `timeoutMs`
   * (default 20 s) and rejects then, since a server that ignores SIGTERM is a bug.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitStatus>;
}

/** This process's environment without vitest's own variables, plus `extra` (undefined unsets). */
export function childEnv(extra: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...extra })) {
    if (value !== undefined && !key.startsWith('VITEST')) {
      env[key] = value;
    }
  }
  return env;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Kills every child this helper started that is still running (for afterAll/afterEach). */
export async function stopAllAppProcesses(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const MAX_CAPTURE = 4 * 1024 * 1024;

/** Starts `node dist/server.mjs` (call ensureAppBuilt first) and waits until /healthz is 200. */
export async function startAppProcess(options: AppProcessOptions = {}): Promise<AppProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      // Another process may take the free port between our probe and the child's listen.
      if (attempt < 3 && /EADDRINUSE/.test(String(error))) continue;
      throw error;
    }
  }
}

async function startOnce(options: AppProcessOptions): Promise<AppProcess> {
  if (!existsSync(SERVER_BUNDLE) || !existsSync(BUILD_MARKER)) {
    throw new Error('the app is not built: call ensureAppBuilt() first');
  }
  const port = Number(options.env?.PORT ?? (await freePort()));
  const env = childEnv({ ...APP_TEST_ENV, ...options.env, PORT: String(port) });

  const child = spawn(process.execPath, [SERVER_BUNDLE], {
    cwd: ROOT,
    env,
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
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      // Let the pipes drain so the last lines are captured.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  let exit: ExitStatus | undefined;
  void exited.then((status) => (exit = status));
  let last = '';
  for (;;) {
    if (exit) {
      throw new Error(
        `dist/server.mjs exited before it was ready (code ${exit.code}, signal ${exit.signal}):\n${exit.stderr || exit.stdout}`,
      );
    }
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      last = `${response.status} ${await response.text()}`;
      if (response.ok) break;
    } catch (error) {
      last = String(error);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      const status = await exited;
      throw new Error(
        `dist/server.mjs was not ready within ${options.readyTimeoutMs ?? 30_000} ms (last /healthz: ${last}):\n${status.stderr}\n${status.stdout}`,
      );
    }
    await sleep(50);
  }

  return {
    url,
    port,
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
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000) {
      if (exit) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const status = await exited;
      clearTimeout(timer);
      if (status.signal === 'SIGKILL' && signal !== 'SIGKILL') {
        throw new Error(`dist/server.mjs ignored ${signal} for ${timeoutMs} ms:\n${status.stderr}`);
      }
      return status;
    },
  };
}

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
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD_MARKER = join(ROOT, 'build', 'server', 'index.js');
const SERVER_BUNDLE = join(ROOT, 'dist', 'server.mjs');
const LOCK = join(ROOT, '.cache', 'app-build.lock');
/** What the Remix build is made of. Tests beside the code do not count. */
const BUILD_SOURCES = ['app', 'loyalty', 'db', 'workers', 'vite.config.ts'];
/** What dist/server.mjs is made of. */
const SERVER_SOURCES = ['server', 'app/env.server.ts'];

function newest(paths: string[]): { path: string; mtimeMs: number } {
  let best = { path: '', mtimeMs: 0 };
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else if (!/\.test\.tsx?$/.test(path) && stat.mtimeMs > best.mtimeMs) {
      best = { path, mtimeMs: stat.mtimeMs };
    }
  };
  for (const path of paths) visit(join(ROOT, path));
  return best;
}

function mtime(path: string): number {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function say(message: string): void {
  // stdout: console.error would fail the calling test (tests/setup/console.ts).
  process.stdout.write(`[app-server] ${message}\n`);
}

/** What needs building, with the reason, or nothing. */
function staleness(): { build?: string; server?: string } {
  const result: { build?: string; server?: string } = {};
  const sources = newest(BUILD_SOURCES);
  const built = mtime(BUILD_MARKER);
  if (!built || !existsSync(join(ROOT, 'build', 'db', 'migrations'))) {
    result.build = 'build/ is missing';
  } else if (sources.mtimeMs > built) {
    result.build = `${relative(ROOT, sources.path)} is newer than build/`;
  }
  const serverSources = newest(SERVER_SOURCES);
  const bundled = mtime(SERVER_BUNDLE);
  if (!bundled) result.server = 'dist/server.mjs is missing';
  else if (serverSources.mtimeMs > bundled) {
    result.server = `${relative(ROOT, serverSources.path)} is newer than dist/server.mjs`;
  }
  return result;
}

async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Another test file is building; a lock older than 10 minutes is left over from a crash.
      if (Date.now() - mtime(LOCK) > 10 * 60_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK}`);
      await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function run(command: string, args: string[]): void {
  const started = Date.now();
  const env = childEnv({ NODE_ENV: 'production' });
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', env });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Builds the Remix app (remix vite:build → build/) and the server bundle (dist/server.mjs) when
 * their sources are newer, one test file at a time. Does not touch the other dist/ bundles (the
 * CLI tests may be running them).
 */
export async function ensureAppBuilt(): Promise<void> {
  if (!staleness().build && !staleness().server) return;
  await withBuildLock(async () => {
    const stale = staleness();
    if (stale.build) {
      say(`${stale.build}: running remix vite:build`);
      run(process.execPath, [
        join(ROOT, 'node_modules', '@remix-run', 'dev', 'dist', 'cli.js'),
        'vite:build',
      ]);
    }
    if (stale.server) {
      say(`${stale.server}: bundling server/main.ts`);
      const { build } = await import('esbuild');
      await build({
        entryPoints: [join(ROOT, 'server', 'main.ts')],
        outfile: SERVER_BUNDLE,
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        packages: 'external',
        sourcemap: true,
        logLevel: 'warning',
      });
    }
  });
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

export interface AppProcess {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout's JSON log lines (pino). */
  logLines(): Record<string, unknown>[];
  /** Resolves when the process has exited (on its own or by stop). */
  exited: Promise<ExitStatus>;
  /**
   * Sends `signal` (default SIGTERM) and waits for the exit; SIGKILLs after `timeoutMs`
   * (default 20 s) and rejects then, since a server that ignores SIGTERM is a bug.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ExitStatus>;
}

/** This process's environment without vitest's own variables, plus `extra` (undefined unsets). */
function childEnv(extra: Record<string, string | undefined>): Record<string, string> {
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

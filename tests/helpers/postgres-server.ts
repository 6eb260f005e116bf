/**
 * A private PostgreSQL cluster for tests that must restart or stop the database: the shared one at
 * 127.0.0.1:5432 belongs to everybody's test runs and is never restarted.
 *
 *   const pg = await startPostgresServer();   // initdb in /tmp, postmaster on a free loopback port
 *   pg.adminUrl                                // postgres://postgres@127.0.0.1:<port>/postgres
 *   await pg.restart('immediate');             // SIGQUIT (no checkpoint), crash recovery at start
 *   await pg.stop('fast');                     // down: connections are refused
 *   await pg.start({ wait: false });           // back; resolves once the postmaster is spawned
 *   await pg.waitReady();                      // until it accepts queries
 *   await pg.destroy();                        // in afterAll: stop and delete the data directory
 *
 * The postmaster is this process's child (run as the `postgres` user when the tests run as root:
 * initdb and postgres refuse root), so it dies with the test process whatever happens.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { freePort } from './app-server';

/** How PostgreSQL is told to shut down (pg_ctl -m): the signal the postmaster gets. */
export type ShutdownMode = 'smart' | 'fast' | 'immediate';
const SIGNALS: Record<ShutdownMode, NodeJS.Signals> = {
  smart: 'SIGTERM',
  fast: 'SIGINT',
  immediate: 'SIGQUIT',
};

export interface PostgresServer {
  port: number;
  /** URL of the `postgres` database, superuser, trust authentication. */
  adminUrl: string;
  readonly running: boolean;
  /** The postmaster's process id while it runs (its backends are its children). */
  readonly pid: number | undefined;
  /** Starts the postmaster (after stop). With `wait` (default) resolves once it accepts queries. */
  start(options?: { wait?: boolean }): Promise<void>;
  /** Shuts it down in `mode` (default fast) and waits for the postmaster to exit. */
  stop(mode?: ShutdownMode): Promise<void>;
  /** stop(mode) then start(): what `pg_ctl restart -m <mode>` does. */
  restart(mode?: ShutdownMode): Promise<void>;
  /** Polls until the server answers `SELECT 1` (it may be recovering, 57P03, until then). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** The tail of the server's log, for failure messages. */
  output(): string;
  /** Stops it (immediate) and deletes its data directory. */
  destroy(): Promise<void>;
}

const BIN_DIRS = [
  '/usr/lib/postgresql/17/bin',
  '/usr/lib/postgresql/16/bin',
  '/usr/lib/postgresql/15/bin',
];

function binary(name: string): string {
  const fromEnv = process.env.PG_BIN_DIR;
  for (const dir of fromEnv ? [fromEnv, ...BIN_DIRS] : BIN_DIRS) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(
    `${name} not found in ${BIN_DIRS.join(', ')} (set PG_BIN_DIR; Debian: apt-get install postgresql)`,
  );
}

/** The account the cluster runs as: `postgres` when we are root (PostgreSQL refuses root). */
function owner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGQUIT');
});

async function exitOf(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  // A smart or fast shutdown waits for clients or a checkpoint; never longer than this.
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export async function startPostgresServer(): Promise<PostgresServer> {
  const account = owner();
  const dir = mkdtempSync(join(tmpdir(), 'laurel-pg-'));
  const dataDir = join(dir, 'data');
  if (account) chownSync(dir, account.uid, account.gid);
  execFileSync(
    binary('initdb'),
    ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
    { stdio: 'pipe', ...account },
  );

  let port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';
  const isRunning = () =>
    child !== undefined && child.exitCode === null && child.signalCode === null;
  const adminUrl = () => `postgres://postgres@127.0.0.1:${port}/postgres`;

  const spawnPostmaster = () => {
    const process_ = spawn(
      binary('postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        // A throwaway cluster: durability against an OS crash is not what these tests are about
        // (an immediate shutdown still leaves WAL to replay at the next start).
        '-c',
        'fsync=off',
        '-c',
        'max_connections=60',
        '-c',
        'shared_buffers=32MB',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], ...account },
    );
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-16_000);
    };
    process_.stdout!.on('data', keep);
    process_.stderr!.on('data', keep);
    children.add(process_);
    process_.once('exit', () => children.delete(process_));
    child = process_;
  };

  const waitReady = async (timeoutMs = 30_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!isRunning()) throw new Error(`postgres on port ${port} exited:\n${output}`);
      const client = postgres(adminUrl(), { max: 1, connect_timeout: 2, onnotice: () => {} });
      try {
        await client`SELECT 1`;
        return;
      } catch {
        if (Date.now() > deadline) {
          throw new Error(`postgres on port ${port} not ready after ${timeoutMs} ms:\n${output}`);
        }
      } finally {
        await client.end({ timeout: 1 });
      }
      await sleep(50);
    }
  };

  const start = async (options: { wait?: boolean } = {}) => {
    if (isRunning()) return;
    spawnPostmaster();
    if (options.wait ?? true) await waitReady();
  };

  // Another process may take the free port before the postmaster binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (error) {
      if (attempt >= 3 || !/could not bind|already in use/i.test(output)) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }

  const stop = async (mode: ShutdownMode = 'fast') => {
    if (child) await exitOf(child, SIGNALS[mode]);
  };
  return {
    port,
    adminUrl: adminUrl(),
    get running() {
      return isRunning();
    },
    get pid() {
      return isRunning() ? child!.pid : undefined;
    },
    start,
    stop,
    async restart(mode = 'fast') {
      await stop(mode);
      await start();
    },
    waitReady,
    output: () => output,
    async destroy() {
      await stop('immediate');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

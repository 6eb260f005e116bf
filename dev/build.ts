/**
 * Builds the app when its build is missing or older than its sources: the Remix build (build/, by
 * `remix vite:build`) and, unless told not to, the web server bundle (dist/server.mjs, by esbuild).
 * Shared by `npm run demo` and the end-to-end test helper (tests/helpers/app-server.ts), so both
 * decide "stale" the same way.
 *
 *   await ensureAppBuilt({ log: console.log });   // builds what is stale, one caller at a time
 *   appBuildStaleness()                            // { build?: reason, server?: reason }
 *
 * Callers in several processes (parallel test files, a demo) take turns through a lock directory
 * under .cache/. The other dist/ bundles (the CLI) are never touched: their tests may be running.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUILD_MARKER = join(ROOT, 'build', 'server', 'index.js');
export const SERVER_BUNDLE = join(ROOT, 'dist', 'server.mjs');
const LOCK = join(ROOT, '.cache', 'app-build.lock');
/**
 * What the Remix build is made of. Tests beside the code do not count. The storefront preview
 * (a dev route) bundles the Liquid engine and the demo product from dev/.
 */
const BUILD_SOURCES = [
  'app',
  'loyalty',
  'db',
  'workers',
  'vite.config.ts',
  'dev/storefront',
  'dev/demo/storefront.ts',
];
/** What dist/server.mjs is made of. */
const SERVER_SOURCES = ['server', 'app/env.server.ts'];

/** The most recently modified file under `paths` (relative to the repository), tests left out. */
export function newest(paths: string[]): { path: string; mtimeMs: number } {
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

export interface Staleness {
  /** Why build/ needs rebuilding, if it does. */
  build?: string;
  /** Why dist/server.mjs needs rebundling, if it does. */
  server?: string;
}

/** What needs building, with the reason, or nothing. */
export function appBuildStaleness(): Staleness {
  const result: Staleness = {};
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

/**
 * Runs `work` holding the lock directory `lock` (under .cache/), so builders in several processes
 * take turns. A lock older than 10 minutes is left over from a crash and is taken over.
 */
export async function withFileLock<T>(lock: string, work: () => Promise<T>): Promise<T> {
  mkdirSync(join(ROOT, '.cache'), { recursive: true });
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - mtime(lock) > 10 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

const withBuildLock = <T>(work: () => Promise<T>) => withFileLock(LOCK, work);

/** This process's environment without vitest's own variables, plus `extra`. */
function buildEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...extra })) {
    if (value !== undefined && !key.startsWith('VITEST')) env[key] = value;
  }
  return env;
}

function run(command: string, args: string[], log: (message: string) => void): void {
  const started = Date.now();
  // A production build, whatever the caller runs as: it is what `npm start` serves.
  const env = buildEnv({ NODE_ENV: 'production' });
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', env });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export interface EnsureAppBuiltOptions {
  /** Also bundle dist/server.mjs when stale (default true). The demo serves build/ itself. */
  server?: boolean;
  /** Progress lines (default: none). */
  log?: (message: string) => void;
}

/**
 * Builds the Remix app (remix vite:build → build/) and the server bundle (dist/server.mjs) when
 * their sources are newer, one process at a time. Resolves with what was built.
 */
export async function ensureAppBuilt(options: EnsureAppBuiltOptions = {}): Promise<string[]> {
  const log = options.log ?? (() => {});
  const wantServer = options.server ?? true;
  const needed = (stale: Staleness) => Boolean(stale.build || (wantServer && stale.server));
  // A build in progress elsewhere (its lock is held) replaces build/ as it goes: wait for it.
  if (!needed(appBuildStaleness()) && !existsSync(LOCK)) return [];
  return withBuildLock(async () => {
    const built: string[] = [];
    const stale = appBuildStaleness();
    if (stale.build) {
      log(`${stale.build}: running remix vite:build`);
      run(
        process.execPath,
        [join(ROOT, 'node_modules', '@remix-run', 'dev', 'dist', 'cli.js'), 'vite:build'],
        log,
      );
      built.push('build/');
    }
    if (wantServer && stale.server) {
      log(`${stale.server}: bundling server/main.ts`);
      await bundle(join(ROOT, 'server', 'main.ts'), SERVER_BUNDLE);
      built.push('dist/server.mjs');
    }
    return built;
  });
}

/**
 * Bundles `entry` to `outfile` as scripts/build-cli.mjs does (ESM, node20, packages external, with
 * a source map). Each file is written to a temporary name and renamed, the map first, so a process
 * starting meanwhile never loads half a bundle or one without its map.
 */
export async function bundle(entry: string, outfile: string): Promise<void> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
    write: false,
  });
  mkdirSync(dirname(outfile), { recursive: true });
  const isMap = (path: string) => path.endsWith('.map');
  for (const file of [
    ...result.outputFiles.filter((f) => isMap(f.path)),
    ...result.outputFiles.filter((f) => !isMap(f.path)),
  ]) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
}

/**
 * `npm start` (bundled to dist/server.mjs): the web process. Checks the environment, loads the Remix
 * server build, opens the database (which migrates it), starts the workers in-process when
 * INLINE_WORKERS says so (the default with the embedded PGlite), and serves until SIGTERM/SIGINT.
 *
 * App code is reached only through the build (`build.entry.module.laurel`): importing app modules
 * here would give this process a second database handle and a second queue. The one exception is
 * the environment parser, which holds no state that matters (we call the pure parse function).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ServerBuild } from '@remix-run/server-runtime';
import type { LaurelRuntime } from '../app/entry.server';
import { EnvError, parseShopifyEnv, type ShopifyEnv } from '../app/env.server';
import { startAppServer } from './app-server';

/** A hung dependency must not keep a stopping process alive forever. */
const SHUTDOWN_DEADLINE_MS = 25_000;

function fail(message: string, code = 1): never {
  process.stderr.write(`laurel web: ${message}\n`);
  process.exit(code);
}

let config: ShopifyEnv;
try {
  config = parseShopifyEnv();
} catch (error) {
  if (error instanceof EnvError) fail(`cannot start.\n${error.message}`, 2);
  throw error;
}
// What the parser decided (production when unset) is what React, Remix and the app's own checks
// read from process.env once the build is imported below.
process.env.NODE_ENV = config.NODE_ENV;

const buildUrl = new URL('../build/server/index.js', import.meta.url);
if (!existsSync(buildUrl)) {
  fail(`${fileURLToPath(buildUrl)} is missing: run \`npm run build\` first`, 2);
}
const build = (await import(buildUrl.href)) as ServerBuild;
const laurel = (build.entry.module as { laurel?: LaurelRuntime }).laurel;
if (!laurel) fail('the build has no `laurel` runtime export in app/entry.server.tsx', 2);
const log = laurel.logger().child({ component: 'web' });

try {
  // PostgreSQL may still be starting or recovering: wait for it, bounded (app/db.server.ts).
  await laurel.getDatabase({ wait: true });
} catch (error) {
  fail((error as Error).message);
}

const inline = laurel.inlineWorkers();
let workers: Awaited<ReturnType<LaurelRuntime['startWorkers']>> | undefined;
if (inline) {
  try {
    workers = await laurel.startWorkers();
  } catch (error) {
    await laurel.closeDatabase().catch(() => {});
    fail(`cannot start the inline workers: ${(error as Error).message}`);
  }
}

const server = await startAppServer({
  build,
  port: config.PORT,
  ...(config.HOST ? { host: config.HOST } : {}),
  clientDir: fileURLToPath(new URL('../build/client', import.meta.url)),
  mode: config.NODE_ENV,
  onError: (error) => {
    const { err, stack } = laurel.describeError(error);
    log.error({ err, stack }, 'request failed');
  },
  onRefused: (refusal) => log.warn(refusal, 'request refused'),
}).catch(async (error: Error) => {
  await workers?.close().catch(() => {});
  await laurel.closeDatabase().catch(() => {});
  fail(`cannot listen on port ${config.PORT}: ${error.message}`);
});
log.info(
  { url: server.url, port: server.port, inlineWorkers: inline, mode: config.NODE_ENV },
  'listening',
);

let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    log.warn({ signal }, 'second signal: exiting without waiting');
    process.exit(1);
  }
  stopping = true;
  setTimeout(() => {
    log.error('shutdown took too long: exiting');
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
  log.info({ signal }, 'stopping: finishing in-flight requests');
  const cutOff = await server.close();
  let failed = false;
  const step = async (what: string, work: () => Promise<void> | undefined) => {
    try {
      await work();
    } catch (error) {
      failed = true;
      log.error({ err: (error as Error).message }, `closing ${what} failed`);
    }
  };
  await step('the inline workers', () => workers?.close());
  await step('the webhook queue', () => laurel!.closeWebhookQueue());
  await step('the database', () => laurel!.closeDatabase());
  log.info({ cutOff }, 'stopped');
  process.exit(failed ? 1 : 0);
}
process.on('SIGTERM', (signal) => void shutdown(signal));
process.on('SIGINT', (signal) => void shutdown(signal));

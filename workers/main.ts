/**
 * `npm run worker`: the worker process. Runs the webhook jobs against PostgreSQL (DATABASE_URL)
 * until SIGTERM/SIGINT, then finishes the active jobs and exits 0. Run as many as you like: jobs
 * are exact whatever their number (see workers/process-inbox.ts).
 */
import { closeDatabase, getDatabase } from '../app/db.server';
import { env, EnvError } from '../app/env.server';
import { logger } from '../app/logger.server';
import { startWorkers } from './runtime.server';

let settings;
try {
  settings = env();
} catch (error) {
  if (!(error instanceof EnvError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
if (settings.DATABASE_URL === undefined) {
  process.stderr.write(
    'npm run worker needs PostgreSQL: set DATABASE_URL. The embedded PGlite database can only be ' +
      'opened by one process, so with it the web process runs the workers itself (INLINE_WORKERS, ' +
      'on by default without DATABASE_URL; `npm run demo` does the same).\n',
  );
  process.exit(2);
}

let runtime: Awaited<ReturnType<typeof startWorkers>>;
try {
  // PostgreSQL may still be starting or recovering (both started at boot, a database restart):
  // wait for it, bounded, rather than exit with a stack trace and rely on a supervisor.
  await getDatabase({ wait: true });
  runtime = await startWorkers();
} catch (error) {
  process.stderr.write(`laurel worker: cannot start: ${(error as Error).message}\n`);
  await closeDatabase().catch(() => {});
  process.exit(1);
}
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) {
      logger().warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger().info({ signal }, 'stopping: finishing active jobs');
    void runtime
      .close()
      .then(() => closeDatabase())
      .then(
        () => process.exit(0),
        (error: Error) => {
          logger().error({ err: error.message }, 'shutdown failed');
          process.exit(1);
        },
      );
  });
}

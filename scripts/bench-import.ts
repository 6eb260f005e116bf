/**
 * How fast the admin's history import runs a big file through its job handler
 * (workers/handlers/history-import.ts — the code the imports worker runs, without Redis between):
 * a transactions CSV of ROWS rows over CUSTOMERS members into a fresh PostgreSQL database, then the
 * same file again (every row already imported). Prints rows/s of each. docs/import.md records it.
 *
 *   npm run bench:import -- [rows=100000] [customers=10000]
 *
 * Needs PostgreSQL at ADMIN_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres)
 * and Redis at REDIS_URL (the storefront sync asked for at the end).
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createHistoryImport } from '../app/models/history-imports.server';
import { publishProgram } from '../app/models/programs.server';
import { ensureShop } from '../app/models/shops.server';
import { referenceProgram } from '../loyalty/program';
import { createTestDatabase } from '../tests/helpers/db';
import { obliterateWorkerQueues } from '../tests/helpers/pipeline';
import { createMetafieldQueue } from '../app/queues/metafield-queue.server';
import { runHistoryImportJob } from '../workers/handlers/history-import';
import { redisOptions } from '../app/queues/connection.server';

const rows = Number(process.argv[2] ?? 100_000);
const customers = Number(process.argv[3] ?? 10_000);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function file(): string {
  const lines = ['transaction_id,customer_id,date,amount'];
  const start = Date.UTC(2025, 0, 1);
  for (let i = 0; i < rows; i++) {
    const day = new Date(start + (i % 365) * 86_400_000).toISOString().slice(0, 10);
    const cents = 2_000 + ((i * 7_919) % 30_000);
    lines.push(`B${i + 1},${7_100_000_000 + (i % customers)},${day},${(cents / 100).toFixed(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

const database = await createTestDatabase('postgres');
const prefix = `bench-${randomUUID()}`;
const metafieldQueue = createMetafieldQueue({ redisUrl, prefix }, redisOptions(redisUrl));
try {
  const shop = await ensureShop(database.db, {
    domain: 'laurel-bench-import.myshopify.com',
    currency: 'USD',
    timezone: 'America/New_York',
  });
  await publishProgram(database.db, shop.id, referenceProgram, new Date(0));
  const content = file();
  const deps = {
    db: database.db,
    log: pino({ level: 'silent' }),
    metafieldQueue,
    metafieldDelayMs: 250,
  };
  for (const pass of ['first import', 'same file again']) {
    const { id } = await createHistoryImport(database.db, shop.id, {
      fileName: 'bench.csv',
      format: 'transactions',
      content,
      bytes: Buffer.byteLength(content),
      totalRows: rows,
      startedBy: { userId: 'bench', sessionId: null },
    });
    const job = {
      id: `import-${id}`,
      data: { importId: id },
      attemptsMade: 0,
      opts: { attempts: 1 },
    };
    const started = performance.now();
    const result = await runHistoryImportJob(
      job as Parameters<typeof runHistoryImportJob>[0],
      deps,
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      JSON.stringify({
        pass,
        rows,
        customers,
        bytes: Buffer.byteLength(content),
        seconds: Number(seconds.toFixed(2)),
        rowsPerSecond: Math.round(rows / seconds),
        result: result.status === 'done' ? result.counts : result,
      }),
    );
  }
} finally {
  await metafieldQueue.close();
  await obliterateWorkerQueues({ redisUrl, prefix }).catch(() => {});
  await database.close();
}

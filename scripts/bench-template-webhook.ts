// The webhook handler the way Shopify's Remix app template writes one, for scripts/bench-ingest.ts
// to measure beside Laurel's in the same run (issue [11] item 3). Run as a child process:
//
//   DATABASE_URL=… REDIS_URL=… QUEUE_PREFIX=… SHOPIFY_API_SECRET=… PORT=0 tsx scripts/bench-template-webhook.ts
//
// Per request, and nothing shared between requests: `authenticate.webhook(request)` (the HMAC and
// header checks, then the shop's offline session read from the database, uncached, as the
// template's PrismaSessionStorage does), one INSERT of the payload into webhook_inbox (autocommit),
// one `queue.add`, then 200. No batching, no group commit. It prints `listening <port>` when ready.
//
// What it leaves out in the template's favour: the Remix router (the request goes straight from
// @remix-run/node-fetch-server to the handler) and Prisma (node-postgres directly, the same pool
// size as Laurel's web process, prepared statements). So a ratio measured against it understates
// Laurel's lead, never overstates it.
import '@shopify/shopify-app-remix/adapters/node';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestListener } from '@remix-run/node-fetch-server';
import {
  ApiVersion,
  AppDistribution,
  LogSeverity,
  shopifyApp,
} from '@shopify/shopify-app-remix/server';
import { Session } from '@shopify/shopify-api';
import pg from 'pg';
import { Queue } from 'bullmq';
import { failFastOptions } from '../app/queues/connection.server';

const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
};

const pool = new pg.Pool({ connectionString: need('DATABASE_URL'), max: 10 });
const queue = new Queue('webhooks', {
  connection: failFastOptions(need('REDIS_URL')),
  prefix: need('QUEUE_PREFIX'),
  defaultJobOptions: { removeOnComplete: true },
});

/**
 * The template's session storage: every load is a database read (no cache), from the same `session`
 * table (the template's Prisma model) the bench fills with the shop's offline session.
 */
const sessionStorage = {
  storeSession: async () => true,
  async loadSession(id: string) {
    const { rows } = await pool.query<{
      id: string;
      shop: string;
      state: string;
      scope: string | null;
      accessToken: string | null;
    }>({
      name: 'template-load-session',
      text: 'SELECT id, shop, state, scope, "accessToken" FROM session WHERE id = $1',
      values: [id],
    });
    const row = rows[0];
    if (!row) return undefined;
    return new Session({
      id: row.id,
      shop: row.shop,
      state: row.state,
      isOnline: false,
      scope: row.scope ?? undefined,
      accessToken: row.accessToken ?? undefined,
    });
  },
  deleteSession: async () => true,
  deleteSessions: async () => true,
  findSessionsByShop: async () => [],
};

const shopify = shopifyApp({
  apiKey: 'bench-api-key',
  apiSecretKey: need('SHOPIFY_API_SECRET'),
  appUrl: 'https://laurel.example.com',
  scopes: ['read_orders'],
  apiVersion: ApiVersion.July26,
  sessionStorage,
  distribution: AppDistribution.AppStore,
  future: { unstable_newEmbeddedAuthStrategy: true },
  logger: { level: LogSeverity.Error, log: () => {} },
});

async function handle(request: Request): Promise<Response> {
  if (new URL(request.url).pathname === '/healthz') return new Response('ok');
  let context;
  try {
    context = await shopify.authenticate.webhook(request);
  } catch (error) {
    if (error instanceof Response) return error;
    return new Response('bad request', { status: 400 });
  }
  const { shop, topic, payload, webhookId, apiVersion } = context;
  const { rows } = await pool.query<{ id: string }>({
    name: 'template-insert',
    text: `INSERT INTO webhook_inbox (shop_domain, webhook_id, topic, api_version, payload)
           VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id`,
    values: [shop, webhookId, topic, apiVersion, JSON.stringify(payload)],
  });
  const id = Number(rows[0]!.id);
  await queue.add('process-inbox', { inboxId: id, shop, topic }, { jobId: `inbox-${id}` });
  return new Response(JSON.stringify({ ok: true }), {
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
  });
}

const server = createServer(createRequestListener(handle));
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  void Promise.allSettled([queue.close(), pool.end()]).then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

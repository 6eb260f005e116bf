/**
 * Webhook ingest, shared by the one-route-per-topic files in app/routes/webhooks.*.tsx:
 * check the request → verify the HMAC → store the delivery durably in the inbox → enqueue its
 * processing → 200. Shopify gets its 200 only after the PostgreSQL write; Redis being down does not
 * fail a delivery (the row is durable and the reconciler enqueues it later); the database being
 * down answers 503 so Shopify retries. Nothing about the body is looked at before its HMAC is
 * verified, and nothing is stored or enqueued for a rejected request.
 * Decisions and status codes: docs/decisions/007-web-server-and-webhook-ingest.md.
 */
import { getDatabase } from './db.server';
import { ErrorCode, httpStatusFor, rootCauseMessage } from './errors';
import { logger } from './logger.server';
import { InboxWriter, type Stored } from './inbox-writer.server';
import { normalizeShopDomain } from './models/shops.server';
import { parseShopifyEnv } from './env.server';
import { bodyText, checkWebhook, DELIVERY_HEADERS, HMAC_HEADER } from './webhook-hmac.server';
import { enqueueInboxRows } from './queues/webhook-queue.server';
import type { WebhookTopic } from './webhook-topics';

export { WEBHOOK_TOPICS, type WebhookTopic } from './webhook-topics';

/** Shopify's largest deliveries are far below this; anything bigger is refused unread. */
export const MAX_WEBHOOK_BODY_BYTES = 1_048_576;

/** Checked by us first, so a 400 names exactly what is missing. */
const REQUIRED_HEADERS = [HMAC_HEADER, ...DELIVERY_HEADERS] as const;

/**
 * How long a delivery may wait on the database — its inbox commit (ingest reads no session since
 * ADR 015) — before it is answered 503. Shopify allows 1 s to connect and 5 s for
 * the whole answer (https://shopify.dev/docs/apps/webhooks/configuration/https), then retries; a
 * database that stalls (a restart, a lock) must not cost more than that. 3 s leaves the rest for
 * the network, TLS and the HMAC.
 */
export const DATABASE_WAIT_MS = 3_000;

class DatabaseTimeout extends Error {
  constructor() {
    super(`the database did not answer within ${DATABASE_WAIT_MS} ms`);
  }
}

/** `promise`, or a DatabaseTimeout as soon as `deadline` aborts. */
function within<T>(promise: Promise<T>, deadline: AbortSignal): Promise<T> {
  if (deadline.aborted) return Promise.reject(deadline.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(deadline.reason as Error);
    deadline.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => deadline.removeEventListener('abort', onAbort));
  });
}

/**
 * Concurrent deliveries share commits, and each commit's new rows share one job (see
 * inbox-writer.server.ts).
 */
const inboxWriter = new InboxWriter({
  database: async () => (await getDatabase()).db,
  enqueue: (rows) => enqueueInboxRows(rows),
});

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

function answer(status: number, body: object, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** Header values are attacker-controlled before the HMAC is checked: keep log fields short. */
function short(value: string | null): string | null {
  return value === null ? null : value.slice(0, 200);
}

class BodyTooLarge extends Error {}

/** Reads the body, refusing (and stopping) as soon as it passes `limit` bytes. */
async function readBody(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The app secret the HMAC is checked with, read once. */
let appSecret: string | undefined;
const secret = () => (appSecret ??= parseShopifyEnv().SHOPIFY_API_SECRET);

/**
 * Handles one delivery for `topic`. Always resolves to a Response (never throws):
 * 200 stored (or a repeat of a stored delivery; a body jsonb cannot hold is stored as text, as a
 * dead letter), 400 malformed, 401 bad HMAC, 405 not POST, 413 body over 1 MiB, 503 database
 * unavailable.
 */
export async function ingestWebhook(request: Request, topic: WebhookTopic): Promise<Response> {
  const started = performance.now();
  const headers = request.headers;
  const log = (
    level: 'info' | 'warn' | 'error',
    status: number,
    message: string,
    fields: Record<string, unknown> = {},
  ) => {
    logger()[level](
      {
        topic,
        shop: short(headers.get('X-Shopify-Shop-Domain')),
        webhookId: short(headers.get('X-Shopify-Webhook-Id')),
        status,
        ms: Math.round((performance.now() - started) * 100) / 100,
        ...fields,
      },
      message,
    );
  };
  const reject = (status: number, reason: string, extra: Record<string, string> = {}) => {
    log('warn', status, 'webhook rejected', { reason });
    return answer(status, { error: reason }, extra);
  };

  if (request.method !== 'POST') {
    return reject(405, `webhooks must be POSTed, not ${request.method}`, { Allow: 'POST' });
  }

  const declaredLength = headers.get('Content-Length');
  if (declaredLength !== null && Number(declaredLength) > MAX_WEBHOOK_BODY_BYTES) {
    return reject(
      413,
      `body of ${declaredLength} bytes is over the ${MAX_WEBHOOK_BODY_BYTES}-byte limit`,
      { Connection: 'close' },
    );
  }

  const missing = REQUIRED_HEADERS.filter((name) => !headers.get(name));
  if (missing.length > 0) {
    return reject(
      400,
      `missing Shopify header${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
    );
  }

  // A header, not the body: checked before the HMAC so the answer names it (the inbox is keyed by
  // the normalised domain).
  let shop: string;
  try {
    shop = normalizeShopDomain(headers.get('X-Shopify-Shop-Domain')!);
  } catch {
    return reject(400, 'X-Shopify-Shop-Domain is not a *.myshopify.com domain');
  }

  let body: Uint8Array<ArrayBuffer>;
  try {
    body = await readBody(request, MAX_WEBHOOK_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      return reject(413, `body is over the ${MAX_WEBHOOK_BODY_BYTES}-byte limit`, {
        Connection: 'close',
      });
    }
    return reject(400, 'the body could not be read');
  }
  if (body.byteLength === 0) return reject(400, 'the body is empty');
  // Decoded once, as the library would read it: the HMAC covers it, it is parsed, and the inbox
  // stores it as is (no second JSON encoding of the parsed payload).
  const text = bodyText(body);

  // Nothing about the body is looked at before its HMAC is verified (app/webhook-hmac.server.ts:
  // exactly what authenticate.webhook accepts, without its session load; ADR 015).
  const check = checkWebhook(secret(), headers, body, text);
  if (!check.ok) {
    if (check.status !== 401) return reject(check.status, check.reason);
    log('warn', 401, 'webhook rejected', { reason: 'authentication' });
    return answer(401, { error: check.reason });
  }
  const payload = check.payload;
  if (!isPlainObject(payload)) return reject(400, 'the body must be a JSON object');

  const topicHeader = headers.get('X-Shopify-Topic')!.trim().toLowerCase();
  if (topicHeader !== topic) {
    return reject(
      400,
      `X-Shopify-Topic ${JSON.stringify(short(topicHeader))} does not match this route (${topic})`,
    );
  }

  // From here on the database is waited for (the inbox commit): DATABASE_WAIT_MS in all.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DatabaseTimeout()), DATABASE_WAIT_MS);
  try {
    return await store(controller.signal);
  } finally {
    clearTimeout(timer);
  }

  async function store(deadline: AbortSignal): Promise<Response> {
    const webhookId = headers.get('X-Shopify-Webhook-Id')!.trim();

    let stored: Stored;
    const writing = inboxWriter.write(
      {
        shopDomain: shop,
        webhookId,
        topic,
        apiVersion: headers.get('X-Shopify-API-Version'),
        payload,
        payloadText: text,
      },
      deadline,
    );
    try {
      stored = await within(writing, deadline);
    } catch (error) {
      if (error instanceof DatabaseTimeout) enqueueIfCommittedLate(writing, webhookId);
      return unavailable(error);
    }

    if (stored.deadLetter) {
      // Signed, so accepted: jsonb refused the body, which is kept as text for ops to look at and
      // replay (`loyalty inbox dead`). Answering 400 would lose it and every retry of it.
      log('warn', 200, 'webhook stored as a dead letter: its body cannot be stored as jsonb', {
        shop,
        webhookId,
        inboxId: stored.id,
        duplicate: !stored.created,
      });
      return answer(200, { ok: true, duplicate: !stored.created });
    }

    // Only new rows are enqueued (by the writer, a job per commit): a repeat's job exists
    // already, or the reconciler will make it.
    const enqueued = await stored.enqueued;
    log('info', 200, 'webhook accepted', {
      shop,
      webhookId,
      inboxId: stored.id,
      duplicate: !stored.created,
      enqueued,
    });
    return answer(200, { ok: true, duplicate: !stored.created });
  }

  /**
   * A write whose transaction had started when the 503 went out may still commit: its row is
   * durable and enqueued with its commit's, and Shopify's retry of it is answered 200 as a duplicate. A write
   * still waiting for a transaction was dropped by the abort and rejects: nothing was stored.
   */
  function enqueueIfCommittedLate(writing: Promise<Stored>, webhookId: string): void {
    writing.then(
      async (late) => {
        const enqueued = await late.enqueued;
        log('info', 503, 'webhook stored after its 503 (the retry will be a duplicate)', {
          webhookId,
          inboxId: late.id,
          enqueued,
        });
      },
      () => undefined,
    );
  }

  function unavailable(error: unknown): Response {
    const status = httpStatusFor(ErrorCode.UNAVAILABLE);
    if (error instanceof DatabaseTimeout) {
      log('error', status, 'webhook not stored in time', { err: error.message });
      return answer(status, {
        error: `${error.message}; Shopify will retry, and a copy stored meanwhile is recognised as a duplicate`,
      });
    }
    log('error', status, 'webhook not stored', { err: rootCauseMessage(error) });
    return answer(status, {
      error: 'the database is unavailable; the delivery was not stored (Shopify will retry)',
    });
  }
}

/** A `loader` for webhook routes: they only accept POST. */
export function webhookLoader(): Response {
  return answer(405, { error: 'webhooks must be POSTed' }, { Allow: 'POST' });
}

/**
 * Replays webhook deliveries against the app's real HTTP endpoints, as Shopify would send them:
 * POST `${baseUrl}/webhooks/${topic}` with Shopify's headers and an HMAC of the exact body.
 *
 * - **Retries** a connection error, a timeout, a 5xx or a 429 (honouring Retry-After) with
 *   exponential backoff, resending the same bytes under the same webhook id, which is what
 *   Shopify does and what lets the app's inbox recognise the repeat.
 * - **Fails fast** on any other 4xx or a redirect: the app refused the delivery itself, which is
 *   a bug in the payload, its signature or the route, and resending would not change the answer.
 * - **Order**: Shopify does not promise one, but a believable demo keeps each resource's order
 *   (a customer's create before their orders, an order's paid before its refunds and
 *   cancellation) while different resources go in parallel, at most `concurrency` at a time.
 * - A delivery that still fails after its retries is counted in `failed`, and so are the
 *   deliveries that had to follow it (not sent: they would arrive out of order); after
 *   `maxFailures` such failures the replay gives up (the app is likely down).
 */
import { setMaxListeners } from 'node:events';
import { signedWebhook } from '../shopify-payloads';
import { eventIdFor, resourceOf } from './deliveries';
import { monthOfInstant } from './zoned';

export interface ReplayDelivery {
  topic: string;
  payload: unknown;
  webhookId: string;
  /** Sent as X-Shopify-Triggered-At (default: when the replay first sends it). */
  occurredAt?: string;
}

export interface RetryOptions {
  /** Attempts per delivery, the first included (default 6). */
  attempts?: number;
  /** First backoff (default 250 ms), doubled each time up to maxDelayMs (default 5 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface ReplayOptions {
  /** The app's origin, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** `laurel-demo.myshopify.com`: X-Shopify-Shop-Domain. */
  shop: string;
  /** The app's API secret (SHOPIFY_API_SECRET): signs every body. */
  secret: string;
  deliveries: readonly ReplayDelivery[];
  /** Requests in flight at once (default 16). */
  concurrency?: number;
  /** Called with (deliveries finished, total), sent or failed; first with (0, total). */
  onProgress?: (done: number, total: number) => void;
  /** X-Shopify-API-Version (default the builders' version, 2026-07). */
  apiVersion?: string;
  retry?: RetryOptions;
  /** Per request (default 30 s); a timeout is retried like a dropped connection. */
  requestTimeoutMs?: number;
  /** Give up after this many deliveries failed despite their retries (default 10). */
  maxFailures?: number;
}

export interface ReplayFailure {
  webhookId: string;
  topic: string;
  attempts: number;
  reason: string;
}

export interface ReplayResult {
  sent: number;
  failed: number;
  durationMs: number;
  /** Why each failed delivery failed (including those skipped because one before them failed). */
  failures: ReplayFailure[];
}

/** The replay stopped: the app refused a delivery (4xx), or too many failed. */
export class ReplayError extends Error {
  constructor(
    message: string,
    readonly details: {
      webhookId?: string;
      topic?: string;
      status?: number;
      responseBody?: string;
      result: ReplayResult;
    },
  ) {
    super(message);
    this.name = 'ReplayError';
  }
}

type Outcome =
  | { kind: 'ok' }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'refused'; status: number; statusText: string; body: string; location: string | null };

const USER_AGENT = 'Shopify-Captain-Hook';

function describeNetworkError(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  const cause = e.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  if (cause?.message) return cause.message;
  return e.message;
}

/** Retry-After as milliseconds (seconds or an HTTP date), or undefined. */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Sleeps `ms`, or less if `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

/** Sends every delivery (see the module comment). Resolves when all are done; rejects with ReplayError. */
export async function replayDeliveries(options: ReplayOptions): Promise<ReplayResult> {
  const started = performance.now();
  const deliveries = options.deliveries;
  const total = deliveries.length;
  const concurrency = options.concurrency ?? 16;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a whole number ≥ 1 (got ${concurrency})`);
  }
  const attempts = options.retry?.attempts ?? 6;
  const baseDelayMs = options.retry?.baseDelayMs ?? 250;
  const maxDelayMs = options.retry?.maxDelayMs ?? 5_000;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const maxFailures = options.maxFailures ?? 10;
  const base = options.baseUrl.replace(/\/+$/, '');

  // Dependencies: each delivery waits for the last earlier delivery of its own resource and of
  // each resource it follows. Chains make that enough for all earlier ones.
  const dependents: number[][] = deliveries.map(() => []);
  const waitingOn = new Array<number>(total).fill(0);
  const lastOfResource = new Map<string, number>();
  deliveries.forEach((delivery, i) => {
    const { key, after } = resourceOf(delivery);
    const deps = new Set<number>();
    for (const k of [key, ...after]) {
      const j = lastOfResource.get(k);
      if (j !== undefined) deps.add(j);
    }
    for (const j of deps) dependents[j]!.push(i);
    waitingOn[i] = deps.size;
    lastOfResource.set(key, i);
  });

  const result: ReplayResult = { sent: 0, failed: 0, durationMs: 0, failures: [] };
  const stop = new AbortController();
  // Every delivery waiting out a backoff listens for the stop.
  setMaxListeners(concurrency + 10, stop.signal);
  let fatal: ReplayError | undefined;
  let done = 0;
  let exhausted = 0;
  options.onProgress?.(0, total);

  const finish = () => {
    done++;
    options.onProgress?.(done, total);
  };

  async function attempt(
    url: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<Outcome> {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      return { kind: 'retry', reason: describeNetworkError(error) };
    }
    // Read the body in any case, so the connection can be reused.
    const text = await response.text().catch(() => '');
    const status = response.status;
    if (status >= 200 && status < 300) return { kind: 'ok' };
    if (status === 429 || status === 408 || status >= 500) {
      return {
        kind: 'retry',
        reason: `${status} ${response.statusText}`.trim(),
        retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
      };
    }
    return {
      kind: 'refused',
      status,
      statusText: response.statusText,
      body: text.slice(0, 500),
      location: response.headers.get('location'),
    };
  }

  /** Sends one delivery with its retries: 'sent', 'failed' (after retries) or 'stopped'. */
  async function send(
    delivery: ReplayDelivery,
  ): Promise<{ status: 'sent' | 'failed' | 'stopped'; attempts: number; reason?: string }> {
    const url = `${base}/webhooks/${delivery.topic}`;
    const { body, headers } = signedWebhook({
      topic: delivery.topic,
      shop: options.shop,
      secret: options.secret,
      payload: delivery.payload,
      webhookId: delivery.webhookId,
      eventId: eventIdFor(delivery.webhookId),
      triggeredAt: new Date(delivery.occurredAt ?? Date.now()).toISOString(),
      ...(options.apiVersion !== undefined && { apiVersion: options.apiVersion }),
    });
    headers['User-Agent'] = USER_AGENT;
    let lastReason = '';
    for (let n = 1; n <= attempts; n++) {
      if (stop.signal.aborted) return { status: 'stopped', attempts: n - 1 };
      const outcome = await attempt(url, body, headers);
      if (outcome.kind === 'ok') return { status: 'sent', attempts: n };
      if (outcome.kind === 'refused') {
        const what = `POST ${url} (webhook ${delivery.webhookId})`;
        const hint =
          outcome.status >= 300 && outcome.status < 400
            ? `redirected to ${outcome.location ?? '?'}: is ${options.baseUrl} the app's own address?`
            : outcome.status === 401
              ? 'the app rejected the signature: is the replay secret the app’s SHOPIFY_API_SECRET?'
              : 'a 4xx means the app refused the delivery itself, a bug in the payload or the route, so the replay stops instead of retrying';
        throw new ReplayError(
          `${what} was answered ${outcome.status} ${outcome.statusText}${outcome.body ? `: ${outcome.body}` : ''}\n${hint}.`,
          {
            webhookId: delivery.webhookId,
            topic: delivery.topic,
            status: outcome.status,
            responseBody: outcome.body,
            result,
          },
        );
      }
      lastReason = outcome.reason;
      if (n === attempts) break;
      const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1));
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      await sleep(Math.max(jittered, Math.min(outcome.retryAfterMs ?? 0, 60_000)), stop.signal);
    }
    return { status: 'failed', attempts, reason: lastReason };
  }

  await new Promise<void>((resolve) => {
    const ready: number[] = [];
    let head = 0;
    let active = 0;
    for (let i = 0; i < total; i++) if (waitingOn[i] === 0) ready.push(i);

    // A delivery that follows a failed one is not sent (it would arrive out of order).
    const doomedBy = new Array<number | undefined>(total);
    /** `i` is finished: its followers whose last predecessor it was become ready (or are skipped). */
    const release = (i: number, failed: number | undefined) => {
      for (const j of dependents[i]!) {
        if (failed !== undefined) doomedBy[j] ??= failed;
        if (--waitingOn[j]! !== 0) continue;
        const cause = doomedBy[j];
        if (cause === undefined) {
          ready.push(j);
          continue;
        }
        const delivery = deliveries[j]!;
        result.failed++;
        result.failures.push({
          webhookId: delivery.webhookId,
          topic: delivery.topic,
          attempts: 0,
          reason: `not sent: it follows ${deliveries[cause]!.webhookId} (${deliveries[cause]!.topic}), which failed`,
        });
        finish();
        release(j, cause);
      }
    };

    const pump = () => {
      while (!fatal && active < concurrency && head < ready.length) {
        const i = ready[head++]!;
        active++;
        const delivery = deliveries[i]!;
        send(delivery).then(
          (outcome) => {
            active--;
            if (outcome.status === 'sent') {
              result.sent++;
              finish();
              release(i, undefined);
            } else if (outcome.status === 'failed') {
              result.failed++;
              exhausted++;
              result.failures.push({
                webhookId: delivery.webhookId,
                topic: delivery.topic,
                attempts: outcome.attempts,
                reason: outcome.reason ?? 'failed',
              });
              finish();
              release(i, i);
              if (exhausted >= maxFailures && !fatal) {
                fatal = new ReplayError(
                  `gave up after ${exhausted} deliveries failed despite ${attempts} attempts each; the last: POST ${base}/webhooks/${delivery.topic} ${outcome.reason}. Is the app running at ${options.baseUrl}?`,
                  { webhookId: delivery.webhookId, topic: delivery.topic, result },
                );
                stop.abort();
              }
            }
            pump();
          },
          (error: unknown) => {
            active--;
            if (!fatal) {
              fatal =
                error instanceof ReplayError
                  ? error
                  : new ReplayError(`replay failed: ${(error as Error).message}`, { result });
              stop.abort();
            }
            pump();
          },
        );
      }
      if (active === 0 && (fatal || head >= ready.length)) resolve();
    };
    pump();
  });

  result.durationMs = Math.round(performance.now() - started);
  if (fatal) throw fatal;
  return result;
}

/**
 * The deliveries split by the calendar month (in `timezone`) they occurred in, in order. The demo
 * replays one month at a time and lets the workers finish it before the next: members then hold,
 * when a month's orders are awarded, the tier their earlier months earned them — as on a live
 * store, where orders are days apart — instead of a whole history processed in a few batches.
 */
export function chunksByMonth<D extends { occurredAt?: string }>(
  deliveries: readonly D[],
  timezone: string,
): D[][] {
  const chunks: D[][] = [];
  let month: string | undefined;
  for (const delivery of deliveries) {
    const at = delivery.occurredAt ? Date.parse(delivery.occurredAt) : NaN;
    const key = Number.isNaN(at) ? (month ?? '') : monthOfInstant(at, timezone);
    if (chunks.length === 0 || key !== month) chunks.push([]);
    month = key;
    chunks[chunks.length - 1]!.push(delivery);
  }
  return chunks;
}

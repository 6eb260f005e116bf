import { ClientError, GraphQLClient } from 'graphql-request';
import { env, type Env } from '../env.server';
import type { AdminDocument, UserError } from '../graphql';
import { isMyshopifyDomain } from '../../loyalty/shop-domain';

/**
 * Laurel's one way to call Shopify's Admin GraphQL API: typed documents from app/graphql, a per-shop
 * rate limiter fed by Shopify's own cost reports, retries for throttling and transient failures,
 * and one error type (AdminApiError) for everything else. Tokens never appear in errors or logs.
 *
 * Shopify limits each shop with a leaky bucket of query-cost points (extensions.cost.throttleStatus).
 * Before a call we wait if the points we last saw, plus what has restored since, do not cover the
 * document's cost; a THROTTLED answer (nothing executed) is retried with exponential backoff.
 */

export const DEFAULT_API_VERSION = '2026-07';
const API_VERSION = /^(\d{4}-(01|04|07|10)|unstable)$/;
/** Until Shopify has reported a document's cost, assume a typical small query. */
const DEFAULT_COST_ESTIMATE = 10;

export type AdminApiErrorCode =
  /** Still throttled after every attempt. Transient: try again later. */
  | 'THROTTLED'
  /** 401/403: the access token is wrong, revoked or lacks a scope. */
  | 'UNAUTHORIZED'
  /** A 5xx that persisted through every attempt (retry-safe documents only). Transient. */
  | 'SERVER_ERROR'
  /** The connection failed through every attempt (retry-safe documents only). Transient. */
  | 'NETWORK_ERROR'
  /**
   * A mutation that is not safe to resend met a 5xx or a dropped connection: Shopify may or may not
   * have applied it. The caller must reconcile (look the result up) before trying again.
   */
  | 'OUTCOME_UNKNOWN'
  /** Any other HTTP status (402 frozen shop, 404 unknown shop, 423 locked shop, ...). */
  | 'HTTP_ERROR'
  /** The query costs more than Shopify allows for a single query. */
  | 'MAX_COST_EXCEEDED'
  /** Top-level GraphQL errors: an invalid document or variables, access denied, etc. */
  | 'GRAPHQL_ERRORS'
  /** The mutation ran and refused the input: see `userErrors`. */
  | 'USER_ERRORS';

export interface GraphqlErrorSummary {
  message: string;
  code: string | null;
  path: (string | number)[] | null;
}

export class AdminApiError extends Error {
  readonly code: AdminApiErrorCode;
  readonly messages: string[];
  readonly shop: string;
  readonly operationName: string;
  /** HTTP status of the last response, when there was one. */
  readonly status: number | null;
  readonly attempts: number;
  readonly graphqlErrors: GraphqlErrorSummary[];
  readonly userErrors: UserError[];
  /** True when the same call may succeed later unchanged (throttling, outages). */
  readonly transient: boolean;

  constructor(init: {
    code: AdminApiErrorCode;
    messages: string[];
    shop: string;
    operationName: string;
    status?: number | null;
    attempts: number;
    graphqlErrors?: GraphqlErrorSummary[];
    userErrors?: UserError[];
  }) {
    super(
      `Shopify Admin API ${init.operationName} for ${init.shop} failed (${init.code}` +
        `${init.attempts > 1 ? ` after ${init.attempts} attempts` : ''}): ${init.messages.join('; ')}`,
    );
    this.name = 'AdminApiError';
    this.code = init.code;
    this.messages = init.messages;
    this.shop = init.shop;
    this.operationName = init.operationName;
    this.status = init.status ?? null;
    this.attempts = init.attempts;
    this.graphqlErrors = init.graphqlErrors ?? [];
    this.userErrors = init.userErrors ?? [];
    this.transient =
      init.code === 'THROTTLED' || init.code === 'SERVER_ERROR' || init.code === 'NETWORK_ERROR';
  }
}

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface QueryCost {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: ThrottleStatus;
}

interface ShopBucket extends ThrottleStatus {
  /** When currentlyAvailable was true (ms). */
  observedAt: number;
}

/**
 * What this process knows about each shop's cost bucket, shared by every client for that shop
 * (a worker makes a client per job; the knowledge must outlive it). Other processes calling the
 * same shop are invisible here, which is why THROTTLED is still retried.
 */
export class ShopThrottleTracker {
  private readonly buckets = new Map<string, ShopBucket>();
  private readonly costs = new Map<string, number>();

  /** Points the operation is expected to need: the cost Shopify last asked for, else 10. */
  estimate(shop: string, operationName: string): number {
    return this.costs.get(`${shop} ${operationName}`) ?? DEFAULT_COST_ESTIMATE;
  }

  /** Points available now by our last observation plus restoration since; undefined if unknown. */
  available(shop: string, now: number): number | undefined {
    const bucket = this.buckets.get(shop);
    if (!bucket) return undefined;
    const restored = ((now - bucket.observedAt) / 1000) * bucket.restoreRate;
    return Math.min(bucket.maximumAvailable, bucket.currentlyAvailable + Math.max(0, restored));
  }

  /** Milliseconds to wait before sending the operation so its cost is covered (0 if unknown). */
  waitMs(shop: string, operationName: string, now: number): number {
    const available = this.available(shop, now);
    const bucket = this.buckets.get(shop);
    if (available === undefined || !bucket || bucket.restoreRate <= 0) return 0;
    const needed = Math.min(this.estimate(shop, operationName), bucket.maximumAvailable);
    if (available >= needed) return 0;
    return Math.ceil(((needed - available) / bucket.restoreRate) * 1000);
  }

  /** Books the estimate against the bucket so concurrent calls in this process wait their turn. */
  reserve(shop: string, operationName: string, now: number): void {
    const available = this.available(shop, now);
    const bucket = this.buckets.get(shop);
    if (available === undefined || !bucket) return;
    bucket.currentlyAvailable = available - this.estimate(shop, operationName);
    bucket.observedAt = now;
  }

  /** Records what Shopify reported: its figures replace our reckoning. */
  observe(shop: string, operationName: string, cost: QueryCost, now: number): void {
    // Shopify admits a query only if its *requested* cost is available, so that is the estimate.
    if (cost.requestedQueryCost > 0) {
      this.costs.set(`${shop} ${operationName}`, cost.requestedQueryCost);
    }
    this.buckets.set(shop, { ...cost.throttleStatus, observedAt: now });
  }
}

/** The tracker every client uses unless given its own. */
export const sharedThrottleTracker = new ShopThrottleTracker();

/** pino-compatible subset, so any logger (or none) can be passed. */
export interface AdminClientLogger {
  warn(details: object, message: string): void;
}

export interface AdminClientOptions {
  /** The shop's myshopify domain, e.g. `laurel-demo.myshopify.com`. */
  shop: string;
  accessToken: string;
  apiVersion?: string;
  /**
   * Overrides Shopify's URL, e.g. the local emulator's. `{shop}` and `{version}` are substituted,
   * so one setting can serve every shop. Refused in production unless it is Shopify's own URL.
   */
  endpoint?: string;
  /** At most this many sends per call (default 5). */
  maxAttempts?: number;
  /** First backoff step in ms (default 1000); doubles each retry, with jitter, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  fetch?: typeof fetch;
  throttle?: ShopThrottleTracker;
  logger?: AdminClientLogger;
  /** Defaults to env().NODE_ENV. */
  nodeEnv?: Env['NODE_ENV'];
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface AdminResponse<TResult> {
  data: TResult;
  cost: QueryCost | null;
  attempts: number;
}

type VariablesArgs<V> =
  Record<string, never> extends V
    ? [variables?: V, options?: RequestOptions]
    : [variables: V, options?: RequestOptions];

export interface AdminClient {
  readonly shop: string;
  readonly apiVersion: string;
  readonly endpoint: string;
  /** Sends the document and returns its data; throws AdminApiError otherwise. */
  request<R, V>(document: AdminDocument<R, V>, ...args: VariablesArgs<V>): Promise<R>;
  /** As request, also returning Shopify's cost report and how many sends it took. */
  execute<R, V>(
    document: AdminDocument<R, V>,
    ...args: VariablesArgs<V>
  ): Promise<AdminResponse<R>>;
}

/** Shopify's Admin GraphQL URL for a shop. */
export function shopifyAdminEndpoint(
  shop: string,
  apiVersion: string = DEFAULT_API_VERSION,
): string {
  return `https://${shop}/admin/api/${apiVersion}/graphql.json`;
}

export function createAdminClient(options: AdminClientOptions): AdminClient {
  const { shop, accessToken } = options;
  const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
  if (!isMyshopifyDomain(shop)) {
    throw new Error(
      `shop must be a myshopify domain such as laurel-demo.myshopify.com; got '${shop}'`,
    );
  }
  if (typeof accessToken !== 'string' || accessToken.trim() === '') {
    throw new Error(`accessToken for ${shop} is empty`);
  }
  if (!API_VERSION.test(apiVersion)) {
    throw new Error(`apiVersion must look like 2026-07; got '${apiVersion}'`);
  }
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new Error(`maxAttempts must be a whole number ≥ 1; got ${maxAttempts}`);
  }
  const endpoint = resolveEndpoint(
    shop,
    apiVersion,
    options.endpoint,
    options.nodeEnv ?? env().NODE_ENV,
  );
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const throttle = options.throttle ?? sharedThrottleTracker;
  const logger = options.logger;

  const client = new GraphQLClient(endpoint, {
    headers: { 'X-Shopify-Access-Token': accessToken, 'User-Agent': 'Laurel' },
    // Keep data, errors and extensions together: THROTTLED and userErrors are read from them.
    errorPolicy: 'all',
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  /** Equal jitter: half the step fixed, half random, so retries from many jobs spread out. */
  function backoffMs(retry: number): number {
    const step = Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
    return Math.round(step / 2 + (random() * step) / 2);
  }

  async function execute<R, V>(
    document: AdminDocument<R, V>,
    variables?: V,
    requestOptions: RequestOptions = {},
  ): Promise<AdminResponse<R>> {
    const operationName = document.operationName;
    const fail = (
      init: Omit<ConstructorParameters<typeof AdminApiError>[0], 'shop' | 'operationName'>,
    ) => new AdminApiError({ ...init, shop, operationName });
    let backoff = 0;

    for (let attempt = 1; ; attempt++) {
      if (backoff > 0) await sleep(backoff);
      // Checked again after every wait, and reserved with no await in between: calls in flight
      // together would otherwise all wake after the same wait and spend the same points.
      for (let wait = throttle.waitMs(shop, operationName, now()); wait > 0;) {
        await sleep(wait);
        wait = throttle.waitMs(shop, operationName, now());
      }
      throttle.reserve(shop, operationName, now());

      const outcome = await send(document, variables, requestOptions.signal);
      if (outcome.cost) throttle.observe(shop, operationName, outcome.cost, now());

      if (outcome.kind === 'ok') {
        return { data: outcome.data as R, cost: outcome.cost, attempts: attempt };
      }
      if (outcome.kind === 'retry' && attempt < maxAttempts) {
        backoff = Math.max(backoffMs(attempt), outcome.retryAfterMs ?? 0);
        logger?.warn(
          { shop, operation: operationName, attempt, delayMs: backoff, reason: outcome.error.code },
          'Shopify Admin API call will be retried',
        );
        continue;
      }
      throw fail({ ...outcome.error, attempts: attempt });
    }
  }

  type Failure = Omit<
    ConstructorParameters<typeof AdminApiError>[0],
    'shop' | 'operationName' | 'attempts'
  >;
  type Outcome =
    | { kind: 'ok'; data: unknown; cost: QueryCost | null }
    | { kind: 'retry'; error: Failure; cost: QueryCost | null; retryAfterMs?: number }
    | { kind: 'fail'; error: Failure; cost: QueryCost | null };

  async function send(
    document: AdminDocument<unknown, unknown>,
    variables: unknown,
    signal: AbortSignal | undefined,
  ): Promise<Outcome> {
    let response;
    try {
      response = await client.rawRequest({
        query: document.source,
        variables: (variables ?? undefined) as Record<string, unknown> | undefined,
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      return failureOutcome(document, error);
    }

    const cost = readCost(response.extensions);
    const errors = response.errors ?? [];
    if (errors.length > 0) {
      const graphqlErrors = errors.map(summarizeGraphqlError);
      const codes = graphqlErrors.map((e) => e.code);
      const messages = graphqlErrors.map((e) => e.message);
      const base = { messages, graphqlErrors, status: response.status };
      // THROTTLED means Shopify executed nothing, so resending is safe for any document.
      if (codes.includes('THROTTLED'))
        return { kind: 'retry', error: { code: 'THROTTLED', ...base }, cost };
      if (codes.includes('MAX_COST_EXCEEDED')) {
        return { kind: 'fail', error: { code: 'MAX_COST_EXCEEDED', ...base }, cost };
      }
      return { kind: 'fail', error: { code: 'GRAPHQL_ERRORS', ...base }, cost };
    }
    if (response.data === null || response.data === undefined) {
      return {
        kind: 'fail',
        error: {
          code: 'GRAPHQL_ERRORS',
          messages: ['response had no data'],
          status: response.status,
        },
        cost,
      };
    }
    const userErrors = document.kind === 'mutation' ? collectUserErrors(response.data) : [];
    if (userErrors.length > 0) {
      return {
        kind: 'fail',
        error: {
          code: 'USER_ERRORS',
          messages: userErrors.map((e) =>
            e.field?.length ? `${e.field.join('.')}: ${e.message}` : e.message,
          ),
          userErrors,
          status: response.status,
        },
        cost,
      };
    }
    return { kind: 'ok', data: response.data, cost };
  }

  function failureOutcome(document: AdminDocument<unknown, unknown>, error: unknown): Outcome {
    if (error instanceof ClientError) {
      const status = error.response.status;
      const messages = [describeHttpFailure(status, error.response.body)];
      const cost = readCost(error.response.extensions);
      if (status === 401 || status === 403) {
        return { kind: 'fail', error: { code: 'UNAUTHORIZED', messages, status }, cost };
      }
      if (status === 429) {
        // Refused before execution, like THROTTLED.
        const retryAfterMs = retryAfter(error.response.headers);
        return {
          kind: 'retry',
          error: { code: 'THROTTLED', messages, status },
          cost,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        };
      }
      if (status >= 500) {
        return document.retrySafe
          ? { kind: 'retry', error: { code: 'SERVER_ERROR', messages, status }, cost }
          : { kind: 'fail', error: { code: 'OUTCOME_UNKNOWN', messages, status }, cost };
      }
      return { kind: 'fail', error: { code: 'HTTP_ERROR', messages, status }, cost };
    }
    const reason = networkReason(error);
    // A refused connection never reached Shopify, so even an unsafe mutation can be resent.
    const neverSent = reason.includes('ECONNREFUSED') || reason.includes('ENOTFOUND');
    const failure: Failure = { code: 'NETWORK_ERROR', messages: [reason] };
    if (document.retrySafe || neverSent) return { kind: 'retry', error: failure, cost: null };
    return { kind: 'fail', error: { ...failure, code: 'OUTCOME_UNKNOWN' }, cost: null };
  }

  return {
    shop,
    apiVersion,
    endpoint,
    async request(document, ...args) {
      const [variables, requestOptions] = args;
      return (await execute(document, variables, requestOptions)).data;
    },
    execute(document, ...args) {
      const [variables, requestOptions] = args;
      return execute(document, variables, requestOptions);
    },
  };
}

function resolveEndpoint(
  shop: string,
  apiVersion: string,
  endpoint: string | undefined,
  nodeEnv: Env['NODE_ENV'],
): string {
  const shopify = shopifyAdminEndpoint(shop, apiVersion);
  if (endpoint === undefined) return shopify;
  const resolved = endpoint.replaceAll('{shop}', shop).replaceAll('{version}', apiVersion);
  if (!URL.canParse(resolved) || !/^https?:$/.test(new URL(resolved).protocol)) {
    throw new Error(`Admin API endpoint must be an http(s) URL; got '${resolved}'`);
  }
  // A stray emulator URL in production would silently send merchants' data elsewhere.
  if (nodeEnv === 'production' && resolved !== shopify) {
    throw new Error(
      `Refusing Admin API endpoint ${resolved} in production: only Shopify's ${shopify} is allowed`,
    );
  }
  return resolved;
}

function readCost(extensions: unknown): QueryCost | null {
  const cost = (extensions as { cost?: Partial<QueryCost> } | null | undefined)?.cost;
  const status = cost?.throttleStatus;
  if (
    !cost ||
    typeof cost.requestedQueryCost !== 'number' ||
    !status ||
    typeof status.currentlyAvailable !== 'number' ||
    typeof status.maximumAvailable !== 'number' ||
    typeof status.restoreRate !== 'number'
  ) {
    return null;
  }
  return {
    requestedQueryCost: cost.requestedQueryCost,
    actualQueryCost: typeof cost.actualQueryCost === 'number' ? cost.actualQueryCost : null,
    throttleStatus: {
      maximumAvailable: status.maximumAvailable,
      currentlyAvailable: status.currentlyAvailable,
      restoreRate: status.restoreRate,
    },
  };
}

function summarizeGraphqlError(error: {
  message?: unknown;
  path?: unknown;
  extensions?: unknown;
}): GraphqlErrorSummary {
  const code = (error.extensions as { code?: unknown } | undefined)?.code;
  return {
    message: typeof error.message === 'string' ? error.message : JSON.stringify(error),
    code: typeof code === 'string' ? code : null,
    path: Array.isArray(error.path) ? (error.path as (string | number)[]) : null,
  };
}

/** userErrors of every top-level mutation field (Shopify puts them beside the payload). */
function collectUserErrors(data: unknown): UserError[] {
  const found: UserError[] = [];
  for (const payload of Object.values(data as Record<string, unknown>)) {
    const userErrors = (payload as { userErrors?: unknown } | null)?.userErrors;
    if (Array.isArray(userErrors)) found.push(...(userErrors as UserError[]));
  }
  return found;
}

function describeHttpFailure(status: number, body: string | undefined): string {
  // Shopify's error bodies name the problem ("[API] Invalid API key or access token ...") and
  // contain no secrets; cap them so an HTML error page does not flood the logs.
  let detail = '';
  try {
    const parsed = JSON.parse(body ?? '') as { errors?: unknown };
    detail =
      typeof parsed.errors === 'string' ? parsed.errors : JSON.stringify(parsed.errors ?? parsed);
  } catch {
    detail = (body ?? '').replace(/\s+/g, ' ').trim();
  }
  detail = detail.length > 200 ? `${detail.slice(0, 200)}…` : detail;
  return `HTTP ${status}${detail ? `: ${detail}` : ''}`;
}

function retryAfter(headers: Headers | undefined): number | undefined {
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${message} (${code})` : message;
}

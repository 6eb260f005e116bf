import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  execute,
  getNamedType,
  getOperationAST,
  GraphQLError,
  isLeafType,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLTypeResolver,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { ADMIN_SCHEMA_VERSION, adminSchema } from '../../app/shopify/admin-schema.server';
import {
  CONNECTION_COST,
  CostBucket,
  isConnectionField,
  MUTATION_COST,
  requestedCost,
  SINGLE_QUERY_MAX_COST,
} from './cost';
import { declaredDefinitionsIn } from './app-config';
import { mutationRoot, queryRoot, type ResolverContext } from './resolvers';
import { runDueBulkCreations } from './redeem-codes';
import { EmulatorState } from './state';
import { deployedFunctionsIn, type DeployedFunction } from './validations';
import { notImplemented } from './values';

/**
 * A local stand-in for Shopify's Admin GraphQL API (2026-07), for development, demos and tests.
 * Never imported by production code paths, and refuses to start with NODE_ENV=production.
 *
 * Every document is parsed and validated against Shopify's real schema first, so anything Shopify
 * would reject is rejected here (HTTP 200 with `errors`, nothing executed). Valid documents run
 * against in-memory shops; fields Laurel does not use answer "not implemented by the Laurel
 * emulator: Type.field" instead of inventing data.
 *
 * Endpoint: POST http://HOST:PORT/shops/<shop>.myshopify.com/admin/api/2026-07/graphql.json
 * (the shop is in the path because a local server cannot be reached at <shop>.myshopify.com).
 * POST /admin/api/2026-07/graphql.json also works when the Host header is the shop's domain.
 * Point a Laurel client at it with `endpoint: emulator.url(session.shop)`, or for every shop with
 * the template `emulator.endpointTemplate` ({shop} and {version} are filled in by the client).
 */

export interface AdminEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Accepted token per shop. Without it any non-empty token is accepted. */
  accessTokens?: Record<string, string>;
  /** Clock for the cost bucket and timestamps (ms); tests pass a fake one. */
  now?: () => number;
  /** API client id that `$app` namespaces resolve to (`app--<appId>`, `app--<appId>--loyalty`). */
  appId?: string;
  /**
   * A shopify.app.toml whose declared metafield definitions every shop has, as after
   * `shopify app deploy` (dev/emulator/app-config.ts). Default: none.
   */
  appConfig?: string;
  /**
   * The app's deployed Functions (validationCreate installs them). Default: the Functions among
   * the extensions next to `appConfig` (its folder's extensions/), none without appConfig.
   */
  functions?: readonly DeployedFunction[];
  /** Defaults to process.env.NODE_ENV. */
  nodeEnv?: string;
  /** Bucket size per shop (Shopify standard plan: 2000 points, restoring 100 per second). */
  maximumAvailable?: number;
  restoreRate?: number;
}

export type EmulatorOutcome =
  'executed' | 'invalid' | 'throttled' | 'unauthorized' | 'failed' | 'bad-request' | 'not-found';

/** One line of the emulator's request log, for assertions such as "nothing was executed". */
export interface EmulatorRequest {
  shop: string | null;
  operationName: string | null;
  status: number;
  outcome: EmulatorOutcome;
  /** The variables of an executed mutation, e.g. to count the metafields one call set. */
  variables?: Record<string, unknown>;
}

export interface AdminEmulator {
  readonly port: number;
  /** e.g. http://127.0.0.1:43123 */
  readonly origin: string;
  /** The Admin endpoint for any shop: pass as `endpoint` to createAdminClient. */
  readonly endpointTemplate: string;
  readonly state: EmulatorState;
  readonly requests: EmulatorRequest[];
  /** The Admin GraphQL endpoint for `shop`. */
  url(shop: string): string;
  /**
   * The next `count` valid requests (for `shop`, or any shop; with `operation`, only requests of
   * that operation name, e.g. `DiscountCodeBasicCreate`) answer THROTTLED.
   */
  throttleNext(count: number, shop?: string, options?: { operation?: string }): void;
  /**
   * The next `count` requests (for `shop`; with `operation`, only that operation's) answer HTTP
   * `status` (429 with Retry-After: 1, or 5xx). With `afterExecution` the document runs first and
   * only the answer is lost, as when a connection drops after Shopify committed a mutation.
   */
  failNext(
    count: number,
    status: number,
    options?: { shop?: string; afterExecution?: boolean; operation?: string },
  ): void;
  /** Sets a shop's available cost points (e.g. nearly empty, to exercise a client's limiter). */
  setAvailable(shop: string, points: number): void;
  setAccessToken(shop: string, token: string): void;
  /** Forgets every shop, bucket, pending fault and logged request. */
  reset(): void;
  close(): Promise<void>;
}

const API_VERSION = ADMIN_SCHEMA_VERSION;
const PATH = /^(?:\/shops\/([^/]+))?\/admin\/api\/([^/]+)\/graphql\.json$/;
const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;
const MAX_BODY_BYTES = 1_000_000;
const MAX_LOGGED_REQUESTS = 10_000;
const INVALID_TOKEN =
  '[API] Invalid API key or access token (unrecognized login or wrong password)';

interface ExecutionContext extends ResolverContext {
  operation: 'query' | 'mutation';
  actualCost: number;
}

interface PendingFault {
  shop: string | undefined;
  /** Only requests whose operation has this name; undefined = any request. */
  operation: string | undefined;
  remaining: number;
}

export async function startAdminEmulator(
  options: AdminEmulatorOptions = {},
): Promise<AdminEmulator> {
  const nodeEnv = options.nodeEnv ?? process.env.NODE_ENV;
  if (nodeEnv === 'production') {
    throw new Error(
      'The Laurel Admin API emulator is for development and tests; refusing to start with NODE_ENV=production',
    );
  }
  const schema = adminSchema();
  const mutationType = schema.getMutationType();
  const now = options.now ?? Date.now;
  const host = options.host ?? '127.0.0.1';
  const maximumAvailable = options.maximumAvailable ?? 2000;
  const restoreRate = options.restoreRate ?? 100;
  const state = new EmulatorState(
    now,
    options.appId ?? '1000000',
    options.appConfig === undefined ? [] : declaredDefinitionsIn(options.appConfig),
    options.functions ??
      (options.appConfig === undefined
        ? []
        : deployedFunctionsIn(
            path.join(path.dirname(path.resolve(options.appConfig)), 'extensions'),
          )),
  );
  const tokens = new Map(Object.entries(options.accessTokens ?? {}));
  const checkTokens = options.accessTokens !== undefined;
  const buckets = new Map<string, CostBucket>();
  let throttles: PendingFault[] = [];
  let faults: Array<PendingFault & { status: number; afterExecution: boolean }> = [];
  const requests: EmulatorRequest[] = [];

  const bucketOf = (shop: string) => {
    let bucket = buckets.get(shop);
    if (!bucket) {
      bucket = new CostBucket(maximumAvailable, restoreRate, now());
      buckets.set(shop, bucket);
    }
    return bucket;
  };

  /** Consumes one pending fault that applies to `shop` and `operation`, if any. */
  function takePending<T extends PendingFault>(
    list: T[],
    shop: string,
    operation: string | null,
  ): T | undefined {
    const pending = list.find(
      (p) =>
        p.remaining > 0 &&
        (p.shop === undefined || p.shop === shop) &&
        (p.operation === undefined || p.operation === operation),
    );
    if (pending) pending.remaining -= 1;
    return pending;
  }

  const fieldResolver: GraphQLFieldResolver<unknown, ExecutionContext> = (
    source,
    args,
    context,
    info,
  ) => {
    const property = (source as Record<string, unknown> | null | undefined)?.[info.fieldName];
    if (property === undefined) throw notImplemented(`${info.parentType.name}.${info.fieldName}`);
    const value =
      typeof property === 'function'
        ? (property as (a: unknown, c: unknown, i: GraphQLResolveInfo) => unknown)(
            args,
            context,
            info,
          )
        : property;
    context.actualCost += actualFieldCost(info, value, context.operation);
    return value;
  };

  /** Mirrors cost.ts's requested cost, with real page sizes instead of first/last. */
  function actualFieldCost(
    info: GraphQLResolveInfo,
    value: unknown,
    operation: 'query' | 'mutation',
  ): number {
    if (operation === 'mutation') return info.parentType === mutationType ? MUTATION_COST : 0;
    if (isLeafType(getNamedType(info.returnType))) return 0;
    const parent = info.parentType.name;
    if (parent.endsWith('Connection')) {
      return info.fieldName === 'nodes' && Array.isArray(value) ? value.length : 0;
    }
    if (parent.endsWith('Edge') && info.fieldName === 'node') return 1;
    const field = info.parentType.getFields()[info.fieldName];
    return field && isConnectionField(field) ? CONNECTION_COST : 1;
  }

  const typeResolver: GraphQLTypeResolver<unknown, ExecutionContext> = (value) =>
    (value as { __typename?: string }).__typename;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const entry: EmulatorRequest = {
      shop: null,
      operationName: null,
      status: 200,
      outcome: 'executed',
    };
    requests.push(entry);
    // A long-running dev emulator keeps only the recent past.
    if (requests.length > MAX_LOGGED_REQUESTS)
      requests.splice(0, requests.length - MAX_LOGGED_REQUESTS);
    const reply = (
      status: number,
      body: unknown,
      outcome: EmulatorOutcome,
      headers: Record<string, string> = {},
    ) => {
      entry.status = status;
      entry.outcome = outcome;
      response.writeHead(status, {
        'Content-Type': 'application/json; charset=utf-8',
        'X-Shopify-API-Version': API_VERSION,
        ...headers,
      });
      response.end(JSON.stringify(body));
    };

    const url = new URL(request.url ?? '/', 'http://emulator.invalid');
    const match = PATH.exec(url.pathname);
    const hostName = (request.headers.host ?? '').replace(/:\d+$/, '');
    const shop = match?.[1] ?? (SHOP_DOMAIN.test(hostName) ? hostName : undefined);
    if (!match || !shop || !SHOP_DOMAIN.test(shop)) {
      return reply(
        404,
        {
          errors: `Not Found: use POST /shops/<shop>.myshopify.com/admin/api/${API_VERSION}/graphql.json`,
        },
        'not-found',
      );
    }
    entry.shop = shop;
    if (match[2] !== API_VERSION) {
      return reply(
        404,
        { errors: `Not Found: the Laurel emulator serves only Admin API ${API_VERSION}` },
        'not-found',
      );
    }
    if (request.method !== 'POST') {
      return reply(405, { errors: 'Method Not Allowed: use POST' }, 'bad-request', {
        Allow: 'POST',
      });
    }
    const token = request.headers['x-shopify-access-token'];
    const tokenOk =
      typeof token === 'string' && token !== '' && (!checkTokens || tokens.get(shop) === token);
    if (!tokenOk) return reply(401, { errors: INVALID_TOKEN }, 'unauthorized');

    let body: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      const text = await readBody(request);
      body = (request.headers['content-type'] ?? '').includes('application/graphql')
        ? { query: text }
        : (JSON.parse(text) as typeof body);
    } catch (error) {
      const tooLarge = (error as Error).message === 'too large';
      return reply(
        tooLarge ? 413 : 400,
        {
          errors: tooLarge
            ? 'Payload Too Large'
            : 'Bad Request: the body must be JSON {"query", "variables"}',
        },
        'bad-request',
      );
    }
    if (typeof body?.query !== 'string' || body.query.trim() === '') {
      return reply(
        400,
        { errors: { query: 'Required parameter missing or invalid' } },
        'bad-request',
      );
    }
    const variables = body.variables ?? {};
    if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
      return reply(400, { errors: { variables: 'must be a JSON object' } }, 'bad-request');
    }
    const operationName = typeof body.operationName === 'string' ? body.operationName : undefined;

    // 1. Shopify's schema decides what is a valid document. Nothing runs unless it passes.
    let document: DocumentNode;
    try {
      document = parse(body.query);
    } catch (error) {
      return reply(200, { errors: [errorJson(error as GraphQLError, 'PARSE_ERROR')] }, 'invalid');
    }
    const validationErrors = validate(schema, document);
    if (validationErrors.length > 0) {
      return reply(
        200,
        { errors: validationErrors.map((e) => errorJson(e, validationCode(e))) },
        'invalid',
      );
    }
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      const message = operationName
        ? `No operation named "${operationName}"`
        : 'An operation name is required when the document has several operations';
      return reply(200, { errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] }, 'invalid');
    }
    entry.operationName = operation.name?.value ?? null;
    if (operation.operation === 'subscription') {
      return reply(
        200,
        { errors: [errorJson(notImplemented('subscriptions'), 'NOT_IMPLEMENTED')] },
        'invalid',
      );
    }
    const coerced = getVariableValues(
      schema,
      operation.variableDefinitions ?? [],
      variables as Record<string, unknown>,
    );
    if (coerced.errors) {
      return reply(
        200,
        { errors: coerced.errors.map((e) => errorJson(e, 'INVALID_VARIABLE')) },
        'invalid',
      );
    }

    // 2. Cost and throttling, as Shopify admits a query only if its requested cost is available.
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION)
        fragments[definition.name.value] = definition;
    }
    const requested = requestedCost(schema, operation, fragments, coerced.coerced);
    const bucket = bucketOf(shop);
    const costJson = (actual: number | null) => ({
      requestedQueryCost: requested,
      actualQueryCost: actual,
      throttleStatus: bucket.status(now()),
    });
    if (requested > SINGLE_QUERY_MAX_COST) {
      return reply(
        200,
        {
          errors: [
            {
              message: `Query cost is ${requested}, which exceeds the single query max cost limit (${SINGLE_QUERY_MAX_COST}).`,
              extensions: {
                code: 'MAX_COST_EXCEEDED',
                cost: requested,
                maxCost: SINGLE_QUERY_MAX_COST,
              },
            },
          ],
          extensions: { cost: costJson(null) },
        },
        'invalid',
      );
    }
    if (takePending(throttles, shop, entry.operationName) || !bucket.take(requested, now())) {
      return reply(
        200,
        {
          errors: [
            {
              message: 'Throttled',
              extensions: {
                code: 'THROTTLED',
                documentation: 'https://shopify.dev/api/usage/rate-limits',
              },
            },
          ],
          extensions: { cost: costJson(null) },
        },
        'throttled',
      );
    }

    const fault = takePending(faults, shop, entry.operationName);
    if (fault && !fault.afterExecution) {
      bucket.refund(requested, now());
      return replyFault(fault.status);
    }

    // 3. Execute against this shop's state; a mutation that raised an error is undone whole.
    const store = state.store(shop);
    runDueBulkCreations(state, store, now());
    const snapshot = operation.operation === 'mutation' ? state.snapshot(shop) : undefined;
    const context: ExecutionContext = {
      state,
      store,
      now: now(),
      operation: operation.operation,
      actualCost: 0,
    };
    const result = (await execute({
      schema,
      document,
      rootValue: operation.operation === 'mutation' ? mutationRoot(context) : queryRoot(context),
      contextValue: context,
      variableValues: variables as Record<string, unknown>,
      operationName,
      fieldResolver,
      typeResolver,
    })) as ExecutionResult;
    if (snapshot && result.errors?.length) state.restore(snapshot);
    if (operation.operation === 'mutation') entry.variables = variables as Record<string, unknown>;
    const actual = Math.min(context.actualCost, requested);
    bucket.refund(requested - actual, now());
    if (fault) return replyFault(fault.status);

    const payload: Record<string, unknown> = {};
    if (result.errors?.length) {
      payload.errors = result.errors.map((e) => errorJson(e, 'INTERNAL_SERVER_ERROR'));
    }
    payload.data = result.data ?? null;
    payload.extensions = { cost: costJson(actual) };
    return reply(200, payload, 'executed');

    function replyFault(status: number) {
      if (status === 429) {
        return reply(
          429,
          {
            errors:
              'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
          },
          'failed',
          { 'Retry-After': '1.0' },
        );
      }
      return reply(
        status,
        { errors: 'Internal Server Error (injected by the Laurel emulator)' },
        'failed',
      );
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      // A bug in the emulator itself: answer like a Shopify 500 rather than hanging the client.
      if (!response.headersSent) {
        response.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
      }
      response.end(JSON.stringify({ errors: `Emulator failure: ${(error as Error).message}` }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    port,
    origin,
    endpointTemplate: `${origin}/shops/{shop}/admin/api/{version}/graphql.json`,
    state,
    requests,
    url(shop: string) {
      if (!SHOP_DOMAIN.test(shop)) {
        throw new Error(
          `shop must be a myshopify domain such as laurel-demo.myshopify.com; got '${shop}'`,
        );
      }
      return `${origin}/shops/${shop}/admin/api/${API_VERSION}/graphql.json`;
    },
    throttleNext(count: number, shop?: string, throttleOptions: { operation?: string } = {}) {
      requireCount(count);
      throttles.push({ shop, operation: throttleOptions.operation, remaining: count });
    },
    failNext(
      count: number,
      status: number,
      faultOptions: { shop?: string; afterExecution?: boolean; operation?: string } = {},
    ) {
      requireCount(count);
      if (status !== 429 && (status < 500 || status > 599)) {
        throw new Error(`failNext status must be 429 or 5xx; got ${status}`);
      }
      faults.push({
        shop: faultOptions.shop,
        operation: faultOptions.operation,
        remaining: count,
        status,
        afterExecution: faultOptions.afterExecution ?? false,
      });
    },
    setAvailable(shop: string, points: number) {
      bucketOf(shop).set(points, now());
    },
    setAccessToken(shop: string, token: string) {
      if (!checkTokens) {
        throw new Error(
          'setAccessToken needs the emulator started with accessTokens (else any token is accepted)',
        );
      }
      tokens.set(shop, token);
    },
    reset() {
      state.reset();
      buckets.clear();
      throttles = [];
      faults = [];
      requests.length = 0;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function requireCount(count: number): void {
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`count must be a whole number ≥ 1; got ${count}`);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('too large'));
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Shopify's error shape: message, locations, path, extensions.code. */
function errorJson(error: GraphQLError, fallbackCode: string): Record<string, unknown> {
  const json = error.toJSON() as {
    message: string;
    locations?: unknown;
    path?: unknown;
    extensions?: Record<string, unknown>;
  };
  return {
    message: json.message,
    ...(json.locations ? { locations: json.locations } : {}),
    ...(json.path ? { path: json.path } : {}),
    extensions: { code: fallbackCode, ...(json.extensions ?? {}) },
  };
}

/** The graphql-ruby error codes Shopify reports for the common validation failures. */
function validationCode(error: GraphQLError): string {
  const rules: Array<[RegExp, string]> = [
    [/^Cannot query field/, 'undefinedField'],
    [/^Unknown argument/, 'argumentNotAccepted'],
    [/^Unknown type/, 'undefinedType'],
    [/argument ".*" of type ".*" is required/, 'missingRequiredArguments'],
    [/^Variable ".*" is never used/, 'variableNotUsed'],
    [/^Variable ".*" is not defined/, 'undefinedVariable'],
    [/must have a selection of subfields|must not have a selection/, 'selectionMismatch'],
    [
      /^Expected value of type|^Field ".*" of required type|is not defined by type/,
      'argumentLiteralsIncompatible',
    ],
  ];
  return rules.find(([pattern]) => pattern.test(error.message))?.[1] ?? 'GRAPHQL_VALIDATION_FAILED';
}

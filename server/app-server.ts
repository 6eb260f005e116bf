/**
 * The production web server: node:http, the Remix request handler through
 * @remix-run/node-fetch-server, and the built client assets. No Express: the webhook path is
 * benchmarked, and a plain listener adds nothing per request beyond what Remix itself does.
 * See docs/decisions/007-web-server-and-webhook-ingest.md.
 *
 * Only types are imported from the app: the build passed in is the one copy of the app code.
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { createRequestListener } from '@remix-run/node-fetch-server';
// server-runtime rather than @remix-run/node: the same createRequestHandler, without the global
// type declarations that make NODE_ENV required in every ProcessEnv.
import {
  createRequestHandler,
  type ActionFunction,
  type ServerBuild,
} from '@remix-run/server-runtime';

export interface AppServerOptions {
  /** The Remix server build (build/server/index.js, imported). */
  build: ServerBuild;
  /** 0 picks a free port. */
  port: number;
  /** Default: every interface. */
  host?: string;
  /** The client build to serve (build/client). Omitted: no static files. */
  clientDir?: string;
  mode?: 'production' | 'development' | 'test';
  /** In-flight requests get this long to finish on close (default 10 s). */
  drainTimeoutMs?: number;
  /**
   * POSTs to these exact paths call their resource route's action directly instead of going
   * through Remix's router (default: every /webhooks/… route). See directActions().
   */
  directPaths?: (path: string) => boolean;
  /** Where server-level failures are reported (default: console.error). */
  onError?: (error: unknown) => void;
  /**
   * Largest request body, in bytes, for every path without its own limit (default
   * DEFAULT_MAX_BODY_BYTES). Declared bodies over it are refused unread, chunked ones as soon as
   * the count passes it: 413 `{"error", "code": "PAYLOAD_TOO_LARGE"}`, `Connection: close`.
   */
  maxBodyBytes?: number;
  /**
   * A path's own body limit, or undefined for maxBodyBytes. Keep /webhooks/* at or above the
   * ingest's MAX_WEBHOOK_BODY_BYTES (app/webhooks.server.ts), which answers its own 413.
   */
  bodyLimitFor?: (path: string) => number | undefined;
  /** Told about every request this server refuses itself (413), e.g. for a warn log line. */
  onRefused?: (refusal: { method: string; path: string; status: number; reason: string }) => void;
}

/**
 * 1 MiB: the webhook ingest's own limit (MAX_WEBHOOK_BODY_BYTES), and far above anything else
 * Laurel takes (login and admin forms, app proxy requests are a few kilobytes).
 */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/**
 * Paths that take uploads, with their own limit unless bodyLimitFor says otherwise: the admin's
 * history import (files up to 20 MB, app/admin-import.server.ts, which refuses a file a little
 * over it with its reason; 1 MiB above that covers the multipart framing).
 */
export const UPLOAD_BODY_LIMITS: ReadonlyMap<string, number> = new Map([
  ['/app/import', 21 * 1_048_576],
  ['/app/import.data', 21 * 1_048_576],
]);

export interface AppServer {
  /** e.g. http://127.0.0.1:43123 */
  url: string;
  port: number;
  server: Server;
  /**
   * Stops accepting connections, lets in-flight requests finish (up to drainTimeoutMs), then
   * closes every connection. Resolves with the number of requests cut off at the deadline.
   */
  close(): Promise<number>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

interface StaticFile {
  path: string;
  size: number;
  mtime: Date;
  cacheControl: string;
}

/**
 * Every file of the client build, by URL path, listed once at start-up: the build never changes
 * under a running server, and a request that is not for a file (every webhook) costs one Map
 * lookup instead of a stat.
 */
function listClientFiles(clientDir: string): Map<string, StaticFile> {
  const root = resolve(clientDir);
  const files = new Map<string, StaticFile>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const urlPath = `/${path
          .slice(root.length + 1)
          .split(sep)
          .join('/')}`;
        const stat = statSync(path);
        files.set(urlPath, {
          path,
          size: stat.size,
          mtime: stat.mtime,
          // Vite fingerprints everything under /assets: safe to cache for a year.
          cacheControl: urlPath.startsWith('/assets/')
            ? 'public, max-age=31536000, immutable'
            : 'public, max-age=3600',
        });
      }
    }
  };
  walk(root);
  return files;
}

function serveStatic(
  files: Map<string, StaticFile>,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  if ((req.method !== 'GET' && req.method !== 'HEAD') || files.size === 0) return false;
  const rawPath = (req.url ?? '/').split('?', 1)[0]!;
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return false;
  }
  const file = files.get(path);
  if (!file) return false;
  const headers = {
    'Content-Type': CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(file.size),
    'Cache-Control': file.cacheControl,
    'Last-Modified': file.mtime.toUTCString(),
  };
  const since = req.headers['if-modified-since'];
  if (since && Date.parse(since) >= Math.floor(file.mtime.getTime() / 1000) * 1000) {
    res.writeHead(304, { 'Cache-Control': file.cacheControl });
    res.end();
    return true;
  }
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  createReadStream(file.path)
    .on('error', () => res.destroy())
    .pipe(res);
  return true;
}

/**
 * The hot path: Shopify's webhook POSTs. For a resource route (an action, no page) with a static
 * path, Remix's router only finds the route and calls its action; doing that once at start-up
 * instead of per request (Remix ranks every route on every match) saves about a tenth of the CPU
 * a delivery costs. The action gets the same arguments Remix would give it, a thrown Response is
 * the answer, and anything else thrown goes to the entry's handleError like in Remix.
 */
export function directActions(
  build: ServerBuild,
  include: (path: string) => boolean,
): Map<string, ActionFunction> {
  const actions = new Map<string, ActionFunction>();
  const fullPath = (id: string | undefined): string => {
    const route = id ? build.routes[id] : undefined;
    if (!route) return '';
    const parent = fullPath(route.parentId);
    const own = route.index ? '' : (route.path ?? '');
    return own ? `${parent.replace(/\/$/, '')}/${own}` : parent;
  };
  for (const [id, route] of Object.entries(build.routes)) {
    const action = route.module.action;
    if (!action || route.module.default) continue;
    const path = fullPath(id) || '/';
    if (/[:*?]/.test(path) || !include(path)) continue;
    actions.set(path, action);
  }
  return actions;
}

class BodyTooLarge extends Error {
  override readonly name = 'BodyTooLarge';
}

const JSON_TYPE = 'application/json; charset=utf-8';

function tooLargeBody(reason: string): string {
  return JSON.stringify({ error: reason, code: 'PAYLOAD_TOO_LARGE' });
}

function tooLarge(reason: string): Response {
  const body = tooLargeBody(reason);
  return new Response(body, {
    status: 413,
    // The rest of the body is not wanted: Node closes the connection after the answer.
    headers: {
      'Content-Type': JSON_TYPE,
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'close',
    },
  });
}

/**
 * Answers that go out before their request has arrived in full close the connection. A route may
 * answer without reading the body (a webhook without its headers: 400; a PUT: 405). The body's
 * reader (@remix-run/node-fetch-server) has stopped pulling from the socket by then, and Node
 * reads the next request on a keep-alive connection only once this one's body is in: the client's
 * next request would wait for the keep-alive timeout. With `Connection: close` the client knows to
 * open a new connection, and Node neither waits for nor reads the rest, whatever its length.
 * Decided when the head is written (every answer passes through writeHead, explicitly or from
 * end()): a body read to its end, as every accepted webhook's is, keeps the connection.
 */
function closeIfUnread(req: IncomingMessage, res: ServerResponse): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
    if (!req.complete) this.shouldKeepAlive = false;
    return writeHead.apply(this, args);
  } as typeof writeHead;
}

export async function startAppServer(options: AppServerOptions): Promise<AppServer> {
  const mode = options.mode ?? 'production';
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const files = options.clientDir ? listClientFiles(options.clientDir) : new Map();
  const handleRequest = createRequestHandler(options.build, mode);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const limitFor = (path: string) =>
    options.bodyLimitFor?.(path) ?? UPLOAD_BODY_LIMITS.get(path) ?? maxBodyBytes;
  const onRefused = options.onRefused ?? (() => {});

  /**
   * A body without Content-Length (chunked) is counted as the handler reads it: past the limit the
   * stream fails, the handler's request is aborted (so nothing it does next is logged as an error)
   * and the answer is a 413, whatever the handler made of its failed read. Declared bodies are
   * checked before any handler runs (see the server below), and Node's parser never delivers more
   * than the declared length, so they cost nothing here: webhook deliveries always declare theirs.
   * A handler that answers without reading a body to its end: see closeIfUnread().
   */
  const limitBody =
    (handler: (request: Request) => Promise<Response>) =>
    async (request: Request): Promise<Response> => {
      if (!request.body || request.headers.has('Content-Length')) return handler(request);
      const path = new URL(request.url).pathname;
      const limit = limitFor(path);
      const aborted = new AbortController();
      let received = 0;
      let refused = false;
      const counted = request.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            received += chunk.byteLength;
            if (received <= limit) return controller.enqueue(chunk);
            refused = true;
            aborted.abort(new BodyTooLarge());
            controller.error(new BodyTooLarge());
          },
        }),
      );
      const limited = new Request(request, {
        body: counted,
        duplex: 'half',
        signal: AbortSignal.any([request.signal, aborted.signal]),
      } as RequestInit);
      let response: Response | undefined;
      try {
        response = await handler(limited);
      } catch (error) {
        if (!refused) throw error;
      }
      if (!refused) return response!;
      await response?.body?.cancel().catch(() => {});
      const reason = `the body is over this path's limit of ${limit} bytes`;
      onRefused({ method: request.method, path, status: 413, reason });
      return tooLarge(reason);
    };

  const listenerOptions = { onError: (error: unknown) => void onError(error) };
  const listener = createRequestListener(
    limitBody((request) => handleRequest(request)),
    listenerOptions,
  );
  const direct = directActions(
    options.build,
    options.directPaths ?? ((path) => path.startsWith('/webhooks/')),
  );
  const handleError = options.build.entry.module.handleError;
  const directListeners = new Map(
    [...direct].map(([path, action]) => [
      path,
      createRequestListener(
        limitBody(async (request) => {
          const args = { request, params: {}, context: {} };
          try {
            const result: unknown = await action(args);
            return result instanceof Response ? result : Response.json(result ?? null);
          } catch (error) {
            if (error instanceof Response) return error;
            if (handleError) handleError(error, args);
            else onError(error);
            return new Response('Unexpected Server Error', { status: 500 });
          }
        }),
        listenerOptions,
      ),
    ]),
  );

  let closing = false;
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const sockets = new Set<Socket>();

  /** A declared body over the path's limit: answered before anything reads it. */
  function refuseDeclaredBody(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const declared = req.headers['content-length'];
    const limit = limitFor(path);
    if (declared === undefined || !(Number(declared) > limit)) return false;
    const reason = `the body of ${declared} bytes is over this path's limit of ${limit} bytes`;
    onRefused({ method: req.method ?? '', path, status: 413, reason });
    const body = tooLargeBody(reason);
    res.writeHead(413, {
      'Content-Type': JSON_TYPE,
      'Content-Length': Buffer.byteLength(body),
      Connection: 'close',
    });
    res.end(body);
    return true;
  }

  const handle = (req: IncomingMessage, res: ServerResponse, expectsContinue = false) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (closing && inFlight === 0) drained?.();
    });
    // While draining, every answer closes its connection so keep-alive clients move on.
    if (closing) res.shouldKeepAlive = false;
    closeIfUnread(req, res);
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (refuseDeclaredBody(req, res, path)) return;
    // Asked for only once the declared size is known to be acceptable.
    if (expectsContinue) res.writeContinue();
    if (req.method === 'POST') {
      const directListener = directListeners.get(path);
      if (directListener) return directListener(req, res);
    }
    if (serveStatic(files, req, res)) return;
    listener(req, res);
  };
  const server = createServer(handle);
  server.on('checkContinue', (req, res) => handle(req, res, true));
  // Shopify gives a webhook 5 s; nothing legitimate takes a minute to send its request.
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost =
    !options.host || options.host === '0.0.0.0' || options.host === '::'
      ? '127.0.0.1'
      : options.host.includes(':')
        ? `[${options.host}]`
        : options.host;

  let closed: Promise<number> | undefined;
  function close(): Promise<number> {
    closed ??= (async () => {
      closing = true;
      const stopped = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      let cutOff = 0;
      if (inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((r) => (drained = r)),
          new Promise<void>((r) => (timer = setTimeout(r, drainTimeoutMs))),
        ]);
        clearTimeout(timer);
        cutOff = inFlight;
      }
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await stopped;
      return cutOff;
    })();
    return closed;
  }

  return { url: `http://${urlHost}:${address.port}`, port: address.port, server, close };
}

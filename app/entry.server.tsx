/**
 * The Remix server entry: streams HTML (waiting for everything for bots), adds Shopify's document
 * headers, and exports `laurel` — the process runtime of this build. The Remix build bundles its
 * own copy of app code, so the web server (server/main.ts), tests and benchmarks reach the
 * database, queue and workers through `build.entry.module.laurel` rather than importing app
 * modules, and every process has exactly one database handle and one queue.
 */
import { PassThrough, Readable } from 'node:stream';
// Types from server-runtime, not @remix-run/node: the latter's declarations make NODE_ENV a
// required key of every ProcessEnv in the project.
import type {
  ActionFunctionArgs,
  EntryContext,
  LoaderFunctionArgs,
} from '@remix-run/server-runtime';
import { RemixServer } from '@remix-run/react';
import { isbot } from 'isbot';
import { renderToPipeableStream } from 'react-dom/server';
import { closeDatabase, getDatabase, useDatabase } from './db.server';
import { inlineWorkers } from './env.server';
import { describeError } from './error-description.server';
import { checkHealth } from './health.server';
import { logger } from './logger.server';
import { addDocumentResponseHeaders } from './shopify.server';
import { closeWebhookQueue, getWebhookQueue, useWebhookQueue } from './queues/webhook-queue.server';
// The one import of workers/ from app/ (ADR 017, excepted in eslint.config.js): the build bundles
// its own copy of app/, and inline workers must run on that copy (one database handle, one queue
// per process), so the build carries them and server/main.ts starts them through `laurel`.
import { startWorkers } from '../workers/runtime.server';

export const laurel = {
  getDatabase,
  useDatabase,
  closeDatabase,
  getWebhookQueue,
  useWebhookQueue,
  closeWebhookQueue,
  startWorkers,
  inlineWorkers,
  checkHealth,
  logger,
  describeError,
};
export type LaurelRuntime = typeof laurel;

export const streamTimeout = 5_000;

export default async function handleRequest(
  request: Request,
  responseStatusCode: number,
  responseHeaders: Headers,
  remixContext: EntryContext,
): Promise<Response> {
  addDocumentResponseHeaders(request, responseHeaders);
  const readyWhen = isbot(request.headers.get('user-agent') ?? '') ? 'onAllReady' : 'onShellReady';
  return new Promise((resolve, reject) => {
    let status = responseStatusCode;
    const { pipe, abort } = renderToPipeableStream(
      <RemixServer context={remixContext} url={request.url} />,
      {
        [readyWhen]: () => {
          const body = new PassThrough();
          responseHeaders.set('Content-Type', 'text/html');
          resolve(
            new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
              headers: responseHeaders,
              status,
            }),
          );
          pipe(body);
        },
        onShellError: reject,
        onError: (error: unknown) => {
          status = 500;
          const { err, stack } = describeError(error);
          logger().error({ url: pathOf(request), err, stack }, 'render failed');
        },
      },
    );
    // Give the stream a little longer than Remix's deferred data.
    setTimeout(abort, streamTimeout + 1_000);
  });
}

/**
 * What loaders, actions and Remix itself could not answer: logged once, without request data. A
 * 4xx (Remix's 404 for a page that does not exist, a 405) is the client's mistake, not an error:
 * debug. Anything else is an error with a readable message and, when there is one, its stack.
 */
export function handleError(
  error: unknown,
  { request }: LoaderFunctionArgs | ActionFunctionArgs,
): void {
  if (request.signal.aborted) return;
  const { status, ...description } = describeError(error);
  const url = pathOf(request);
  if (status < 500) {
    logger().debug(
      { url, status, ...description },
      status === 404 ? 'request not answered by any route' : 'request refused',
    );
    return;
  }
  logger().error({ url, ...description }, 'request failed');
}

/** The path only: query strings can carry session tokens and customer ids. */
function pathOf(request: Request): string {
  return new URL(request.url).pathname;
}

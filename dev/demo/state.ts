/**
 * The demo's state file (`.data/pglite-demo.json` by default; app/dev-access.server.ts
 * demoStatePath): written on the first run, read on every later one, so re-runs replay the same
 * store and the dev routes know the demo's secret.
 *
 * - `apiSecret`: 32 random bytes (hex), the demo app's SHOPIFY_API_SECRET. The dev routes open only
 *   when the configured secret equals it (app/dev-access.server.ts).
 * - `accessToken`: the offline Admin API token of the demo shop's session, accepted by the local
 *   Admin API emulator.
 * - `source`: what the shop's deliveries come from, pinned so a re-run replays the same ones with
 *   the same webhook ids — the generated history's seed, first month and size, or the digest of the
 *   `--orders` file. A run asking for something else is refused: it would mix two stores.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

export const DEMO_SHOP = 'laurel-demo.myshopify.com';
export const DEMO_API_KEY = 'laurel-demo-key';

const sourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('history'),
    seed: z.number().int(),
    firstMonth: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/),
    customers: z.number().int().min(1).max(2000),
  }),
  z.object({
    kind: z.literal('orders'),
    /** The file as first given (for messages). */
    file: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  }),
]);

const stateSchema = z.object({
  version: z.literal(1),
  shop: z.string().regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/),
  apiKey: z.string().min(1),
  apiSecret: z.string().regex(/^[0-9a-f]{64}$/),
  accessToken: z.string().min(1),
  source: sourceSchema,
  createdAt: z.string(),
});

export type DemoSource = z.infer<typeof sourceSchema>;
export type DemoState = z.infer<typeof stateSchema>;
/** What a run asks for: the history's size (seed and months are picked on the first run), or a file. */
export type WantedSource =
  | { kind: 'history'; customers: number; firstMonth: string }
  | { kind: 'orders'; file: string; sha256: string };

export class DemoStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoStateError';
  }
}

/** The state at `path`, or undefined when there is none; DemoStateError when it is unreadable. */
export function readDemoState(path: string): DemoState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DemoStateError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DemoStateError(`${path} is not JSON (${(error as Error).message})`);
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    throw new DemoStateError(
      `${path} is not a Laurel demo state file: ${parsed.error.issues
        .map((i) => `${i.path.join('.') || '(file)'} ${i.message}`)
        .join('; ')}`,
    );
  }
  return parsed.data;
}

/** Writes the state (owner-only: it holds the demo secret), replacing any file atomically. */
export function writeDemoState(path: string, state: DemoState): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(stateSchema.parse(state), null, 2)}\n`, {
    mode: 0o600,
  });
  renameSync(temporary, path);
}

/** A new state for `wanted`, with a fresh secret, token and (for the history) seed. */
export function newDemoState(wanted: WantedSource, now = new Date()): DemoState {
  return {
    version: 1,
    shop: DEMO_SHOP,
    apiKey: DEMO_API_KEY,
    apiSecret: randomBytes(32).toString('hex'),
    accessToken: `shpat_${randomBytes(16).toString('hex')}`,
    source:
      wanted.kind === 'history'
        ? {
            kind: 'history',
            seed: randomInt(1, 2 ** 31),
            firstMonth: wanted.firstMonth,
            customers: wanted.customers,
          }
        : { kind: 'orders', file: wanted.file, sha256: wanted.sha256 },
    createdAt: now.toISOString(),
  };
}

/** Why `state` cannot serve `wanted` (a different store), or undefined when it can. */
export function sourceMismatch(state: DemoState, wanted: WantedSource): string | undefined {
  const had = state.source;
  const made =
    had.kind === 'history'
      ? `the generated history with ${had.customers} customers`
      : `the orders file ${had.file}`;
  if (had.kind === 'history' && wanted.kind === 'history') {
    if (had.customers === wanted.customers) return undefined;
    return `this demo store was made from ${made}; --customers ${wanted.customers} would be a different store`;
  }
  if (had.kind === 'orders' && wanted.kind === 'orders') {
    if (had.sha256 === wanted.sha256) return undefined;
    return `this demo store was made from ${made}, and ${wanted.file} has different contents`;
  }
  return `this demo store was made from ${made}; ${
    wanted.kind === 'orders' ? `--orders ${wanted.file}` : 'the generated history'
  } would be a different store`;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

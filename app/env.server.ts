import { z } from 'zod';

/**
 * The one place that reads process.env. Parsed once, with every problem listed at once, so a
 * misconfigured process stops at start-up instead of failing on the first request.
 */
const baseSchema = z.object({
  /**
   * Unset means production: a deployed `npm start` or `npm run worker` must never serve Remix's
   * development mode (stack traces in answers) or open the dev-only routes because a variable was
   * forgotten. `npm run dev` (Vite) and `npm run demo` set development themselves; vitest sets test.
   */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('production'),
  /** PostgreSQL URL. Unset: the embedded PGlite database under PGLITE_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  PGLITE_DIR: z.string().min(1).default('.data/pglite'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379'),
  /** BullMQ key prefix: tests use their own (`test-<uuid>`) to isolate queues. */
  QUEUE_PREFIX: z.string().min(1).default('laurel'),
  /**
   * Jobs a worker process holds at once (waiting for, or in, a database transaction). At least
   * WORKER_BATCH_SIZE × WORKER_TRANSACTIONS, or batches cannot fill (docs/perf.md).
   */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(4096).default(512),
  /** Most order deliveries settled in one database transaction. */
  WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(250),
  /** Database transactions a worker process runs at once. */
  WORKER_TRANSACTIONS: z.coerce.number().int().min(1).max(64).default(2),
  /** Inbox rows still unprocessed after this long are re-enqueued by the reconciler. */
  RECONCILE_AFTER_MS: z.coerce.number().int().min(0).default(120_000),
  /** How often the reconciler runs (a BullMQ job scheduler, re-asserted by every worker). */
  RECONCILE_EVERY_MS: z.coerce.number().int().min(100).default(60_000),
  /** BullMQ lock duration: a job whose worker died is retried after about this long. */
  WORKER_LOCK_MS: z.coerce.number().int().min(500).default(30_000),
  /** Payloads of processed inbox rows (they hold personal data) are dropped after this many days. */
  INBOX_RETENTION_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  /**
   * Run the workers inside the web process. Default: on for the embedded PGlite (one process
   * can open it), off for PostgreSQL (run `npm run worker` separately).
   */
  INLINE_WORKERS: z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .transform((v) => v === 'true' || v === '1')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** Interface the web process listens on. Unset: every interface. */
  HOST: z.string().min(1).optional(),
  /**
   * Admin GraphQL endpoint template with `{shop}` and `{version}`, e.g. the local emulator's
   * `http://127.0.0.1:4000/shops/{shop}/admin/api/{version}/graphql.json`. Development and tests
   * only: the Admin client refuses anything but Shopify's own URL in production. Unset: Shopify.
   */
  ADMIN_API_ENDPOINT: z
    .string()
    .regex(/^https?:\/\//, 'must be an http(s) URL template with {shop} and {version}')
    .optional(),
  /**
   * How long the web process may reuse a Shopify session it loaded (ms); 0 turns the cache off.
   * See docs/decisions/007-web-server-and-webhook-ingest.md.
   */
  SESSION_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(5_000),
  /**
   * Where pino writes (a file path). Unset: stdout. `npm run demo` sets it so the app's logs do
   * not interleave with its report.
   */
  LOG_FILE: z.string().min(1).optional(),
  /**
   * The state file `npm run demo` writes (its generated API secret, shop, pinned history). The
   * dev-only routes (/dev/*) compare SHOPIFY_API_SECRET with the secret in it and refuse without
   * it; see app/dev-access.server.ts. Unset: `<PGLITE_DIR>-demo.json` (.data/pglite-demo.json).
   */
  DEMO_STATE_FILE: z.string().min(1).optional(),
  /**
   * SMTP server for expiry reminders by email: smtp://user:pass@host:587 (STARTTLS when offered)
   * or smtps://user:pass@host:465. Unset: the email channel is off, and the reminder settings say
   * so. docs/notifications.md.
   */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^/?#\s]+/, 'must be an smtp:// or smtps:// URL with a host')
    .refine((v) => URL.canParse(v), 'must be a valid URL (percent-encode @ : / in the password)')
    .optional(),
  /**
   * The address reminders come from (the shop's name is shown as the sender). Unset: the SMTP
   * user when it is an address, else no-reply@<SMTP host>.
   */
  REMINDER_FROM: z
    .string()
    // The pattern of isEmailAddress (app/notify/email.server.ts): one address, no display name.
    .regex(
      /^[^\s@<>(),;:"\\[\]]+@[^\s@<>(),;:"\\[\]]+$/,
      'must be one email address, e.g. rewards@shop.example',
    )
    .optional(),
});

/** What the Shopify-facing web process additionally needs. */
const shopifySchema = z.object({
  SHOPIFY_API_KEY: z.string().min(1, 'is required'),
  SHOPIFY_API_SECRET: z.string().min(1, 'is required'),
  SHOPIFY_APP_URL: z.string().url('must be a URL such as https://laurel.example.com'),
  SCOPES: z.string().min(1, 'is required'),
});

export type Env = z.infer<typeof baseSchema>;
export type ShopifyEnv = Env & z.infer<typeof shopifySchema>;

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

function parseWith<T extends z.ZodType>(schema: T, source: NodeJS.ProcessEnv): z.infer<T> {
  // Empty strings in .env files mean "unset", not "the empty value".
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new EnvError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'} ${issue.message}`),
    );
  }
  return result.data;
}

export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  return parseWith(baseSchema, source);
}

export function parseShopifyEnv(source: NodeJS.ProcessEnv = process.env): ShopifyEnv {
  return parseWith(baseSchema.extend(shopifySchema.shape), source);
}

let cached: Env | undefined;
/** The process environment, parsed on first use. */
export function env(): Env {
  cached ??= parseEnv();
  return cached;
}

/** Whether the web process runs the workers itself (see INLINE_WORKERS). */
export function inlineWorkers(e: Env = env()): boolean {
  return e.INLINE_WORKERS ?? e.DATABASE_URL === undefined;
}

import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { env } from './env.server';
import { LiteralSecrets, redactSecrets } from './log-redaction.server';

/**
 * Structured JSON logs (pino). Log ids — shop, topic, webhook id, inbox id, job id — never payloads,
 * emails, names or tokens: the redact list is a second line of defence, not the first.
 *
 * A third line holds at every level, debug included: each serialised line passes through
 * redactSecrets (app/log-redaction.server.ts) before it is written, so a session token, app-proxy
 * signature, HMAC or access token printed as text — by Shopify's library, a URL, an error message
 * — never reaches the log, nor does a secret registered with {@link neverLog}.
 */
let root: Logger | undefined;
const literals = new LiteralSecrets();

/** A logger with Laurel's settings writing to `destination` (stdout when absent). */
export function createLogger(level: Level | 'silent', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'laurel' },
      redact: {
        paths: ['*.email', '*.accessToken', '*.payload', '*.password', 'headers.authorization'],
        censor: '[redacted]',
      },
      hooks: { streamWrite: (line) => redactSecrets(line, literals) },
    },
    destination,
  );
}

export function logger(): Logger {
  if (!root) {
    const { LOG_LEVEL, LOG_FILE } = env();
    root = createLogger(
      LOG_LEVEL,
      // Synchronous, so a process that exits right after logging keeps its last lines.
      LOG_FILE ? pino.destination({ dest: LOG_FILE, mkdir: true, sync: true }) : undefined,
    );
  }
  return root;
}

/**
 * Removes `value` (the app's API secret) from every line any logger of this process writes from
 * now on. Secrets have no recognisable shape, so they are named once at start-up.
 */
export function neverLog(value: string): void {
  literals.add(value);
}

/** A child logger carrying context such as `{shop, webhookId}`. */
export function loggerFor(bindings: Record<string, unknown>): Logger {
  return logger().child(bindings);
}

import pino, { type Logger } from 'pino';
import { env } from './env.server';

/**
 * Structured JSON logs (pino). Log ids — shop, topic, webhook id, inbox id, job id — never payloads,
 * emails, names or tokens: the redact list is a second line of defence, not the first.
 */
let root: Logger | undefined;

export function logger(): Logger {
  if (!root) {
    const { LOG_LEVEL, LOG_FILE } = env();
    root = pino(
      {
        level: LOG_LEVEL,
        base: { service: 'laurel' },
        redact: {
          paths: ['*.email', '*.accessToken', '*.payload', '*.password', 'headers.authorization'],
          censor: '[redacted]',
        },
      },
      // Synchronous, so a process that exits right after logging keeps its last lines.
      LOG_FILE ? pino.destination({ dest: LOG_FILE, mkdir: true, sync: true }) : undefined,
    );
  }
  return root;
}

/** A child logger carrying context such as `{shop, webhookId}`. */
export function loggerFor(bindings: Record<string, unknown>): Logger {
  return logger().child(bindings);
}

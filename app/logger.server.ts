import pino, { type Logger } from 'pino';
import { env } from './env.server';

/**
 * Structured JSON logs (pino). Log ids — shop, topic, webhook id, inbox id, job id — never payloads,
 * emails, names or tokens: the redact list is a second line of defence, not the first.
 */
let root: Logger | undefined;

export function logger(): Logger {
  root ??= pino({
    level: env().LOG_LEVEL,
    base: { service: 'laurel' },
    redact: {
      paths: ['*.email', '*.accessToken', '*.payload', '*.password', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
  return root;
}

/** A child logger carrying context such as `{shop, webhookId}`. */
export function loggerFor(bindings: Record<string, unknown>): Logger {
  return logger().child(bindings);
}

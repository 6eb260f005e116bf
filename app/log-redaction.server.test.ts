import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LiteralSecrets, redactSecrets } from './log-redaction.server';
import { createLogger, neverLog } from './logger.server';

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL3Nob3AubXlzaG9waWZ5LmNvbS9hZG1pbiJ9.ZND6mO3pl3gBS3HKMlZV43cdFiyJNaZnz-kb1jzeHhM';
const SIGNATURE = '2cda373af4636d9c8ec293fa2e42d458e89bb56f44e5e9e76d013b8b72980ca6';

/** A line as pino writes it, with `msg` JSON-escaped. */
const line = (msg: string, fields: Record<string, unknown> = {}) =>
  `${JSON.stringify({ level: 20, service: 'laurel', ...fields, msg })}\n`;

describe('redactSecrets', () => {
  it.each([
    ['a session token in an error message', `Failed to parse session token '${JWT}': expired`],
    ['a decoded token object', `Attempting to authenticate | {sessionToken: {"header":"${JWT}"}}`],
    [
      'an id_token query parameter',
      `Redirecting | {url: https://app.test/app?id_token=${JWT}&x=1}`,
    ],
    ['a Bearer header', `headers: {authorization: Bearer ${JWT}}`],
  ])('removes %s', (_, message) => {
    const out = redactSecrets(line(message));
    expect(out).not.toContain('eyJ');
    expect(out).not.toContain('ZND6mO3pl3gBS3HKMlZV43cdFiyJNaZnz');
    expect(JSON.parse(out)).toMatchObject({ level: 20 });
  });

  it.each([
    ['query form', `/proxy?shop=a.myshopify.com&signature=${SIGNATURE}&timestamp=1`],
    ['URL-encoded query form', `return_to=%2Fproxy%3Fsignature%3D${SIGNATURE}%26x%3D1`],
    ["the library's context form", `{shop: a.myshopify.com, signature: ${SIGNATURE}}`],
    ['JSON form inside a message', `payload: {"signature":"${SIGNATURE}","shop":"a"}`],
    ['a header name', `x-shopify-hmac-sha256: ${SIGNATURE}`],
    ['hmac', `/auth/callback?code=1&hmac=${SIGNATURE}&shop=a`],
  ])('removes a signature in %s', (_, message) => {
    const out = redactSecrets(line(message));
    expect(out).not.toContain(SIGNATURE);
    expect(out).toContain('[redacted]');
    expect(JSON.parse(out)).toHaveProperty('msg');
  });

  it('removes credentials in structured fields and keeps the line valid JSON', () => {
    const out = redactSecrets(
      line('token exchange', {
        body: { client_secret: 'shpss_0123456789abcdef', subject_token: JWT, expiring: '0' },
        accessToken: 'shpat_0123456789abcdef0123456789abcdef',
        retries: { signature: 3 },
      }),
    );
    expect(out).not.toMatch(/shp(ss|at)_0123/);
    expect(out).not.toContain('eyJ');
    const parsed = JSON.parse(out) as Record<string, unknown>;
    expect(parsed.body).toEqual({
      client_secret: '[redacted]',
      subject_token: '[redacted]',
      expiring: '0',
    });
    // A number under a credential's name is no credential, and rewriting it would break the JSON.
    expect(parsed.retries).toEqual({ signature: 3 });
  });

  it('leaves lines without credentials untouched', () => {
    for (const message of [
      'webhook accepted',
      'App proxy request has invalid signature | {shop: a.myshopify.com}',
      'Validating session token | {shop: a.myshopify.com}',
      'Basic plan selected',
      'password authentication failed for user "postgres"',
    ]) {
      const text = line(message, { inboxId: 3, topic: 'orders/paid' });
      expect(redactSecrets(text)).toBe(text);
    }
  });

  it('removes registered literal secrets, raw and JSON-escaped', () => {
    const literals = new LiteralSecrets();
    literals.add('not-"shaped"-secret');
    literals.add('short');
    const out = redactSecrets(line('secret is not-"shaped"-secret; short words stay'), literals);
    expect(out).not.toContain('shaped');
    expect(out).toContain('short words stay');
    expect(JSON.parse(out)).toHaveProperty('msg');
  });
});

describe('createLogger', () => {
  it('writes every line through the redaction, at debug level too', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    neverLog('laurel-unit-test-secret');
    const log = createLogger('debug', sink).child({ component: 'shopify-app' });
    log.debug(`[shopify-app/DEBUG] Could not find offline session | {signature: ${SIGNATURE}}`);
    log.debug({ url: `/app?id_token=${JWT}` }, 'redirecting');
    log.error(new Error('client_secret=laurel-unit-test-secret rejected'), 'token exchange failed');
    const text = lines.join('');
    expect(lines).toHaveLength(3);
    expect(text).not.toContain(SIGNATURE);
    expect(text).not.toContain('eyJ');
    expect(text).not.toContain('laurel-unit-test-secret');
    for (const entry of lines) expect(() => JSON.parse(entry) as unknown).not.toThrow();
  });
});

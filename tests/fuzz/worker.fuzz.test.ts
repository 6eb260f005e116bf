// Accepted but odd deliveries through the worker: signed bodies that are valid JSON of the wrong
// shape (odd values at any path, huge numbers and strings, deep nesting, NUL) are stored by the
// built server over HTTP, then processed as the worker does (processInboxBatch, recordFailure).
// The property: processing never throws, each row ends processed or as a dead letter whose reason
// is a permanent failure, and no payload value reaches `last_error` or the worker's log. A body
// jsonb refuses is a dead letter from the ingest on; replayed, it meets the same property.
import { Writable } from 'node:stream';
import { and, eq } from 'drizzle-orm';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const SECRET = vi.hoisted(() => {
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers,write_customers,read_orders',
    LOG_LEVEL: 'silent',
  });
  return 'laurel-test-secret';
});

import { resetForReplay } from '../../app/models/inbox.server';
import { publishProgram } from '../../app/models/programs.server';
import { ensureShop } from '../../app/models/shops.server';
import { WEBHOOK_TOPICS } from '../../app/webhook-topics';
import { webhookInbox } from '../../db/schema';
import { webhookHeaders } from '../../dev/shopify-payloads';
import { referenceProgram } from '../../loyalty/program';
import { isPermanentFailure, processInboxBatch, recordFailure } from '../../workers/process-inbox';
import {
  jsonbRefuses,
  markedValues,
  mutateShape,
  shapeMutation,
  toJsonText,
  validPayload,
} from '../helpers/fuzz-payloads';
import { openFuzzStack, type FuzzStack } from '../helpers/fuzz-stack';

let stack: FuzzStack;
beforeAll(async () => {
  stack = await openFuzzStack();
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

/** The worker's log, kept to be searched. */
let logged = '';
const log = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged += chunk.toString('utf8');
      done();
    },
  }),
);

let shopCount = 0;
/** Stands for the case's own shop in generated bodies (compliance bodies name their shop). */
const PLACEHOLDER_SHOP = 'laurel-fuzz-placeholder.myshopify.com';

/** A fresh installed shop with a program: every topic (uninstall, redact) may change its shop. */
async function newShop(): Promise<string> {
  const domain = `laurel-fuzz-worker-${++shopCount}.myshopify.com`;
  const shop = await ensureShop(stack.db.db, { domain, currency: 'USD', timezone: 'UTC' });
  await publishProgram(stack.db.db, shop.id, referenceProgram, new Date('2026-01-01T00:00:00Z'));
  return domain;
}

const oddDelivery = fc.constantFrom(...WEBHOOK_TOPICS).chain((topic) =>
  fc.record({
    topic: fc.constant(topic),
    payload: validPayload(topic, PLACEHOLDER_SHOP),
    mutations: fc.array(shapeMutation, { minLength: 1, maxLength: 4 }),
  }),
);

/** How many deliveries met each outcome (the generators' coverage). */
const outcomes = new Map<string, number>();
const count = (outcome: string) => outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);

describe('accepted odd deliveries through the worker (fuzz)', () => {
  it('processes each or dead-letters it with a permanent reason that carries no payload value', async () => {
    await fc.assert(
      fc.asyncProperty(oddDelivery, async ({ topic, payload, mutations }) => {
        const shop = await newShop();
        const odd = mutateShape(payload, mutations);
        const body = toJsonText(odd).replaceAll(PLACEHOLDER_SHOP, shop);
        const webhookId = `fuzz-worker-${shopCount}`;
        const answer = await stack.send({
          method: 'POST',
          path: `/webhooks/${topic}`,
          headers: {
            ...webhookHeaders({ topic, shop, body, secret: SECRET, webhookId }),
            'Content-Length': String(Buffer.byteLength(body)),
          },
          body: Buffer.from(body, 'utf8'),
        });
        // Signed valid JSON objects are accepted, whatever their shape (finding 12 for NUL).
        expect(answer.status, answer.body).toBe(200);
        const [row] = await stack.db.db
          .select({
            id: webhookInbox.id,
            status: webhookInbox.status,
            lastError: webhookInbox.lastError,
          })
          .from(webhookInbox)
          .where(and(eq(webhookInbox.shopDomain, shop), eq(webhookInbox.webhookId, webhookId)));

        logged = '';
        if (jsonbRefuses(JSON.parse(body))) {
          count('stored as text');
          // Kept as text, a dead letter from the start: the worker leaves it alone...
          expect(row!.status).toBe('dead');
          expect(row!.lastError).toMatch(/cannot be stored as jsonb/);
          for (const value of markedValues(odd)) expect(row!.lastError).not.toContain(value);
          const untouched = await processInboxBatch(stack.db.db, [row!.id], log);
          expect(untouched.get(row!.id)).toEqual({ status: 'skipped', reason: 'dead' });
          // ...until ops replay it (`loyalty inbox replay`): then it goes the same way as any.
          expect(await resetForReplay(stack.db.db, row!.id)).toBe(true);
        } else {
          expect(row!.status).toBe('received');
        }
        const results = await processInboxBatch(stack.db.db, [row!.id], log);
        const result = results.get(row!.id)!;
        if (result.status === 'failed') {
          // An odd shape fails the same way every time: retrying it for hours helps no one.
          expect(isPermanentFailure(result.error), String(result.error)).toBe(true);
          expect(
            await recordFailure(stack.db.db, row!.id, result.error, { finalAttempt: false }),
          ).toBe('dead');
        }
        const [stored] = await stack.db.db
          .select({ status: webhookInbox.status, lastError: webhookInbox.lastError })
          .from(webhookInbox)
          .where(eq(webhookInbox.id, row!.id));
        expect(stored!.status).toBe(result.status === 'failed' ? 'dead' : 'processed');
        count(stored!.status);
        for (const value of markedValues(odd)) {
          expect(stored!.lastError ?? '', 'last_error carries a payload value').not.toContain(
            value,
          );
          expect(logged, 'the worker log carries a payload value').not.toContain(value);
        }
      }),
      { seed: 20_260_821, numRuns: 200 },
    );
    // Every outcome was met, so none of the checks above went untried.
    for (const outcome of ['processed', 'dead', 'stored as text']) {
      expect(outcomes.get(outcome) ?? 0, `deliveries that were ${outcome}`).toBeGreaterThan(0);
    }
  }, 120_000);
});

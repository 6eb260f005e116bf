/**
 * The customers pages' own words: the list's query string, an award's bands and an adjustment's
 * author as the member's ledger shows them, and the adjustment form's problems by field before
 * anything reaches the database. The pages through the real server: tests/routes/admin-customers.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  Object.assign(process.env, {
    SHOPIFY_API_KEY: 'laurel-test-key',
    SHOPIFY_API_SECRET: 'laurel-test-secret',
    SHOPIFY_APP_URL: 'https://laurel.test',
    SCOPES: 'read_customers',
    LOG_LEVEL: 'silent',
  });
});

import { computeEarn } from '../loyalty/earn';
import { parseProgram, referenceProgram } from '../loyalty/program';
import {
  adjustFromForm,
  adminExplanation,
  bandsText,
  parseDirectoryParams,
} from './admin-customers.server';
import type { LedgerLine } from './models/customer-directory.server';
import type { Shop } from './models/shops.server';

const line = (over: Partial<LedgerLine>): LedgerLine => ({
  id: 1,
  occurredAt: new Date('2026-11-20T14:00:00Z'),
  createdAt: new Date('2026-11-20T14:00:00Z'),
  points: 0,
  source: 'order',
  programVersion: null,
  inputs: {},
  orderName: null,
  ...over,
});

describe('parseDirectoryParams', () => {
  it('defaults to the highest balance first, names A→Z', () => {
    expect(parseDirectoryParams(new URLSearchParams(''))).toEqual({
      search: '',
      sort: 'balance',
      direction: 'desc',
      cursor: '',
    });
    expect(parseDirectoryParams(new URLSearchParams('sort=name&q=%20Ada%20'))).toMatchObject({
      search: 'Ada',
      sort: 'name',
      direction: 'asc',
    });
  });

  it('refuses an unknown sort or direction and an overlong search with a 400', async () => {
    for (const query of ['sort=secret', 'dir=up', `q=${'x'.repeat(201)}`]) {
      let thrown: unknown;
      try {
        parseDirectoryParams(new URLSearchParams(query));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Response);
      expect((thrown as Response).status).toBe(400);
      expect(((await (thrown as Response).json()) as { error: string }).error).toMatch(
        /^(sort must be one of|dir must be asc or desc|Search must be at most 200 characters)/,
      );
    }
  });
});

describe('the ledger as staff read it', () => {
  it('names the program version and the bands an award earned in, from what it recorded', () => {
    const earn = computeEarn(parseProgram(referenceProgram), 12_000, []);
    expect(earn.points).toBe(90);
    const award = line({
      points: 90,
      programVersion: 3,
      orderName: '#1001',
      inputs: { rule: 'earn-bands', ...earn },
    });
    expect(adminExplanation(award, 'USD', 'en-US')).toBe(
      'Order #1001, $120.00 → 90 points, program v3: 2×>$100, 1×$50–100',
    );
    // A unit other than one whole currency unit is said; cents are shown when a bound has them.
    expect(
      bandsText(
        {
          currency: 'USD',
          unitMinor: 1_000,
          bands: [{ over: 2_550, upTo: null, wholeUnits: 3, pointsPerUnit: 5, points: 15 }],
        },
        'en-US',
      ),
    ).toBe('5×>$25.50 per $10');
    // Inputs without usable bands say no more than the version.
    expect(
      adminExplanation(
        line({ points: 5, programVersion: 2, inputs: { bands: 'x' } }),
        'USD',
        'en-US',
      ),
    ).toBe('Order → 5 points, program v2');
    expect(bandsText({ currency: 'ZZZ', bands: [] }, 'en-US')).toBeNull();
  });

  it('says who made an adjustment, and the version a reversal used', () => {
    expect(
      adminExplanation(
        line({
          source: 'adjustment',
          points: -200,
          inputs: { reason: 'Duplicate bonus', staff: { userId: '8801', sessionId: null } },
        }),
        'USD',
        'en-US',
      ),
    ).toBe('Adjustment: Duplicate bonus → −200 points, by staff member 8801');
    expect(
      adminExplanation(line({ source: 'adjustment', points: 5, inputs: {} }), 'USD', 'en-US'),
    ).toBe('Adjustment → 5 points');
    expect(
      adminExplanation(
        line({ source: 'refund', points: -22, programVersion: 3, orderName: '#1001' }),
        'USD',
        'en-US',
      ),
    ).toBe('Refund on order #1001 → −22 points, program v3');
  });
});

describe('adjustFromForm', () => {
  it('answers bad input by field without touching the database or asking for a sync', async () => {
    // Any query would fail on this stand-in: validation must answer first.
    const db = new Proxy({}, { get: () => () => Promise.reject(new Error('no database')) });
    let synced = 0;
    const outcome = await adjustFromForm(
      db as never,
      { id: 1, domain: 'x.myshopify.com' } as Shop,
      { userId: '1', sessionId: null },
      1,
      { points: '0', reason: '', key: 'k' },
      async () => (synced += 1),
    );
    expect(outcome).toEqual({
      ok: false,
      status: 400,
      errors: {
        points: 'Points must not be 0: add or remove at least 1 point',
        reason: 'Reason is required: say why, e.g. “Goodwill for a late parcel”',
        key: 'The form has no valid key: reload the page and adjust again',
      },
      values: { points: '0', reason: '', key: 'k' },
    });
    expect(synced).toBe(0);
  });
});

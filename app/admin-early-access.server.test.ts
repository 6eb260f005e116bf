/**
 * The early-access page's reading of its form (ids as pasted, empty fields, the rules' issues →
 * fields) and a window as the list shows it: stages by tier name, status, who may buy now, the
 * mirror at Shopify. The page in Chromium, saving through the Admin API emulator:
 * tests/e2e/admin-early-access.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseTierProgram } from '../loyalty/tiers';
import { FOUR_TIERS } from '../tests/helpers/tiers';
import {
  issuesToWindowErrors,
  localText,
  readWindowDraft,
  targetIdOf,
  windowDefinition,
  windowRow,
  type WindowFormValues,
} from './admin-early-access.server';
import { AppError } from './errors';
import type { EarlyAccessWindow } from './models/early-access.server';

const NY = 'America/New_York';
const program = parseTierProgram(FOUR_TIERS, { shopCurrency: 'USD' });

const form: WindowFormValues = {
  name: 'Black Friday preview',
  targetType: 'collection',
  targetId: ' gid://shopify/Collection/4412 ',
  stages: [
    { tier: 'gold', opensAt: '2026-11-20T09:00' },
    { tier: 'silver', opensAt: '2026-11-22T09:00' },
  ],
  everyoneAt: '2026-11-24T09:00',
};

describe('the form', () => {
  it('takes a product or collection as an id, a gid or an admin URL', () => {
    expect(targetIdOf('123')).toBe('123');
    expect(targetIdOf(' gid://shopify/Product/123 ')).toBe('gid://shopify/Product/123');
    expect(targetIdOf('https://admin.shopify.com/store/x/products/9012345678902')).toBe(
      '9012345678902',
    );
    expect(targetIdOf('https://admin.shopify.com/store/x/collections/44?tab=1')).toBe('44');
    expect(targetIdOf('shoes')).toBe('shoes');
  });

  it('gives the window definition the rules read', () => {
    expect(windowDefinition(form)).toEqual({
      name: 'Black Friday preview',
      target: { type: 'collection', id: 'gid://shopify/Collection/4412' },
      stages: form.stages,
      everyoneAt: '2026-11-24T09:00',
    });
  });

  it('refuses a draft the page never sends with a 400', () => {
    for (const text of [undefined, '{', '[]', JSON.stringify({ ...form, targetType: 'tag' })]) {
      expect(() => readWindowDraft(text)).toThrow(AppError);
    }
    expect(readWindowDraft(JSON.stringify(form))).toEqual(form);
  });

  it('puts each issue beside its field', () => {
    expect(
      issuesToWindowErrors([
        { path: 'stages[1].tier', message: "'vip' is not a tier (bronze, silver, gold, platinum)" },
        { path: 'everyoneAt', message: "must be after every tier's opening: gold opens …" },
        { path: 'target.id', message: 'no product 987654321 in shop.myshopify.com' },
        { path: 'stages', message: 'define tiers first' },
        { path: 'endsAt', message: 'is not a known field' },
      ]),
    ).toEqual({
      'stages[1].tier': "Tier 'vip' is not a tier (bronze, silver, gold, platinum)",
      everyoneAt: "Everyone from must be after every tier's opening: gold opens …",
      targetId: 'No product 987654321 in shop.myshopify.com',
      stages: 'Tier stages define tiers first',
      form: 'endsAt is not a known field',
    });
  });
});

describe('windowRow', () => {
  const row = (archivedAt: Date | null = null): EarlyAccessWindow => ({
    id: 12,
    shopId: 1,
    name: 'Black Friday preview',
    targetType: 'collection',
    targetId: '4412',
    targetTitle: 'Winter teas',
    definition: {
      name: 'Black Friday preview',
      target: { type: 'collection', id: '4412' },
      stages: form.stages,
      everyoneAt: form.everyoneAt,
    },
    startsAt: new Date('2026-11-20T14:00:00Z'),
    endsAt: new Date('2026-11-24T14:00:00Z'),
    archivedAt,
    createdAt: new Date(),
    updatedAt: new Date(),
  });
  const context = { timeZone: NY, program };
  const mirror = {
    products: 3,
    synced: 2,
    pending: 1,
    failed: 0,
    lastError: null,
    syncedAt: null,
  };

  it('reads the worked example of docs/early-access.md at each moment', () => {
    const before = windowRow(row(), context, mirror, new Date('2026-11-19T12:00:00Z'));
    expect(before).toMatchObject({
      target: 'Collection: Winter teas (4412)',
      stages: [
        'Gold and above from Nov 20, 2026, 09:00',
        'Silver and above from Nov 22, 2026, 09:00',
      ],
      everyone: 'Nov 24, 2026, 09:00',
      status: 'before',
      now: 'Nobody yet; everyone from Nov 24, 2026, 09:00',
      sync: { text: 'Waiting for the sync: 1 of 3 products', tone: 'attention' },
    });
    expect(windowRow(row(), context, mirror, new Date('2026-11-21T17:00:00Z'))).toMatchObject({
      status: 'early',
      statusLabel: 'Early access',
      now: 'Gold, Platinum may buy now; everyone else from Nov 24, 2026, 09:00',
    });
    expect(
      windowRow(
        row(),
        context,
        { ...mirror, pending: 0, synced: 3 },
        new Date('2026-11-23T17:00:00Z'),
      ),
    ).toMatchObject({
      now: 'Silver, Gold, Platinum may buy now; everyone else from Nov 24, 2026, 09:00',
      sync: { text: 'On Shopify (3 products)', tone: 'success' },
    });
    expect(windowRow(row(), context, undefined, new Date('2026-11-24T14:00:00Z'))).toMatchObject({
      status: 'open',
      now: 'Everyone may buy',
    });
    // A day after everyone may buy, the window leaves the mirrors: ended.
    expect(windowRow(row(), context, undefined, new Date('2026-11-25T15:00:00Z'))).toMatchObject({
      status: 'ended',
      sync: { text: 'Not on Shopify any more' },
    });
    expect(
      windowRow(row(new Date()), context, undefined, new Date('2026-11-21T17:00:00Z')).status,
    ).toBe('archived');
  });

  it('says which stages name a tier the program no longer has, and Shopify’s refusals', () => {
    const noSilver = parseTierProgram(
      { ...FOUR_TIERS, tiers: FOUR_TIERS.tiers.filter((t) => t.key !== 'silver') },
      { shopCurrency: 'USD' },
    );
    const view = windowRow(
      row(),
      { timeZone: NY, program: noSilver },
      { ...mirror, failed: 1, lastError: 'Product does not exist' },
      new Date('2026-11-21T17:00:00Z'),
    );
    expect(view.stages).toEqual([
      'Gold and above from Nov 20, 2026, 09:00',
      "'silver' (no longer a tier) from Nov 22, 2026, 09:00",
    ]);
    expect(view.sync).toEqual({
      text: 'Shopify refused 1 of 3 products (retried every few minutes): Product does not exist',
      tone: 'critical',
    });
  });

  it('shows a shop-local time as set', () => {
    expect(localText('2026-03-08T02:30:00')).toBe('Mar 8, 2026, 02:30');
  });
});

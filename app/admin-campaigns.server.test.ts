// The campaigns page's module on real PostgreSQL: the form's values → saved or refused by field
// (nothing saved), the rows as the merchant reads them, and the month calendar in the shop's
// timezone (a campaign ending at local midnight does not touch that day).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/db';
import {
  campaignDefinition,
  campaignsPage,
  issuesToCampaignErrors,
  saveCampaignFromForm,
  targetIdsOf,
  type CampaignFormValues,
} from './admin-campaigns.server';
import { listCampaigns } from './models/campaigns.server';
import { ensureShop, type Shop } from './models/shops.server';

const NY = 'America/New_York';
/** Tue Dec 1, 2026, 07:00 in New York. */
const NOW = new Date('2026-12-01T12:00:00Z');

let handle: TestDatabase;
beforeAll(async () => {
  handle = await createTestDatabase('postgres');
});
afterAll(async () => {
  await handle?.close();
});

const newShop = (): Promise<Shop> =>
  ensureShop(handle.db, {
    domain: `admin-campaigns-${randomUUID().slice(0, 8)}.myshopify.com`,
    timezone: NY,
    currency: 'USD',
  });

const weekend: CampaignFormValues = {
  name: 'Double points weekend',
  kind: 'multiplier',
  multiplier: '2',
  bonusPoints: '',
  minimumAmount: '',
  scope: 'all',
  targetIds: '',
  stacking: 'multiply',
  startsAt: '2026-12-05T00:00',
  endsAt: '2026-12-07T00:00',
};

describe('the campaign form', () => {
  it('reads pasted ids, gids and admin URLs', () => {
    expect(
      targetIdsOf('123, gid://shopify/Product/456\nhttps://admin.shopify.com/store/x/products/789'),
    ).toEqual(['123', 'gid://shopify/Product/456', '789']);
    expect(
      campaignDefinition({ ...weekend, kind: 'bonus', bonusPoints: '2.5' }).bonusPoints,
    ).toBeNaN();
  });

  it('puts each issue beside its field, with its label', () => {
    expect(
      issuesToCampaignErrors([
        { path: 'endsAt', message: 'must be after the start' },
        { path: 'targetIds', message: 'choose at least one product' },
        { path: 'targetIds[1]', message: 'no product 9 in x.myshopify.com' },
        { path: 'elsewhere', message: 'is odd' },
      ]),
    ).toEqual({
      endsAt: 'Ends must be after the start',
      targetIds: 'Choose at least one product',
      form: 'elsewhere is odd',
    });
  });

  it('refuses an end before the start and a multiplier of 0, by field; nothing saved', async () => {
    const shop = await newShop();
    const outcome = await saveCampaignFromForm(
      handle.db,
      shop,
      { ...weekend, multiplier: '0', endsAt: '2026-12-04T00:00' },
      { now: NOW },
    );
    expect(outcome).toMatchObject({
      ok: false,
      status: 400,
      errors: {
        multiplier: expect.stringMatching(/^Multiplier must be more than 0/),
        endsAt: 'Ends must be after the start',
      },
    });
    expect(await listCampaigns(handle.db, shop.id)).toEqual([]);
  });

  it('saves, lists by status and draws the calendar in New York', async () => {
    const shop = await newShop();
    const saved = await saveCampaignFromForm(handle.db, shop, weekend, {
      now: NOW,
      staff: '42',
    });
    expect(saved).toMatchObject({ ok: true, name: 'Double points weekend' });
    await saveCampaignFromForm(
      handle.db,
      shop,
      {
        ...weekend,
        name: 'Spend $50, get 100',
        kind: 'bonus',
        bonusPoints: '100',
        minimumAmount: '50',
        startsAt: '2026-12-01T07:30',
        endsAt: '2026-12-02T12:00',
      },
      { now: NOW },
    );
    const during = new Date('2026-12-01T12:45:00Z');
    const page = await campaignsPage(handle.db, shop, { now: during });
    expect(page.active.map((c) => [c.name, c.gives, c.on, c.window])).toEqual([
      [
        'Spend $50, get 100',
        '+100 points per order of $50.00 or more',
        'All products',
        'Tue, 1 Dec 2026, 07:30 → Wed, 2 Dec 2026, 12:00',
      ],
    ]);
    expect(page.upcoming.map((c) => [c.name, c.gives, c.stacking, c.editable, c.endable])).toEqual([
      ['Double points weekend', '×2 points', 'Multiplies the tier multiplier', true, true],
    ]);
    expect(page.calendar).toMatchObject({ month: '2026-12', title: 'December 2026' });
    const days = page.calendar.weeks.flat();
    // December 2026 starts on a Tuesday: the grid starts on Monday Nov 30.
    expect(days[0]).toMatchObject({ date: '2026-11-30', inMonth: false });
    const named = (date: string) => days.find((d) => d.date === date)!.campaigns.map((c) => c.name);
    expect(named('2026-12-01')).toEqual(['Spend $50, get 100']);
    expect(named('2026-12-05')).toEqual(['Double points weekend']);
    expect(named('2026-12-06')).toEqual(['Double points weekend']);
    // Ends at 00:00 on the 7th: the 7th is not one of its days.
    expect(named('2026-12-07')).toEqual([]);
    expect(days.find((d) => d.today)?.date).toBe('2026-12-01');
    const january = await campaignsPage(handle.db, shop, { now: during, month: '2027-01' });
    expect(january.calendar.weeks.flat().some((d) => d.campaigns.length > 0)).toBe(false);
  });
});

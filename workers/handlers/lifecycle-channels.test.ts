// The daily lifecycle run with what the worker runtime wires in production: the default steps
// (expiry, the birthday bonus, reminders) and the two real reminder channels — email over SMTP to
// a local mail server, and the customer metafield + tag at the Admin API emulator through the
// shop's own offline token — with a controlled clock.
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailSink, type MailSink } from '../../dev/mail-sink';
import { startAdminEmulator, type AdminEmulator } from '../../dev/emulator/server';
import { customerBirthdays, reminderDeliveries } from '../../db/schema';
import { publishBonusProgram } from '../../app/models/bonus-programs.server';
import { ensureCustomer } from '../../app/models/customers.server';
import { publishExpiryPolicy } from '../../app/models/expiry-policies.server';
import { sendDueReminders } from '../../app/models/expiry-reminders.server';
import { entriesFor, post } from '../../app/models/ledger.server';
import { runLifecycleDay } from '../../app/models/lifecycle.server';
import { ensureShop } from '../../app/models/shops.server';
import { createEmailNotifier } from '../../app/notify/email.server';
import { shopifyCustomerChannel } from '../../app/notify/shopify-customer.server';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/db';
import { storeOfflineSession } from '../../tests/helpers/sessions';

let handle: TestDatabase;
let emulator: AdminEmulator;
let sink: MailSink;

beforeAll(async () => {
  handle = await createTestDatabase('postgres');
  emulator = await startAdminEmulator({ appConfig: 'shopify.app.toml', nodeEnv: 'test' });
  sink = await startMailSink();
});
afterAll(async () => {
  await sink?.close();
  await emulator?.close();
  await handle?.close();
});

describe('the lifecycle day with the production steps and channels', () => {
  it('awards the birthday, plans the reminder and delivers it by email and to the Shopify customer', async () => {
    const db = handle.db;
    const domain = `channels-${randomUUID().slice(0, 8)}.myshopify.com`;
    const shop = await ensureShop(db, {
      domain,
      name: 'Laurel Tea',
      currency: 'USD',
      timezone: 'America/New_York',
    });
    await storeOfflineSession(db, domain, 'shpat_channels');
    const since = new Date('2020-01-01T00:00:00Z');
    await publishExpiryPolicy(
      db,
      shop.id,
      {
        policy: { mode: 'lot', months: 12 },
        reminderDays: [30],
        channels: { email: true, shopify: true },
      },
      since,
    );
    await publishBonusProgram(db, shop.id, { birthdayPoints: 200 }, since);

    const gid = emulator.state.addCustomer(domain, { firstName: 'Ada' });
    const member = await ensureCustomer(db, shop.id, {
      externalId: gid.split('/').pop()!,
      email: 'ada@example.com',
      firstName: 'Ada',
    });
    await db.insert(customerBirthdays).values({
      customerId: member.id,
      shopId: shop.id,
      month: 3,
      day: 14,
      source: 'storefront',
      setAt: since,
    });
    // Earned 20 March 2025 (New York): usable through 20 March 2026, gone at midnight after it.
    await post(db, shop.id, {
      customerId: member.id,
      idempotencyKey: `order:${randomUUID()}:earn`,
      source: 'order',
      points: 120,
      occurredAt: new Date('2025-03-20T16:00:00Z'),
      inputs: {},
    });

    // 1 March 2026, 00:30 in New York: the birth month starts, the lot expires in 20 days.
    const now = new Date('2026-03-01T05:30:00Z');
    const day = await runLifecycleDay(db, shop, '2026-03-01', now);
    expect(day.ran).toBe(true);
    expect(day.results).toMatchObject({
      expiry: expect.anything(),
      birthday: { bonusVersion: 1, awarded: 1 },
      reminders: expect.anything(),
    });
    const bonus = (await entriesFor(db, shop.id, member.id)).find((e) => e.source === 'bonus');
    expect(bonus).toMatchObject({ points: 200, inputs: { rule: 'birthday', month: 3, day: 14 } });

    const notifiers = {
      email: createEmailNotifier({ smtpUrl: sink.url, from: 'rewards@laurel-tea.example' }),
      shopify: shopifyCustomerChannel(db, {
        endpoint: emulator.endpointTemplate,
        client: { nodeEnv: 'test' },
      }),
    };
    try {
      const sent = await sendDueReminders(db, shop, notifiers, now);
      expect(sent).toMatchObject({ sent: 2, failed: 0 });
    } finally {
      notifiers.email.close();
    }

    const [mail] = sink.messages().filter((m) => m.envelopeTo.includes('ada@example.com'));
    expect(mail?.text).toContain('120');
    expect(mail?.text).toContain('Friday 20 March 2026');
    const field = emulator.state.metafields(domain, gid).find((m) => m.key === 'points_expiring');
    expect(JSON.parse(field!.value)).toMatchObject({
      points: 120,
      lastDay: '2026-03-20',
      thresholdDays: 30,
      balance: 320,
    });
    expect(emulator.state.customer(domain, gid)?.tags).toContain('laurel-points-expiring');
    const deliveries = await db
      .select({ channel: reminderDeliveries.channel, status: reminderDeliveries.status })
      .from(reminderDeliveries)
      .where(and(eq(reminderDeliveries.shopId, shop.id)));
    expect(deliveries.map((d) => `${d.channel}:${d.status}`).sort()).toEqual([
      'email:sent',
      'shopify:sent',
    ]);

    // Another send finds nothing left: each channel once.
    const again = await sendDueReminders(db, shop, notifiers, now);
    expect(again).toMatchObject({ sent: 0 });
    expect(sink.messages().filter((m) => m.envelopeTo.includes('ada@example.com'))).toHaveLength(1);
  });
});

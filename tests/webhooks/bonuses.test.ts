// Bonuses through signed webhooks (docs/bonuses.md): customers/create posts the sign-up bonus once,
// the newsletter bonus when the email marketing consent is `subscribed` (once ever, kept after
// unsubscribing), and records the facts.birth_date metafield as month and day — awarded at once in
// its month; customers/redact forgets the birthday.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

await vi.hoisted(() => import('../helpers/storefront-env').then((env) => env.useStorefrontEnv()));

import { getBirthday } from '../../app/models/birthdays.server';
import { publishBonusProgram } from '../../app/models/bonus-programs.server';
import { entriesFor } from '../../app/models/ledger.server';
import { publishProgram } from '../../app/models/programs.server';
import { customersRedactPayload } from '../../dev/shopify-payloads';
import { explainEntry } from '../../loyalty/explain';
import { referenceProgram } from '../../loyalty/program';
import { customerBody, openReferralStack, person, type ReferralStack } from '../helpers/referrals';

let stack: ReferralStack;
beforeEach(async () => {
  stack = await openReferralStack();
  await publishProgram(
    stack.db,
    stack.shop.id,
    { ...referenceProgram, signupBonus: 100 },
    new Date('2026-01-02T00:00:00Z'),
  );
  await publishBonusProgram(
    stack.db,
    stack.shop.id,
    { birthdayPoints: 200, newsletterPoints: 50 },
    new Date('2026-01-02T00:00:00Z'),
  );
});
afterEach(async () => {
  await stack.close();
});

const ada = person(1);
const pad = (n: number) => String(n).padStart(2, '0');

function body(
  consent: { state: string; consent_updated_at: string | null } | null,
  birthDate?: string,
) {
  const payload = customerBody(ada, { createdAt: '2026-02-01T10:00:00Z' });
  payload.email_marketing_consent = consent && { ...consent, opt_in_level: 'single_opt_in' };
  if (birthDate) {
    payload.metafields = [
      { namespace: 'facts', key: 'birth_date', value: birthDate, type: 'date' },
    ];
  }
  return payload;
}

async function explainedBonuses() {
  const id = await stack.customerId(ada);
  return (await entriesFor(stack.db, stack.shop.id, id))
    .filter((e) => e.source === 'bonus')
    .map((e) => ({
      key: e.idempotencyKey,
      en: explainEntry({ ...e, orderName: null }, { locale: 'en', shopCurrency: 'USD' }),
      fr: explainEntry({ ...e, orderName: null }, { locale: 'fr', shopCurrency: 'USD' }),
    }));
}

describe('customers webhooks', () => {
  it('sign-up, newsletter and birthday bonuses, each once and explained', async () => {
    // The webhook is processed now (machine clock): a birthday this month is awarded at once.
    const now = new Date();
    const thisMonth = `1990-${pad(now.getUTCMonth() + 1)}-01`;
    const subscribed = { state: 'subscribed', consent_updated_at: '2026-02-01T10:00:00Z' };
    const { outcome } = await stack.deliver('customers/create', body(subscribed, thisMonth));
    expect(outcome).toMatchObject({ status: 'processed' });
    const year = new Date().getUTCFullYear();
    expect(await explainedBonuses()).toEqual([
      {
        key: `customer:${ada.id}:signup`,
        en: 'Welcome bonus → 100 points',
        fr: 'Bonus de bienvenue → 100 points',
      },
      {
        key: `newsletter:${ada.id}`,
        en: 'Newsletter sign-up bonus → 50 points',
        fr: 'Bonus d’inscription à la newsletter → 50 points',
      },
      {
        key: `birthday:${ada.id}:${year}`,
        en: 'Birthday bonus → 200 points',
        fr: 'Bonus d’anniversaire → 200 points',
      },
    ]);
    // Shopify retries and later updates: nothing more.
    await stack.deliver('customers/create', body(subscribed, thisMonth));
    await stack.deliver('customers/update', body(subscribed, thisMonth));
    expect(await stack.balance(ada)).toBe(350);
    const stored = await getBirthday(stack.db, stack.shop.id, await stack.customerId(ada));
    expect(stored).toMatchObject({ month: now.getUTCMonth() + 1, day: 1, source: 'metafield' });
  });

  it('the newsletter bonus waits for `subscribed` and survives unsubscribing', async () => {
    await stack.deliver(
      'customers/create',
      body({ state: 'not_subscribed', consent_updated_at: null }),
    );
    expect(await stack.balance(ada)).toBe(100);
    await stack.deliver(
      'customers/update',
      body({ state: 'subscribed', consent_updated_at: '2026-03-04T12:00:00Z' }),
    );
    expect(await stack.balance(ada)).toBe(150);
    await stack.deliver(
      'customers/update',
      body({ state: 'unsubscribed', consent_updated_at: '2026-03-05T12:00:00Z' }),
    );
    await stack.deliver(
      'customers/update',
      body({ state: 'subscribed', consent_updated_at: '2026-03-06T12:00:00Z' }),
    );
    expect(await stack.balance(ada)).toBe(150);
    const [newsletter] = (await explainedBonuses()).filter((e) => e.key.startsWith('newsletter'));
    expect(newsletter).toBeDefined();
  });

  it('a birthday in another month is stored, not awarded; redaction forgets it', async () => {
    const other = ((new Date().getUTCMonth() + 6) % 12) + 1;
    await stack.deliver(
      'customers/create',
      body({ state: 'not_subscribed', consent_updated_at: null }, `1985-${pad(other)}-15`),
    );
    const id = await stack.customerId(ada);
    expect(await getBirthday(stack.db, stack.shop.id, id)).toMatchObject({ month: other, day: 15 });
    expect((await explainedBonuses()).map((e) => e.key)).toEqual([`customer:${ada.id}:signup`]);
    await stack.deliver(
      'customers/redact',
      customersRedactPayload({
        shopDomain: stack.shop.domain,
        customer: { id: ada.id, email: ada.email, phone: ada.phone },
      }),
    );
    expect(await getBirthday(stack.db, stack.shop.id, id)).toBeNull();
  });
});

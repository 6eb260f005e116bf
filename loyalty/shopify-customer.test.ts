import { describe, expect, it } from 'vitest';
import { customerPayload } from '../tests/fixtures/shopify';
import { edited, issuesOf, type Json } from '../tests/helpers/shopify-payload';
import { parseCustomerPayload } from './shopify-customer';

describe('parseCustomerPayload', () => {
  it('reads a customers/create body', () => {
    const body = customerPayload({
      id: 7_301_234_567_890,
      email: 'Grace@Example.com',
      firstName: 'Grace',
      lastName: 'Hopper',
      createdAt: '2026-02-01T08:00:00-05:00',
    });
    expect(parseCustomerPayload(body)).toEqual({
      id: '7301234567890',
      adminGraphqlId: 'gid://shopify/Customer/7301234567890',
      email: 'grace@example.com',
      firstName: 'Grace',
      lastName: 'Hopper',
      phone: null,
      state: 'enabled',
      verifiedEmail: true,
      birthday: null,
      emailMarketingConsent: { state: 'not_subscribed', consentUpdatedAt: null },
      createdAt: Date.UTC(2026, 1, 1, 13),
      updatedAt: Date.UTC(2026, 1, 1, 13),
      addresses: [
        {
          address1: '1 Analytical Row',
          address2: null,
          city: 'Ottawa',
          zip: 'K1A 0B1',
          countryCode: 'CA',
        },
      ],
      addressPhones: [],
    });
  });

  it('reads the default address and the address book once each, with their phones', () => {
    const body = customerPayload({ id: 44 });
    const home = body.default_address as Record<string, unknown>;
    body.addresses = [
      { ...home, phone: '+1 613 555 0100' },
      {
        address1: '9 Quai Voltaire',
        address2: 'Bât. B',
        city: 'Paris',
        zip: '75007',
        country_code: 'FR',
        phone: null,
      },
      { address1: null, address2: null, city: null, zip: null, country_code: null },
    ];
    const facts = parseCustomerPayload(body);
    expect(facts.addresses).toEqual([
      {
        address1: '1 Analytical Row',
        address2: null,
        city: 'Ottawa',
        zip: 'K1A 0B1',
        countryCode: 'CA',
      },
      {
        address1: '9 Quai Voltaire',
        address2: 'Bât. B',
        city: 'Paris',
        zip: '75007',
        countryCode: 'FR',
      },
    ]);
    expect(facts.addressPhones).toEqual(['+1 613 555 0100']);
    expect(
      parseCustomerPayload({ ...body, default_address: null, addresses: [] }).addresses,
    ).toEqual([]);
    expect(
      issuesOf(parseCustomerPayload, { ...body, addresses: [{ zip: 7 }], default_address: [] }),
    ).toEqual([
      { path: 'default_address', message: 'must be an object or null' },
      { path: 'addresses[0].zip', message: 'must be a string' },
    ]);
  });

  it('reads verified_email as a boolean, false when absent', () => {
    const body = customerPayload({ id: 43 });
    expect(parseCustomerPayload({ ...body, verified_email: false }).verifiedEmail).toBe(false);
    expect(parseCustomerPayload({ ...body, verified_email: undefined }).verifiedEmail).toBe(false);
    expect(issuesOf(parseCustomerPayload, { ...body, verified_email: 'yes' })).toEqual([
      { path: 'verified_email', message: 'must be true or false' },
    ]);
  });

  it('takes the birthday from a facts.birth_date metafield when there is one', () => {
    const body = customerPayload({ id: 42, birthday: '1990-07-14' });
    expect(parseCustomerPayload(body).birthday).toBe('1990-07-14');
    const bad = edited(body, (c) => ((c.metafields as Json[])[0]!.value = '1990-02-30'));
    expect(issuesOf(parseCustomerPayload, bad)).toEqual([
      { path: 'metafields[0].value', message: 'is not a date (YYYY-MM-DD)' },
    ]);
  });

  it('reads the email marketing consent for the newsletter bonus, and names a bad time', () => {
    const body = edited(customerPayload({ id: 42 }), (c) => {
      c.email_marketing_consent = {
        state: 'subscribed',
        opt_in_level: 'confirmed_opt_in',
        consent_updated_at: '2026-03-04T07:00:00-05:00',
      };
    });
    expect(parseCustomerPayload(body).emailMarketingConsent).toEqual({
      state: 'subscribed',
      consentUpdatedAt: '2026-03-04T12:00:00.000Z',
    });
    const noEmail = customerPayload({ id: 42, email: null });
    expect(parseCustomerPayload(noEmail).emailMarketingConsent).toBeNull();
    const bad = edited(body, (c) => {
      (c.email_marketing_consent as Json).consent_updated_at = 'yesterday';
    });
    expect(issuesOf(parseCustomerPayload, bad)).toEqual([
      {
        path: 'email_marketing_consent.consent_updated_at',
        message: 'is not an ISO 8601 timestamp with an offset, e.g. 2026-03-14T10:15:00-04:00',
      },
    ]);
  });

  it('accepts the null timestamps and email Shopify sends for some customers', () => {
    const body = edited(customerPayload({ id: 42, email: null }), (c) => {
      c.created_at = null;
      c.updated_at = null;
    });
    expect(parseCustomerPayload(body)).toMatchObject({
      email: null,
      createdAt: null,
      updatedAt: null,
    });
  });

  it('names a bad id', () => {
    const body = edited(customerPayload({ id: 42 }), (c) => (c.id = -3));
    expect(issuesOf(parseCustomerPayload, body)).toEqual([
      { path: 'id', message: 'is not a positive integer id' },
    ]);
  });
});

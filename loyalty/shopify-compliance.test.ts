import { describe, expect, it } from 'vitest';
import {
  customersDataRequestPayload,
  customersRedactPayload,
  shopRedactPayload,
} from '../tests/fixtures/shopify';
import { edited, issuesOf } from '../tests/helpers/shopify-payload';
import {
  parseCustomersDataRequestPayload,
  parseCustomersRedactPayload,
  parseShopRedactPayload,
} from './shopify-compliance';

describe('compliance payloads', () => {
  const shopDomain = 'laurel-demo.myshopify.com';

  it('reads customers/redact', () => {
    const body = customersRedactPayload({
      shopDomain,
      shopId: 954_889,
      customer: { id: 191_167, email: 'John@Example.com', phone: '555-625-1199' },
      ordersToRedact: [299_938, 280_263, 220_458],
    });
    expect(parseCustomersRedactPayload(body)).toEqual({
      shopId: '954889',
      shopDomain,
      customer: { id: '191167', email: 'john@example.com', phone: '555-625-1199' },
      ordersToRedact: ['299938', '280263', '220458'],
    });
  });

  it('accepts a customer identified by email only, but not by nothing', () => {
    const emailOnly = customersRedactPayload({
      shopDomain,
      customer: { email: 'john@example.com' },
    });
    expect(parseCustomersRedactPayload(emailOnly).customer).toEqual({
      id: null,
      email: 'john@example.com',
      phone: null,
    });
    const nobody = customersRedactPayload({ shopDomain, customer: {} });
    expect(issuesOf(parseCustomersRedactPayload, nobody)).toEqual([
      { path: 'customer', message: 'needs an id or an email to identify the customer' },
    ]);
  });

  it('reads customers/data_request', () => {
    const body = customersDataRequestPayload({
      shopDomain,
      shopId: 954_889,
      customer: { id: 191_167, email: 'john@example.com' },
      ordersRequested: [299_938],
      dataRequestId: 9_999,
    });
    expect(parseCustomersDataRequestPayload(body)).toEqual({
      shopId: '954889',
      shopDomain,
      customer: { id: '191167', email: 'john@example.com', phone: null },
      ordersRequested: ['299938'],
      dataRequestId: '9999',
    });
    expect(
      issuesOf(
        parseCustomersDataRequestPayload,
        edited(body, (b) => delete b.data_request),
      ),
    ).toEqual([{ path: 'data_request', message: 'is required' }]);
  });

  it('reads shop/redact and names a domain that is not a shop', () => {
    expect(parseShopRedactPayload(shopRedactPayload({ shopDomain, shopId: 954_889 }))).toEqual({
      shopId: '954889',
      shopDomain,
    });
    expect(
      issuesOf(
        parseShopRedactPayload,
        shopRedactPayload({ shopDomain: 'evil.example.com', shopId: 1 }),
      ),
    ).toEqual([
      {
        path: 'shop_domain',
        message: 'is not a myshopify.com domain such as example.myshopify.com',
      },
    ]);
  });
});

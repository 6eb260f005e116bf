/**
 * The dev server's app proxy stand-in (app/dev-app-proxy.server.ts) carries a redeem POST as
 * Shopify's proxy does: the JSON body and the Idempotency-Key header reach the route, under a
 * signature the route verifies.
 */
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  Object.assign(process.env, { LOG_LEVEL: 'silent' });
});

import { readProxyJson, verifyAppProxyRequest } from '../../app/app-proxy.server';
import { signAsAppProxy } from '../../app/dev-app-proxy.server';
import { readRedeemBody } from '../../app/storefront-rewards.server';

const SECRET = 'laurel-dev-secret';
const SHOP = 'laurel-demo.myshopify.com';

describe('the app proxy stand-in', () => {
  it('forwards a POST with its JSON body and Idempotency-Key, signed', async () => {
    const storefront = new Request('http://127.0.0.1:3000/apps/loyalty/redeem?locale=fr', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Idempotency-Key': 'dev-request-0001',
        Cookie: 'secret_session=1',
      },
      body: JSON.stringify({ rewardId: '12' }),
    });
    const signed = signAsAppProxy(storefront, 'redeem', {
      shop: SHOP,
      secret: SECRET,
      customerId: '7001',
    });
    expect(new URL(signed.url).pathname).toBe('/proxy/redeem');
    expect(signed.method).toBe('POST');
    expect(signed.headers.get('Cookie')).toBeNull();
    const proxy = verifyAppProxyRequest(signed, { secret: SECRET });
    expect(proxy).toMatchObject({ shop: SHOP, customerId: '7001' });
    const body = readRedeemBody(await readProxyJson(signed), signed.headers);
    expect(body).toEqual({ rewardId: 12, requestId: 'dev-request-0001' });
  });
});

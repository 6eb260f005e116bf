// shopify.app.toml ↔ app/routes: every webhook subscription is handled by a route file named in
// the comment above it, and every webhook route file is subscribed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';

interface Subscription {
  topics?: string[];
  compliance_topics?: string[];
  uri: string;
}
interface AppToml {
  embedded: boolean;
  access_scopes: { scopes: string };
  webhooks: { api_version: string; subscriptions: Subscription[] };
  app_proxy: { url: string; subpath: string; prefix: string };
}

const text = readFileSync('shopify.app.toml', 'utf8');
const toml = parse(text) as unknown as AppToml;
const subscriptions = toml.webhooks.subscriptions;

/** Flat-route file for a URL path: /webhooks/orders/paid → app/routes/webhooks.orders.paid.tsx */
const routeFileFor = (uri: string) =>
  `app/routes/${uri.replace(/^\//, '').split('/').join('.')}.tsx`;

describe('shopify.app.toml', () => {
  it('is an embedded app on API 2026-07 with the scopes Laurel uses', () => {
    expect(toml.embedded).toBe(true);
    expect(toml.webhooks.api_version).toBe('2026-07');
    expect(toml.access_scopes.scopes.split(',')).toEqual(
      expect.arrayContaining([
        'read_customers',
        'write_customers',
        'read_orders',
        'write_discounts',
        'write_store_credit_account_transactions',
      ]),
    );
    expect(toml.app_proxy).toMatchObject({ subpath: 'loyalty', prefix: 'apps' });
    expect(new URL(toml.app_proxy.url).pathname).toBe('/proxy');
    expect(existsSync('app/routes/proxy.tsx')).toBe(true);
  });

  it('gives every subscription one topic, its own uri and an existing route file', () => {
    const uris = new Set<string>();
    for (const subscription of subscriptions) {
      const topics = [...(subscription.topics ?? []), ...(subscription.compliance_topics ?? [])];
      expect(topics).toHaveLength(1);
      expect(subscription.uri).toBe(`/webhooks/${topics[0]}`);
      expect(existsSync(routeFileFor(subscription.uri)), routeFileFor(subscription.uri)).toBe(true);
      expect(uris.has(subscription.uri)).toBe(false);
      uris.add(subscription.uri);
    }
  });

  it('names the handling route file in a comment above each subscription', () => {
    const blocks = text.split('[[webhooks.subscriptions]]');
    subscriptions.forEach((subscription, i) => {
      const before = blocks[i]!.trimEnd().split('\n').at(-1)!.trim();
      expect(before).toBe(`# ${routeFileFor(subscription.uri)}`);
    });
  });

  it('subscribes every webhook route file', () => {
    const files = readdirSync('app/routes').filter((f) => /^webhooks\..+\.tsx$/.test(f));
    const subscribed = subscriptions.map((s) => routeFileFor(s.uri));
    expect(files.map((f) => `app/routes/${f}`).sort()).toEqual([...subscribed].sort());
  });

  it('declares the three compliance topics, each to its own route', () => {
    const compliance = subscriptions.flatMap((s) => s.compliance_topics ?? []);
    expect(compliance.sort()).toEqual([
      'customers/data_request',
      'customers/redact',
      'shop/redact',
    ]);
  });
});

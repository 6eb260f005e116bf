import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv, parseShopifyEnv } from './env.server';

const SHOPIFY = {
  SHOPIFY_API_KEY: 'key',
  SHOPIFY_API_SECRET: 'secret',
  SHOPIFY_APP_URL: 'https://laurel.example.com',
  SCOPES: 'read_orders',
};

describe('NODE_ENV', () => {
  it('is production when unset or empty, for the web process and the worker alike', () => {
    expect(parseShopifyEnv(SHOPIFY).NODE_ENV).toBe('production');
    expect(parseEnv({}).NODE_ENV).toBe('production');
    expect(parseEnv({ NODE_ENV: '' }).NODE_ENV).toBe('production');
  });

  it('is whatever it is told among development, test and production', () => {
    expect(parseEnv({ NODE_ENV: 'development' }).NODE_ENV).toBe('development');
    expect(parseEnv({ NODE_ENV: 'test' }).NODE_ENV).toBe('test');
    expect(() => parseEnv({ NODE_ENV: 'staging' })).toThrow(EnvError);
  });
});

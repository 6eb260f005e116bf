/**
 * Shared by the Shopify payload parser tests (loyalty/shopify-*.test.ts): what a parser refuses,
 * and one-edit copies of a fixture.
 */
import { expect } from 'vitest';
import { ShopifyPayloadError, type PayloadIssue } from '../../loyalty/shopify-payload';

export type Json = Record<string, unknown>;

/** The issues a parser reports for `json` (fails the test if it does not throw). */
export function issuesOf(parse: (json: unknown) => unknown, json: unknown): PayloadIssue[] {
  try {
    parse(json);
  } catch (error) {
    expect(error).toBeInstanceOf(ShopifyPayloadError);
    return (error as ShopifyPayloadError).issues;
  }
  throw new Error('expected the payload to be rejected');
}

/** A deep copy with `edit` applied, so each test breaks exactly one thing. */
export function edited(payload: Json, edit: (copy: Json) => void): Json {
  const copy = structuredClone(payload);
  edit(copy);
  return copy;
}

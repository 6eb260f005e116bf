/**
 * Shopify customers/create|update bodies (REST shape) → the customer facts Laurel's workers act
 * on. Pure: no I/O. The error type and the shared conversions (ids, timestamps, text) are in
 * shopify-payload.ts, with the rules every parser follows.
 */
import { z } from 'zod';
import type { AddressFacts } from './contact-keys';
import {
  address,
  addressFacts,
  fail,
  id,
  idString,
  type Issues,
  normaliseEmail,
  normaliseText,
  optionalEpochMs,
  structure,
  text,
  timestamp,
} from './shopify-payload';

export interface CustomerFacts {
  id: string;
  adminGraphqlId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  /** `disabled`, `invited`, `enabled`, `declined`; null when absent. */
  state: string | null;
  /** `verified_email`: the shopper proved they own `email`. False when absent. */
  verifiedEmail: boolean;
  /**
   * `YYYY-MM-DD`. REST customers have no birthday field: taken from a `metafields` entry
   * `facts.birth_date` when the subscription includes that namespace; null otherwise.
   */
  birthday: string | null;
  /**
   * `email_marketing_consent`: its `state` (`subscribed`, `not_subscribed`, `unsubscribed`,
   * `pending`, …) and `consent_updated_at` (ISO text, or null); null when the body has none
   * (no email). The newsletter bonus reads it (docs/bonuses.md).
   */
  emailMarketingConsent: { state: string; consentUpdatedAt: string | null } | null;
  createdAt: number | null;
  updatedAt: number | null;
  /**
   * The account's addresses (`default_address` and `addresses`, each once) and their phones, for
   * the referral fraud rules (docs/referrals.md): Laurel keeps them only as keyed hashes.
   */
  addresses: AddressFacts[];
  addressPhones: string[];
}

const customerSchema = z.looseObject(
  {
    id,
    admin_graphql_api_id: text.nullish(),
    email: text.nullish(),
    first_name: text.nullish(),
    last_name: text.nullish(),
    phone: text.nullish(),
    state: text.nullish(),
    verified_email: z.boolean({ error: 'must be true or false' }).nullish(),
    created_at: timestamp.nullish(),
    updated_at: timestamp.nullish(),
    default_address: address.nullish(),
    addresses: z.array(address, { error: 'must be an array' }).nullish(),
    email_marketing_consent: z
      .looseObject(
        { state: text.nullish(), consent_updated_at: timestamp.nullish() },
        { error: 'must be an object' },
      )
      .nullish(),
    metafields: z
      .array(
        z.looseObject(
          { namespace: text.nullish(), key: text.nullish(), value: z.unknown() },
          { error: 'must be an object' },
        ),
        { error: 'must be an array' },
      )
      .nullish(),
  },
  { error: 'must be a JSON object' },
);

const BIRTHDAY_NAMESPACE = 'facts';
const BIRTHDAY_KEY = 'birth_date';
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

function isRealDate(value: string): boolean {
  const m = DATE_ONLY.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
  );
}

/** Parses a customers/create|update body. */
export function parseCustomerPayload(json: unknown): CustomerFacts {
  const issues: Issues = [];
  const raw = structure(customerSchema, json, '', issues);
  if (!raw) fail('customer', issues);

  const customerId = idString(raw.id, 'id', issues, {
    value: raw.admin_graphql_api_id,
    type: 'Customer',
    path: 'admin_graphql_api_id',
  });
  const createdAt = optionalEpochMs(raw.created_at, 'created_at', issues);
  const updatedAt = optionalEpochMs(raw.updated_at, 'updated_at', issues);
  const consent = raw.email_marketing_consent;
  const consentUpdatedAt = optionalEpochMs(
    consent?.consent_updated_at,
    'email_marketing_consent.consent_updated_at',
    issues,
  );

  let birthday: string | null = null;
  (raw.metafields ?? []).forEach((metafield, i) => {
    if (metafield.namespace !== BIRTHDAY_NAMESPACE || metafield.key !== BIRTHDAY_KEY) return;
    if (metafield.value == null || metafield.value === '') return;
    if (typeof metafield.value === 'string' && isRealDate(metafield.value)) {
      birthday = metafield.value;
    } else {
      issues.push({
        path: `metafields[${i}].value`,
        message: 'is not a date (YYYY-MM-DD)',
      });
    }
  });

  if (issues.length > 0) fail('customer', issues);
  const addresses = new Map<string, AddressFacts>();
  const addressPhones = new Set<string>();
  for (const entry of [raw.default_address, ...(raw.addresses ?? [])]) {
    if (entry == null) continue;
    const facts = addressFacts(entry);
    if (facts) addresses.set(JSON.stringify(facts), facts);
    const phone = normaliseText(entry.phone);
    if (phone !== null) addressPhones.add(phone);
  }
  return {
    id: customerId!,
    adminGraphqlId: raw.admin_graphql_api_id ?? `gid://shopify/Customer/${customerId}`,
    email: normaliseEmail(raw.email),
    firstName: normaliseText(raw.first_name),
    lastName: normaliseText(raw.last_name),
    phone: normaliseText(raw.phone),
    state: raw.state ?? null,
    verifiedEmail: raw.verified_email === true,
    birthday,
    emailMarketingConsent:
      consent?.state != null
        ? {
            state: consent.state,
            consentUpdatedAt:
              consentUpdatedAt == null ? null : new Date(consentUpdatedAt).toISOString(),
          }
        : null,
    createdAt: createdAt ?? null,
    updatedAt: updatedAt ?? null,
    addresses: [...addresses.values()],
    addressPhones: [...addressPhones],
  };
}

/**
 * Contact details and IP addresses as keyed hashes (docs/referrals.md, "Fraud rules";
 * docs/privacy.md): the fraud rules need to know whether two customers share an address, a phone
 * or a mailbox, never what it is. Each shop has its own random key (shop_fingerprint_keys), so a
 * hash means nothing outside its shop and cannot be looked up in a table of known values without
 * the database's key too.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';
import { customerFingerprints, shopFingerprintKeys } from '../../db/schema';
import {
  addressKey,
  matchableEmail,
  phoneKey,
  type AddressFacts,
} from '../../loyalty/contact-keys';
import type { ReferralParty } from '../../loyalty/referrals';

export type FingerprintKind = 'email' | 'address' | 'phone' | 'ip';

/** The shop's fingerprint key, made on first use (concurrent first uses agree on one). */
export async function fingerprintKeyOf(db: Executor, shopId: number): Promise<string> {
  await db
    .insert(shopFingerprintKeys)
    .values({ shopId, key: randomBytes(32).toString('hex') })
    .onConflictDoNothing();
  const [row] = await db
    .select({ key: shopFingerprintKeys.key })
    .from(shopFingerprintKeys)
    .where(eq(shopFingerprintKeys.shopId, shopId));
  return row!.key;
}

/** The keyed hash of an already-normalised value (128 bits, hex). */
export function fingerprint(key: string, kind: FingerprintKind, normalised: string): string {
  return createHmac('sha256', Buffer.from(key, 'hex'))
    .update(`${kind}\0${normalised}`)
    .digest('hex')
    .slice(0, 32);
}

/** What a payload says about someone's contact details, before normalising. */
export interface ContactFacts {
  emails?: readonly (string | null)[];
  addresses?: readonly (AddressFacts | null)[];
  phones?: readonly (string | null)[];
}

/** The fingerprints of `contact` under the shop's key, normalised by loyalty/contact-keys.ts. */
export function contactFingerprints(
  key: string,
  contact: ContactFacts,
): { kind: 'email' | 'address' | 'phone'; hash: string }[] {
  const out = new Map<string, { kind: 'email' | 'address' | 'phone'; hash: string }>();
  const add = (kind: 'email' | 'address' | 'phone', normalised: string | null) => {
    if (normalised === null) return;
    const hash = fingerprint(key, kind, normalised);
    out.set(`${kind}:${hash}`, { kind, hash });
  };
  for (const email of contact.emails ?? []) if (email) add('email', matchableEmail(email));
  for (const address of contact.addresses ?? []) if (address) add('address', addressKey(address));
  for (const phone of contact.phones ?? []) if (phone) add('phone', phoneKey(phone));
  return [...out.values()];
}

/** Records a customer's contact fingerprints (those already known are kept once). */
export async function recordFingerprints(
  db: Executor,
  shopId: number,
  customerId: number,
  contact: ContactFacts,
): Promise<void> {
  const prints = contactFingerprints(await fingerprintKeyOf(db, shopId), contact);
  if (prints.length === 0) return;
  await db
    .insert(customerFingerprints)
    .values(prints.map((p) => ({ shopId, customerId, ...p })))
    .onConflictDoNothing();
}

/**
 * Each customer's recorded fingerprints as the fraud rules compare them (loyalty/referrals.ts
 * ReferralParty, without the customer id: the caller sets it).
 */
export async function fingerprintsOf(
  db: Executor,
  shopId: number,
  customerIds: readonly number[],
): Promise<Map<number, Omit<ReferralParty, 'customerId'>>> {
  const result = new Map<number, { emails: string[]; addresses: string[]; phones: string[] }>();
  for (const id of customerIds) result.set(id, { emails: [], addresses: [], phones: [] });
  if (customerIds.length === 0) return result;
  const rows = await db
    .select()
    .from(customerFingerprints)
    .where(
      and(
        eq(customerFingerprints.shopId, shopId),
        inArray(customerFingerprints.customerId, [...customerIds]),
      ),
    );
  for (const row of rows) {
    const party = result.get(row.customerId)!;
    if (row.kind === 'email') party.emails.push(row.hash);
    else if (row.kind === 'address') party.addresses.push(row.hash);
    else if (row.kind === 'phone') party.phones.push(row.hash);
  }
  return result;
}

/** Deletes a customer's fingerprints (their redaction: docs/privacy.md). */
export async function forgetFingerprints(
  db: Executor,
  shopId: number,
  customerId: number,
): Promise<void> {
  await db
    .delete(customerFingerprints)
    .where(
      and(eq(customerFingerprints.shopId, shopId), eq(customerFingerprints.customerId, customerId)),
    );
}

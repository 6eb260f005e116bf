/**
 * Contact details and IP addresses as comparable keys: two ways of writing one mailbox, one street
 * address, one phone number or one IP address give one key. The referral fraud rules compare
 * customers by these keys (docs/referrals.md, "Fraud rules"), hashed under the shop's key before
 * they are stored (app/models/fingerprints.server.ts). Pure: no I/O.
 */
import { isIP } from 'node:net';

/** Providers that deliver `name+anything@` to `name@` (sub-addressing). */
const PLUS_TAG_DOMAINS = new Set([
  'gmail.com',
  'googlemail.com',
  'outlook.com',
  'hotmail.com',
  'live.com',
  'msn.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'fastmail.com',
  'fastmail.fm',
  'protonmail.com',
  'proton.me',
  'pm.me',
]);
/** Providers that ignore dots in the local part. */
const DOTLESS_DOMAINS = new Set(['gmail.com', 'googlemail.com']);
const DOMAIN_ALIASES: Readonly<Record<string, string>> = { 'googlemail.com': 'gmail.com' };

/**
 * The mailbox an email address delivers to, for comparing two addresses: case folded everywhere;
 * `+tags` dropped where the provider ignores them; dots dropped where the provider does (Gmail);
 * googlemail.com read as gmail.com. Other domains keep their local part whole (a `+` or a dot may
 * name another mailbox there). Null for text that is not an address.
 */
export function matchableEmail(email: string): string | null {
  const folded = email.trim().toLowerCase();
  const at = folded.lastIndexOf('@');
  if (at <= 0 || at === folded.length - 1) return null;
  let local = folded.slice(0, at);
  let domain = folded.slice(at + 1).replace(/\.$/, '');
  domain = DOMAIN_ALIASES[domain] ?? domain;
  if (PLUS_TAG_DOMAINS.has(domain)) local = local.split('+')[0]!;
  if (DOTLESS_DOMAINS.has(domain)) local = local.replace(/\./g, '');
  return local === '' ? null : `${local}@${domain}`;
}

export interface AddressFacts {
  address1: string | null;
  address2: string | null;
  city: string | null;
  zip: string | null;
  /** ISO 3166-1 alpha-2. */
  countryCode: string | null;
}

const foldText = (text: string) =>
  text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/**
 * A postal address as a comparable key — street lines, postcode and country, folded (case,
 * accents, punctuation, spacing) — or null when it has no street or no postcode to compare. The
 * city is left out: "NYC" and "New York" are one place, and the postcode already says it.
 */
export function addressKey(address: AddressFacts): string | null {
  const street = foldText([address.address1 ?? '', address.address2 ?? ''].join(' '));
  const zip = (address.zip ?? '').toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (street === '' || zip === '') return null;
  return `${(address.countryCode ?? '').toUpperCase()}|${zip}|${street}`;
}

/**
 * A phone number as a comparable key: its last ten digits (country code and trunk prefix
 * formats differ, the subscriber number does not), or null when it has fewer than seven digits.
 */
export function phoneKey(phone: string): string | null {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 7) return null;
  return digits.slice(-10);
}

/**
 * An IP address as the per-IP limit compares it: trimmed, lower case (IPv6 hex), an IPv4 address
 * mapped into IPv6 (`::ffff:203.0.113.7`) read as the IPv4 one — so an order's `browser_ip` and a
 * landing's forwarded address match however each was written. Null for text that is not one.
 */
export function ipKey(text: string | null | undefined): string | null {
  const trimmed = (text ?? '').trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(trimmed);
  const ip = mapped ? mapped[1]! : trimmed;
  return isIP(ip) === 0 ? null : ip;
}

// Both locales have the same messages and placeholders, every plural form their language needs,
// every message the source asks for and no other.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { EXTENSION_DIR, LOCALES } from './helpers/host';

type Messages = { [key: string]: string | Messages };

const PLURAL_FORMS = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);
const isPlural = (value: Messages) => Object.keys(value).every((key) => PLURAL_FORMS.has(key));

function flatten(messages: Messages, prefix = ''): Map<string, string | Record<string, string>> {
  const flat = new Map<string, string | Record<string, string>>();
  for (const [key, value] of Object.entries(messages)) {
    const path = prefix + key;
    if (typeof value === 'string') flat.set(path, value);
    else if (isPlural(value)) flat.set(path, value as Record<string, string>);
    else for (const [inner, message] of flatten(value, `${path}.`)) flat.set(inner, message);
  }
  return flat;
}

const placeholders = (message: string) =>
  [...message.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((match) => match[1]).sort();

const en = flatten(LOCALES.en as Messages);
const fr = flatten(LOCALES.fr as Messages);

const source = readdirSync(`${EXTENSION_DIR}src`)
  .map((file) => readFileSync(`${EXTENSION_DIR}src/${file}`, 'utf8'))
  .join('\n');
// t('key', …) and pointsText('key', …); the earn line picks one of two keys in a ternary.
const used = {
  plain: new Set([...source.matchAll(/\bt\('([\w.]+)'/g)].map((match) => match[1] ?? '')),
  plural: new Set([
    ...[...source.matchAll(/\bpointsText\('([\w.]+)'/g)].map((match) => match[1] ?? ''),
    ...[...source.matchAll(/\? '(earn\.\w+)' : '(earn\.\w+)'/g)].flatMap((m) => [m[1]!, m[2]!]),
  ]),
};

test('the locale folder holds exactly the default English and French', () => {
  expect(readdirSync(`${EXTENSION_DIR}locales`).sort()).toEqual(['en.default.json', 'fr.json']);
});

test('the source names messages (the scan below is not looking at nothing)', () => {
  expect(used.plain.size).toBeGreaterThanOrEqual(12);
  expect([...used.plural].sort()).toEqual(['earn.signIn', 'earn.signedIn', 'rewards.balance']);
});

describe.each([
  ['en', en],
  ['fr', fr],
])('%s', (language, messages) => {
  test('has the same messages as English', () => {
    expect([...messages.keys()].sort()).toEqual([...en.keys()].sort());
  });

  test('has every message the source asks for, of the right kind', () => {
    for (const key of used.plain) expect(typeof messages.get(key), key).toBe('string');
    for (const key of used.plural) expect(typeof messages.get(key), key).toBe('object');
  });

  test('has no message the source never asks for', () => {
    for (const key of messages.keys()) {
      expect(used.plain.has(key) || used.plural.has(key), key).toBe(true);
    }
  });

  test("plural messages have every form the language's plural rules select", () => {
    const forms = new Intl.PluralRules(language).resolvedOptions().pluralCategories;
    for (const [key, message] of messages) {
      if (typeof message === 'string') continue;
      for (const form of forms) expect(message[form], `${key}.${form}`).toBeTypeOf('string');
    }
  });

  test('uses the same {{placeholders}} as English', () => {
    for (const [key, message] of messages) {
      const english = en.get(key);
      const expected = placeholders(typeof english === 'string' ? english : (english?.other ?? ''));
      const variants = typeof message === 'string' ? [message] : Object.values(message);
      for (const variant of variants) expect(placeholders(variant), key).toEqual(expected);
    }
  });
});

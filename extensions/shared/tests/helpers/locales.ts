/**
 * The locale checks every Laurel UI extension runs on its own locales/ and src/: both locales have
 * the same messages and placeholders, every plural form their language needs, every message the
 * source asks for and no other. Call {@link testLocales} at the top level of the extension's
 * locales.test.ts; `sourceNamesMessages` holds that extension's own check that the source scan
 * found what it should (so the checks below are not looking at nothing).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Messages } from './host';

const PLURAL_FORMS = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);
const isPlural = (value: Messages) => Object.keys(value).every((key) => PLURAL_FORMS.has(key));

/** key → string, or key → { form → string } for a pluralised message. */
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

/** The message keys the source names: plain strings, and pluralised ones (picked by `count`). */
export interface UsedMessages {
  plain: Set<string>;
  plural: Set<string>;
}

export interface LocaleChecks {
  /** The folder holding locales/ and src/. */
  extensionDir: string;
  /** The extension's locale files, `en` and `fr`. */
  locales: Record<string, Messages>;
  /**
   * Patterns that name a pluralised message in the source, beyond `pointsText('key', …)`; every
   * capture group is a key (the checkout's earn line picks one of two keys in a ternary).
   */
  pluralPatterns?: RegExp[];
  /** The extension's own assertions on what the scan found. */
  sourceNamesMessages: (used: UsedMessages) => void;
}

/** Every call that names a message in the source: t('key', …), pointsText('key', …) and `pluralPatterns`. */
function usedMessages(sourceDir: string, pluralPatterns: RegExp[]): UsedMessages {
  const source = readdirSync(sourceDir)
    .map((file) => readFileSync(join(sourceDir, file), 'utf8'))
    .join('\n');
  const keys = (pattern: RegExp) =>
    [...source.matchAll(pattern)].flatMap((match) => match.slice(1).map((key) => key ?? ''));
  return {
    plain: new Set(keys(/\bt\('([\w.]+)'/g)),
    plural: new Set([/\bpointsText\('([\w.]+)'/g, ...pluralPatterns].flatMap(keys)),
  };
}

export function testLocales({
  extensionDir,
  locales,
  pluralPatterns = [],
  sourceNamesMessages,
}: LocaleChecks): void {
  const en = flatten(locales.en as Messages);
  const fr = flatten(locales.fr as Messages);
  const used = usedMessages(join(extensionDir, 'src'), pluralPatterns);

  test('the locale folder holds exactly the default English and French', () => {
    expect(readdirSync(join(extensionDir, 'locales')).sort()).toEqual([
      'en.default.json',
      'fr.json',
    ]);
  });

  test('the source names messages (the scan below is not looking at nothing)', () => {
    sourceNamesMessages(used);
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
        const expected = placeholders(
          typeof english === 'string' ? english : (english?.other ?? ''),
        );
        const variants = typeof message === 'string' ? [message] : Object.values(message);
        for (const variant of variants) expect(placeholders(variant), key).toEqual(expected);
      }
    });
  });
}

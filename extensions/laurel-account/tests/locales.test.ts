// Both locales have the same messages and placeholders, every plural form their language needs,
// every message the source asks for and no other (the shared checks, on this extension's files).
import { expect } from 'vitest';
import { testLocales } from '../../shared/tests/helpers/locales';
import { EXTENSION_DIR, LOCALES } from './helpers/host';

testLocales({
  extensionDir: EXTENSION_DIR,
  locales: LOCALES,
  sourceNamesMessages: (used) => {
    expect(used.plain.size).toBeGreaterThan(10);
    expect(used.plural.size).toBeGreaterThanOrEqual(3);
  },
});

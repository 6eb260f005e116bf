/**
 * Every storefront string and theme-editor label exists in every language, none is dead, and the
 * ones the blocks put in attributes cannot break out of them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createStorefrontEngine,
  DEFAULT_EXTENSION_DIR,
  readLocales,
} from '../../dev/storefront/liquid-engine';
import { member, product, storefront, text, find, tierStatus, variant } from './helpers';

const LOCALES = path.join(DEFAULT_EXTENSION_DIR, 'locales');
const PLURAL = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);

/** Leaf keys; a pluralised entry counts once, as its parent key. */
function leaves(tree: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (typeof tree !== 'object' || tree === null) {
    out.set(prefix, tree);
    return out;
  }
  const keys = Object.keys(tree);
  if (keys.length > 0 && keys.every((k) => PLURAL.has(k))) {
    out.set(prefix, tree);
    return out;
  }
  for (const [key, value] of Object.entries(tree)) {
    for (const [leaf, v] of leaves(value, prefix ? `${prefix}.${key}` : key)) out.set(leaf, v);
  }
  return out;
}

const liquidSources = ['blocks', 'snippets']
  .flatMap((dir) =>
    readdirSync(path.join(DEFAULT_EXTENSION_DIR, dir)).map((f) =>
      path.join(DEFAULT_EXTENSION_DIR, dir, f),
    ),
  )
  .map((file) => readFileSync(file, 'utf8'))
  .join('\n');

describe.each(['storefront', 'schema'] as const)('%s locales', (kind) => {
  const locales = readLocales(LOCALES, kind);
  const english = leaves(locales.files.en);

  it('French has exactly the keys English has, with the same plural forms', () => {
    const french = leaves(locales.files.fr);
    expect([...french.keys()].sort()).toEqual([...english.keys()].sort());
    for (const [key, value] of english) {
      const other = french.get(key);
      if (typeof value === 'object')
        expect(Object.keys(other as object).sort(), key).toEqual(Object.keys(value!).sort());
      else expect(typeof other, key).toBe('string');
    }
  });

  it('every key is used', () => {
    const used =
      kind === 'storefront'
        ? (key: string) => liquidSources.includes(`'${key}'`)
        : (key: string) => liquidSources.includes(`"t:${key}"`);
    expect([...english.keys()].filter((key) => !used(key))).toEqual([]);
  });
});

describe('storefront strings', () => {
  const { files } = readLocales(LOCALES, 'storefront');

  it('hold no markup outside _html keys (the blocks put some in attributes as they are)', () => {
    for (const [code, tree] of Object.entries(files)) {
      for (const [key, value] of leaves(tree)) {
        if (key.endsWith('_html')) continue;
        const strings = typeof value === 'string' ? [value] : Object.values(value as object);
        for (const s of strings) expect(s, `${code}: ${key}`).not.toMatch(/[<>&"]/);
      }
    }
  });

  it('leave no English on a French page', async () => {
    const engine = createStorefrontEngine();
    const english = [...leaves(files.en).values()]
      .flatMap((v) => (typeof v === 'string' ? [v] : Object.values(v as object)))
      .map((s: string) => s.replace(/\{\{[^}]+\}\}/g, '').trim())
      .filter((s) => s.length > 6 && /[a-z]{4}/i.test(s));
    const shoe = product([variant(1, 12_000)]);
    for (const scenario of [
      { locale: 'fr', product: shoe },
      {
        locale: 'fr',
        product: shoe,
        customer: member(
          1250,
          2000,
          tierStatus('gold', 482_000, {
            name: 'Or',
            next: { key: 'platinum', name: 'Platine', threshold: 500_000, remaining: 18_000 },
          }),
        ),
      },
      {
        locale: 'fr',
        product: shoe,
        customer: member(1250, 2000, tierStatus('platinum', 600_000, { name: 'Platine' })),
      },
      { locale: 'fr', product: product([variant(2, 100)]), customer: {} },
    ]) {
      for (const name of ['points-balance', 'product-points', 'launcher', 'rewards'] as const) {
        const html = await engine.renderBlock(name, storefront(scenario));
        const visible = text(find(`<div data-all>${html}</div>`, 'data-all')) + ' ' + html;
        for (const phrase of english) expect(visible, `${name}: "${phrase}"`).not.toContain(phrase);
      }
    }
  });
});

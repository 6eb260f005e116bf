/**
 * Each Shopify stand-in in dev/storefront against what Shopify documents it to output. Filters are
 * exercised through liquidjs with the same registrations as the engine.
 */
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Liquid } from 'liquidjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTranslator,
  divided_by,
  formatMoney,
  json,
  money,
  money_without_trailing_zeros,
  translate,
  type Locales,
} from '../../dev/storefront/shopify-filters';
import {
  createStorefrontEngine,
  DEFAULT_EXTENSION_DIR,
  readLocales,
} from '../../dev/storefront/liquid-engine';
import { storefront } from './helpers';

const locales: Locales = {
  defaultLocale: 'en',
  files: {
    en: {
      cart: {
        // Shopify's storefront-locale example: pluralised by count, interpolated
        item_count: { one: '{{ count }} item', other: '{{ count }} items' },
        greeting: 'Hello {{ name }}!',
        only_en: 'English only',
        link_html: 'See <a href="{{ url }}">details</a>',
        quote: 'Tom & Jerry’s "show"',
        points: { zero: 'no points', one: '{{ count }} point', other: '{{ count }} points' },
        no_other: { one: 'one thing' },
      },
    },
    fr: {
      cart: {
        item_count: { one: '{{ count }} article', other: '{{ count }} articles' },
        greeting: 'Bonjour {{ name }} !',
      },
    },
    'fr-CA': { cart: { greeting: 'Allô {{ name }} !' } },
  },
};

const liquid = new Liquid({ strictFilters: true, strictVariables: true });
liquid.registerFilter('t', createTranslator(locales));
liquid.registerFilter('money', money);
liquid.registerFilter('money_without_trailing_zeros', money_without_trailing_zeros);
liquid.registerFilter('json', json);
liquid.registerFilter('divided_by', divided_by);

const renderIn = (template: string, locale = 'en', scope: Record<string, unknown> = {}) =>
  liquid.parseAndRender(template, {
    request: { locale: { iso_code: locale } },
    shop: { money_format: '${{amount}}' },
    ...scope,
  });

describe('t (translate)', () => {
  it('interpolates keyword arguments and pluralises by count (Shopify storefront locale files)', async () => {
    expect(await renderIn("{{ 'cart.item_count' | t: count: 1 }}")).toBe('1 item');
    expect(await renderIn("{{ 'cart.item_count' | t: count: 2 }}")).toBe('2 items');
    expect(await renderIn("{{ 'cart.item_count' | t: count: 0 }}")).toBe('0 items');
    expect(await renderIn("{{ 'cart.greeting' | t: name: 'Sam' }}")).toBe('Hello Sam!');
  });

  it("uses the language's CLDR plural rules: French 0 and 1 are singular", async () => {
    expect(await renderIn("{{ 'cart.item_count' | t: count: 0 }}", 'fr')).toBe('0 article');
    expect(await renderIn("{{ 'cart.item_count' | t: count: 1 }}", 'fr')).toBe('1 article');
    expect(await renderIn("{{ 'cart.item_count' | t: count: 2 }}", 'fr')).toBe('2 articles');
  });

  it('takes "zero" for 0 when the entry has it, else the rules (Ruby I18n)', () => {
    expect(translate(locales, 'en', 'cart.points', { count: 0 })).toBe('no points');
    expect(translate(locales, 'en', 'cart.points', { count: 1 })).toBe('1 point');
    expect(translate(locales, 'en', 'cart.points', { count: 5 })).toBe('5 points');
  });

  it('falls back per key from fr-CA to fr to the default locale', () => {
    expect(translate(locales, 'fr-CA', 'cart.greeting', { name: 'Sam' })).toBe('Allô Sam !');
    expect(translate(locales, 'fr-CA', 'cart.item_count', { count: 3 })).toBe('3 articles');
    expect(translate(locales, 'fr', 'cart.only_en')).toBe('English only');
    expect(translate(locales, 'de', 'cart.greeting', { name: 'Sam' })).toBe('Hello Sam!');
  });

  it('outputs _html keys as written and escapes the others', () => {
    expect(translate(locales, 'en', 'cart.link_html', { url: '/x' })).toBe(
      'See <a href="/x">details</a>',
    );
    expect(translate(locales, 'en', 'cart.quote')).toBe('Tom &amp; Jerry’s &quot;show&quot;');
    expect(translate(locales, 'en', 'cart.greeting', { name: '<b>' })).toBe('Hello &lt;b&gt;!');
  });

  it('fails loudly on a missing key, a missing count or a missing interpolation', () => {
    expect(() => translate(locales, 'en', 'cart.nope')).toThrow(
      'Translation missing: en.cart.nope',
    );
    expect(() => translate(locales, 'en', 'cart.item_count')).toThrow('pass count');
    expect(() => translate(locales, 'en', 'cart.greeting')).toThrow('needs {{ name }}');
    expect(() => translate(locales, 'en', 'cart.item_count', { count: 'many' })).toThrow(
      'count must be a number',
    );
  });

  it('falls back to "other" when the language needs a form the entry lacks', () => {
    // French CLDR has "many" for millions; our entries only have one/other
    expect(translate(locales, 'fr', 'cart.item_count', { count: 1_000_000 })).toBe(
      '1000000 articles',
    );
    expect(() => translate(locales, 'en', 'cart.no_other', { count: 2 })).toThrow('not a string');
  });

  it('reads the storefront locales of our extension, default file included', () => {
    const ours = readLocales(path.join(DEFAULT_EXTENSION_DIR, 'locales'), 'storefront');
    expect(ours.defaultLocale).toBe('en');
    expect(Object.keys(ours.files).sort()).toEqual(['en', 'fr']);
    const schema = readLocales(path.join(DEFAULT_EXTENSION_DIR, 'locales'), 'schema');
    expect(Object.keys(schema.files).sort()).toEqual(['en', 'fr']);
  });
});

describe('money filters (the shop money format, input in hundredths)', () => {
  // help.shopify.com "Currency formatting": 1134.65 with each placeholder
  it.each([
    ['{{amount}}', '1,134.65'],
    ['{{amount_no_decimals}}', '1,135'],
    ['{{amount_with_comma_separator}}', '1.134,65'],
    ['{{amount_no_decimals_with_comma_separator}}', '1.135'],
    ['{{amount_with_apostrophe_separator}}', "1'134.65"],
    ['{{amount_no_decimals_with_space_separator}}', '1 135'],
    ['{{amount_with_space_separator}}', '1 134,65'],
    ['{{amount_with_period_and_space_separator}}', '1 134.65'],
  ])('%s formats 113465 as %s', (format, expected) => {
    expect(formatMoney(113_465, format)).toBe(expected);
  });

  it('rounds the rounded formats half up (50 or more goes up)', () => {
    expect(formatMoney(113_449, '{{amount_no_decimals}}')).toBe('1,134');
    expect(formatMoney(113_450, '{{amount_no_decimals}}')).toBe('1,135');
    expect(formatMoney(5, '{{ amount }}')).toBe('0.05');
    expect(formatMoney(-123_456_789, '{{amount}}')).toBe('-1,234,567.89');
  });

  it('money wraps the amount in the format, HTML and all', async () => {
    const scope = {
      shop: { money_format: '<span class=money>€{{amount_with_comma_separator}}</span>' },
    };
    expect(await renderIn('{{ 4500 | money }}', 'en', scope)).toBe(
      '<span class=money>€45,00</span>',
    );
    expect(await renderIn('{{ 1999 | money }}')).toBe('$19.99');
    expect(await renderIn('{{ nothing | money }}', 'en', { nothing: null })).toBe('');
  });

  it('money_without_trailing_zeros drops ".00" only (otherwise the same as money)', async () => {
    expect(await renderIn('{{ 100000 | money_without_trailing_zeros }}')).toBe('$1,000');
    expect(await renderIn('{{ 1050 | money_without_trailing_zeros }}')).toBe('$10.50');
    const comma = { shop: { money_format: '{{amount_with_comma_separator}} €' } };
    expect(await renderIn('{{ 500 | money_without_trailing_zeros }}', 'en', comma)).toBe('5 €');
  });

  it('refuses an unknown placeholder or a missing format', async () => {
    expect(() => formatMoney(100, '{{amount_in_words}}')).toThrow(
      'unknown money format placeholder',
    );
    await expect(renderIn('{{ 1 | money }}', 'en', { shop: {} })).rejects.toThrow();
  });
});

describe('json', () => {
  it('writes JSON a <script> element cannot be broken out of (<, >, & as \\u escapes)', async () => {
    const out = await renderIn('{{ value | json }}', 'en', {
      value: { name: '</script><b>"Tom & Jerry"</b>', n: [1, null], line: '\u2028' },
    });
    expect(out).toBe(
      '{"name":"\\u003c/script\\u003e\\u003cb\\u003e\\"Tom \\u0026 Jerry\\"\\u003c/b\\u003e","n":[1,null],"line":"\\u2028"}',
    );
    expect(JSON.parse(out)).toEqual({
      name: '</script><b>"Tom & Jerry"</b>',
      n: [1, null],
      line: '\u2028',
    });
    expect(await renderIn("{{ '12' | json }} {{ 12 | json }}")).toBe('"12" 12');
  });
});

describe('divided_by (Ruby Liquid: integers divide to a floored integer)', () => {
  it('floors integer division, keeps floats, refuses 0', async () => {
    expect(await renderIn('{{ 7 | divided_by: 2 }}')).toBe('3');
    expect(await renderIn('{{ 20 | divided_by: 7 }}')).toBe('2');
    expect(await renderIn('{{ -7 | divided_by: 2 }}')).toBe('-4');
    expect(await renderIn('{{ 7.5 | divided_by: 2 }}')).toBe('3.75');
    await expect(renderIn('{{ 7 | divided_by: 0 }}')).rejects.toThrow('divided by 0');
  });
});

describe('tags and strictness of the engine', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function extensionWith(block: string, snippet?: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'laurel-engine-'));
    dirs.push(dir);
    cpSync(path.join(DEFAULT_EXTENSION_DIR, 'locales'), path.join(dir, 'locales'), {
      recursive: true,
    });
    mkdirSync(path.join(dir, 'blocks'));
    mkdirSync(path.join(dir, 'snippets'));
    writeFileSync(path.join(dir, 'blocks', 'launcher.liquid'), block);
    if (snippet) writeFileSync(path.join(dir, 'snippets', 'laurel-x.liquid'), snippet);
    return dir;
  }
  const schema = '{% schema %}{"name":"X","target":"body","settings":[]}{% endschema %}';

  it('{% schema %} and {% doc %} render nothing', async () => {
    const dir = extensionWith(
      `<p>{% render 'laurel-x', word: 'hi' %}</p>${schema}`,
      '{% doc %} @param {string} word - shown {{ not a variable }} {% enddoc %}{{ word }}',
    );
    const html = await createStorefrontEngine({ extensionDir: dir }).renderBlock(
      'launcher',
      storefront(),
    );
    expect(html).toMatch(/<p>hi<\/p>\s*<\/div>$/);
  });

  it('global objects reach snippets rendered with {% render %}, as in Shopify', async () => {
    const dir = extensionWith(`{% render 'laurel-x' %}${schema}`, '{{ routes.account_login_url }}');
    const html = await createStorefrontEngine({ extensionDir: dir }).renderBlock(
      'launcher',
      storefront(),
    );
    expect(html).toContain('/account/login');
  });

  it('an unknown filter or an undefined variable is an error, a missing metafield is nil', async () => {
    const engineFor = (body: string) =>
      createStorefrontEngine({ extensionDir: extensionWith(body + schema) });
    await expect(
      engineFor('{{ 1 | bogus }}').renderBlock('launcher', storefront()),
    ).rejects.toThrow(/undefined filter: bogus/);
    await expect(
      engineFor('{{ custmer.id }}').renderBlock('launcher', storefront()),
    ).rejects.toThrow(/undefined variable: custmer/);
    const metafields = engineFor(
      "[{{ customer.metafields['$app'].nope.value }}|{{ customer.metafields.other.key }}|{{ app.metafields.laurel.missing.value }}]",
    );
    const html = await metafields.renderBlock('launcher', storefront({ customer: {} }));
    expect(html).toContain('[||]');
  });

  it("uses the engine's locale when the objects do not give one", async () => {
    const dir = extensionWith(`{{ 'laurel.launcher.close' | t }}${schema}`);
    const objects = storefront();
    delete objects.request;
    const html = await createStorefrontEngine({ extensionDir: dir, locale: 'fr' }).renderBlock(
      'launcher',
      objects,
    );
    expect(html).toContain('Fermer');
  });
});

/**
 * Stand-ins for the Shopify Liquid filters Laurel's blocks use, each following what Shopify
 * documents it to output (tests/theme/shopify-filters.test.ts holds the documented examples):
 *
 * - `t`: the extension's locale files, falling back per key from `fr-CA` to `fr` to the default
 *   file; `{{ name }}` interpolation; pluralised entries (`one`/`other`/…) picked by `count` with
 *   the CLDR rules of the translation's language, `zero` first when count is 0 and the entry has
 *   one (Ruby I18n's rule). Keys ending in `_html` are output as written; other translations are
 *   HTML-escaped. A missing key or interpolation is an error here (Shopify prints "translation
 *   missing"), so a broken block fails its test instead of shipping.
 * - `money`, `money_without_trailing_zeros`: the shop's money format (`shop.money_format`, "HTML
 *   without currency") with Shopify's eight `{{ amount… }}` placeholders; the input is hundredths.
 *   Rounded formats round half up, as Shopify's currency formatting page says.
 * - `json`: JSON with `<`, `>`, `&`, U+2028 and U+2029 as \u escapes, as Shopify's encoder writes
 *   them, so the output is safe inside a <script> element.
 * - `divided_by`: Ruby Liquid's semantics, which liquidjs does not follow: two integers divide to
 *   an integer (floored), and dividing an integer by 0 is an error.
 */
/** What liquidjs binds `this` to in a filter (its own FilterImpl type is not exported). */
interface FilterImpl {
  context: { getSync(paths: PropertyKey[]): unknown };
}

export interface Locales {
  defaultLocale: string;
  files: Record<string, Record<string, unknown>>;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

function lookup(tree: Record<string, unknown>, key: string): unknown {
  let node: unknown = tree;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Locale codes to try for `locale`, most specific first, ending with the default file. */
export function localeChain(locales: Locales, locale: string): string[] {
  const chain = [locale, locale.split('-')[0]!, locales.defaultLocale];
  return [...new Set(chain)].filter((code) => Object.hasOwn(locales.files, code));
}

const PLURAL_FORMS = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);

function isPluralEntry(entry: unknown): entry is Record<string, string> {
  return (
    typeof entry === 'object' &&
    entry !== null &&
    Object.keys(entry).length > 0 &&
    Object.keys(entry).every((form) => PLURAL_FORMS.has(form))
  );
}

/** `translate(locales, 'fr', 'laurel.points', { count: 2 })`: what `{{ 'laurel.points' | t: count: 2 }}` outputs. */
export function translate(
  locales: Locales,
  locale: string,
  key: string,
  variables: Record<string, unknown> = {},
): string {
  let entry: unknown;
  let language = locale;
  for (const code of localeChain(locales, locale)) {
    entry = lookup(locales.files[code]!, key);
    if (entry !== undefined) {
      language = code;
      break;
    }
  }
  if (entry === undefined) throw new Error(`Translation missing: ${locale}.${key}`);

  let text: unknown = entry;
  if (isPluralEntry(entry)) {
    if (variables.count === undefined) {
      throw new Error(`translation '${key}' is pluralised: pass count`);
    }
    const count = Number(variables.count);
    if (!Number.isFinite(count)) {
      throw new Error(
        `translation '${key}': count must be a number (got ${String(variables.count)})`,
      );
    }
    const form =
      count === 0 && entry.zero !== undefined
        ? 'zero'
        : new Intl.PluralRules(language).select(count);
    text = entry[form] ?? entry.other;
  }
  if (typeof text !== 'string') {
    throw new Error(`Translation missing: ${locale}.${key} is not a string`);
  }
  const output = text.replace(/\{\{\s*([\w-]+)\s*\}\}/g, (_match, name: string) => {
    if (!Object.hasOwn(variables, name) || variables[name] === undefined) {
      throw new Error(`translation '${key}' needs {{ ${name} }}`);
    }
    const value = variables[name];
    return value === null ? '' : String(value);
  });
  return key.endsWith('_html') ? output : escapeHtml(output);
}

/** Liquid passes `t: count: 2, name: x` as `[name, value]` pairs. */
function keywordArguments(args: unknown[]): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  for (const arg of args) {
    if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') {
      throw new Error('the t filter takes keyword arguments only (t: name: value)');
    }
    variables[arg[0]] = arg[1];
  }
  return variables;
}

/** The `t` filter over the extension's storefront locales, in the request's locale. */
export function createTranslator(locales: Locales) {
  return function t(this: FilterImpl, key: unknown, ...args: unknown[]): string {
    const locale = String(this.context.getSync(['request', 'locale', 'iso_code']));
    return translate(locales, locale, String(key), keywordArguments(args));
  };
}

interface AmountStyle {
  group: string;
  decimal: string;
  decimals: boolean;
}

/** Shopify's money format placeholders (help.shopify.com, "Currency formatting"). */
export const MONEY_PLACEHOLDERS: Record<string, AmountStyle> = {
  amount: { group: ',', decimal: '.', decimals: true },
  amount_no_decimals: { group: ',', decimal: '.', decimals: false },
  amount_with_comma_separator: { group: '.', decimal: ',', decimals: true },
  amount_no_decimals_with_comma_separator: { group: '.', decimal: ',', decimals: false },
  amount_with_apostrophe_separator: { group: "'", decimal: '.', decimals: true },
  amount_no_decimals_with_space_separator: { group: ' ', decimal: '.', decimals: false },
  amount_with_space_separator: { group: ' ', decimal: ',', decimals: true },
  amount_with_period_and_space_separator: { group: ' ', decimal: '.', decimals: true },
};

const groupDigits = (units: number, separator: string) =>
  String(units).replace(/\B(?=(\d{3})+$)/g, separator);

function formatAmount(hundredths: number, style: AmountStyle, dropZeroDecimals: boolean): string {
  const sign = hundredths < 0 ? '-' : '';
  const magnitude = Math.abs(hundredths);
  if (!style.decimals) return sign + groupDigits(Math.floor((magnitude + 50) / 100), style.group);
  const units = Math.floor(magnitude / 100);
  const fraction = magnitude % 100;
  if (dropZeroDecimals && fraction === 0) return sign + groupDigits(units, style.group);
  return `${sign}${groupDigits(units, style.group)}${style.decimal}${String(fraction).padStart(2, '0')}`;
}

/** Formats hundredths with a Shopify money format such as `${{amount}}` or `{{amount_with_comma_separator}} €`. */
export function formatMoney(hundredths: number, format: string, dropZeroDecimals = false): string {
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_match, placeholder: string) => {
    const style = MONEY_PLACEHOLDERS[placeholder];
    if (!style) throw new Error(`unknown money format placeholder {{ ${placeholder} }}`);
    return formatAmount(hundredths, style, dropZeroDecimals);
  });
}

function moneyFilter(this: FilterImpl, value: unknown, dropZeroDecimals: boolean): string {
  if (value === null || value === undefined || value === '') return '';
  const hundredths = Math.round(Number(value));
  if (!Number.isFinite(hundredths)) throw new Error(`money: '${String(value)}' is not a number`);
  const format = this.context.getSync(['shop', 'money_format']);
  if (typeof format !== 'string') throw new Error('money: shop.money_format is not set');
  return formatMoney(hundredths, format, dropZeroDecimals);
}

export function money(this: FilterImpl, value: unknown): string {
  return moneyFilter.call(this, value, false);
}

export function money_without_trailing_zeros(this: FilterImpl, value: unknown): string {
  return moneyFilter.call(this, value, true);
}

export function json(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function divided_by(dividend: unknown, divisor: unknown): number {
  const a = Number(dividend);
  const b = Number(divisor);
  if (Number.isInteger(a) && Number.isInteger(b)) {
    if (b === 0) throw new Error('Liquid error: divided by 0');
    return Math.floor(a / b);
  }
  return a / b;
}

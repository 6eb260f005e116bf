/**
 * Validates every `{% schema %}` in the extension's blocks/: theme-check does not read app block
 * schemas in the app context, and Shopify only refuses a bad one at deploy time (or breaks the
 * theme editor). Each rule names where Shopify documents it:
 *
 * - settings: each one against the setting JSON schema that ships in
 *   @shopify/theme-check-docs-updater (types, required attributes per type, attribute types);
 *   color scheme settings are not supported in app blocks (Shopify's settings docs);
 * - setting ids unique within the block, snake_case (our convention: Liquid reads them as
 *   `block.settings.<id>`);
 * - defaults of the right type and inside the setting's own bounds: range inside [min, max], on
 *   the step grid, at most 101 steps; number inside min/max; select/radio among the options'
 *   values, which must be unique; color a hex or rgb(a) colour; url only `/collections` or
 *   `/collections/all`;
 * - block attributes: only those the theme app extension schema documents; `name` at most 25
 *   characters in every schema locale; `target` section (app block) or head/body (app embed);
 *   `enabled_on` / `disabled_on` well-formed and never both (the deprecated `templates` refused);
 *   `javascript` / `stylesheet` naming a .js / .css file in assets/;
 * - every `t:` key present in every schema locale file (locales/*.schema.json).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { JSONValidator } from '@shopify/theme-check-node';
import { DEFAULT_EXTENSION_DIR, readLocales, readSchema } from './liquid-engine';
import type { Locales } from './shopify-filters';

export interface SchemaProblem {
  /** Relative to the extension directory, e.g. `blocks/launcher.liquid`. */
  file: string;
  /** The setting's id (or `settings[3]` when it has none); absent for block-level problems. */
  setting?: string;
  rule: string;
  message: string;
}

export const MAX_NAME_LENGTH = 25;
export const MAX_RANGE_STEPS = 101;

const BLOCK_ATTRIBUTES = new Set([
  'name',
  'target',
  'settings',
  'javascript',
  'stylesheet',
  'class',
  'tag',
  'default',
  'available_if',
  'enabled_on',
  'disabled_on',
]);
const TARGETS = new Set(['section', 'head', 'body']);
const TEMPLATE_TYPES = new Set([
  '*',
  '404',
  'article',
  'blog',
  'captcha',
  'cart',
  'collection',
  'customers/account',
  'customers/activate_account',
  'customers/addresses',
  'customers/login',
  'customers/order',
  'customers/register',
  'customers/reset_password',
  'gift_card',
  'index',
  'list-collections',
  'page',
  'password',
  'policy',
  'product',
  'search',
]);
const GROUP_TYPES = new Set(['*', 'header', 'footer', 'aside']);
const UNSUPPORTED_IN_APP_BLOCKS = new Set(['color_scheme', 'color_scheme_group']);
const NON_INPUT_TYPES = new Set(['header', 'paragraph']);
const SETTING_ID = /^[a-z][a-z0-9_]*$/;
const COLOR = /^(#([0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})|rgba?\([\d\s.,%]+\))$/i;
const URL_DEFAULTS = new Set(['/collections', '/collections/all']);

const settingSchemaText = (() => {
  let text: string | undefined;
  return () => {
    if (text === undefined) {
      const require = createRequire(import.meta.url);
      const docs = path.dirname(require.resolve('@shopify/theme-check-docs-updater/package.json'));
      text = readFileSync(path.join(docs, 'data', 'setting.json'), 'utf8');
    }
    return text;
  };
})();

let settingValidator: JSONValidator | undefined;
function validator(): JSONValidator {
  settingValidator ??= new JSONValidator([
    {
      uri: 'https://laurel.invalid/theme-check-docs/setting.json',
      fileMatch: ['**/*.setting.json'],
      schema: settingSchemaText(),
    },
  ]);
  return settingValidator;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function lookupKey(tree: Record<string, unknown>, key: string): unknown {
  let node: unknown = tree;
  for (const part of key.split('.')) {
    if (!isRecord(node) || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}

/** Every `t:` reference anywhere in the schema, with the setting it belongs to. */
function translationReferences(
  schema: Record<string, unknown>,
): { key: string; setting?: string }[] {
  const found: { key: string; setting?: string }[] = [];
  const walk = (node: unknown, setting: string | undefined) => {
    if (typeof node === 'string' && node.startsWith('t:'))
      found.push({ key: node.slice(2), setting });
    else if (Array.isArray(node)) for (const item of node) walk(item, setting);
    else if (isRecord(node)) for (const value of Object.values(node)) walk(value, setting);
  };
  for (const [attribute, value] of Object.entries(schema)) {
    if (attribute !== 'settings' || !Array.isArray(value)) walk(value, undefined);
    else value.forEach((setting, i) => walk(setting, settingLabel(setting, i)));
  }
  return found;
}

const settingLabel = (setting: unknown, index: number) =>
  isRecord(setting) && typeof setting.id === 'string' ? setting.id : `settings[${index}]`;

function checkPlacement(
  attribute: 'enabled_on' | 'disabled_on',
  value: unknown,
  problem: (rule: string, message: string) => void,
) {
  if (!isRecord(value)) {
    problem('placement', `${attribute} must be an object with "templates" and/or "groups"`);
    return;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) problem('placement', `${attribute} must list "templates" or "groups"`);
  for (const key of keys) {
    if (key !== 'templates' && key !== 'groups') {
      problem('placement', `${attribute}.${key} is not allowed (only "templates" and "groups")`);
      continue;
    }
    const list = value[key];
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => typeof x === 'string')) {
      problem('placement', `${attribute}.${key} must be a non-empty array of strings`);
      continue;
    }
    for (const entry of list as string[]) {
      const ok =
        key === 'templates'
          ? TEMPLATE_TYPES.has(entry) || /^metaobject\/[a-z0-9_-]+$/.test(entry)
          : GROUP_TYPES.has(entry) || /^custom\.[a-z0-9_-]+$/.test(entry);
      if (!ok) {
        problem(
          'placement',
          key === 'templates'
            ? `${attribute}.templates: '${entry}' is not a template type (product, collection, index, …, metaobject/<type> or *)`
            : `${attribute}.groups: '${entry}' is not a section group (header, footer, aside, custom.<name> or *)`,
        );
      }
    }
  }
}

function checkDefault(
  setting: Record<string, unknown>,
  problem: (rule: string, message: string) => void,
) {
  const { type } = setting;
  const value = setting.default;
  const hasDefault = Object.hasOwn(setting, 'default');
  const num = (attribute: string) =>
    typeof setting[attribute] === 'number' ? (setting[attribute] as number) : undefined;

  if (type === 'range') {
    const min = num('min');
    const max = num('max');
    const step = num('step') ?? 1;
    if (min === undefined || max === undefined) return; // the JSON schema reports these
    if (!(max > min)) problem('range', `max (${max}) must be greater than min (${min})`);
    if (!(step > 0)) {
      problem('range', `step (${step}) must be greater than 0`);
      return;
    }
    const steps = Math.round((max - min) / step) + 1;
    if (steps > MAX_RANGE_STEPS) {
      problem(
        'range',
        `has ${steps} steps (min ${min}, max ${max}, step ${step}); Shopify allows at most ${MAX_RANGE_STEPS}`,
      );
    }
    if (typeof value === 'number') {
      const offset = (value - min) / step;
      if (value < min || value > max) {
        problem('default', `default ${value} is outside [${min}, ${max}]`);
      } else if (Math.abs(offset - Math.round(offset)) > 1e-9) {
        problem('default', `default ${value} is not on the step grid (min ${min}, step ${step})`);
      }
    }
  } else if (type === 'number' && typeof value === 'number') {
    const min = num('min');
    const max = num('max');
    if (min !== undefined && value < min)
      problem('default', `default ${value} is below min ${min}`);
    if (max !== undefined && value > max)
      problem('default', `default ${value} is above max ${max}`);
  } else if (type === 'select' || type === 'radio') {
    const options = Array.isArray(setting.options) ? setting.options : [];
    if (options.length === 0) problem('options', `${type} needs at least one option`);
    const values = options.map((option) => (isRecord(option) ? option.value : undefined));
    const seen = new Set<unknown>();
    for (const optionValue of values) {
      if (seen.has(optionValue))
        problem('options', `option value '${String(optionValue)}' is repeated`);
      seen.add(optionValue);
    }
    if (hasDefault && !values.includes(value)) {
      problem(
        'default',
        `default '${String(value)}' is not one of the option values (${values.map(String).join(', ')})`,
      );
    }
  } else if (type === 'color' && typeof value === 'string' && !COLOR.test(value)) {
    problem('default', `default '${value}' is not a hex or rgb(a) colour`);
  } else if (type === 'url' && typeof value === 'string' && !URL_DEFAULTS.has(value)) {
    problem(
      'default',
      `default '${value}': a url setting's default can only be /collections or /collections/all`,
    );
  }
}

export interface BlockContext {
  /** Files in the extension's assets/. */
  assets: ReadonlySet<string>;
  /** The schema locale files (locales/*.schema.json). */
  schemaLocales: Locales;
}

/** Problems in one block's schema (already JSON-parsed); `file` is only used in messages. */
export async function validateBlockSchema(
  file: string,
  schema: unknown,
  context: BlockContext,
): Promise<SchemaProblem[]> {
  const problems: SchemaProblem[] = [];
  const blockProblem = (rule: string, message: string) => problems.push({ file, rule, message });
  if (!isRecord(schema)) {
    blockProblem('schema', 'the schema must be a JSON object');
    return problems;
  }

  for (const attribute of Object.keys(schema)) {
    if (attribute === 'templates') {
      blockProblem('placement', '"templates" is deprecated: use "enabled_on" or "disabled_on"');
    } else if (!BLOCK_ATTRIBUTES.has(attribute)) {
      blockProblem('attribute', `"${attribute}" is not an app block schema attribute`);
    }
  }

  // name: required, at most 25 characters as the merchant reads it, in every language
  const blockName = schema.name;
  if (typeof blockName !== 'string' || blockName.trim() === '') {
    blockProblem('name', 'name is required (a string, or a t: key)');
  } else {
    const locales = Object.entries(context.schemaLocales.files);
    const names = blockName.startsWith('t:')
      ? locales.map(([code, tree]) => [code, lookupKey(tree, blockName.slice(2))] as const)
      : [['', blockName] as const];
    for (const [code, name] of names) {
      if (typeof name === 'string' && [...name].length > MAX_NAME_LENGTH) {
        blockProblem(
          'name',
          `name '${name}'${code ? ` (${code})` : ''} is ${[...name].length} characters; Shopify allows ${MAX_NAME_LENGTH}`,
        );
      }
    }
  }

  if (typeof schema.target !== 'string' || !TARGETS.has(schema.target)) {
    blockProblem(
      'target',
      `target must be "section" (app block) or "head" / "body" (app embed), not ${JSON.stringify(schema.target)}`,
    );
  }
  if (schema.enabled_on !== undefined && schema.disabled_on !== undefined) {
    blockProblem('placement', 'use enabled_on or disabled_on, not both');
  }
  for (const attribute of ['enabled_on', 'disabled_on'] as const) {
    if (schema[attribute] !== undefined) checkPlacement(attribute, schema[attribute], blockProblem);
  }
  if (schema.available_if !== undefined) {
    const ok =
      typeof schema.available_if === 'string' &&
      /^\{\{\s*app\.metafields\.[\w-]+\.[\w-]+\s*\}\}$/.test(schema.available_if);
    if (!ok)
      blockProblem('available_if', 'available_if must be "{{ app.metafields.<namespace>.<key> }}"');
  }
  for (const [attribute, extension] of [
    ['javascript', '.js'],
    ['stylesheet', '.css'],
  ] as const) {
    const asset = schema[attribute];
    if (asset === undefined) continue;
    if (typeof asset !== 'string' || !asset.endsWith(extension) || asset.includes('/')) {
      blockProblem('asset', `${attribute} must name a ${extension} file in assets/`);
    } else if (!context.assets.has(asset)) {
      blockProblem('asset', `${attribute}: assets/${asset} does not exist`);
    }
  }

  // settings
  const settings = schema.settings ?? [];
  if (!Array.isArray(settings)) {
    blockProblem('settings', 'settings must be an array');
  } else {
    const ids = new Set<string>();
    for (const [index, setting] of settings.entries()) {
      const label = settingLabel(setting, index);
      const problem = (rule: string, message: string) =>
        problems.push({ file, setting: label, rule, message });
      if (!isRecord(setting)) {
        problem('setting', 'a setting must be an object');
        continue;
      }
      const diagnostics = await validator().validate(
        'file:///laurel/block.setting.json',
        JSON.stringify(setting),
      );
      for (const diagnostic of diagnostics) problem('setting-schema', diagnostic.message);
      if (typeof setting.type === 'string' && UNSUPPORTED_IN_APP_BLOCKS.has(setting.type)) {
        problem('setting-type', `${setting.type} settings are not supported in app blocks`);
      }
      if (typeof setting.id === 'string' && !NON_INPUT_TYPES.has(String(setting.type))) {
        if (ids.has(setting.id)) problem('unique-id', `setting id '${setting.id}' is used twice`);
        ids.add(setting.id);
        if (!SETTING_ID.test(setting.id)) {
          problem(
            'id',
            `setting id '${setting.id}' should be snake_case (block.settings.${setting.id})`,
          );
        }
      }
      checkDefault(setting, problem);
    }
  }

  // t: keys, in every schema locale
  for (const { key, setting } of translationReferences(schema)) {
    for (const [code, tree] of Object.entries(context.schemaLocales.files)) {
      if (typeof lookupKey(tree, key) !== 'string') {
        const localeFile =
          code === context.schemaLocales.defaultLocale
            ? `${code}.default.schema.json`
            : `${code}.schema.json`;
        problems.push({
          file,
          ...(setting ? { setting } : {}),
          rule: 'translation',
          message: `'t:${key}' has no entry in locales/${localeFile}`,
        });
      }
    }
  }
  return problems;
}

/** Validates the schema of every block in `<extensionDir>/blocks/`. */
export async function validateExtensionSchemas(
  extensionDir: string = DEFAULT_EXTENSION_DIR,
): Promise<SchemaProblem[]> {
  const root = path.resolve(extensionDir);
  const assetsDir = path.join(root, 'assets');
  const assets = new Set(existsSync(assetsDir) ? readdirSync(assetsDir) : []);
  const schemaLocales = readLocales(path.join(root, 'locales'), 'schema');
  const problems: SchemaProblem[] = [];
  const blocksDir = path.join(root, 'blocks');
  for (const name of readdirSync(blocksDir).sort()) {
    if (!name.endsWith('.liquid')) continue;
    const file = `blocks/${name}`;
    let schema: unknown;
    try {
      schema = readSchema(file, readFileSync(path.join(blocksDir, name), 'utf8'));
    } catch (error) {
      problems.push({ file, rule: 'schema', message: (error as Error).message });
      continue;
    }
    problems.push(...(await validateBlockSchema(file, schema, { assets, schemaLocales })));
  }
  return problems;
}

export function formatProblem(problem: SchemaProblem): string {
  const where = problem.setting ? `${problem.file} (setting ${problem.setting})` : problem.file;
  return `${where}  ${problem.rule}  ${problem.message}`;
}

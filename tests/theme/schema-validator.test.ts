import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXTENSION_DIR } from '../../dev/storefront/liquid-engine';
import {
  formatProblem,
  validateBlockSchema,
  validateExtensionSchemas,
  type BlockContext,
} from '../../dev/storefront/schema-validator';

const context: BlockContext = {
  assets: new Set(['laurel.js', 'laurel.css']),
  schemaLocales: {
    defaultLocale: 'en',
    files: {
      en: {
        blocks: {
          x: { name: 'Points', long: 'A name far longer than twenty-five', label: 'Label' },
        },
      },
      fr: { blocks: { x: { name: 'Points', long: 'Court', label: 'Libellé' } } },
    },
  },
};

const good = {
  name: 't:blocks.x.name',
  target: 'section',
  javascript: 'laurel.js',
  stylesheet: 'laurel.css',
  enabled_on: { templates: ['product'] },
  settings: [
    { type: 'header', content: 'Look' },
    { type: 'checkbox', id: 'show', label: 't:blocks.x.label', default: true },
    { type: 'range', id: 'size', label: 'Size', min: 0, max: 64, step: 4, unit: 'px', default: 16 },
    {
      type: 'select',
      id: 'position',
      label: 'Position',
      options: [
        { value: 'left', label: 'Left' },
        { value: 'right', label: 'Right' },
      ],
      default: 'right',
    },
    { type: 'color', id: 'color', label: 'Colour', default: '#1f2937' },
    { type: 'text', id: 'heading', label: 'Heading' },
  ],
};

type Schema = Record<string, unknown>;
const withSettings = (...settings: unknown[]): Schema => ({ ...good, settings });
/** A case whose schema has the one `setting`, reported at that setting's id. */
const oneSetting = (
  rule: string,
  setting: { id: string } & Schema,
  problem: string,
): [string, Schema, string] => [
  rule,
  withSettings(setting),
  `blocks/x.liquid (setting ${setting.id})  ${problem}`,
];
const problemsOf = async (schema: unknown) =>
  (await validateBlockSchema('blocks/x.liquid', schema, context)).map(formatProblem);

describe('block schema validator', () => {
  it('passes a good schema', async () => {
    expect(await problemsOf(good)).toEqual([]);
  });

  it('passes every block of our extension', async () => {
    expect((await validateExtensionSchemas()).map(formatProblem)).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    oneSetting(
      'unknown setting type',
      { type: 'toggle', id: 'a', label: 'A' },
      'setting-schema  Value is not accepted. Valid values:',
    ),
    oneSetting(
      'missing label',
      { type: 'text', id: 'a' },
      'setting-schema  Missing property "label".',
    ),
    oneSetting(
      'range without default',
      { type: 'range', id: 'a', label: 'A', min: 0, max: 10 },
      'setting-schema  Missing property "default".',
    ),
    oneSetting(
      'select without options',
      { type: 'select', id: 'a', label: 'A' },
      'setting-schema  Missing property "options".',
    ),
    oneSetting(
      'unknown attribute',
      { type: 'text', id: 'a', label: 'A', colour: 'red' },
      'setting-schema  Property colour is not allowed.',
    ),
    oneSetting(
      'checkbox default of the wrong type',
      { type: 'checkbox', id: 'a', label: 'A', default: 'yes' },
      'setting-schema  Incorrect type. Expected "boolean".',
    ),
    oneSetting(
      'header with an id',
      { type: 'header', id: 'h', content: 'H' },
      'setting-schema  Property id is not allowed.',
    ),
    oneSetting(
      'color scheme in an app block',
      { type: 'color_scheme', id: 'scheme', label: 'S' },
      'setting-type  color_scheme settings are not supported in app blocks',
    ),
    [
      'duplicate id',
      withSettings(
        { type: 'text', id: 'a', label: 'A' },
        { type: 'checkbox', id: 'a', label: 'B' },
      ),
      "blocks/x.liquid (setting a)  unique-id  setting id 'a' is used twice",
    ],
    oneSetting(
      'id not snake_case',
      { type: 'text', id: 'Heading-Text', label: 'A' },
      "id  setting id 'Heading-Text' should be snake_case",
    ),
    oneSetting(
      'range default outside',
      { type: 'range', id: 'a', label: 'A', min: 0, max: 10, default: 12 },
      'default  default 12 is outside [0, 10]',
    ),
    oneSetting(
      'range default off the grid',
      { type: 'range', id: 'a', label: 'A', min: 0, max: 160, step: 8, default: 60 },
      'default  default 60 is not on the step grid (min 0, step 8)',
    ),
    oneSetting(
      'range with too many steps',
      { type: 'range', id: 'a', label: 'A', min: 0, max: 200, default: 0 },
      'range  has 201 steps (min 0, max 200, step 1); Shopify allows at most 101',
    ),
    oneSetting(
      'range upside down',
      { type: 'range', id: 'a', label: 'A', min: 10, max: 0, default: 5 },
      'range  max (0) must be greater than min (10)',
    ),
    oneSetting(
      'number default above max',
      { type: 'number', id: 'a', label: 'A', max: 5, default: 6 },
      'default  default 6 is above max 5',
    ),
    oneSetting(
      'select default not an option',
      {
        type: 'select',
        id: 'a',
        label: 'A',
        options: [{ value: 'x', label: 'X' }],
        default: 'y',
      },
      "default  default 'y' is not one of the option values (x)",
    ),
    oneSetting(
      'radio with a repeated value',
      {
        type: 'radio',
        id: 'a',
        label: 'A',
        options: [
          { value: 'x', label: 'X' },
          { value: 'x', label: 'Y' },
        ],
      },
      "options  option value 'x' is repeated",
    ),
    oneSetting(
      'color default not a colour',
      { type: 'color', id: 'a', label: 'A', default: 'blue' },
      "default  default 'blue' is not a hex or rgb(a) colour",
    ),
    oneSetting(
      'url default elsewhere',
      { type: 'url', id: 'a', label: 'A', default: '/pages/rewards' },
      "default  default '/pages/rewards': a url setting's default can only be /collections or /collections/all",
    ),
    oneSetting(
      't: key missing',
      { type: 'text', id: 'a', label: 't:blocks.x.nope' },
      "translation  't:blocks.x.nope' has no entry in locales/en.default.schema.json",
    ),
    [
      'name too long in one language',
      { ...good, name: 't:blocks.x.long' },
      "blocks/x.liquid  name  name 'A name far longer than twenty-five' (en) is 34 characters; Shopify allows 25",
    ],
    [
      'name too long',
      { ...good, name: 'Points balance for members' },
      "blocks/x.liquid  name  name 'Points balance for members' is 26 characters; Shopify allows 25",
    ],
    ['no name', { ...good, name: undefined }, 'blocks/x.liquid  name  name is required'],
    [
      'bad target',
      { ...good, target: 'footer' },
      'blocks/x.liquid  target  target must be "section" (app block) or "head" / "body" (app embed), not "footer"',
    ],
    [
      'no target',
      { ...good, target: undefined },
      'blocks/x.liquid  target  target must be "section"',
    ],
    [
      'enabled_on and disabled_on',
      { ...good, disabled_on: { groups: ['header'] } },
      'blocks/x.liquid  placement  use enabled_on or disabled_on, not both',
    ],
    [
      'unknown template',
      { ...good, enabled_on: { templates: ['products'] } },
      "blocks/x.liquid  placement  enabled_on.templates: 'products' is not a template type",
    ],
    [
      'unknown group',
      { ...good, enabled_on: undefined, disabled_on: { groups: ['sidebar'] } },
      "blocks/x.liquid  placement  disabled_on.groups: 'sidebar' is not a section group",
    ],
    [
      'unknown placement key',
      { ...good, enabled_on: { pages: ['product'] } },
      'blocks/x.liquid  placement  enabled_on.pages is not allowed',
    ],
    [
      'empty placement',
      { ...good, enabled_on: {} },
      'blocks/x.liquid  placement  enabled_on must list "templates" or "groups"',
    ],
    [
      'templates instead of enabled_on',
      { ...good, templates: ['product'] },
      'blocks/x.liquid  placement  "templates" is deprecated: use "enabled_on" or "disabled_on"',
    ],
    [
      'unknown block attribute',
      { ...good, max_blocks: 3 },
      'blocks/x.liquid  attribute  "max_blocks" is not an app block schema attribute',
    ],
    [
      'missing script',
      { ...good, javascript: 'app.js' },
      'blocks/x.liquid  asset  javascript: assets/app.js does not exist',
    ],
    [
      'stylesheet that is not CSS',
      { ...good, stylesheet: 'laurel.js' },
      'blocks/x.liquid  asset  stylesheet must name a .css file in assets/',
    ],
    [
      'bad available_if',
      { ...good, available_if: 'app.metafields.laurel.on' },
      'blocks/x.liquid  available_if  available_if must be "{{ app.metafields.<namespace>.<key> }}"',
    ],
    [
      'settings not an array',
      { ...good, settings: {} },
      'blocks/x.liquid  settings  settings must be an array',
    ],
    ['not an object', [], 'blocks/x.liquid  schema  the schema must be a JSON object'],
  ])('reports %s', async (_rule, schema, expected) => {
    const problems = await problemsOf(schema);
    expect(
      problems.some((p) => p.startsWith(expected)),
      `${expected}\nin\n${problems.join('\n')}`,
    ).toBe(true);
  });

  it('checks t: keys in every schema locale, not only the default', async () => {
    const onlyEnglish: BlockContext = {
      ...context,
      schemaLocales: {
        defaultLocale: 'en',
        files: {
          en: { blocks: { x: { name: 'X', only: 'Only' } } },
          fr: { blocks: { x: { name: 'X' } } },
        },
      },
    };
    const problems = await validateBlockSchema(
      'blocks/x.liquid',
      {
        name: 't:blocks.x.name',
        target: 'body',
        settings: [{ type: 'text', id: 'a', label: 't:blocks.x.only' }],
      },
      onlyEnglish,
    );
    expect(problems.map(formatProblem)).toEqual([
      "blocks/x.liquid (setting a)  translation  't:blocks.x.only' has no entry in locales/fr.schema.json",
    ]);
  });

  describe('over an extension directory', () => {
    const dirs: string[] = [];
    afterAll(() => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });
    const copy = () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'laurel-schema-'));
      dirs.push(dir);
      cpSync(DEFAULT_EXTENSION_DIR, dir, { recursive: true });
      return dir;
    };

    it('names the file of a schema that is missing or not JSON', async () => {
      const dir = copy();
      writeFileSync(path.join(dir, 'blocks', 'broken.liquid'), '<p>no schema</p>');
      const launcher = path.join(dir, 'blocks', 'launcher.liquid');
      writeFileSync(
        launcher,
        readFileSync(launcher, 'utf8').replace('"target": "body",', '"target": "body"'),
      );
      const problems = (await validateExtensionSchemas(dir)).map(formatProblem);
      expect(problems).toEqual([
        'blocks/broken.liquid  schema  blocks/broken.liquid: no {% schema %} tag',
        expect.stringMatching(
          /^blocks\/launcher\.liquid {2}schema {2}blocks\/launcher\.liquid: \{% schema %\} is not valid JSON/,
        ),
      ]);
    });

    it('catches a duplicate id and a stale default in a real block', async () => {
      const dir = copy();
      const file = path.join(dir, 'blocks', 'points-balance.liquid');
      writeFileSync(
        file,
        readFileSync(file, 'utf8')
          .replace('"id": "show_tier"', '"id": "show_lifetime"')
          .replace('"default": "left"', '"default": "justify"'),
      );
      const problems = (await validateExtensionSchemas(dir)).map(formatProblem);
      expect(problems).toContain(
        "blocks/points-balance.liquid (setting show_lifetime)  unique-id  setting id 'show_lifetime' is used twice",
      );
      expect(
        problems.some((p) =>
          p.startsWith('blocks/points-balance.liquid (setting alignment)  setting-schema'),
        ),
      ).toBe(true);
    });
  });
});

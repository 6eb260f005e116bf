// What can be checked of the Function without Shopify: the vendored schema is the one the README
// names, schema.graphql and generated/api.ts are what the script derives from it, the input query is
// valid against it and within Shopify's input-query limits, shopify.extension.toml wires it, and
// tsc holds the JavaScript to the generated types.
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  getNamedType,
  isLeafType,
  Kind,
  parse,
  print,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, test } from 'vitest';
import { FUNCTION_PAST_TIME, FUNCTION_TIME_SLOTS } from '../../../loyalty/early-access';
import {
  EXTENSION_DIR,
  loadFunctionSchema,
  QUERY_FILE,
  renderSchemaFile,
  renderTypesFile,
  SCHEMA_FILE,
  sha256,
  TARGET,
  TYPES_FILE,
  VENDORED_FILE,
} from '../../../scripts/function-schema';
import { TypegenError } from '../../../scripts/function-typegen';
import * as entry from '../src/index.js';

const ROOT = new URL('../../../', import.meta.url);
const run = promisify(execFile);
const schema = loadFunctionSchema();
const querySource = readFileSync(QUERY_FILE, 'utf8');
const query = parse(querySource);

describe('the vendored schema', () => {
  test('has the checksum its provenance record in vendor/shopify/README.md states', () => {
    const readme = readFileSync(new URL('vendor/shopify/README.md', ROOT), 'utf8');
    const section = readme.slice(readme.indexOf('functions_cart_checkout_validation_2026-07'));
    const stated = /sha256: `([0-9a-f]{64})`/.exec(section)?.[1];
    expect(stated).toBe(sha256(VENDORED_FILE));
    expect(section).toContain('@shopify/dev-mcp@1.16.0');
  });

  test('is the Cart and Checkout Validation API, with the result mutation of our target', () => {
    const mutation = schema.getMutationType()!.getFields()['cartValidationsGenerateRun'];
    expect(mutation?.description).toContain(TARGET);
    expect(String(mutation?.args[0]?.type)).toBe('CartValidationsGenerateRunResult!');
  });

  test('schema.graphql is what `--generate` prints from it', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await renderSchemaFile());
  });
});

/** Shopify's input-query cost (shopify.dev/docs/api/functions/latest#input-query-limits). */
function queryCost(schema: GraphQLSchema, document: DocumentNode): number {
  const typeInfo = new TypeInfo(schema);
  let cost = 0;
  let insideMetafield = 0;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter(node) {
          const name = node.name.value;
          const type = typeInfo.getType();
          const named = type ? getNamedType(type).name : '';
          if (name === '__typename' || insideMetafield) return;
          if (named === 'Metafield') {
            cost += 3;
            insideMetafield++;
          } else if (['hasAnyTag', 'hasTags', 'inAnyCollection', 'inCollections'].includes(name)) {
            cost += 3;
          } else if (type && isLeafType(getNamedType(type))) {
            cost += 1;
          }
        },
        leave() {
          const type = typeInfo.getType();
          if (type && getNamedType(type).name === 'Metafield') insideMetafield--;
        },
      },
    }),
  );
  return cost;
}

describe('the input query (src/run.graphql)', () => {
  test('is valid against the schema', () => {
    expect(validate(schema, query).map(String)).toEqual([]);
  });

  test('the validation catches what Shopify would refuse', () => {
    const wrongType = querySource.replace('$t3: DateTimeWithoutTimezone!', '$t3: Date!');
    expect(validate(schema, parse(wrongType)).map((e) => e.message)).toEqual([
      'Variable "$t3" of type "Date!" used in position expecting type "DateTimeWithoutTimezone!".',
    ]);
    const unknownField = querySource.replace('title', 'name');
    expect(validate(schema, parse(unknownField)).map((e) => e.message)).toEqual([
      'Cannot query field "name" on type "Product".',
    ]);
  });

  test("stays within Shopify's limits: cost ≤ 30, ≤ 3000 bytes without comments", () => {
    // Each metafield 3, every other leaf 1, __typename 0: 3 metafields + 16 slot answers + date,
    // title, quantity and the language.
    expect(queryCost(schema, query)).toBe(29);
    expect(Buffer.byteLength(print(query))).toBeLessThanOrEqual(3000);
    const withoutComments = querySource.replace(/^\s*#.*$/gm, '');
    expect(Buffer.byteLength(withoutComments)).toBeLessThanOrEqual(3000);
  });

  test('the cost counter counts (one more metafield and tag test cost 6)', () => {
    const heavier = parse(
      querySource.replace(
        'title',
        'title hasAnyTag(tags: ["vip"]) extra: metafield(key: "x") { value type }',
      ),
    );
    expect(queryCost(schema, heavier)).toBe(35);
  });

  test('declares one slot per FUNCTION_TIME_SLOTS, each defaulting to FUNCTION_PAST_TIME', () => {
    const operation = query.definitions[0];
    if (operation?.kind !== Kind.OPERATION_DEFINITION) throw new Error('no operation');
    const variables = operation.variableDefinitions ?? [];
    expect(variables.map((v) => v.variable.name.value)).toEqual(
      Array.from({ length: FUNCTION_TIME_SLOTS }, (_, i) => `t${i}`),
    );
    for (const v of variables) {
      expect(print(v.type)).toBe('DateTimeWithoutTimezone!');
      expect(v.defaultValue && print(v.defaultValue)).toBe(JSON.stringify(FUNCTION_PAST_TIME));
    }
    const answers: string[] = [];
    visit(query, {
      Field(node) {
        if (node.name.value === 'dateTimeAfter') {
          answers.push(`${node.alias?.value}=${print(node.arguments![0]!.value)}`);
        }
      },
    });
    expect(answers).toEqual(Array.from({ length: FUNCTION_TIME_SLOTS }, (_, i) => `a${i}=$t${i}`));
  });

  test('reads the metafields of the contract, in the app namespace', () => {
    const metafields: string[] = [];
    visit(query, {
      Field(node) {
        if (node.name.value !== 'metafield') return;
        const args = Object.fromEntries(node.arguments!.map((a) => [a.name.value, print(a.value)]));
        metafields.push(`${node.alias?.value}:${args.namespace}.${args.key}`);
      },
    });
    expect(metafields.sort()).toEqual([
      'earlyAccess:"$app"."early_access"',
      'tier:"$app"."tier"',
      'timeSlots:"$app"."early_access_times"',
    ]);
  });
});

describe('shopify.extension.toml', () => {
  const toml = parseToml(readFileSync(join(EXTENSION_DIR, 'shopify.extension.toml'), 'utf8')) as {
    api_version: string;
    extensions: {
      handle: string;
      type: string;
      targeting: { target: string; input_query: string; export: string }[];
      build: { command: string; path: string; typegen_command: string };
      input: { variables: { namespace: string; key: string } };
    }[];
  };
  const extension = toml.extensions[0]!;

  test('a 2026-07 function for cart.validations.generate.run, fed by our slot metafield', () => {
    expect(toml.api_version).toBe('2026-07');
    expect(extension).toMatchObject({ handle: 'laurel-early-access', type: 'function' });
    expect(extension.targeting).toEqual([
      {
        target: TARGET,
        input_query: 'src/run.graphql',
        export: 'cart-validations-generate-run',
      },
    ]);
    expect(extension.input.variables).toEqual({ namespace: '$app', key: 'early_access_times' });
    expect(existsSync(join(EXTENSION_DIR, extension.targeting[0]!.input_query))).toBe(true);
  });

  test('src/index.js exports the target under the name Shopify CLI imports (camel-cased)', () => {
    const exportName = extension.targeting[0]!.export.replace(/-(\w)/g, (_, c: string) =>
      c.toUpperCase(),
    );
    expect(Object.keys(entry)).toEqual([exportName]);
    expect(typeof (entry as Record<string, unknown>)[exportName]).toBe('function');
  });

  test('its typegen command is the script that keeps generated/api.ts fresh', () => {
    expect(extension.build.typegen_command).toBe(
      'npx tsx ../../scripts/function-schema.ts --generate',
    );
    expect(extension.build.path).toBe('dist/function.wasm');
  });
});

describe('the generated types', () => {
  test('generated/api.ts is what `--generate` writes for the current query', async () => {
    expect(readFileSync(TYPES_FILE, 'utf8')).toBe(await renderTypesFile());
  });

  test('a changed query changes them', async () => {
    const types = await renderTypesFile(querySource.replace('title', 'title handle'));
    expect(types).toContain('handle: string;');
  });

  test('what the generator refuses', async () => {
    await expect(
      renderTypesFile(
        'query A { cart { ...Lines } } fragment Lines on Cart { lines { quantity } }',
      ),
    ).rejects.toThrow(TypegenError);
    await expect(
      renderTypesFile('query A { cart { lines @skip(if: true) { quantity } } }'),
    ).rejects.toThrow('directives');
  });

  test(
    'tsc holds the Function to them, and fails when the query and the code disagree',
    { timeout: 120_000 },
    async () => {
      const tsc = new URL('node_modules/typescript/bin/tsc', ROOT).pathname;
      await run(process.execPath, [tsc, '--noEmit', '-p', EXTENSION_DIR]);
      // A copy whose query no longer asks for the product title: the code reading it must fail.
      const dir = mkdtempSync(join(tmpdir(), 'laurel-early-access-'));
      try {
        const copy = join(dir, 'extensions', 'laurel-early-access');
        for (const part of ['src', 'generated']) {
          cpSync(join(EXTENSION_DIR, part), join(copy, part), { recursive: true });
        }
        cpSync(new URL('loyalty', ROOT), join(dir, 'loyalty'), { recursive: true });
        cpSync(new URL('tsconfig.json', ROOT), join(dir, 'tsconfig.json'));
        symlinkSync(new URL('node_modules', ROOT).pathname, join(dir, 'node_modules'));
        writeFileSync(
          join(copy, 'tsconfig.json'),
          JSON.stringify({
            extends: '../../tsconfig.json',
            compilerOptions: { allowJs: true, checkJs: true, types: [] },
            include: ['src', 'generated'],
          }),
        );
        const types = await renderTypesFile(querySource.replace(/^\s*title$/m, ''));
        writeFileSync(join(copy, 'generated', 'api.ts'), types);
        const failed = await run(process.execPath, [tsc, '--noEmit', '-p', copy]).then(
          () => '',
          (error: { stdout: string }) => error.stdout,
        );
        expect(failed).toMatch(/src\/run\.js\(\d+,\d+\): error TS2339: Property 'title'/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

// Input/output fixtures in Shopify's format (tests/fixtures/*.json, what `shopify app function run`
// and the function-test template read), each checked by Shopify's own test helpers: the query
// against schema.graphql, the input against the query's shape and types, the output against the
// target's result type. Then the Function is run on the input and must give the output.
//
// Not here: running dist/function.wasm (the template's buildFunction/runFunction), which needs the
// Javy compiler that only a connected machine can download (docs/checkout-function.md).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadFixture,
  loadInputQuery,
  loadSchema,
  validateTestAssets,
  type FixtureData,
} from '@shopify/shopify-function-test-helpers';
import { parse as parseToml } from 'smol-toml';
import { beforeAll, describe, expect, test } from 'vitest';
import { EXTENSION_DIR, QUERY_FILE, SCHEMA_FILE, TARGET } from '../../../scripts/function-schema';
import type { CartValidationsGenerateRunInput } from '../generated/api';
import { cartValidationsGenerateRun } from '../src/run.js';

const FIXTURES = join(EXTENSION_DIR, 'tests', 'fixtures');
const files = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.json'))
  .sort();
const toml = parseToml(readFileSync(join(EXTENSION_DIR, 'shopify.extension.toml'), 'utf8')) as {
  extensions: { targeting: { export: string }[] }[];
};
const EXPORT = toml.extensions[0]!.targeting[0]!.export;

let schema: Awaited<ReturnType<typeof loadSchema>>;
let inputQueryAST: Awaited<ReturnType<typeof loadInputQuery>>;
beforeAll(async () => {
  schema = await loadSchema(SCHEMA_FILE);
  inputQueryAST = await loadInputQuery(QUERY_FILE);
});

async function check(fixture: FixtureData) {
  const result = await validateTestAssets({ schema, fixture, inputQueryAST });
  return {
    error: result.error,
    mutationName: result.mutationName,
    inputQuery: result.inputQuery.errors.map((e) => e.message),
    inputFixture: result.inputFixture.errors.map((e) => `${e.path.join('.')}: ${e.message}`),
    outputFixture: result.outputFixture.errors.map((e) => e.message),
  };
}

const VALID = {
  error: undefined,
  mutationName: 'cartValidationsGenerateRun',
  inputQuery: [],
  inputFixture: [],
  outputFixture: [],
};

describe.each(files)('%s', (file) => {
  test('is valid for the schema, the query and the target', async () => {
    const fixture = await loadFixture(join(FIXTURES, file));
    expect(fixture.export).toBe(EXPORT);
    expect(fixture.target).toBe(TARGET);
    expect(await check(fixture)).toEqual(VALID);
  });

  test('is what the Function returns for its input', async () => {
    const fixture = await loadFixture(join(FIXTURES, file));
    const input = fixture.input as CartValidationsGenerateRunInput;
    expect(cartValidationsGenerateRun(input)).toEqual(fixture.expectedOutput);
  });
});

test('the fixtures cover refused and allowed carts', async () => {
  const counts = await Promise.all(
    files.map(async (file) => {
      const fixture = await loadFixture(join(FIXTURES, file));
      return (fixture.expectedOutput.operations[0].validationAdd.errors as unknown[]).length;
    }),
  );
  expect(counts.filter((n) => n === 0).length).toBeGreaterThanOrEqual(3);
  expect(counts.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
});

describe('the checks are live', () => {
  const base = () => loadFixture(join(FIXTURES, 'bronze-during-early-access.json'));

  test('an input missing a slot answer, or with a field the query does not ask, is refused', async () => {
    const fixture = await base();
    delete fixture.input.shop.localTime.a15;
    fixture.input.cart.lines[0].merchandise.product.handle = 'aurora-jacket';
    expect((await check(fixture)).inputFixture).toEqual([
      'cart.lines.0.merchandise.product.handle: Extra field `handle` found in fixture data not in query',
      'shop.localTime.a15: Missing expected fixture data for `a15`',
    ]);
  });

  test('an input of the wrong type is refused', async () => {
    const fixture = await base();
    fixture.input.cart.lines[0].quantity = 'two';
    expect((await check(fixture)).inputFixture).toEqual([
      'cart.lines.0.quantity: Int cannot represent non-integer value: "two"',
    ]);
  });

  test('an output Shopify would not accept is refused', async () => {
    const fixture = await base();
    const error = fixture.expectedOutput.operations[0].validationAdd.errors[0];
    error.localizedMessage = error.message;
    delete error.message;
    expect((await check(fixture)).outputFixture).toEqual([
      'Field "message" of required type "String!" was not provided. At "operations.0.validationAdd.errors.0"',
      'Field "localizedMessage" is not defined by type "ValidationError". At "operations.0.validationAdd.errors.0"',
    ]);
  });
});

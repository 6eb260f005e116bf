import { readFileSync } from 'node:fs';
import {
  getOperationAST,
  Kind,
  NoDeprecatedCustomRule,
  parse,
  print,
  specifiedRules,
  validate,
  type OperationDefinitionNode,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { adminSchema } from '../shopify/admin-schema.server';
import { GENERATED_FILE, GRAPHQL_DIR, graphqlFiles, renderDocumentsModule } from './codegen';
import {
  adminDocuments,
  CustomerById,
  LOYALTY_METAFIELD_NAMESPACE,
  POINTS_BALANCE_METAFIELD_KEY,
  ShopInfo,
} from './index';

const files = graphqlFiles();
const sourceOf = (file: string) => readFileSync(`${GRAPHQL_DIR}/${file}`, 'utf8');

describe('Admin GraphQL documents against Shopify 2026-07', () => {
  it('has documents to check', () => {
    // Guards the loop below against passing vacuously on an empty folder.
    expect(files.length).toBeGreaterThanOrEqual(12);
  });

  it.each(files)('%s parses and validates against the real schema', (file) => {
    const errors = validate(adminSchema(), parse(sourceOf(file)));
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  it.each(files)('%s uses no deprecated fields (they disappear in later versions)', (file) => {
    const errors = validate(adminSchema(), parse(sourceOf(file)), [
      ...specifiedRules,
      NoDeprecatedCustomRule,
    ]);
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  it('fails a document with a misspelt field, so the check above can fail', () => {
    const misspelt = ShopInfo.source.replace('currencyCode', 'currencyCod');
    expect(misspelt).not.toBe(ShopInfo.source);
    const errors = validate(adminSchema(), parse(misspelt));
    expect(errors.map((e) => e.message)).toEqual([
      'Cannot query field "currencyCod" on type "Shop". Did you mean "currencyCode"?',
    ]);
  });

  it('fails a field removed in earlier versions and a wrong argument type', () => {
    // Customer.ordersCount was replaced by numberOfOrders; old tutorials still use it.
    const errors = validate(
      adminSchema(),
      parse('query { customers(first: "ten") { nodes { id ordersCount } } }'),
    );
    expect(errors.map((e) => e.message)).toEqual([
      'Int cannot represent non-integer value: "ten"',
      expect.stringMatching(/^Cannot query field "ordersCount" on type "Customer"\./),
    ]);
  });

  it('rejects malformed Shopify scalars in literals (DateTime, Decimal)', () => {
    const errors = validate(
      adminSchema(),
      parse(`mutation {
        storeCreditAccountCredit(
          id: "gid://shopify/Customer/1"
          creditInput: { creditAmount: { amount: "ten", currencyCode: USD }, expiresAt: "next week" }
        ) { userErrors { message } }
      }`),
    );
    expect(errors.map((e) => e.message)).toEqual([
      'Expected value of type "Decimal!", found "ten"; Decimal must be a decimal number such as 12.50',
      'Expected value of type "DateTime", found "next week"; DateTime must be an ISO 8601 date-time such as 2026-07-01T12:00:00Z',
    ]);
  });
});

describe('typed document exports', () => {
  it('export every .graphql file exactly once, each with one named operation', () => {
    expect(adminDocuments.map((d) => d.file).sort()).toEqual(files);
    for (const document of adminDocuments) {
      const operation = getOperationAST(parse(document.source));
      expect(operation?.name?.value).toBe(document.operationName);
      expect(operation?.operation).toBe(document.kind);
    }
  });

  it('ship exactly the text of the .graphql files (the generated module is up to date)', async () => {
    // If this fails: npm run graphql:generate
    expect(readFileSync(GENERATED_FILE, 'utf8')).toBe(await renderDocumentsModule());
    for (const document of adminDocuments) expect(document.source).toBe(sourceOf(document.file));
  });

  it('only mark mutations retry-safe when repeating them changes nothing', () => {
    const retrySafeMutations = adminDocuments
      .filter((d) => d.kind === 'mutation' && d.retrySafe)
      .map((d) => d.operationName)
      .sort();
    expect(retrySafeMutations).toEqual([
      'CustomerTierTags',
      'DiscountCodeActivate',
      'DiscountCodeBasicUpdate',
      'DiscountCodeDeactivate',
      'MetafieldsDelete',
      'MetafieldsSet',
      'SegmentUpdate',
      'TagsAdd',
      'TagsRemove',
    ]);
    // Creates are not: a second create could make a second discount or credit a second time.
    expect(
      adminDocuments
        .filter((d) => /Create$|Credit$|Debit$/.test(d.operationName))
        .every((d) => !d.retrySafe),
    ).toBe(true);
    expect(adminDocuments.filter((d) => d.kind === 'query').every((d) => d.retrySafe)).toBe(true);
  });

  it('read the points balance from the same metafield Laurel writes', () => {
    const operation = parse(CustomerById.source).definitions[0] as OperationDefinitionNode;
    const defaults = Object.fromEntries(
      (operation.variableDefinitions ?? []).map((v) => [
        v.variable.name.value,
        v.defaultValue?.kind === Kind.STRING ? v.defaultValue.value : undefined,
      ]),
    );
    expect(defaults.balanceNamespace).toBe(LOYALTY_METAFIELD_NAMESPACE);
    expect(defaults.balanceKey).toBe(POINTS_BALANCE_METAFIELD_KEY);
    expect(print(operation)).toContain('metafield(namespace: $balanceNamespace, key: $balanceKey)');
  });
});

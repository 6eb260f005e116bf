import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  buildClientSchema,
  GraphQLScalarType,
  Kind,
  type GraphQLSchema,
  type IntrospectionQuery,
  type ValueNode,
} from 'graphql';

/**
 * Shopify's real Admin GraphQL schema (2026-07), built from the introspection JSON committed under
 * vendor/shopify (see its README for provenance). Used to validate Laurel's documents in tests and
 * by the local Admin API emulator; production code paths never need it.
 *
 * Loading costs about 0.2 s (gunzip 20 ms, JSON.parse 70 ms, buildClientSchema 100 ms for 11 MB),
 * so it happens once per process (per test file under vitest, which isolates modules).
 */
export const ADMIN_SCHEMA_VERSION = '2026-07';

const SCHEMA_FILE = `vendor/shopify/admin_${ADMIN_SCHEMA_VERSION}.json.gz`;

let cached: GraphQLSchema | undefined;

/** The Admin schema, loaded on first use and cached for the life of the process. */
export function adminSchema(): GraphQLSchema {
  cached ??= loadAdminSchema();
  return cached;
}

/** Reads and builds the schema from `path` (default: the vendored file). Uncached; prefer adminSchema(). */
export function loadAdminSchema(path: string = locateSchemaFile()): GraphQLSchema {
  let introspection: { data?: IntrospectionQuery } & Partial<IntrospectionQuery>;
  try {
    introspection = JSON.parse(gunzipSync(readFileSync(path)).toString('utf8'));
  } catch (error) {
    throw new Error(`Cannot read the Shopify Admin schema at ${path}: ${(error as Error).message}`);
  }
  const schema = buildClientSchema(introspection.data ?? (introspection as IntrospectionQuery));
  refineShopifyScalars(schema);
  return schema;
}

function locateSchemaFile(): string {
  // Beside the sources (tsx, vitest); from the working directory when running out of a bundle.
  const candidates = [
    fileURLToPath(new URL(`../../${SCHEMA_FILE}`, import.meta.url)),
    resolve(process.cwd(), SCHEMA_FILE),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error(`Shopify Admin schema not found; looked in: ${candidates.join(', ')}`);
  }
  return found;
}

/**
 * A schema built from introspection accepts any value for custom scalars. Shopify does not: it
 * rejects `startsAt: "next week"` or `amount: "ten"` before executing anything. These checks give
 * the emulator (and literal values in our documents) the same strictness for the scalars Laurel sends.
 */
function refineShopifyScalars(schema: GraphQLSchema): void {
  const rules: Record<string, { accepts: (value: unknown) => boolean; expected: string }> = {
    DateTime: {
      accepts: isDateTime,
      expected: 'an ISO 8601 date-time such as 2026-07-01T12:00:00Z',
    },
    Date: { accepts: isDate, expected: 'an ISO 8601 date such as 2026-07-01' },
    Decimal: { accepts: isDecimal, expected: 'a decimal number such as 12.50' },
    Money: { accepts: isDecimal, expected: 'a decimal amount such as 12.50' },
    UnsignedInt64: { accepts: isUnsignedInt64, expected: 'a non-negative whole number' },
    URL: { accepts: isUrl, expected: 'an absolute URL' },
  };
  for (const [name, rule] of Object.entries(rules)) {
    const type = schema.getType(name);
    if (!(type instanceof GraphQLScalarType)) continue;
    type.parseValue = (value: unknown) => {
      if (!rule.accepts(value)) {
        // A plain Error: graphql-js prefixes it with where the bad value was found.
        throw new Error(`${name} must be ${rule.expected}; got ${JSON.stringify(value)}`);
      }
      return value;
    };
    type.parseLiteral = (node: ValueNode) => {
      const value = literalValue(node);
      if (value === undefined || !rule.accepts(value)) {
        throw new Error(`${name} must be ${rule.expected}`);
      }
      return value;
    };
  }
}

function literalValue(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.STRING:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    default:
      return undefined;
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function isDate(value: unknown): boolean {
  return typeof value === 'string' && DATE.test(value) && !Number.isNaN(Date.parse(value));
}

function isDateTime(value: unknown): boolean {
  return typeof value === 'string' && DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
}

function isDecimal(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value);
}

function isUnsignedInt64(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0;
  return typeof value === 'string' && /^\d{1,20}$/.test(value);
}

function isUrl(value: unknown): boolean {
  return typeof value === 'string' && URL.canParse(value);
}

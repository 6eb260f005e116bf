/**
 * TypeScript types for a Shopify Function: the shape of its input (what its input query asks, as
 * Shopify answers it) and of its result (the input object the target's mutation takes), generated
 * from the Function API schema with graphql-js alone.
 *
 * Why not `shopify app function typegen`: for JavaScript it runs GraphQL Code Generator from
 * `@shopify/shopify_function`'s dependencies (337 packages), which this repo does not install. The
 * names match what that generator emits (`<OperationName>`, the result input type's name), so a
 * function written against these types also compiles against Shopify's.
 *
 * Differences, on purpose: the `JSON` scalar is `unknown` (so metafield JSON must be checked before
 * use, where codegen says `any`) and the string scalars (Date, DateTimeWithoutTimezone, Decimal, …)
 * are `string`. Supported query features: fields, aliases, `__typename`, inline fragments (on
 * objects, interfaces and unions). Named fragments and @skip/@include are refused: the types would
 * need optional fields, and a Function query has no use for them.
 */
import {
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionNode,
} from 'graphql';

const SCALARS: Readonly<Record<string, string>> = {
  String: 'string',
  ID: 'string',
  Int: 'number',
  Float: 'number',
  Boolean: 'boolean',
  JSON: 'unknown',
  Void: 'null',
};

export class TypegenError extends Error {
  override name = 'TypegenError';
}

function scalarType(name: string): string {
  // Shopify's custom scalars (Date, DateTime, DateTimeWithoutTimezone, Decimal, Handle, URL, …) are
  // strings on the wire.
  return SCALARS[name] ?? 'string';
}

/** A description's first paragraph as a doc comment. */
function describe(description: string | null | undefined): string {
  const first = description
    ?.split(/\n\s*\n/)[0]
    ?.replace(/\s+/g, ' ')
    .trim();
  return first ? `/** ${first.replace(/\*\//g, '*\\/')} */\n` : '';
}

/** The object types `selection` can be, given its parent type and an inline fragment's condition. */
function appliesTo(
  schema: GraphQLSchema,
  condition: string | undefined,
  object: GraphQLObjectType,
) {
  if (condition === undefined || condition === object.name) return true;
  const type = schema.getType(condition);
  return !!type && isAbstractType(type) && schema.isSubType(type, object);
}

function line(node: SelectionNode): number | string {
  return node.loc?.startToken.line ?? '?';
}

function pad(depth: number): string {
  return '  '.repeat(depth);
}

/** One generation: the schema, and the enums met so far (emitted once each, by name). */
class Generator {
  readonly enums = new Map<string, string>();
  constructor(readonly schema: GraphQLSchema) {}

  leaf(type: GraphQLNamedType): string | null {
    if (isScalarType(type)) return scalarType(type.name);
    if (isEnumType(type)) {
      const members = type
        .getValues()
        .map((v) => `'${v.name}'`)
        .join(' | ');
      this.enums.set(
        type.name,
        `${describe(type.description)}export type ${type.name} = ${members};`,
      );
      return type.name;
    }
    return null;
  }

  /** Fields selected on `object`, by response key, merged across inline fragments. */
  collectFields(
    object: GraphQLObjectType,
    selections: readonly SelectionNode[],
    into = new Map<string, FieldNode[]>(),
  ): Map<string, FieldNode[]> {
    for (const selection of selections) {
      if (selection.directives?.length) {
        throw new TypegenError(
          `directives in the input query are not supported (line ${line(selection)})`,
        );
      }
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        into.set(key, [...(into.get(key) ?? []), selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (appliesTo(this.schema, selection.typeCondition?.name.value, object)) {
          this.collectFields(object, selection.selectionSet.selections, into);
        }
      } else {
        throw new TypegenError(`named fragments are not supported (line ${line(selection)})`);
      }
    }
    return into;
  }

  objectShape(object: GraphQLObjectType, selections: readonly SelectionNode[], depth: number) {
    const lines: string[] = [];
    for (const [key, nodes] of this.collectFields(object, selections)) {
      const name = nodes[0]!.name.value;
      if (name === '__typename') {
        lines.push(`${pad(depth + 1)}${key}: '${object.name}';`);
        continue;
      }
      const field = object.getFields()[name];
      if (!field) throw new TypegenError(`${object.name} has no field ${name}`);
      const sub = nodes.flatMap((n) => n.selectionSet?.selections ?? []);
      lines.push(`${pad(depth + 1)}${key}: ${this.output(field.type, sub, depth + 1)};`);
    }
    return lines.length ? `{\n${lines.join('\n')}\n${pad(depth)}}` : '{}';
  }

  output(type: GraphQLOutputType, selections: readonly SelectionNode[], depth: number): string {
    if (isNonNullType(type)) return this.nonNullOutput(type.ofType, selections, depth);
    // A union stays a flat union: `A | B | null`.
    return `${this.nonNullOutput(type, selections, depth)} | null`;
  }

  nonNullOutput(type: GraphQLOutputType, selections: readonly SelectionNode[], depth: number) {
    if (isListType(type)) return `Array<${this.output(type.ofType, selections, depth)}>`;
    const named = getNamedType(type);
    const leaf = this.leaf(named);
    if (leaf !== null) return leaf;
    const objects = isAbstractType(named)
      ? this.schema.getPossibleTypes(named)
      : isObjectType(named)
        ? [named]
        : [];
    // One variant per concrete type; identical variants (nothing type-specific selected) merge.
    return [...new Set(objects.map((o) => this.objectShape(o, selections, depth)))].join(' | ');
  }

  input(type: GraphQLInputType, seen: Set<string>): string {
    if (isNonNullType(type)) return this.input(type.ofType, seen).replace(/ \| null$/, '');
    if (isListType(type)) return `Array<${this.input(type.ofType, seen)}> | null`;
    const named = getNamedType(type);
    if (isInputObjectType(named)) {
      seen.add(named.name);
      return `${named.name} | null`;
    }
    return `${this.leaf(named)} | null`;
  }

  /** `rootName` and every input object type it reaches, as exported types. */
  inputObjects(rootName: string): string[] {
    const out: string[] = [];
    const done = new Set<string>();
    const queue = [rootName];
    while (queue.length) {
      const name = queue.shift()!;
      if (done.has(name)) continue;
      done.add(name);
      const type = this.schema.getType(name);
      if (!type || !isInputObjectType(type)) throw new TypegenError(`${name} is not an input type`);
      const seen = new Set<string>();
      const lines = Object.values(type.getFields()).map((field) => {
        const optional = !isNonNullType(field.type);
        return `  ${field.name}${optional ? '?' : ''}: ${this.input(field.type, seen)};`;
      });
      out.push(`${describe(type.description)}export type ${name} = {\n${lines.join('\n')}\n};`);
      queue.push(...[...seen].filter((s) => !done.has(s)));
    }
    return out;
  }
}

/** The mutation Shopify calls with the Function's result for `target`, and its argument's type. */
export function resultTypeName(schema: GraphQLSchema, target: string): string {
  const mutation = schema.getMutationType();
  const field = Object.values(mutation?.getFields() ?? {}).find((f) =>
    f.description?.includes(`for the ${target} target`),
  );
  const arg = field?.args[0];
  if (!field || !arg) throw new TypegenError(`the schema has no result mutation for ${target}`);
  return getNamedType(arg.type).name;
}

/**
 * The module text: `export type <OperationName>` for the input, then the result type and every
 * input type it reaches. Unformatted; the caller runs prettier.
 */
export function functionTypes(
  schema: GraphQLSchema,
  query: DocumentNode,
  target: string,
  header: string,
): string {
  const operations = query.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operations[0];
  if (operations.length !== 1 || !operation || operation.operation !== 'query') {
    throw new TypegenError('the input query must be exactly one query operation');
  }
  if (query.definitions.length !== 1) throw new TypegenError('named fragments are not supported');
  const name = operation.name?.value;
  if (!name) throw new TypegenError('the input query must be named (its name names the type)');
  const root = schema.getQueryType();
  if (!root) throw new TypegenError('the schema has no query type');
  const generator = new Generator(schema);
  const input = generator.objectShape(root, operation.selectionSet.selections, 0);
  const result = generator.inputObjects(resultTypeName(schema, target));
  return [
    header,
    `/** What the input query (src/run.graphql) receives: Shopify's answer to it. */\n` +
      `export type ${name} = ${input};`,
    ...result,
    ...generator.enums.values(),
  ].join('\n\n');
}

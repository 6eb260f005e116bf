import {
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isLeafType,
  isObjectType,
  Kind,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { getArgumentValues } from 'graphql/execution/values';

/**
 * A simplified version of Shopify's query cost model (shopify.dev "API rate limits"):
 * scalars and enums 0, each object 1, a connection 2 plus `first`/`last` times the cost of one
 * node, each mutation field 10. Shopify admits a query when its requested cost is in the bucket and
 * refunds the difference once the actual cost (real page sizes) is known.
 */
export const MUTATION_COST = 10;
export const CONNECTION_COST = 2;
/** Shopify refuses any single query above this. */
export const SINGLE_QUERY_MAX_COST = 1000;

export function isConnectionField(field: GraphQLField<unknown, unknown>): boolean {
  const named = getNamedType(field.type);
  return (
    isObjectType(named) &&
    named.name.endsWith('Connection') &&
    field.args.some((a) => a.name === 'first')
  );
}

/** The requested cost of `operation` with its coerced variables. */
export function requestedCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): number {
  if (operation.operation === 'mutation') {
    // Shopify charges a flat 10 per mutation field; its payload selection is not added.
    return (
      operation.selectionSet.selections.filter((s) => s.kind === Kind.FIELD).length * MUTATION_COST
    );
  }
  const root = schema.getQueryType();
  if (!root) return 0;

  function selectionCost(selectionSet: SelectionSetNode, parent: GraphQLCompositeType): number {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition
          ? (schema.getType(selection.typeCondition.name.value) as GraphQLCompositeType)
          : parent;
        total += selectionCost(selection.selectionSet, type);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments[selection.name.value];
        if (fragment) {
          const type = schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType;
          total += selectionCost(fragment.selectionSet, type);
        }
      } else {
        if (!isObjectType(parent) && !isInterfaceType(parent)) continue;
        const field = parent.getFields()[selection.name.value];
        if (!field || !selection.selectionSet) continue;
        const named = getNamedType(field.type);
        if (isLeafType(named) || !isCompositeType(named)) continue;
        if (isConnectionField(field)) {
          const args = getArgumentValues(field, selection, variables) as {
            first?: number;
            last?: number;
          };
          const pageSize = args.first ?? args.last ?? 0;
          total += CONNECTION_COST + pageSize * connectionNodeCost(selection.selectionSet, named);
        } else {
          total += 1 + selectionCost(selection.selectionSet, named);
        }
      }
    }
    return total;
  }

  /** Cost of one node of a connection: `edges { node }` and `nodes` each count, pageInfo is free. */
  function connectionNodeCost(
    selectionSet: SelectionSetNode,
    connection: GraphQLNamedType,
  ): number {
    if (!isObjectType(connection)) return 0;
    const fields = connection.getFields();
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind !== Kind.FIELD || !selection.selectionSet) continue;
      const name = selection.name.value;
      if (name === 'nodes') {
        const nodeType = getNamedType(fields.nodes!.type) as GraphQLCompositeType;
        total += 1 + selectionCost(selection.selectionSet, nodeType);
      } else if (name === 'edges') {
        const edgeType = getNamedType(fields.edges!.type);
        if (!isObjectType(edgeType)) continue;
        for (const edgeSelection of selection.selectionSet.selections) {
          if (
            edgeSelection.kind === Kind.FIELD &&
            edgeSelection.name.value === 'node' &&
            edgeSelection.selectionSet
          ) {
            const nodeType = getNamedType(edgeType.getFields().node!.type) as GraphQLCompositeType;
            total += 1 + selectionCost(edgeSelection.selectionSet, nodeType);
          }
        }
      }
    }
    return total;
  }

  return selectionCost(operation.selectionSet, root);
}

/**
 * Shopify's leaky bucket per shop: 2000 points, restoring 100 per second (the standard plan's
 * figures). Points may go fractional between whole seconds; reports floor them like Shopify.
 */
export class CostBucket {
  private available: number;
  private updatedAt: number;

  constructor(
    readonly maximumAvailable: number,
    readonly restoreRate: number,
    now: number,
  ) {
    this.available = maximumAvailable;
    this.updatedAt = now;
  }

  currentlyAvailable(now: number): number {
    this.refill(now);
    return this.available;
  }

  /** Takes `points` if available; false (nothing taken) otherwise. */
  take(points: number, now: number): boolean {
    this.refill(now);
    if (points > this.available) return false;
    this.available -= points;
    return true;
  }

  /** Gives back the difference when the actual cost came in under the requested cost. */
  refund(points: number, now: number): void {
    this.refill(now);
    this.available = Math.min(this.maximumAvailable, this.available + points);
  }

  set(points: number, now: number): void {
    this.refill(now);
    this.available = Math.max(0, Math.min(this.maximumAvailable, points));
  }

  status(now: number): {
    maximumAvailable: number;
    currentlyAvailable: number;
    restoreRate: number;
  } {
    return {
      maximumAvailable: this.maximumAvailable,
      currentlyAvailable: Math.floor(this.currentlyAvailable(now)),
      restoreRate: this.restoreRate,
    };
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.available = Math.min(this.maximumAvailable, this.available + elapsed * this.restoreRate);
    this.updatedAt = now;
  }
}

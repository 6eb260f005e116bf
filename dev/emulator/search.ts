import { GraphQLError } from 'graphql';
import { notImplemented } from './values';

/**
 * The slice of Shopify's search syntax (`query:` arguments) the emulator understands: terms
 * `field:value`, `field:>value`, `>=`, `<`, `<=`, values optionally quoted, joined by spaces or AND.
 * Anything else (OR, NOT, free text, unknown fields) is refused with an explicit error rather than
 * silently matching everything, so a test can never pass on a filter that was ignored.
 */

export type Comparator = ':' | '>' | '>=' | '<' | '<=';

export interface SearchTerm {
  field: string;
  comparator: Comparator;
  value: string;
}

const TERM = /^([a-z_]+):(>=|<=|>|<)?(?:'([^']*)'|"([^"]*)"|(\S+))/;

export function parseSearch(
  query: string | null | undefined,
  allowedFields: string[],
): SearchTerm[] {
  const terms: SearchTerm[] = [];
  let rest = (query ?? '').trim();
  while (rest !== '') {
    if (/^AND\s/.test(rest)) {
      rest = rest.slice(3).trimStart();
      continue;
    }
    const match = TERM.exec(rest);
    if (!match) {
      throw notImplemented(`search syntax '${rest.split(/\s/)[0]}' (supported: field:value terms)`);
    }
    const field = match[1]!;
    if (!allowedFields.includes(field)) {
      throw notImplemented(`search field '${field}' (supported: ${allowedFields.join(', ')})`);
    }
    terms.push({
      field,
      comparator: (match[2] as Comparator | undefined) ?? ':',
      value: match[3] ?? match[4] ?? match[5] ?? '',
    });
    rest = rest.slice(match[0].length).trimStart();
  }
  return terms;
}

export function compareNumbers(actual: number, term: SearchTerm, expected: number): boolean {
  switch (term.comparator) {
    case ':':
      return actual === expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
  }
}

export function matchDate(actualMs: number | null, term: SearchTerm): boolean {
  if (actualMs === null) return false;
  const expected = Date.parse(term.value);
  if (Number.isNaN(expected)) {
    throw new GraphQLError(`Invalid date in search query: ${term.field}:${term.value}`, {
      extensions: { code: 'INVALID_SEARCH' },
    });
  }
  return compareNumbers(actualMs, term, expected);
}

export function matchId(actualId: number, term: SearchTerm): boolean {
  const numeric = Number(term.value.replace(/^gid:\/\/shopify\/\w+\//, ''));
  if (!Number.isSafeInteger(numeric)) {
    throw new GraphQLError(`Invalid id in search query: ${term.field}:${term.value}`, {
      extensions: { code: 'INVALID_SEARCH' },
    });
  }
  return compareNumbers(actualId, term, numeric);
}

export function matchText(actual: string | null, term: SearchTerm): boolean {
  if (term.comparator !== ':')
    throw notImplemented(`search comparator ${term.comparator} on ${term.field}`);
  return actual !== null && actual.toLowerCase() === term.value.toLowerCase();
}

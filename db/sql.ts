/**
 * SQL whose text does not depend on how many rows it carries. A statement built with one bind
 * parameter per value (`IN ($1, $2, …)`, `VALUES (…), (…)`) is a new statement for every batch
 * size: PostgreSQL parses and plans it again and the driver caches one more prepared statement per
 * connection, and drizzle checks every parameter. These pass the values as ONE parameter — an
 * array, or the rows as JSON — so each statement is prepared once and reused (db/client.server.ts
 * prepares every statement).
 */
import { getTableColumns, getTableName, sql, type Column, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/** `column = ANY($1::type[])`: membership in a list passed as one array parameter. */
export function anyOf(column: Column, values: readonly unknown[]): SQL {
  return sql`${column} = ANY(${sql.param([...values])}::${sql.raw(sqlType(column))}[])`;
}

function sqlType(column: Column): string {
  const type = (column as unknown as { getSQLType(): string }).getSQLType();
  // The serial types are integers with a sequence; arrays and recordsets want the plain type.
  if (type === 'serial') return 'integer';
  if (type === 'bigserial') return 'bigint';
  return type;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

type Insertable<T extends PgTable> = T['$inferInsert'];

/**
 * A `SELECT` producing `rows` as rows of `table`, every column in the table's order, for
 * `db.insert(table).select(recordset(table, rows))` (drizzle inserts into every column): the
 * given fields from a JSON parameter read with `jsonb_to_recordset`, serial columns from their
 * sequence, columns left out from their default (`now()` for defaultNow) or NULL. Rows come out
 * in the order given, so serial ids increase in that order. Every row must give the same fields.
 *
 * Fields named in `asText` are given as the column's text form (a string, or null) and cast by
 * PostgreSQL: a jsonb column so holds PostgreSQL's parse of a body as received, not a re-encoding.
 */
export function recordset<T extends PgTable>(
  table: T,
  rows: readonly Insertable<T>[],
  options: { asText?: readonly (keyof Insertable<T> & string)[] } = {},
): SQL {
  const asText = new Set<string>(options.asText ?? []);
  const columns = Object.entries(getTableColumns(table)) as [string, Column][];
  const given = rows[0] ? new Set(Object.keys(rows[0])) : new Set<string>();
  const json = JSON.stringify(
    rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (const [key, column] of columns) {
        if (!given.has(key)) continue;
        const value = (row as Record<string, unknown>)[key];
        out[column.name] = value === undefined ? null : value;
      }
      return out;
    }),
  );
  const tableName = getTableName(table);
  const projections: SQL[] = [];
  const definitions: string[] = [];
  for (const [key, column] of columns) {
    if (given.has(key)) {
      const field = `x.${quoteIdent(column.name)}`;
      projections.push(sql.raw(asText.has(key) ? `${field}::${sqlType(column)}` : field));
      definitions.push(`${quoteIdent(column.name)} ${asText.has(key) ? 'text' : sqlType(column)}`);
      continue;
    }
    const type = (column as unknown as { getSQLType(): string }).getSQLType();
    if (type === 'serial' || type === 'bigserial') {
      projections.push(
        sql`nextval(pg_get_serial_sequence(${quoteIdent(tableName)}, ${column.name}))`,
      );
    } else if (column.default !== undefined) {
      const value = column.default;
      projections.push(
        typeof value === 'object' && value !== null && 'getSQL' in value
          ? (value as SQL)
          : sql`${value}::${sql.raw(type)}`,
      );
    } else {
      projections.push(sql`NULL::${sql.raw(type)}`);
    }
  }
  return sql`SELECT ${sql.join(projections, sql`, `)} FROM jsonb_to_recordset(${json}::jsonb) AS x(${sql.raw(definitions.join(', '))})`;
}

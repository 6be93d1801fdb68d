// The column types a declaration may use, read from what it writes (`numeric(12,2)`, `varchar(40)`)
// and from what PostgreSQL reports of a live column (`format_type`: `numeric(12,2)`, `character
// varying(40)`, `timestamp with time zone`), so a declaration and a table compare as values. Each
// type says how the lake (Parquet) and the search index hold it by default, and which changes of it
// widen it (the values of the old type all fit, unchanged, in the new one).
import type { SearchFieldType } from './search';

export type BaseType =
  | 'smallint'
  | 'integer'
  | 'bigint'
  | 'numeric'
  | 'real'
  | 'double precision'
  | 'text'
  | 'varchar'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'uuid'
  | 'jsonb';

export interface ColumnType {
  base: BaseType;
  /** numeric(p,s): digits in all (absent: unconstrained numeric). */
  precision?: number;
  /** numeric(p,s): digits after the point. */
  scale?: number;
  /** varchar(n). */
  length?: number;
}

const ALIASES: Readonly<Record<string, BaseType>> = {
  smallint: 'smallint',
  int2: 'smallint',
  integer: 'integer',
  int: 'integer',
  int4: 'integer',
  bigint: 'bigint',
  int8: 'bigint',
  numeric: 'numeric',
  decimal: 'numeric',
  real: 'real',
  float4: 'real',
  'double precision': 'double precision',
  float8: 'double precision',
  text: 'text',
  varchar: 'varchar',
  'character varying': 'varchar',
  boolean: 'boolean',
  bool: 'boolean',
  date: 'date',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  timestamptz: 'timestamptz',
  'timestamp with time zone': 'timestamptz',
  uuid: 'uuid',
  jsonb: 'jsonb',
};

/** The types a declaration may name, for the message that refuses another one. */
export const KNOWN_TYPES =
  'smallint, integer, bigint, numeric(p,s), real, double precision, text, varchar(n), boolean, date, timestamp, timestamptz, uuid, jsonb';

const PATTERN = /^([a-z][a-z0-9 ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/;

/** The type a declaration or `format_type` names, or undefined when it is none of KNOWN_TYPES. */
export function parseColumnType(type: string): ColumnType | undefined {
  const m = PATTERN.exec(type.trim().toLowerCase().replace(/\s+/g, ' '));
  if (!m) return undefined;
  const base = ALIASES[m[1]!];
  const a = m[2] === undefined ? undefined : Number(m[2]);
  const b = m[3] === undefined ? undefined : Number(m[3]);
  if (!base) return undefined;
  if (base === 'numeric') {
    if (a === undefined) return { base };
    if (a < 1 || a > 1000 || (b ?? 0) > a) return undefined;
    return { base, precision: a, scale: b ?? 0 };
  }
  if (base === 'varchar') {
    if (a === undefined) return { base: 'text' };
    if (b !== undefined || a < 1) return undefined;
    return { base, length: a };
  }
  return a === undefined ? { base } : undefined;
}

/** The canonical spelling: what DDL is written with and what the schema history records. */
export function formatColumnType(t: ColumnType): string {
  if (t.base === 'numeric' && t.precision !== undefined) return `numeric(${t.precision},${t.scale ?? 0})`;
  if (t.base === 'varchar') return `varchar(${t.length})`;
  return t.base;
}

export function sameType(a: ColumnType, b: ColumnType): boolean {
  return formatColumnType(a) === formatColumnType(b);
}

const INTEGER_RANK: Partial<Record<BaseType, number>> = { smallint: 1, integer: 2, bigint: 3 };

/**
 * True when every value of `from` fits unchanged in `to`, so `ALTER COLUMN … TYPE to` cannot fail
 * or alter a value: smallint → integer → bigint, numeric with as many digits before and after the
 * point or more (or unconstrained), varchar(n) → varchar(m ≥ n) → text. timestamp → timestamptz is
 * not one: it reinterprets every value in the server's time zone.
 */
export function isWidening(from: ColumnType, to: ColumnType): boolean {
  if (sameType(from, to)) return false;
  const fi = INTEGER_RANK[from.base];
  const ti = INTEGER_RANK[to.base];
  if (fi !== undefined && ti !== undefined) return ti > fi;
  if (from.base === 'numeric' && to.base === 'numeric') {
    if (to.precision === undefined) return true;
    if (from.precision === undefined) return false;
    const fromScale = from.scale ?? 0;
    const toScale = to.scale ?? 0;
    return toScale >= fromScale && to.precision - toScale >= from.precision - fromScale;
  }
  if (from.base === 'varchar') return to.base === 'text' || (to.base === 'varchar' && to.length! >= from.length!);
  return false;
}

/** How the search index holds a column by default (a declaration's `search.fields` may say otherwise). */
export function defaultSearchType(t: ColumnType): SearchFieldType {
  switch (t.base) {
    case 'smallint':
      return 'short';
    case 'integer':
      return 'integer';
    case 'bigint':
      return 'long';
    case 'numeric':
    case 'real':
    case 'double precision':
      return 'double';
    case 'boolean':
      return 'boolean';
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return 'date';
    case 'text':
    case 'varchar':
    case 'uuid':
      return 'keyword';
    case 'jsonb':
      // Indexed as its JSON text: an object field would need a mapping of its own keys.
      return 'text';
  }
}

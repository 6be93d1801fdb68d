// A stream is declared here once: its event schema, its enrichment, its topic and its tables. The
// SQL the load and replay paths run (conflict scan, insert, re-derive) is generated from the column
// list, so a new stream needs no hand-written SQL and no branch anywhere else.
import { z } from 'zod';
import type { SearchFieldType } from '../lib/search';
import { ident } from '../lib/sql';
import { defaultSearchType, formatColumnType, KNOWN_TYPES, parseColumnType } from '../lib/column-types';
import { rejectUnstorable } from './storable';
import type {
  AcceptedValues,
  ColumnDecl,
  QuarantineCode,
  StreamSearchSpec,
  StreamSpec,
  SyntheticSource,
  UndeclaredFields,
  ValidationContext,
  ValidationResult,
} from './types';

export interface StreamDeclaration<Event> {
  name: string;
  /** Kafka topic, before the deployment's KAFKA_TOPIC_PREFIX; bronze and silver keys follow it. Default: `name`. */
  topic?: string;
  /** What one event must look like; outside data is parsed by it before anything else reads it. */
  schema: z.ZodType<Event, unknown>;
  /** The flat row of one valid event: a JSON-safe value for the key and every declared column. */
  enrich(event: Event): Record<string, unknown>;
  /**
   * Rules that need the record's reference time (plausible event times), run once `schema` passed:
   * the broken one, or undefined. The schema itself never reads a clock.
   */
  checkReferenceTime?(event: Event, context: ValidationContext): { path: string; message: string } | undefined;
  rawTable: string;
  flatTable: string;
  /**
   * The record key, unique in the raw and flat tables; a second record with it is a duplicate or a
   * conflict. A column of its own, or the name of one of `columns` (that column becomes the key).
   */
  key: ColumnDecl | string;
  /** The flat column holding the event time; it is copied to `raw.event_ts`. */
  eventTimeColumn: string;
  /** Every flat column except the key and the lineage columns (load_id, bronze_object_id, kafka_*). */
  columns: readonly ColumnDecl[];
  materializedViews?: readonly string[];
  /**
   * Statements run in the same transaction right after rows were inserted into or re-derived in the
   * flat table from the temp table `staging(doc jsonb)` (one silver line per row, still there):
   * derived tables kept up to date (candles, running totals). No parameters.
   */
  afterMergeSql?: readonly string[];
  /** Synthetic events for `etl produce <stream>` and the ingest workflow. */
  synthetic?: SyntheticSource;
  /**
   * An index in the search sink (docs/search.md). Each column is indexed as its type says
   * (lib/column-types.ts, defaultSearchType); `fields` overrides that for the columns it names
   * (a name that is not a column is a declaration error, not a guess).
   */
  search?: { fields?: Readonly<Record<string, SearchFieldType>>; topTerms?: string };
  /**
   * What a record carrying fields the schema does not declare becomes (its schema contract, as dlt's
   * `columns: evolve | discard_row`): `keep` (the default) loads it, the extra fields kept in the raw
   * payload; `quarantine` sets it aside as UNDECLARED_FIELD, naming them. Either way every load
   * counts them (`etl stream drift`).
   */
  undeclaredFields?: UndeclaredFields;
}

/** What marks a StreamSpec made by defineStream: a loader tells a declaration's export by it, across copies of this module. */
export const STREAM_SPEC = Symbol.for('etl-temporal.stream-spec');

export function isStreamSpec(value: unknown): value is StreamSpec {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[STREAM_SPEC] === true;
}

/** A declared column with its type in canonical spelling; an unknown type is a declaration error. */
function checkedColumn(stream: string, c: ColumnDecl): ColumnDecl {
  if (typeof c?.name !== 'string' || typeof c.type !== 'string') throw new Error(`stream ${stream}: a column needs a name and a type`);
  const type = parseColumnType(c.type);
  if (!type) throw new Error(`stream ${stream}: column ${c.name} has unknown type "${c.type}" (known: ${KNOWN_TYPES})`);
  ident(c.name);
  return { ...c, type: formatColumnType(type) };
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), value);
}

function codeFor(issue: z.core.$ZodIssue, value: unknown): QuarantineCode {
  if (issue.path.length > 0 && valueAt(value, issue.path) === undefined) return 'MISSING_FIELD';
  if (issue.code === 'invalid_type') return 'WRONG_TYPE';
  if (issue.code === 'invalid_value') return 'UNKNOWN_VALUE';
  if (issue.code === 'invalid_union') return 'WRONG_TYPE';
  return 'INVALID_VALUE';
}

/** zod parse + enrichment; the first failing rule names the quarantine code, every rule the reason. */
export function validatorFor<Event>(
  schema: z.ZodType<Event, unknown>,
  enrich: (e: Event) => Record<string, unknown>,
  checkReferenceTime?: StreamDeclaration<Event>['checkReferenceTime'],
) {
  return (value: unknown, context: ValidationContext): ValidationResult => {
    const parsed = schema.safeParse(value);
    if (parsed.success) {
      const issue = checkReferenceTime?.(parsed.data, context);
      if (issue) return { ok: false, code: 'INVALID_VALUE', reason: `${issue.path}: ${issue.message}` };
      return { ok: true, row: enrich(parsed.data) };
    }
    const issues = parsed.error.issues;
    return {
      ok: false,
      code: codeFor(issues[0]!, value),
      reason: issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
    };
  };
}

/** `(doc->>'col')::type`: a staged silver value, typed. */
function staged(col: ColumnDecl, doc = 'doc'): string {
  return `(${doc}->>'${col.name}')::${col.type}`;
}

/** A flat column as a JSON value of its document: decimals as exact text, instants in UTC with microseconds. */
function documentValue(col: ColumnDecl): string {
  const id = `f.${ident(col.name)}`;
  if (/^(numeric|decimal)/.test(col.type)) return `${id}::text`;
  if (col.type === 'timestamptz') return `to_char(${id} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  if (col.type === 'timestamp') return `to_char(${id}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`;
  if (col.type === 'date' || col.type === 'jsonb') return `${id}::text`;
  return id;
}

function searchSpec(
  d: Pick<StreamDeclaration<unknown>, 'name' | 'flatTable' | 'eventTimeColumn'> & { key: ColumnDecl; columns: readonly ColumnDecl[] },
  overrides: Readonly<Record<string, SearchFieldType>>,
  topTerms?: string,
): StreamSearchSpec {
  const all = [d.key, ...d.columns];
  const unknown = Object.keys(overrides).filter((f) => !all.some((c) => c.name === f));
  if (unknown.length) throw new Error(`stream ${d.name}: search.fields names ${unknown.join(', ')}, not a column of the stream`);
  const fields: Record<string, SearchFieldType> = Object.fromEntries(
    all.map((c) => [c.name, overrides[c.name] ?? defaultSearchType(parseColumnType(c.type)!)]),
  );
  // Names become JSON keys as SQL string literals: each has passed ident() (plain lowercase), so none holds a quote.
  ident(d.name);
  const pairs = [
    ...all.map((c) => `'${c.name}', ${documentValue(c)}`),
    `'stream', '${d.name}'`,
    ...['load_id', 'bronze_object_id', 'kafka_topic', 'kafka_partition', 'kafka_offset'].map((c) => `'${c}', f.${c}`),
    `'rows_version', $2::int`,
  ];
  const documentsSql = `
SELECT f.${ident(d.key.name)}::text AS id,
       to_char(f.${ident(d.eventTimeColumn)} AT TIME ZONE 'UTC', 'YYYY.MM') AS month,
       json_build_object(${pairs.join(', ')})::text AS doc
FROM ${ident(d.flatTable)} f
WHERE f.bronze_object_id = $1
ORDER BY f.${ident(d.key.name)}`;
  if (topTerms !== undefined && fields[topTerms] !== 'keyword')
    throw new Error(`stream ${d.name}: search.topTerms ${topTerms} is not a keyword field`);
  return { fields, documentsSql, ...(topTerms ? { topTerms } : {}) };
}

/** The key and the other columns of a declaration, checked, types in canonical spelling. */
function keyAndColumns(d: StreamDeclaration<unknown>): { key: ColumnDecl; columns: ColumnDecl[] } {
  if (!Array.isArray(d.columns)) throw new Error(`stream ${d.name}: columns must be a list`);
  const columns = d.columns.map((c) => checkedColumn(d.name, c));
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) throw new Error(`stream ${d.name}: column ${c.name} is declared twice`);
    seen.add(c.name);
  }
  if (typeof d.key === 'string') {
    const key = columns.find((c) => c.name === d.key);
    if (!key) throw new Error(`stream ${d.name}: key ${d.key} is not a declared column`);
    return { key, columns: columns.filter((c) => c !== key) };
  }
  const key = checkedColumn(d.name, d.key);
  if (seen.has(key.name)) throw new Error(`stream ${d.name}: key ${key.name} is also declared among the columns`);
  return { key, columns };
}

/** What every flat table has after the stream's own columns (lib/stream-tables.ts). */
export const LINEAGE_COLUMNS = ['ingested_at', 'load_id', 'bronze_object_id', 'kafka_topic', 'kafka_partition', 'kafka_offset'] as const;

export function defineStream<Event>(declaration: StreamDeclaration<Event>): StreamSpec {
  if (typeof declaration?.name !== 'string' || !/^[a-z][a-z0-9_]*$/.test(declaration.name))
    throw new Error(`stream name ${JSON.stringify(declaration?.name)} must be lowercase letters, digits and _`);
  const { key: keyDecl, columns: columnDecls } = keyAndColumns(declaration as StreamDeclaration<unknown>);
  const d = { ...declaration, key: keyDecl, columns: columnDecls };
  const reserved = [d.key, ...d.columns].find((c) => (LINEAGE_COLUMNS as readonly string[]).includes(c.name));
  if (reserved) throw new Error(`stream ${d.name}: column ${reserved.name} is a lineage column every stream table has`);
  const raw = ident(d.rawTable);
  const flat = ident(d.flatTable);
  const key = ident(d.key.name);
  const keyOf = (doc = 'doc') => staged(d.key, doc);
  const columns = d.columns.map((c) => ({ ...c, id: ident(c.name), value: staged(c) }));
  const eventTime = d.columns.find((c) => c.name === d.eventTimeColumn);
  if (!eventTime) throw new Error(`stream ${d.name}: eventTimeColumn ${d.eventTimeColumn} is not a declared column`);
  const lineage = `coalesce((doc->>'bronze_object_id')::bigint, $2), doc->>'kafka_topic', (doc->>'kafka_partition')::int, (doc->>'kafka_offset')::bigint`;
  // DISTINCT ON keeps the earliest offset when one staging set holds the same key twice.
  const firstPerKey = `SELECT DISTINCT ON (${keyOf()}) doc, ${keyOf()} AS ${key} FROM staging ORDER BY ${keyOf()}, (doc->>'kafka_offset')::bigint`;

  // jsonb equality ignores key order and whitespace: "the same payload" means the same JSON value.
  const findConflictsSql = `
INSERT INTO conflicts (row_id, reason)
SELECT k.row_id,
       CASE WHEN r.${key} IS NOT NULL
            THEN '${d.key.name} already loaded with a different payload (from ' || r.kafka_topic || '[' || r.kafka_partition || ']@' || r.kafka_offset || ')'
            ELSE '${d.key.name} appears earlier in the same batch with a different payload (offset ' || f.kafka_offset || ')' END
FROM (SELECT ctid AS row_id, ${keyOf()} AS id, doc->'payload' AS payload FROM staging) k
JOIN (SELECT DISTINCT ON (${keyOf()}) ${keyOf()} AS id, doc->'payload' AS payload, doc->>'kafka_offset' AS kafka_offset
      FROM staging ORDER BY ${keyOf()}, (doc->>'kafka_offset')::bigint) f ON f.id = k.id
LEFT JOIN ${raw} r ON r.${key} = k.id
WHERE k.payload <> coalesce(r.payload, f.payload)`;

  // A doc whose raw row is the one this load wrote (same lineage) is that row, not a duplicate of it.
  const countDuplicatesSql = `
SELECT count(*)::int AS n
FROM staging JOIN ${raw} r ON r.${key} = ${keyOf()} AND r.payload = doc->'payload'
WHERE (r.load_id, r.kafka_topic, r.kafka_partition, r.kafka_offset)
      IS DISTINCT FROM ($1::bigint, doc->>'kafka_topic', (doc->>'kafka_partition')::int, (doc->>'kafka_offset')::bigint)`;

  const insertFromStagingSql = `
WITH s AS (${firstPerKey}),
raw AS (
  INSERT INTO ${raw} (${key}, event_ts, payload, load_id, bronze_object_id, kafka_topic, kafka_partition, kafka_offset)
  SELECT ${key}, ${staged(eventTime)}, doc->'payload', $1, ${lineage}
  FROM s
  ON CONFLICT (${key}) DO NOTHING
  RETURNING ${key}
)
INSERT INTO ${flat} (${key}, ${columns.map((c) => c.id).join(', ')}, load_id, bronze_object_id, kafka_topic, kafka_partition, kafka_offset)
SELECT s.${key}, ${columns.map((c) => c.value).join(', ')}, $1, ${lineage}
FROM s JOIN raw USING (${key})
ON CONFLICT (${key}) DO NOTHING
RETURNING ${key}`;

  // Replay from bronze after a rule change: the derived columns follow the new rules. Only keys whose
  // raw payload equals the staged one (the same event, re-derived), only rows that actually change.
  const updateFromStagingSql = `
WITH s AS (${firstPerKey}),
n AS (
  SELECT s.${key}, ${columns.map((c) => `${c.value} AS ${c.id}`).join(', ')}
  FROM s JOIN ${raw} r ON r.${key} = s.${key} AND r.payload = s.doc->'payload'
)
UPDATE ${flat} f
SET ${columns.map((c) => `${c.id} = n.${c.id}`).join(', ')}
FROM n
WHERE f.${key} = n.${key}
  AND (${columns.map((c) => `f.${c.id}`).join(', ')})
  IS DISTINCT FROM (${columns.map((c) => `n.${c.id}`).join(', ')})
RETURNING f.${key}, f.bronze_object_id`;

  const { fields, inputTypes } = schemaFields(d.schema);
  const undeclaredFields = d.undeclaredFields ?? 'keep';
  if (undeclaredFields !== 'keep' && undeclaredFields !== 'quarantine')
    throw new Error(`stream ${d.name}: undeclaredFields must be 'keep' or 'quarantine', not ${JSON.stringify(undeclaredFields)}`);
  if (undeclaredFields === 'quarantine' && !fields)
    throw new Error(`stream ${d.name}: undeclaredFields 'quarantine' needs a schema that lists its fields (z.object or z.looseObject)`);

  const acceptedValues: AcceptedValues[] = d.columns
    .filter((c) => c.acceptedValues)
    .map((c) => ({ column: c.name, values: c.acceptedValues! }));
  const spec: StreamSpec = {
    name: d.name,
    topic: d.topic ?? d.name,
    // A row PostgreSQL would refuse is quarantined here (UNSTORABLE_VALUE), not at load.
    validate: rejectUnstorable(validatorFor(d.schema, d.enrich, d.checkReferenceTime), [d.key, ...d.columns]),
    rawTable: d.rawTable,
    flatTable: d.flatTable,
    keyColumn: d.key.name,
    keyType: d.key.type,
    key: d.key,
    columns: d.columns,
    eventTimeColumn: d.eventTimeColumn,
    flatColumns: d.columns.map((c) => c.name),
    notNullColumns: [d.key.name, ...d.columns.filter((c) => c.notNull).map((c) => c.name)],
    acceptedValues,
    materializedViews: d.materializedViews ?? [],
    findConflictsSql,
    countDuplicatesSql,
    insertFromStagingSql,
    updateFromStagingSql,
    afterMergeSql: d.afterMergeSql ?? [],
    ...(d.synthetic ? { synthetic: d.synthetic } : {}),
    ...(d.search ? { search: searchSpec(d, d.search.fields ?? {}, d.search.topTerms) } : {}),
    inputTypes,
    ...(fields ? { declaredFields: fields } : {}),
    undeclaredFields,
  };
  return Object.defineProperty(spec, STREAM_SPEC, { value: true });
}

type JsonSchemaNode = { type?: string | string[]; anyOf?: JsonSchemaNode[]; oneOf?: JsonSchemaNode[]; allOf?: JsonSchemaNode[] };

function typesOf(node: JsonSchemaNode | undefined): string[] {
  if (!node) return [];
  const own = node.type === undefined ? [] : Array.isArray(node.type) ? node.type : [node.type];
  const nested = [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])].flatMap(typesOf);
  return [...new Set([...own, ...nested])];
}

/**
 * The top-level fields of the schema (its JSON Schema, input side): `fields`, what a record may
 * carry without drift (undefined when the schema is no object with named fields, so nothing can be
 * told undeclared), and `inputTypes`, what each accepts as input, by which CSV cells are typed. A
 * field whose types cannot be told is left out of `inputTypes` (any value).
 */
export function schemaFields(schema: z.ZodType): { fields?: ReadonlySet<string>; inputTypes: Record<string, readonly string[]> } {
  let json: { type?: unknown; properties?: Record<string, JsonSchemaNode> };
  try {
    json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as typeof json;
  } catch {
    return { inputTypes: {} };
  }
  const inputTypes: Record<string, readonly string[]> = {};
  for (const [field, node] of Object.entries(json.properties ?? {})) {
    const types = typesOf(node);
    if (types.length > 0) inputTypes[field] = types;
  }
  const listed = json.type === 'object' && json.properties !== undefined;
  return { ...(listed ? { fields: new Set(Object.keys(json.properties!)) } : {}), inputTypes };
}

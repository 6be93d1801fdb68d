// What a stream declares. Activities and workflows are written against this, never against a
// particular stream.
import type { QuarantineCode } from '../lib/errors';
import type { SearchFieldType } from '../lib/search';

export type { QuarantineCode };

export type ValidationResult = { ok: true; row: Record<string, unknown> } | { ok: false; code: QuarantineCode; reason: string };

/**
 * What a stream's rules may know of a record besides its bytes. Validation reads nothing else — no
 * wall clock, no local time zone — so a retry, a replay from bronze or a quarantine replay next
 * year classifies the record exactly as its first transform did (unless the rules changed).
 */
export interface ValidationContext {
  /**
   * The instant "in the future" and "too far in the past" are judged against: when the record's
   * bronze object was archived (`bronze_objects.archived_at`, set once by PostgreSQL's clock when
   * the object became durable, never rewritten). Not the Kafka timestamp: CreateTime is whatever
   * the producer wrote (our synthetic producers set it to the event time on purpose; a producer with
   * a bad clock writes anything), so it cannot vouch for the event time it travels with.
   */
  referenceTimeMs: number;
}

/** A column of a stream's flat table, as `defineStream` (./define.ts) is given it. */
export interface ColumnDecl {
  name: string;
  /** PostgreSQL type the staged JSON value is cast to: `text`, `uuid`, `numeric(12,2)`, `timestamptz`… */
  type: string;
  /** Checked by the quality stage: no NULL may reach the flat table. */
  notNull?: boolean;
  /** Checked by the quality stage: every value must be one of these. */
  acceptedValues?: readonly string[];
}

export interface AcceptedValues {
  column: string;
  values: readonly string[];
}

/** What the activities, workflows and CLI know of a stream; built by `defineStream` (./define.ts). */
export interface StreamSpec {
  name: string;
  /** Kafka topic before the deployment's prefix; bronze and silver keys are named after it. */
  topic: string;
  /**
   * Checks and enriches one decoded JSON value; `row` is what goes to the flat table. A pure
   * function of (value, context): the same arguments give the same result on any machine, any day.
   */
  validate(value: unknown, context: ValidationContext): ValidationResult;
  /** Tables, for quality checks and reports. */
  rawTable: string;
  flatTable: string;
  keyColumn: string;
  /** PostgreSQL type of the key column, e.g. `uuid`. */
  keyType: string;
  /** The key column as declared (type in canonical spelling, lib/column-types.ts). */
  key: ColumnDecl;
  /** The flat columns after the key, as declared: what the stream's tables are made of (lib/stream-tables.ts). */
  columns: readonly ColumnDecl[];
  eventTimeColumn: string;
  /** The flat table's columns after the key and before the lineage columns, in declaration order. */
  flatColumns: readonly string[];
  notNullColumns: readonly string[];
  acceptedValues: readonly AcceptedValues[];
  materializedViews: readonly string[];
  /**
   * Fills the temp table `conflicts(row_id tid, reason text)` with the staging rows whose key is
   * already loaded, or appears earlier in the same staging set, with a different payload.
   */
  findConflictsSql: string;
  /**
   * Counts (column `n`) the staged docs whose key is loaded with the same payload by another record
   * than the doc itself (lineage differs): duplicates, from the comparison; $1 the load_id.
   */
  countDuplicatesSql: string;
  /**
   * Inserts from the temp table `staging(doc jsonb)` (one silver line per row) into the raw and flat
   * tables, skipping keys already present; parameters: $1 load_id, $2 bronze_object_id (used when
   * a doc carries no `bronze_object_id` of its own). Must
   * return one row per flat row inserted.
   */
  insertFromStagingSql: string;
  /**
   * Replay from bronze: rewrites the flat row of every staged key already loaded with the same
   * payload to the staged (newly derived) values, only where they differ; no parameters. Must
   * return one row per flat row changed. Keys, payloads, raw rows and lineage stay as they are.
   */
  updateFromStagingSql: string;
  /** Run after insertFromStagingSql / updateFromStagingSql, in the same transaction, staging still present. */
  afterMergeSql: readonly string[];
  /** Synthetic events for `etl produce <stream>` and the ingest workflow; absent when the stream has none. */
  synthetic?: SyntheticSource;
  /**
   * The JSON types each field of the schema accepts as input ('string', 'number', 'integer',
   * 'boolean', 'object', 'array', 'null'), from the schema itself: how a CSV cell is typed
   * (streams/csv.ts). A field not listed takes any value.
   */
  inputTypes?: Readonly<Record<string, readonly string[]>>;
  /** The search sink's index of this stream (docs/search.md); absent: the stream is not indexed. */
  search?: StreamSearchSpec;
  /**
   * The top-level fields the schema declares; a record's others are drift (streams/drift.ts).
   * Absent when the schema names no fields (not an object schema): no field is told undeclared.
   */
  declaredFields?: ReadonlySet<string>;
  /** What a record with undeclared fields becomes: loaded, its extra fields in the raw payload, or quarantined (UNDECLARED_FIELD). */
  undeclaredFields: UndeclaredFields;
}

/** A declaration's contract for fields its schema does not declare (StreamDeclaration.undeclaredFields). */
export type UndeclaredFields = 'keep' | 'quarantine';

/** A stream's index: the mapping of every field, and how one bronze object's flat rows become documents. */
export interface StreamSearchSpec {
  /** Every flat column (key included) and how OpenSearch indexes it; the lineage fields are added by lib/search.ts. */
  fields: Readonly<Record<string, SearchFieldType>>;
  /**
   * The flat rows of one bronze object as documents: columns `id` (the key as text: the document
   * id), `month` (`YYYY.MM` of the event time in UTC: the index) and `doc` (the document's JSON
   * text; decimals as exact strings, timestamps in UTC). $1 the bronze object id, $2 its rows_version.
   */
  documentsSql: string;
  /** The keyword field the Search tab counts top terms of by default. */
  topTerms?: string;
}

/** One Kafka message of a synthetic event. */
export interface SyntheticMessage {
  /** Partitioning key: events with the same key keep their order. */
  key: string;
  value: string;
  /** Kafka CreateTime, milliseconds as a string: the event time, so bronze objects are partitioned by it. */
  timestamp: string;
}

/** A flag of `etl produce <stream>`; the CLI parses its value by `kind` (client/args.ts). */
export interface SyntheticFlag {
  /** commander syntax, e.g. `--window <duration>`. */
  flags: string;
  /** Name of the generator option the value becomes, e.g. `windowMs`. */
  option: string;
  description: string;
  kind: 'seed' | 'time' | 'duration' | 'list';
  /** Parsed default; none means the source fills it in `resolve` (e.g. from the clock). */
  default?: unknown;
  defaultDescription?: string;
}

/**
 * Where synthetic events of a stream come from. Message i must depend only on (options, i): a
 * producer that crashed resumes at the index it last acknowledged and sends the very same messages.
 */
export interface SyntheticSource {
  /** What `etl produce <stream>` publishes, for its help. */
  description: string;
  flags: readonly SyntheticFlag[];
  /** Lines of `etl produce <stream> --help` examples, without the `$ `. */
  examples: readonly string[];
  /**
   * The generator options from the parsed flags, with clock-dependent defaults filled in, checked.
   * JSON-safe: they travel in the ingest workflow's input. Throws EtlError USAGE when invalid.
   */
  resolve(flags: Readonly<Record<string, unknown>>, context: { rows: number; nowMs: number }): Record<string, unknown>;
  /** Messages from `fromIndex` on (options as `resolve` made them; unknown: they come back from a workflow input). */
  messages(options: unknown, fromIndex: number): Iterator<SyntheticMessage>;
}

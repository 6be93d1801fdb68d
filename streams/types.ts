// What a stream declares. Activities and workflows are written against this, never against a
// particular stream.

export type QuarantineCode =
  | 'NULL_VALUE' | 'EMPTY_VALUE' | 'NOT_UTF8' | 'MALFORMED_JSON' | 'NOT_AN_OBJECT'
  | 'MISSING_FIELD' | 'WRONG_TYPE' | 'UNKNOWN_VALUE' | 'INVALID_VALUE'
  | 'TOO_LARGE' | 'TOO_MANY_FIELDS' | 'CONFLICTING_DUPLICATE';

export type ValidationResult =
  | { ok: true; row: Record<string, unknown> }
  | { ok: false; code: QuarantineCode; reason: string };

export interface AcceptedValues {
  column: string;
  values: readonly string[];
}

/** What the activities, workflows and CLI know of a stream; built by `defineStream` (./define.ts). */
export interface StreamSpec {
  name: string;
  /** Kafka topic before the deployment's prefix; bronze and silver keys are named after it. */
  topic: string;
  /** Checks and enriches one decoded JSON value; `row` is what goes to the flat table. */
  validate(value: unknown): ValidationResult;
  /** Tables, for quality checks and reports. */
  rawTable: string;
  flatTable: string;
  keyColumn: string;
  /** PostgreSQL type of the key column, e.g. `uuid`. */
  keyType: string;
  eventTimeColumn: string;
  notNullColumns: readonly string[];
  acceptedValues: readonly AcceptedValues[];
  materializedViews: readonly string[];
  /**
   * Fills the temp table `conflicts(row_id tid, reason text)` with the staging rows whose key is
   * already loaded, or appears earlier in the same staging set, with a different payload.
   */
  findConflictsSql: string;
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
}

// Inputs and outputs of activities: small, JSON-safe, never arrays of events (Temporal payloads
// are capped at 2 MB; data travels through S3 and Postgres, identified by keys and ids).

export interface IngestInput {
  stream: string;
  /** Index after the last event to send. */
  rows: number;
  /** First event index; a resumed attempt continues from its last heartbeat. */
  startIndex?: number;
  /** Events per second; 0 means as fast as the broker takes them. */
  rate?: number;
  /**
   * Every other field is an option of the stream's synthetic source, as its `resolve` returns them
   * (transactions: seed, startMs, windowMs; ticks: seed, symbols, startMs, intervalMs).
   */
  [generatorOption: string]: unknown;
}
export interface IngestResult {
  produced: number;
  topic: string;
}

export interface ArchiveInput {
  stream: string;
  /** Objects this call writes at most (default ARCHIVE_MAX_OBJECTS_PER_ACTIVITY). */
  maxObjects?: number;
  /** Records per object at most (default ARCHIVE_MAX_RECORDS_PER_OBJECT): a continuous stream's flush size. */
  maxRecordsPerObject?: number;
}
export interface ArchiveResult {
  objectsArchived: number;
  recordsArchived: number;
  /** True when every partition is archived up to the high watermark seen at the start. */
  caughtUp: boolean;
}

/** Continuous mode's archive (archive/follow.ts): one long-running activity per run of a stream workflow. */
export interface FollowInput {
  stream: string;
  /** A buffered record is written at most this long after it was read. */
  flushIntervalMs: number;
  /** Records per object at most (default ARCHIVE_MAX_RECORDS_PER_OBJECT): a full buffer is written at once. */
  maxRecordsPerObject?: number;
}

export interface FollowResult {
  objectsArchived: number;
  recordsArchived: number;
  groupJoins: number;
  attempt: number;
}

export interface PendingObject {
  bronzeObjectId: number;
  objectKey: string;
  recordCount: number;
}

export interface TransformLoadInput {
  stream: string;
  bronzeObjectId: number;
  workflowId?: string;
}
/** One pass over a bronze object (activities/transform-load): what validation and the load each counted. */
export interface TransformLoadResult {
  bronzeObjectId: number;
  /** Retired with the NDJSON silver objects (migration 016): null, or the key a load before the Parquet lake wrote. */
  silverKey: string | null;
  /** Records read from the bronze object. */
  records: number;
  /** Records that passed validation: silver lines, the rows the load was given. */
  valid: number;
  /** Records quarantined by validation. */
  quarantined: number;
  loadId: number;
  rowsIn: number;
  inserted: number;
  duplicates: number;
  conflicts: number;
  /** Rows PostgreSQL refused to store, quarantined as LOAD_REJECTED. */
  rejected: number;
  /** Loaded before this call (by a previous attempt or another workflow): the counts are that load's. */
  alreadyLoaded: boolean;
}

export interface QualityInput {
  stream: string;
  runId: string;
}
export interface QualityCheck {
  name: string;
  passed: boolean;
  observed: string;
  expected: string;
  details?: string;
}
export interface QualityResult {
  passed: boolean;
  checks: QualityCheck[];
}

// One error taxonomy for the whole project. A code is stable (logs, alerts and docs refer to it) and
// has a retry class that says what happens to the work that hit it (docs/delivery-guarantees.md, "Failure model"):
// - transient: a server unreachable or restarting, a lock timeout, a serialization failure, a
//   deadlock: retried with backoff for as long as it takes (the Web UI shows the cause meanwhile);
// - permanent: retrying cannot help: not retried. A bronze object whose transform or load fails so is
//   parked in the manifest and the run goes on; any other activity fails its run with the reason;
// - unknown: no code covers the error (a bug): tried until UNKNOWN_ERROR_MAX_ATTEMPTS attempts failed
//   so (transient failures between them do not count), then it is permanent (`UNKNOWN_ERROR`);
// - data: a record is wrong, not the code: quarantined with a reason code (QUARANTINE_CODES below)
//   inside the activity. Never thrown, so never retried; no code of ERROR_CODES has it.
// Activities turn these into ApplicationFailures (activities/failures.ts) whose type is the code.
// Recognising a client's errors lives beside the client: lib/postgres.ts, lib/kafka.ts, lib/s3.ts,
// lib/temporal.ts, lib/search.ts, and lib/network.ts for sockets and TLS.

export type RetryClass = 'transient' | 'permanent' | 'unknown' | 'data';

export const ERROR_CODES = {
  CONFIG_INVALID: { class: 'permanent', summary: 'configuration (env or .env) does not parse' },
  USAGE: { class: 'permanent', summary: 'bad command-line arguments' },
  KAFKA_UNREACHABLE: { class: 'transient', summary: 'no Kafka broker answered' },
  KAFKA_TOPIC_MISSING: {
    class: 'permanent',
    summary: 'the broker answered, but the topic does not exist (auto-creation is off); `etl worker` creates the stream topics',
  },
  KAFKA_TRANSIENT: {
    class: 'transient',
    summary: 'Kafka answered with an error that passes (leader election, group rebalance, coordinator moving, request timeout)',
  },
  S3_UNREACHABLE: { class: 'transient', summary: 'the S3 endpoint did not answer' },
  S3_TRANSIENT: { class: 'transient', summary: 'the S3 endpoint kept answering with server errors (5xx, SlowDown) or timed out' },
  POSTGRES_UNREACHABLE: { class: 'transient', summary: 'PostgreSQL did not accept a connection, or lost it' },
  TEMPORAL_UNREACHABLE: { class: 'transient', summary: 'the Temporal frontend did not answer' },
  POSTGRES_TRANSIENT: {
    class: 'transient',
    summary: 'PostgreSQL aborted a statement for a reason that passes (deadlock, serialization, lock timeout, shutdown, out of resources)',
  },
  ARCHIVE_BUSY: { class: 'transient', summary: 'another archive of the same topic holds its lock' },
  S3_ACCESS_DENIED: { class: 'permanent', summary: 'the S3 credentials were refused' },
  S3_TLS_FAILED: {
    class: 'permanent',
    summary: 'TLS to the S3 endpoint failed (untrusted or expired certificate, wrong host name, no TLS there)',
  },
  KAFKA_AUTH_FAILED: { class: 'permanent', summary: 'Kafka refused the SASL login (user, password or mechanism)' },
  KAFKA_TLS_FAILED: {
    class: 'permanent',
    summary: 'TLS to Kafka failed (untrusted or expired certificate, client certificate missing or refused, no TLS on that listener)',
  },
  TEMPORAL_AUTH_FAILED: {
    class: 'permanent',
    summary: 'Temporal refused the API key or the client certificate (unauthenticated, permission denied)',
  },
  TEMPORAL_TLS_FAILED: {
    class: 'permanent',
    summary: 'TLS to Temporal failed (untrusted or expired certificate, client certificate missing, no TLS on that port)',
  },
  POSTGRES_AUTH_FAILED: { class: 'permanent', summary: 'PostgreSQL refused the login (password, or no pg_hba.conf entry for it)' },
  POSTGRES_TLS_FAILED: {
    class: 'permanent',
    summary: 'TLS to PostgreSQL failed or is required (untrusted certificate, wrong host name, server requires or lacks TLS)',
  },
  BRONZE_OBJECT_MISSING: { class: 'permanent', summary: 'a manifest row names an object that is not in the bucket' },
  SCHEMA_NOT_MIGRATED: { class: 'permanent', summary: 'the database lacks the tables; run `etl migrate`' },
  STREAM_SCHEMA_REFUSED: {
    class: 'permanent',
    summary:
      "`etl migrate` refused a change of a stream's tables that is not an added column or a widening (a narrowing, a type change, a drop, a changed key); nothing was changed",
  },
  STREAM_SCHEMA_STALE: {
    class: 'transient',
    summary:
      "this worker's declaration of the stream is older than the schema version applied to its tables; restart the worker with the new declaration",
  },
  STREAM_DECLARATION: {
    class: 'permanent',
    summary: 'a stream declaration (the built-in folder or ETL_STREAMS_DIR) does not load or is invalid; the process stops, exit 2',
  },
  MIGRATION_FAILED: { class: 'permanent', summary: 'a migration file failed to apply' },
  MIGRATION_CHANGED: { class: 'permanent', summary: 'an applied migration file was edited afterwards' },
  MANIFEST_INVALID: { class: 'permanent', summary: 'the bronze manifest breaks its own invariants' },
  UNKNOWN_ERROR: {
    class: 'unknown',
    summary:
      'an error no other code covers (a bug): tried until UNKNOWN_ERROR_MAX_ATTEMPTS attempts failed so (transient failures apart), then the object is parked or the run fails',
  },
  ATTEMPTS_LOST: {
    class: 'unknown',
    summary:
      'the attempts at a unit of work (an object, a lake write, a file version) that ended without an outcome (a worker that died or hung) and unclassified, together reached UNKNOWN_ERROR_MAX_ATTEMPTS: given up like a bug (parked, noted), not tried again',
  },
  SUSPECT_WAITING: {
    class: 'transient',
    summary:
      'a unit of work that lost attempts to a dying worker waits for another such unit on the same worker to finish: they run one at a time, so that only the one that kills its worker reaches the bound',
  },
  OBJECT_PARKED: {
    class: 'permanent',
    summary:
      'a run parked bronze objects it could not transform or load, after loading everything else; fix the cause, then `etl objects retry <id>`',
  },
  REPLAY_INCOMPLETE: {
    class: 'permanent',
    summary: 'a replay from bronze could not re-derive some objects (they keep their rows); fix the cause and run the same replay again',
  },
  SCHEDULE_EXISTS: { class: 'permanent', summary: 'a schedule with that id already exists' },
  SCHEDULE_NOT_FOUND: { class: 'permanent', summary: 'no schedule with that id' },
  STACK_START_FAILED: { class: 'permanent', summary: 'a local service did not become healthy' },
  STACK_INSTALL_FAILED: { class: 'permanent', summary: 'a local service could not be installed' },
  SOURCE_UNREACHABLE: { class: 'transient', summary: 'a market data API did not answer (no route, DNS, refused, timed out)' },
  SOURCE_UNAVAILABLE: { class: 'transient', summary: 'a market data API kept answering with server errors (5xx)' },
  SOURCE_RATE_LIMITED: { class: 'transient', summary: 'a market data API kept answering 429 (or its rate-limit error) after the retries' },
  SOURCE_AUTH_FAILED: { class: 'permanent', summary: 'a market data API refused the API key (401/403)' },
  SOURCE_KEY_MISSING: { class: 'permanent', summary: 'a market data source needs an API key that is not configured' },
  SOURCE_BAD_RESPONSE: { class: 'permanent', summary: 'a market data API answered something that does not parse as its documented format' },
  SOURCE_UNKNOWN_SYMBOL: { class: 'permanent', summary: 'a market data API does not know the symbol' },
  SEARCH_UNREACHABLE: {
    class: 'transient',
    summary: 'the OpenSearch node of the search sink did not answer (down, restarting, timed out)',
  },
  SEARCH_TRANSIENT: { class: 'transient', summary: 'OpenSearch answered with an error that passes (429 too many requests, 5xx)' },
  SEARCH_REQUEST_FAILED: {
    class: 'permanent',
    summary:
      'OpenSearch refused a request of the search sink itself (not one document: those are recorded as rejected), e.g. an invalid template',
  },
  FILE_UNREADABLE: {
    class: 'permanent',
    summary:
      'a source file cannot be read (corrupt gzip, gzip expanding past FILE_MAX_DECOMPRESSED_BYTES or FILE_MAX_EXPANSION_RATIO, no usable CSV header, permission denied, not a regular file); it is reported and marked failed, the other files load',
  },
  FILE_LOCATION_MISSING: {
    class: 'permanent',
    summary:
      'the location a files run names is not there (no such path, no folder for its glob, no such bucket, no object under the prefix); the run fails instead of finding 0 files',
  },
  FILE_OUTSIDE_ROOTS: {
    class: 'permanent',
    summary:
      'a file source location, or a file a symbolic link there points to, is outside FILE_SOURCE_ROOTS: refused before anything is read',
  },
  FILE_CHANGED: {
    class: 'permanent',
    summary: 'a source file changed or vanished while it was read; the next run reads what is there as a new version',
  },
} as const satisfies Record<string, { class: Exclude<RetryClass, 'data'>; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The data class: why a record was quarantined (`quarantine.reason_code`). Never thrown: the record
 * is set aside with its original bytes and the rest of its object loads (docs/errors.md, "Data").
 */
export const QUARANTINE_CODES = {
  NULL_VALUE: 'the Kafka message value is null (a tombstone)',
  EMPTY_VALUE: 'the value is empty or only whitespace',
  NOT_UTF8: 'the value is not valid UTF-8',
  MALFORMED_JSON: 'the value is not JSON',
  NOT_AN_OBJECT: 'the JSON value is not an object',
  TOO_LARGE: 'the value is larger than MAX_VALUE_BYTES (a file line: than 1 MiB)',
  TOO_MANY_FIELDS: 'the object has more than 100 fields',
  TOO_DEEP: 'the JSON is nested more than 32 levels deep',
  DUPLICATE_FIELD: 'an object names the same field twice: which value is meant is ambiguous',
  MISSING_FIELD: "a field the stream's schema requires is missing",
  WRONG_TYPE: "a field has another JSON type than the stream's schema says",
  UNKNOWN_VALUE: 'a field holds a value outside its closed vocabulary',
  INVALID_VALUE: "a field breaks a rule of the stream's schema (range, format, plausible event time)",
  UNDECLARED_FIELD:
    "the record carries fields its stream's schema does not declare, and the declaration says undeclaredFields: 'quarantine'; the reason lists them",
  UNSTORABLE_VALUE: 'valid by the rules, but PostgreSQL could not store a value as declared (NUL, a number beyond its column)',
  ENRICH_FAILED: "the stream's rules threw on the record",
  SERIALIZE_FAILED: 'the silver line of the record could not be written',
  CONFLICTING_DUPLICATE: 'its key was already loaded with a different payload',
  LOAD_REJECTED: 'PostgreSQL refused the row at load; the reason gives the SQLSTATE and the message',
  CSV_CELL_COUNT: 'a CSV row with more or fewer cells than the header',
  CSV_MALFORMED: 'a CSV line that does not parse (broken quoting)',
} as const satisfies Record<string, string>;

export type QuarantineCode = keyof typeof QUARANTINE_CODES;

export class EtlError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EtlError';
    this.code = code;
    this.retryable = isTransient(code);
  }
}

/** Retried without limit (with backoff); every other code is retried a bounded number of times or not at all. */
export function isTransient(code: ErrorCode): boolean {
  return ERROR_CODES[code].class === 'transient';
}

export function isEtlError(err: unknown): err is EtlError {
  return err instanceof EtlError;
}

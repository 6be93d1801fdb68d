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

/** PostgreSQL SQLSTATEs this project reacts to, by name (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
export const SQLSTATE = {
  UNIQUE_VIOLATION: '23505',
  EXCLUSION_VIOLATION: '23P01',
  SERIALIZATION_FAILURE: '40001',
  DEADLOCK_DETECTED: '40P01',
  UNDEFINED_TABLE: '42P01',
  DUPLICATE_OBJECT: '42710',
  ADMIN_SHUTDOWN: '57P01',
  CRASH_SHUTDOWN: '57P02',
  CANNOT_CONNECT_NOW: '57P03',
  TOO_MANY_CONNECTIONS: '53300',
  DISK_FULL: '53100',
  OUT_OF_MEMORY: '53200',
  LOCK_NOT_AVAILABLE: '55P03',
  PROGRAM_LIMIT_EXCEEDED: '54000',
  STATEMENT_TOO_COMPLEX: '54001',
  INVALID_PASSWORD: '28P01',
  INSUFFICIENT_PRIVILEGE: '42501',
} as const;

const TRANSIENT_SQLSTATES = new Set<string>([
  SQLSTATE.SERIALIZATION_FAILURE,
  SQLSTATE.DEADLOCK_DETECTED,
  SQLSTATE.ADMIN_SHUTDOWN,
  SQLSTATE.CRASH_SHUTDOWN,
  SQLSTATE.CANNOT_CONNECT_NOW,
  SQLSTATE.TOO_MANY_CONNECTIONS,
  SQLSTATE.DISK_FULL,
  SQLSTATE.OUT_OF_MEMORY,
  SQLSTATE.LOCK_NOT_AVAILABLE,
]);
/** Class 08, connection exception: the session is gone, the server may be fine or restarting. */
const CONNECTION_EXCEPTION_CLASS = '08';

/**
 * What node-postgres throws, without a SQLSTATE, when the server closed or dropped the session (a
 * restart) or did not accept one in time: the server is gone for now, not the statement wrong.
 */
const PG_CONNECTION_LOST =
  /^(Connection terminated|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable|Query read timeout)/;

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

export function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    const errors = (e as { errors?: unknown }).errors; // AggregateError from net.connect with several addresses
    if (Array.isArray(errors) && errors.some(isNetworkError)) return true;
  }
  return false;
}

/** host and port of the socket a network error failed on, if the error (or a cause) says. */
export function networkErrorTarget(err: unknown): { host?: string; port?: number } | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { port, address } = e as { port?: unknown; address?: unknown };
    if (typeof port === 'number') return { port, host: typeof address === 'string' ? address : undefined };
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors))
      for (const inner of errors) {
        const t = networkErrorTarget(inner);
        if (t) return t;
      }
  }
  return undefined;
}

export interface TlsFailure {
  kind: 'untrusted' | 'hostname' | 'expired' | 'client-cert-missing' | 'client-cert-rejected' | 'not-tls' | 'tls-required' | 'other';
  reason: string;
}

const TLS_REASONS: Record<TlsFailure['kind'], string> = {
  untrusted: 'the server certificate is not signed by a CA this client trusts',
  hostname: 'the server certificate does not name the host connected to',
  expired: 'a certificate has expired or is not valid yet',
  'client-cert-missing': 'the server requires a client certificate and none was sent',
  'client-cert-rejected': 'the server refused the client certificate',
  'not-tls': 'the other side does not speak TLS on that port',
  'tls-required': 'the server accepts TLS connections only, and this one was plain',
  other: 'the TLS handshake failed',
};

/** Node's TLS error codes (OpenSSL's, as Node names them), by what a person has to fix. */
const TLS_CODES: Record<string, TlsFailure['kind']> = {
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted',
  CERT_SIGNATURE_FAILURE: 'untrusted',
  CERT_UNTRUSTED: 'untrusted',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'expired',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'expired',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'client-cert-missing',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'client-cert-rejected',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'client-cert-rejected',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'client-cert-rejected',
  ERR_SSL_WRONG_VERSION_NUMBER: 'not-tls',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'not-tls',
  ERR_SSL_HTTP_REQUEST: 'not-tls',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'other',
};

/** The same failures as gRPC (grpc-js) and the Temporal core (rustls) word them in a message. */
const TLS_MESSAGES: [RegExp, TlsFailure['kind']][] = [
  [/self[- ]signed certificate|unable to (verify|get (local )?issuer)|UnknownIssuer|BadSignature|certificate verify failed/i, 'untrusted'],
  [/NotValidForName|altnames|does not match certificate|certificate is not valid for/i, 'hostname'],
  [/certificate has expired|\bExpired\b|CERTIFICATE_EXPIRED/i, 'expired'],
  [/certificate[ _]required|CertificateRequired/i, 'client-cert-missing'],
  [/bad[ _]certificate|BadCertificate|unknown[ _]ca|UnknownCA|certificate[ _]unknown/i, 'client-cert-rejected'],
  [/wrong version number|InvalidContentType|CorruptMessage|packet length too long|http request|InvalidMessage/i, 'not-tls'],
];

/** A TLS handshake failure anywhere in the causes (or in a message that only quotes one), or undefined. */
export function tlsFailure(err: unknown): TlsFailure | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message, details } = e as { code?: unknown; message?: unknown; details?: unknown };
    const kind = typeof code === 'string' ? TLS_CODES[code] : undefined;
    if (kind) return { kind, reason: TLS_REASONS[kind] };
    const text = [message, details].filter((x) => typeof x === 'string').join(' ');
    if (!/TLS|SSL|certificate|handshake|rustls|tls/i.test(text)) continue;
    for (const [pattern, k] of TLS_MESSAGES) if (pattern.test(text)) return { kind: k, reason: TLS_REASONS[k] };
  }
  return undefined;
}

const POSTGRES_TLS_FIX: Record<TlsFailure['kind'], string> = {
  untrusted: 'set PG_SSL_CA_FILE to the CA that signed the server certificate (your provider publishes it)',
  hostname: 'connect by a host name the certificate carries (in DATABASE_URL), or use PG_SSLMODE=verify-ca',
  expired: 'renew the expired certificate',
  'client-cert-missing': 'the server wants a client certificate: set PG_SSL_CERT_FILE and PG_SSL_KEY_FILE',
  'client-cert-rejected': 'the server refused PG_SSL_CERT_FILE: use a certificate its CA signed',
  'not-tls': 'the server does not offer TLS: set PG_SSLMODE=disable, or enable ssl on the server',
  'tls-required': 'set PG_SSLMODE=verify-full (with PG_SSL_CA_FILE for a private CA)',
  other: 'check PG_SSLMODE and PG_SSL_CA_FILE',
};

/** Logins the server refused, and TLS it required, refused or could not prove: no retry fixes these. */
function postgresSecurityError(err: unknown, address: string): EtlError | undefined {
  const state = sqlState(err);
  const message = (err as Error | null)?.message ?? '';
  if (state === '28000' && /no encryption/.test(message)) {
    return new EtlError(
      'POSTGRES_TLS_FAILED',
      `PostgreSQL at ${address} requires TLS and the connection had none — set PG_SSLMODE=verify-full (with PG_SSL_CA_FILE for a private CA)`,
      { cause: err },
    );
  }
  if (state === SQLSTATE.INVALID_PASSWORD || state === '28000') {
    return new EtlError(
      'POSTGRES_AUTH_FAILED',
      `PostgreSQL at ${address} refused the login (${message}) — check the user and password in DATABASE_URL (or PG_PASSWORD)`,
      {
        cause: err,
      },
    );
  }
  if (/The server does not support SSL connections/.test(message)) {
    return new EtlError(
      'POSTGRES_TLS_FAILED',
      `TLS to PostgreSQL at ${address} failed: ${TLS_REASONS['not-tls']} — ${POSTGRES_TLS_FIX['not-tls']}`,
      {
        cause: err,
      },
    );
  }
  const tls = tlsFailure(err);
  if (tls)
    return new EtlError('POSTGRES_TLS_FAILED', `TLS to PostgreSQL at ${address} failed: ${tls.reason} — ${POSTGRES_TLS_FIX[tls.kind]}`, {
      cause: err,
    });
  return undefined;
}

/** Classifies a PostgreSQL failure into the taxonomy, or returns undefined if it is not one we know. */
export function classifyPostgresError(err: unknown, address: string): EtlError | undefined {
  if (isEtlError(err)) return err;
  const security = postgresSecurityError(err, address);
  if (security) return security;
  const state = sqlState(err);
  if (
    isNetworkError(err) ||
    state?.startsWith(CONNECTION_EXCEPTION_CLASS) ||
    (!state && PG_CONNECTION_LOST.test((err as Error | null)?.message ?? ''))
  ) {
    return new EtlError(
      'POSTGRES_UNREACHABLE',
      `cannot reach PostgreSQL at ${address} — start it with \`etl stack up\` or set DATABASE_URL`,
      { cause: err },
    );
  }
  if (state === SQLSTATE.UNDEFINED_TABLE) {
    return new EtlError(
      'SCHEMA_NOT_MIGRATED',
      `PostgreSQL at ${address} lacks the pipeline tables (${(err as Error).message}) — run \`etl migrate\``,
      { cause: err },
    );
  }
  if (state && TRANSIENT_SQLSTATES.has(state)) {
    return new EtlError('POSTGRES_TRANSIENT', `PostgreSQL at ${address}: ${(err as Error).message} (SQLSTATE ${state})`, { cause: err });
  }
  return undefined;
}

/**
 * kafkajs errors that pass: those it marks `retriable` itself (leader elections, coordinator loading
 * or moving, request timeouts) and the group-membership ones a consumer recovers from by rejoining.
 * Looked at through the causes: kafkajs wraps them once its own retries are spent.
 */
const KAFKA_PASSING_TYPES = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
  'COORDINATOR_NOT_AVAILABLE',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'GROUP_LOAD_IN_PROGRESS',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
]);
const KAFKA_PASSING_NAMES = /^(KafkaJSLockTimeout|KafkaJSTimeout|KafkaJSStaleTopicMetadataAssignment)$/;

export function kafkaTransientError(err: unknown, brokers: readonly string[]): EtlError | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { name, type, retriable, message } = e as { name?: unknown; type?: unknown; retriable?: unknown; message?: unknown };
    if (typeof name !== 'string' || !name.startsWith('KafkaJS')) continue;
    if (retriable === true || (typeof type === 'string' && KAFKA_PASSING_TYPES.has(type)) || KAFKA_PASSING_NAMES.test(name)) {
      return new EtlError(
        'KAFKA_TRANSIENT',
        `Kafka at ${brokers.join(',')}: ${String(message)} (${typeof type === 'string' ? type : name}); retrying`,
        { cause: err },
      );
    }
  }
  return undefined;
}

/** AWS SDK errors that pass: the endpoint answered 5xx (after the SDK's own retries), throttled, or timed out. */
export function s3TransientError(err: unknown, endpoint: string): EtlError | undefined {
  const e = err as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  const status = e?.$metadata?.httpStatusCode;
  const throttled =
    typeof e?.name === 'string' &&
    /^(SlowDown|Throttling|ThrottlingException|RequestTimeout|TimeoutError|ServiceUnavailable|InternalError)$/.test(e.name);
  if ((typeof status === 'number' && status >= 500) || throttled) {
    return new EtlError(
      'S3_TRANSIENT',
      `S3 at ${endpoint}: ${String(e?.message)} (${String(e?.name)}${typeof status === 'number' ? `, HTTP ${status}` : ''}); retrying`,
      { cause: err },
    );
  }
  return undefined;
}

// One error taxonomy for the whole project. A code is stable (logs, alerts and docs refer to it) and
// says whether retrying can help. Activities convert non-retryable codes into non-retryable
// ApplicationFailures (see activities/failures.ts), so Temporal stops retrying what cannot succeed.

export const ERROR_CODES = {
  CONFIG_INVALID: { retryable: false, summary: 'configuration (env or .env) does not parse' },
  USAGE: { retryable: false, summary: 'bad command-line arguments' },
  KAFKA_UNREACHABLE: { retryable: true, summary: 'no Kafka broker answered' },
  S3_UNREACHABLE: { retryable: true, summary: 'the S3 endpoint did not answer' },
  POSTGRES_UNREACHABLE: { retryable: true, summary: 'PostgreSQL did not accept a connection' },
  TEMPORAL_UNREACHABLE: { retryable: true, summary: 'the Temporal frontend did not answer' },
  POSTGRES_TRANSIENT: { retryable: true, summary: 'PostgreSQL aborted a statement for a reason that passes (deadlock, serialization, shutdown)' },
  ARCHIVE_BUSY: { retryable: true, summary: 'another archive of the same topic holds its lock' },
  S3_ACCESS_DENIED: { retryable: false, summary: 'the S3 credentials were refused' },
  BRONZE_OBJECT_MISSING: { retryable: false, summary: 'a manifest row names an object that is not in the bucket' },
  SCHEMA_NOT_MIGRATED: { retryable: false, summary: 'the database lacks the tables; run `etl migrate`' },
  MIGRATION_FAILED: { retryable: false, summary: 'a migration file failed to apply' },
  MIGRATION_CHANGED: { retryable: false, summary: 'an applied migration file was edited afterwards' },
  MANIFEST_INVALID: { retryable: false, summary: 'the bronze manifest breaks its own invariants' },
  SCHEDULE_EXISTS: { retryable: false, summary: 'a schedule with that id already exists' },
  SCHEDULE_NOT_FOUND: { retryable: false, summary: 'no schedule with that id' },
  STACK_START_FAILED: { retryable: false, summary: 'a local service did not become healthy' },
  STACK_INSTALL_FAILED: { retryable: false, summary: 'a local service could not be installed' },
  SOURCE_UNREACHABLE: { retryable: true, summary: 'a market data API did not answer (no route, DNS, refused, timed out)' },
  SOURCE_UNAVAILABLE: { retryable: true, summary: 'a market data API kept answering with server errors (5xx)' },
  SOURCE_RATE_LIMITED: { retryable: true, summary: 'a market data API kept answering 429 (or its rate-limit error) after the retries' },
  SOURCE_AUTH_FAILED: { retryable: false, summary: 'a market data API refused the API key (401/403)' },
  SOURCE_KEY_MISSING: { retryable: false, summary: 'a market data source needs an API key that is not configured' },
  SOURCE_BAD_RESPONSE: { retryable: false, summary: 'a market data API answered something that does not parse as its documented format' },
  SOURCE_UNKNOWN_SYMBOL: { retryable: false, summary: 'a market data API does not know the symbol' },
} as const satisfies Record<string, { retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class EtlError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EtlError';
    this.code = code;
    this.retryable = ERROR_CODES[code].retryable;
  }
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
]);

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
    if (Array.isArray(errors)) for (const inner of errors) {
      const t = networkErrorTarget(inner);
      if (t) return t;
    }
  }
  return undefined;
}

/** Classifies a PostgreSQL failure into the taxonomy, or returns undefined if it is not one we know. */
export function classifyPostgresError(err: unknown, address: string): EtlError | undefined {
  if (isEtlError(err)) return err;
  if (isNetworkError(err)) {
    return new EtlError('POSTGRES_UNREACHABLE', `cannot reach PostgreSQL at ${address} — start it with \`etl stack up\` or set DATABASE_URL`, { cause: err });
  }
  const state = sqlState(err);
  if (state === SQLSTATE.UNDEFINED_TABLE) {
    return new EtlError('SCHEMA_NOT_MIGRATED', `PostgreSQL at ${address} lacks the pipeline tables (${(err as Error).message}) — run \`etl migrate\``, { cause: err });
  }
  if (state && TRANSIENT_SQLSTATES.has(state)) {
    return new EtlError('POSTGRES_TRANSIENT', `PostgreSQL at ${address}: ${(err as Error).message} (SQLSTATE ${state})`, { cause: err });
  }
  return undefined;
}

// The one place configuration is read. Precedence: process env > `.env` > the defaults below.
// Every other module receives a `Config`; nothing else reads process.env.
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { EtlError } from './errors';

const DEFAULT_READER_PASSWORD = 'etl_reader';
const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const hostPort = z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port, e.g. 127.0.0.1:9092');
/** true/false (also 1/0, yes/no), as env files and container platforms write them. */
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], 'expected true or false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
/** A path to a mounted file (certificate, key); empty: not used. Checked to exist when the config is read. */
const filePath = z.string().default('');
/** Comma-separated ticker symbols, e.g. "AAPL,MSFT" or "BTC-USD,ETH-USD". */
const symbolList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim().toUpperCase())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[A-Z0-9^][A-Z0-9.\-=^]{0,19}$/, 'symbols are 1-20 of A-Z 0-9 . - = ^, comma-separated')).min(1));
/** "source=value,…" for the market sources; a source left out keeps its built-in default (sources/market/settings.ts). */
const perMarketSource = (value: string, example: string) =>
  z
    .string()
    .regex(
      new RegExp(`^((yahoo|finnhub|cryptocompare)=${value})(,(yahoo|finnhub|cryptocompare)=${value})*$`),
      `expected source=value pairs, e.g. ${example}`,
    );

/**
 * What a value may reveal, marked once here on the setting itself: the configuration errors, the
 * logger's redaction (lib/logger.ts) and the `<NAME>_FILE` mechanism all derive from these marks.
 * - secret: the whole value is a secret; shown by its length only, redacted in logs;
 * - url: a URL that may carry `user:password@`; shown and logged with the password masked.
 */
const sensitivity = z.registry<{ sensitive: 'secret' | 'url' }>();
function marked<T extends z.ZodType>(schema: T, sensitive: 'secret' | 'url'): T {
  sensitivity.add(schema as z.ZodType, { sensitive });
  return schema;
}
const secret = <T extends z.ZodType>(schema: T) => marked(schema, 'secret');
const credentialsUrl = <T extends z.ZodType>(schema: T) => marked(schema, 'url');
/** An http(s) URL whose client sends no credentials from it: a `user:password@` there is refused, not silently dropped. */
const urlWithoutCredentials = (instead: string) =>
  z.url().refine((u) => !/^[a-z][a-z0-9+.-]*:\/\/[^/@]*@/i.test(u), `credentials in this URL are not used: set ${instead} instead`);

/** Comma-separated where file sources may read: absolute paths and s3://bucket/prefix/ entries. */
const fileRoots = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z
        .string()
        .refine(
          (e) => path.isAbsolute(e) || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(e),
          'each entry an absolute path or s3://bucket/prefix/',
        ),
    ),
  );

/** Running the build (dist/lib/config.js, see scripts/build.mjs) rather than the sources through tsx. */
export const RUNNING_BUILT = __filename.endsWith('.js');
/** The checkout: the parent of lib/, or of dist/lib/ when built. */
export const PROJECT_ROOT = path.resolve(__dirname, RUNNING_BUILT ? '../..' : '..');

/** Each entry: env name -> schema with its documented default. `.env.example` mirrors this list. */
export const configSchema = z.object({
  ETL_STATE_DIR: z.string().default('.stack'),
  /** The folder of the deployment's stream declarations (docs/streams.md); the built-in streams are loaded alongside. */
  ETL_STREAMS_DIR: z.string().default(''),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),

  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('etl'),
  // The names the Temporal CLI and the SDKs' environment configuration read (TEMPORAL_TLS_*, TEMPORAL_API_KEY).
  /** auto: TLS when a certificate, a CA or an API key is configured; true/false force it on or off. */
  TEMPORAL_TLS: z.enum(['auto', 'true', 'false'], 'expected auto, true or false').default('auto'),
  TEMPORAL_TLS_CLIENT_CERT_PATH: filePath,
  TEMPORAL_TLS_CLIENT_KEY_PATH: filePath,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: filePath,
  TEMPORAL_TLS_SERVER_NAME: z.string().default(''),
  /** Temporal Cloud API key, sent as `authorization: Bearer <key>` on every call. */
  TEMPORAL_API_KEY: secret(z.string().default('')),

  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    )
    .pipe(z.array(hostPort).min(1)),
  KAFKA_CONTROLLER_PORT: port.default(9093),
  KAFKA_CLIENT_ID: z.string().default('etl'),
  KAFKA_TOPIC_PARTITIONS: positiveInt.default(3),
  /** Copies of each partition of topics we create: 1 on a single broker, 3 on a production cluster. */
  KAFKA_REPLICATION_FACTOR: positiveInt.default(1),
  /** Worker threads a large unthrottled `etl produce` or ingest run produces on; 0 keeps it on the calling thread. */
  PRODUCER_THREADS: z.coerce.number().int().min(0).max(16).default(2),
  /** Prepended to every stream's topic (stream "transactions" -> topic "<prefix>transactions"). */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'Kafka topic characters only')
    .default(''),
  /** TLS to the brokers (SSL or SASL_SSL listeners): system CAs unless a CA file is given. */
  KAFKA_TLS: flag.default(false),
  KAFKA_TLS_CA_FILE: filePath,
  /** Client certificate and key (PEM) for brokers that authenticate clients by certificate (mTLS). */
  KAFKA_TLS_CERT_FILE: filePath,
  KAFKA_TLS_KEY_FILE: filePath,
  KAFKA_SASL_MECHANISM: z
    .enum(
      ['none', 'plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'],
      'expected none, plain, scram-sha-256, scram-sha-512 or oauthbearer',
    )
    .default('none'),
  KAFKA_SASL_USERNAME: z.string().default(''),
  KAFKA_SASL_PASSWORD: secret(z.string().default('')),
  /** OAUTHBEARER token; one from KAFKA_SASL_OAUTH_TOKEN_FILE is read again at every (re)authentication, so a sidecar can refresh it. */
  KAFKA_SASL_OAUTH_TOKEN: secret(z.string().default('')),
  KAFKA_SASL_OAUTH_TOKEN_FILE: filePath,

  /** An http(s) URL of an S3-compatible server (path-style, static keys), or `aws`: Amazon S3 itself (virtual-hosted, SDK credential chain). */
  S3_ENDPOINT: z
    .union([z.literal('aws'), urlWithoutCredentials('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY')], 'expected an http(s) URL or aws')
    .default('http://127.0.0.1:9000'),
  /** auto: the static keys below with an endpoint URL, the AWS SDK's default credential chain with S3_ENDPOINT=aws. */
  S3_CREDENTIALS: z.enum(['auto', 'static', 'sdk'], 'expected auto, static or sdk').default('auto'),
  /** CA (PEM) that signed an https endpoint's certificate, for a private CA; empty: the system CAs. */
  S3_CA_FILE: filePath,
  /** Server-side encryption asked for on every object written: none (the bucket's default), AES256 (SSE-S3) or aws:kms (SSE-KMS). */
  S3_SSE: z.enum(['none', 'AES256', 'aws:kms'], 'expected none, AES256 or aws:kms').default('none'),
  S3_SSE_KMS_KEY_ID: z.string().default(''),
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).default('etl-local'),
  S3_SECRET_ACCESS_KEY: secret(z.string().min(8).default('etl-local-secret')),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'S3 bucket names are 3-63 lowercase letters, digits, dots, hyphens')
    .default('etl-lake'),
  /** Prepended to every object key, e.g. "team-a/"; empty puts bronze/ and silver/ at the bucket root. */
  S3_PREFIX: z
    .string()
    .regex(/^([a-zA-Z0-9._-]+\/)*$/, 'path segments each ending in "/"')
    .default(''),

  DATABASE_URL: credentialsUrl(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected postgres://user:password@host:port/db')
      .default('postgres://etl:etl@127.0.0.1:5432/etl'),
  ),
  PG_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lowercase SQL identifier')
    .default('etl'),
  PG_READER_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('etl_reader'),
  /** Refused against a PostgreSQL that is not on loopback while it is this default (crossChecks). */
  PG_READER_PASSWORD: secret(z.string().min(1).default(DEFAULT_READER_PASSWORD)),
  PG_POOL_MAX: positiveInt.default(8),
  /** Overrides the password in DATABASE_URL (e.g. from PG_PASSWORD_FILE), so the URL itself holds no secret. */
  PG_PASSWORD: secret(z.string().default('')),
  /** As libpq's sslmode: verify-full checks the CA and the host name, verify-ca the CA only, require neither. */
  PG_SSLMODE: z
    .enum(['disable', 'require', 'verify-ca', 'verify-full'], 'expected disable, require, verify-ca or verify-full')
    .default('disable'),
  /** CA (PEM) for verify-ca/verify-full, e.g. the provider's bundle; empty: the system CAs. */
  PG_SSL_CA_FILE: filePath,
  /** Client certificate and key (PEM) for servers that authenticate clients by certificate. */
  PG_SSL_CERT_FILE: filePath,
  PG_SSL_KEY_FILE: filePath,
  PG_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(600_000),
  PG_CONNECT_TIMEOUT_MS: positiveInt.default(10_000),

  /** Records per bronze object at most: bounds memory and the unit of retry. */
  ARCHIVE_MAX_RECORDS_PER_OBJECT: positiveInt.default(50_000),
  /**
   * Uncompressed bytes of bronze lines per object at most (Kafka archive, continuous follower, file
   * sources), besides the records bound: what one open object can hold, whatever the records' size.
   */
  ARCHIVE_MAX_OBJECT_BYTES: z.coerce
    .number()
    .int()
    .min(1_048_576, 'at least 1 MiB (1048576)')
    .default(16 * 1024 * 1024),
  /**
   * A record value (Kafka value or file line) longer than this is quarantined as TOO_LARGE with its
   * size, SHA-256 and first bytes; the original stays in bronze.
   */
  MAX_VALUE_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(512 * 1024 * 1024)
    .default(64 * 1024),
  /**
   * Bytes a compressed Kafka record batch may expand to: past it, the records of the batch that do
   * not fit are archived as size, SHA-256 and first bytes only, and quarantined as TOO_LARGE.
   */
  KAFKA_MAX_BATCH_BYTES: z.coerce
    .number()
    .int()
    .min(1_048_576, 'at least 1 MiB (1048576)')
    .default(32 * 1024 * 1024),
  /** Objects one archive activity writes before it returns, so a workflow step stays short. */
  ARCHIVE_MAX_OBJECTS_PER_ACTIVITY: positiveInt.default(8),
  /** A gzip source file stops (FILE_UNREADABLE, that file only) once it has expanded to more bytes than this. */
  FILE_MAX_DECOMPRESSED_BYTES: positiveInt.default(64 * 1024 ** 3),
  /** …or, past its first MiB, to more than this many times the compressed bytes read (a gzip bomb). */
  FILE_MAX_EXPANSION_RATIO: positiveInt.default(100),
  /** Compression of new bronze objects (docs/performance.md, "Bronze codec"); readers open either. */
  BRONZE_CODEC: z.enum(['zstd', 'gzip']).default('zstd'),
  /** Bronze objects transformed and loaded at once by one pipeline run. */
  PIPELINE_OBJECT_CONCURRENCY: positiveInt.default(2),
  /**
   * Threads of a worker that run the CPU-bound pass of transform-and-load (gunzip, parse, validate,
   * encode), so its main thread stays free for Temporal and PostgreSQL; 0 runs the pass on the main thread.
   */
  TRANSFORM_THREADS: z.coerce.number().int().min(0).max(64).default(1),
  /**
   * Attempts of an activity whose error no code covers (a bug): at this attempt it is not retried
   * again, and the object it worked on is parked (or its run fails). Transient errors stay unbounded.
   */
  UNKNOWN_ERROR_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /** Rows per row group of a Parquet lake file (docs/lake.md): bounds what a reader holds to decode one group. */
  LAKE_ROW_GROUP_ROWS: z.coerce.number().int().min(2_048).max(10_000_000).default(122_880),
  /** Compression of the Parquet lake files: zstd (smaller) or snappy (what older readers expect). */
  LAKE_CODEC: z.enum(['zstd', 'snappy'], 'expected zstd or snappy').default('zstd'),
  /** Memory of a process's one DuckDB instance, shared by its concurrent lake writes (beyond it DuckDB spills to a temp directory). */
  LAKE_MEMORY_LIMIT_MB: z.coerce.number().int().min(64).max(65_536).default(512),
  /** Continuous mode (`etl stream start`): a record the follower has read is written to bronze at most this long after. */
  STREAM_FLUSH_INTERVAL_MS: z.coerce.number().int().min(100, 'at least 100 (ms)').default(5_000),

  /** Prometheus metrics of a worker (SDK runtime + pipeline counters) at http://HOST:PORT/metrics; port 0 turns them off. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),

  /** `etl dashboard` listens here: loopback by default; any other address needs DASHBOARD_TOKEN. */
  DASHBOARD_HOST: z.string().min(1).default('127.0.0.1'),
  DASHBOARD_PORT: port.default(8080),
  /** The dashboard's login (docs/dashboard.md, "Authentication"): required beyond loopback; best from DASHBOARD_TOKEN_FILE. */
  DASHBOARD_TOKEN: secret(
    z
      .string()
      .refine((v) => v === '' || v.length >= 16, 'at least 16 characters, e.g. from `openssl rand -hex 32`')
      .default(''),
  ),
  /** The user name a browser's login prompt asks for with DASHBOARD_TOKEN as its password. */
  DASHBOARD_USER: z
    .string()
    .regex(/^[^:\s]+$/, 'no colon or white space')
    .default('etl'),
  /** Rows a page of the transactions table may reach into (page x pageSize): no OFFSET deeper than this. */
  DASHBOARD_MAX_RESULT_WINDOW: z.coerce.number().int().min(100).max(10_000_000).default(10_000),
  /** Rows of one CSV export at most; a larger export is cut there and says so (headers, file name). */
  DASHBOARD_CSV_MAX_ROWS: positiveInt.default(1_000_000),
  /** Seconds one CSV export may stream; past it the download is aborted (the client sees it fail). */
  DASHBOARD_CSV_MAX_SECONDS: positiveInt.default(300),

  /** Market data APIs (`etl poll`, the poll schedules). Base URLs are settings so tests and proxies can stand in. */
  YAHOO_BASE_URL: urlWithoutCredentials('a proxy').default('https://query1.finance.yahoo.com'),
  FINNHUB_BASE_URL: urlWithoutCredentials('FINNHUB_API_KEY').default('https://finnhub.io'),
  CRYPTOCOMPARE_BASE_URL: urlWithoutCredentials('CRYPTOCOMPARE_API_KEY').default('https://min-api.cryptocompare.com'),
  /** Finnhub needs a key (free at https://finnhub.io/register); CryptoCompare works without one, with lower limits. */
  FINNHUB_API_KEY: secret(z.string().default('')),
  CRYPTOCOMPARE_API_KEY: secret(z.string().default('')),
  MARKET_SYMBOLS_YAHOO: symbolList.default(['AAPL', 'MSFT']),
  MARKET_SYMBOLS_FINNHUB: symbolList.default(['AAPL', 'MSFT']),
  MARKET_SYMBOLS_CRYPTOCOMPARE: symbolList.default(['BTC-USD', 'ETH-USD']),
  /** Default interval of `etl schedule create poll --source <s>` when neither --every nor --cron is given. */
  MARKET_POLL_EVERY: perMarketSource('[1-9]\\d*(s|m|h)', 'yahoo=1m,finnhub=30s').default('yahoo=1m,finnhub=30s,cryptocompare=1m'),
  /** Client-side rate limit of each source (a token bucket per worker or CLI process), requests per minute. */
  MARKET_REQUESTS_PER_MINUTE: perMarketSource('[1-9]\\d{0,5}', 'yahoo=30,finnhub=50').default('yahoo=30,finnhub=50,cryptocompare=30'),

  /** The search sink (docs/search.md): streams that declare an index are indexed into OpenSearch, and `etl stack up` starts the node. */
  SEARCH_SINK: flag.default(false),
  /** The OpenSearch node the sink writes to and the dashboard's Search tab reads (the local stack's: security plugin off, plain http). */
  OPENSEARCH_URL: credentialsUrl(z.url().default('http://127.0.0.1:9200')),
  /** Basic-auth login to a node with the security plugin on; they take precedence over a user:password@ in OPENSEARCH_URL. */
  OPENSEARCH_USERNAME: z.string().default(''),
  OPENSEARCH_PASSWORD: secret(z.string().default('')),
  /** Prepended to every index, alias and template name (lowercase): lets tests and deployments share a node. */
  OPENSEARCH_INDEX_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$|^$/, 'lowercase letters, digits, _ and - (OpenSearch index names)')
    .default('etl-'),
  /** Java heap of the local stack's OpenSearch node, in MiB. */
  OPENSEARCH_HEAP_MB: z.coerce.number().int().min(256).max(32768).default(512),

  /**
   * Where file sources may read (docs/files.md, "Where files may be read from"): local paths under
   * these folders, and, once an s3:// entry is listed, S3 locations under those prefixes only.
   * Empty: the working directory of the process and the OS temp directory (lib/file-roots.ts).
   */
  FILE_SOURCE_ROOTS: fileRoots.default([]),
});

export type Config = z.infer<typeof configSchema>;

const markedAs = (kind: 'secret' | 'url') =>
  Object.entries(configSchema.shape)
    .filter(([, schema]) => sensitivity.get(schema)?.sensitive === kind)
    .map(([name]) => name);

/** Whole values that are secrets: a configuration error names them, never shows them; logs redact them. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set(markedAs('secret'));
/** URLs that may carry a password: shown and logged with it masked. */
export const CREDENTIAL_URL_VARIABLES: ReadonlySet<string> = new Set(markedAs('url'));

/**
 * Variables that may instead be read from a file named by `<NAME>_FILE` (a mounted secret, as
 * Docker and Kubernetes provide them), so a secret need not sit in the environment.
 */
export const FILE_VARIABLES: readonly string[] = [
  ...SECRET_VARIABLES,
  'DATABASE_URL',
  'S3_ACCESS_KEY_ID',
  'KAFKA_SASL_USERNAME',
  'OPENSEARCH_USERNAME',
].filter(
  (name) => name !== 'KAFKA_SASL_OAUTH_TOKEN', // its file is KAFKA_SASL_OAUTH_TOKEN_FILE, read again at each authentication
);

/**
 * `scheme://user:password@host` -> `scheme://user:***@host`, also in a value that does not parse as
 * a URL (a missing slash, no scheme at all): whatever reads as `user:password@`.
 */
export function maskUrlCredentials(text: string): string {
  return text.replace(/([^\s/:@]+:)[^\s/@]*@/g, '$1***@');
}

/** A variable's value as a configuration error may show it: secrets by their length only, URL passwords masked. */
export function printableValue(name: string, value: string | undefined): string {
  if (value === undefined) return '(unset)';
  if (SECRET_VARIABLES.has(name)) return `(hidden, ${value.length} characters)`;
  return JSON.stringify(maskUrlCredentials(value));
}

function readDotenv(file: string): Record<string, string> {
  return existsSync(file) ? parseDotenv(readFileSync(file)) : {};
}

/** `<NAME>_FILE` -> the file's text as `<NAME>` (one trailing newline dropped); a problem becomes a line of the error. */
function readSecretFiles(merged: Record<string, string | undefined>, known: Record<string, string | undefined>, problems: string[]): void {
  for (const name of FILE_VARIABLES) {
    const file = merged[`${name}_FILE`];
    if (!file) continue;
    if (known[name] !== undefined) {
      problems.push(`  ${name}_FILE=${JSON.stringify(file)}: ${name} is set too; set one of the two`);
      continue;
    }
    try {
      known[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`  ${name}_FILE=${JSON.stringify(file)}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
}

/** libpq users write sslmode and sslrootcert into the URL: they count unless PG_SSLMODE / PG_SSL_CA_FILE say otherwise. */
function sslFromDatabaseUrl(known: Record<string, string | undefined>): void {
  const url = known.DATABASE_URL;
  if (!url || !/[?&]ssl/.test(url)) return;
  try {
    const params = new URL(url).searchParams;
    known.PG_SSLMODE ??= params.get('sslmode') ?? undefined;
    known.PG_SSL_CA_FILE ??= params.get('sslrootcert') ?? undefined;
    known.PG_SSL_CERT_FILE ??= params.get('sslcert') ?? undefined;
    known.PG_SSL_KEY_FILE ??= params.get('sslkey') ?? undefined;
  } catch {
    // the schema reports an unparseable URL
  }
}

const FILE_PATH_VARIABLES = Object.keys(configSchema.shape).filter((k) => /_(FILE|PATH)$/.test(k)) as (keyof Config)[];
const PAIRS: readonly [keyof Config, keyof Config][] = [
  ['KAFKA_TLS_CERT_FILE', 'KAFKA_TLS_KEY_FILE'],
  ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH'],
  ['PG_SSL_CERT_FILE', 'PG_SSL_KEY_FILE'],
];

/** What one variable alone cannot say: settings that need each other, and files that must exist. */
function crossChecks(cfg: Config): { name: string; message: string }[] {
  const issues: { name: string; message: string }[] = [];
  for (const name of FILE_PATH_VARIABLES) {
    const file = cfg[name] as string;
    if (file && !existsSync(file)) issues.push({ name, message: 'no such file' });
  }
  for (const [a, b] of PAIRS) {
    if (!cfg[a] !== !cfg[b]) issues.push({ name: cfg[a] ? b : a, message: `${a} and ${b} go together: set both or neither` });
  }
  const mechanism = cfg.KAFKA_SASL_MECHANISM;
  if ((mechanism === 'plain' || mechanism.startsWith('scram')) && (!cfg.KAFKA_SASL_USERNAME || !cfg.KAFKA_SASL_PASSWORD)) {
    issues.push({ name: 'KAFKA_SASL_MECHANISM', message: `${mechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD` });
  }
  if (mechanism === 'oauthbearer' && !cfg.KAFKA_SASL_OAUTH_TOKEN && !cfg.KAFKA_SASL_OAUTH_TOKEN_FILE) {
    issues.push({ name: 'KAFKA_SASL_MECHANISM', message: 'oauthbearer needs KAFKA_SASL_OAUTH_TOKEN or KAFKA_SASL_OAUTH_TOKEN_FILE' });
  }
  if (cfg.S3_SSE_KMS_KEY_ID && cfg.S3_SSE !== 'aws:kms') issues.push({ name: 'S3_SSE_KMS_KEY_ID', message: 'needs S3_SSE=aws:kms' });
  if (cfg.OPENSEARCH_PASSWORD && !cfg.OPENSEARCH_USERNAME)
    issues.push({ name: 'OPENSEARCH_PASSWORD', message: 'needs OPENSEARCH_USERNAME' });
  const pgHost = databaseHost(cfg.DATABASE_URL);
  if (cfg.PG_READER_PASSWORD === DEFAULT_READER_PASSWORD && pgHost && !isLoopbackHost(pgHost)) {
    issues.push({
      name: 'PG_READER_PASSWORD',
      message: `the read-only role's default password is refused for PostgreSQL at ${pgHost}, which is not on loopback: set a password of your own (or PG_READER_PASSWORD_FILE)`,
    });
  }
  return issues;
}

/** Parses config from env and `.env`; throws an EtlError listing every bad variable and how to fix it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, dotenvFile = path.join(PROJECT_ROOT, '.env')): Config {
  const merged: Record<string, string | undefined> = { ...readDotenv(dotenvFile), ...env };
  const known = Object.fromEntries(Object.keys(configSchema.shape).map((k) => [k, merged[k] === '' ? undefined : merged[k]]));
  const problems: string[] = [];
  readSecretFiles(merged, known, problems);
  sslFromDatabaseUrl(known);
  const line = (name: string, message: string) => `  ${name}=${printableValue(name, known[name])}: ${message}`;
  const result = configSchema.safeParse(known);
  if (result.success) problems.push(...crossChecks(result.data).map((i) => line(i.name, i.message)));
  else problems.push(...result.error.issues.map((i) => line(String(i.path[0]), i.message)));
  if (problems.length) {
    throw new EtlError(
      'CONFIG_INVALID',
      `invalid configuration:\n${problems.join('\n')}\nfix these in your environment or .env (see .env.example for every variable and its default)`,
    );
  }
  const cfg = result.data!;
  return {
    ...cfg,
    ETL_STATE_DIR: path.resolve(PROJECT_ROOT, cfg.ETL_STATE_DIR),
    ETL_STREAMS_DIR: cfg.ETL_STREAMS_DIR && path.resolve(PROJECT_ROOT, cfg.ETL_STREAMS_DIR),
  };
}

/**
 * ETL_STREAMS_DIR alone (from env and `.env`), resolved like loadConfig does: what the stream
 * registry loads when no entry point told it, without the rest of the configuration having to parse.
 */
export function streamsDirSetting(env: NodeJS.ProcessEnv = process.env, dotenvFile = path.join(PROJECT_ROOT, '.env')): string | undefined {
  const value = env.ETL_STREAMS_DIR ?? readDotenv(dotenvFile).ETL_STREAMS_DIR;
  return value ? path.resolve(PROJECT_ROOT, value) : undefined;
}

/** This machine's loopback: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** The host of DATABASE_URL; '' for a Unix socket (no host, or a host=/path parameter); undefined if it does not parse. */
function databaseHost(url: string): string | undefined {
  try {
    const u = new URL(url);
    const socket = u.searchParams.get('host');
    if (socket?.startsWith('/')) return '';
    return u.hostname;
  } catch {
    return undefined;
  }
}

/** TLS to Temporal: asked for, or implied by a certificate, a CA or an API key (as the Temporal CLI decides). */
export function temporalUsesTls(cfg: Config): boolean {
  if (cfg.TEMPORAL_TLS !== 'auto') return cfg.TEMPORAL_TLS === 'true';
  return Boolean(cfg.TEMPORAL_TLS_CLIENT_CERT_PATH || cfg.TEMPORAL_TLS_SERVER_CA_CERT_PATH || cfg.TEMPORAL_API_KEY);
}

export function temporalUiUrl(cfg: Config, workflowId?: string, runId?: string): string {
  const host = cfg.TEMPORAL_ADDRESS.split(':')[0];
  // Temporal Cloud's Web UI is one site for every namespace; a self-hosted one sits next to its frontend.
  const site =
    host?.endsWith('.tmprl.cloud') || host?.endsWith('.api.temporal.io')
      ? 'https://cloud.temporal.io'
      : `http://${host}:${cfg.TEMPORAL_UI_PORT}`;
  const root = `${site}/namespaces/${encodeURIComponent(cfg.TEMPORAL_NAMESPACE)}/workflows`;
  if (!workflowId) return root;
  return `${root}/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
}

// The one place configuration is read. Precedence: process env > `.env` > the defaults below.
// Every other module receives a `Config`; nothing else reads process.env.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { EtlError } from './errors';

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const hostPort = z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port, e.g. 127.0.0.1:9092');
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

/** Running the build (dist/lib/config.js, see scripts/build.mjs) rather than the sources through tsx. */
export const RUNNING_BUILT = __filename.endsWith('.js');
/** The checkout: the parent of lib/, or of dist/lib/ when built. */
export const PROJECT_ROOT = path.resolve(__dirname, RUNNING_BUILT ? '../..' : '..');

/** Each entry: env name -> schema with its documented default. `.env.example` mirrors this list. */
export const configSchema = z.object({
  ETL_STATE_DIR: z.string().default('.stack'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),

  TEMPORAL_ADDRESS: hostPort.default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('etl'),

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
  /** Prepended to every stream's topic (stream "transactions" -> topic "<prefix>transactions"). */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'Kafka topic characters only')
    .default(''),

  S3_ENDPOINT: z.url().default('http://127.0.0.1:9000'),
  S3_REGION: z.string().default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().min(1).default('etl-local'),
  S3_SECRET_ACCESS_KEY: z.string().min(8).default('etl-local-secret'),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'S3 bucket names are 3-63 lowercase letters, digits, dots, hyphens')
    .default('etl-lake'),
  /** Prepended to every object key, e.g. "team-a/"; empty puts bronze/ and silver/ at the bucket root. */
  S3_PREFIX: z
    .string()
    .regex(/^([a-zA-Z0-9._-]+\/)*$/, 'path segments each ending in "/"')
    .default(''),

  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected postgres://user:password@host:port/db')
    .default('postgres://etl:etl@127.0.0.1:5432/etl'),
  PG_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lowercase SQL identifier')
    .default('etl'),
  PG_READER_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('etl_reader'),
  PG_READER_PASSWORD: z.string().min(1).default('etl_reader'),
  PG_POOL_MAX: positiveInt.default(8),

  /** Records per bronze object at most: bounds memory and the unit of retry. */
  ARCHIVE_MAX_RECORDS_PER_OBJECT: positiveInt.default(50_000),
  /** Objects one archive activity writes before it returns, so a workflow step stays short. */
  ARCHIVE_MAX_OBJECTS_PER_ACTIVITY: positiveInt.default(8),
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
  /** Continuous mode (`etl stream start`): a record the follower has read is written to bronze at most this long after. */
  STREAM_FLUSH_INTERVAL_MS: z.coerce.number().int().min(100, 'at least 100 (ms)').default(5_000),

  /** Prometheus metrics of a worker (SDK runtime + pipeline counters) at http://HOST:PORT/metrics; port 0 turns them off. */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),

  /** `etl dashboard` listens here; loopback by default, since it shows data without a login. */
  DASHBOARD_HOST: z.string().min(1).default('127.0.0.1'),
  DASHBOARD_PORT: port.default(8080),

  /** Market data APIs (`etl poll`, the poll schedules). Base URLs are settings so tests and proxies can stand in. */
  YAHOO_BASE_URL: z.url().default('https://query1.finance.yahoo.com'),
  FINNHUB_BASE_URL: z.url().default('https://finnhub.io'),
  CRYPTOCOMPARE_BASE_URL: z.url().default('https://min-api.cryptocompare.com'),
  /** Finnhub needs a key (free at https://finnhub.io/register); CryptoCompare works without one, with lower limits. */
  FINNHUB_API_KEY: z.string().default(''),
  CRYPTOCOMPARE_API_KEY: z.string().default(''),
  MARKET_SYMBOLS_YAHOO: symbolList.default(['AAPL', 'MSFT']),
  MARKET_SYMBOLS_FINNHUB: symbolList.default(['AAPL', 'MSFT']),
  MARKET_SYMBOLS_CRYPTOCOMPARE: symbolList.default(['BTC-USD', 'ETH-USD']),
  /** Default interval of `etl schedule create poll --source <s>` when neither --every nor --cron is given. */
  MARKET_POLL_EVERY: perMarketSource('[1-9]\\d*(s|m|h)', 'yahoo=1m,finnhub=30s').default('yahoo=1m,finnhub=30s,cryptocompare=1m'),
  /** Client-side rate limit of each source (a token bucket per worker or CLI process), requests per minute. */
  MARKET_REQUESTS_PER_MINUTE: perMarketSource('[1-9]\\d{0,5}', 'yahoo=30,finnhub=50').default('yahoo=30,finnhub=50,cryptocompare=30'),
});

export type Config = z.infer<typeof configSchema>;

/** Whole values that are secrets: a configuration error names them, never shows them. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'S3_SECRET_ACCESS_KEY',
  'PG_READER_PASSWORD',
  'FINNHUB_API_KEY',
  'CRYPTOCOMPARE_API_KEY',
]);

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

/** Parses config from env and `.env`; throws an EtlError listing every bad variable and how to fix it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, dotenvFile = path.join(PROJECT_ROOT, '.env')): Config {
  const merged: Record<string, string | undefined> = { ...readDotenv(dotenvFile), ...env };
  const known = Object.fromEntries(Object.keys(configSchema.shape).map((k) => [k, merged[k] === '' ? undefined : merged[k]]));
  const result = configSchema.safeParse(known);
  if (!result.success) {
    const lines = result.error.issues.map(
      (i) => `  ${String(i.path[0])}=${printableValue(String(i.path[0]), known[String(i.path[0])])}: ${i.message}`,
    );
    throw new EtlError(
      'CONFIG_INVALID',
      `invalid configuration:\n${lines.join('\n')}\nfix these in your environment or .env (see .env.example for every variable and its default)`,
    );
  }
  const cfg = result.data;
  return { ...cfg, ETL_STATE_DIR: path.resolve(PROJECT_ROOT, cfg.ETL_STATE_DIR) };
}

export function temporalUiUrl(cfg: Config, workflowId?: string, runId?: string): string {
  const host = cfg.TEMPORAL_ADDRESS.split(':')[0];
  const root = `http://${host}:${cfg.TEMPORAL_UI_PORT}/namespaces/${encodeURIComponent(cfg.TEMPORAL_NAMESPACE)}/workflows`;
  if (!workflowId) return root;
  return `${root}/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
}

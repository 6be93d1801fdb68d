import { readFileSync } from 'node:fs';
import net from 'node:net';
import { Kafka, logLevel, type Admin, type ISocketFactory, type KafkaConfig, type ProducerConfig, type SASLOptions } from 'kafkajs';
import type { Config } from './config';
import { EtlError } from './errors';
import { isNetworkError, tlsFailure, type TlsFailure } from './network';
import { boundKafkaDecompression } from './kafka-codecs';
import type { StreamTables } from './stream-tables';
import { probeTls } from './tls-probe';

/** The consumer group of a topic's archive: its committed offsets are what lag tools read. */
export const archiveGroup = (cfg: Pick<Config, 'KAFKA_CLIENT_ID'>, topic: string) => `${cfg.KAFKA_CLIENT_ID}-archive-${topic}`;

export type KafkaConnectionConfig = Pick<
  Config,
  | 'KAFKA_BROKERS'
  | 'KAFKA_TLS'
  | 'KAFKA_TLS_CA_FILE'
  | 'KAFKA_TLS_CERT_FILE'
  | 'KAFKA_TLS_KEY_FILE'
  | 'KAFKA_SASL_MECHANISM'
  | 'KAFKA_SASL_USERNAME'
  | 'KAFKA_SASL_PASSWORD'
  | 'KAFKA_SASL_OAUTH_TOKEN'
  | 'KAFKA_SASL_OAUTH_TOKEN_FILE'
>;

function saslOptions(cfg: KafkaConnectionConfig): SASLOptions | undefined {
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = cfg;
  switch (mechanism) {
    case 'none':
      return undefined;
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
    case 'scram-sha-512':
      return { mechanism, username, password };
    case 'oauthbearer':
      // Read at every (re)authentication: a token file kept fresh by a sidecar outlives the token.
      return {
        mechanism,
        oauthBearerProvider: async () => ({
          value: cfg.KAFKA_SASL_OAUTH_TOKEN_FILE
            ? readFileSync(cfg.KAFKA_SASL_OAUTH_TOKEN_FILE, 'utf8').trim()
            : cfg.KAFKA_SASL_OAUTH_TOKEN,
        }),
      };
  }
}

/** Brokers (host:port) found to speak TLS only, after a plain connection to them closed unanswered. */
const tlsOnlyBrokers = new Set<string>();

/**
 * kafkajs's own plain socket, plus one check, so classifyKafkaError can say "this listener wants
 * TLS" instead of retrying a broker that is up: a TLS listener answers a plain request with a TLS
 * alert record (0x15 0x03 …, never the start of a Kafka response, whose first 4 bytes are its
 * length), and a connection closed without any answer is probed with a TLS handshake. Both are
 * known long before kafkajs's retries are spent.
 */
const plainSocketFactory: ISocketFactory = ({ host, port, onConnect }) => {
  const socket = net.connect({ host, port }, onConnect);
  socket.setKeepAlive(true, 60_000);
  let connected = false;
  let answered = false;
  socket.once('connect', () => (connected = true));
  socket.once('data', (chunk: Buffer) => {
    answered = true;
    if ((chunk[0] === 0x15 || chunk[0] === 0x16) && chunk[1] === 0x03) tlsOnlyBrokers.add(`${host}:${port}`);
  });
  socket.once('close', () => {
    if (!connected || answered) return;
    void probeTls(host, port, undefined).then((found) => {
      if (found?.kind === 'tls-required') tlsOnlyBrokers.add(`${host}:${port}`);
    });
  });
  return socket;
};

/**
 * Brokers, TLS and SASL of every Kafka connection the project makes (producer, consumers, admin,
 * the lag reader, the stack's health check): one place, so none of them can miss a setting.
 */
export function kafkaConnection(cfg: KafkaConnectionConfig): Pick<KafkaConfig, 'brokers' | 'ssl' | 'sasl' | 'socketFactory'> {
  const files = {
    ...(cfg.KAFKA_TLS_CA_FILE ? { ca: [readFileSync(cfg.KAFKA_TLS_CA_FILE)] } : {}),
    ...(cfg.KAFKA_TLS_CERT_FILE ? { cert: readFileSync(cfg.KAFKA_TLS_CERT_FILE), key: readFileSync(cfg.KAFKA_TLS_KEY_FILE) } : {}),
  };
  const sasl = saslOptions(cfg);
  return {
    brokers: cfg.KAFKA_BROKERS,
    ...(cfg.KAFKA_TLS ? { ssl: Object.keys(files).length ? files : true } : { socketFactory: plainSocketFactory }),
    ...(sasl ? { sasl } : {}),
  };
}

/** An archive consumer fetches at most this much per request (kafkajs's default, said here because memory depends on it). */
export const FETCH_MAX_BYTES = 10 * 1024 * 1024;
/** … and per partition per request (a record batch larger than it is still returned whole, alone, as Kafka does). */
export const FETCH_MAX_BYTES_PER_PARTITION = 4 * 1024 * 1024;

export function createKafka(
  cfg: KafkaConnectionConfig & Pick<Config, 'KAFKA_CLIENT_ID'> & Partial<Pick<Config, 'KAFKA_MAX_BATCH_BYTES'>>,
): Kafka {
  // kafkajs's codecs are per process: the worker's setting bounds every consumer it makes.
  if (cfg.KAFKA_MAX_BATCH_BYTES !== undefined) boundKafkaDecompression(cfg.KAFKA_MAX_BATCH_BYTES);
  return new Kafka({
    clientId: cfg.KAFKA_CLIENT_ID,
    ...kafkaConnection(cfg),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 5_000 },
  });
}

/**
 * Every producer of ours: idempotent (a broker retry never writes a message twice), so kafkajs
 * allows one request in flight per producer; parallelism comes from several producers (see
 * activities/ingest/lanes.ts). Topics are never created by a producer (see topicMissing).
 */
export const IDEMPOTENT_PRODUCER: ProducerConfig = { idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false };

const UNREACHABLE =
  /KafkaJSConnectionError|KafkaJSConnectionClosedError|KafkaJSNumberOfRetriesExceeded|KafkaJSBrokerNotFound|KafkaJSRequestTimeoutError/;

/** kafkajs wraps connection failures (e.g. in KafkaJSNonRetriableError after a broker restart): look through the causes. */
function looksUnreachable(err: unknown): boolean {
  if (isNetworkError(err)) return true;
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (UNREACHABLE.test((e as Error).name ?? '')) return true;
  }
  return false;
}

/** The broker's UNKNOWN_TOPIC_OR_PARTITION (kafkajs retries it, then wraps it), anywhere in the causes. */
export function isUnknownTopic(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { type?: unknown }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
  }
  return false;
}

/** A stream's Kafka topic, as streams/ names it (lib/ is handed these, it knows no streams). */
export interface StreamTopic {
  stream: string;
  topic: string;
  /** The stream's own tables as declared: what `etl migrate` makes and keeps in step (lib/stream-tables.ts). */
  tables?: StreamTables;
}

/**
 * A topic that is not there is no outage: the broker answered. Topics are created with the
 * configured partitions and replication by `etl worker` when it starts (lib/setup.ts), never by a
 * producer, so that a mistyped KAFKA_TOPIC_PREFIX fails here instead of creating a stray topic.
 */
export function topicMissing(brokers: readonly string[], topic?: string, cause?: unknown): EtlError {
  return new EtlError(
    'KAFKA_TOPIC_MISSING',
    `${topic ? `topic "${topic}"` : 'a topic'} does not exist on Kafka at ${brokers.join(',')} — \`etl worker\` creates the stream topics ` +
      'when it starts, with the KAFKA_TOPIC_PREFIX it runs with; check KAFKA_TOPIC_PREFIX if it should exist already',
    { cause },
  );
}

const KAFKA_TLS_FIX: Record<TlsFailure['kind'], string> = {
  untrusted: 'set KAFKA_TLS_CA_FILE to the CA that signed the broker certificate (empty: the system CAs)',
  hostname: 'list the brokers by a name their certificate carries in KAFKA_BROKERS',
  expired: 'the broker certificate or KAFKA_TLS_CERT_FILE has expired: renew it',
  'client-cert-missing': 'the broker wants a client certificate: set KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE',
  'client-cert-rejected': 'the broker refused the client certificate in KAFKA_TLS_CERT_FILE: use one its CA signed',
  'not-tls': 'the listener does not speak TLS: set KAFKA_TLS=false, or use the port of its SSL/SASL_SSL listener',
  'tls-required': 'that listener wants TLS: set KAFKA_TLS=true (and KAFKA_TLS_CA_FILE for a private CA)',
  other: 'check KAFKA_TLS, KAFKA_TLS_CA_FILE and the client certificate',
};

/** SASL refused (wrong user or password, or a mechanism the listener does not offer). */
function saslFailure(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { name, message } = e as { name?: unknown; message?: unknown };
    if (name === 'KafkaJSSASLAuthenticationError' || (typeof message === 'string' && /SASL .*authentication failed/i.test(message))) {
      return String(message);
    }
  }
  return undefined;
}

/** A SASL or TLS failure of a connection to Kafka, as one line saying what to fix; undefined for anything else. */
export function kafkaSecurityError(err: unknown, brokers: readonly string[]): EtlError | undefined {
  const where = `Kafka at ${brokers.join(',')}`;
  const sasl = saslFailure(err);
  if (sasl) {
    const mechanism = /not support|unsupported|UNSUPPORTED_SASL_MECHANISM/i.test(sasl)
      ? 'the SASL mechanism is not enabled on that listener: check KAFKA_SASL_MECHANISM'
      : 'check KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD and KAFKA_SASL_MECHANISM';
    return new EtlError(
      'KAFKA_AUTH_FAILED',
      `${where} refused the SASL login (${sasl.replace(/^SASL .*? authentication failed: /i, '')}) — ${mechanism}`,
      { cause: err },
    );
  }
  const tls =
    tlsFailure(err) ??
    (brokers.some((b) => tlsOnlyBrokers.has(b)) && looksUnreachable(err)
      ? { kind: 'tls-required' as const, reason: 'the listener speaks TLS only and answered the plain connection with a TLS alert' }
      : undefined);
  if (tls) return new EtlError('KAFKA_TLS_FAILED', `TLS to ${where} failed: ${tls.reason} — ${KAFKA_TLS_FIX[tls.kind]}`, { cause: err });
  return undefined;
}

export function classifyKafkaError(err: unknown, brokers: readonly string[]): unknown {
  if (err instanceof EtlError) return err;
  if (isUnknownTopic(err)) return topicMissing(brokers, undefined, err);
  const security = kafkaSecurityError(err, brokers);
  if (security) return security;
  if (looksUnreachable(err)) {
    return new EtlError(
      'KAFKA_UNREACHABLE',
      `cannot reach Kafka at ${brokers.join(',')} — start it with \`etl stack up\` or set KAFKA_BROKERS`,
      { cause: err },
    );
  }
  return err;
}

export async function withKafkaErrors<T>(brokers: readonly string[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw classifyKafkaError(err, brokers);
  }
}

/** How long a topic just created may take to show in the metadata of the broker asked. */
const TOPIC_METADATA_WAIT_MS = 30_000;

/**
 * Creates the topic with `partitions` if it does not exist (an existing topic is left as it is), and
 * returns once every partition has a leader. kafkajs's own `waitForLeaders` retries only
 * LEADER_NOT_AVAILABLE, while a KRaft broker answers UNKNOWN_TOPIC_OR_PARTITION until the
 * controller's record reaches it: both mean "not yet" here.
 */
export async function ensureTopic(admin: Admin, topic: string, partitions: number, replicationFactor = 1): Promise<void> {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) {
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: partitions, replicationFactor }] });
  }
  const deadline = Date.now() + TOPIC_METADATA_WAIT_MS;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      if (topics[0]?.partitions.length && topics[0].partitions.every((p) => p.leader >= 0)) return;
    } catch (err) {
      if (!isUnknownTopic(err) || Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`topic "${topic}" has a partition without a leader ${TOPIC_METADATA_WAIT_MS / 1000} s after it was created`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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

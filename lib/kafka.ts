import { Kafka, logLevel, type Admin, type ProducerConfig } from 'kafkajs';
import type { Config } from './config';
import { EtlError, isNetworkError } from './errors';

/** The consumer group of a topic's archive: its committed offsets are what lag tools read. */
export const archiveGroup = (cfg: Pick<Config, 'KAFKA_CLIENT_ID'>, topic: string) => `${cfg.KAFKA_CLIENT_ID}-archive-${topic}`;

export function createKafka(cfg: Pick<Config, 'KAFKA_BROKERS' | 'KAFKA_CLIENT_ID'>): Kafka {
  return new Kafka({
    clientId: cfg.KAFKA_CLIENT_ID,
    brokers: cfg.KAFKA_BROKERS,
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

export function classifyKafkaError(err: unknown, brokers: readonly string[]): unknown {
  if (err instanceof EtlError) return err;
  if (isUnknownTopic(err)) return topicMissing(brokers, undefined, err);
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

/** Creates the topic with `partitions` if it does not exist; an existing topic is left as it is. */
export async function ensureTopic(admin: Admin, topic: string, partitions: number, replicationFactor = 1): Promise<void> {
  const existing = await admin.listTopics();
  if (existing.includes(topic)) return;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor }] });
}

// Publishes synthetic events in batches (one request carries thousands of messages) through an
// idempotent producer, so a broker retry never writes a message twice. Which events: the stream's
// own synthetic source (streams/<stream>/synthetic.ts), found by the stream's name.
import type { Kafka, Message } from 'kafkajs';
import { getStream } from '../../streams';
import type { GeneratorOptions } from '../../streams/transactions/generator';
import type { SyntheticSource } from '../../streams/types';
import { EtlError } from '../../lib/errors';
import { isUnknownTopic, topicMissing, withKafkaErrors } from '../../lib/kafka';

export interface ProduceOptions {
  topic: string;
  /** Index after the last message to send (message indices start at 0). */
  rows: number;
  startIndex?: number;
  /** Events per second, 0 for unthrottled. */
  rate?: number;
  batchSize?: number;
  /** Called after each acknowledged batch with the next index to produce. */
  onProgress?: (nextIndex: number) => void;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function syntheticSourceOf(stream: string): SyntheticSource {
  const source = getStream(stream).synthetic;
  if (!source) throw new EtlError('USAGE', `stream "${stream}" declares no synthetic events to produce`);
  return source;
}

/** Fails at once, naming the topic, when it is not there (the producer would retry for seconds, then fail vaguely). */
async function assertTopicExists(kafka: Kafka, brokers: readonly string[], topic: string): Promise<void> {
  await withKafkaErrors(brokers, async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(topic)) throw topicMissing(brokers, topic);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  });
}

/** Sends messages `startIndex` .. `rows - 1` of `messages` (which starts at `startIndex`); returns how many. */
export async function produceMessages(
  kafka: Kafka,
  brokers: readonly string[],
  messages: Iterator<Message>,
  opts: ProduceOptions,
): Promise<number> {
  const batchSize = opts.batchSize ?? 5_000;
  const start = opts.startIndex ?? 0;
  await assertTopicExists(kafka, brokers, opts.topic);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await withKafkaErrors(brokers, () => producer.connect());
  const began = Date.now();
  try {
    for (let i = start; i < opts.rows; i += batchSize) {
      opts.signal?.throwIfAborted();
      const end = Math.min(i + batchSize, opts.rows);
      const batch: Message[] = new Array(end - i);
      for (let j = i; j < end; j++) batch[j - i] = messages.next().value as Message;
      await withKafkaErrors(brokers, () =>
        producer.send({ topic: opts.topic, acks: -1, messages: batch }).catch((err: unknown) => {
          throw isUnknownTopic(err) ? topicMissing(brokers, opts.topic, err) : err; // deleted while we produce
        }),
      );
      opts.onProgress?.(end);
      if (opts.rate && opts.rate > 0) {
        const due = began + ((end - start) / opts.rate) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
    }
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  return Math.max(0, opts.rows - start);
}

/** Synthetic events of `stream` with its generator options (as its source's `resolve` makes them). */
export function produceSynthetic(
  kafka: Kafka,
  brokers: readonly string[],
  stream: string,
  options: unknown,
  opts: ProduceOptions,
): Promise<number> {
  return produceMessages(kafka, brokers, syntheticSourceOf(stream).messages(options, opts.startIndex ?? 0), opts);
}

/** Synthetic card transactions: `produceSynthetic` of the transactions stream. */
export function produceTransactions(kafka: Kafka, brokers: readonly string[], opts: ProduceOptions & GeneratorOptions): Promise<number> {
  const { seed, startMs, windowMs } = opts;
  return produceSynthetic(kafka, brokers, 'transactions', { seed, startMs, windowMs }, opts);
}

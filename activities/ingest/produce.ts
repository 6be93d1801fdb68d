// Publishes synthetic events in batches through idempotent producers (a broker retry never writes a
// message twice), on several lanes at once (./lanes.ts): worker threads for large unthrottled runs.
// Which events: the stream's own synthetic source (streams/<stream>/synthetic.ts), by its name.
import type { Kafka } from 'kafkajs';
import { getStream } from '../../streams';
import type { GeneratorOptions } from '../../streams/transactions/generator';
import type { SyntheticSource } from '../../streams/types';
import { EtlError } from '../../lib/errors';
import { topicMissing, withKafkaErrors } from '../../lib/kafka';
import { driveLanes, localLane, messagesOf, threadLane, type KafkaSettings, type Lane } from './lanes';

export interface ProduceOptions {
  topic: string;
  /** Index after the last message to send (message indices start at 0). */
  rows: number;
  startIndex?: number;
  /** Events per second, 0 for unthrottled. */
  rate?: number;
  /** Messages per request. */
  batchSize?: number;
  /** Called with the index below which every message is acknowledged (the resume point). */
  onProgress?: (nextIndex: number) => void;
  signal?: AbortSignal;
  /**
   * Worker threads to produce on, each with its own Kafka client made from `settings` (PRODUCER_THREADS);
   * used for unthrottled runs of at least THREADED_MIN_ROWS, the calling thread otherwise.
   */
  threads?: { count: number; settings: KafkaSettings };
}

/**
 * 1,000 messages per request: kafkajs groups a request's messages by partition by copying the
 * partition's array once per message (quadratic in messages per partition), which made 5,000-message
 * requests cost ~40% more CPU per event than 1,000 (docs/performance.md, Producer). Lanes hide the
 * extra round trips.
 */
export const DEFAULT_BATCH_SIZE = 1_000;
/** Producers on the calling thread when no threads are used: one waits for its ack while the other encodes. */
const LOCAL_LANES = 2;
/** Below this, starting threads (each loads kafkajs and the streams) costs more than it saves. */
export const THREADED_MIN_ROWS = 50_000;

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

/**
 * Synthetic events `startIndex` .. `rows - 1` of `stream` with its generator options (as its
 * source's `resolve` makes them); returns how many.
 */
export async function produceSynthetic(
  kafka: Kafka,
  brokers: readonly string[],
  stream: string,
  options: unknown,
  opts: ProduceOptions,
): Promise<number> {
  const source = syntheticSourceOf(stream);
  const start = opts.startIndex ?? 0;
  if (start >= opts.rows) return 0;
  await assertTopicExists(kafka, brokers, opts.topic);
  const threaded = opts.threads && opts.threads.count > 0 && !opts.rate && opts.rows - start >= THREADED_MIN_ROWS;
  const laneCount = opts.rate ? 1 : threaded ? opts.threads!.count : LOCAL_LANES;
  const lanes: Lane[] = [];
  try {
    const opening = Array.from({ length: laneCount }, () =>
      threaded
        ? threadLane(opts.threads!.settings, { stream, options, topic: opts.topic })
        : localLane(kafka, brokers, (from, to) => messagesOf(source, options, from, to), opts.topic),
    );
    // Every lane that opened is closed, even when another failed to.
    const opened = await Promise.allSettled(opening);
    for (const o of opened) if (o.status === 'fulfilled') lanes.push(o.value);
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed) throw failed.reason;
    await driveLanes(
      lanes,
      { start, rows: opts.rows, batchSize: opts.batchSize ?? DEFAULT_BATCH_SIZE, rate: opts.rate, signal: opts.signal },
      opts.onProgress,
    );
  } finally {
    await Promise.all(lanes.map((l) => l.close()));
  }
  return opts.rows - start;
}

/** Synthetic card transactions: `produceSynthetic` of the transactions stream. */
export function produceTransactions(kafka: Kafka, brokers: readonly string[], opts: ProduceOptions & GeneratorOptions): Promise<number> {
  const { seed, startMs, windowMs } = opts;
  return produceSynthetic(kafka, brokers, 'transactions', { seed, startMs, windowMs }, opts);
}

// Publishes synthetic events in batches (one request carries thousands of messages) through an
// idempotent producer, so a broker retry never writes a message twice.
import type { Kafka, Message } from 'kafkajs';
import { syntheticTransaction, type GeneratorOptions } from '../streams/transactions/generator';
import { withKafkaErrors } from './kafka';

export interface ProduceOptions extends GeneratorOptions {
  topic: string;
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

export function transactionMessage(index: number, opts: GeneratorOptions): Message {
  const event = syntheticTransaction(index, opts);
  return {
    key: String(event.user_id), // per-user ordering, like a card network
    value: JSON.stringify(event),
    // CreateTime = event time, so bronze objects are partitioned by when events happened.
    timestamp: String(Date.parse(event.event_ts)),
  };
}

export async function produceTransactions(kafka: Kafka, brokers: readonly string[], opts: ProduceOptions): Promise<number> {
  const batchSize = opts.batchSize ?? 5_000;
  const start = opts.startIndex ?? 0;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await withKafkaErrors(brokers, () => producer.connect());
  const began = Date.now();
  try {
    for (let i = start; i < opts.rows; i += batchSize) {
      opts.signal?.throwIfAborted();
      const end = Math.min(i + batchSize, opts.rows);
      const messages: Message[] = new Array(end - i);
      for (let j = i; j < end; j++) messages[j - i] = transactionMessage(j, opts);
      await withKafkaErrors(brokers, () => producer.send({ topic: opts.topic, acks: -1, messages }));
      opts.onProgress?.(end);
      if (opts.rate && opts.rate > 0) {
        const due = began + ((end - start) / opts.rate) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
    }
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  return opts.rows - start;
}

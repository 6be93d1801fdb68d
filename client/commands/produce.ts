import type { Clients } from '../../lib/clients';
import { produceTransactions } from '../../lib/produce';
import { topicFor } from '../../streams';
import { fmt, progressBar } from '../output';

export interface ProduceArgs { stream: 'transactions'; rows: number; rate: number; seed: number; startMs: number; windowMs: number }

export async function produce(clients: Clients, args: ProduceArgs): Promise<{ topic: string; produced: number; seconds: number }> {
  const topic = topicFor(clients.config.KAFKA_TOPIC_PREFIX, args.stream);
  const bar = progressBar('produce', args.rows);
  const began = Date.now();
  try {
    const produced = await produceTransactions(clients.kafka, clients.config.KAFKA_BROKERS, { ...args, topic, onProgress: (n) => bar.update(n) });
    return { topic, produced, seconds: (Date.now() - began) / 1000 };
  } finally {
    bar.stop();
  }
}

export function describeProduce(r: { topic: string; produced: number; seconds: number }): string {
  return `produced ${fmt(r.produced)} events to topic ${r.topic} in ${r.seconds.toFixed(1)} s (${fmt(Math.round(r.produced / Math.max(r.seconds, 0.001)))}/s)`;
}

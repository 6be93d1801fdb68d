// Each benchmark stage runs in a corner of the shared local stack of its own (schema, topic prefix,
// S3 prefix, consumer groups, task queue), like an integration test, so the default `etl` data is
// never touched and everything is removed afterwards.
import { randomBytes } from 'node:crypto';
import { configEnv, isolatedConfig, removeIsolated } from '../../test/support/isolation';
import { buildClients, type Clients } from '../../lib/clients';
import type { Config } from '../../lib/config';
import { setupAll } from '../../lib/setup';
import { produceTransactions } from '../../activities/ingest/produce';
import { streamTopics, topicFor } from '../../streams';

export const STREAM = 'transactions';

export interface BenchEnv extends Clients {
  id: string;
  topic: string;
  /** Environment that makes a child `etl worker` see exactly this config. */
  workerEnv: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function benchEnv(base: Config, name: string, overrides: Partial<Config> = {}): Promise<BenchEnv> {
  const id = `${name}_${randomBytes(4).toString('hex')}`;
  const config = isolatedConfig(base, 'bench', id, { LOG_LEVEL: 'warn', ...overrides });
  const clients = buildClients(config);
  await setupAll(clients, streamTopics(config.KAFKA_TOPIC_PREFIX));
  return {
    ...clients,
    id,
    topic: topicFor(config.KAFKA_TOPIC_PREFIX, STREAM),
    // The worker announces that it polls at info level; the harness waits for that line.
    workerEnv: configEnv({ ...config, LOG_LEVEL: 'info' }),
    async cleanup() {
      try {
        const failed = await removeIsolated(clients);
        for (const f of failed) clients.logger.warn({ failed: f }, 'bench cleanup step failed');
      } finally {
        await clients.close();
      }
    },
  };
}

/** Produces `events` transactions of the last day into the env's topic, on the configured producer threads. */
export function produceBacklog(env: BenchEnv, events: number, seed: number): Promise<number> {
  return produceTransactions(env.kafka, env.config.KAFKA_BROKERS, {
    seed,
    startMs: Date.now() - 86_400_000,
    windowMs: 86_400_000,
    topic: env.topic,
    rows: events,
    threads: { count: env.config.PRODUCER_THREADS, settings: env.config },
  });
}

// Each integration test gets its own PostgreSQL schema, Kafka topics, S3 prefix, consumer groups
// and Temporal task queue on the shared local stack, and removes them afterwards.
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { buildClients, type Clients } from '../../lib/clients';
import { loadConfig, type Config } from '../../lib/config';
import { isolatedConfig, listKeys, removeIsolated } from './isolation';
import { setupAll } from '../../lib/setup';
import { connectClient, connectWorkerConnection } from '../../lib/temporal';
import { streamTopics, topicFor, useStreamsDir } from '../../streams';
import { createWorker } from '../../worker/worker';
import type { PipelineResult } from '../../workflows';

export interface TestEnv extends Clients {
  id: string;
  topic(stream?: string): string;
  listKeys(prefix: string): Promise<string[]>;
  cleanup(): Promise<void>;
}

/**
 * Logs at `error`: tests fail activities on purpose, and each such failure is a warning a reader of
 * the test output should not have to wade through. A test that reads the logs sets LOG_LEVEL itself.
 */
export async function isolatedEnv(name: string, overrides: Partial<Config> = {}): Promise<TestEnv> {
  const id = `${name}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const config = isolatedConfig(loadConfig(), 't', id, { LOG_LEVEL: 'error', ...overrides });
  // This process carries the streams the env's workers and CLI children load (ETL_STREAMS_DIR).
  useStreamsDir(config.ETL_STREAMS_DIR);
  const clients = buildClients(config);
  await setupAll(clients, streamTopics(config.KAFKA_TOPIC_PREFIX));

  return {
    ...clients,
    id,
    topic: (stream = 'transactions') => topicFor(config.KAFKA_TOPIC_PREFIX, stream),
    listKeys: (prefix: string) => listKeys(clients.s3, config.S3_BUCKET, config.S3_PREFIX + prefix),
    async cleanup() {
      try {
        const failed = await removeIsolated(clients);
        if (failed.length) throw new Error(`cleanup of ${id} failed: ${failed.join('; ')}`);
      } finally {
        await clients.close();
      }
    },
  };
}

/** Runs `fn` while a real worker serves this env's task queue. */
export async function withWorker<T>(env: TestEnv, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await connectWorkerConnection(env.config);
  const client = await connectClient(env.config);
  try {
    const worker = await createWorker({
      connection,
      namespace: env.config.TEMPORAL_NAMESPACE,
      taskQueue: env.config.TEMPORAL_TASK_QUEUE,
      deps: env,
    });
    return await worker.runUntil(fn(client));
  } finally {
    await client.connection.close();
    await connection.close();
  }
}

/** Runs one pipeline run of `stream` to completion on this env's task queue. */
export function runPipeline(env: TestEnv, workflowId = `pipeline-test-${env.id}`, stream = 'transactions'): Promise<PipelineResult> {
  return withWorker(
    env,
    (client) =>
      client.workflow.execute('pipelineWorkflow', {
        taskQueue: env.config.TEMPORAL_TASK_QUEUE,
        workflowId,
        args: [{ stream, objectConcurrency: 2 }],
      }) as Promise<PipelineResult>,
  );
}

// Each integration test gets its own PostgreSQL schema, Kafka topics, S3 prefix, consumer groups
// and Temporal task queue on the shared local stack, and removes them afterwards.
import { randomBytes } from 'node:crypto';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { buildClients, type Clients } from '../../lib/clients';
import { loadConfig, type Config } from '../../lib/config';
import { setupAll } from '../../lib/setup';
import { connectClient, connectWorkerConnection } from '../../lib/temporal';
import { STREAMS, topicFor } from '../../streams';
import { createWorker } from '../../worker/worker';
import type { PipelineResult } from '../../workflows';

export interface TestEnv extends Clients {
  id: string;
  topic(stream?: string): string;
  listKeys(prefix: string): Promise<string[]>;
  cleanup(): Promise<void>;
}

export async function isolatedEnv(name: string, overrides: Partial<Config> = {}): Promise<TestEnv> {
  const id = `${name}_${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const base = loadConfig();
  const config: Config = {
    ...base,
    LOG_LEVEL: 'warn',
    PG_SCHEMA: `t_${id}`,
    PG_POOL_MAX: 4,
    KAFKA_TOPIC_PREFIX: `t-${id}-`,
    KAFKA_CLIENT_ID: `t-${id}`,
    S3_PREFIX: `t-${id}/`,
    TEMPORAL_TASK_QUEUE: `t-${id}`,
    ...overrides,
  };
  const clients = buildClients(config);
  await setupAll(clients);

  const listKeys = async (prefix: string) => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await clients.s3.send(new ListObjectsV2Command({ Bucket: config.S3_BUCKET, Prefix: config.S3_PREFIX + prefix, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  };

  return {
    ...clients,
    id,
    topic: (stream = 'transactions') => topicFor(config.KAFKA_TOPIC_PREFIX, stream),
    listKeys,
    async cleanup() {
      try {
        const { rows } = await clients.pool.query<{ stmt: string }>("SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text) AS stmt", [config.PG_SCHEMA]);
        await clients.pool.query(rows[0]!.stmt);
        const keys = await listKeys('');
        for (let i = 0; i < keys.length; i += 1000) {
          await clients.s3.send(new DeleteObjectsCommand({ Bucket: config.S3_BUCKET, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
        }
        const admin = clients.kafka.admin();
        await admin.connect();
        try {
          await admin.deleteTopics({ topics: Object.keys(STREAMS).map((s) => topicFor(config.KAFKA_TOPIC_PREFIX, s)) });
          const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(config.KAFKA_CLIENT_ID));
          // Best effort: a group its consumer has just left can refuse deletion for a moment.
          if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
        } finally {
          await admin.disconnect();
        }
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
    const worker = await createWorker({ connection, namespace: env.config.TEMPORAL_NAMESPACE, taskQueue: env.config.TEMPORAL_TASK_QUEUE, deps: env });
    return await worker.runUntil(fn(client));
  } finally {
    await client.connection.close();
    await connection.close();
  }
}

/** Runs one pipeline run to completion on this env's task queue. */
export function runPipeline(env: TestEnv, workflowId = `pipeline-test-${env.id}`): Promise<PipelineResult> {
  return withWorker(env, (client) =>
    client.workflow.execute('pipelineWorkflow', {
      taskQueue: env.config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [{ stream: 'transactions', objectConcurrency: 2 }],
    }) as Promise<PipelineResult>,
  );
}

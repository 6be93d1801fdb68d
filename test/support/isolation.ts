// A corner of the shared stack of its own (schema, topic prefix, S3 prefix, consumer groups, task
// queue) for an integration test, a chaos run or a benchmark, so it can run next to other work and
// be removed afterwards without touching anything else.
import { randomBytes } from 'node:crypto';
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Clients } from '../../lib/clients';
import { configSchema, type Config } from '../../lib/config';
import { streamNames, topicFor } from '../../streams';

/**
 * The config of an isolated corner named `<kind>_<id>` (schema) / `<kind>-<id>-` (topics, objects,
 * consumer groups, task queue). Metrics are off: such a worker must not take the port of a real one.
 */
export function isolatedConfig(base: Config, kind: string, id = randomBytes(4).toString('hex'), overrides: Partial<Config> = {}): Config {
  return {
    ...base,
    PG_SCHEMA: `${kind}_${id}`,
    PG_POOL_MAX: 4,
    KAFKA_TOPIC_PREFIX: `${kind}-${id}-`,
    KAFKA_CLIENT_ID: `${kind}-${id}`,
    S3_PREFIX: `${kind}-${id}/`,
    TEMPORAL_TASK_QUEUE: `${kind}-${id}`,
    METRICS_PORT: 0,
    OPENSEARCH_INDEX_PREFIX: `${kind}-${id}-`,
    ...overrides,
  };
}

/**
 * The environment that makes a child `etl worker` see exactly `config`: every variable set
 * explicitly, so neither the parent's environment nor `.env` can change what the child runs against.
 */
export function configEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape) as (keyof Config)[]) {
    const value: unknown = config[key];
    env[key] = value === undefined ? '' : Array.isArray(value) ? value.join(',') : String(value);
  }
  return env;
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** Drops the run's schema, objects, topics and consumer groups; each step runs even if one fails. */
export async function removeIsolated(clients: Clients): Promise<string[]> {
  const { config, pool, s3, kafka } = clients;
  const failed: string[] = [];
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      failed.push(`${what}: ${(err as Error).message}`);
    }
  };
  await step(`drop schema ${config.PG_SCHEMA}`, async () => {
    const { rows } = await pool.query<{ stmt: string }>("SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text) AS stmt", [
      config.PG_SCHEMA,
    ]);
    await pool.query(rows[0]!.stmt);
  });
  await step(`delete s3://${config.S3_BUCKET}/${config.S3_PREFIX}`, async () => {
    const keys = await listKeys(s3, config.S3_BUCKET, config.S3_PREFIX);
    for (let i = 0; i < keys.length; i += 1000) {
      await s3.send(
        new DeleteObjectsCommand({ Bucket: config.S3_BUCKET, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }),
      );
    }
  });
  await step('delete topics and consumer groups', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: streamNames().map((s) => topicFor(config.KAFKA_TOPIC_PREFIX, s)) });
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(config.KAFKA_CLIENT_ID));
      // A group its consumer has just left can refuse deletion for a moment; it expires on its own.
      if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
    } finally {
      await admin.disconnect();
    }
  });
  return failed;
}

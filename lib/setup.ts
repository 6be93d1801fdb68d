// Idempotent preparation of the servers for the pipeline: schema, reader role, bucket, topics.
// Safe to run on every start, concurrently with another process doing the same. Which topics is the
// caller's to say (streamTopics of streams/, for the declared streams).
import type { Clients } from './clients';
import { ensureTopic, withKafkaErrors, type StreamTopic } from './kafka';
import { ensureReaderRole, migrate, type MigrateResult, type ReaderRoleOutcome } from './migrate';
import { withPostgresErrors } from './postgres';
import type { StreamMigrateOptions } from './stream-tables';
import { ensureBucket } from './s3';

export interface SetupResult {
  migrations: MigrateResult;
  readerRole: ReaderRoleOutcome;
  topics: string[];
}

export async function migrateDatabase(
  c: Pick<Clients, 'config' | 'pool'>,
  streams: readonly StreamTopic[],
  options: StreamMigrateOptions = {},
): Promise<Pick<SetupResult, 'migrations' | 'readerRole'>> {
  const { config, pool } = c;
  return withPostgresErrors(config.DATABASE_URL, async () => {
    const tables = streams.flatMap((s) => (s.tables ? [s.tables] : []));
    const migrations = await migrate(pool, config.PG_SCHEMA, tables, options);
    const readerRole = await ensureReaderRole(pool, config.PG_SCHEMA, config.PG_READER_USER, config.PG_READER_PASSWORD);
    return { migrations, readerRole };
  });
}

export async function setupAll(c: Clients, streams: readonly StreamTopic[]): Promise<SetupResult> {
  const { config, kafka, s3 } = c;
  const db = await migrateDatabase(c, streams);
  await ensureBucket(s3, config.S3_BUCKET, config.S3_ENDPOINT);
  const topics = streams.map((s) => s.topic);
  await withKafkaErrors(config.KAFKA_BROKERS, async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of topics) await ensureTopic(admin, topic, config.KAFKA_TOPIC_PARTITIONS, config.KAFKA_REPLICATION_FACTOR);
    } finally {
      await admin.disconnect();
    }
  });
  return { ...db, topics };
}

import type { S3Client } from '@aws-sdk/client-s3';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Config } from '../lib/config';
import type { DuckDb } from '../lib/duckdb';
import type { Logger } from '../lib/logger';

/** Everything an activity may touch. The worker builds these; tests pass their own. */
export interface ActivityDeps {
  config: Config;
  pool: pg.Pool;
  s3: S3Client;
  kafka: Kafka;
  logger: Logger;
  /** The Parquet writer's engine: one instance per process, a connection per lake write. */
  duckdb: DuckDb;
}

// Builds every client a process needs from config, and releases them together.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Config } from './config';
import { createDuckDb, type DuckDb } from './duckdb';
import { createKafka } from './kafka';
import { createLogger, type Logger } from './logger';
import { createPool } from './postgres';
import { createS3 } from './s3';

export interface Clients {
  config: Config;
  pool: pg.Pool;
  s3: S3Client;
  kafka: Kafka;
  logger: Logger;
  /** The process's one DuckDB instance (the lake's Parquet writer), made on first use. */
  duckdb: DuckDb;
  close(): Promise<void>;
}

export function buildClients(config: Config, logger = createLogger(config)): Clients {
  const pool = createPool(config);
  const s3 = createS3(config);
  const kafka = createKafka(config);
  const duckdb = createDuckDb(config);
  return {
    config,
    pool,
    s3,
    kafka,
    logger,
    duckdb,
    async close() {
      s3.destroy();
      await duckdb.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

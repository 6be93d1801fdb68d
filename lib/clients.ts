// Builds every client a process needs from config, and releases them together.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Config } from './config';
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
  close(): Promise<void>;
}

export function buildClients(config: Config, logger = createLogger(config)): Clients {
  const pool = createPool(config);
  const s3 = createS3(config);
  const kafka = createKafka(config);
  return {
    config,
    pool,
    s3,
    kafka,
    logger,
    async close() {
      s3.destroy();
      await pool.end().catch(() => undefined);
    },
  };
}

// The boundary between the error taxonomy and Temporal: every activity runs inside `asActivity`,
// so a permanent failure stops retries at once and every failure carries its stable code as type.
import { ApplicationFailure } from '@temporalio/common';
import { classifyPostgresError, EtlError, isEtlError } from '../lib/errors';
import { classifyKafkaError } from '../lib/kafka';
import { postgresAddress } from '../lib/postgres';
import { classifyS3Error } from '../lib/s3';
import type { ActivityDeps } from './deps';

export function classify(err: unknown, deps: Pick<ActivityDeps, 'config'>): unknown {
  const { config } = deps;
  if (isEtlError(err) || err instanceof ApplicationFailure) return err;
  const pgErr = classifyPostgresError(err, postgresAddress(config.DATABASE_URL));
  if (pgErr) return pgErr;
  const kafkaErr = classifyKafkaError(err, config.KAFKA_BROKERS);
  if (kafkaErr !== err) return kafkaErr;
  return classifyS3Error(err, config.S3_ENDPOINT);
}

export function toFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof EtlError) {
    return ApplicationFailure.create({ message: err.message, type: err.code, nonRetryable: !err.retryable, cause: err.cause instanceof Error ? err.cause : undefined });
  }
  return err; // unknown errors stay retryable: Temporal's policy decides
}

export function asActivity<A extends unknown[], R>(deps: Pick<ActivityDeps, 'config'>, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      throw toFailure(classify(err, deps));
    }
  };
}

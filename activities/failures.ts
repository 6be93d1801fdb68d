// The boundary between the error taxonomy and Temporal: every activity runs inside `asActivity`,
// so a permanent failure stops retries at once and every failure carries its stable code as type.
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../lib/config';
import { classifyPostgresError, EtlError, isEtlError, networkErrorTarget } from '../lib/errors';
import { classifyKafkaError } from '../lib/kafka';
import { postgresAddress } from '../lib/postgres';
import { classifyS3Error } from '../lib/s3';
import type { ActivityDeps } from './deps';

function portOf(url: string, fallback: number): number {
  try {
    return Number(new URL(url).port) || fallback;
  } catch {
    return fallback;
  }
}

/** Which configured server a network error was talking to, by the port it failed on. */
function serviceOf(err: unknown, config: Config): 'postgres' | 's3' | 'kafka' | undefined {
  const target = networkErrorTarget(err);
  if (!target?.port) return undefined;
  if (target.port === portOf(config.DATABASE_URL, 5432)) return 'postgres';
  if (target.port === portOf(config.S3_ENDPOINT, 80)) return 's3';
  if (config.KAFKA_BROKERS.some((b) => Number(b.split(':')[1]) === target.port)) return 'kafka';
  return undefined;
}

export function classify(err: unknown, deps: Pick<ActivityDeps, 'config'>): unknown {
  const { config } = deps;
  if (isEtlError(err) || err instanceof ApplicationFailure) return err;
  const pgAddress = postgresAddress(config.DATABASE_URL);
  switch (serviceOf(err, config)) {
    case 'postgres': return classifyPostgresError(err, pgAddress) ?? err;
    case 's3': return classifyS3Error(err, config.S3_ENDPOINT);
    case 'kafka': return classifyKafkaError(err, config.KAFKA_BROKERS);
  }
  // Not a socket error with a known port: the client libraries' own error types tell them apart.
  const kafkaErr = classifyKafkaError(err, config.KAFKA_BROKERS);
  if (kafkaErr !== err) return kafkaErr;
  const s3Err = classifyS3Error(err, config.S3_ENDPOINT);
  if (s3Err !== err) return s3Err;
  return classifyPostgresError(err, pgAddress) ?? err;
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

// The boundary between the error taxonomy and Temporal: every activity runs inside `asActivity`, so
// every failure carries its stable code as type and its retry class decides what Temporal does:
// transient codes are retried by the policy without limit; permanent ones stop at once; an error no
// code covers (a bug) is retried until UNKNOWN_ERROR_MAX_ATTEMPTS attempts failed so (counted by
// activities/attempts.ts, transient failures apart) and then stops too, as UNKNOWN_ERROR. A failure that stops is final for the activity: the workflow parks the object it
// was working on, or fails the run with the reason (workflows/objects.ts).
import { Context } from '@temporalio/activity';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import type { Config } from '../lib/config';
import { EtlError, isEtlError } from '../lib/errors';
import { classifyPostgresError } from '../lib/postgres';
import { kafkaTransientError } from '../lib/kafka';
import { networkErrorTarget } from '../lib/network';
import { s3TransientError } from '../lib/s3';
import { classifyKafkaError } from '../lib/kafka';
import { postgresAddress } from '../lib/postgres';
import { classifyS3Error } from '../lib/s3';
import { endAttempt } from './attempts';
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
  if (isEtlError(err) || err instanceof TemporalFailure) return err;
  const pgAddress = postgresAddress(config.DATABASE_URL);
  switch (serviceOf(err, config)) {
    case 'postgres':
      return classifyPostgresError(err, pgAddress) ?? err;
    case 's3':
      return classifyS3Error(err, config.S3_ENDPOINT);
    case 'kafka':
      return classifyKafkaError(err, config.KAFKA_BROKERS);
  }
  // Not a socket error with a known port: the client libraries' own error types tell them apart.
  const kafkaErr = classifyKafkaError(err, config.KAFKA_BROKERS);
  if (kafkaErr !== err) return kafkaErr;
  const s3Err = classifyS3Error(err, config.S3_ENDPOINT);
  if (s3Err !== err) return s3Err;
  return (
    classifyPostgresError(err, pgAddress) ??
    kafkaTransientError(err, config.KAFKA_BROKERS) ??
    s3TransientError(err, config.S3_ENDPOINT) ??
    err
  );
}

/** Where a failing attempt stands: its number, and its unexplained failures against their bound. */
export interface AttemptInfo {
  attempt: number;
  /** Attempts so far that failed with an unclassified error (or, for a unit of work, ended without an outcome), this one included. */
  unexplained: number;
  maxUnknownAttempts: number;
}

/** What a final failure carries for whoever parks its unit of work: the attempt and the original stack. */
export interface FailureDetails {
  attempt: number;
  maxUnknownAttempts?: number;
  errorName?: string;
  stack?: string;
}

const STACK_CHARS = 4_000;

export function toFailure(err: unknown, at: AttemptInfo): unknown {
  // Already decided (an activity's own ApplicationFailure), or Temporal's own (a cancellation).
  if (err instanceof TemporalFailure) return err;
  if (err instanceof EtlError) {
    const details: FailureDetails = { attempt: at.attempt, stack: err.stack?.slice(0, STACK_CHARS) };
    return ApplicationFailure.create({
      message: err.message,
      type: err.code,
      nonRetryable: !err.retryable,
      details: [details],
      cause: err.cause instanceof Error ? err.cause : undefined,
    });
  }
  // Unclassified: a bug until proven otherwise. Retried a bounded number of times, then final.
  const e = err instanceof Error ? err : new Error(String(err));
  const final = at.unexplained >= at.maxUnknownAttempts;
  const details: FailureDetails = {
    attempt: at.attempt,
    maxUnknownAttempts: at.maxUnknownAttempts,
    errorName: e.name,
    stack: e.stack?.slice(0, STACK_CHARS),
  };
  return ApplicationFailure.create({
    type: 'UNKNOWN_ERROR',
    message: `${e.message} — unclassified error (${e.name}), ${at.unexplained} of ${at.maxUnknownAttempts} unexplained: ${final ? 'not retried again' : 'retrying'}`,
    nonRetryable: final,
    details: [details],
    cause: e,
  });
}

export function asActivity<A extends unknown[], R>(
  deps: Pick<ActivityDeps, 'config'>,
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (err) {
      const ctx = Context.current();
      // A cancelled attempt ends with whatever its aborted I/O threw; Temporal records a cancellation.
      if (ctx.cancellationSignal.aborted) throw err;
      const classified = classify(err, deps);
      const unexplained = endAttempt(!(classified instanceof EtlError) && !(classified instanceof TemporalFailure));
      throw toFailure(classified, { attempt: ctx.info.attempt, unexplained, maxUnknownAttempts: deps.config.UNKNOWN_ERROR_MAX_ATTEMPTS });
    }
  };
}

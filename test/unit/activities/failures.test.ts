import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { asActivity, classify, toFailure, type FailureDetails } from '../../../activities/failures';
import { loadConfig } from '../../../lib/config';
import { ERROR_CODES, EtlError, isTransient } from '../../../lib/errors';
import { SQLSTATE } from '../../../lib/postgres';
import { activityEnv } from '../../support/activity-env';

const config = loadConfig({}, '/nonexistent/.env');
const refused = (port: number) =>
  Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED', address: '127.0.0.1', port });
const codeOf = (err: unknown) => (err instanceof EtlError ? err.code : undefined);

describe('failure classification', () => {
  it('attributes a refused connection to the server on that port', () => {
    assert.equal(codeOf(classify(refused(5432), { config })), 'POSTGRES_UNREACHABLE');
    assert.equal(codeOf(classify(refused(9000), { config })), 'S3_UNREACHABLE');
    assert.equal(codeOf(classify(refused(9092), { config })), 'KAFKA_UNREACHABLE');
    assert.equal(codeOf(classify(new AggregateError([refused(9000)]), { config })), 'S3_UNREACHABLE');
  });

  it('recognises library errors without a socket', () => {
    const kafka = Object.assign(new Error('Connection timeout'), { name: 'KafkaJSNumberOfRetriesExceeded' });
    assert.equal(codeOf(classify(kafka, { config })), 'KAFKA_UNREACHABLE');
    const wrapped = Object.assign(new Error('Connection error'), {
      name: 'KafkaJSNonRetriableError',
      cause: Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' }),
    });
    assert.equal(codeOf(classify(wrapped, { config })), 'KAFKA_UNREACHABLE', 'a connection error wrapped after a broker restart');
    const deadlock = Object.assign(new Error('deadlock detected'), { code: SQLSTATE.DEADLOCK_DETECTED });
    assert.equal(codeOf(classify(deadlock, { config })), 'POSTGRES_TRANSIENT');
    const missing = Object.assign(new Error('relation "loads" does not exist'), { code: SQLSTATE.UNDEFINED_TABLE });
    assert.equal(codeOf(classify(missing, { config })), 'SCHEMA_NOT_MIGRATED');
  });

  it('classifies what a server restart throws as transient, so the unknown-error bound never hits it', () => {
    // node-postgres, without a SQLSTATE, when the server dropped the session or did not accept one in time
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect',
      'Client has encountered a connection error and is not queryable',
    ]) {
      assert.equal(codeOf(classify(new Error(message), { config })), 'POSTGRES_UNREACHABLE', message);
    }
    const lockTimeout = Object.assign(new Error('canceling statement due to lock timeout'), { code: SQLSTATE.LOCK_NOT_AVAILABLE });
    assert.equal(codeOf(classify(lockTimeout, { config })), 'POSTGRES_TRANSIENT');
    const connectionFailure = Object.assign(new Error('connection failure'), { code: '08006' });
    assert.equal(codeOf(classify(connectionFailure, { config })), 'POSTGRES_UNREACHABLE');
    // kafkajs: a retriable protocol error, and a group-membership one wrapped after its retries
    const leader = Object.assign(new Error('There is no leader for this topic-partition'), {
      name: 'KafkaJSProtocolError',
      type: 'LEADER_NOT_AVAILABLE',
      retriable: true,
    });
    assert.equal(codeOf(classify(leader, { config })), 'KAFKA_TRANSIENT');
    const member = Object.assign(new Error('The coordinator is not aware of this member'), {
      name: 'KafkaJSProtocolError',
      type: 'UNKNOWN_MEMBER_ID',
      retriable: false,
    });
    const spent = Object.assign(new Error('retries spent'), { name: 'KafkaJSNonRetriableError', cause: member });
    assert.equal(codeOf(classify(spent, { config })), 'KAFKA_TRANSIENT');
    // AWS SDK: a 503 after its own retries, a throttle
    const unavailable = Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    assert.equal(codeOf(classify(unavailable, { config })), 'S3_TRANSIENT');
    const slowDown = Object.assign(new Error('Please reduce your request rate'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    assert.equal(codeOf(classify(slowDown, { config })), 'S3_TRANSIENT');
    // and a plain bug stays unclassified
    const bug = new TypeError("Cannot read properties of undefined (reading 'amount')");
    assert.equal(classify(bug, { config }), bug);
    const constraint = Object.assign(new Error('new row violates check constraint'), { code: '23514' });
    assert.equal(classify(constraint, { config }), constraint, 'a data SQLSTATE is not transient');
  });

  it('gives every code an explicit retry class; only transient ones are retryable', () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      assert.ok(['transient', 'permanent', 'unknown'].includes(entry.class), code);
      assert.equal(new EtlError(code as keyof typeof ERROR_CODES, 'x').retryable, entry.class === 'transient', code);
    }
    assert.equal(isTransient('POSTGRES_TRANSIENT'), true);
    assert.equal(isTransient('UNKNOWN_ERROR'), false);
  });

  it('turns permanent codes into non-retryable failures and keeps transient ones retryable, at any attempt', () => {
    const permanent = toFailure(new EtlError('MANIFEST_INVALID', 'broken'), { attempt: 1, unexplained: 0, maxUnknownAttempts: 3 });
    assert.ok(permanent instanceof ApplicationFailure);
    assert.equal(permanent.type, 'MANIFEST_INVALID');
    assert.equal(permanent.nonRetryable, true);
    const transient = toFailure(new EtlError('S3_UNREACHABLE', 'down'), { attempt: 500, unexplained: 0, maxUnknownAttempts: 3 });
    assert.ok(transient instanceof ApplicationFailure);
    assert.equal(transient.nonRetryable, false, 'transient: retried without limit');
  });

  it('retries an unclassified error until the bound, then stops it as UNKNOWN_ERROR with its stack', () => {
    const bug = new TypeError('boom');
    for (const unexplained of [1, 2]) {
      const f = toFailure(bug, { attempt: unexplained + 7, unexplained, maxUnknownAttempts: 3 });
      assert.ok(f instanceof ApplicationFailure);
      assert.deepEqual([f.type, f.nonRetryable], ['UNKNOWN_ERROR', false], `unexplained ${unexplained}`);
    }
    const last = toFailure(bug, { attempt: 10, unexplained: 3, maxUnknownAttempts: 3 });
    assert.ok(last instanceof ApplicationFailure);
    assert.deepEqual([last.type, last.nonRetryable], ['UNKNOWN_ERROR', true]);
    assert.match(last.message, /^boom — unclassified error \(TypeError\), 3 of 3 unexplained: not retried again$/);
    const details = last.details?.[0] as FailureDetails;
    assert.equal(details.attempt, 10);
    assert.match(details.stack ?? '', /TypeError: boom/);
    assert.equal(last.cause, bug);
    const cancelled = new CancelledFailure('cancelled');
    assert.equal(
      toFailure(cancelled, { attempt: 9, unexplained: 0, maxUnknownAttempts: 3 }),
      cancelled,
      "Temporal's own failures pass through",
    );
  });

  it("bounds unclassified failures inside an activity, counting neither transient failures nor Temporal's attempt number", async () => {
    const bounded = { config: { ...config, UNKNOWN_ERROR_MAX_ATTEMPTS: 2 } };
    // Attempts in the order Temporal runs them, each handed the last heartbeat of the one before
    // (the failing attempt's own beat, flushed with its failure): an outage of five attempts, then a bug.
    const failures: Record<string, () => Error> = {
      outage: () => new EtlError('POSTGRES_UNREACHABLE', 'down'),
      bug: () => new Error('bug'),
    };
    let details: unknown;
    const attempt = async (n: number, kind: string) => {
      const env = activityEnv({ attempt: n, heartbeatDetails: details });
      env.on('heartbeat', (d: unknown) => (details = d));
      const fn = asActivity(bounded, async () => {
        throw failures[kind]!();
      });
      return (await env.run(fn).catch((err: unknown) => err)) as ApplicationFailure;
    };
    for (let n = 1; n <= 5; n++) assert.equal((await attempt(n, 'outage')).nonRetryable, false, `outage, attempt ${n}`);
    const firstBug = await attempt(6, 'bug');
    assert.deepEqual([firstBug.type, firstBug.nonRetryable], ['UNKNOWN_ERROR', false], 'the first bug after an outage is retried');
    assert.equal((await attempt(7, 'outage')).nonRetryable, false);
    const secondBug = await attempt(8, 'bug');
    assert.deepEqual([secondBug.type, secondBug.nonRetryable], ['UNKNOWN_ERROR', true], 'the second bug reaches the bound of 2');
    assert.match(secondBug.message, /2 of 2 unexplained: not retried again/);
    // Without a tally (the attempts before died before their first beat), they count as lost, not as bugs.
    details = undefined;
    assert.equal((await attempt(4, 'bug')).nonRetryable, false);
    const env = activityEnv({ attempt: 5 });
    env.cancel();
    const aborted = await env
      .run(
        asActivity(bounded, async () => {
          throw new Error('aborted I/O');
        }),
      )
      .catch((err: unknown) => err);
    assert.ok(!(aborted instanceof ApplicationFailure), 'a cancelled attempt is not turned into a final failure');
  });
});

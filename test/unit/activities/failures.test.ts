import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { classify, toFailure } from '../../../activities/failures';
import { loadConfig } from '../../../lib/config';
import { EtlError, SQLSTATE } from '../../../lib/errors';

const config = loadConfig({}, '/nonexistent/.env');
const refused = (port: number) => Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED', address: '127.0.0.1', port });
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
    const wrapped = Object.assign(new Error('Connection error'), { name: 'KafkaJSNonRetriableError', cause: Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' }) });
    assert.equal(codeOf(classify(wrapped, { config })), 'KAFKA_UNREACHABLE', 'a connection error wrapped after a broker restart');
    const deadlock = Object.assign(new Error('deadlock detected'), { code: SQLSTATE.DEADLOCK_DETECTED });
    assert.equal(codeOf(classify(deadlock, { config })), 'POSTGRES_TRANSIENT');
    const missing = Object.assign(new Error('relation "loads" does not exist'), { code: SQLSTATE.UNDEFINED_TABLE });
    assert.equal(codeOf(classify(missing, { config })), 'SCHEMA_NOT_MIGRATED');
  });

  it('turns permanent codes into non-retryable failures and keeps transient ones retryable', () => {
    const permanent = toFailure(new EtlError('MANIFEST_INVALID', 'broken'));
    assert.ok(permanent instanceof ApplicationFailure);
    assert.equal(permanent.type, 'MANIFEST_INVALID');
    assert.equal(permanent.nonRetryable, true);
    const transient = toFailure(new EtlError('S3_UNREACHABLE', 'down'));
    assert.ok(transient instanceof ApplicationFailure);
    assert.equal(transient.nonRetryable, false);
    const unknown = new Error('bug');
    assert.equal(toFailure(unknown), unknown, 'unknown errors are left to the retry policy');
  });
});

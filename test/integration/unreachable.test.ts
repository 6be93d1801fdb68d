// A server that is not there gives one actionable line (service, address, how to start it), not a stack trace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildClients } from '../../lib/clients';
import { loadConfig, PROJECT_ROOT } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { ensureTopic, withKafkaErrors } from '../../lib/kafka';
import { pingPostgres } from '../../lib/postgres';
import { ensureBucket } from '../../lib/s3';
import { connectClient } from '../../lib/temporal';

// Port 9 (discard) is closed on loopback: connections are refused at once.
const closed = {
  TEMPORAL_ADDRESS: '127.0.0.1:9',
  KAFKA_BROKERS: ['127.0.0.1:9'],
  S3_ENDPOINT: 'http://127.0.0.1:9',
  DATABASE_URL: 'postgres://etl:etl@127.0.0.1:9/etl',
};

function expectCode(code: string, address: string) {
  return (err: unknown) => {
    assert.ok(err instanceof EtlError, `EtlError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.ok(err.message.includes(address), err.message);
    assert.match(err.message, /etl stack up/);
    return true;
  };
}

describe('unreachable servers', () => {
  const c = buildClients({ ...loadConfig(), ...closed, LOG_LEVEL: 'silent' });

  it('PostgreSQL', async () => {
    await assert.rejects(pingPostgres(c.pool, closed.DATABASE_URL), expectCode('POSTGRES_UNREACHABLE', '127.0.0.1:9'));
  });
  it('S3', async () => {
    await assert.rejects(ensureBucket(c.s3, 'etl-lake', closed.S3_ENDPOINT), expectCode('S3_UNREACHABLE', 'http://127.0.0.1:9'));
  });
  it('Kafka', { timeout: 60_000 }, async () => {
    const admin = c.kafka.admin();
    await assert.rejects(
      withKafkaErrors(closed.KAFKA_BROKERS, async () => {
        await admin.connect();
        await ensureTopic(admin, 'x', 1);
      }),
      expectCode('KAFKA_UNREACHABLE', '127.0.0.1:9'),
    );
  });
  it('Temporal', async () => {
    await assert.rejects(connectClient({ ...loadConfig(), ...closed }), expectCode('TEMPORAL_UNREACHABLE', '127.0.0.1:9'));
    await c.close();
  });

  it('the CLI prints one line and exits 1; a bad flag prints usage and exits 2', () => {
    const etl = path.join(PROJECT_ROOT, 'bin', 'etl');
    const down = spawnSync(etl, ['migrate'], { env: { ...process.env, DATABASE_URL: closed.DATABASE_URL }, encoding: 'utf8' });
    assert.equal(down.status, 1, down.stderr);
    assert.match(
      down.stderr,
      /^error \[POSTGRES_UNREACHABLE\]: cannot reach PostgreSQL at 127\.0\.0\.1:9\/etl — start it with `etl stack up`/,
    );
    assert.doesNotMatch(down.stderr, /\n\s+at /, 'no stack trace');

    const bad = spawnSync(etl, ['produce', 'transactions', '--rows', 'lots'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--rows.*expected a whole number above 0, got "lots"/);
    assert.match(bad.stderr, /--help/);

    const badConfig = spawnSync(etl, ['migrate'], { env: { ...process.env, KAFKA_BROKERS: 'nope' }, encoding: 'utf8' });
    assert.equal(badConfig.status, 1);
    assert.match(badConfig.stderr, /error \[CONFIG_INVALID\]: invalid configuration:\n\s+KAFKA_BROKERS="nope": expected host:port/);
  });
});

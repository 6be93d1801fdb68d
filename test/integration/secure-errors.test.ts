// The errors a user meets connecting to secured servers (the secured local stack, configured as
// managed services are): wrong password, untrusted certificate, missing, expired or foreign client
// certificate, TLS required but off. Each is one line naming the service, its address and what to
// fix, never a stack trace or a secret, and permanent: an activity hitting it is not retried.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { toFailure } from '../../activities/failures';
import { PROJECT_ROOT, type Config } from '../../lib/config';
import { ERROR_CODES, EtlError, type ErrorCode } from '../../lib/errors';
import { createKafka, withKafkaErrors } from '../../lib/kafka';
import { createPool, pingPostgres } from '../../lib/postgres';
import { createS3, withS3Errors } from '../../lib/s3';
import { connectClient, connectWorkerConnection } from '../../lib/temporal';
import { configEnv } from '../support/isolation';
import { secureStackForTests } from '../support/secure';
import type { SecureStack } from '../../client/stack/secure';

let good: Config;
let stack: SecureStack;

async function kafkaAdmin(cfg: Config): Promise<void> {
  await withKafkaErrors(cfg.KAFKA_BROKERS, async () => {
    const admin = createKafka(cfg).admin();
    try {
      await admin.connect();
      await admin.listTopics();
    } finally {
      await admin.disconnect();
    }
  });
}

async function postgres(cfg: Config): Promise<void> {
  const pool = createPool(cfg);
  try {
    await pingPostgres(pool, cfg.DATABASE_URL);
  } finally {
    await pool.end();
  }
}

async function s3(cfg: Config): Promise<void> {
  const client = createS3(cfg);
  try {
    await withS3Errors(cfg.S3_ENDPOINT, () => client.send(new ListBucketsCommand({})));
  } finally {
    client.destroy();
  }
}

async function temporalClient(cfg: Config): Promise<void> {
  const client = await connectClient(cfg);
  await client.connection.close();
}

async function temporalWorker(cfg: Config): Promise<void> {
  const connection = await connectWorkerConnection({ ...cfg, METRICS_PORT: 0 });
  await connection.close();
}

/** The error `fn` fails with, checked for what every one of these must be. */
async function failure(fn: () => Promise<void>, code: ErrorCode, address: string, fix: RegExp): Promise<EtlError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof EtlError, `an EtlError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(ERROR_CODES[code].class, 'permanent');
  assert.equal(caught.retryable, false);
  assert.doesNotMatch(caught.message, /\n/, 'one line');
  assert.ok(caught.message.includes(address), `names the address ${address}: ${caught.message}`);
  assert.match(caught.message, fix);
  for (const secret of Object.values(stack.secrets)) assert.ok(!caught.message.includes(secret), 'no secret in the message');
  // An activity failing so stops at once: Temporal does not retry it.
  const asFailure = toFailure(caught, { attempt: 1, unexplained: 0, maxUnknownAttempts: 5 });
  assert.ok(asFailure instanceof ApplicationFailure);
  assert.equal(asFailure.type, code);
  assert.equal(asFailure.nonRetryable, true);
  return caught;
}

describe('errors connecting to secured servers', () => {
  before(async () => {
    ({ config: good, stack } = await secureStackForTests());
  });

  const kafka = () => good.KAFKA_BROKERS[0]!;
  it('Kafka: they work as configured (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN over TLS)', async () => {
    for (const mechanism of ['scram-sha-512', 'scram-sha-256', 'plain'] as const)
      await kafkaAdmin({ ...good, KAFKA_SASL_MECHANISM: mechanism });
  });
  it('Kafka: a wrong password', async () => {
    await failure(
      () => kafkaAdmin({ ...good, KAFKA_SASL_PASSWORD: 'not-the-password' }),
      'KAFKA_AUTH_FAILED',
      kafka(),
      /KAFKA_SASL_PASSWORD/,
    );
  });
  it('Kafka: a broker certificate from a CA the client does not trust', async () => {
    const err = await failure(() => kafkaAdmin({ ...good, KAFKA_TLS_CA_FILE: '' }), 'KAFKA_TLS_FAILED', kafka(), /KAFKA_TLS_CA_FILE/);
    assert.match(err.message, /not signed by a CA this client trusts/);
  });
  it('Kafka: TLS off against a TLS listener', async () => {
    await failure(() => kafkaAdmin({ ...good, KAFKA_TLS: false }), 'KAFKA_TLS_FAILED', kafka(), /set KAFKA_TLS=true/);
  });

  const pgAddress = () => `127.0.0.1:${new URL(good.DATABASE_URL).port}`;
  it('PostgreSQL: a wrong password', async () => {
    await failure(() => postgres({ ...good, PG_PASSWORD: 'not-the-password' }), 'POSTGRES_AUTH_FAILED', pgAddress(), /PG_PASSWORD/);
  });
  it('PostgreSQL: a server certificate from a CA the client does not trust (verify-full)', async () => {
    await failure(() => postgres({ ...good, PG_SSL_CA_FILE: '' }), 'POSTGRES_TLS_FAILED', pgAddress(), /PG_SSL_CA_FILE/);
  });
  it('PostgreSQL: verify-full checks the host name, verify-ca does not', async () => {
    const byName = { ...good, DATABASE_URL: good.DATABASE_URL.replace('127.0.0.1', 'localhost') };
    await postgres({ ...byName, PG_SSLMODE: 'verify-full' }); // the certificate names localhost
    const wrongName = { ...good, DATABASE_URL: good.DATABASE_URL.replace('127.0.0.1', '127.0.0.2') };
    // 127.0.0.2 is loopback too, but not in the certificate (127.0.0.1, ::1, localhost): listen there first.
    const port = Number(new URL(good.DATABASE_URL).port);
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((c) => {
      const upstream = net.connect(port, '127.0.0.1');
      for (const socket of [c, upstream]) {
        sockets.add(socket);
        socket.on('error', () => socket.destroy());
      }
      c.pipe(upstream).pipe(c);
    });
    await new Promise<void>((r) => relay.listen(port, '127.0.0.2', r));
    try {
      const err = await failure(() => postgres(wrongName), 'POSTGRES_TLS_FAILED', '127.0.0.2', /verify-ca|host name/);
      assert.match(err.message, /does not name the host/);
      await postgres({ ...wrongName, PG_SSLMODE: 'verify-ca' });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((r) => relay.close(r));
    }
  });
  it('PostgreSQL: TLS required but off', async () => {
    await failure(() => postgres({ ...good, PG_SSLMODE: 'disable' }), 'POSTGRES_TLS_FAILED', pgAddress(), /PG_SSLMODE=verify-full/);
  });

  it('S3: a wrong secret key', async () => {
    await failure(
      () => s3({ ...good, S3_SECRET_ACCESS_KEY: 'not-the-secret-key' }),
      'S3_ACCESS_DENIED',
      good.S3_ENDPOINT,
      /S3_SECRET_ACCESS_KEY/,
    );
  });
  it('S3: an endpoint certificate from a CA the client does not trust', async () => {
    await failure(() => s3({ ...good, S3_CA_FILE: '' }), 'S3_TLS_FAILED', good.S3_ENDPOINT, /S3_CA_FILE/);
  });
  it('S3: http:// to an https-only endpoint', async () => {
    const plain = good.S3_ENDPOINT.replace('https://', 'http://');
    await failure(() => s3({ ...good, S3_ENDPOINT: plain }), 'S3_TLS_FAILED', plain, /use https:\/\//);
  });

  for (const [side, connect] of [
    ['client', temporalClient],
    ['worker', temporalWorker],
  ] as const) {
    it(`Temporal ${side}: no client certificate where the server requires one`, async () => {
      const cfg = { ...good, TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' };
      const err = await failure(() => connect(cfg), 'TEMPORAL_TLS_FAILED', good.TEMPORAL_ADDRESS, /TEMPORAL_TLS_CLIENT_CERT_PATH/);
      assert.match(err.message, /requires a client certificate/);
    });
    it(`Temporal ${side}: an expired client certificate`, async () => {
      const cfg = { ...good, TEMPORAL_TLS_CLIENT_CERT_PATH: stack.certs.expiredClientCert };
      const err = await failure(() => connect(cfg), 'TEMPORAL_TLS_FAILED', good.TEMPORAL_ADDRESS, /renew/);
      assert.match(err.message, /expired/);
    });
    it(`Temporal ${side}: a client certificate from a CA the server does not trust`, async () => {
      const cfg = {
        ...good,
        TEMPORAL_TLS_CLIENT_CERT_PATH: stack.certs.strangerClientCert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: stack.certs.strangerClientKey,
      };
      await failure(() => connect(cfg), 'TEMPORAL_TLS_FAILED', good.TEMPORAL_ADDRESS, /refused/);
    });
    it(`Temporal ${side}: a server certificate from a CA the client does not trust`, async () => {
      const cfg = { ...good, TEMPORAL_TLS_SERVER_CA_CERT_PATH: '' };
      await failure(() => connect(cfg), 'TEMPORAL_TLS_FAILED', good.TEMPORAL_ADDRESS, /TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
    });
    it(`Temporal ${side}: TLS off against a TLS-only frontend`, async () => {
      await failure(() => connect({ ...good, TEMPORAL_TLS: 'false' }), 'TEMPORAL_TLS_FAILED', good.TEMPORAL_ADDRESS, /TEMPORAL_TLS=true/);
    });
  }

  it('reach the terminal as one line, exit 1, no stack trace', () => {
    const run = (args: string[], overrides: Partial<Config>) =>
      spawnSync(path.join(PROJECT_ROOT, 'bin', 'etl'), args, {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...configEnv({ ...good, ...overrides }) },
        encoding: 'utf8',
        timeout: 60_000,
      });
    for (const [args, overrides, code] of [
      [['migrate'], { PG_PASSWORD: 'not-the-password' }, 'POSTGRES_AUTH_FAILED'],
      [['schedule', 'list'], { TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' }, 'TEMPORAL_TLS_FAILED'],
    ] as const) {
      const r = run([...args], overrides);
      r.stderr = r.stderr.replace(/^build: .*\n/gm, ''); // bin/etl's own note when it rebuilt dist/ first
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^error \\[${code}\\]: [^\\n]+\\n$`), r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      for (const secret of Object.values(stack.secrets)) assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret));
    }
  });
});

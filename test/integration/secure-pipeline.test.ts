// The pipeline end to end on the secured stack, configured as managed services are: Kafka over
// SASL_SSL with a SCRAM user, PostgreSQL over TLS only (verify-full), S3 over HTTPS, Temporal
// behind a proxy that requires a client certificate. A real worker, the CLI and the lag reader
// each reach every server through those connections, and no secret reaches what a person reads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { produceTransactions } from '../../activities/ingest/produce';
import { PROJECT_ROOT } from '../../lib/config';
import { lagReader } from '../../lib/consumer-lag';
import { streamTopics } from '../../streams';
import type { PipelineResult } from '../../workflows';
import { isolatedSecureEnv, secureStackForTests } from '../support/secure';
import { configEnv } from '../support/isolation';
import { runPipeline, type TestEnv } from '../support/harness';

const ROWS = 3_000;
const gen = { seed: 17, startMs: Date.now() - 86_400_000, windowMs: 86_400_000 };

describe('pipeline on the secured stack', () => {
  let env: TestEnv;
  let result: PipelineResult;

  before(async () => {
    env = await isolatedSecureEnv('secure_pipeline', { ARCHIVE_MAX_RECORDS_PER_OBJECT: 1_000 });
    await produceTransactions(env.kafka, env.config.KAFKA_BROKERS, { ...gen, topic: env.topic(), rows: ROWS, batchSize: 1_000 });
    const producer = env.kafka.producer();
    await producer.connect();
    await producer.send({ topic: env.topic(), messages: [{ key: 'hostile', value: Buffer.from('{"transaction_id": ') }] });
    await producer.disconnect();
    result = await runPipeline(env);
  });

  after(async () => env?.cleanup());

  it('runs against the secured servers only', () => {
    const c = env.config;
    assert.equal(c.KAFKA_TLS, true);
    assert.equal(c.KAFKA_SASL_MECHANISM, 'scram-sha-512');
    assert.match(c.S3_ENDPOINT, /^https:\/\//);
    assert.equal(c.PG_SSLMODE, 'verify-full');
    assert.ok(c.TEMPORAL_TLS_CLIENT_CERT_PATH && c.TEMPORAL_TLS === 'true');
  });

  it('loads every valid event exactly once and quarantines the bad one', async () => {
    const { rows } = await env.pool.query<{ flat: number; quarantined: number }>(
      'SELECT (SELECT count(DISTINCT transaction_id)::int FROM transactions_flat) AS flat, (SELECT count(*)::int FROM quarantine) AS quarantined',
    );
    assert.deepEqual(rows[0], { flat: ROWS, quarantined: 1 });
    assert.equal(result.rowsInserted, ROWS);
    assert.equal(result.recordsArchived, ROWS + 1);
    assert.equal(result.quality.passed, true, JSON.stringify(result.quality.checks.filter((c) => !c.passed)));
    const { rows: manifest } = await env.pool.query<{ object_key: string }>(
      "SELECT object_key FROM bronze_objects WHERE status = 'archived'",
    );
    assert.ok(manifest.length >= 3, 'several bronze objects');
    assert.deepEqual((await env.listKeys('bronze/')).sort(), manifest.map((m) => m.object_key).sort());
  });

  it("uses TLS for the loader's PostgreSQL sessions", async () => {
    const { rows } = await env.pool.query<{ ssl: boolean; version: string }>(
      'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    assert.equal(rows[0]!.ssl, true);
    assert.match(rows[0]!.version, /^TLSv1\.[23]$/);
  });

  it('reads consumer lag (the dashboard panel) over SASL_SSL', async () => {
    const report = await lagReader(env.config, () => streamTopics(env.config.KAFKA_TOPIC_PREFIX))();
    assert.equal(report.available, true, report.available ? '' : report.note);
    const topic = report.available ? report.topics.find((t) => t.topic === env.topic()) : undefined;
    assert.ok(topic?.exists);
    assert.equal(topic.lag, 0, 'the archive committed everything it read');
  });

  it('serves `etl status` through the CLI with secrets from files, none of them in its output', async () => {
    const { stack } = await secureStackForTests();
    const env2: Record<string, string> = { ...configEnv(env.config) };
    for (const name of ['KAFKA_SASL_PASSWORD', 'S3_SECRET_ACCESS_KEY', 'PG_PASSWORD']) delete env2[name];
    Object.assign(env2, {
      KAFKA_SASL_PASSWORD_FILE: stack.secretFiles.kafkaPassword,
      S3_SECRET_ACCESS_KEY_FILE: stack.secretFiles.s3SecretKey,
      PG_PASSWORD_FILE: stack.secretFiles.postgresPassword,
    });
    const r = spawnSync(path.join(PROJECT_ROOT, 'bin', 'etl'), ['status', '--json'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env2 },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const status = JSON.parse(r.stdout) as unknown;
    assert.ok(status && typeof status === 'object');
    assert.match(r.stdout, new RegExp(env.topic().replace(/[.]/g, '\\.')), 'the stream topic and its lag are listed');
    for (const secret of Object.values(stack.secrets)) {
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'no secret in what `etl status` prints');
    }
  });
});

// `etl worker` as users run it: it starts, serves, and on SIGTERM drains and exits 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildClients } from '../../lib/clients';
import { loadConfig, PROJECT_ROOT } from '../../lib/config';

describe('etl worker', () => {
  const id = randomBytes(4).toString('hex');
  const overrides = {
    PG_SCHEMA: `t_worker_${id}`,
    TEMPORAL_TASK_QUEUE: `t-worker-${id}`,
    KAFKA_TOPIC_PREFIX: `t-worker-${id}-`,
    LOG_LEVEL: 'info',
  };
  after(async () => {
    const clients = buildClients({ ...loadConfig(), PG_SCHEMA: overrides.PG_SCHEMA });
    const { rows } = await clients.pool.query<{ s: string }>("SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text) AS s", [
      overrides.PG_SCHEMA,
    ]);
    await clients.pool.query(rows[0]!.s);
    const admin = clients.kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [`${overrides.KAFKA_TOPIC_PREFIX}transactions`] }).catch(() => undefined);
    await admin.disconnect();
    await clients.close();
  });

  it('stops gracefully on SIGTERM with exit code 0', { timeout: 90_000 }, async () => {
    const child = spawn(path.join(PROJECT_ROOT, 'bin', 'etl'), ['worker'], {
      env: { ...process.env, ...overrides },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 600 && !stderr.includes('worker started'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(stderr, /"msg":"worker started[^"]*"/, stderr);
    // Every log line is JSON carrying the task queue.
    const started = stderr.split('\n').find((l) => l.includes('worker started'))!;
    assert.equal((JSON.parse(started) as { taskQueue: string }).taskQueue, overrides.TEMPORAL_TASK_QUEUE);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /worker stopped/);
    const { S3_SECRET_ACCESS_KEY, DATABASE_URL } = loadConfig();
    assert.ok(!stderr.includes(S3_SECRET_ACCESS_KEY), 'no S3 secret in the logs');
    assert.ok(!stderr.includes(DATABASE_URL), 'no connection string in the logs');
  });
});

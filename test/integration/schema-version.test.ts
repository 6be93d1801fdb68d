// Two workers, two versions of one declaration. This process is a worker started with version 1 of a
// declared stream; another (a child `etl migrate` with the new declaration, as a newer worker runs at
// its start) adds a column: version 2. The old worker then refuses the stream's loads with a
// retryable error naming both versions, loads nothing with its old rules, and once restarted with the
// new declaration loads, the load's manifest row recording version 2.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities, type TransformLoadResult } from '../../activities';
import { PROJECT_ROOT } from '../../lib/config';
import { loadStreams } from '../../streams';
import { declarationsDir, type DeclarationsDir } from '../support/declarations';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { configEnv } from '../support/isolation';
import { createPassPool, type PassPool } from '../../worker/pass-pool';

const STREAM = 'meter_readings';
const declaration = (extra: string) => `
import { defineStream, z } from 'etl-temporal/define';
export default defineStream({
  name: '${STREAM}',
  schema: z.looseObject({ reading_id: z.number().int(), at: z.iso.datetime(), kwh: z.number(), site: z.string().optional() }),
  enrich: (r) => ({ reading_id: r.reading_id, at: r.at, kwh: r.kwh.toFixed(3), site: r.site ?? null }),
  rawTable: 'raw_meter_readings',
  flatTable: 'meter_readings_flat',
  key: { name: 'reading_id', type: 'bigint' },
  eventTimeColumn: 'at',
  columns: [{ name: 'at', type: 'timestamptz', notNull: true }, { name: 'kwh', type: 'numeric(10,3)', notNull: true }${extra}],
});
`;
const V2 = ", { name: 'site', type: 'text' }";

/** The expected failure below is the test's subject, not news: the activity's failure log stays quiet. */
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
  new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(fn, ...args) as Promise<R>;

describe('a worker whose declaration is older than the tables', () => {
  let folder: DeclarationsDir;
  let newer: DeclarationsDir;
  let env: TestEnv;
  let pool: PassPool;
  let object: number;

  before(async () => {
    folder = declarationsDir({ 'meter_readings.ts': declaration('') });
    newer = declarationsDir({ 'meter_readings.ts': declaration(V2) });
    env = await isolatedEnv('schemaver', { ETL_STREAMS_DIR: folder.dir }); // migrates version 1
    pool = createPassPool({ TRANSFORM_THREADS: 1 })!;
    const producer = env.kafka.producer();
    await producer.connect();
    const at = new Date(Date.now() - 60_000).toISOString();
    await producer.send({
      topic: env.topic(STREAM),
      messages: Array.from({ length: 50 }, (_, i) => ({
        partition: 0,
        value: JSON.stringify({ reading_id: i + 1, at, kwh: i / 4, site: 'north' }),
      })),
    });
    await producer.disconnect();
    const acts = createActivities(env, pool.runPass);
    await run(acts.archive, { stream: STREAM });
    const objects = (await run(acts.listUnloadedObjects, { stream: STREAM, limit: 10 })).map((o) => o.bronzeObjectId);
    assert.equal(objects.length, 1, 'one object to load');
    object = objects[0]!;
  });
  after(async () => {
    await pool?.close();
    await env?.cleanup();
    folder?.remove();
    newer?.remove();
  });

  it('another worker migrates the new declaration: version 2, a column added', async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        path.join(PROJECT_ROOT, 'bin', 'etl'),
        ['migrate'],
        { env: { ...process.env, ...configEnv(env.config), ETL_STREAMS_DIR: newer.dir } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^stream ${STREAM}: version 2: added site text$`, 'm'));
  });

  it('the old worker refuses the load with a retryable error naming both versions, and loads nothing', async () => {
    const acts = createActivities(env, pool.runPass);
    await assert.rejects(run(acts.transformAndLoad, { stream: STREAM, bronzeObjectId: object }), (err: unknown) => {
      // As Temporal sees it: a retryable failure of the error's type, shown in the Web UI meanwhile.
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.type, 'STREAM_SCHEMA_STALE');
      assert.equal(err.nonRetryable, false);
      assert.equal(
        err.message,
        `stream ${STREAM}: this worker's declaration is schema version 1, its tables are at version 2; restart the worker with the new declaration (retrying meanwhile)`,
      );
      return true;
    });
    const { rows } = await env.pool.query(
      'SELECT (SELECT count(*)::int FROM meter_readings_flat) AS flat, (SELECT count(*)::int FROM loads) AS loads',
    );
    assert.deepEqual(rows, [{ flat: 0, loads: 0 }]);
  });

  it('restarted with the new declaration, it loads, the manifest row recording version 2', async () => {
    folder.write('meter_readings.ts', declaration(V2));
    loadStreams(folder.dir);
    await pool.close();
    pool = createPassPool({ TRANSFORM_THREADS: 1 })!;
    const r = (await run(createActivities(env, pool.runPass).transformAndLoad, {
      stream: STREAM,
      bronzeObjectId: object,
    })) as TransformLoadResult;
    assert.equal(r.inserted, 50);
    assert.equal(pool.completed(), 1, 'the pass ran on a thread, with the declaration of the folder');
    const { rows } = await env.pool.query(
      "SELECT l.schema_version, count(f.*)::int AS rows, count(*) FILTER (WHERE f.site = 'north')::int AS with_site FROM loads l JOIN meter_readings_flat f USING (load_id) GROUP BY l.schema_version",
    );
    assert.deepEqual(rows, [{ schema_version: 2, rows: 50, with_site: 50 }]);
  });
});

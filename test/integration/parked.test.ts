// Bounded failure for what nobody foresaw. A stream declared here has a derived-table hook with a
// bug: it throws (an error no code of the taxonomy covers) on one valid record. The load of that
// record's object is attempted exactly UNKNOWN_ERROR_MAX_ATTEMPTS times, then the object is parked
// in the manifest with the reason; every other object — those behind it in the same partition
// included — loads, aggregates and quality run, and the run ends failed naming the object. Then,
// with the hook fixed, `etl objects retry` loads it exactly once, and a second retry changes nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { settle, type RunOutcome } from '../../client/commands/run-outcome';
import type { ObjectRow, RetryReport } from '../../client/commands/objects';
import { streamStatuses } from '../../client/commands/status';
import { pipelineState } from '../../dashboard/pipeline';
import { PROJECT_ROOT } from '../../lib/config';
import { configEnv } from '../support/isolation';
import { loadStreams } from '../../streams';
import { declarationsDir } from '../support/declarations';
import type { PipelineResult } from '../../workflows';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';

const STREAM = 'parked_readings';
const MAX_ATTEMPTS = 3;
const PER_OBJECT = 40;
const GOOD = 300;
const POISON_NO = 10_000;

/** The stream's declaration file; `buggy` adds the hook that throws on sensor "poison" (a valid value). */
const declarationSource = (buggy: boolean) => `
import { defineStream, z } from 'etl-temporal/define';

export default defineStream({
  name: '${STREAM}',
  schema: z.looseObject({
    reading_no: z.number().int().positive(),
    sensor: z.string().trim().min(1).max(40),
    celsius: z.number().min(-90).max(60),
    taken_at: z.iso.datetime().transform((s) => new Date(s)),
  }),
  enrich: (r) => ({ reading_no: r.reading_no, taken_at: r.taken_at.toISOString(), sensor: r.sensor, celsius: r.celsius.toFixed(1) }),
  rawTable: 'raw_parked_readings',
  flatTable: 'parked_readings_flat',
  key: { name: 'reading_no', type: 'bigint' },
  eventTimeColumn: 'taken_at',
  columns: [
    { name: 'taken_at', type: 'timestamptz', notNull: true },
    { name: 'sensor', type: 'text', notNull: true },
    { name: 'celsius', type: 'numeric(4,1)', notNull: true },
  ],
  afterMergeSql: ${buggy ? "['SELECT buggy_sensor_hook(doc) FROM staging']" : '[]'},
});
`;

// The hook's bug raises SQLSTATE XX000 (internal_error): not a data error, not a transient one. The
// sequence counts its attempts: nextval survives the rollback of the transaction that failed. The
// stream's own tables come from its declaration (etl migrate, run by the env's setup).
const TABLES = `
CREATE SEQUENCE buggy_hook_attempts;
CREATE FUNCTION buggy_sensor_hook(doc jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF doc->>'sensor' = 'poison' THEN
    PERFORM nextval('buggy_hook_attempts');
    RAISE EXCEPTION 'buggy_sensor_hook cannot handle sensor %', doc->>'sensor' USING ERRCODE = 'XX000';
  END IF;
END $$;`;

const T0 = Date.parse('2026-03-02T12:00:00Z');
const reading = (i: number, sensor = ['north', 'south', 'east'][i % 3]!) => ({
  reading_no: i + 1,
  sensor,
  celsius: (i % 50) - 10,
  taken_at: new Date(T0 + i * 1_000).toISOString(),
});

interface Cli {
  code: number;
  stdout: string;
  stderr: string;
}

describe('an object whose load throws an unclassified error', () => {
  const folder = declarationsDir({ 'parked_readings.ts': declarationSource(true) });
  let env: TestEnv;
  let outcome: RunOutcome<PipelineResult>;
  let poisonObject: { id: number; records: number };

  /** The CLI in a child process (this one runs the worker that answers it). */
  const etl = (...args: string[]): Promise<Cli> =>
    new Promise((resolve) => {
      execFile(
        path.join(PROJECT_ROOT, 'bin', 'etl'),
        args,
        { encoding: 'utf8', env: { ...process.env, ...configEnv(env.config) } },
        (err, stdout, stderr) => {
          resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
        },
      );
    });
  const counts = async () =>
    (
      await env.pool.query<{ flat: number; raw: number; loads: number; distinct: number; loaded_objects: number }>(
        `SELECT (SELECT count(*)::int FROM parked_readings_flat) AS flat, (SELECT count(*)::int FROM raw_parked_readings) AS raw,
            (SELECT count(DISTINCT reading_no)::int FROM parked_readings_flat) AS distinct,
            (SELECT count(*)::int FROM loads WHERE stream = $1) AS loads,
            (SELECT count(*)::int FROM bronze_objects WHERE stream = $1 AND loaded_at IS NOT NULL) AS loaded_objects`,
        [STREAM],
      )
    ).rows[0]!;

  before(async () => {
    env = await isolatedEnv('parked', {
      UNKNOWN_ERROR_MAX_ATTEMPTS: MAX_ATTEMPTS,
      ARCHIVE_MAX_RECORDS_PER_OBJECT: PER_OBJECT,
      ETL_STREAMS_DIR: folder.dir,
    });
    await env.pool.query(TABLES);
    // Partition 0 gets 50 readings, the poison one, 50 more: its objects are offsets 0-39, 40-79
    // (with the poison one at 50) and 80-100. Partitions 1 and 2 get 100 readings each.
    const producer = env.kafka.producer();
    await producer.connect();
    const send = (from: number, to: number) =>
      producer.send({
        topic: env.topic(STREAM),
        messages: Array.from({ length: to - from }, (_, k) => ({
          partition: (from + k) % 3,
          key: 'r',
          value: JSON.stringify(reading(from + k)),
        })),
      });
    await send(0, GOOD / 2);
    await producer.send({
      topic: env.topic(STREAM),
      messages: [{ partition: 0, key: 'r', value: JSON.stringify({ ...reading(POISON_NO - 1, 'poison') }) }],
    });
    await send(GOOD / 2, GOOD);
    await producer.disconnect();

    outcome = await withWorker(env, (client) =>
      settle(
        client.workflow.execute('pipelineWorkflow', {
          taskQueue: env.config.TEMPORAL_TASK_QUEUE,
          workflowId: `pipeline-${STREAM}-${env.id}`,
          args: [{ stream: STREAM, objectConcurrency: 2 }],
        }) as Promise<PipelineResult>,
      ),
    );
    const {
      rows: [p],
    } = await env.pool.query<{ id: number; records: number }>(
      'SELECT id::int, record_count AS records FROM bronze_objects WHERE stream = $1 AND kafka_partition = 0 AND first_offset = 40',
      [STREAM],
    );
    poisonObject = p!;
  });
  after(async () => {
    try {
      await env?.cleanup();
    } finally {
      folder.remove();
    }
  });

  it('attempts the load exactly UNKNOWN_ERROR_MAX_ATTEMPTS times, then parks the object with the reason', async () => {
    const {
      rows: [seq],
    } = await env.pool.query<{ n: string }>('SELECT last_value::text AS n FROM buggy_hook_attempts');
    assert.equal(Number(seq!.n), MAX_ATTEMPTS, 'attempts of the buggy hook');
    const {
      rows: [o],
    } = await env.pool.query(
      `SELECT status, parked_at IS NOT NULL AS parked, loaded_at, failure_code, failure_step, failure_attempts, failure_message, failure_stack, park_count,
              failure_workflow_id FROM bronze_objects WHERE id = $1`,
      [poisonObject.id],
    );
    assert.equal(o.status, 'archived', 'it keeps its manifest row and offsets');
    assert.deepEqual(
      [o.parked, o.loaded_at, o.failure_code, o.failure_step, o.failure_attempts, o.park_count],
      [true, null, 'UNKNOWN_ERROR', 'transform-load', MAX_ATTEMPTS, 1],
    );
    assert.match(o.failure_message, /buggy_sensor_hook cannot handle sensor poison/);
    assert.match(o.failure_message, new RegExp(`${MAX_ATTEMPTS} of ${MAX_ATTEMPTS} unexplained: not retried again`));
    assert.match(o.failure_stack, /error: buggy_sensor_hook/);
    assert.equal(o.failure_workflow_id, `pipeline-${STREAM}-${env.id}`);
  });

  it('loads every other object, those behind it in its partition included', async () => {
    const c = await counts();
    assert.equal(c.flat, GOOD - (poisonObject.records - 1));
    assert.deepEqual([c.raw, c.distinct], [c.flat, c.flat]);
    const { rows } = await env.pool.query<{ first_offset: string; loaded: boolean }>(
      'SELECT first_offset::text, loaded_at IS NOT NULL AS loaded FROM bronze_objects WHERE stream = $1 AND kafka_partition = 0 ORDER BY first_offset',
      [STREAM],
    );
    assert.deepEqual(rows, [
      { first_offset: '0', loaded: true },
      { first_offset: '40', loaded: false },
      { first_offset: '80', loaded: true },
    ]);
    const {
      rows: [unloaded],
    } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bronze_objects WHERE stream = $1 AND loaded_at IS NULL', [
      STREAM,
    ]);
    assert.equal(unloaded!.n, 1);
  });

  it('ends the run failed with OBJECT_PARKED naming the object, after aggregates and quality ran', () => {
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.failure.code, 'OBJECT_PARKED');
    assert.match(
      outcome.failure.message,
      new RegExp(`parked 1 bronze object\\(s\\) after loading everything else: #${poisonObject.id} \\(UNKNOWN_ERROR at transform-load: `),
    );
    assert.match(outcome.failure.message, new RegExp(`etl objects retry ${poisonObject.id}`));
    const result = outcome.failure.result as PipelineResult;
    assert.deepEqual(
      [result.objectsParked, result.parked.map((p) => p.bronzeObjectId), result.rowsInserted],
      [1, [poisonObject.id], GOOD - (poisonObject.records - 1)],
    );
    const check = (name: string) => result.quality.checks.find((c) => c.name === name);
    assert.equal(check('no_parked_objects')?.passed, false);
    assert.match(check('no_parked_objects')?.details ?? '', new RegExp(`#${poisonObject.id} \\(UNKNOWN_ERROR at transform-load`));
    assert.equal(check('parked_objects_not_loaded')?.passed, true);
    assert.equal(check('manifest_offsets_contiguous')?.passed, true, 'a parked object still tiles its partition');
    const failed = result.quality.checks
      .filter((c) => !c.passed)
      .map((c) => c.name)
      .sort();
    assert.deepEqual(failed, ['all_archived_objects_loaded', 'no_parked_objects'], 'the reconciliations of loaded objects hold');
  });

  it('lists it in `etl status`, `etl objects list --parked`, `etl objects show` and the dashboard', async () => {
    await withWorker(env, async (client) => {
      const status = (await streamStatuses(env, client)).find((s) => s.stream === STREAM);
      assert.equal(status?.parked.length, 1);
      assert.deepEqual(
        [status!.parked[0]!.id, status!.parked[0]!.code, status!.parked[0]!.step],
        [poisonObject.id, 'UNKNOWN_ERROR', 'transform-load'],
      );
    });
    const panel = await pipelineState(env.pool, env.config);
    assert.deepEqual(
      panel.parked.map((p) => [p.id, p.stream, p.code, p.step, p.workflowId]),
      [[poisonObject.id, STREAM, 'UNKNOWN_ERROR', 'transform-load', `pipeline-${STREAM}-${env.id}`]],
    );
    assert.match(panel.parked[0]!.temporal_url ?? '', /^http:\/\/.*\/workflows\/pipeline-/);
    const list = await etl('objects', 'list', '--parked', '--json');
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as ObjectRow[];
    assert.deepEqual(
      rows.map((r) => [r.id, r.state, r.failureCode]),
      [[poisonObject.id, 'parked', 'UNKNOWN_ERROR']],
    );
    const text = await etl('objects', 'list', '--parked');
    assert.match(text.stdout, new RegExp(`${poisonObject.id}\\s+${STREAM}\\s+parked\\s+.*UNKNOWN_ERROR: buggy_sensor_hook`));
    const show = await etl('objects', 'show', String(poisonObject.id));
    assert.match(show.stdout, new RegExp(`after the fix: etl objects retry ${poisonObject.id}`));
    assert.match(show.stdout, /failure stack \(last failure\):\n.*buggy_sensor_hook/);
  });

  it('refuses bad input to `etl objects retry` as usage errors (exit 2)', async () => {
    for (const args of [
      ['objects', 'retry', 'twelve'],
      ['objects', 'retry', '0'],
      ['objects', 'retry', '987654321'],
      ['objects', 'retry'],
    ]) {
      const r = await etl(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('after the fix, `etl objects retry` loads it exactly once, and a second retry changes nothing', async () => {
    // The fix: the declaration file edited, the worker restarted (its threads are new, each pool's own).
    folder.write('parked_readings.ts', declarationSource(false));
    loadStreams(env.config.ETL_STREAMS_DIR);
    const before = await counts();
    await withWorker(env, async () => {
      const first = await etl('objects', 'retry', String(poisonObject.id), '--json');
      assert.equal(first.code, 0, first.stderr);
      const r = JSON.parse(first.stdout) as RetryReport;
      assert.equal(r.outcome, 'loaded');
      assert.equal(r.result?.rowsInserted, poisonObject.records);
      assert.equal(r.result?.wasParked, true);
      assert.equal(r.result?.quality?.passed, true, JSON.stringify(r.result?.quality?.checks.filter((c) => !c.passed)));
      const c = await counts();
      assert.deepEqual(c, {
        flat: GOOD + 1,
        raw: GOOD + 1,
        distinct: GOOD + 1,
        loads: before.loads + 1,
        loaded_objects: before.loaded_objects + 1,
      });
      const {
        rows: [poison],
      } = await env.pool.query('SELECT sensor, bronze_object_id::int AS object FROM parked_readings_flat WHERE reading_no = $1', [
        POISON_NO,
      ]);
      assert.deepEqual(poison, { sensor: 'poison', object: poisonObject.id });

      const second = await etl('objects', 'retry', String(poisonObject.id), '--json');
      assert.equal(second.code, 0, second.stderr);
      assert.equal((JSON.parse(second.stdout) as RetryReport).outcome, 'not-needed');
      assert.deepEqual(await counts(), c);
    });
    const {
      rows: [o],
    } = await env.pool.query('SELECT parked_at, retried_at IS NOT NULL AS retried, park_count FROM bronze_objects WHERE id = $1', [
      poisonObject.id,
    ]);
    assert.deepEqual(o, { parked_at: null, retried: true, park_count: 1 });
    const {
      rows: [seq],
    } = await env.pool.query<{ n: string }>('SELECT last_value::text AS n FROM buggy_hook_attempts');
    assert.equal(Number(seq!.n), MAX_ATTEMPTS, 'the fixed worker does not run the buggy hook');
  });
});

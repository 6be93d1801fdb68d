// Adding a stream means declaring it in one place. A stream declared in one file of a folder outside
// the repository (ETL_STREAMS_DIR) — its own zod schema, enrichment, integer key, tables and
// derived-table hook, importing only 'etl-temporal/define' — is loaded by the worker and its pass
// threads, fed by a plain Kafka producer and carried end to end by the unchanged pipeline workflow (archive ->
// transform -> load -> quality), with bad records quarantined, lineage, the run report and a
// quarantine replay working on it as on the built-in streams.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RecordMetadata } from 'kafkajs';
import { createActivities, type QualityResult } from '../../activities';
import { parseRecordKey, recordLineage } from '../../client/commands/lineage';
import { lakeSync } from '../../client/commands/lake';
import { listQuarantine, replayQuarantine } from '../../client/commands/quarantine';
import { collectReport } from '../../client/commands/report';
import { getStream } from '../../streams';
import { loadDeclarations } from '../../streams/loader';
import type { StreamSpec } from '../../streams/types';
import type { PipelineResult } from '../../workflows';
import { declarationsDir, type DeclarationsDir } from '../support/declarations';
import { isolatedEnv, runPipeline, type TestEnv } from '../support/harness';
import { activityEnv } from '../support/activity-env';

// ---- the whole declaration of the stream, a file of a folder outside the repository ----
const declarationSource = (maxCelsius: number) => `
import { defineStream, z } from 'etl-temporal/define';

const BANDS = ['freezing', 'mild', 'hot'] as const;
const readingSchema = z.looseObject({
  reading_no: z.number().int().positive(),
  sensor: z.string().trim().min(1).max(40),
  celsius: z.number().min(-90).max(${maxCelsius}),
  taken_at: z.iso.datetime().transform((s) => new Date(s)),
});

export default defineStream({
  name: 'sensor_readings',
  schema: readingSchema,
  enrich: (r) => ({
    reading_no: r.reading_no,
    taken_at: r.taken_at.toISOString(),
    sensor: r.sensor,
    celsius: r.celsius.toFixed(1),
    band: r.celsius < 0 ? 'freezing' : r.celsius < 25 ? 'mild' : 'hot',
  }),
  rawTable: 'raw_sensor_readings',
  flatTable: 'sensor_readings_flat',
  key: { name: 'reading_no', type: 'bigint' },
  eventTimeColumn: 'taken_at',
  columns: [
    { name: 'taken_at', type: 'timestamptz', notNull: true },
    { name: 'sensor', type: 'text', notNull: true },
    { name: 'celsius', type: 'numeric(4,1)', notNull: true },
    { name: 'band', type: 'text', notNull: true, acceptedValues: BANDS },
  ],
  afterMergeSql: [
    "SELECT pg_advisory_xact_lock(hashtext('test.sensor_stats.' || current_schema()))",
    \`INSERT INTO sensor_stats (sensor, readings, max_celsius)
     SELECT f.sensor, count(*), max(f.celsius) FROM sensor_readings_flat f
     WHERE f.sensor IN (SELECT doc->>'sensor' FROM staging) GROUP BY f.sensor
     ON CONFLICT (sensor) DO UPDATE SET readings = excluded.readings, max_celsius = excluded.max_celsius\`,
  ],
});
`;
// Its raw and flat tables come from the declaration (etl migrate, which the env's setup runs); the
// derived table its hook fills is its own SQL.
const TABLES = `CREATE TABLE sensor_stats (sensor text PRIMARY KEY, readings integer NOT NULL, max_celsius numeric(4,1) NOT NULL);`;
// ---- end of the declaration ----

const STREAM = 'sensor_readings';
const GOOD = 1_200;
const SENSORS = ['north', 'south', 'east'];
const reading = (i: number) => ({
  reading_no: i + 1,
  sensor: SENSORS[i % SENSORS.length],
  celsius: Math.round((-10 + ((i * 37) % 450) / 10) * 10) / 10,
  taken_at: new Date(Date.now() - 3_600_000 + i * 1_000).toISOString(),
});

describe('a stream declared in one place', () => {
  const folder: DeclarationsDir = declarationsDir({ 'sensor_readings.ts': declarationSource(60) });
  let spec: StreamSpec;
  let env: TestEnv;
  let result: PipelineResult;
  const bad: { name: string; value: string; code: string; meta?: RecordMetadata }[] = [
    { name: 'too hot for the sensor', value: JSON.stringify({ ...reading(GOOD), sensor: 'west', celsius: 200 }), code: 'INVALID_VALUE' },
    { name: 'malformed JSON', value: '{"reading_no": 7,', code: 'MALFORMED_JSON' },
    { name: 'no sensor', value: JSON.stringify({ ...reading(GOOD + 1), sensor: undefined }), code: 'MISSING_FIELD' },
  ];

  before(async () => {
    // The env loads the folder (its topic is created and removed with the others), as do its worker's pass threads.
    env = await isolatedEnv('declared', { ETL_STREAMS_DIR: folder.dir });
    spec = getStream(STREAM);
    await env.pool.query(TABLES);
    const producer = env.kafka.producer();
    await producer.connect();
    const topic = env.topic(STREAM);
    for (let i = 0; i < GOOD; i += 400) {
      const batch = Array.from({ length: Math.min(400, GOOD - i) }, (_, k) => reading(i + k));
      await producer.send({ topic, messages: batch.map((r) => ({ key: r.sensor, value: JSON.stringify(r) })) });
    }
    for (const b of bad) [b.meta] = await producer.send({ topic, messages: [{ key: 'other', value: b.value }] });
    await producer.disconnect();
    result = await runPipeline(env, `pipeline-declared-${env.id}`, STREAM);
  });
  after(async () => {
    try {
      await env?.cleanup();
    } finally {
      folder.remove();
    }
  });

  it('archives, transforms and loads it with the unchanged pipeline workflow', async () => {
    assert.equal(result.recordsArchived, GOOD + bad.length);
    assert.equal(result.rowsInserted, GOOD);
    assert.equal(result.quarantined, bad.length);
    const {
      rows: [n],
    } = await env.pool.query<{ raw: number; flat: number; objects: number }>(
      'SELECT (SELECT count(*)::int FROM raw_sensor_readings) AS raw, (SELECT count(*)::int FROM sensor_readings_flat) AS flat, (SELECT count(*)::int FROM bronze_objects WHERE stream = $1) AS objects',
      [STREAM],
    );
    assert.deepEqual(n, { raw: GOOD, flat: GOOD, objects: result.objectsArchived });
    assert.equal((await env.listKeys(`bronze/${env.topic(STREAM)}/`)).length, result.objectsArchived);
    for (const i of [0, 5, GOOD - 1]) {
      const r = reading(i);
      const { rows } = await env.pool.query(
        'SELECT reading_no::int, sensor, celsius::text, band FROM sensor_readings_flat WHERE reading_no = $1',
        [r.reading_no],
      );
      assert.deepEqual(rows[0], {
        reading_no: r.reading_no,
        sensor: r.sensor,
        celsius: r.celsius.toFixed(1),
        band: r.celsius < 0 ? 'freezing' : r.celsius < 25 ? 'mild' : 'hot',
      });
    }
  });

  it('runs its quality checks, its accepted values included, and they pass', () => {
    assert.equal(result.quality.passed, true, JSON.stringify(result.quality.checks.filter((c) => !c.passed)));
    assert.ok(result.quality.checks.some((c) => c.name === 'accepted_values_band'));
  });

  it('quarantines its bad records with their reasons and coordinates', async () => {
    const rows = await listQuarantine(env.pool, { stream: STREAM, limit: 100 });
    assert.equal(rows.length, bad.length);
    for (const b of bad) {
      const row = rows.find((r) => r.kafka_partition === b.meta!.partition && r.kafka_offset === b.meta!.baseOffset);
      assert.equal(row?.reason_code, b.code, b.name);
    }
  });

  it('keeps its derived table through its own hook', async () => {
    const { rows } = await env.pool.query<{ n: number }>(`
      SELECT count(*)::int AS n FROM (SELECT sensor, count(*)::int AS readings, max(celsius) AS max_celsius FROM sensor_readings_flat GROUP BY sensor) d
      FULL JOIN sensor_stats s USING (sensor) WHERE (d.readings, d.max_celsius) IS DISTINCT FROM (s.readings, s.max_celsius)`);
    assert.equal(rows[0]!.n, 0);
    const {
      rows: [s],
    } = await env.pool.query<{ n: number }>('SELECT sum(readings)::int AS n FROM sensor_stats');
    assert.equal(s!.n, GOOD);
  });

  it('traces lineage by its own key type, and reports its tables', async () => {
    const l = await recordLineage(env.pool, spec, parseRecordKey(spec, '42'));
    assert.ok(l.loaded, 'reading 42 is loaded');
    assert.equal(l.loaded.kafka.topic, env.topic(STREAM));
    assert.ok(l.loaded.bronze && BigInt(l.loaded.kafka.offset) >= BigInt(l.loaded.bronze.first_offset));
    assert.throws(() => parseRecordKey(spec, 'not-a-number'), /reading_no \(bigint\) of stream sensor_readings/);
    const report = await collectReport(env.pool, STREAM, `pipeline-declared-${env.id}`);
    assert.deepEqual(report.tables, [
      { table: 'raw_sensor_readings', rows: GOOD },
      { table: 'sensor_readings_flat', rows: GOOD },
      { table: 'quarantine', rows: bad.length },
    ]);
    assert.equal(report.quality.length, result.quality.checks.length);
  });

  it('after its rule is widened, a quarantine replay loads what now passes through the same path', async () => {
    const widenedFolder = declarationsDir({ 'sensor_readings.ts': declarationSource(250) });
    const widened = loadDeclarations(widenedFolder.dir).find((l) => l.spec.name === STREAM)!.spec;
    widenedFolder.remove();
    const r = await replayQuarantine(env, widened, { stream: STREAM, reason: 'INVALID_VALUE', limit: 10 });
    assert.deepEqual({ examined: r.examined, loaded: r.loaded }, { examined: 1, loaded: 1 });
    const {
      rows: [west],
    } = await env.pool.query<{ readings: number; max_celsius: string }>(
      "SELECT readings, max_celsius::text FROM sensor_stats WHERE sensor = 'west'",
    );
    assert.deepEqual(west, { readings: 1, max_celsius: '200.0' });
    // As `etl quarantine replay` does after its load: the lake of the object with the new row follows.
    assert.equal((await lakeSync(env, STREAM, r.objectIds)).objectsWritten, 1);
    const q = (await activityEnv().run(createActivities(env).quality, {
      stream: STREAM,
      runId: `declared-replay-${env.id}`,
    })) as QualityResult;
    assert.equal(q.passed, true, JSON.stringify(q.checks.filter((c) => !c.passed)));
  });
});

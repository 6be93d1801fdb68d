// The exactly-once rule of file reads, driven step by step through the activities: a range a crashed
// attempt planned (pending) is redone exactly — same lines, same key — before the read goes on; a
// second read of a version already read changes nothing; a range planned by another reader is refused.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createActivities } from '../../activities';
import { fileTopic } from '../../activities/files/format';
import { planFileRange } from '../../activities/files/manifest';
import { syntheticTransaction } from '../../streams/transactions/generator';
import { isolatedEnv, type TestEnv } from '../support/harness';
import { runActivity as run } from '../support/activity-env';

const gen = { seed: 164, startMs: Date.parse('2026-11-20T00:00:00Z'), windowMs: 86_400_000 };

describe('file reads: pending ranges redone exactly', () => {
  let env: TestEnv;
  let dir: string;

  before(async () => {
    env = await isolatedEnv('files_redo');
    dir = await mkdtemp(path.join(tmpdir(), 'etl-files-redo-'));
    await writeFile(
      path.join(dir, 'x.jsonl'),
      Array.from({ length: 10 }, (_, i) => JSON.stringify(syntheticTransaction(i, gen))).join('\n') + '\n',
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await env?.cleanup();
  });

  it('redoes the pending range of a crashed attempt, then reads on; a second read does nothing', async () => {
    const acts = createActivities(env);
    const found = await run(acts.discoverSource, { source: 'files', stream: 'transactions', location: dir });
    assert.equal(found.new, 1);
    const [unit] = await run(acts.listSourceUnits, { source: 'files', stream: 'transactions', limit: 10, afterId: 0 });
    // A crashed attempt planned lines 1-3 (an object of 3 records) and died before putting it.
    const pendingId = await planFileRange(env.pool, 'transactions', fileTopic('transactions'), unit!.unitId, 1, 3);
    await assert.rejects(
      planFileRange(env.pool, 'transactions', fileTopic('transactions'), unit!.unitId, 2, 5),
      /planned by another reader/,
    );

    const read = await run(acts.readSourceUnit, { source: 'files', stream: 'transactions', unitId: unit!.unitId, maxRecordsPerObject: 4 });
    assert.deepEqual([read.alreadyRead, read.records, read.objects, read.failed], [false, 10, 3, undefined]);
    const { rows } = await env.pool.query<{
      id: number;
      first_offset: string;
      last_offset: string;
      record_count: number;
      status: string;
      object_key: string;
    }>(
      'SELECT id::int, first_offset::text, last_offset::text, record_count, status, object_key FROM bronze_objects b ORDER BY b.first_offset',
    );
    assert.deepEqual(
      rows.map((r) => [r.first_offset, r.last_offset, r.record_count, r.status]),
      [
        ['1', '3', 3, 'archived'],
        ['4', '7', 4, 'archived'],
        ['8', '10', 3, 'archived'],
      ],
    );
    assert.equal(rows[0]!.id, pendingId, 'the pending row itself was completed, not a second one');
    assert.deepEqual((await env.listKeys('bronze/')).sort(), rows.map((r) => r.object_key).sort());

    const again = await run(acts.readSourceUnit, { source: 'files', stream: 'transactions', unitId: unit!.unitId });
    assert.deepEqual([again.alreadyRead, again.records, again.objects], [true, 10, 3]);
    const { rows: count } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bronze_objects');
    assert.equal(count[0]!.n, 3);
  });
});

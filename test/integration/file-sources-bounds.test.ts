// File sources bounded by configuration, never by what is at the location, on the real servers:
// a gzip file that expands 1,000x fails alone with its reason while the other files of the run load;
// what the listing finds but cannot read (a dangling link, a FIFO) is reported by name in the run's
// failure and `etl status`, never dropped; a scheduled run over a location that is gone fails with
// FILE_LOCATION_MISSING instead of finding 0 files; a line without a newline keeps its read
// heartbeating with its byte offset.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { filesInput } from '../../client/commands/ingest-files';
import { createSchedule, deleteSchedule } from '../../client/commands/schedule';
import { runStatus } from '../../client/commands/status';
import { syntheticTransaction } from '../../streams/transactions/generator';
import type { SourceResult } from '../../workflows';
import { triggeredRun } from '../support/schedules';
import { activityEnv, runActivity } from '../support/activity-env';
import { isolatedEnv, withWorker, type TestEnv } from '../support/harness';

const gen = { seed: 231, startMs: Date.parse('2026-11-20T00:00:00Z'), windowMs: 86_400_000 };
const line = (i: number) => JSON.stringify(syntheticTransaction(i, gen));

/** A run that is expected to fail: its failure, and its result (the failure's details). */
async function runFailing(env: TestEnv, client: Client, location: string, id: string) {
  const workflowId = `files-bounds-${env.id}-${id}`;
  try {
    await client.workflow.execute('sourceWorkflow', {
      taskQueue: env.config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [filesInput(env.config, 'transactions', location)],
    });
  } catch (err) {
    const failure = err instanceof WorkflowFailedError ? err.cause : undefined;
    if (!(failure instanceof ApplicationFailure)) throw err;
    return { workflowId, failure, result: failure.details?.[0] as SourceResult | undefined };
  }
  assert.fail('the run succeeded');
}

describe('file sources: bounds', () => {
  let env: TestEnv;
  let dir: string;

  before(async () => {
    env = await isolatedEnv('files_bounds');
    dir = await mkdtemp(path.join(tmpdir(), 'etl-files-bounds-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await env?.cleanup();
  });

  it('a gzip bomb fails alone with its reason; unreadable entries are named; the other files load', async () => {
    const landing = path.join(dir, 'landing');
    await mkdir(path.join(landing, 'more'), { recursive: true });
    await writeFile(path.join(landing, 'a.jsonl'), `${line(0)}\n${line(1)}\n`);
    await writeFile(path.join(landing, 'more', 'c.jsonl'), `${line(2)}\n`);
    // One real record, then 16 MiB of spaces, one line that never ends: about 1,000 times its compressed size.
    const inflated = Buffer.concat([Buffer.from(`${line(3)}\n`), Buffer.alloc(16 * 1024 * 1024, 0x20)]);
    const bomb = gzipSync(inflated, { level: 9 });
    assert.ok(inflated.length / bomb.length >= 1000, `the bomb expands ${Math.round(inflated.length / bomb.length)}x`);
    await writeFile(path.join(landing, 'b.jsonl.gz'), bomb);
    // Tests run as root, whom permissions do not stop: a dangling link and a FIFO cannot be read by anyone.
    await symlink(path.join(dir, 'nowhere.jsonl'), path.join(landing, 'gone.jsonl'));
    execFileSync('mkfifo', [path.join(landing, 'pipe.jsonl')]);

    const { workflowId, failure, result } = await withWorker(env, (client) => runFailing(env, client, landing, 'bomb'));
    assert.equal(failure.type, 'FILE_UNREADABLE');
    assert.ok(result, 'the failure carries the run result');
    assert.equal(result.discovered?.seen, 5);
    assert.equal(result.discovered?.new, 3);
    assert.equal(result.discovered?.unreadable, 2);
    assert.deepEqual(
      result.discovered?.unreadableFiles.map((u) => [path.basename(u.location), u.reason]),
      [
        ['gone.jsonl', 'a symbolic link to nothing (dangling)'],
        ['pipe.jsonl', 'not a regular file (a FIFO)'],
      ],
    );
    assert.equal(result.unitsFailed, 1);
    assert.match(
      result.failures[0]!.message,
      /b\.jsonl\.gz: gzip expands more than FILE_MAX_EXPANSION_RATIO \(100×: \d+ bytes from \d+\): stopped at decompressed byte \d+ \(after line \d+\)/,
    );
    // What the bomb held before it stopped loads with the other files.
    assert.equal(result.rowsInserted, 4);
    const { rows } = await env.pool.query<{ name: string; status: string; error_code: string | null }>(
      "SELECT regexp_replace(location, '^.*/', '') AS name, status, error_code FROM source_files ORDER BY location",
    );
    assert.deepEqual(rows, [
      { name: 'a.jsonl', status: 'read', error_code: null },
      { name: 'b.jsonl.gz', status: 'failed', error_code: 'FILE_UNREADABLE' },
      { name: 'c.jsonl', status: 'read', error_code: null },
    ]);
    for (const named of [failure.message, (await withWorker(env, (client) => runStatus(client, env.config, workflowId))).failure ?? '']) {
      assert.match(named, /2 found at the location cannot be read: file:\/\/\S+\/gone\.jsonl: a symbolic link to nothing/);
      assert.match(named, /pipe\.jsonl: not a regular file \(a FIFO\)/);
      assert.match(named, /#\d+ FILE_UNREADABLE: \S+b\.jsonl\.gz: gzip expands more than/);
    }
  });

  it('a scheduled run over a location that is gone fails with FILE_LOCATION_MISSING', async () => {
    const landing = path.join(dir, 'mounted');
    await mkdir(landing);
    await withWorker(env, async (client) => {
      const id = await createSchedule(client, env.config, {
        id: `files-bounds-${env.id}`,
        what: 'files',
        stream: 'transactions',
        location: landing,
        everyMs: 3_600_000,
        overlap: 'skip',
        paused: true,
      });
      try {
        // The mount goes away after the schedule was made.
        await rm(landing, { recursive: true });
        const workflowId = await triggeredRun(client, env.config, id);
        const err = await client.workflow
          .getHandle(workflowId)
          .result()
          .then(
            () => assert.fail('the run succeeded'),
            (e: unknown) => e,
          );
        assert.ok(err instanceof WorkflowFailedError);
        const cause = err.cause?.cause ?? err.cause;
        assert.ok(cause instanceof ApplicationFailure, String(cause));
        assert.equal(cause.type, 'FILE_LOCATION_MISSING');
        assert.match(cause.message, new RegExp(`no file or folder at ${landing.replaceAll('/', '\\/')}`));
      } finally {
        await deleteSchedule(client, env.config, id);
      }
    });
  });

  it('an S3 prefix with no object under it fails with FILE_LOCATION_MISSING', async () => {
    const acts = createActivities(env);
    const location = `s3://${env.config.S3_BUCKET}/${env.config.S3_PREFIX}nothing-here/`;
    await assert.rejects(
      runActivity(acts.discoverSource, { source: 'files', stream: 'transactions', location }),
      (err: Error) => err.name === 'ApplicationFailure' && (err as ApplicationFailure).type === 'FILE_LOCATION_MISSING',
    );
  });

  it('a line without a newline heartbeats with its byte offset while it is read, and is one TOO_LARGE record', async () => {
    const folder = path.join(dir, 'long');
    await mkdir(folder);
    await writeFile(path.join(folder, 'long.jsonl'), Buffer.alloc(48 * 1024 * 1024, 0x78));
    const acts = createActivities(env);
    const mock = () => activityEnv({ heartbeatTimeoutMs: 2_000 });
    const run = <A extends unknown[], R>(env: MockActivityEnvironment, fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
      env.run(fn, ...args) as Promise<R>;
    const found = await run(mock(), acts.discoverSource, { source: 'files', stream: 'transactions', location: folder });
    assert.equal(found.new, 1);
    const [unit] = await run(mock(), acts.listSourceUnits, { source: 'files', stream: 'transactions', limit: 10, afterId: 0 });
    const reading = mock();
    const beats: { line: number; offset: number }[] = [];
    reading.on('heartbeat', (d: { line: number; offset: number }) => beats.push(d));
    const read = await run(reading, acts.readSourceUnit, { source: 'files', stream: 'transactions', unitId: unit!.unitId });
    assert.deepEqual([read.records, read.failed], [1, undefined]);
    const duringLine = beats.filter((b) => b.line === 1 && b.offset < 48 * 1024 * 1024);
    assert.ok(duringLine.length >= 2, `heartbeats inside the line: ${JSON.stringify(beats)}`);
    assert.ok(
      duringLine.every((b, i) => i === 0 || b.offset > duringLine[i - 1]!.offset),
      'each heartbeat is further into the line',
    );
  });
});

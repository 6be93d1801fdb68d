// Two deployments in one Temporal namespace, each with its own task queue and topic prefix (a dev
// and a staging setup): both create the pipeline schedule without --id, and each gets its own;
// `etl schedule list` and `etl status` of each show its own and not the other's, and the name
// `pipeline-transactions` means each one's own schedule in its commands.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { createSchedule, listSchedules, type ScheduleRow } from '../../client/commands/schedule';
import { streamStatuses } from '../../client/commands/status';
import { streamWorkflowId } from '../../client/commands/stream';
import { PROJECT_ROOT } from '../../lib/config';
import { configEnv } from '../support/isolation';
import { connectClient } from '../../lib/temporal';
import { isolatedEnv, type TestEnv } from '../support/harness';

const etl = (env: TestEnv, ...args: string[]) =>
  promisify(execFile)(path.join(PROJECT_ROOT, 'bin', 'etl'), args, { encoding: 'utf8', env: { ...process.env, ...configEnv(env.config) } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two deployments in one namespace', () => {
  let dev: TestEnv;
  let staging: TestEnv;
  let client: Client;
  const created: string[] = [];

  /** The visibility store behind list() catches up a moment after a create. */
  async function listedUntil(env: TestEnv, ready: (rows: ScheduleRow[]) => boolean): Promise<ScheduleRow[]> {
    let rows: ScheduleRow[] = [];
    for (let i = 0; i < 40; i++) {
      rows = await listSchedules(client, env.config);
      if (ready(rows)) return rows;
      await sleep(500);
    }
    return rows;
  }

  before(async () => {
    [dev, staging] = await Promise.all([isolatedEnv('iso_dev'), isolatedEnv('iso_staging')]);
    client = await connectClient(dev.config);
  });
  after(async () => {
    for (const id of created)
      await client?.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    await client?.connection.close();
    await Promise.all([dev?.cleanup(), staging?.cleanup()]);
  });

  it('each creates `pipeline-transactions` without --id and gets a schedule of its own', { timeout: 120_000 }, async () => {
    assert.equal(dev.config.TEMPORAL_NAMESPACE, staging.config.TEMPORAL_NAMESPACE);
    for (const env of [dev, staging]) {
      const { stdout } = await etl(env, 'schedule', 'create', 'pipeline', '--every', '1h', '--paused');
      const id = /created schedule (\S+) \(paused\)/.exec(stdout)?.[1];
      assert.equal(id, `pipeline-transactions@${env.config.TEMPORAL_TASK_QUEUE}+${env.config.KAFKA_TOPIC_PREFIX}`, stdout);
      created.push(id);
    }
    const poll = await Promise.all(
      [dev, staging].map((env) =>
        createSchedule(client, env.config, { what: 'poll', stream: 'ticks', source: 'yahoo', overlap: 'skip', paused: true }),
      ),
    );
    created.push(...poll);
    assert.notEqual(poll[0], poll[1]);
  });

  it('`etl schedule list` of each shows its own schedules only; --all shows both', { timeout: 120_000 }, async () => {
    for (const [env, other] of [
      [dev, staging],
      [staging, dev],
    ] as const) {
      const rows = await listedUntil(env, (r) => r.length >= 2);
      assert.deepEqual(rows.map((r) => [r.id.split('@')[0], r.stream]).sort(), [
        ['pipeline-transactions', 'transactions'],
        ['poll-yahoo', 'ticks'],
      ]);
      assert.ok(rows.every((r) => r.id.endsWith(`@${env.config.TEMPORAL_TASK_QUEUE}+${env.config.KAFKA_TOPIC_PREFIX}`)));
      const { stdout } = await etl(env, 'schedule', 'list', '--json');
      const cli = (JSON.parse(stdout) as ScheduleRow[]).map((r) => r.id);
      assert.ok(
        cli.every((id) => !id.includes(other.config.TEMPORAL_TASK_QUEUE)),
        stdout,
      );
      assert.equal(cli.length, 2, stdout);
    }
    const { stdout } = await etl(dev, 'schedule', 'list', '--all', '--json');
    const all = (JSON.parse(stdout) as ScheduleRow[]).map((r) => r.id);
    for (const id of created) assert.ok(all.includes(id), `${id} in --all`);
  });

  it('`etl status` of each lists its own schedule under its stream', { timeout: 60_000 }, async () => {
    for (const env of [dev, staging]) {
      const rows = await streamStatuses(env, client);
      const transactions = rows.find((r) => r.stream === 'transactions')!;
      assert.deepEqual(
        transactions.schedules.map((s) => s.id),
        [`pipeline-transactions@${env.config.TEMPORAL_TASK_QUEUE}+${env.config.KAFKA_TOPIC_PREFIX}`],
      );
      assert.deepEqual(
        rows.find((r) => r.stream === 'ticks')!.schedules.map((s) => s.id.split('@')[0]),
        ['poll-yahoo'],
      );
    }
  });

  it("the plain name means each deployment's own schedule; the stream workflow ids differ too", { timeout: 60_000 }, async () => {
    const { stdout } = await etl(dev, 'schedule', 'pause', 'pipeline-transactions', '--note', 'dev only');
    assert.equal(stdout.trim(), `paused ${created[0]}`);
    const [devState, stagingState] = await Promise.all(
      created.slice(0, 2).map(async (id) => (await client.schedule.getHandle(id).describe()).state.note),
    );
    assert.deepEqual([devState, stagingState ?? ''], ['dev only', '']);
    assert.notEqual(streamWorkflowId(dev.config, 'transactions'), streamWorkflowId(staging.config, 'transactions'));
  });
});

// Fixed ids (schedules, the stream workflow, replays) are scoped to the deployment: plain for the
// default one, suffixed with the task queue and topic prefix for any other.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { namesStream } from '../../client/commands/status';
import { scheduleIdFor } from '../../client/commands/schedule';
import { streamWorkflowId } from '../../client/commands/stream';
import { replayWorkflowId } from '../../client/commands/replay';
import { loadConfig } from '../../lib/config';
import { deploymentScope, ownsSchedule, scopedId, unscopedId } from '../../lib/deployment';

const NO_DOTENV = '/nonexistent/.env';
const base = loadConfig({}, NO_DOTENV);
const dev = { ...base, KAFKA_TOPIC_PREFIX: 'dev.' };
const staging = { ...base, TEMPORAL_TASK_QUEUE: 'staging' };
const both = { ...base, TEMPORAL_TASK_QUEUE: 'staging', KAFKA_TOPIC_PREFIX: 'staging-' };

describe('deployment-scoped ids', () => {
  it("keeps the default deployment's ids readable and plain", () => {
    assert.equal(deploymentScope(base), '');
    assert.equal(scheduleIdFor(base, 'pipeline', 'transactions'), 'pipeline-transactions');
    assert.equal(scheduleIdFor(base, 'poll', 'ticks', 'poll-yahoo'), 'poll-yahoo');
    assert.equal(streamWorkflowId(base, 'transactions'), 'stream-transactions');
    assert.equal(
      replayWorkflowId(base, 'ticks', Date.parse('2026-11-22T00:00:00Z'), Date.parse('2026-11-23T00:00:00Z')),
      'replay-ticks-2026-11-22T00:00:00Z-2026-11-23T00:00:00Z',
    );
  });

  it('gives every other deployment ids of its own: task queue, and topic prefix when it has one', () => {
    assert.deepEqual(
      [dev, staging, both].map((c) => scheduleIdFor(c, 'pipeline', 'transactions')),
      ['pipeline-transactions@etl+dev.', 'pipeline-transactions@staging', 'pipeline-transactions@staging+staging-'],
    );
    assert.equal(streamWorkflowId(both, 'ticks'), 'stream-ticks@staging+staging-');
    assert.equal(new Set([base, dev, staging, both].map((c) => scopedId(c, 'forecast-ticks'))).size, 4);
    for (const c of [base, dev, staging, both]) assert.doesNotMatch(scopedId(c, 'x'), /\//, 'no slash: ids go into Web UI paths');
  });

  it("tells its own ids from another deployment's", () => {
    assert.equal(unscopedId(staging, 'pipeline-transactions@staging'), 'pipeline-transactions');
    assert.equal(unscopedId(staging, 'pipeline-transactions@staging+staging-'), undefined);
    assert.equal(unscopedId(staging, 'pipeline-transactions'), undefined);
    assert.equal(unscopedId(base, 'pipeline-transactions'), 'pipeline-transactions');
    assert.equal(unscopedId(base, 'pipeline-transactions@staging'), undefined);
    // The memo `etl` writes decides, also for an id given with --id.
    const memo = { etlTaskQueue: 'staging', etlTopicPrefix: '', etlStream: 'transactions' };
    assert.equal(ownsSchedule(staging, 'nightly', memo), true);
    assert.equal(ownsSchedule(base, 'nightly', memo), false);
    assert.equal(ownsSchedule(base, 'made-by-hand', undefined), true);
  });

  it('still finds the stream in a scoped workflow id, and not in the scope', () => {
    assert.ok(namesStream('pipeline-transactions@staging-2026-11-22T13:05:00Z', 'transactions'), 'a scheduled run');
    assert.ok(namesStream('pipeline-ticks-2026-11-22T13:05:12Z@staging', 'ticks'), 'a run started by `etl run pipeline`');
    assert.ok(namesStream('stream-ticks@t-ticks_1+t-ticks_1-', 'ticks'));
    assert.ok(!namesStream('pipeline-transactions@ticks-lab', 'ticks'));
  });
});

// `etl demo` talks to a person: progress lines, the report and the links on the terminal, while the
// in-process worker's JSON logs go to a file it names once (and to stderr only with LOG_LEVEL=debug).
// Runs the built CLI, as `npm run demo` does, in a corner of the stack of its own.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../lib/config';
import { configEnv } from '../support/isolation';
import { isolatedEnv, type TestEnv } from '../support/harness';

describe('etl demo output', { timeout: 5 * 60_000 }, () => {
  let env: TestEnv;
  before(async () => {
    env = await isolatedEnv('demo_output');
  });
  after(() => env.cleanup());

  it('has no JSON log lines and names the worker log file once', async () => {
    const { stdout, stderr } = await promisify(execFile)(path.join(PROJECT_ROOT, 'bin', 'etl'), ['demo', '--rows', '3000', '--seed', '5'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: { ...process.env, ...configEnv({ ...env.config, LOG_LEVEL: 'info' }) },
      maxBuffer: 16 * 2 ** 20,
    });
    const lines = `${stdout}\n${stderr}`.split('\n');
    assert.deepEqual(
      lines.filter((l) => l.trimStart().startsWith('{')),
      [],
      'JSON lines in the demo output',
    );
    const named = lines.filter((l) => l.includes('demo-worker.log'));
    assert.equal(named.length, 1, named.join('\n'));
    assert.match(stdout, /Pipeline done: 3,000 records archived/);
    assert.match(stdout, /Quality checks: \d+\/\d+ passed/);
    assert.match(stdout, /Temporal Web UI for this run: http/);
    // The worker's lines are in that file, as JSON.
    const file = path.join(env.config.ETL_STATE_DIR, 'logs', 'demo-worker.log');
    assert.ok(existsSync(file));
    const ours = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes(env.config.TEMPORAL_TASK_QUEUE));
    assert.ok(ours.length > 0 && ours.every((l) => typeof (JSON.parse(l) as { msg?: unknown }).msg === 'string'));
  });
});

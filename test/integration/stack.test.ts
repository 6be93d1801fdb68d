// The no-Docker local stack: `stackUp` brings (or finds) every service healthy, and is cheap to repeat.
// Leaves the stack running: other integration tests use it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { formatStatusTable, stackStatus, stackUp, temporalBinary } from '../../client/stack';
import { loadConfig } from '../../lib/config';

const cfg = loadConfig();

describe('local stack', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    // Cold, this installs everything (minutes); warm, it only health-checks.
    await stackUp(cfg, { log: (line) => console.log(`  ${line}`) });
  });

  it('reports all four services running, with pids and log files', async () => {
    const rows = await stackStatus(cfg);
    console.log(formatStatusTable(rows));
    assert.deepEqual(rows.map((r) => r.name).sort(), ['kafka', 'postgres', 's3', 'temporal']);
    for (const row of rows) {
      assert.equal(row.state, 'running', `${row.name}: ${row.state} ${row.detail ?? ''}`);
      assert.ok(Number.isInteger(row.pid) && row.pid! > 0, `${row.name} has no pid`);
      assert.ok(existsSync(row.log), `${row.name} log ${row.log} does not exist`);
    }
  });

  it('installed the temporal CLI', () => {
    assert.ok(existsSync(temporalBinary(cfg)));
  });

  it('a second stackUp leaves running services alone', async () => {
    const earlier = await stackStatus(cfg);
    const started = Date.now();
    await stackUp(cfg);
    console.log(`  warm stackUp took ${Date.now() - started} ms`);
    const after = await stackStatus(cfg);
    assert.deepEqual(
      after.map((r) => [r.name, r.pid]),
      earlier.map((r) => [r.name, r.pid]),
    );
  });
});

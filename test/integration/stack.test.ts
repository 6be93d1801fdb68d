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

  it('reports all four services running, with pids and log files (and OpenSearch, when it runs)', async () => {
    const rows = await stackStatus(cfg);
    console.log(formatStatusTable(rows));
    // `npm test` starts the optional OpenSearch node too (`--with opensearch`): status shows it while it runs.
    assert.deepEqual(
      rows
        .map((r) => r.name)
        .filter((n) => n !== 'opensearch')
        .sort(),
      ['kafka', 'postgres', 's3', 'temporal'],
    );
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

  it('starts OpenSearch only when asked (--with opensearch), idempotently, and health-checks it', async () => {
    await stackUp(cfg, { with: ['opensearch'] });
    const first = (await stackStatus(cfg)).find((r) => r.name === 'opensearch');
    assert.equal(first?.state, 'running', `${first?.state} ${first?.detail ?? ''}`);
    assert.equal(first?.address, new URL(cfg.OPENSEARCH_URL).host);
    await stackUp(cfg, { with: ['opensearch'] });
    const second = (await stackStatus(cfg)).find((r) => r.name === 'opensearch');
    assert.equal(second?.pid, first?.pid, 'a second stack up leaves the running node alone');
    const health = (await (await fetch(new URL('/_cluster/health', cfg.OPENSEARCH_URL))).json()) as {
      status: string;
      number_of_nodes: number;
    };
    assert.equal(health.number_of_nodes, 1);
    assert.ok(['green', 'yellow'].includes(health.status), health.status);
  });
});

// The benchmark's quick configuration still runs end to end and writes every figure tools read.
// Timings are never asserted: on a shared 2-core machine they only say something in tools/bench/results.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULTS, QUICK, runBench } from '../../tools/bench/run';

const REQUIRED = [
  'e2e_events_per_s',
  'load_rows_per_s',
  'copy_rows_per_s',
  'load_vs_copy_ratio',
  'freshness_p99_ms',
  'producer_events_per_s',
  'worker_peak_rss_mb',
  'activities_per_million',
];

describe('npm run bench -- --quick', () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'etl-bench-'));
  after(() => rmSync(outDir, { recursive: true, force: true }));

  it('completes and writes every required figure as a finite number', async () => {
    const { jsonFile, mdFile } = await runBench({ ...DEFAULTS, ...QUICK, outDir, say: () => undefined });
    const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, unknown>;
    for (const key of REQUIRED) assert.ok(Number.isFinite(json[key]), `${key} = ${String(json[key])}`);
    const machine = json.machine as Record<string, unknown>;
    assert.ok(Number.isFinite(machine.cores) && Number.isFinite(machine.memory_mb));
    assert.match(String(json.commit), /^[0-9a-f]{40}$/);
    const startup = json.startup as Record<string, { median: number }>;
    for (const key of ['help_tsx_ms', 'help_built_ms', 'worker_tsx_ms', 'worker_built_ms'])
      assert.ok(Number.isFinite(startup[key]?.median), `startup.${key}`);
    assert.match(readFileSync(mdFile, 'utf8'), /\| target \| goal \| measured \| met \|/);
    assert.match(readFileSync(mdFile, 'utf8'), /\| etl worker \(until it polls\) \|/);
  });
});

// Every stage of the benchmark still runs end to end and writes every figure tools read, at the
// smallest sizes that still make each stage do all it does: two end-to-end sizes (the linearity
// target needs two), one and two worker processes, a continuous-mode run, each start-up way once.
// The sizes prove nothing here (the quick configuration, 20,000 events, took over 5 minutes beside
// the other files, mostly fixed costs and repetitions); timings are never asserted: on a shared
// 2-core machine they only say something in tools/bench/results.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { TARGET_IDS } from '../../tools/bench/report';
import { DEFAULTS, QUICK, runBench, type BenchOptions } from '../../tools/bench/run';

const REQUIRED = [
  'e2e_events_per_s',
  'e2e_vs_copy_ratio',
  'load_rows_per_s',
  'copy_rows_per_s',
  'load_vs_copy_ratio',
  'freshness_p99_ms',
  'producer_events_per_s',
  'worker_peak_rss_mb',
  'activities_per_million',
];

/** The quick configuration, smaller still: each backlog a few objects, each figure measured once. */
const SMOKE: Partial<BenchOptions> = {
  ...QUICK,
  events: 2_000,
  scaling: [1_000],
  stageEvents: 1_000,
  producerEvents: 2_000,
  workersEvents: 2_000,
  rate: 200,
  durationS: 3,
  runs: 1,
  helpRuns: 1,
};

describe('the benchmark, every stage at its smallest', () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'etl-bench-'));
  const profDir = mkdtempSync(path.join(os.tmpdir(), 'etl-bench-prof-'));
  after(() => rmSync(profDir, { recursive: true, force: true }));
  after(() => rmSync(outDir, { recursive: true, force: true }));

  it('completes and writes every required figure as a finite number', { timeout: 20 * 60_000 }, async () => {
    const { jsonFile, mdFile } = await runBench({ ...DEFAULTS, ...SMOKE, outDir, cpuProfDir: profDir, say: () => undefined });
    const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as Record<string, unknown>;
    for (const key of REQUIRED) assert.ok(Number.isFinite(json[key]), `${key} = ${String(json[key])}`);
    const machine = json.machine as Record<string, unknown>;
    assert.ok(Number.isFinite(machine.cores) && Number.isFinite(machine.memory_mb));
    assert.match(String(json.commit), /^[0-9a-f]{40}$/);
    const startup = json.startup as Record<string, { median: number }>;
    for (const key of ['help_tsx_ms', 'help_built_ms', 'worker_tsx_ms', 'worker_built_ms'])
      assert.ok(Number.isFinite(startup[key]?.median), `startup.${key}`);
    // Every target of issue 14 with its figure, met or not, and what bounds it when not.
    const targets = json.targets as Record<string, { name: string; target: string; figure: number; met: boolean; bound_by: string | null }>;
    assert.deepEqual(Object.keys(targets), [...TARGET_IDS]);
    for (const [id, t] of Object.entries(targets)) {
      assert.ok(Number.isFinite(t.figure), `targets.${id}.figure = ${String(t.figure)}`);
      assert.equal(typeof t.met, 'boolean', `targets.${id}.met`);
      assert.ok(t.name && t.target, `targets.${id} names itself`);
      if (!t.met) assert.ok(typeof t.bound_by === 'string' && t.bound_by.length > 0, `targets.${id}.bound_by`);
    }
    // 2,000 events is not the 1M backlog: the end-to-end targets cannot be met by a small run.
    assert.equal(targets.e2e_events_per_s!.met, false);
    // The worker's and the producer's CPU profiles were taken and summarised.
    for (const key of ['producer_profile'] as const) {
      const p = (json[key] as { profile: { files: string[]; parts: Array<{ share: number }> } }).profile;
      assert.ok(p.files.length >= 1 && p.parts.length > 0, `${key} has a profile`);
    }
    const mainRun = (json.e2e as Array<{ events: number; profile: { files: string[] } | null; copy_rows_per_s: number }>).find(
      (e) => e.events === SMOKE.events,
    )!;
    assert.ok(mainRun.profile && mainRun.profile.files.length >= 1, 'the main end-to-end run was profiled');
    assert.ok(Number.isFinite(mainRun.copy_rows_per_s));
    // Every stage ran at the sizes it was given, small as they are.
    assert.deepEqual(
      (json.e2e as Array<{ events: number; rows_inserted: number }>).map((e) => [e.events, e.rows_inserted]),
      [
        [1_000, 1_000],
        [2_000, 2_000],
      ],
    );
    assert.deepEqual(
      (json.scale_out as Array<{ workers: number; events: number }>).map((w) => [w.workers, w.events]),
      [
        [1, 2_000],
        [2, 2_000],
      ],
    );
    const freshness = json.freshness as { produced: number; drained: boolean };
    assert.deepEqual([freshness.produced, freshness.drained], [SMOKE.rate! * SMOKE.durationS!, true]);
    const md = readFileSync(mdFile, 'utf8');
    assert.match(md, /\| target \| goal \| figure \| met \| bound by \|/);
    for (const id of TARGET_IDS) assert.ok(md.includes(`| ${targets[id]!.name} |`), `the .md lists ${id}`);
    assert.match(readFileSync(mdFile, 'utf8'), /\| etl worker \(until it polls\) \|/);
  });
});

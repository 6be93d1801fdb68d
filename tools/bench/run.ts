// runBench: every measurement of issues 5 and 14 in one go, each in an isolated namespace of the local stack,
// written to <outDir>/<date>.json and .md. The CLI (main.ts) and the smoke test both call it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, PROJECT_ROOT } from '../../lib/config';
import { e2eRun, type E2eFigures } from './e2e';
import { freshnessRun, type FreshnessFigures } from './freshness';
import { producerProfileRun, type ProducerProfile } from './producer';
import { filesRun, type FilesFigures } from './files';
import { evaluateTargets, markdown, type Results, type ScaleOutFigures } from './report';
import { stageRun, type StageFigures } from './stages';
import { startupRun, type StartupFigures } from './startup';
import { spread, type Spread } from './stats';

export const STAGES = ['stages', 'producer', 'e2e', 'scaling', 'freshness', 'workers', 'startup', 'files'] as const;
/** Stages a plain `npm run bench` runs; `files` (a file larger than the worker's heap) is opt-in: --stages … ,files or --with-files. */
export const DEFAULT_STAGES: readonly Stage[] = STAGES.filter((s) => s !== 'files');
export type Stage = (typeof STAGES)[number];

export interface BenchOptions {
  /** Backlog of the main end-to-end figure. */
  events: number;
  /** Continuous mode: events per second and for how long. */
  rate: number;
  durationS: number;
  seed: number;
  stages: Stage[];
  /** Repetitions of the cheap per-stage figures. */
  runs: number;
  /** Repetitions of `etl --help` in the start-up stage (at least `runs`): a second or two each, so a median of several. */
  helpRuns: number;
  /** Backlog of each per-stage run. */
  stageEvents: number;
  /** Backlogs of the cost-growth series (the main figure's size is added). */
  scaling: number[];
  /** Adds a 10,000,000-event run to the cost-growth series (about half an hour on 2 cores). */
  with10m: boolean;
  /** Backlog of the producer's profiled run. */
  producerEvents: number;
  /** Backlog of the 1-vs-2 worker processes comparison. */
  workersEvents: number;
  /** Continuous mode: the stream's flush interval (STREAM_FLUSH_INTERVAL_MS) for the freshness figure. */
  flushMs: number;
  /** The `files` stage: size of the JSONL file, and the heap the worker reading it is capped at. */
  filesMb: number;
  filesHeapMb: number;
  outDir: string;
  /**
   * Where the main end-to-end run's worker, the continuous-mode worker and the producer's profiled
   * run write V8 CPU profiles (summarised in the results); <ETL_STATE_DIR>/bench/profiles/<date>
   * when undefined. `profile: false` takes none.
   */
  cpuProfDir?: string;
  profile: boolean;
  say: (line: string) => void;
}

export const DEFAULTS: Omit<BenchOptions, 'say'> = {
  events: 1_000_000,
  rate: 5_000,
  durationS: 60,
  seed: 42,
  stages: [...DEFAULT_STAGES],
  runs: 3,
  helpRuns: 5,
  stageEvents: 100_000,
  scaling: [10_000, 100_000],
  with10m: false,
  producerEvents: 300_000,
  workersEvents: 300_000,
  flushMs: 1_000,
  filesMb: 600,
  filesHeapMb: 256,
  profile: true,
  outDir: path.join(PROJECT_ROOT, 'tools', 'bench', 'results'),
};
export const QUICK: Partial<BenchOptions> = {
  events: 20_000,
  rate: 500,
  durationS: 10,
  runs: 1,
  stageEvents: 10_000,
  scaling: [10_000],
  producerEvents: 20_000,
  workersEvents: 20_000,
  filesMb: 50,
  filesHeapMb: 128,
};

export const TEN_MILLION = 10_000_000;

/** Same workflow and object concurrency; only the number of worker processes changes. */
const SCALE_OUT = [
  { workers: 1, objectConcurrency: 4 },
  { workers: 2, objectConcurrency: 4 },
];

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * A run that failed (a server restarted under it: the local stack is shared) is discarded and made
 * again in a fresh namespace, at most twice; its figure would measure the outage, not the pipeline.
 */
async function again<T>(what: string, say: (line: string) => void, fn: () => Promise<T>, retries: string[]): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 3) throw err;
      retries.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
      say(`  ${what} failed (${(err as Error).message.split('\n')[0]}); running it again in 15 s`);
      await new Promise((r) => setTimeout(r, 15_000));
    }
  }
}

export async function runBench(options: BenchOptions): Promise<{ results: Results; jsonFile: string; mdFile: string }> {
  const base = loadConfig();
  const { say } = options;
  const want = (s: Stage) => options.stages.includes(s);
  const retries: string[] = [];
  const date = new Date()
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const profDir = options.profile ? (options.cpuProfDir ?? path.join(base.ETL_STATE_DIR, 'bench', 'profiles', date)) : undefined;

  const stageRuns: StageFigures[] = [];
  if (want('stages')) {
    for (let i = 0; i < options.runs; i++) {
      say(`stages run ${i + 1}/${options.runs}: ${options.stageEvents.toLocaleString('en-US')} events`);
      stageRuns.push(await again(`stages run ${i + 1}`, say, () => stageRun(base, options.stageEvents, options.seed + i), retries));
    }
  }
  const stages: Record<string, Spread> = {};
  for (const key of [
    'producer_events_per_s',
    'archive_events_per_s',
    'archive_mb_per_s',
    'transform_events_per_s',
    'load_rows_per_s',
    'copy_rows_per_s',
    'load_vs_copy_ratio',
  ] as const) {
    stages[key] = spread(stageRuns.map((r) => r[key]));
  }

  let producerProfile: ProducerProfile | null = null;
  if (want('producer') && profDir) {
    say(`producer under a CPU profile: ${options.producerEvents.toLocaleString('en-US')} events`);
    producerProfile = await again(
      'producer profile',
      say,
      () => producerProfileRun(base, options.producerEvents, options.seed, profDir),
      retries,
    );
    say(`  ${Math.round(producerProfile.events_per_s).toLocaleString('en-US')} events/s while profiled`);
  }

  const sizes = want('scaling')
    ? [
        ...new Set([
          ...options.scaling.filter((n) => n < options.events),
          options.events,
          ...(options.with10m && options.events < TEN_MILLION ? [TEN_MILLION] : []),
        ]),
      ]
    : want('e2e')
      ? [options.events]
      : [];
  const e2e: E2eFigures[] = [];
  for (const n of sizes) {
    say(`end to end: ${n.toLocaleString('en-US')} events`);
    // Only the main run is profiled: the series compares sizes under the same conditions otherwise.
    const cpuProfDir = n === options.events ? profDir : undefined;
    e2e.push(await again(`end to end ${n}`, say, () => e2eRun(base, n, options.seed, say, { cpuProfDir }), retries));
    say(`  ${Math.round(e2e[e2e.length - 1]!.e2e_events_per_s).toLocaleString('en-US')} events/s`);
  }
  const main = e2e.find((e) => e.events === options.events);

  const scaleOut: ScaleOutFigures[] = [];
  if (want('workers')) {
    for (const shape of SCALE_OUT) {
      say(
        `scale-out: ${options.workersEvents.toLocaleString('en-US')} events, ${shape.workers} worker process(es), ${shape.objectConcurrency} objects at a time`,
      );
      const r = await again(
        `scale-out ${shape.workers}`,
        say,
        () => e2eRun(base, options.workersEvents, options.seed, say, shape),
        retries,
      );
      scaleOut.push({
        ...shape,
        events: r.events,
        seconds: r.seconds,
        e2e_events_per_s: r.e2e_events_per_s,
        worker_peak_rss_mb: r.worker_peak_rss_mb,
      });
      say(`  ${Math.round(r.e2e_events_per_s).toLocaleString('en-US')} events/s`);
    }
  }

  let freshness: FreshnessFigures | null = null;
  if (want('freshness')) {
    say(`continuous mode: ${options.rate}/s for ${options.durationS} s, flush every ${options.flushMs} ms`);
    freshness = await again(
      'continuous mode',
      say,
      () =>
        freshnessRun(
          base,
          { rate: options.rate, seconds: options.durationS, seed: options.seed, flushMs: options.flushMs, cpuProfDir: profDir },
          say,
        ),
      retries,
    );
  }

  let startup: StartupFigures | null = null;
  if (want('startup')) {
    say(`start-up times: etl --help and etl worker, from source (tsx) and built`);
    startup = await again(
      'start-up times',
      say,
      () => startupRun(base, options.runs, Math.max(options.helpRuns, options.runs), say),
      retries,
    );
  }

  let files: FilesFigures | null = null;
  if (want('files')) {
    say(`file source: a ${options.filesMb} MB JSONL file, worker heap capped at ${options.filesHeapMb} MB`);
    files = await again('file source', say, () => filesRun(base, options.filesMb, options.filesHeapMb, options.seed, say), retries);
    say(
      `  ${Math.round(files.records_per_s).toLocaleString('en-US')} records/s, worker peak RSS ${Math.round(files.worker_peak_rss_mb)} MB`,
    );
  }

  const producerFigures = [...stageRuns.map((r) => r.producer_events_per_s), ...(main ? [main.producer_events_per_s] : [])];
  const workerRss = [
    ...e2e.map((e) => ({ run: `end to end ${e.events.toLocaleString('en-US')}`, peak_rss_mb: e.worker_peak_rss_mb })),
    ...scaleOut.map((w) => ({ run: `scale-out ${w.workers} worker(s)`, peak_rss_mb: w.worker_peak_rss_mb })),
    ...(freshness ? [{ run: 'continuous mode', peak_rss_mb: freshness.worker_peak_rss_mb }] : []),
    ...(files ? [{ run: `file source ${Math.round(files.file_mb)} MB`, peak_rss_mb: files.worker_peak_rss_mb }] : []),
  ];
  const partial: Omit<Results, 'targets'> = {
    e2e_events_per_s: main?.e2e_events_per_s ?? NaN,
    e2e_vs_copy_ratio: main?.e2e_vs_copy_ratio ?? NaN,
    load_rows_per_s: stages.load_rows_per_s!.median,
    copy_rows_per_s: stages.copy_rows_per_s!.median,
    load_vs_copy_ratio: stages.load_vs_copy_ratio!.median,
    freshness_p99_ms: freshness?.freshness_p99_ms ?? NaN,
    producer_events_per_s: spread(producerFigures).median,
    worker_peak_rss_mb: Math.max(...workerRss.map((w) => w.peak_rss_mb)),
    activities_per_million: main?.activities_per_million ?? NaN,
    machine: { cores: os.cpus().length, memory_mb: Math.round(os.totalmem() / 2 ** 20), cpu: os.cpus()[0]?.model ?? 'unknown' },
    commit: commit(),
    date,
    options: {
      events: options.events,
      rate: options.rate,
      durationS: options.durationS,
      seed: options.seed,
      stages: options.stages,
      runs: options.runs,
      helpRuns: options.helpRuns,
      stageEvents: options.stageEvents,
      scaling: sizes,
      with10m: options.with10m,
      producerEvents: options.producerEvents,
      workersEvents: options.workersEvents,
      flushMs: options.flushMs,
      ...(want('files') ? { filesMb: options.filesMb, filesHeapMb: options.filesHeapMb } : {}),
      profiled: options.profile,
    },
    config: {
      ARCHIVE_MAX_RECORDS_PER_OBJECT: base.ARCHIVE_MAX_RECORDS_PER_OBJECT,
      ARCHIVE_MAX_OBJECTS_PER_ACTIVITY: base.ARCHIVE_MAX_OBJECTS_PER_ACTIVITY,
      PIPELINE_OBJECT_CONCURRENCY: base.PIPELINE_OBJECT_CONCURRENCY,
      STREAM_FLUSH_INTERVAL_MS: base.STREAM_FLUSH_INTERVAL_MS,
      KAFKA_TOPIC_PARTITIONS: base.KAFKA_TOPIC_PARTITIONS,
      PRODUCER_THREADS: base.PRODUCER_THREADS,
    },
    stages,
    e2e,
    scale_out: scaleOut,
    freshness,
    producer_profile: producerProfile,
    worker_rss: workerRss,
    startup,
    files,
    retries,
  };
  const results: Results = { ...partial, targets: evaluateTargets(partial) };
  mkdirSync(options.outDir, { recursive: true });
  const jsonFile = path.join(options.outDir, `${date}.json`);
  const mdFile = path.join(options.outDir, `${date}.md`);
  writeFileSync(jsonFile, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(mdFile, markdown(results));
  return { results, jsonFile, mdFile };
}

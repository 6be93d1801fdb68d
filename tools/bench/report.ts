// The results file: the figures (medians at the top level so tools can read them), every run's
// min/median/max, and for each target of issue 14 its figure, whether it is met and, where not,
// what bounds it according to the same run's per-stage figures and CPU profiles.
import type { Config } from '../../lib/config';
import type { E2eFigures } from './e2e';
import type { FreshnessFigures } from './freshness';
import type { FilesFigures } from './files';
import { describeProfile } from './profile';
import type { ProducerProfile } from './producer';
import type { StartupFigures } from './startup';
import type { Spread } from './stats';

/** One target of issue 14: its figure in this run, whether it is met, and, when not, what bounds it. */
export interface Target {
  name: string;
  target: string;
  figure: number;
  met: boolean;
  /** The stage or resource that holds the figure back (with the CPU profile's summary where one was taken); null when met. */
  bound_by: string | null;
}

export const TARGET_IDS = [
  'e2e_events_per_s',
  'e2e_vs_copy_ratio',
  'producer_events_per_s',
  'freshness_p99_ms',
  'worker_peak_rss_mb',
  'time_linear_in_events',
  'activities_per_million',
] as const;
export type TargetId = (typeof TARGET_IDS)[number];

export interface ScaleOutFigures {
  workers: number;
  objectConcurrency: number;
  events: number;
  seconds: number;
  e2e_events_per_s: number;
  worker_peak_rss_mb: number;
}

export interface Results {
  e2e_events_per_s: number;
  /** End to end on the main backlog ÷ a bare COPY of the same rows in the same run. */
  e2e_vs_copy_ratio: number;
  load_rows_per_s: number;
  copy_rows_per_s: number;
  load_vs_copy_ratio: number;
  freshness_p99_ms: number;
  producer_events_per_s: number;
  worker_peak_rss_mb: number;
  activities_per_million: number;
  machine: { cores: number; memory_mb: number; cpu: string };
  commit: string;
  date: string;
  options: Record<string, unknown>;
  config: Pick<
    Config,
    | 'ARCHIVE_MAX_RECORDS_PER_OBJECT'
    | 'ARCHIVE_MAX_OBJECTS_PER_ACTIVITY'
    | 'PIPELINE_OBJECT_CONCURRENCY'
    | 'STREAM_FLUSH_INTERVAL_MS'
    | 'KAFKA_TOPIC_PARTITIONS'
    | 'PRODUCER_THREADS'
  >;
  stages: Record<string, Spread>;
  e2e: E2eFigures[];
  /** The same backlog drained by 1 and by 2 worker processes on one task queue. */
  scale_out: ScaleOutFigures[];
  freshness: FreshnessFigures | null;
  /** The producer once more, under a CPU profile (its rate is not part of producer_events_per_s). */
  producer_profile: ProducerProfile | null;
  /** Peak RSS of every worker process, per run. */
  worker_rss: Array<{ run: string; peak_rss_mb: number }>;
  /** `etl --help` and `etl worker` start-up, from source (tsx) and built; null when not measured. */
  startup: StartupFigures | null;
  /** A file larger than the worker's heap through a file source (opt-in stage `files`); null when not run. */
  files?: FilesFigures | null;
  /** Runs discarded because they failed (a server restarted under them) and made again. */
  retries: string[];
  targets: Record<TargetId, Target>;
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

/** Where each stage's time goes for 1M events, run one object at a time. */
function stageShares(stages: Record<string, Spread>): string {
  const per = (k: string) => 1e6 / (stages[k]?.median ?? NaN);
  const parts = { archive: per('archive_events_per_s'), transform: per('transform_events_per_s'), load: per('load_rows_per_s') };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  if (!Number.isFinite(total)) return 'per-stage figures not measured in this run';
  const sorted = Object.entries(parts).sort((a, b) => b[1] - a[1]);
  return (
    `per 1M events one object at a time: ${sorted.map(([k, s]) => `${k} ${s.toFixed(0)} s (${((100 * s) / total).toFixed(0)}%)`).join(', ')}; ` +
    `the slowest stage is ${sorted[0]![0]}`
  );
}

/** Seconds per event at each size, and the largest growth from one size to the next (1 = linear). */
export function linearity(e2e: readonly E2eFigures[]): { ratio: number; worst: string } {
  const sorted = [...e2e].sort((x, y) => x.events - y.events);
  let ratio = NaN;
  let worst = 'fewer than two sizes measured';
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1]!, sorted[i]!];
    const r = b.seconds / b.events / (a.seconds / a.events);
    if (!(r <= ratio)) {
      ratio = r;
      worst = `${f0(a.events)} → ${f0(b.events)} events: ${f2((1e6 * a.seconds) / a.events)} → ${f2((1e6 * b.seconds) / b.events)} µs per event`;
    }
  }
  return { ratio, worst };
}

const ONE_MILLION = 1_000_000;
/** Per-event time may grow by this much from one size to the next and still count as linear (noise). */
export const LINEAR_TOLERANCE = 1.2;

export function evaluateTargets(r: Omit<Results, 'targets'>): Record<TargetId, Target> {
  const shares = stageShares(r.stages);
  const big = r.e2e.find((e) => e.events === r.options.events) ?? r.e2e[r.e2e.length - 1];
  const fr = r.freshness;
  const on1M = (big?.events ?? 0) >= ONE_MILLION;
  const measuredOn = on1M ? '' : ` (measured on ${f0(big?.events ?? NaN)} events: not the target's backlog)`;
  const activityShare = big
    ? Object.entries(big.activity_seconds)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${f2(v)} s`)
        .join(', ')
    : '';
  const t = (name: string, target: string, figure: number, met: boolean, why: () => string): Target => ({
    name,
    target,
    figure,
    met,
    bound_by: met ? null : why(),
  });
  const lin = linearity(r.e2e);
  const sizes = r.e2e.map((e) => e.events);
  const rssTop = [...r.worker_rss].sort((a, b) => b.peak_rss_mb - a.peak_rss_mb)[0];
  return {
    e2e_events_per_s: t(
      'end to end, 1M backlog',
      '≥ 30,000 events/s',
      r.e2e_events_per_s,
      on1M && r.e2e_events_per_s >= 30_000,
      () =>
        `${measuredOn ? `${measuredOn.trim()}; ` : ''}${shares}; time inside activities: ${activityShare}; worker ${describeProfile(big?.profile)}`,
    ),
    e2e_vs_copy_ratio: t(
      'end to end vs bare COPY of the same run',
      '≥ 0.5×',
      r.e2e_vs_copy_ratio,
      on1M && r.e2e_vs_copy_ratio >= 0.5,
      () =>
        `${measuredOn ? `${measuredOn.trim()}; ` : ''}the bare PostgreSQL copy took the same rows at ${f0(big?.copy_rows_per_s ?? NaN)} rows/s; the pipeline's extra is archive, transform and load in the worker: ${shares}; worker ${describeProfile(big?.profile)}`,
    ),
    producer_events_per_s: t(
      'producer',
      '≥ 100,000 events/s (~250-byte events)',
      r.producer_events_per_s,
      r.producer_events_per_s >= 100_000,
      () =>
        `CPU-bound in JavaScript on ${r.machine.cores} cores shared with the broker: kafkajs encodes every record, the generator makes every event (${r.producer_profile ? `${f0(r.producer_profile.threads)} producer threads, profiled run ${f0(r.producer_profile.events_per_s)} events/s on ${f0(r.producer_profile.events)}; ${describeProfile(r.producer_profile.profile, 6, 4)}` : 'not profiled in this run'}); see docs/performance.md#producer for what a librdkafka client buys`,
    ),
    freshness_p99_ms: t(
      'continuous mode freshness p99',
      '≤ 2,000 ms at 5,000 events/s',
      r.freshness_p99_ms,
      !!fr && fr.rate >= 5_000 && fr.drained && r.freshness_p99_ms <= 2_000,
      () =>
        fr
          ? `${fr.rate < 5_000 ? `measured at ${f0(fr.rate)}/s, not the target's 5,000/s; ` : ''}${fr.drained ? '' : 'the run did not drain; '}the flush interval (${f0(fr.flush_interval_ms)} ms) is the floor of every wait, then archive, transform and load of the object (p50 ${f0(fr.freshness_p50_ms)} ms, p95 ${f0(fr.freshness_p95_ms)} ms, achieved ${f0(fr.achieved_rate)}/s); worker ${describeProfile(fr.profile)}`
          : 'not measured in this run',
    ),
    worker_peak_rss_mb: t(
      'worker peak RSS, every run',
      '≤ 512 MB whatever the backlog',
      r.worker_peak_rss_mb,
      r.worker_peak_rss_mb <= 512,
      () =>
        rssTop
          ? `largest: ${rssTop.run} at ${f0(rssTop.peak_rss_mb)} MB (every run: ${r.worker_rss.map((w) => `${w.run} ${f0(w.peak_rss_mb)}`).join(', ')})`
          : 'no worker ran',
    ),
    time_linear_in_events: t(
      'time linear in events (10k, 100k, 1M; 10M with --with-10m)',
      `per-event time grows ≤ ${LINEAR_TOLERANCE}× from one size to the next`,
      lin.ratio,
      sizes.includes(ONE_MILLION) && lin.ratio <= LINEAR_TOLERANCE,
      () =>
        `${sizes.includes(ONE_MILLION) ? '' : `sizes measured: ${sizes.map(f0).join(', ')} (1M not among them); `}largest growth ${lin.worst}`,
    ),
    activities_per_million: t(
      'Temporal activities per 1M events',
      '≤ 100',
      r.activities_per_million,
      r.activities_per_million <= 100,
      () =>
        `one transform and one load per object of ≤ ${f0(r.config.ARCHIVE_MAX_RECORDS_PER_OBJECT)} records, one archive per ${r.config.ARCHIVE_MAX_OBJECTS_PER_ACTIVITY} objects and one work-queue look-up per page`,
    ),
  };
}

const fmtTarget = (id: TargetId, t: Target) => (id === 'e2e_vs_copy_ratio' || id === 'time_linear_in_events' ? f2(t.figure) : f0(t.figure));

export function markdown(r: Results): string {
  const lines = [
    `# Benchmark ${r.date}`,
    '',
    `commit \`${r.commit}\` · ${r.machine.cores} cores (${r.machine.cpu}) · ${f0(r.machine.memory_mb)} MB · options \`${JSON.stringify(r.options)}\``,
    '',
    '## Stages (activities driven directly, one object at a time)',
    '',
    '| figure | min | median | max | runs |',
    '|---|---:|---:|---:|---:|',
    ...Object.entries(r.stages).map(
      ([k, s]) =>
        `| ${k} | ${k.includes('ratio') || k.includes('mb') ? f2(s.min) : f0(s.min)} | ${k.includes('ratio') || k.includes('mb') ? f2(s.median) : f0(s.median)} | ${k.includes('ratio') || k.includes('mb') ? f2(s.max) : f0(s.max)} | ${s.runs} |`,
    ),
    '',
    '## End to end (produce a backlog, then one pipeline run through a worker process)',
    '',
    '| events | seconds | events/s | µs per event | bare COPY rows/s | vs COPY | producer events/s | activities | activities per 1M | worker peak RSS MB |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.e2e.map(
      (e) =>
        `| ${f0(e.events)} | ${f2(e.seconds)} | ${f0(e.e2e_events_per_s)} | ${f2((1e6 * e.seconds) / e.events)} | ${f0(e.copy_rows_per_s)} | ${f2(e.e2e_vs_copy_ratio)} | ${f0(e.producer_events_per_s)} | ${e.activities} | ${f0(e.activities_per_million)} | ${f0(e.worker_peak_rss_mb)} |`,
    ),
    '',
    'Time inside activities per run (seconds, summed over concurrent ones): ' +
      r.e2e
        .map(
          (e) =>
            `${f0(e.events)}: ${Object.entries(e.activity_seconds)
              .map(([k, v]) => `${k} ${f2(v)}`)
              .join(', ')}`,
        )
        .join(' · '),
    '',
    '## Scale-out on this machine (worker processes on one task queue, same workflow)',
    '',
    ...(r.scale_out.length
      ? [
          '| worker processes | objects at a time | events | seconds | events/s | peak RSS MB (largest worker) |',
          '|---:|---:|---:|---:|---:|---:|',
          ...r.scale_out.map(
            (w) =>
              `| ${w.workers} | ${w.objectConcurrency} | ${f0(w.events)} | ${f2(w.seconds)} | ${f0(w.e2e_events_per_s)} | ${f0(w.worker_peak_rss_mb)} |`,
          ),
        ]
      : ['not measured']),
    '',
    '## Continuous mode',
    '',
    r.freshness
      ? `${f0(r.freshness.rate)} events/s for ${r.freshness.seconds} s, flush every ${f0(r.freshness.flush_interval_ms)} ms (achieved ${f0(r.freshness.achieved_rate)}/s, ${f0(r.freshness.produced)} events${r.freshness.drained ? '' : ', NOT drained'}): freshness p50 ${f0(r.freshness.freshness_p50_ms)} ms, p95 ${f0(r.freshness.freshness_p95_ms)} ms, p99 ${f0(r.freshness.freshness_p99_ms)} ms, max ${f0(r.freshness.freshness_max_ms)} ms; worker peak RSS ${f0(r.freshness.worker_peak_rss_mb)} MB`
      : 'not measured',
    '',
    '## Start-up (from source through tsx, as bin/etl ran before `npm run build`, and built)',
    '',
    ...(r.startup
      ? [
          `Node ${r.startup.node}; \`etl --help\` until it exits (${r.startup.help_runs} runs), \`etl worker\` until Temporal lists it as a poller of its task queue (${r.startup.worker_runs} runs), milliseconds:`,
          '',
          '| start | tsx min | tsx median | tsx max | built min | built median | built max |',
          '|---|---:|---:|---:|---:|---:|---:|',
          `| etl --help | ${f0(r.startup.help_tsx_ms.min)} | ${f0(r.startup.help_tsx_ms.median)} | ${f0(r.startup.help_tsx_ms.max)} | ${f0(r.startup.help_built_ms.min)} | ${f0(r.startup.help_built_ms.median)} | ${f0(r.startup.help_built_ms.max)} |`,
          `| etl worker (until it polls) | ${f0(r.startup.worker_tsx_ms.min)} | ${f0(r.startup.worker_tsx_ms.median)} | ${f0(r.startup.worker_tsx_ms.max)} | ${f0(r.startup.worker_built_ms.min)} | ${f0(r.startup.worker_built_ms.median)} | ${f0(r.startup.worker_built_ms.max)} |`,
        ]
      : ['not measured']),
    ...(r.retries.length ? ['', `Runs made again after a failure: ${r.retries.join('; ')}`] : []),
    '',
    "## File source (a file larger than the worker's heap; opt-in stage `files`)",
    '',
    r.files
      ? `${f0(r.files.file_mb)} MB of JSONL (${f0(r.files.records)} records) read and loaded in ${f2(r.files.seconds)} s: ${f0(r.files.records_per_s)} records/s, ${f2(r.files.mb_per_s)} MB/s, ${f0(r.files.objects)} objects; worker heap capped at ${f0(r.files.worker_heap_limit_mb)} MB, peak RSS ${f0(r.files.worker_peak_rss_mb)} MB`
      : 'not run (add it with --with-files or --stages …,files)',
    '',
    '## CPU profiles (self time, busy time by part)',
    '',
    `- end to end, ${f0(r.e2e.find((e) => e.profile)?.events ?? NaN)} events (the worker): ${describeProfile(r.e2e.find((e) => e.profile)?.profile, 8, 5)}`,
    `- continuous mode (the worker): ${describeProfile(r.freshness?.profile, 8, 5)}`,
    `- producer (${r.producer_profile ? `${f0(r.producer_profile.events)} events, ${r.producer_profile.threads} threads, ${f0(r.producer_profile.events_per_s)} events/s while profiled` : 'not run'}): ${describeProfile(r.producer_profile?.profile, 8, 5)}`,
    '',
    '## Targets (issue 14)',
    '',
    '| target | goal | figure | met | bound by |',
    '|---|---|---:|---|---|',
    ...TARGET_IDS.map((id) => {
      const t = r.targets[id];
      return `| ${t.name} | ${t.target} | ${fmtTarget(id, t)} | ${t.met ? 'yes' : '**no**'} | ${(t.bound_by ?? '').replace(/\|/g, '\\|')} |`;
    }),
    '',
  ];
  return lines.join('\n');
}

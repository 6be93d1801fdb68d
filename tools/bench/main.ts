// `npm run bench`: measures every stage of the pipeline on the local stack (see run.ts) and prints
// the markdown table it writes next to the JSON.
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_STAGES, DEFAULTS, QUICK, runBench, STAGES, type Stage } from './run';

const positive = (v: string) => {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};
const stageList = (v: string): Stage[] => {
  const list = v.split(',').map((s) => s.trim());
  const bad = list.filter((s) => !(STAGES as readonly string[]).includes(s));
  if (bad.length) throw new InvalidArgumentError(`unknown stage ${bad.join(', ')}; expected some of ${STAGES.join(', ')}`);
  return list as Stage[];
};

const program = new Command('bench')
  .description('Throughput, freshness, memory and Temporal cost of the pipeline on the local stack')
  .option('--events <n>', `backlog of the end-to-end figure (default ${DEFAULTS.events})`, positive)
  .option('--rate <n>', `continuous mode: events per second (default ${DEFAULTS.rate})`, positive)
  .option('--duration <s>', `continuous mode: seconds of producing (default ${DEFAULTS.durationS})`, positive)
  .option('--seed <n>', 'generator seed', positive)
  .addOption(new Option('--stages <list>', `comma-separated subset of ${STAGES.join(',')}`).argParser(stageList))
  .option('--runs <n>', `repetitions of the per-stage figures (default ${DEFAULTS.runs})`, positive)
  .option('--stage-events <n>', `backlog of each per-stage run (default ${DEFAULTS.stageEvents})`, positive)
  .option('--flush <ms>', `continuous mode: the stream's flush interval (default ${DEFAULTS.flushMs})`, positive)
  .option('--workers-events <n>', `backlog of the 1-vs-2 worker processes comparison (default ${DEFAULTS.workersEvents})`, positive)
  .option('--with-10m', 'add a 10,000,000-event end-to-end run to the cost-growth series (about half an hour)')
  .option(
    '--with-files',
    `add the file-source stage: a ${DEFAULTS.filesMb} MB JSONL file read by a worker whose heap is capped at ${DEFAULTS.filesHeapMb} MB, with its peak RSS`,
  )
  .option('--files-mb <n>', `size of that file (default ${DEFAULTS.filesMb})`, positive)
  .option('--files-heap-mb <n>', `heap cap of the worker reading it (default ${DEFAULTS.filesHeapMb})`, positive)
  .option('--producer-events <n>', `backlog of the producer's profiled run (default ${DEFAULTS.producerEvents})`, positive)
  .option(
    '--cpu-prof <dir>',
    'folder for the V8 CPU profiles of the main end-to-end worker, the continuous-mode worker and the producer (default <ETL_STATE_DIR>/bench/profiles/<date>)',
  )
  .option('--no-profile', 'take no CPU profiles (targets then name their bound from the per-stage figures only)')
  .option('--quick', 'small smoke configuration (20,000 events, 500/s for 10 s, 1 run)')
  .action(
    async (o: {
      events?: number;
      rate?: number;
      duration?: number;
      seed?: number;
      stages?: Stage[];
      runs?: number;
      stageEvents?: number;
      workersEvents?: number;
      flush?: number;
      quick?: boolean;
      cpuProf?: string;
      with10m?: boolean;
      producerEvents?: number;
      withFiles?: boolean;
      filesMb?: number;
      filesHeapMb?: number;
      profile: boolean;
    }) => {
      const preset = { ...DEFAULTS, ...(o.quick ? QUICK : {}) };
      const given = Object.fromEntries(
        Object.entries({
          events: o.events,
          rate: o.rate,
          durationS: o.duration,
          seed: o.seed,
          stages: o.stages ?? (o.withFiles ? [...DEFAULT_STAGES, 'files'] : undefined),
          runs: o.runs,
          stageEvents: o.stageEvents,
          workersEvents: o.workersEvents,
          flushMs: o.flush,
          cpuProfDir: o.cpuProf,
          with10m: o.with10m,
          producerEvents: o.producerEvents,
          filesMb: o.filesMb,
          filesHeapMb: o.filesHeapMb,
          profile: o.profile,
        }).filter(([, v]) => v !== undefined),
      );
      const { jsonFile, mdFile } = await runBench({ ...preset, ...given, say: (line) => console.error(line) });
      console.log(readFileSync(mdFile, 'utf8'));
      console.log(`written: ${jsonFile}\n         ${mdFile}`);
    },
  );

program.parseAsync().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`error: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);

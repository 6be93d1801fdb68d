// How long `etl` takes to start from source (tsx transpiling the sources, as bin/etl ran before the
// build; its worker takes the workflow bundle of the current build, worker/workflow-code.ts) and
// the way it runs now (the built CLI): `etl --help` until it exits, and `etl worker` until
// Temporal lists it as a poller of its task queue (a fresh queue per run, so an earlier run's
// poller cannot answer for it).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { hasWorker } from '../../client/commands/pipeline';
import type { Config } from '../../lib/config';
import { PROJECT_ROOT } from '../../lib/config';
import { connectClient } from '../../lib/temporal';
import { benchEnv } from './env';
import { spread, type Spread } from './stats';

export interface StartupFigures {
  node: string;
  help_runs: number;
  worker_runs: number;
  /** `tsx client/main.ts --help` (bin/etl before the build). */
  help_tsx_ms: Spread;
  /** `bin/etl --help`: the freshness check and the built CLI. */
  help_built_ms: Spread;
  /** `tsx client/main.ts worker` until it polls (the build is current here: no webpack). */
  worker_tsx_ms: Spread;
  /** `bin/etl worker` until it polls (workflowBundle from dist/). */
  worker_built_ms: Spread;
}

const TSX = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
const MAIN_TS = path.join(PROJECT_ROOT, 'client', 'main.ts');
const BIN_ETL = path.join(PROJECT_ROOT, 'bin', 'etl');

/** The two ways of starting `etl`, as argv prefixes. */
const WAYS = { tsx: [TSX, MAIN_TS], built: [BIN_ETL] } as const;
type Way = keyof typeof WAYS;

function helpMs(way: Way): number {
  const [cmd, ...args] = WAYS[way];
  const t0 = performance.now();
  const r = spawnSync(cmd!, [...args, '--help'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${way} etl --help failed: ${r.stderr}`);
  return performance.now() - t0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Spawns a worker on a fresh task queue and returns the milliseconds until Temporal sees it poll. */
async function workerMs(way: Way, config: Config, workerEnv: Record<string, string>, run: number): Promise<number> {
  const taskQueue = `${config.TEMPORAL_TASK_QUEUE}-${way}-${run}`;
  const client = await connectClient(config);
  const [cmd, ...args] = WAYS[way];
  let stderr = '';
  const t0 = performance.now();
  // Its own process group: tsx runs the CLI in a child process, and the whole group is stopped.
  const child = spawn(cmd!, [...args, 'worker'], {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    // bin/etl's heap bound, given to the tsx way as the old bin/etl did.
    env: {
      ...process.env,
      ...workerEnv,
      TEMPORAL_TASK_QUEUE: taskQueue,
      NODE_OPTIONS: `--max-old-space-size=320 ${process.env.NODE_OPTIONS ?? ''}`.trim(),
    },
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${way} etl worker exited (${child.exitCode}) before it polled: ${stderr}`);
      if (performance.now() - t0 > 120_000) throw new Error(`${way} etl worker did not poll within 120 s: ${stderr}`);
      if (await hasWorker(client, { ...config, TEMPORAL_TASK_QUEUE: taskQueue })) return performance.now() - t0;
      await sleep(25);
    }
  } finally {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
    await gone;
    await client.connection.close();
  }
}

export async function startupRun(base: Config, runs: number, helpRuns: number, say: (line: string) => void): Promise<StartupFigures> {
  // bin/etl builds first when dist/ is stale: that build is not a start-up time.
  const build = spawnSync(BIN_ETL, ['--help'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('bin/etl --help failed');
  const help = { tsx: [] as number[], built: [] as number[] };
  for (let i = 0; i < helpRuns; i++) for (const way of ['tsx', 'built'] as const) help[way].push(helpMs(way));
  say(
    `  etl --help: tsx ${Math.round(spread(help.tsx).median)} ms, built ${Math.round(spread(help.built).median)} ms (median of ${helpRuns})`,
  );

  const env = await benchEnv(base, 'startup');
  const worker = { tsx: [] as number[], built: [] as number[] };
  try {
    for (let i = 0; i < runs; i++) {
      for (const way of ['tsx', 'built'] as const) worker[way].push(await workerMs(way, env.config, env.workerEnv, i));
    }
  } finally {
    await env.cleanup();
  }
  say(
    `  etl worker until it polls: tsx ${Math.round(spread(worker.tsx).median)} ms, built ${Math.round(spread(worker.built).median)} ms (median of ${runs})`,
  );
  return {
    node: process.version,
    help_runs: helpRuns,
    worker_runs: runs,
    help_tsx_ms: spread(help.tsx),
    help_built_ms: spread(help.built),
    worker_tsx_ms: spread(worker.tsx),
    worker_built_ms: spread(worker.built),
  };
}

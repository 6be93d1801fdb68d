// The worker under test runs as its own process (`bin/etl worker`, as in production) so that its
// peak RSS is its own, not the benchmark driver's. VmHWM is the kernel's high-water mark of RSS.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ChaosWorker } from '../chaos/worker-proc';
import type { BenchEnv } from './env';

export interface BenchWorker {
  stop(): Promise<void>;
  peakRssMb(): number;
  logFile: string;
}

/** Peak RSS in MB of a live process, from /proc (Linux). */
export function peakRssMb(pid: number): number {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** `cpuProfDir`: the worker writes a V8 CPU profile there when it exits (see cpu-prof-hook.mjs). */
export async function startWorker(env: BenchEnv, say: (line: string) => void, cpuProfDir?: string): Promise<BenchWorker> {
  const dir = path.join(env.config.ETL_STATE_DIR, 'bench');
  mkdirSync(dir, { recursive: true });
  const logFile = path.join(dir, `${env.id}.log`);
  // The hook writes into the folder at exit and cannot report a failure then: make sure it exists.
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  const profiling: Record<string, string> = cpuProfDir
    ? { NODE_OPTIONS: `--import ${path.join(__dirname, 'cpu-prof-hook.mjs')}`, BENCH_CPU_PROF_DIR: path.resolve(cpuProfDir) }
    : {};
  const worker = new ChaosWorker({ ...env.workerEnv, ...profiling }, logFile, say);
  await worker.start();
  // The identity is `<pid>@<host>` of the node process that runs the worker (bin/etl execs it).
  const pid = Number(worker.identity!.split('@')[0]);
  let peak = 0;
  return {
    logFile,
    peakRssMb: () => {
      try {
        peak = Math.max(peak, peakRssMb(pid));
      } catch {
        // the process is gone: the last reading stands
      }
      return peak;
    },
    stop: () => worker.stop(),
  };
}

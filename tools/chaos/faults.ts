// The faults of a chaos run, one after another, spread over the pipeline's work: fault i of n is
// released once the work done (records archived + transformed + loaded) reaches a seeded point in
// the i-th of n equal slices of the first 60% of the work of the records produced up front. The
// last records of the run are held back until every fault is done (run.ts), so the pipeline cannot
// drain before its last fault, and a fault that waits for a stage while the pipeline has done all
// it was given releases the next slice of them: new work to hit, on a fast machine or a slow one.
// A kill SIGKILLs the worker while one of archive, transform and load runs on it (first those no
// kill has hit yet, so each stage gets one), at a seeded point inside that activity's typical
// duration; a restart stops and starts one server while the pipeline is busy (Kafka during an
// archive if it can, never while records are being written) and is timed until the pipeline
// moves again.
import type { Config } from '../../lib/config';
import { Rng } from '../../lib/random';
import { restartService, stackUp, type ServiceName } from '../../client/stack';
import { describe } from '../../client/stack/health';
import type { ActivitySeen, PipelineDriver } from './driver';
import { ACTIVITY_TARGETS, type ChaosOptions } from './options';
import type { ProgressProbe } from './progress';
import type { ChaosWorker } from './worker-proc';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const AIM_MS = 60_000;
const ANY_MS = 60_000;
/** Faults are spread over the first 60% of the up-front records' work, so most of them hit work under way. */
const SPREAD = 0.6;

export type Fault = { kind: 'kill' } | { kind: 'restart'; service: ServiceName };

export interface KilledActivity {
  runId: string;
  activityId: string;
  type: string;
  attempt: number;
}

export interface KillRecord {
  /** Seconds since the run began. */
  at: number;
  /** The stages not killed yet when the kill was armed (else all three); it waits for one to run. */
  aimedAt: string[];
  /** Activities running on the worker when it was killed. */
  killed: KilledActivity[];
  /** None of the aimed-at stages ran within a minute, so another activity was killed. */
  fallback: boolean;
  /** Set after the run: the history shows a killed activity was retried. */
  confirmed?: boolean;
}

export interface RestartRecord {
  service: ServiceName;
  at: number;
  /** What ran on the worker when the server went down. */
  during: string[];
  stopS: number;
  startS: number;
  /** From the server back up to the pipeline's next step; null if it never moved again. */
  recoveredAfterS: number | null;
  error?: string;
}

/** Restarts spread evenly between the kills, in the order given. */
export function planFaults(kills: number, restarts: readonly ServiceName[]): Fault[] {
  const plan: Fault[] = Array.from({ length: kills }, () => ({ kind: 'kill' }));
  restarts.forEach((service, j) => {
    plan.splice(Math.round(((j + 1) * kills) / (restarts.length + 1)) + j, 0, { kind: 'restart', service });
  });
  return plan;
}

export interface InjectorDeps {
  stackConfig: Config;
  worker: ChaosWorker;
  driver: PipelineDriver;
  progress: ProgressProbe;
  options: ChaosOptions;
  /** Records written before the faults end: the faults are spread over their work. */
  upFront: number;
  /** True while nothing is being written to the topic (a Kafka restart waits for it). */
  producerIdle: () => boolean;
  /** Writes the next slice of the held-back records if the pipeline has done all it was given. */
  feed: () => Promise<void>;
  began: number;
}

export class FaultInjector {
  readonly kills: KillRecord[] = [];
  readonly restarts: RestartRecord[] = [];
  private readonly rng: Rng;
  private stopped = false;

  constructor(private readonly d: InjectorDeps) {
    this.rng = new Rng(d.options.seed, 0xfa17);
  }

  /** No new faults after this; the one under way finishes (a restarted server always comes back). */
  stop(): void {
    this.stopped = true;
  }

  /** What of the plan did not happen: each is a problem, since the run then proves less. */
  shortfalls(kills: number, restarts: readonly ServiceName[]): string[] {
    const out: string[] = [];
    if (this.kills.length < kills) out.push(`only ${this.kills.length} of ${kills} kills happened (nothing ran on the worker to hit)`);
    const hit = new Set(this.kills.flatMap((k) => k.killed.map((a) => a.type)));
    for (const t of ACTIVITY_TARGETS.slice(0, kills)) if (!hit.has(t)) out.push(`no kill landed while ${t} ran`);
    const done = new Set(this.restarts.map((r) => r.service));
    for (const s of restarts) if (!done.has(s)) out.push(`${s} was not restarted (the run ended first)`);
    for (const r of this.restarts) if (r.error) out.push(`restarting ${r.service} failed: ${r.error}`);
    return out;
  }

  async run(plan: readonly Fault[]): Promise<void> {
    // Drawn up front from their own generator: the schedule depends on the seed alone, not on how
    // many jitter draws the timing of earlier kills happened to need.
    const schedule = new Rng(this.d.options.seed, 0x5c4ed);
    const shares = plan.map((_, i) => (SPREAD * (i + schedule.next())) / plan.length);
    const totalSteps = 3 * this.d.upFront;
    for (const [i, fault] of plan.entries()) {
      await this.waitFor(() => this.d.progress.recordSteps >= shares[i]! * totalSteps, Infinity);
      if (this.stopped) return;
      if (fault.kind === 'kill') await this.kill();
      else await this.restart(fault.service);
    }
  }

  private since = () => Math.round((Date.now() - this.d.began) / 100) / 10;
  private running = (types?: readonly string[]): ActivitySeen[] =>
    this.d.driver.runningOn(this.d.worker.identity).filter((a) => !types || types.includes(a.type));

  /** Waits until `ready()`; with `feed`, gives the pipeline held-back records whenever it runs out of work meanwhile. */
  private async waitFor(ready: () => boolean, timeoutMs: number, feed = false): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (this.stopped || Date.now() > deadline) return false;
      if (feed) await this.d.feed();
      await sleep(Math.max(20, this.d.options.pollMs / 4));
    }
    return true;
  }

  /** Stages no kill has hit yet, else all of them: every stage gets one, then kills follow the work. */
  private aim(): string[] {
    const hit = new Set(this.kills.flatMap((k) => k.killed.map((a) => a.type)));
    const missing = ACTIVITY_TARGETS.filter((t) => !hit.has(t));
    return missing.length ? missing : [...ACTIVITY_TARGETS];
  }

  private async kill(): Promise<void> {
    const aim = this.aim();
    // Widening: the aimed-at stages, then any stage, then any activity (refresh, quality).
    const phases: { types?: readonly string[]; ms: number }[] = [
      { types: aim, ms: AIM_MS },
      { types: ACTIVITY_TARGETS, ms: ANY_MS },
      { ms: ANY_MS },
    ];
    let phase = 0;
    let deadline = Date.now() + phases[0]!.ms;
    for (;;) {
      const want = phases[phase]!.types;
      if (!(await this.waitFor(() => this.running(want).length > 0, deadline - Date.now(), true))) {
        if (this.stopped || ++phase >= phases.length) return;
        deadline = Date.now() + phases[phase]!.ms;
        continue;
      }
      // A seeded point inside the activity's typical run, not always its first instant.
      const typical = this.d.driver.typicalMs.get(this.running(want)[0]?.type ?? '') ?? 300;
      await sleep(this.rng.next() * 0.5 * typical);
      await this.d.driver.refresh();
      const hit = this.running();
      if (hit.length === 0 || (want && !hit.some((a) => want.includes(a.type)))) continue; // it finished meanwhile
      const pid = this.d.worker.pid;
      await this.d.worker.kill();
      this.kills.push({
        at: this.since(),
        aimedAt: aim,
        killed: hit.map(({ runId, activityId, type, attempt }) => ({ runId, activityId, type, attempt })),
        fallback: phase > 0,
      });
      this.d.options.log(`kill #${this.kills.length}: SIGKILL worker (pid ${pid}) during ${hit.map((a) => a.type).join(' + ')}`);
      await this.d.worker.startRetrying();
      return;
    }
  }

  private async restart(service: ServiceName): Promise<void> {
    // Kafka waits for the producer: a broker restart under it could make a send ambiguous. The
    // records written to feed the wait below are sent before it returns.
    if (service === 'kafka' && !(await this.waitFor(this.d.producerIdle, Infinity))) return;
    const preferred = service === 'kafka' ? ['archive'] : undefined;
    if (!(await this.waitFor(() => this.running(preferred).length > 0, preferred ? AIM_MS : ANY_MS, true)) && preferred) {
      await this.waitFor(() => this.running().length > 0, ANY_MS, true);
    }
    if (this.stopped) return;
    const during = this.running().map((a) => a.type);
    const record: RestartRecord = { service, at: this.since(), during, stopS: 0, startS: 0, recoveredAfterS: null };
    this.d.options.log(`restart ${service} during ${during.join(' + ') || 'nothing'}`);
    try {
      const { stopMs, startMs } = await restartService(this.d.stackConfig, service);
      record.stopS = stopMs / 1000;
      record.startS = startMs / 1000;
    } catch (err) {
      record.error = describe(err);
      // Never leave a shared server down: try once more the way `etl stack up` would.
      await stackUp(this.d.stackConfig, { only: [service] }).catch((e: unknown) => (record.error += `; stack up: ${describe(e)}`));
    }
    this.restarts.push(record);
    const backAt = Date.now();
    const moved = await this.d.progress.nextChangeAfter(backAt, 300_000, () => this.stopped);
    if (moved !== undefined) record.recoveredAfterS = Math.round((moved - backAt) / 100) / 10;
    this.d.options.log(
      `${service} back after ${(record.stopS + record.startS).toFixed(1)} s; pipeline moved again after ${record.recoveredAfterS ?? '—'} s`,
    );
  }
}

// Runs the pipeline continuously: one pipelineWorkflow run after another on the chaos task queue,
// until the manifest is drained and nothing new arrives. While a run is open it reads the run's
// pending activities (describe) so faults can aim at archive, transform or load as they happen.
// Every Temporal call tolerates the server being restarted under it.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Config } from '../../lib/config';
import type { PipelineResult } from '../../workflows';
import { settle } from '../../client/commands/run-outcome';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

export interface ActivitySeen {
  runId: string;
  activityId: string;
  type: string;
  started: boolean;
  identity: string;
  attempt: number;
}

export interface RunRecord {
  workflowId: string;
  firstRunId: string;
  status: string;
  startedAt: number;
  endedAt?: number;
  result?: PipelineResult;
  failure?: string;
}

export interface DriverOptions {
  stream: string;
  workflowIdPrefix: string;
  pollMs: number;
  /** True once production is over and the manifest covers the whole topic, all loaded. */
  isDrained: () => Promise<boolean>;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export class PipelineDriver {
  /** Pending activities of the open run, as of the last successful describe. */
  activities: ActivitySeen[] = [];
  /** Activities seen started and then gone while their run went on: they completed. */
  completions = 0;
  readonly runs: RunRecord[] = [];
  /** Typical time an activity type runs, learnt while watching: kills aim inside that window. */
  readonly typicalMs = new Map<string, number>();
  private readonly startedAt = new Map<string, { type: string; at: number }>();
  private current?: WorkflowHandle;

  constructor(
    private readonly client: Client,
    private readonly config: Config,
    private readonly opts: DriverOptions,
  ) {}

  /** Activities started by the worker with this identity, as last seen. */
  runningOn(identity: string | undefined, type?: string): ActivitySeen[] {
    if (!identity) return [];
    return this.activities.filter((a) => a.started && a.identity === identity && (!type || a.type === type));
  }

  async runUntilDrained(deadline: number): Promise<{ drained: boolean; reason?: string }> {
    for (let n = 1; ; n++) {
      if (this.opts.signal?.aborted) return { drained: false, reason: 'aborted' };
      const workflowId = `${this.opts.workflowIdPrefix}-${n}`;
      const handle = await this.retry(
        () =>
          this.client.workflow.start('pipelineWorkflow', {
            taskQueue: this.config.TEMPORAL_TASK_QUEUE,
            workflowId,
            args: [{ stream: this.opts.stream, objectConcurrency: this.config.PIPELINE_OBJECT_CONCURRENCY }],
            // A start retried after a lost answer must not fail on the run it did create.
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        deadline,
      );
      const run: RunRecord = { workflowId, firstRunId: handle.firstExecutionRunId, status: 'RUNNING', startedAt: Date.now() };
      this.runs.push(run);
      this.opts.log(`pipeline run ${workflowId} started`);
      run.status = await this.watch(handle, deadline);
      run.endedAt = Date.now();
      this.current = undefined;
      this.activities = [];
      if (run.status !== 'COMPLETED') {
        const failed = await this.failureOf(handle, run.status);
        run.failure = failed.message;
        // A run that parked objects loaded everything else: the harness goes on, and the
        // reconciliation reports the parked objects (no_object_parked) and what they hold.
        if (failed.code !== 'OBJECT_PARKED' || !failed.result)
          return { drained: false, reason: `pipeline run ${workflowId} ended ${run.status}: ${run.failure}` };
        this.opts.log(`pipeline run ${workflowId} parked objects: ${run.failure}`);
        run.result = failed.result;
      } else {
        run.result = await this.retry(
          () => this.client.withDeadline(Date.now() + 10_000, () => handle.result() as Promise<PipelineResult>),
          deadline,
        );
      }
      const r = run.result;
      this.opts.log(
        `pipeline run ${workflowId} done: ${r.recordsArchived} archived, ${r.rowsInserted} inserted, ${r.duplicates} duplicates, ${r.quarantined} quarantined`,
      );
      if (await this.retry(() => this.opts.isDrained(), deadline)) return { drained: true };
      // Caught up with a producer still writing: give it a moment instead of spinning.
      if (r.recordsArchived === 0 && r.objectsLoaded === 0) await sleep(1_000);
    }
  }

  /** Reads the open run's pending activities now, rather than waiting for the next poll. */
  async refresh(): Promise<void> {
    const handle = this.current;
    if (!handle) return;
    try {
      const d = await this.client.withDeadline(Date.now() + 2_000, () => handle.describe());
      if (d.status.name === 'RUNNING') this.observe(d.runId, d.raw.pendingActivities ?? []);
    } catch {
      // keep the last observation
    }
  }

  /** Polls the run until it closes; 'TIMEOUT' (after terminating it) when the deadline passes first. */
  private async watch(handle: WorkflowHandle, deadline: number): Promise<string> {
    this.current = handle;
    for (;;) {
      try {
        const d = await this.client.withDeadline(Date.now() + 5_000, () => handle.describe());
        this.observe(d.runId, d.raw.pendingActivities ?? []);
        if (d.status.name !== 'RUNNING') return d.status.name;
      } catch {
        // Temporal restarting: keep the last observation and ask again.
      }
      if (Date.now() > deadline || this.opts.signal?.aborted) {
        await handle.terminate('chaos run stopped: deadline passed or aborted').catch(() => undefined);
        return this.opts.signal?.aborted ? 'ABORTED' : 'TIMEOUT';
      }
      await sleep(this.opts.pollMs);
    }
  }

  private observe(runId: string, pending: temporal.api.workflow.v1.IPendingActivityInfo[]): void {
    const now = Date.now();
    this.activities = pending.map((p) => ({
      runId,
      activityId: p.activityId ?? '',
      type: p.activityType?.name ?? '?',
      started: p.state === STARTED,
      identity: p.lastWorkerIdentity ?? '',
      attempt: p.attempt ?? 1,
    }));
    const pendingIds = new Set(this.activities.map((a) => `${a.runId}/${a.activityId}`));
    const live = new Set<string>();
    for (const a of this.activities) {
      const key = `${a.runId}/${a.activityId}/${a.attempt}`;
      live.add(key);
      if (a.started && !this.startedAt.has(key)) this.startedAt.set(key, { type: a.type, at: now });
    }
    for (const [key, { type, at }] of this.startedAt) {
      if (live.has(key)) continue;
      this.startedAt.delete(key);
      // Gone from the list while its run goes on: it completed. Still listed under another attempt
      // number: that attempt failed (a killed one shows as started until its heartbeat times out).
      if (!key.startsWith(`${runId}/`) || pendingIds.has(key.slice(0, key.lastIndexOf('/')))) continue;
      this.completions++;
      const ms = now - at;
      const prev = this.typicalMs.get(type);
      this.typicalMs.set(type, prev === undefined ? ms : 0.7 * prev + 0.3 * ms);
    }
  }

  private async failureOf(handle: WorkflowHandle, status: string): Promise<{ message: string; code?: string; result?: PipelineResult }> {
    try {
      const outcome = await this.client.withDeadline(Date.now() + 10_000, () => settle(handle.result() as Promise<PipelineResult>));
      if (outcome.ok) return { message: status };
      return { message: outcome.failure.message, code: outcome.failure.code, result: outcome.failure.result as PipelineResult | undefined };
    } catch (err) {
      return { message: (err as Error).message };
    }
  }

  /** Retries a call through a Temporal (or Kafka, or Postgres) restart, until the deadline. */
  private async retry<T>(fn: () => Promise<T>, deadline: number): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(Math.min(5_000, 250 * attempt));
      }
    }
  }
}

// `etl schedule …`: Temporal Schedules (not cron jobs of our own) that start pipeline runs, with the
// knobs an Airflow user expects: overlap (max_active_runs), catch-up, pause on failure, jitter,
// start/end, backfill. What `etl` creates is an ordinary schedule: `temporal schedule list` and the
// Web UI show and manage it too.
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleSpec,
  type ScheduleSummary,
} from '@temporalio/client';
import type { Config } from '../../lib/config';
import { deploymentMemo, deploymentScope, ownsSchedule, scopedId, unscopedId } from '../../lib/deployment';
import { EtlError } from '../../lib/errors';
import { SCHEDULABLE } from './schedulable';

export const OVERLAP_POLICIES = ['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all'] as const;
export type OverlapName = (typeof OVERLAP_POLICIES)[number];
const OVERLAP: Record<OverlapName, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

export interface ScheduleArgs {
  id?: string;
  /** A key of SCHEDULABLE: what the schedule starts. */
  what: string;
  stream: string;
  /** `poll`: the market source and its symbols. */
  source?: string;
  symbols?: string[];
  /** `files`: the landing location and format. */
  location?: string;
  format?: string;
  everyMs?: number;
  cron?: string;
  overlap: OverlapName;
  catchupWindowMs?: number;
  pauseOnFailure?: boolean;
  jitterMs?: number;
  start?: number;
  end?: number;
  paused?: boolean;
  note?: string;
}

/** The id `etl schedule create <what>` gives a schedule without --id: `pipeline-transactions`, scoped to a non-default deployment. */
export const scheduleIdFor = (config: Config, what: string, stream: string, defaultId?: string) =>
  scopedId(config, defaultId ?? `${what}-${stream}`);

function specOf(a: ScheduleArgs): ScheduleSpec {
  if ((a.everyMs === undefined) === (a.cron === undefined))
    throw new EtlError('USAGE', 'give exactly one of --every <duration> or --cron "<expression>"');
  return {
    ...(a.everyMs !== undefined ? { intervals: [{ every: a.everyMs }] } : { cronExpressions: [a.cron!] }),
    ...(a.jitterMs ? { jitter: a.jitterMs } : {}),
    ...(a.start !== undefined ? { startAt: new Date(a.start) } : {}),
    ...(a.end !== undefined ? { endAt: new Date(a.end) } : {}),
  };
}

function notFound(id: string, err: unknown): EtlError {
  return new EtlError('SCHEDULE_NOT_FOUND', `no schedule "${id}"; \`etl schedule list\` shows the existing ones`, { cause: err });
}

async function onSchedule<T>(id: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw notFound(id, err);
    throw err;
  }
}

export async function createSchedule(client: Client, config: Config, a: ScheduleArgs): Promise<string> {
  const target = SCHEDULABLE[a.what];
  if (!target) throw new EtlError('USAGE', `cannot schedule "${a.what}"; choose one of ${Object.keys(SCHEDULABLE).join(', ')}`);
  const stream = target.stream ?? a.stream;
  const t = { stream, source: a.source, symbols: a.symbols, location: a.location, format: a.format };
  // An --id is taken as given; the default one is this deployment's own (lib/deployment.ts).
  const scheduleId = a.id ?? scheduleIdFor(config, a.what, stream, target.defaultId?.(t));
  const everyMs = a.everyMs ?? (a.cron === undefined ? target.defaultEveryMs?.(config, t) : undefined);
  const options: ScheduleOptions = {
    scheduleId,
    spec: specOf({ ...a, everyMs }),
    // Temporal appends the scheduled time: pipeline-transactions-2026-11-22T13:05:00Z.
    action: {
      type: 'startWorkflow',
      workflowType: target.workflowType,
      workflowId: scheduleId,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [target.input(config, t)],
    },
    policies: {
      overlap: OVERLAP[a.overlap],
      ...(a.catchupWindowMs !== undefined ? { catchupWindow: a.catchupWindowMs } : {}),
      pauseOnFailure: a.pauseOnFailure ?? false,
    },
    state: { paused: a.paused ?? false, ...(a.note ? { note: a.note } : {}) },
    memo: { ...deploymentMemo(config, stream) },
  };
  try {
    await client.schedule.create(options);
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) {
      throw new EtlError(
        'SCHEDULE_EXISTS',
        `schedule "${scheduleId}" already exists; change it with \`etl schedule update ${scheduleId}\` or remove it with \`etl schedule delete ${scheduleId}\``,
        { cause: err },
      );
    }
    throw err;
  }
  return scheduleId;
}

export async function updateSchedule(client: Client, config: Config, given: string, a: Partial<ScheduleArgs>): Promise<string> {
  const id = await resolveScheduleId(client, config, given);
  await onSchedule(id, () =>
    client.schedule.getHandle(id).update((prev) => ({
      ...prev,
      spec: a.everyMs !== undefined || a.cron !== undefined ? specOf({ ...(a as ScheduleArgs) }) : prev.spec,
      policies: {
        ...prev.policies,
        ...(a.overlap ? { overlap: OVERLAP[a.overlap] } : {}),
        ...(a.catchupWindowMs !== undefined ? { catchupWindow: a.catchupWindowMs } : {}),
        ...(a.pauseOnFailure !== undefined ? { pauseOnFailure: a.pauseOnFailure } : {}),
      },
    })),
  );
  return id;
}

export interface ScheduleRow {
  id: string;
  /** The stream it works on, from the memo `etl` gives its schedules (or read from an older id). */
  stream: string | null;
  spec: string;
  nextRuns: string[];
  lastRun?: { workflowId: string; at: string; status: string };
  paused: boolean;
  note?: string;
}

function describeSpec(spec: ScheduleSummary['spec'] | ScheduleDescription['spec'] | undefined): string {
  if (!spec) return '-';
  const parts: string[] = [];
  for (const i of spec.intervals ?? []) parts.push(`every ${Number(i.every) / 1000}s`);
  for (const c of spec.calendars ?? []) parts.push(`calendar ${JSON.stringify(c)}`);
  return parts.join(', ') || '-';
}

async function lastRunOf(client: Client, actions: ScheduleDescription['info']['recentActions']): Promise<ScheduleRow['lastRun']> {
  const last = actions.at(-1);
  if (!last || last.action.type !== 'startWorkflow') return undefined;
  const { workflowId } = last.action.workflow;
  const status = await client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      (d) => d.status.name,
      () => 'UNKNOWN',
    );
  return { workflowId, at: last.takenAt.toISOString(), status };
}

/** This deployment's schedules (its memo, or a scoped id), or with `all` every schedule of the namespace. */
export async function listSchedules(client: Client, config: Config, o: { all?: boolean } = {}): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for await (const s of client.schedule.list()) {
    if (!o.all && !ownsSchedule(config, s.scheduleId, s.memo)) continue;
    rows.push({
      id: s.scheduleId,
      stream: typeof s.memo?.etlStream === 'string' ? s.memo.etlStream : null,
      spec: describeSpec(s.spec),
      nextRuns: s.info.nextActionTimes.slice(0, 2).map((d) => d.toISOString()),
      lastRun: await lastRunOf(client, s.info.recentActions),
      paused: s.state.paused,
      note: s.state.note,
    });
  }
  return rows.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * The schedule an id given on the command line means. In a non-default deployment the name `etl`
 * printed for the default one (`pipeline-transactions`) means this deployment's own
 * (`pipeline-transactions@staging`) when that exists; any other id is taken as given.
 */
export async function resolveScheduleId(client: Client, config: Config, id: string): Promise<string> {
  if (!deploymentScope(config) || unscopedId(config, id) !== undefined || id.includes('@')) return id;
  const own = scopedId(config, id);
  const exists = await client.schedule
    .getHandle(own)
    .describe()
    .then(
      () => true,
      (err: unknown) => {
        if (err instanceof ScheduleNotFoundError) return false;
        throw err;
      },
    );
  return exists ? own : id;
}

export async function describeSchedule(client: Client, config: Config, given: string): Promise<ScheduleDescription> {
  const id = await resolveScheduleId(client, config, given);
  return onSchedule(id, () => client.schedule.getHandle(id).describe());
}

export async function pauseSchedule(client: Client, config: Config, given: string, pause: boolean, note?: string): Promise<string> {
  const id = await resolveScheduleId(client, config, given);
  const handle = client.schedule.getHandle(id);
  await onSchedule(id, () => (pause ? handle.pause(note ?? 'paused with etl') : handle.unpause(note ?? 'unpaused with etl')));
  return id;
}

export async function triggerSchedule(client: Client, config: Config, given: string): Promise<string> {
  const id = await resolveScheduleId(client, config, given);
  await onSchedule(id, () => client.schedule.getHandle(id).trigger());
  return id;
}

/** Starts the runs the schedule would have started in [from, to], one after another; returns the schedule's id. */
export async function backfillSchedule(client: Client, config: Config, given: string, fromMs: number, toMs: number): Promise<string> {
  if (toMs <= fromMs) throw new EtlError('USAGE', '--to must be after --from');
  const id = await resolveScheduleId(client, config, given);
  await onSchedule(id, () =>
    client.schedule.getHandle(id).backfill({ start: new Date(fromMs), end: new Date(toMs), overlap: ScheduleOverlapPolicy.BUFFER_ALL }),
  );
  return id;
}

export async function deleteSchedule(client: Client, config: Config, given: string): Promise<string> {
  const id = await resolveScheduleId(client, config, given);
  await onSchedule(id, () => client.schedule.getHandle(id).delete());
  return id;
}

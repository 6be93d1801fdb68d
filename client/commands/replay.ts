// `etl replay`: start (or follow) the replay workflow of an event-time window, show its progress,
// print what it changed. The work itself happens in the workflow, so it is visible in the Web UI
// and survives this command being interrupted.
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { Option, type Command } from 'commander';
import { temporalUiUrl, type Config } from '../../lib/config';
import { scopedId } from '../../lib/deployment';
import { EtlError } from '../../lib/errors';
import { streamNames } from '../../streams';
import type { ReplayProgress, ReplayResult } from '../../workflows';
import { isoTime, TIME_FLAG_FORMAT } from '../args';
import { withClient } from '../connect';
import { fmt, waitWithProgress, type Say } from '../output';
import { hasWorker } from './pipeline';
import { failureError, failureLine, settle } from './run-outcome';

export interface ReplayOptions {
  stream: string;
  from: number;
  to: number;
  wait: boolean;
  json?: boolean;
}

const isoSeconds = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/** Readable and stable: a second `etl replay` of the same window (in the same deployment) while one runs follows that one. */
export const replayWorkflowId = (config: Config, stream: string, fromMs: number, toMs: number) =>
  scopedId(config, `replay-${stream}-${isoSeconds(fromMs)}-${isoSeconds(toMs)}`);

export async function startReplay(
  client: Client,
  config: Config,
  o: Omit<ReplayOptions, 'wait'>,
): Promise<{ handle: WorkflowHandle; started: boolean }> {
  if (!(o.from < o.to))
    throw new EtlError('USAGE', `--from (${new Date(o.from).toISOString()}) must be before --to (${new Date(o.to).toISOString()})`);
  const workflowId = replayWorkflowId(config, o.stream, o.from, o.to);
  try {
    const handle = await client.workflow.start('replayWorkflow', {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [{ stream: o.stream, fromMs: o.from, toMs: o.to, objectConcurrency: config.PIPELINE_OBJECT_CONCURRENCY }],
      workflowIdConflictPolicy: 'FAIL',
    });
    return { handle, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { handle: client.workflow.getHandle(workflowId), started: false };
    throw err;
  }
}

/** Waits for the result, with a bar over the window's objects drawn from the `progress` query. */
export function waitForReplay(handle: WorkflowHandle): Promise<ReplayResult> {
  return waitWithProgress<ReplayProgress, ReplayResult>(handle, 'replay', (p) => ({ done: p.objectsDone, total: p.objectsTotal }));
}

export function describeReplay(r: ReplayResult): string[] {
  const lines = [
    `replayed ${fmt(r.objectsDone)} objects (${fmt(r.records)} records): ${fmt(r.inserted)} inserted (previously quarantined), ` +
      `${fmt(r.duplicates)} duplicates, ${fmt(r.updated)} rows updated, ${fmt(r.conflicts)} conflicting (stay quarantined), ${fmt(r.stillQuarantined)} still quarantined`,
  ];
  if (r.nowInvalid > 0) {
    lines.push(
      `${fmt(r.nowInvalid)} loaded records are rejected by the current rules (kept, not quarantined): ` +
        `${Object.entries(r.nowInvalidByCode)
          .map(([k, n]) => `${k} ${fmt(n)}`)
          .join(', ')}; e.g. partition@offset ${r.nowInvalidSample.join(', ')}`,
    );
  }
  const byState = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([state, n]) => `SQLSTATE ${state} ${fmt(n)}`)
      .join(', ');
  if (r.refused > 0)
    lines.push(
      `${fmt(r.refused)} previously quarantined records pass the current rules but PostgreSQL refused to store them (stay quarantined): ` +
        `${byState(r.refusedByState)}; e.g. ${r.refusedSample.join('; ')}`,
    );
  if (r.refusedUpdates > 0)
    lines.push(
      `${fmt(r.refusedUpdates)} loaded rows keep their old columns: PostgreSQL refused the newly derived ones: ` +
        `${byState(r.refusedUpdatesByState)}; e.g. ${r.refusedUpdatesSample.join('; ')}`,
    );
  if (r.rekeyed > 0)
    lines.push(`${fmt(r.rekeyed)} records now derive a key that is not loaded (the key rule changed?); they were not inserted`);
  if (r.objectsNotLoaded > 0)
    lines.push(
      `${fmt(r.objectsNotLoaded)} objects of the window are not loaded yet and were skipped: run \`etl run pipeline\`, then replay again`,
    );
  const failed = r.quality.checks.filter((c) => !c.passed);
  lines.push(
    `Quality checks: ${r.quality.checks.length - failed.length}/${r.quality.checks.length} passed` +
      (failed.length ? ` — failed: ${failed.map((c) => `${c.name} (observed ${c.observed}, expected ${c.expected})`).join('; ')}` : ''),
  );
  return lines;
}

/** The whole command; returns its exit code. With `json`, stdout gets one JSON document (and progress stays on stderr). */
export async function replayCommand(client: Client, config: Config, o: ReplayOptions, say: (line: string) => void): Promise<number> {
  const { handle, started } = await startReplay(client, config, o);
  const url = temporalUiUrl(config, handle.workflowId);
  const note = started ? `started ${handle.workflowId}: ${url}` : `${handle.workflowId} is already running; following it: ${url}`;
  if (o.json) process.stderr.write(note + '\n');
  else say(note);
  if (!(await hasWorker(client, config))) {
    process.stderr.write(
      `warning: no worker polls task queue "${config.TEMPORAL_TASK_QUEUE}"; the replay waits until one does — start it with \`etl worker\`\n`,
    );
  }
  const base = { workflowId: handle.workflowId, started, url };
  if (!o.wait) {
    if (o.json) say(JSON.stringify(base, null, 2));
    return 0;
  }
  // A replay that could not re-derive some objects fails after the others: its result rides on the failure.
  const outcome = await settle(waitForReplay(handle));
  const failure = outcome.ok ? undefined : outcome.failure;
  const result = outcome.ok ? outcome.result : (outcome.failure.result as ReplayResult | undefined);
  if (!result) throw failureError(failure!, url);
  if (o.json) say(JSON.stringify({ ...base, result, ...(failure ? { failure } : {}) }, null, 2));
  else for (const line of describeReplay(result)) say(line);
  if (failure) process.stderr.write(failureLine(failure, url) + '\n');
  return result.quality.passed && !failure ? 0 : 1;
}

export function registerReplayCommand(program: Command, say: Say, setExitCode: (code: number) => void): void {
  // Read when the tree is built, so a stream registered before (a plugin, a test) is offered too.
  const STREAM_NAMES = streamNames();
  program
    .command('replay')
    .description('re-run transform and load from the archived bronze objects of an event-time window, with the current rules')
    .addOption(new Option('--stream <name>', 'stream').choices(STREAM_NAMES).default('transactions'))
    .requiredOption('--from <time>', `window start, inclusive: an event time (${TIME_FLAG_FORMAT})`, isoTime)
    .requiredOption('--to <time>', `window end, exclusive: an event time (${TIME_FLAG_FORMAT})`, isoTime)
    .option('--no-wait', 'start it and return (follow it with `etl status <workflowId>` or the Web UI)')
    .option('--json', "machine-readable output: the run's id and link, and its result unless --no-wait")
    .addHelpText(
      'after',
      '\nEvery loaded object whose event times overlap the window is read again from bronze and validated\n' +
        "with the worker's current rules, in one idempotent transaction per object: records quarantined before\n" +
        'that now pass are loaded, loaded rows get the newly derived columns, nothing is deleted or loaded twice.\n' +
        'Unlike `etl schedule backfill` (which starts the runs a schedule missed; they drain Kafka), replay\n' +
        're-derives data that is already archived.\n\n' +
        'Examples:\n  $ etl replay --stream transactions --from 2026-11-22T00:00:00Z --to 2026-11-23T00:00:00Z\n' +
        '  $ etl replay --from 2026-11-22T00:00:00Z --to 2026-11-22T06:00:00Z --no-wait\n' +
        '  $ etl replay --from 2026-11-22T00:00:00Z --to 2026-11-23T00:00:00Z --json > replay.json',
    )
    .action(async (o: { stream: string; from: number; to: number; wait: boolean; json?: boolean }) =>
      withClient(async (client, config) => {
        if ((await replayCommand(client, config, o, say)) !== 0) setExitCode(1);
      }),
    );
}

// `etl objects list|show|retry`: the bronze objects of the manifest, and — after a fix — re-running
// one that was parked (its transform or load failed for good). The retry is a workflow of its own
// (workflows/retry-object.ts), so it is visible in the Web UI and loads the object exactly once.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { temporalUiUrl, type Config } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { isParkedSql } from '../../lib/parked';
import type { RetryObjectResult } from '../../workflows';
import { fmt, formatTable, waitWithProgress } from '../output';
import { hasWorker } from './pipeline';
import { failureLine, settle, type RunFailure } from './run-outcome';

/** An object is transformed and loaded in one transaction (activities/transform-load): no state lies between. */
export type ObjectState = 'pending' | 'archived' | 'loaded' | 'parked';

export interface ObjectRow {
  id: number;
  stream: string;
  state: ObjectState;
  kafka: string;
  records: number | null;
  objectKey: string | null;
  /** When it reached its state (UTC). */
  since: string;
  failureCode: string | null;
  failureMessage: string | null;
}

export interface ObjectDetail extends ObjectRow {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  silverKey: string | null;
  validCount: number | null;
  quarantinedCount: number | null;
  insertedCount: number | null;
  duplicateCount: number | null;
  loadId: number | null;
  failureStep: string | null;
  failureAttempts: number | null;
  failureWorkflowId: string | null;
  failureStack: string | null;
  parkCount: number;
  retriedAt: string | null;
  /** A file object (docs/files.md): the file and its version; null for a Kafka object. */
  sourceFile: string | null;
}

const UTC = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
const STATE = `CASE WHEN loaded_at IS NOT NULL THEN 'loaded' WHEN ${isParkedSql()} THEN 'parked'
  WHEN status = 'archived' THEN 'archived' ELSE 'pending' END`;
const SINCE = `coalesce(loaded_at, parked_at, archived_at, planned_at)`;
const ROW = `id::int, stream, ${STATE} AS state, topic || '[' || kafka_partition || ']@' || first_offset || '-' || last_offset AS kafka, record_count AS records,
  object_key AS "objectKey", ${UTC(SINCE)} AS since, failure_code AS "failureCode", failure_message AS "failureMessage"`;

export interface ObjectFilter {
  stream?: string;
  parked?: boolean;
  limit: number;
}

/** Objects of the manifest, newest first (with `parked`, only parked ones, oldest first). */
export async function listObjects(pool: pg.Pool, f: ObjectFilter): Promise<ObjectRow[]> {
  const { rows } = await pool.query<ObjectRow>(
    `SELECT ${ROW} FROM bronze_objects
     WHERE ($1::text IS NULL OR stream = $1) AND (NOT $2 OR ${isParkedSql()})
     ORDER BY CASE WHEN $2 THEN id ELSE -id END LIMIT $3`,
    [f.stream ?? null, f.parked ?? false, f.limit],
  );
  return rows;
}

export async function showObject(pool: pg.Pool, id: number): Promise<ObjectDetail | undefined> {
  const { rows } = await pool.query<ObjectDetail>(
    `SELECT ${ROW}, topic, kafka_partition AS partition, first_offset::text AS "firstOffset", last_offset::text AS "lastOffset", silver_key AS "silverKey",
            valid_count AS "validCount", quarantined_count AS "quarantinedCount", inserted_count AS "insertedCount", duplicate_count AS "duplicateCount",
            load_id::int AS "loadId", failure_step AS "failureStep", failure_attempts AS "failureAttempts", failure_workflow_id AS "failureWorkflowId",
            failure_stack AS "failureStack", park_count AS "parkCount", ${UTC('retried_at')} AS "retriedAt",
            (SELECT f.location || ' version ' || f.version FROM source_files f WHERE f.id = bronze_objects.source_file_id) AS "sourceFile"
     FROM bronze_objects WHERE id = $1`,
    [id],
  );
  return rows[0];
}

export function formatObjects(rows: ObjectRow[]): string {
  return formatTable(
    ['id', 'stream', 'state', 'kafka', 'records', 'since (UTC)', 'failure'],
    rows.map((r) => [
      r.id,
      r.stream,
      r.state,
      r.kafka,
      r.records === null ? '-' : fmt(r.records),
      r.since,
      r.failureCode && r.state === 'parked' ? `${r.failureCode}: ${(r.failureMessage ?? '').slice(0, 80)}` : '-',
    ]),
  );
}

export function formatObject(o: ObjectDetail): string {
  const lines = Object.entries(o)
    .filter(([k, v]) => k !== 'failureStack' && v !== null)
    .map(([k, v]) => `${k.padEnd(17)} ${String(v)}`);
  if (o.state === 'parked') lines.push('', `after the fix: etl objects retry ${o.id}`);
  if (o.failureStack) lines.push('', 'failure stack (last failure):', o.failureStack);
  return lines.join('\n');
}

export const retryWorkflowId = (stream: string, id: number, at = new Date()) =>
  `objects-retry-${stream}-${id}-${at.toISOString().slice(0, 19)}Z`;

export interface RetryReport {
  bronzeObjectId: number;
  stream: string;
  /** not-needed: it was loaded before; nothing was started. */
  outcome: RetryObjectResult['outcome'] | 'not-needed' | 'started' | 'failed';
  workflowId?: string;
  url?: string;
  result?: RetryObjectResult;
  failure?: RunFailure;
}

/** The whole command: checks the object, starts its retry workflow and (unless `wait` is false) waits for it. */
export async function retryObject(
  client: Client,
  config: Config,
  pool: pg.Pool,
  o: { id: number; wait: boolean },
  note: (line: string) => void,
): Promise<RetryReport> {
  const obj = await showObject(pool, o.id);
  if (!obj) throw new EtlError('USAGE', `no bronze object with id ${o.id}; \`etl objects list --parked\` lists the parked ones`);
  if (obj.state === 'loaded') return { bronzeObjectId: o.id, stream: obj.stream, outcome: 'not-needed' };
  if (obj.state === 'pending')
    throw new EtlError('USAGE', `bronze object ${o.id} is still being archived; the run archiving it loads it too`);
  if (obj.state !== 'parked') note(`bronze object ${o.id} is not parked (${obj.state}); loading it now anyway`);
  const workflowId = retryWorkflowId(obj.stream, o.id);
  const handle = await client.workflow.start('retryObjectWorkflow', {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId,
    args: [{ stream: obj.stream, bronzeObjectId: o.id }],
    workflowIdConflictPolicy: 'FAIL',
  });
  const url = temporalUiUrl(config, workflowId);
  note(`started ${workflowId}: ${url}`);
  if (!(await hasWorker(client, config))) {
    process.stderr.write(
      `warning: no worker polls task queue "${config.TEMPORAL_TASK_QUEUE}"; the retry waits until one does — start it with \`etl worker\`\n`,
    );
  }
  if (!o.wait) return { bronzeObjectId: o.id, stream: obj.stream, outcome: 'started', workflowId, url };
  const outcome = await settle(waitWithProgress<unknown, RetryObjectResult>(handle, 'retry', () => undefined));
  if (!outcome.ok) return { bronzeObjectId: o.id, stream: obj.stream, outcome: 'failed', workflowId, url, failure: outcome.failure };
  return { bronzeObjectId: o.id, stream: obj.stream, outcome: outcome.result.outcome, workflowId, url, result: outcome.result };
}

export function describeRetry(r: RetryReport): string[] {
  switch (r.outcome) {
    case 'not-needed':
      return [`bronze object ${r.bronzeObjectId} is loaded; nothing to retry`];
    case 'started':
      return [`follow it with \`etl status ${r.workflowId}\``];
    case 'failed':
      return [failureLine(r.failure!, r.url!)];
    case 'already-loaded':
      return [`bronze object ${r.bronzeObjectId} was loaded by another run meanwhile; nothing loaded twice`];
    case 'loaded': {
      const t = r.result!;
      const q = t.quality;
      const failed = q?.checks.filter((c) => !c.passed) ?? [];
      return [
        `loaded bronze object ${r.bronzeObjectId}: ${fmt(t.rowsInserted)} rows inserted, ${fmt(t.duplicates)} duplicates, ${fmt(t.quarantined)} quarantined`,
        ...(q
          ? [
              `quality checks: ${q.checks.length - failed.length}/${q.checks.length} passed${failed.length ? ` — failed: ${failed.map((c) => `${c.name} (observed ${c.observed}, expected ${c.expected})`).join('; ')}` : ''}`,
            ]
          : []),
      ];
    }
  }
}

// Parked bronze objects: their transform or load failed for good (an unclassified error after its
// bounded retries, or a permanent one), so the work queue skips them until `etl objects retry`.
// One definition of "parked" for parking and un-parking (activities/parking.ts), the work queue, the
// quality checks, `etl status`, `etl objects`, the dashboard and the chaos harness: every query
// that needs it uses isParkedSql. An object loaded anyway (another worker got there first) is not
// parked. How one is named in a message: shared/parked.ts (workflows name them too).
import type pg from 'pg';

/** SQL condition on a `bronze_objects` row (of the alias, if given): it is parked. */
export const isParkedSql = (alias?: string) =>
  alias ? `(${alias}.parked_at IS NOT NULL AND ${alias}.loaded_at IS NULL)` : '(parked_at IS NOT NULL AND loaded_at IS NULL)';

export interface ParkedObject {
  id: number;
  stream: string;
  objectKey: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  records: number;
  /** The failure's stable code (lib/errors.ts), e.g. UNKNOWN_ERROR. */
  code: string;
  message: string;
  /** 'transform' or 'load'. */
  step: string;
  attempts: number | null;
  workflowId: string | null;
  parkedAt: string;
  parkCount: number;
}

const COLUMNS = `id::int, stream, object_key, kafka_partition, first_offset::text, last_offset::text, record_count, failure_code, failure_message,
  failure_step, failure_attempts, failure_workflow_id, to_char(parked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS parked_at, park_count`;

interface Row {
  id: number;
  stream: string;
  object_key: string;
  kafka_partition: number;
  first_offset: string;
  last_offset: string;
  record_count: number;
  failure_code: string | null;
  failure_message: string | null;
  failure_step: string | null;
  failure_attempts: number | null;
  failure_workflow_id: string | null;
  parked_at: string;
  park_count: number;
}

const toParked = (r: Row): ParkedObject => ({
  id: r.id,
  stream: r.stream,
  objectKey: r.object_key,
  partition: r.kafka_partition,
  firstOffset: r.first_offset,
  lastOffset: r.last_offset,
  records: r.record_count,
  code: r.failure_code ?? 'UNKNOWN_ERROR',
  message: r.failure_message ?? '',
  step: r.failure_step ?? '-',
  attempts: r.failure_attempts,
  workflowId: r.failure_workflow_id,
  parkedAt: r.parked_at,
  parkCount: r.park_count,
});

/** Parked objects, oldest first; all streams (and topics) unless one is named. */
export async function listParked(
  db: Pick<pg.Pool, 'query'>,
  filter: { stream?: string; topic?: string; limit: number },
): Promise<ParkedObject[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM bronze_objects WHERE ${isParkedSql()} AND ($1::text IS NULL OR stream = $1) AND ($2::text IS NULL OR topic = $2)
     ORDER BY id LIMIT $3`,
    [filter.stream ?? null, filter.topic ?? null, filter.limit],
  );
  return rows.map(toParked);
}

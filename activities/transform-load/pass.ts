// The one pass over a bronze object: each line is read and each value parsed once, validated and
// enriched (streams/classify.ts), and becomes either
//  - a silver line, written to a local spool the staging path can COPY, plus its raw and flat rows as
//    CSV for the direct-COPY fast path (the lake is written from the committed flat rows afterwards,
//    activities/lake/, so it holds what the load kept: no duplicate, conflict or refused row), or
//  - a quarantine entry with its reason and original bytes.
// Along the way it tallies the fields records carry that the stream does not declare (drift,
// streams/drift.ts), recorded with the load.
// It touches neither PostgreSQL nor Temporal: it is a function of the bytes, the stream's rules and
// the task, so it can run on a thread of its own (pass-pool.ts). The load (transform-load.ts) reads
// the spools back inside its transaction. Re-running it writes the same lines.
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BronzeRecord } from '../../lib/lake';
import { readNdjsonObject } from '../../lib/ndjson';
import { getStream } from '../../streams';
import { classifyRecord, silverDoc } from '../../streams/classify';
import { DriftTally, type LoadDrift } from '../../streams/drift';
import { quarantinedValue, type QuarantineEntry } from '../quarantine';
import { copyRows } from './rows';
import { Spool } from './spool';

export interface PassTask {
  stream: string;
  bronzeObjectId: number;
  /** The load the rows are attributed to (their lineage), allocated before the pass. */
  loadId: number;
  bucket: string;
  objectKey: string;
  /** The manifest's archived_at: validation's only notion of "now" (a pure function of the bytes). */
  referenceTimeMs: number;
  /** MAX_VALUE_BYTES: a larger value is TOO_LARGE, and its quarantine row keeps its first bytes, size and hash. */
  maxValueBytes: number;
  /** An empty directory of this pass's own, removed by the caller. */
  spoolDir: string;
}

/** Local files of the pass, one line per record each. */
export interface PassFiles {
  /** Silver lines, for the staging path. */
  silver: string;
  /** CSV rows of the raw table, for the fast path. */
  raw: string;
  /** CSV rows of the flat table, for the fast path. */
  flat: string;
  /** QuarantineEntry as JSON, one per line. */
  quarantine: string;
}

export interface PassResult {
  records: number;
  valid: number;
  quarantined: number;
  files: PassFiles;
  /** The fields records carried that the stream does not declare, recorded with the load (load_drift). */
  drift: LoadDrift;
}

/** Records between two looks at the cancellation signal. */
const CHECK_EVERY = 1_000;

/** The silver line of a valid record, or why it cannot be written (a value JSON cannot hold, a cycle). */
function silverLine(doc: Record<string, unknown>): string | { error: string } {
  try {
    return JSON.stringify(doc);
  } catch (err) {
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

/** The pass; it stops with the signal's reason when `signal` aborts (the activity was cancelled). */
export async function passBronzeObject(s3: S3Client, task: PassTask, signal?: AbortSignal): Promise<PassResult> {
  const spec = getStream(task.stream);
  const target = { loadId: task.loadId, bronzeObjectId: task.bronzeObjectId };
  const files: PassFiles = {
    silver: path.join(task.spoolDir, 'silver.ndjson'),
    raw: path.join(task.spoolDir, 'raw.csv'),
    flat: path.join(task.spoolDir, 'flat.csv'),
    quarantine: path.join(task.spoolDir, 'quarantine.ndjson'),
  };
  const spools = {
    silver: new Spool(files.silver),
    raw: new Spool(files.raw),
    flat: new Spool(files.flat),
    quarantine: new Spool(files.quarantine),
  };
  let records = 0;
  const drift = new DriftTally();
  try {
    for await (const line of readNdjsonObject(s3, task.bucket, task.objectKey)) {
      const record = JSON.parse(line) as BronzeRecord;
      records++;
      const result = classifyRecord(spec, record, { referenceTimeMs: task.referenceTimeMs }, task.maxValueBytes);
      if (result.undeclared) drift.add(result.undeclared, record);
      const doc = result.ok ? silverDoc(result.row, record) : undefined;
      const silver = doc ? silverLine(doc) : undefined;
      if (typeof silver === 'string') {
        await spools.silver.add(`${silver}\n`);
        const rows = copyRows(doc!, spec, target);
        await spools.raw.add(rows.raw);
        await spools.flat.add(rows.flat);
      } else {
        const { code, reason } = result.ok
          ? { code: 'SERIALIZE_FAILED' as const, reason: `the silver line of this record could not be written: ${silver!.error}` }
          : result;
        const entry: QuarantineEntry = {
          partition: record.partition,
          offset: record.offset,
          bronzeObjectId: task.bronzeObjectId,
          code,
          reason,
          ...quarantinedValue(record, task.maxValueBytes),
        };
        await spools.quarantine.add(`${JSON.stringify(entry)}\n`);
      }
      if (records % CHECK_EVERY === 0) signal?.throwIfAborted();
    }
    for (const spool of Object.values(spools)) await spool.close();
  } catch (err) {
    for (const spool of Object.values(spools)) spool.destroy();
    throw err;
  }
  return { records, valid: spools.silver.lines, quarantined: spools.quarantine.lines, files, drift: drift.result() };
}

// The fast path of an object load: when none of the object's keys is loaded yet and none repeats
// inside it (the common case), its rows are COPied straight into the raw and flat tables, the way a
// bare COPY would write them, instead of staged as jsonb and merged with INSERT … ON CONFLICT. It
// costs a pass over the silver object in Node, overlapped with the COPY; the bench shows what it saves.
// Whenever the fast path cannot prove the rows are new, it steps aside and the caller takes the
// staging path, which handles duplicates and conflicts; both write the same rows. It steps aside
// too when PostgreSQL refuses a row (a value or a constraint): the caller then finds that row.
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { StreamSpec } from '../../streams/types';
import { SQLSTATE, sqlState } from '../../lib/errors';
import { isRefusedRow } from './load-isolation';
import { readNdjsonGzip } from '../../lib/ndjson';
import { ident } from '../../lib/sql';

export interface DirectLoadTarget {
  loadId: number;
  bronzeObjectId: number;
}

/** One CSV field with the meaning `(doc->>'col')::type` gives it: null is NULL, objects are JSON text. */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value); // no quoting needed: digits, sign, dot, exponent
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.includes('"') ? `"${text.replaceAll('"', '""')}"` : `"${text}"`;
}

type Doc = Record<string, unknown>;

function lineageFields(doc: Doc, target: DirectLoadTarget): string {
  return [target.loadId, doc.bronze_object_id ?? target.bronzeObjectId, doc.kafka_topic, doc.kafka_partition, doc.kafka_offset]
    .map(csvField)
    .join(',');
}

const LINEAGE = 'load_id, bronze_object_id, kafka_topic, kafka_partition, kafka_offset';

/** A local file written line by line with backpressure, then read back once by COPY. */
class Spool {
  private readonly out: WriteStream;
  private chunk = '';
  private failure: Error | undefined;
  constructor(readonly file: string) {
    this.out = createWriteStream(file);
    this.out.on('error', (err) => (this.failure = err));
  }
  async add(line: string): Promise<void> {
    this.chunk += line;
    if (this.chunk.length < 64 * 1024) return;
    if (this.failure ?? this.out.destroyed) throw this.failure ?? new Error(`spool ${this.file} was closed`);
    const full = this.out.write(this.chunk);
    this.chunk = '';
    // 'close' too: a spool destroyed while its writer waits must not leave the writer waiting.
    if (!full) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.out.off('drain', done);
          this.out.off('close', done);
          resolve();
        };
        this.out.on('drain', done);
        this.out.on('close', done);
      });
    }
  }
  async close(): Promise<void> {
    this.out.end(this.chunk);
    this.chunk = '';
    await once(this.out, 'close');
    if (this.failure) throw this.failure;
  }
  destroy(): void {
    this.out.destroy();
  }
}

/**
 * The raw rows of the silver object as CSV chunks, for COPY; the flat rows of the same pass go to
 * a local file (one connection runs one COPY at a time, and neither side is held in memory).
 */
async function* rawRowsSpoolingFlat(
  lines: AsyncIterable<string>,
  spec: StreamSpec,
  target: DirectLoadTarget,
  flat: Spool,
  counted: { rows: number },
): AsyncGenerator<string> {
  let chunk = '';
  for await (const line of lines) {
    const doc = JSON.parse(line) as Doc;
    const key = csvField(doc[spec.keyColumn]);
    const lineage = lineageFields(doc, target);
    chunk += `${key},${csvField(doc[spec.eventTimeColumn])},${csvField(doc.payload)},${lineage}\n`;
    await flat.add(`${key},${spec.flatColumns.map((c) => csvField(doc[c])).join(',')},${lineage}\n`);
    counted.rows++;
    if (chunk.length >= 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  await flat.close();
  if (chunk) yield chunk;
}

/**
 * What the fast path did: inserted every row, or stepped aside (rolled back to its savepoint) because
 * a key is taken (`key`: the staging path's job) or PostgreSQL refused a row (`row`).
 */
export type DirectLoadOutcome = { inserted: number } | { steppedAside: 'key' | 'row' };

/**
 * No look-up runs first: the key's unique index is the check. A key already loaded, repeated in the
 * object, or committed meanwhile by another load fails the COPY, which is rolled back to its savepoint.
 */
export async function tryDirectLoad(
  client: pg.PoolClient,
  spec: StreamSpec,
  s3: S3Client,
  bucket: string,
  silverKey: string,
  target: DirectLoadTarget,
): Promise<DirectLoadOutcome> {
  const flatSpool = new Spool(path.join(tmpdir(), `etl-direct-load-${process.pid}-${target.loadId}.flat.csv`));
  const raw = ident(spec.rawTable);
  const flat = ident(spec.flatTable);
  const key = ident(spec.keyColumn);
  const flatColumns = spec.flatColumns.map(ident).join(', ');
  const counted = { rows: 0 };
  await client.query('SAVEPOINT direct_load');
  try {
    const rows = Readable.from(rawRowsSpoolingFlat(readNdjsonGzip(s3, bucket, silverKey), spec, target, flatSpool, counted));
    await pipeline(rows, client.query(copyFrom(`COPY ${raw} (${key}, event_ts, payload, ${LINEAGE}) FROM STDIN WITH (FORMAT csv)`)));
    await pipeline(
      createReadStream(flatSpool.file),
      client.query(copyFrom(`COPY ${flat} (${key}, ${flatColumns}, ${LINEAGE}) FROM STDIN WITH (FORMAT csv)`)),
    );
    await client.query('RELEASE SAVEPOINT direct_load');
    return { inserted: counted.rows };
  } catch (err) {
    await client.query('ROLLBACK TO SAVEPOINT direct_load');
    // Duplicates and conflicting keys are the staging path's job. A unique violation is always
    // read as a key: were it another unique index, the staging path finds and sets the row aside.
    if (sqlState(err) === SQLSTATE.UNIQUE_VIOLATION) return { steppedAside: 'key' };
    if (isRefusedRow(err)) return { steppedAside: 'row' };
    throw err;
  } finally {
    flatSpool.destroy();
    await unlink(flatSpool.file).catch(() => undefined);
  }
}

// Reading one file version into bronze objects, exactly once. The exactly-once rule is the
// archive's (archive/open-range.ts), with line numbers for offsets: each object's line range is
// planned in the manifest ('pending') before its object is put, becomes 'archived' once S3 holds it,
// and the version is 'read' once every line is in an archived object. A retried or resumed read
// (a killed worker, a transient outage) skips the lines of archived objects, redoes a pending range
// exactly (same lines, same key), and goes on from there; the same bytes always split into the same
// objects, because a split depends on the records alone. Memory stays flat: the file streams
// through, one bounded object at a time.
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { stat } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { EtlError, isEtlError } from '../../lib/errors';
import { fileSourceRoots } from '../../lib/file-roots';
import { localPathOf, openFileBytes } from '../../lib/files';
import { fileBronzeKey, type BronzeRecord } from '../../lib/lake';
import { NdjsonObjectBuffer, putNdjsonObject } from '../../lib/ndjson';
import { withS3Errors } from '../../lib/s3';
import { getStream, topicFor } from '../../streams';
import { markArchived } from '../archive/bronze';
import type { ActivityDeps } from '../deps';
import type { SourceReadInput, SourceUnitRead } from '../source-types';
import { fileTopic, isGzip, type Compression } from './format';
import { progressBeat } from './heartbeat';
import { fileVersion, markVersionFailed, markVersionRead, objectsOfVersion, planFileRange, type FileVersion } from './manifest';
import { csvRecords, jsonlRecords, readLines, type FileRecord } from './records';

interface OpenObject {
  first: number;
  /** A range a crashed attempt planned: it ends at its planned last line. */
  plan?: { id: number; last: number };
  body: NdjsonObjectBuffer;
  records: number;
  bytes: number;
  lastLine: number;
}

/** What a gzip file may expand to (FILE_MAX_DECOMPRESSED_BYTES, FILE_MAX_EXPANSION_RATIO). */
export interface ExpansionBounds {
  maxBytes: number;
  maxRatio: number;
}

/** Decompressed bytes a file may reach before its expansion ratio is judged: a small file's header and dictionary do not count. */
const RATIO_GRACE_BYTES = 1024 * 1024;

/**
 * The bytes of a file, decompressed when they start like gzip (whatever its name says), and cut
 * with FILE_UNREADABLE when the gzip expands past its bounds: memory stays flat either way (each
 * chunk is consumed before the next is inflated), and the bound ends a bomb's time too.
 */
export async function* fileBytes(
  source: AsyncIterable<Buffer>,
  seen: (c: Compression) => void,
  bounds: ExpansionBounds,
  location: string,
): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const head = first.value;
  let compressed = 0;
  async function* all() {
    compressed += head.length;
    yield head;
    for (let n = await it.next(); !n.done; n = await it.next()) {
      compressed += n.value.length;
      yield n.value;
    }
  }
  if (!isGzip(head)) {
    seen('none');
    yield* all();
    return;
  }
  seen('gzip');
  const gunzip = createGunzip();
  // pipeline destroys every stream with the first error (the source's or gzip's), which ends the loop below with it.
  pipeline(Readable.from(all()), gunzip, () => undefined);
  let out = 0;
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    out += chunk.length;
    if (out > bounds.maxBytes)
      throw new EtlError(
        'FILE_UNREADABLE',
        `${location}: gzip expands past FILE_MAX_DECOMPRESSED_BYTES (${bounds.maxBytes} bytes): stopped at decompressed byte ${out - chunk.length}`,
      );
    if (out > RATIO_GRACE_BYTES && out > bounds.maxRatio * compressed)
      throw new EtlError(
        'FILE_UNREADABLE',
        `${location}: gzip expands more than FILE_MAX_EXPANSION_RATIO (${bounds.maxRatio}×: ${out} bytes from ${compressed}): stopped at decompressed byte ${out - chunk.length}`,
      );
    yield chunk;
  }
}

/** A failure that belongs to the file (its bytes), not to the servers: the version fails, the run goes on. */
function fileFailure(err: unknown, v: FileVersion): EtlError | undefined {
  if (isEtlError(err) && (err.code === 'FILE_UNREADABLE' || err.code === 'FILE_CHANGED')) return err;
  const e = err as { code?: string; name?: string; message?: string };
  if (typeof e?.code === 'string' && e.code.startsWith('Z_'))
    return new EtlError('FILE_UNREADABLE', `${v.location} is not valid gzip: ${e.message}`, { cause: err });
  if (e?.code === 'EACCES' || e?.code === 'EPERM' || e?.code === 'EISDIR')
    return new EtlError('FILE_UNREADABLE', `${v.location} cannot be read (${e.code}: ${e.message})`, { cause: err });
  if (e?.code === 'ENOENT' || e?.name === 'NoSuchKey' || e?.name === 'PreconditionFailed' || e?.name === 'NotFound')
    return new EtlError('FILE_CHANGED', `${v.location} changed or vanished since version ${v.version} was found (${e.name ?? e.code})`, {
      cause: err,
    });
  return undefined;
}

export async function readFileVersion(deps: ActivityDeps, input: SourceReadInput): Promise<SourceUnitRead> {
  // No lock is held while reading (it would hold a connection for the whole file): two readers of
  // one version (a scheduled run beside `etl ingest files`) split it into the same objects under the
  // same keys, and the manifest's guard lets only one of them plan each range (the other retries
  // with ARCHIVE_BUSY and then finds the version read).
  const { pool, config } = deps;
  const v = await fileVersion(pool, input.unitId);
  if (!v || v.stream !== input.stream) throw new EtlError('MANIFEST_INVALID', `no file version ${input.unitId} of stream ${input.stream}`);
  if (v.status !== 'new') return summary(v, true);
  return new VersionReader(deps, v, input.maxRecordsPerObject ?? config.ARCHIVE_MAX_RECORDS_PER_OBJECT).run();
}

function summary(v: FileVersion, alreadyRead: boolean): SourceUnitRead {
  return {
    unitId: v.id,
    alreadyRead,
    records: Number(v.record_count ?? 0),
    objects: v.object_count ?? 0,
    ...(v.status === 'failed' ? { failed: { code: v.error_code ?? 'FILE_UNREADABLE', message: v.error_message ?? '' } } : {}),
  };
}

class VersionReader {
  private readonly ctx = Context.current();
  private readonly topic: string;
  private readonly bronzeTopic: string;
  private readonly modifiedMs: number;
  private readonly name: string;
  private open?: OpenObject;
  /** First line of the next object: every line before it is in an archived object (or the open one). */
  private next = 1;
  private redo?: { id: number; first: number; last: number };
  private lines = 0;
  private records = 0;
  private objects = 0;
  private compression: Compression = 'none';
  /** Bytes of the file read so far (decompressed). */
  private offset = 0;
  private readonly beat = progressBeat(this.ctx);

  constructor(
    private readonly deps: ActivityDeps,
    private readonly v: FileVersion,
    private readonly maxRecords: number,
  ) {
    this.topic = fileTopic(v.stream);
    this.bronzeTopic = topicFor(deps.config.KAFKA_TOPIC_PREFIX, v.stream);
    this.modifiedMs = v.modified_at.getTime();
    this.name = v.location.slice(v.location.lastIndexOf('/') + 1);
  }

  async run(): Promise<SourceUnitRead> {
    const { pool, s3, config } = this.deps;
    const rows = await objectsOfVersion(pool, this.v.id);
    for (const r of rows) {
      if (r.status === 'archived') this.next = r.last + 1;
      else this.redo ??= r;
    }
    if (this.redo) this.next = this.redo.first;
    const spec = getStream(this.v.stream);
    try {
      await this.checkUnchanged();
      const bytes = await withS3Errors(config.S3_ENDPOINT, () => openFileBytes(this.v.location, s3, this.v.etag, fileSourceRoots(config)));
      const bounds = { maxBytes: config.FILE_MAX_DECOMPRESSED_BYTES, maxRatio: config.FILE_MAX_EXPANSION_RATIO };
      const decoded = fileBytes(bytes as AsyncIterable<Buffer>, (c) => (this.compression = c), bounds, this.v.location);
      const lines = this.counted(readLines(this.beating(decoded)));
      const records = this.v.format === 'csv' ? csvRecords(lines, spec) : jsonlRecords(lines);
      for await (const r of records) await this.add(r);
      await this.writeOpen();
      await this.checkUnchanged();
    } catch (err) {
      const failure = fileFailure(err, this.v);
      if (!failure) {
        this.open?.body.discard();
        throw err;
      }
      // What was read before the failure is real data: it is archived and loads; the version says why it stopped.
      await this.writeOpen();
      const message = `${failure.message} (after line ${this.lines})`;
      await markVersionFailed(pool, this.v.id, failure.code, message, this.lines);
      this.deps.logger.warn({ location: this.v.location, version: this.v.version, code: failure.code, message }, 'file version failed');
      return {
        unitId: this.v.id,
        alreadyRead: false,
        records: this.records,
        objects: this.objects,
        failed: { code: failure.code, message },
      };
    }
    await markVersionRead(pool, this.v.id, this.lines, this.compression);
    const done = await fileVersion(pool, this.v.id);
    return { ...summary(done!, false), alreadyRead: false };
  }

  /** A local file must still be the version found (size and mtime); S3 checks its ETag on GET. */
  private async checkUnchanged(): Promise<void> {
    const local = localPathOf(this.v.location);
    if (local === undefined) return;
    const s = await stat(local);
    if (s.size !== Number(this.v.size_bytes) || Math.floor(s.mtimeMs) !== this.modifiedMs)
      throw new EtlError('FILE_CHANGED', `${this.v.location} changed since version ${this.v.version} was found (size or mtime differ)`);
  }

  private async *counted<T extends { line: number }>(lines: AsyncIterable<T>): AsyncGenerator<T> {
    for await (const l of lines) {
      this.lines = l.line;
      yield l;
    }
  }

  /** Beats by the bytes read, not by lines: a line of a gigabyte without a newline keeps the attempt alive while it moves. */
  private async *beating(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      this.offset += chunk.length;
      this.beat.bytes(chunk.length, { line: this.lines + 1, offset: this.offset });
      yield chunk;
    }
  }

  private async add(r: FileRecord): Promise<void> {
    if (r.line < this.next) return; // in an archived object already
    if (this.open?.plan && r.line > this.open.plan.last) await this.writeOpen();
    if (!this.open) {
      const redo = this.redo && this.redo.first === this.next ? this.redo : undefined;
      this.redo = undefined;
      this.open = {
        first: this.next,
        ...(redo ? { plan: { id: redo.id, last: redo.last } } : {}),
        body: new NdjsonObjectBuffer(this.deps.config.BRONZE_CODEC),
        records: 0,
        bytes: 0,
        lastLine: this.next - 1,
      };
    }
    const o = this.open;
    const record: BronzeRecord = {
      topic: this.topic,
      partition: this.v.id,
      offset: String(r.line),
      timestamp: this.v.modified_at.toISOString(),
      key: null,
      value: r.value,
      encoding: r.encoding,
      ...(r.defect ? { defect: r.defect } : {}),
    };
    const line = JSON.stringify(record);
    await o.body.write(line);
    o.records++;
    o.bytes += line.length + 1;
    o.lastLine = r.endLine;
    if (!o.plan && (o.records >= this.maxRecords || o.bytes >= this.deps.config.ARCHIVE_MAX_OBJECT_BYTES)) await this.writeOpen();
  }

  /** Plans (unless a crashed attempt did), puts and marks the open object; the next one starts after it. */
  private async writeOpen(): Promise<void> {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    if (o.records === 0) {
      o.body.discard();
      return;
    }
    const { pool, s3, config } = this.deps;
    const last = o.plan?.last ?? o.lastLine;
    const codec = config.BRONZE_CODEC;
    const key = fileBronzeKey({
      prefix: config.S3_PREFIX,
      topic: this.bronzeTopic,
      codec,
      fileId: this.v.id,
      fileName: this.name,
      firstLine: o.first,
      lastLine: last,
      modifiedMs: this.modifiedMs,
    });
    const planId = o.plan?.id ?? (await planFileRange(pool, this.v.stream, this.topic, this.v.id, o.first, last));
    const body = await o.body.finish();
    await withS3Errors(config.S3_ENDPOINT, () => putNdjsonObject(s3, config.S3_BUCKET, key, body, codec));
    await markArchived(pool, planId, { key, records: o.records, bytes: body.length, minTs: this.modifiedMs, maxTs: this.modifiedMs });
    this.next = last + 1;
    this.records += o.records;
    this.objects++;
    this.beat.beat({ line: last, offset: this.offset });
    this.deps.logger.info(
      { location: this.v.location, version: this.v.version, first: o.first, last, key, records: o.records },
      'archived file object',
    );
  }
}

// One bronze object under construction, and the step that makes it durable. This is where the
// exactly-once rule of the archive is kept: an object's offset range is planned in the manifest
// ('pending') before the object is put (at open for a planned range, else here), the row becomes
// 'archived' once S3 holds the object, and only then does the caller commit Kafka offsets. A range a
// crash left pending is rewritten exactly, to the same key, so each offset is in exactly one object.
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { KafkaMessage } from 'kafkajs';
import { bronzeKey } from '../../lib/lake';
import { NDJSON_CODECS, NdjsonObjectBuffer, putNdjsonObject, type NdjsonCodec } from '../../lib/ndjson';
import { markArchived, planRange, type Plan } from './bronze';
import type { ActivityDeps } from '../deps';

export class OpenRange {
  private readonly body: NdjsonObjectBuffer;
  records = 0;
  /** Uncompressed bytes of its lines so far (ARCHIVE_MAX_OBJECT_BYTES bounds them). */
  bytes = 0;
  /** The last offset its plan had when it was opened: a redone range cut shorter removes that key's object. */
  private readonly plannedLast: bigint | undefined;
  /** Last offset appended; a range planned at flush ends here. */
  lastAppended: bigint;
  firstTs: number | undefined;
  minTs = Infinity;
  maxTs = -Infinity;
  /** When it was opened: an at-flush range is due once it is a flush age old. */
  readonly openedAt = Date.now();

  /**
   * @param first first offset: the previous object's last + 1, so ranges stay contiguous even
   *   across offsets without records (transaction markers, compaction)
   * @param plan the manifest row of a range planned before it was read (batch, or a crashed
   *   attempt's pending range): it ends at the planned last offset
   * @param redo the plan is a crashed attempt's pending range, rewritten now
   */
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly first: bigint,
    public plan: Plan | undefined,
    readonly redo: boolean,
    codec: NdjsonCodec,
  ) {
    this.lastAppended = first - 1n;
    this.plannedLast = plan?.last;
    this.body = new NdjsonObjectBuffer(codec);
  }

  /** The offset the object ends at: a planned range's last, else the last record read. */
  get last(): bigint {
    return this.plan ? this.plan.last : this.lastAppended;
  }

  /** A planned range is complete at its last offset; one planned at flush when it holds maxRecords or maxBytes. */
  isFull(maxRecords: number, maxBytes: number): boolean {
    return this.plan ? this.lastAppended >= this.plan.last : this.records >= maxRecords || this.bytes >= maxBytes;
  }

  /** Whether a line of `lineBytes` may join it: an empty range takes any line, else the range stays within maxBytes. */
  fits(lineBytes: number, maxBytes: number): boolean {
    return this.records === 0 || this.bytes + lineBytes <= maxBytes;
  }

  /** Appends `m`, whose bronze line is `line` (bronze.ts bronzeLine). */
  async append(m: KafkaMessage, line: string, lineBytes: number): Promise<void> {
    const ts = Number(m.timestamp);
    this.firstTs ??= ts;
    if (ts < this.minTs) this.minTs = ts;
    if (ts > this.maxTs) this.maxTs = ts;
    this.records++;
    this.bytes += lineBytes;
    this.lastAppended = BigInt(m.offset);
    await this.body.write(line);
  }

  discard(): void {
    this.body.discard();
  }

  /**
   * Writes the range as one bronze object: planned unless it was, put to S3 under the key its range
   * and first record name, then marked 'archived'. The caller commits offsets after.
   */
  async write(deps: Pick<ActivityDeps, 'pool' | 's3' | 'config'>, stream: string): Promise<{ key: string; bytes: number }> {
    const { pool, s3, config } = deps;
    const codec = config.BRONZE_CODEC;
    const body = await this.body.finish();
    const place = {
      prefix: config.S3_PREFIX,
      topic: this.topic,
      partition: this.partition,
      first: this.first,
      firstRecordTimeMs: this.firstTs ?? 0,
    };
    const keyOf = (c: NdjsonCodec) => bronzeKey({ ...place, last: this.last, codec: c });
    const key = keyOf(codec);
    const planId =
      this.plan?.id ?? (await planRange(pool, { stream, topic: this.topic, partition: this.partition }, this.first, this.last));
    await putNdjsonObject(s3, config.S3_BUCKET, key, body, codec);
    if (this.redo) {
      // A crashed attempt may have put this range under the other codec's key (BRONZE_CODEC changed
      // in between), or under the key of the whole planned range before this attempt cut it shorter
      // (ARCHIVE_MAX_OBJECT_BYTES lowered in between): removed, so the bucket too holds each offset
      // once. Deleting a missing key is a no-op.
      const stale = NDJSON_CODECS.filter((c) => c !== codec).map(keyOf);
      if (this.plannedLast !== undefined && this.plannedLast !== this.last)
        for (const c of NDJSON_CODECS) stale.push(bronzeKey({ ...place, last: this.plannedLast, codec: c }));
      for (const Key of stale) await s3.send(new DeleteObjectCommand({ Bucket: config.S3_BUCKET, Key }));
    }
    await markArchived(pool, planId, { key, records: this.records, bytes: body.length, minTs: this.minTs, maxTs: this.maxTs });
    return { key, bytes: body.length };
  }
}

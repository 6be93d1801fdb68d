// The records a follower has read for one partition but not yet written: gzip NDJSON compressed as
// they arrive and kept in memory (an object's key names its last offset, which is only known when it
// is flushed). Its size is bounded by the records threshold of a flush.
import { createGzip, constants as zlib } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { KafkaMessage } from 'kafkajs';
import { bronzeKey } from '../../lib/lake';
import { bronzeLine, markArchived, planRange, type Plan } from './bronze';
import type { ActivityDeps } from '../deps';

export class PartitionBuffer {
  private readonly gzip = createGzip({ level: zlib.Z_BEST_SPEED });
  private readonly chunks: Buffer[] = [];
  private readonly ended: Promise<void>;
  records = 0;
  /** Last offset appended; the range of a new object ends here. */
  lastAppended: bigint;
  firstTs: number | undefined;
  minTs = Infinity;
  maxTs = -Infinity;
  /** When the first record arrived: a time flush is due once it is a flush interval old. */
  readonly openedAt = Date.now();

  /**
   * @param first first offset of the range: the previous object's last + 1, so ranges stay contiguous
   *   even across offsets without records (transaction markers, compaction)
   * @param redo a range a crashed attempt planned: it is rewritten exactly, to the same key
   */
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly first: bigint,
    readonly redo?: Plan,
  ) {
    this.lastAppended = first - 1n;
    this.gzip.on('data', (c: Buffer) => this.chunks.push(c));
    this.ended = new Promise((resolve, reject) => {
      this.gzip.once('end', resolve);
      this.gzip.once('error', reject);
    });
  }

  /** The offset the object will end at: a redo's planned end, else the last record read. */
  get last(): bigint {
    return this.redo ? this.redo.last : this.lastAppended;
  }

  append(m: KafkaMessage): void {
    const ts = Number(m.timestamp);
    this.firstTs ??= ts;
    if (ts < this.minTs) this.minTs = ts;
    if (ts > this.maxTs) this.maxTs = ts;
    this.gzip.write(bronzeLine(this.topic, this.partition, m) + '\n');
    this.records++;
    this.lastAppended = BigInt(m.offset);
  }

  /** Ends the stream and returns the whole gzip object. */
  async finish(): Promise<Buffer> {
    this.gzip.end();
    await this.ended;
    return Buffer.concat(this.chunks);
  }

  discard(): void {
    this.gzip.destroy();
  }
}

/**
 * Writes a buffer as one bronze object, in the archive's order: its range is planned in the
 * manifest ('pending') unless it is a redo of a planned one, the object is put to S3 under the key
 * its range and first record name, and the row becomes 'archived'. The caller commits offsets after.
 */
export async function writeObject(
  deps: Pick<ActivityDeps, 'pool' | 's3' | 'config'>,
  stream: string,
  b: PartitionBuffer,
): Promise<{ key: string; records: number }> {
  const { pool, s3, config } = deps;
  const body = await b.finish();
  const key = bronzeKey(config.S3_PREFIX, b.topic, b.partition, b.first, b.last, b.firstTs ?? 0);
  const planId = b.redo?.id ?? (await planRange(pool, stream, b.topic, b.partition, b.first, b.last));
  await s3.send(
    new PutObjectCommand({ Bucket: config.S3_BUCKET, Key: key, Body: body, ContentType: 'application/x-ndjson', ContentEncoding: 'gzip' }),
  );
  await markArchived(pool, planId, { key, records: b.records, bytes: body.length, minTs: b.minTs, maxTs: b.maxTs });
  return { key, records: b.records };
}

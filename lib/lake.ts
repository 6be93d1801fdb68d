// Object layout of the lake (Kafka Connect S3 sink style): time-partitioned by the Kafka timestamp
// of an object's first record, and named by topic, partition and offset range, so a key says
// exactly which offsets it holds and a rewrite of the same range lands on the same key.
//   bronze/<topic>/dt=YYYY-MM-DD/hour=HH/<topic>+<partition>+<first>-<last>.ndjson.{gz,zst}  (BRONZE_CODEC)
//   silver/<stream>/event_date=YYYY-MM-DD/<topic>+<partition>+<first>-<last>.parquet     (the Parquet lake, docs/lake.md)
// A bronze object's lake files are named after it, one per event date its rows have: a rewrite of
// the object (after a replay) lands on the same keys, and two objects never share one.
import { createHash } from 'node:crypto';
import { ndjsonExtension, type NdjsonCodec } from './ndjson';

const OFFSET_WIDTH = 19; // enough digits for any int64 offset, so keys sort in offset order

/** Where a bronze object goes: under the prefix and topic, in the codec's format. */
interface BronzePlace {
  prefix: string;
  topic: string;
  codec: NdjsonCodec;
}

const pad = (n: bigint | number) => n.toString().padStart(OFFSET_WIDTH, '0');

/** bronze/<topic>/dt=…/hour=…/<topic>+<name><extension>: the one layout of every bronze object. */
function bronzeKeyAt(place: BronzePlace, timeMs: number, name: string): string {
  const t = new Date(timeMs).toISOString();
  return `${place.prefix}bronze/${place.topic}/dt=${t.slice(0, 10)}/hour=${t.slice(11, 13)}/${place.topic}+${name}${ndjsonExtension(place.codec)}`;
}

/** The bronze key of the Kafka records `first`..`last` of a partition, filed by the first one's time. */
export function bronzeKey(
  k: BronzePlace & { partition: number; first: bigint | number; last: bigint | number; firstRecordTimeMs: number },
): string {
  return bronzeKeyAt(k, k.firstRecordTimeMs, `${k.partition}+${pad(k.first)}-${pad(k.last)}`);
}

/** Where a stream's lake files live: Hive-partitioned by event date under it. */
export const lakeStreamPrefix = (prefix: string, stream: string) => `${prefix}silver/${stream}/`;

/** The lake file of bronze object `bronzeKey`'s rows of event date `eventDate` (YYYY-MM-DD). */
export function lakeKeyFor(prefix: string, stream: string, bronzeKey: string, eventDate: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(eventDate)) throw new Error(`not an event date: ${eventDate}`);
  const name = bronzeKey.slice(bronzeKey.lastIndexOf('/') + 1).replace(/\.ndjson(\.gz|\.zst)?$/, '');
  if (!bronzeKey.includes('bronze/') || name.length === 0) throw new Error(`not a bronze key: ${bronzeKey}`);
  return `${lakeStreamPrefix(prefix, stream)}event_date=${eventDate}/${name}.parquet`;
}

/** One Kafka record as archived in bronze: everything needed to replay or quarantine it faithfully. */
export interface BronzeRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  /** The value as UTF-8 text when it is valid UTF-8, else base64; null for a tombstone. */
  value: string | null;
  encoding: 'utf8' | 'base64' | 'null';
  /**
   * Set by a file source when the line could not become a value at all (a CSV row with the wrong
   * number of cells, a line that is not UTF-8, one too long to keep): the transform quarantines the
   * record with this code and reason, and `value` keeps the line's original bytes.
   */
  defect?: { code: string; reason: string; bytes?: number; sha256?: string };
}

/**
 * The bronze key of a file object: beside the stream's Kafka objects (same dt/hour layout, the file's
 * modification time in place of the first record's), named by the file version and its line range.
 *   bronze/<topic>/dt=YYYY-MM-DD/hour=HH/<topic>+file<version id>-<file name>+<first line>-<last line>.ndjson.{gz,zst}
 */
export function fileBronzeKey(
  k: BronzePlace & { fileId: number; fileName: string; firstLine: number; lastLine: number; modifiedMs: number },
): string {
  const name = k.fileName.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
  return bronzeKeyAt(k, k.modifiedMs, `file${k.fileId}-${name}+${pad(k.firstLine)}-${pad(k.lastLine)}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeValue(value: Buffer | null): Pick<BronzeRecord, 'value' | 'encoding'> {
  if (value === null) return { value: null, encoding: 'null' };
  try {
    return { value: utf8.decode(value), encoding: 'utf8' };
  } catch {
    return { value: value.toString('base64'), encoding: 'base64' };
  }
}

/** What is kept of a value too large to keep whole (a quarantine row's payload, an archived stand-in): its first bytes. */
export const PAYLOAD_PREFIX_BYTES = 4 * 1024;

/** What can be said of a value without keeping it: its size, its SHA-256 and its first bytes. */
export interface ValueDigest {
  bytes: number;
  sha256: string;
  prefix: Pick<BronzeRecord, 'value' | 'encoding'>;
}

/** The digest of `bytes`; the prefix ends on a character boundary when the bytes are UTF-8 there. */
export function digestOf(bytes: Buffer, prefixBytes = PAYLOAD_PREFIX_BYTES): ValueDigest {
  let end = Math.min(bytes.length, prefixBytes);
  // A UTF-8 continuation byte (10xxxxxx) at the cut belongs to the character before it.
  for (let back = 0; end < bytes.length && end > 0 && back < 3 && (bytes[end]! & 0xc0) === 0x80; back++) end--;
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), prefix: encodeValue(bytes.subarray(0, end)) };
}

/** The original bytes of an archived value. */
export function valueBytes(v: Pick<BronzeRecord, 'value' | 'encoding'>): Buffer {
  if (v.value === null) return Buffer.alloc(0);
  return Buffer.from(v.value, v.encoding === 'base64' ? 'base64' : 'utf8');
}

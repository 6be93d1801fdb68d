// `etl stream init <name> --from <file|s3://…> | --from-topic <topic>`: a declaration module drafted
// from a sample of records (streams/infer.ts), written into ETL_STREAMS_DIR for the user to review.
// The sample is read as the file source and the archive read records (the same line and CSV
// readers, the same Kafka client), and every sampled record is then classified by the drafted
// stream's own rules, as the transform will: the summary says how many pass.
import { randomBytes } from 'node:crypto';
import { createReadStream, realpathSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { FILE_FORMATS, formatOfName, type FileFormat } from '../../activities/files/format';
import { fileBytes } from '../../activities/files/read';
import { csvRecords, jsonlRecords, readLines, type FileLine, type FileRecord } from '../../activities/files/records';
import type { Config } from '../../lib/config';
import { fileSourceRoots } from '../../lib/file-roots';
import { EtlError } from '../../lib/errors';
import { openFileBytes, parseLocation } from '../../lib/files';
import { createKafka, withKafkaErrors } from '../../lib/kafka';
import { encodeValue, type BronzeRecord } from '../../lib/lake';
import { createS3, withS3Errors } from '../../lib/s3';
import { loadedStreams } from '../../streams';
import { classifyRecord } from '../../streams/classify';
import { draftStream, type StreamDraft } from '../../streams/draft';
import { inferDraft, parseSampleJson } from '../../streams/infer';
import { clashOf } from '../../streams/loader';
import { renderDeclaration } from '../../streams/render';
import type { StreamSpec } from '../../streams/types';
import { fmt } from '../output';

export const DEFAULT_SAMPLE = 1_000;
/** Bytes of sampled lines kept at most, whatever --sample says: the sample is read twice (infer, then check). */
const MAX_SAMPLE_BYTES = 64 * 1024 * 1024;
/** How long reading a topic's sample may wait for the broker to hand over its records. */
const TOPIC_SAMPLE_TIMEOUT_MS = 60_000;

export interface InitArgs {
  name: string;
  from?: string;
  fromTopic?: string;
  format?: FileFormat;
  sample: number;
  force: boolean;
}

export interface InitSummary {
  stream: string;
  file: string;
  source: string;
  /** Records read, and how many of them were JSON objects the draft was inferred from. */
  sampled: number;
  inferredFrom: number;
  key: string;
  eventTime: string;
  columns: number;
  /** Sampled records the drafted stream's rules accept, and those they would quarantine, by reason code. */
  valid: number;
  quarantined: Record<string, number>;
}

/** One sampled record: as the transform will see it (its bronze form) and, for inference, its value. */
interface Sampled {
  record: BronzeRecord;
  /** The parsed object (CSV: every cell's text); undefined when the record is no JSON object. */
  fields: Record<string, unknown> | undefined;
}

interface Sample {
  source: string;
  /** CSV: values are cells' text, typed by how they read. */
  cells: boolean;
  records: Sampled[];
  /** The records again, as the drafted stream reads them (CSV cells are typed by its schema). */
  again(spec: StreamSpec): AsyncIterable<BronzeRecord>;
}

const STREAM_NAME = /^[a-z][a-z0-9_]{0,39}$/;

export const streamsDir = (config: Pick<Config, 'ETL_STREAMS_DIR'>, cwd = process.cwd()) => path.resolve(cwd, config.ETL_STREAMS_DIR);

export async function initStream(config: Config, a: InitArgs, cwd = process.cwd()): Promise<InitSummary> {
  if (!STREAM_NAME.test(a.name))
    throw new EtlError('USAGE', `"${a.name}" is not a stream name: a lowercase letter, then up to 39 lowercase letters, digits or _`);
  if (!a.from === !a.fromTopic)
    throw new EtlError('USAGE', 'give the sample as one of --from <file|s3://bucket/key> or --from-topic <topic>');
  if (!config.ETL_STREAMS_DIR)
    throw new EtlError('USAGE', 'set ETL_STREAMS_DIR to the folder of your stream declarations (in .env): `etl stream init` writes there');
  const dir = streamsDir(config, cwd);
  const file = path.join(dir, `${a.name}.ts`);
  if (!a.force && (await stat(file).catch(() => undefined)))
    throw new EtlError('USAGE', `${file} exists: review or remove it, or give --force to overwrite it`);
  const topic =
    a.fromTopic && a.fromTopic.startsWith(config.KAFKA_TOPIC_PREFIX) ? a.fromTopic.slice(config.KAFKA_TOPIC_PREFIX.length) : a.fromTopic;
  refuseClash(file, { name: a.name, topic: topic ?? a.name, rawTable: `raw_${a.name}`, flatTable: `${a.name}_flat` });

  const sample = a.from ? await fileSample(config, a.from, a.format, a.sample, cwd) : await topicSample(config, a.fromTopic!, a.sample);
  const objects = sample.records.flatMap((r) => (r.fields ? [r.fields] : []));
  const draft = inferDraft(objects, { name: a.name, ...(topic ? { topic } : {}), source: sample.source, cells: sample.cells });
  const spec = draftStream(draft);
  const quarantined: Record<string, number> = {};
  let valid = 0;
  for await (const record of sample.again(spec)) {
    const r = classifyRecord(spec, record, { referenceTimeMs: 0 });
    if (r.ok) valid++;
    else quarantined[r.code] = (quarantined[r.code] ?? 0) + 1;
  }
  await mkdir(dir, { recursive: true });
  await writeFile(file, renderDeclaration(draft), { flag: a.force ? 'w' : 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new EtlError('USAGE', `${file} exists: review or remove it, or give --force to overwrite it`);
    throw err;
  });
  return summaryOf(draft, spec, file, valid, quarantined);
}

/**
 * Refuses a draft that would break the set every process loads (one name, one topic, one table per
 * stream), before anything is read or written; the declaration `--force` overwrites is no clash.
 */
function refuseClash(file: string, draft: Pick<StreamSpec, 'name' | 'topic' | 'rawTable' | 'flatTable'>): void {
  const overwritten = (f: string) => {
    try {
      return realpathSync(f) === realpathSync(file);
    } catch {
      return false;
    }
  };
  const clash = clashOf(
    loadedStreams().filter((l) => !overwritten(l.file)),
    draft,
  );
  if (clash)
    throw new EtlError(
      'USAGE',
      `stream ${draft.name} would ${clash.replace(/^declares/, 'declare')}: one topic, name and table per stream; draft it under another name, or change that declaration`,
    );
}

function summaryOf(d: StreamDraft, spec: StreamSpec, file: string, valid: number, quarantined: Record<string, number>): InitSummary {
  return {
    stream: d.name,
    file,
    source: d.source,
    sampled: valid + Object.values(quarantined).reduce((a, b) => a + b, 0),
    inferredFrom: d.sampled,
    key: `${spec.keyColumn} (${spec.keyType})`,
    eventTime: spec.eventTimeColumn,
    columns: spec.flatColumns.length,
    valid,
    quarantined,
  };
}

export function formatInitSummary(s: InitSummary): string {
  const bad = Object.entries(s.quarantined);
  return [
    `wrote ${s.file}: stream ${s.stream}, drafted from ${fmt(s.inferredFrom)} records of ${s.source}` +
      (s.sampled > s.inferredFrom ? ` (${fmt(s.sampled - s.inferredFrom)} more read are no JSON object)` : ''),
    `  key ${s.key}, event time ${s.eventTime}, ${s.columns} more columns`,
    bad.length === 0
      ? `  all ${fmt(s.valid)} sampled records pass its rules`
      : `  ${fmt(s.valid)} sampled records pass its rules; it would quarantine ${bad.map(([code, n]) => `${fmt(n)} ${code}`).join(', ')}`,
    'review it (types, required fields, accepted values, key), then `etl migrate` creates its tables',
  ].join('\n');
}

// ---- the sample ----

function sampledOf(record: BronzeRecord, cells: boolean): Sampled {
  if (record.defect || record.encoding !== 'utf8' || record.value === null) return { record, fields: undefined };
  let value: unknown;
  try {
    value = cells ? JSON.parse(record.value) : parseSampleJson(record.value);
  } catch {
    return { record, fields: undefined };
  }
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  return { record, fields: isObject ? (value as Record<string, unknown>) : undefined };
}

const fileRecord = (source: string, r: FileRecord): BronzeRecord => ({
  topic: source,
  partition: 0,
  offset: String(r.line),
  timestamp: '0',
  key: null,
  value: r.value,
  encoding: r.encoding,
  ...(r.defect ? { defect: r.defect } : {}),
});

interface OpenedFile {
  name: string;
  bytes: Readable;
  close(): void;
}

async function openSampleFile(config: Config, location: string, cwd: string): Promise<OpenedFile> {
  if (location.startsWith('s3://')) {
    const loc = parseLocation(location);
    if (loc.kind !== 's3' || loc.prefix === '' || loc.prefix.endsWith('/'))
      throw new EtlError('USAGE', `${location} does not name one object: expected s3://bucket/key`);
    const s3 = createS3(config);
    const bytes = await withS3Errors(config.S3_ENDPOINT, () => openFileBytes(location, s3, null, fileSourceRoots(config))).catch(
      (err: unknown) => {
        s3.destroy();
        if ((err as { name?: string }).name === 'NoSuchKey') throw new EtlError('USAGE', `no object at ${location}`);
        throw err;
      },
    );
    return {
      name: location,
      bytes,
      close: () => {
        bytes.destroy();
        s3.destroy();
      },
    };
  }
  const absolute = path.resolve(cwd, location);
  const s = await stat(absolute).catch(() => undefined);
  if (!s?.isFile()) throw new EtlError('USAGE', `no file at ${absolute}`);
  const bytes = createReadStream(absolute);
  return { name: absolute, bytes, close: () => bytes.destroy() };
}

async function fileSample(config: Config, location: string, given: FileFormat | undefined, max: number, cwd: string): Promise<Sample> {
  const format = given ?? formatOfName(location).format;
  if (!format)
    throw new EtlError(
      'USAGE',
      `cannot tell the format of ${path.basename(location)} by its name; give --format ${FILE_FORMATS.join('|')}`,
    );
  const { name, bytes, close } = await openSampleFile(config, location, cwd);
  const lines: FileLine[] = [];
  let kept = 0;
  async function* keep(): AsyncGenerator<FileLine> {
    const bounds = { maxBytes: config.FILE_MAX_DECOMPRESSED_BYTES, maxRatio: config.FILE_MAX_EXPANSION_RATIO };
    for await (const l of readLines(fileBytes(bytes as AsyncIterable<Buffer>, () => undefined, bounds, name))) {
      lines.push(l);
      kept += l.bytes.length;
      yield l;
    }
  }
  const cells = format === 'csv';
  // As text: inference reads each cell for what it looks like; the check below types them by the drafted schema.
  const read = (from: AsyncIterable<FileLine>, spec: Pick<StreamSpec, 'inputTypes'>) =>
    cells ? csvRecords(from, spec) : jsonlRecords(from);
  const records: Sampled[] = [];
  try {
    for await (const r of read(keep(), {})) {
      records.push(sampledOf(fileRecord(name, r), cells));
      if (records.length >= max || kept >= MAX_SAMPLE_BYTES) break;
    }
  } finally {
    close();
  }
  return {
    source: path.basename(name),
    cells,
    records,
    async *again(spec) {
      async function* kept() {
        yield* lines;
      }
      let n = 0;
      for await (const r of read(kept(), spec)) {
        if (n++ >= records.length) break;
        yield fileRecord(name, r);
      }
    },
  };
}

async function topicSample(config: Config, topic: string, max: number): Promise<Sample> {
  const kafka = createKafka(config);
  const brokers = config.KAFKA_BROKERS;
  const admin = kafka.admin();
  const groupId = `${config.KAFKA_CLIENT_ID}-init-${randomBytes(4).toString('hex')}`;
  const records: Sampled[] = [];
  await withKafkaErrors(brokers, () => admin.connect());
  try {
    if (!(await withKafkaErrors(brokers, () => admin.listTopics())).includes(topic))
      throw new EtlError('USAGE', `topic "${topic}" does not exist on Kafka at ${brokers.join(',')}`);
    const offsets = await withKafkaErrors(brokers, () => admin.fetchTopicOffsets(topic));
    // Read up to the end each partition had when the sample started: a busy topic does not keep it going.
    const ends = new Map(offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
    if (ends.size === 0) throw new EtlError('USAGE', `topic "${topic}" holds no records to sample`);
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, retry: { retries: 5, restartOnFailure: async () => false } });
    try {
      await withKafkaErrors(brokers, async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new EtlError('KAFKA_TRANSIENT', `topic "${topic}" handed over no records within ${TOPIC_SAMPLE_TIMEOUT_MS / 1000}s`)),
          TOPIC_SAMPLE_TIMEOUT_MS,
        );
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const end = ends.get(partition);
              if (end === undefined || records.length >= max) return;
              if (BigInt(message.offset) < end) {
                const record: BronzeRecord = {
                  topic,
                  partition,
                  offset: message.offset,
                  timestamp: message.timestamp,
                  key: message.key?.toString('utf8') ?? null,
                  ...encodeValue(message.value),
                };
                records.push(sampledOf(record, false));
              }
              if (BigInt(message.offset) + 1n >= end) ends.delete(partition);
              if (records.length >= max || ends.size === 0) done();
              return Promise.resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  return {
    source: `topic ${topic}`,
    cells: false,
    records,
    async *again() {
      for (const r of records) yield r.record;
    },
  };
}

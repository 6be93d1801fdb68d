// Producer lanes: each lane is one idempotent kafkajs producer with one request in flight. Every lane
// walks every index range in order and sends its share of it: the messages whose key hashes to it
// (laneOf), so all messages of one key go through one producer, in index order — Kafka keeps a
// key's order only if one producer sends it in order. Several lanes overlap one lane's wait for its
// acknowledgement with another's encoding; lanes on worker threads (./produce-thread.ts) also put
// the JavaScript work of encoding records (kafkajs encodes every record in JavaScript) on the
// other cores.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Kafka, Message } from 'kafkajs';
import { EtlError, type ErrorCode } from '../../lib/errors';
import { IDEMPOTENT_PRODUCER, isUnknownTopic, topicMissing, withKafkaErrors, type createKafka } from '../../lib/kafka';
import type { SyntheticSource } from '../../streams/types';

export interface Lane {
  /** Sends its share of messages `from` .. `to - 1`; resolves once the broker acknowledged them. */
  send(from: number, to: number): Promise<void>;
  close(): Promise<void>;
}

/** What a lane needs to make messages itself: message i is a pure function of (options, i). */
export interface LaneSource {
  stream: string;
  options: unknown;
  topic: string;
}

/** What createKafka reads: a thread builds its own client from it (a Kafka instance cannot cross threads). */
export type KafkaSettings = Parameters<typeof createKafka>[0];

/** A failure as it crosses the thread boundary: an EtlError keeps its code, anything else its name. */
export type LaneFailure = { code?: ErrorCode; name: string; message: string };

export function toLaneFailure(err: unknown): LaneFailure {
  const e = err as Partial<EtlError>;
  return { code: err instanceof EtlError ? err.code : undefined, name: e?.name ?? 'Error', message: e?.message ?? String(err) };
}

export function fromLaneFailure(f: LaneFailure): Error {
  if (f.code) return new EtlError(f.code, f.message);
  return Object.assign(new Error(f.message), { name: f.name });
}

/** Messages `from` .. `to - 1` of `source` (its iterator starts anywhere). */
export function messagesOf(source: SyntheticSource, options: unknown, from: number, to: number): Message[] {
  const it = source.messages(options, from);
  const batch: Message[] = new Array(to - from);
  for (let i = 0; i < batch.length; i++) batch[i] = it.next().value as Message;
  return batch;
}

/** Lane `index` of `count`: its messages are those whose key hashes to it. */
export interface LaneShare {
  index: number;
  count: number;
}

/** The lane of a message: FNV-1a of its key's bytes; a message without a key goes by its index. */
export function laneOf(key: Message['key'], messageIndex: number, lanes: number): number {
  if (lanes <= 1) return 0;
  if (key === null || key === undefined) return messageIndex % lanes;
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193);
  return (hash >>> 0) % lanes;
}

/** One lane on the calling thread, on the caller's Kafka client. */
export async function localLane(
  kafka: Kafka,
  brokers: readonly string[],
  make: (from: number, to: number) => Message[],
  topic: string,
  share: LaneShare,
): Promise<Lane> {
  const producer = kafka.producer(IDEMPOTENT_PRODUCER);
  await withKafkaErrors(brokers, () => producer.connect());
  const mine = (from: number, to: number) => {
    const all = make(from, to);
    return share.count <= 1 ? all : all.filter((m, i) => laneOf(m.key, from + i, share.count) === share.index);
  };
  return {
    send: (from, to) =>
      withKafkaErrors(brokers, async () => {
        const messages = mine(from, to);
        if (messages.length === 0) return;
        await producer.send({ topic, acks: -1, messages }).catch((err: unknown) => {
          throw isUnknownTopic(err) ? topicMissing(brokers, topic, err) : err; // deleted while we produce
        });
      }),
    close: () => producer.disconnect().catch(() => undefined),
  };
}

// Under tsx the sources run (the thread inherits tsx's loader through execArgv); built, dist/ holds .js.
const THREAD_FILE = path.join(__dirname, `produce-thread${path.extname(__filename)}`);

type FromThread = { ready: true } | { acked: true } | { failed: LaneFailure };

/** One lane on a worker thread of its own, with its own Kafka client made from `settings`. */
export function threadLane(settings: KafkaSettings, source: LaneSource, share: LaneShare): Promise<Lane> {
  const worker = new Worker(THREAD_FILE, { workerData: { settings, source, share } });
  let waiting: { resolve: () => void; reject: (err: unknown) => void } | null = null;
  let broken: Error | null = null;
  const fail = (err: Error) => {
    broken ??= err;
    waiting?.reject(err);
    waiting = null;
  };
  worker.on('message', (m: FromThread) => {
    if ('failed' in m) fail(fromLaneFailure(m.failed));
    else {
      waiting?.resolve();
      waiting = null;
    }
  });
  worker.on('error', (err) => fail(err));
  worker.on('exit', (code) => fail(new Error(`producer thread exited (code ${code})`)));
  const next = () =>
    new Promise<void>((resolve, reject) => {
      if (broken) return reject(broken);
      waiting = { resolve, reject };
    });
  const lane: Lane = {
    send(from, to) {
      const acked = next();
      worker.postMessage({ from, to });
      return acked;
    },
    async close() {
      worker.postMessage({ close: true });
      // A lane that does not answer within 10 s (a broker gone mid-disconnect) is stopped.
      const stopped = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      const timer = setTimeout(() => void worker.terminate(), 10_000);
      await stopped;
      clearTimeout(timer);
    },
  };
  return next().then(
    () => lane,
    async (err: unknown) => {
      await worker.terminate();
      throw err;
    },
  );
}

/**
 * Sends `start` .. `rows - 1` over `lanes`: every lane walks the same ranges of `batchSize` messages
 * per lane (so each request still carries about `batchSize`), one range at a time, sending its share.
 * `onProgress(n)` is called with the index below which every lane has sent and had acknowledged its
 * share (a resumed run starts there). No lane runs more than `window` ranges (default 2) ahead of
 * that point, so a resumed run sends again at most `window × lanes × batchSize` messages (4,000 with
 * two lanes of 1,000). `rate` (events per second, 0 for none) paces the whole run.
 */
export async function driveLanes(
  lanes: readonly Lane[],
  plan: { start: number; rows: number; batchSize: number; rate?: number; signal?: AbortSignal; window?: number },
  onProgress?: (nextIndex: number) => void,
): Promise<void> {
  const { start, rows, rate, signal } = plan;
  const step = plan.batchSize * lanes.length;
  const ahead = Math.max(1, plan.window ?? 2) * step;
  const positions = lanes.map(() => start);
  let cursor = start;
  let failure: { err: unknown } | null = null;
  // Lanes waiting for the resume point to move (or for the run to fail).
  let waiters: Array<() => void> = [];
  const wake = () => {
    const woken = waiters;
    waiters = [];
    for (const w of woken) w();
  };
  const began = Date.now();
  await Promise.all(
    lanes.map(async (lane, k) => {
      try {
        while (!failure && positions[k]! < rows) {
          signal?.throwIfAborted();
          const from = positions[k]!;
          if (from - cursor >= ahead) {
            await new Promise<void>((resolve) => waiters.push(resolve));
            continue;
          }
          const to = Math.min(from + step, rows);
          await lane.send(from, to);
          positions[k] = to;
          const reached = Math.min(...positions);
          if (reached > cursor) {
            cursor = reached;
            onProgress?.(cursor);
            wake();
          }
          if (rate && rate > 0) {
            const due = began + ((to - start) / rate) * 1000;
            if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          }
        }
      } catch (err) {
        failure ??= { err };
        wake();
      }
    }),
  );
  if (failure) throw (failure as { err: unknown }).err;
}

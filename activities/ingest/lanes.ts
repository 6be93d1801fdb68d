// Producer lanes: each lane is one idempotent kafkajs producer with one request in flight, sending
// the index ranges it is handed. Several lanes overlap one lane's wait for its acknowledgement with
// another's encoding; lanes on worker threads (./produce-thread.ts) also put the JavaScript work of
// generating and encoding records (kafkajs encodes every record in JavaScript) on the other cores.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Kafka, Message } from 'kafkajs';
import { EtlError, type ErrorCode } from '../../lib/errors';
import { IDEMPOTENT_PRODUCER, isUnknownTopic, topicMissing, withKafkaErrors, type createKafka } from '../../lib/kafka';
import type { SyntheticSource } from '../../streams/types';

export interface Lane {
  /** Sends messages `from` .. `to - 1`; resolves once the broker acknowledged all of them. */
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

/** One lane on the calling thread, on the caller's Kafka client. */
export async function localLane(
  kafka: Kafka,
  brokers: readonly string[],
  make: (from: number, to: number) => Message[],
  topic: string,
): Promise<Lane> {
  const producer = kafka.producer(IDEMPOTENT_PRODUCER);
  await withKafkaErrors(brokers, () => producer.connect());
  return {
    send: (from, to) =>
      withKafkaErrors(brokers, async () => {
        await producer.send({ topic, acks: -1, messages: make(from, to) }).catch((err: unknown) => {
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
export function threadLane(settings: KafkaSettings, source: LaneSource): Promise<Lane> {
  const worker = new Worker(THREAD_FILE, { workerData: { settings, source } });
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
 * Sends `start` .. `rows - 1` in batches of `batchSize` over `lanes`, each lane one batch at a time.
 * `onProgress(n)` is called with the index below which every message is acknowledged (batches
 * complete out of order across lanes: a resumed run starts there). No lane runs more than
 * `window` batches (default two per lane) ahead of that point, so a resumed run sends again at most
 * `window × batchSize` messages (4,000 with two lanes of 1,000; one 5,000-message batch before the
 * lanes). `rate` (events per second, 0 for none) paces the whole run.
 */
export async function driveLanes(
  lanes: readonly Lane[],
  plan: { start: number; rows: number; batchSize: number; rate?: number; signal?: AbortSignal; window?: number },
  onProgress?: (nextIndex: number) => void,
): Promise<void> {
  const { start, rows, batchSize, rate, signal } = plan;
  const ahead = Math.max(1, plan.window ?? 2 * lanes.length) * batchSize;
  let next = start;
  let cursor = start;
  const acked = new Map<number, number>();
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
    lanes.map(async (lane) => {
      try {
        while (!failure && next < rows) {
          signal?.throwIfAborted();
          if (next - cursor >= ahead) {
            await new Promise<void>((resolve) => waiters.push(resolve));
            continue;
          }
          const from = next;
          const to = Math.min(from + batchSize, rows);
          next = to;
          await lane.send(from, to);
          acked.set(from, to);
          const before = cursor;
          while (acked.has(cursor)) {
            const end = acked.get(cursor)!;
            acked.delete(cursor);
            cursor = end;
          }
          if (cursor > before) {
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

// Freshness in continuous mode: the stream workflow runs while events are produced at a fixed rate,
// each stamped with the time it was produced (event_ts = now). A row's visible time is when its load
// committed, observed by polling the loads table with the database clock (same machine, same clock),
// so the figure is (first poll that sees the load − event_ts), at most one poll interval late.
import path from 'node:path';
import type { Config } from '../../lib/config';
import { transactionMessage } from '../../streams/transactions/synthetic';
import { IDEMPOTENT_PRODUCER } from '../../lib/kafka';
import { connectClient } from '../../lib/temporal';
import { startStream, stopStream } from '../../client/commands/stream';
import { benchEnv, STREAM } from './env';
import { profilesIn, summarizeProfiles, type ProfileSummary } from './profile';
import { startWorker } from './worker';

const POLL_MS = 200;
const TICK_MS = 100;
const DRAIN_TIMEOUT_MS = 180_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FreshnessFigures {
  rate: number;
  seconds: number;
  /** The stream's flush interval: the floor of every record's wait. */
  flush_interval_ms: number;
  produced: number;
  achieved_rate: number;
  freshness_p50_ms: number;
  freshness_p95_ms: number;
  freshness_p99_ms: number;
  freshness_max_ms: number;
  drained: boolean;
  worker_peak_rss_mb: number;
  /** The worker's CPU profile over the run, when one was taken. */
  profile: ProfileSummary | null;
}

export async function freshnessRun(
  base: Config,
  run: { rate: number; seconds: number; seed: number; flushMs: number; cpuProfDir?: string },
  say: (line: string) => void,
): Promise<FreshnessFigures> {
  const { rate, seconds, seed, flushMs, cpuProfDir } = run;
  const env = await benchEnv(base, 'fresh', { STREAM_FLUSH_INTERVAL_MS: flushMs });
  const profDir = cpuProfDir ? path.resolve(cpuProfDir, `freshness-${env.id}`) : undefined;
  const seen = new Map<string, string>();
  let polling = true;
  const poll = async () => {
    while (polling) {
      const last = [...seen.keys()].reduce((a, b) => (BigInt(b) > BigInt(a) ? b : a), '0');
      const { rows } = await env.pool.query<{ load_id: string; at: string }>(
        'SELECT load_id::text, clock_timestamp()::text AS at FROM loads WHERE load_id > $1',
        [last],
      );
      for (const r of rows) seen.set(r.load_id, r.at);
      await sleep(POLL_MS);
    }
  };
  try {
    const worker = await startWorker(env, say, profDir);
    const client = await connectClient(env.config);
    const poller = poll();
    let produced = 0;
    let drained = false;
    let elapsedMs = 0;
    try {
      await startStream(client, env.config, { stream: STREAM, flushIntervalMs: env.config.STREAM_FLUSH_INTERVAL_MS });
      const producer = env.kafka.producer(IDEMPOTENT_PRODUCER);
      await producer.connect();
      const total = Math.round(rate * seconds);
      const began = Date.now();
      try {
        while (produced < total) {
          const due = Math.min(total, Math.floor(((Date.now() - began) / 1000) * rate));
          if (due > produced) {
            const gen = { seed, startMs: Date.now(), windowMs: 1 };
            const messages = [];
            for (let i = produced; i < due; i++) messages.push(transactionMessage(i, gen));
            await producer.send({ topic: env.topic, acks: -1, messages });
            produced = due;
          }
          await sleep(TICK_MS);
        }
      } finally {
        elapsedMs = Date.now() - began;
        await producer.disconnect().catch(() => undefined);
      }
      const deadline = Date.now() + DRAIN_TIMEOUT_MS;
      while (Date.now() < deadline) {
        const { rows } = await env.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM transactions_flat');
        if (rows[0]!.n >= produced) {
          drained = true;
          break;
        }
        await sleep(500);
      }
      await sleep(POLL_MS * 2);
    } finally {
      polling = false;
      await poller;
      await stopStream(client, env.config, STREAM, 120_000).catch(() => undefined);
      await client.connection.close();
    }
    const rss = worker.peakRssMb();
    await worker.stop();
    const ids = [...seen.keys()];
    const { rows } = await env.pool.query<{ p: number[]; mx: number }>(
      `SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM s.seen - f.event_ts) * 1000) AS p,
              max(extract(epoch FROM s.seen - f.event_ts) * 1000)::float8 AS mx
       FROM transactions_flat f JOIN unnest($1::bigint[], $2::timestamptz[]) AS s(load_id, seen) ON s.load_id = f.load_id`,
      [ids, ids.map((id) => seen.get(id)!)],
    );
    const p = rows[0]?.p ?? [NaN, NaN, NaN];
    return {
      rate,
      seconds,
      flush_interval_ms: flushMs,
      produced,
      achieved_rate: (produced * 1000) / elapsedMs,
      freshness_p50_ms: p[0]!,
      freshness_p95_ms: p[1]!,
      freshness_p99_ms: p[2]!,
      freshness_max_ms: rows[0]?.mx ?? NaN,
      drained,
      worker_peak_rss_mb: rss,
      profile: profDir && profilesIn(profDir).length ? summarizeProfiles(profilesIn(profDir)) : null,
    };
  } finally {
    await env.cleanup();
  }
}

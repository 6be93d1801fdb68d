// Consumer lag of the archive step: each partition's high watermark minus the offset the archive
// consumer group committed. Kafka being down must not take the dashboard with it: the panel then
// says so and everything read from PostgreSQL still shows. Read by the dashboard, `etl status` and
// the worker's lag gauges; which topics to read is theirs to say (they know the streams).
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { Config } from './config';
import { isEtlError } from './errors';
import { archiveGroup, classifyKafkaError, kafkaConnection, kafkaSecurityError, type StreamTopic } from './kafka';
import type { Logger } from './logger';

export interface PartitionLag {
  partition: number;
  high: number;
  committed: number | null;
  lag: number;
}
export interface TopicLag {
  stream: string;
  topic: string;
  group: string;
  exists: boolean;
  lag: number;
  partitions: PartitionLag[];
}
export type LagReport = { available: true; topics: TopicLag[]; checkedAt: string } | { available: false; note: string; checkedAt: string };

const TIMEOUT_MS = 4_000;
const CACHE_MS = 2_000;

async function topicLag(admin: Admin, cfg: Config, { stream, topic }: StreamTopic, existing: string[]): Promise<TopicLag> {
  const group = archiveGroup(cfg, topic);
  if (!existing.includes(topic)) return { stream, topic, group, exists: false, lag: 0, partitions: [] };
  const [watermarks, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId: group, topics: [topic] }),
  ]);
  const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  const partitions = watermarks
    .map((w) => {
      const c = byPartition.get(w.partition);
      // -1: the group never committed here, so everything still in the log is unread.
      const start = c === undefined || c < 0 ? Number(w.low) : c;
      return {
        partition: w.partition,
        high: Number(w.high),
        committed: c === undefined || c < 0 ? null : c,
        lag: Math.max(0, Number(w.high) - start),
      };
    })
    .sort((a, b) => a.partition - b.partition);
  return { stream, topic, group, exists: true, lag: partitions.reduce((n, p) => n + p.lag, 0), partitions };
}

/**
 * Polled by every open dashboard: one short-lived admin connection per few seconds, at most.
 * `topics` is asked at each reading, so a stream registered after the reader was made is read too.
 */
export function lagReader(cfg: Config, topics: () => readonly StreamTopic[], logger?: Logger): () => Promise<LagReport> {
  // Short timeouts and quick retries, all within TIMEOUT_MS: a poll that fails fast says more than
  // one that hangs, but a group coordinator that is briefly busy (just after the archive consumer
  // left) should not read as an outage.
  const kafka = new Kafka({
    clientId: `${cfg.KAFKA_CLIENT_ID}-dashboard`,
    ...kafkaConnection(cfg),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 3_000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  let cached: { at: number; report: Promise<LagReport> } | undefined;
  let wasAvailable = true;

  /** Logs changes only: every open page polls, and an outage would otherwise flood the log. */
  function logChange(report: LagReport): LagReport {
    if (report.available !== wasAvailable) {
      if (report.available) logger?.info('consumer lag readable again');
      else logger?.warn({ note: report.note }, 'consumer lag unavailable');
      wasAvailable = report.available;
    }
    return report;
  }

  async function read(): Promise<LagReport> {
    const checkedAt = new Date().toISOString();
    const admin = kafka.admin();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Error(`no answer within ${TIMEOUT_MS / 1000} s`);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut), TIMEOUT_MS);
    });
    try {
      const work = (async () => {
        await admin.connect();
        const existing = await admin.listTopics();
        const lags: TopicLag[] = [];
        for (const t of topics()) lags.push(await topicLag(admin, cfg, t, existing));
        return lags;
      })();
      work.catch(() => undefined); // it may settle after the timeout has already answered
      return { available: true, topics: await Promise.race([work, timeout]), checkedAt };
    } catch (err) {
      // A refused login or certificate is no outage: say what to fix, as the CLI would.
      const security = kafkaSecurityError(err, cfg.KAFKA_BROKERS);
      if (security)
        return {
          available: false,
          note: `${security.message}; consumer lag is unknown until then. Everything else here comes from PostgreSQL.`,
          checkedAt,
        };
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const down = err === timedOut || isEtlError(classifyKafkaError(err, cfg.KAFKA_BROKERS));
      const what = down ? 'is unreachable' : 'answered with an error';
      return {
        available: false,
        note: `Kafka at ${cfg.KAFKA_BROKERS.join(',')} ${what} (${reason}); consumer lag is unknown until it answers. Everything else here comes from PostgreSQL.`,
        checkedAt,
      };
    } finally {
      clearTimeout(timer);
      await admin.disconnect().catch(() => undefined);
    }
  }

  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > CACHE_MS) cached = { at: now, report: read().then(logChange) };
    return cached.report;
  };
}

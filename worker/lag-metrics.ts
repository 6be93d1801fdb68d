// Consumer lag as a Prometheus gauge, etl_consumer_lag{stream,topic,partition}: each partition's
// high watermark minus the offset the archive consumer group committed (what `etl status` and the
// dashboard show). The worker reads it itself every few seconds, so the lag is visible also when
// nothing consumes — which is exactly when it matters — and is exported next to the SDK's metrics.
//
// A lag that could not be read is not shown as the last one that could: while Kafka does not answer,
// every series exported so far is NaN (Grafana draws a gap, `etl_consumer_lag > N` alerts neither
// fire nor clear on a stale number) and etl_consumer_lag_readable is 0, which is what to alert on.
// The SDK's meter cannot withdraw a series, hence NaN rather than absence.
import { Runtime, type Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../activities';
import { lagReader, type LagReport } from '../lib/consumer-lag';
import { streamTopics } from '../streams';

const LAG_EVERY_MS = 5_000;

/** What of a gauge this module uses (the SDK's MetricGauge; a recording fake in tests). */
export interface LagGauge {
  set(value: number, tags?: Record<string, string>): void;
}

/** Keeps the exported series in step with the latest lag report. */
export class LagGauges {
  /** Every label set exported so far, by its key. */
  private readonly exported = new Map<string, Record<string, string>>();

  constructor(
    private readonly lag: LagGauge,
    private readonly readable: LagGauge,
  ) {}

  apply(report: LagReport): void {
    const current = new Set<string>();
    if (report.available) {
      for (const t of report.topics) {
        for (const p of t.partitions) {
          const tags = { stream: t.stream, topic: t.topic, partition: String(p.partition) };
          const key = JSON.stringify(tags);
          this.lag.set(p.lag, tags);
          this.exported.set(key, tags);
          current.add(key);
        }
      }
    }
    // Unreadable now, or gone (a topic deleted): unknown, not the last value read.
    for (const [key, tags] of this.exported) if (!current.has(key)) this.lag.set(Number.NaN, tags);
    this.readable.set(report.available ? 1 : 0);
  }
}

/** Polls until the worker has stopped; does nothing when the worker exports no metrics. */
export function startLagMetrics(worker: Worker, deps: Pick<ActivityDeps, 'config' | 'logger'>): void {
  if (deps.config.METRICS_PORT <= 0) return;
  const meter = Runtime.instance().metricMeter;
  const gauges = new LagGauges(
    meter.createGauge(
      'etl_consumer_lag',
      'float',
      'records',
      'Kafka records not yet archived, per stream and partition; NaN while Kafka cannot be read',
    ),
    meter.createGauge(
      'etl_consumer_lag_readable',
      'int',
      '',
      '1 when the last reading of the consumer lag succeeded, 0 when Kafka did not answer (etl_consumer_lag is then NaN)',
    ),
  );
  const read = lagReader(deps.config, () => streamTopics(deps.config.KAFKA_TOPIC_PREFIX), deps.logger.child({ component: 'lag-metrics' }));
  let busy = false;
  const timer = setInterval(() => {
    const state = worker.getState();
    if (state === 'STOPPED' || state === 'FAILED') {
      clearInterval(timer);
      return;
    }
    if (busy || state !== 'RUNNING') return;
    busy = true;
    read()
      .then((report) => gauges.apply(report))
      .catch((err: unknown) => deps.logger.warn({ err: String(err) }, 'reading consumer lag failed'))
      .finally(() => (busy = false));
  }, LAG_EVERY_MS);
  timer.unref();
}

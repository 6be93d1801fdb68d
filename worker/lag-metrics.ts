// Consumer lag as a Prometheus gauge, etl_consumer_lag{stream,topic,partition}: each partition's
// high watermark minus the offset the archive consumer group committed (what `etl status` and the
// dashboard show). The worker reads it itself every few seconds, so the lag is visible also when
// nothing consumes — which is exactly when it matters — and is exported next to the SDK's metrics.
import { Runtime, type Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../activities';
import { lagReader } from '../dashboard/lag';

const LAG_EVERY_MS = 5_000;

/** Polls until the worker has stopped; does nothing when the worker exports no metrics. */
export function startLagMetrics(worker: Worker, deps: Pick<ActivityDeps, 'config' | 'logger'>): void {
  if (deps.config.METRICS_PORT <= 0) return;
  const gauge = Runtime.instance().metricMeter.createGauge('etl_consumer_lag', 'int', 'records', 'Kafka records not yet archived, per stream and partition');
  const read = lagReader(deps.config, deps.logger.child({ component: 'lag-metrics' }));
  let busy = false;
  const poll = async () => {
    const report = await read();
    if (!report.available) return; // the reader logs the outage; the last values stay
    for (const t of report.topics) {
      for (const p of t.partitions) gauge.set(p.lag, { stream: t.stream, topic: t.topic, partition: String(p.partition) });
    }
  };
  const timer = setInterval(() => {
    const state = worker.getState();
    if (state === 'STOPPED' || state === 'FAILED') {
      clearInterval(timer);
      return;
    }
    if (busy || state !== 'RUNNING') return;
    busy = true;
    poll().catch((err: unknown) => deps.logger.warn({ err: String(err) }, 'reading consumer lag failed')).finally(() => (busy = false));
  }, LAG_EVERY_MS);
  timer.unref();
}

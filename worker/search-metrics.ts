// The search sink's lag as Prometheus gauges, read by the worker itself every few seconds (only
// when SEARCH_SINK=true): etl_search_lag_rows{stream} — flat rows loaded but not yet indexed at
// their current version — and etl_search_rejected_docs{stream}, the documents the index refused.
import { Runtime, type Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../activities';
import { searchLag } from '../lib/search-state';
import { getStream, streamNames } from '../streams';

const EVERY_MS = 10_000;

export function startSearchMetrics(worker: Worker, deps: Pick<ActivityDeps, 'config' | 'logger' | 'pool'>): void {
  if (deps.config.METRICS_PORT <= 0 || !deps.config.SEARCH_SINK) return;
  const meter = Runtime.instance().metricMeter;
  const lag = meter.createGauge(
    'etl_search_lag_rows',
    'int',
    'rows',
    'flat rows loaded but not yet indexed by the search sink, per stream',
  );
  const rejected = meter.createGauge(
    'etl_search_rejected_docs',
    'int',
    'documents',
    'documents OpenSearch refused (etl search rejected), per stream',
  );
  let busy = false;
  const timer = setInterval(() => {
    const state = worker.getState();
    if (state === 'STOPPED' || state === 'FAILED') return clearInterval(timer);
    if (busy || state !== 'RUNNING') return;
    busy = true;
    const streams = streamNames().filter((s) => getStream(s).search);
    Promise.all(
      streams.map(async (s) => {
        const r = await searchLag(deps.pool, s, getStream(s).flatTable);
        lag.set(r.rowsBehind, { stream: s });
        rejected.set(r.docsRejected, { stream: s });
      }),
    )
      .catch((err: unknown) => deps.logger.warn({ err: String(err) }, 'reading the search sink lag failed'))
      .finally(() => (busy = false));
  }, EVERY_MS);
  timer.unref();
}

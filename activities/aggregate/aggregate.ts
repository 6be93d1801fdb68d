// Aggregates: the stream's materialized views, refreshed after objects load. CONCURRENTLY:
// dashboards keep reading the previous contents while it refreshes.
import { ident } from '../../lib/sql';
import { getStream } from '../../streams';
import type { ActivityDeps } from '../deps';

export async function refreshAggregates(deps: ActivityDeps, input: { stream: string }): Promise<string[]> {
  const views = getStream(input.stream).materializedViews;
  for (const view of views) await deps.pool.query(`REFRESH MATERIALIZED VIEW CONCURRENTLY ${ident(view)}`);
  return [...views];
}

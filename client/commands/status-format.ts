import { WorkflowNotFoundError } from '@temporalio/client';
import { EtlError } from '../../lib/errors';
import { fmt, formatTable } from '../output';
import type { RunStatus, StreamStatus } from './status';

export async function onWorkflow<T>(workflowId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new EtlError('USAGE', `no workflow "${workflowId}"; \`etl status\` lists the running ones`, { cause: err });
    throw err;
  }
}

export function formatStreamStatuses(rows: StreamStatus[]): string {
  return rows.map((s) => {
    const lines = [`${s.stream} (topic ${s.topic})`];
    if ('unavailable' in s.lag) lines.push(`  consumer lag   unavailable: ${s.lag.unavailable}`);
    else {
      lines.push(`  consumer lag   ${fmt(s.lag.total)} records`);
      if (s.lag.partitions.length) lines.push(formatTable(['partition', 'end offset', 'committed', 'lag'], s.lag.partitions.map((p) => [p.partition, fmt(p.high), p.committed === null ? '-' : fmt(p.committed), fmt(p.lag)])).replace(/^/gm, '    '));
    }
    lines.push(`  last object    ${s.lastObject ? `${s.lastObject.key} (${fmt(s.lastObject.records)} records, ${s.lastObject.archivedAt})` : '-'}`);
    lines.push(`  last load      ${s.lastLoad ? `#${s.lastLoad.loadId} at ${s.lastLoad.loadedAt}: ${fmt(s.lastLoad.inserted)} rows${s.lastLoad.workflowId ? ` (${s.lastLoad.workflowId})` : ''}` : '-'}`);
    lines.push(`  last hour      ${fmt(s.lastHour.loaded)} loaded, ${fmt(s.lastHour.quarantined)} quarantined`);
    lines.push(`  schedules      ${s.schedules.map((x) => `${x.id}${x.paused ? ' (paused)' : ''} next ${x.nextRun ?? '-'}`).join('; ') || '-'}`);
    lines.push(`  running        ${s.running.map((r) => `${r.workflowId} (${r.type}) ${r.url}`).join('\n                 ') || '-'}`);
    return lines.join('\n');
  }).join('\n\n');
}

export function formatRunStatus(r: RunStatus): string {
  const lines = [`${r.workflowId} (${r.type}): ${r.status}`, `  started ${r.startedAt}${r.closedAt ? `, closed ${r.closedAt}` : ''}`];
  if (r.progress) {
    const p = r.progress;
    lines.push(`  stage ${p.stage}: ${fmt(p.objectsArchived)} objects / ${fmt(p.recordsArchived)} records archived, ${fmt(p.objectsLoaded)} objects loaded, ${fmt(p.rowsInserted)} rows inserted, ${fmt(p.duplicates)} duplicates, ${fmt(p.quarantined)} quarantined`);
  }
  lines.push(`  ${r.url}`);
  return lines.join('\n');
}

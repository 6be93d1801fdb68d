import { WorkflowNotFoundError } from '@temporalio/client';
import { EtlError } from '../../lib/errors';
import type { DriftSummary } from '../../lib/stream-drift';
import { describeParked } from '../../shared/parked';
import { fmt, formatTable, shownField } from '../output';
import type { RunProgress, RunStatus, StreamStatus } from './status';
import { describeFollower } from './stream';

export async function onWorkflow<T>(workflowId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new EtlError('USAGE', `no workflow "${workflowId}"; \`etl status\` lists the running ones`, { cause: err });
    throw err;
  }
}

export function formatStreamStatuses(rows: StreamStatus[]): string {
  return rows
    .map((s) => {
      const lines = [`${s.stream} (topic ${s.topic})`];
      if ('unavailable' in s.lag) lines.push(`  consumer lag   unavailable: ${s.lag.unavailable}`);
      else {
        lines.push(`  consumer lag   ${fmt(s.lag.total)} records`);
        if (s.lag.partitions.length)
          lines.push(
            formatTable(
              ['partition', 'end offset', 'committed', 'lag'],
              s.lag.partitions.map((p) => [p.partition, fmt(p.high), p.committed === null ? '-' : fmt(p.committed), fmt(p.lag)]),
            ).replace(/^/gm, '    '),
          );
      }
      lines.push(
        `  last object    ${s.lastObject ? `${s.lastObject.key} (${fmt(s.lastObject.records)} records, ${s.lastObject.archivedAt})` : '-'}`,
      );
      lines.push(
        `  last load      ${s.lastLoad ? `#${s.lastLoad.loadId} at ${s.lastLoad.loadedAt}: ${fmt(s.lastLoad.inserted)} rows${s.lastLoad.workflowId ? ` (${s.lastLoad.workflowId})` : ''}` : '-'}`,
      );
      lines.push(`  last hour      ${fmt(s.lastHour.loaded)} loaded, ${fmt(s.lastHour.quarantined)} quarantined`);
      lines.push(
        `  schedules      ${s.schedules.map((x) => `${x.id}${x.paused ? ' (paused)' : ''} next ${x.nextRun ?? '-'}`).join('; ') || '-'}`,
      );
      lines.push(`  running        ${s.running.map((r) => `${r.workflowId} (${r.type}) ${r.url}`).join('\n                 ') || '-'}`);
      lines.push(`  parked         ${s.parked.length ? `${s.parked.length} object(s); after the fix: etl objects retry <id>` : '-'}`);
      if (s.search) {
        const x = s.search;
        lines.push(
          `  search index   ${fmt(x.rowsBehind)} rows behind (${fmt(x.objectsBehind)} objects), ${fmt(x.docsIndexed)} documents indexed, ` +
            `${fmt(x.docsRejected)} rejected${x.docsRejected ? ' (etl search rejected)' : ''}; last indexed ${x.lastIndexedAt ?? 'never'}`,
        );
      }
      lines.push(`  drift          ${s.drift ? describeDrift(s.drift) : '-'}`);
      for (const p of s.parked) lines.push(`    ${describeParked(p, 100)} since ${p.since} (${p.key})`);
      return lines.join('\n');
    })
    .join('\n\n');
}

/** `2 undeclared fields (venue, meta) in 1,240 records, last seen …; etl stream drift fx_quotes` */
export function describeDrift(d: DriftSummary): string {
  const more = d.fields > d.names.length ? `, ${fmt(d.fields - d.names.length)} more` : '';
  return (
    `${fmt(d.fields)} undeclared field${d.fields === 1 ? '' : 's'} (${d.names.map(shownField).join(', ')}${more}) in ${fmt(d.records)} records, ` +
    `last seen ${d.lastSeenAt}; etl stream drift ${d.stream}`
  );
}

const n = (v: unknown) => (typeof v === 'number' ? fmt(v) : '-');
const parkedNote = (p: RunProgress) =>
  typeof p.objectsParked === 'number' && p.objectsParked > 0 ? `, ${fmt(p.objectsParked)} objects parked` : '';

/** The counts a run of each workflow type reports, in words; other types list their numbers. */
function describeProgress(type: string, p: RunProgress): string {
  switch (type) {
    case 'pipelineWorkflow':
      return (
        `${n(p.objectsArchived)} objects / ${n(p.recordsArchived)} records archived, ${n(p.objectsLoaded)} objects loaded, ` +
        `${n(p.rowsInserted)} rows inserted, ${n(p.duplicates)} duplicates, ${n(p.quarantined)} quarantined${parkedNote(p)}`
      );
    case 'streamWorkflow':
      return (
        `${n(p.runs)} runs, ${n(p.iterations)} flushes loaded (last ${typeof p.lastFlushAt === 'string' ? p.lastFlushAt : 'none yet'}), ` +
        `${n(p.recordsArchived)} records archived by finished followers, ${n(p.objectsLoaded)} objects loaded, ${n(p.rowsInserted)} rows inserted, ` +
        `${n(p.duplicates)} duplicates, ${n(p.quarantined)} quarantined${parkedNote(p)}${p.stopRequested === true ? ' (stop requested)' : ''}`
      );
    case 'replayWorkflow':
      return (
        `${n(p.objectsDone)}/${n(p.objectsTotal)} objects replayed (${n(p.records)} records): ${n(p.inserted)} inserted, ${n(p.updated)} updated, ` +
        `${n(p.duplicates)} duplicates, ${n(p.conflicts)} conflicting, ${n(p.nowInvalid)} now invalid, ${n(p.refused)} refused by PostgreSQL (stay quarantined), ` +
        `${n(p.refusedUpdates)} updates refused by PostgreSQL (kept), ${n(p.objectsNotLoaded)} objects not loaded yet`
      );
    default: {
      const counts = Object.entries(p)
        .filter(([, v]) => typeof v === 'number')
        .map(([k, v]) => `${k} ${fmt(v as number)}`);
      return counts.join(', ') || 'no counts';
    }
  }
}

export function formatRunStatus(r: RunStatus): string {
  const lines = [`${r.workflowId} (${r.type}): ${r.status}`, `  started ${r.startedAt}${r.closedAt ? `, closed ${r.closedAt}` : ''}`];
  if (r.progress) lines.push(`  stage ${r.progress.stage ?? '-'}: ${describeProgress(r.type, r.progress)}`);
  else if (r.status === 'RUNNING') lines.push('  stage unknown: no worker answered the progress query (`etl worker`)');
  if (r.follower) lines.push(`  follower: ${describeFollower(r.follower)}`);
  if (r.failure) lines.push(`  failure: ${r.failure}`);
  lines.push(`  ${r.url}`);
  return lines.join('\n');
}

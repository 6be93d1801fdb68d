// The reconciliation report: what was produced, where it ended up, which faults were injected and
// how the pipeline took them, and every discrepancy. `--json` prints the object itself.
import type { ServiceName } from '../../client/stack';
import { fmt, formatTable } from '../../client/output';
import type { Check } from './check';
import type { RunRecord } from './driver';
import type { KillRecord, RestartRecord } from './faults';
import type { RetriedActivity } from './history';
import type { WorkerExit } from './worker-proc';

export interface ChaosReport {
  id: string;
  seed: number;
  passed: boolean;
  /** One line per discrepancy or unmet part of the fault plan; empty when the run passed. */
  problems: string[];
  produced: { records: number; good: number; bad: number; badByKind: Record<string, number>; duplicates: number; seconds: number };
  loaded: number;
  raw: number;
  quarantined: { total: number; byReason: Record<string, number> };
  deduplicated: number;
  objects: number;
  orphans: string[];
  runs: {
    workflowId: string;
    status: string;
    seconds: number;
    archived?: number;
    inserted?: number;
    duplicates?: number;
    quarantined?: number;
    failure?: string;
  }[];
  kills: { requested: number; done: number; byActivity: Record<string, number>; list: KillRecord[] };
  restarts: { requested: ServiceName[]; list: RestartRecord[] };
  /** From the runs' event histories: activities that needed more than one attempt, and why. */
  retried: { total: number; byTypeAndCause: Record<string, number>; list: RetriedActivity[] };
  workerExitsOnTheirOwn: WorkerExit[];
  checks: Check[];
  timings: { wallS: number; produceS: number; drainedAtS: number | null; reconcileS: number };
  isolated: { schema: string; topic: string; s3Prefix: string; taskQueue: string; kept: boolean; workerLog: string };
}

export const runSummary = (r: RunRecord): ChaosReport['runs'][number] => ({
  workflowId: r.workflowId,
  status: r.status,
  seconds: Math.round(((r.endedAt ?? Date.now()) - r.startedAt) / 100) / 10,
  ...(r.result
    ? {
        archived: r.result.recordsArchived,
        inserted: r.result.rowsInserted,
        duplicates: r.result.duplicates,
        quarantined: r.result.quarantined,
      }
    : {}),
  ...(r.failure ? { failure: r.failure } : {}),
});

export function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

const list = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, n]) => `${k} ${fmt(n)}`)
    .join(', ') || 'none';
const secs = (s: number | null | undefined) => (s === null || s === undefined ? '—' : s.toFixed(1));

export function formatChaosReport(r: ChaosReport): string {
  const out: string[] = [];
  out.push(
    `Chaos run ${r.id} — seed ${r.seed}, ${fmt(r.produced.records)} events, ${r.kills.requested} kills, restarts: ${r.restarts.requested.join(', ') || 'none'}`,
  );
  out.push(r.passed ? 'PASSED: no discrepancy' : `FAILED: ${r.problems.length} problem(s)`);
  for (const p of r.problems) out.push(`  - ${p}`);
  out.push('');
  out.push(
    formatTable(
      ['', ''],
      [
        [
          'produced',
          `${fmt(r.produced.records)} records in ${secs(r.produced.seconds)} s: ${fmt(r.produced.good)} good, ${fmt(r.produced.bad)} bad (${list(r.produced.badByKind)}), ${fmt(r.produced.duplicates)} duplicates`,
        ],
        ['loaded', `${fmt(r.loaded)} rows in transactions_flat (raw_transactions ${fmt(r.raw)})`],
        ['quarantined', `${fmt(r.quarantined.total)}: ${list(r.quarantined.byReason)}`],
        ['deduplicated', fmt(r.deduplicated)],
        [
          'objects',
          `${fmt(r.objects)} bronze objects, ${r.orphans.length} orphan(s)${r.orphans.length ? ': ' + r.orphans.slice(0, 5).join(', ') : ''}`,
        ],
        ['pipeline', `${r.runs.length} run(s), drained after ${secs(r.timings.drainedAtS)} s`],
      ],
    )
      .split('\n')
      .slice(2)
      .join('\n'),
  );
  out.push('');
  out.push(`Kills: ${r.kills.done} of ${r.kills.requested} (${list(r.kills.byActivity)})`);
  if (r.kills.list.length) {
    out.push(
      formatTable(
        ['#', 'at (s)', 'aimed at', 'killed during', 'retried (history)'],
        r.kills.list.map((k, i) => [
          i + 1,
          secs(k.at),
          k.aimedAt.join('/') + (k.fallback ? ' (missed)' : ''),
          k.killed.map((a) => `${a.type}#${a.activityId}`).join(' + '),
          k.confirmed === undefined ? '?' : k.confirmed ? 'yes' : 'no',
        ]),
      ),
    );
  }
  out.push('', `Restarts: ${r.restarts.list.length} of ${r.restarts.requested.length}`);
  if (r.restarts.list.length) {
    out.push(
      formatTable(
        ['service', 'at (s)', 'during', 'stop (s)', 'start (s)', 'recovered after (s)', 'error'],
        r.restarts.list.map((x) => [
          x.service,
          secs(x.at),
          x.during.join(' + ') || '—',
          secs(x.stopS),
          secs(x.startS),
          secs(x.recoveredAfterS),
          x.error ?? '',
        ]),
      ),
    );
  }
  out.push('', `Retried activities in the event histories: ${r.retried.total} (${list(r.retried.byTypeAndCause)})`);
  if (r.workerExitsOnTheirOwn.length)
    out.push(`Worker exits on its own: ${r.workerExitsOnTheirOwn.map((e) => `code ${e.code} signal ${e.signal}`).join('; ')}`);
  out.push('', `Reconciliation: ${r.checks.filter((c) => c.passed).length}/${r.checks.length} checks passed`);
  out.push(
    formatTable(
      ['check', 'result', 'observed', 'expected'],
      r.checks.map((c) => [c.name, c.passed ? 'PASS' : 'FAIL', c.observed, c.expected]),
    ),
  );
  out.push(
    '',
    `Wall time ${secs(r.timings.wallS)} s (producing ${secs(r.timings.produceS)} s alongside the pipeline; drained at ${secs(r.timings.drainedAtS)} s; reconciliation ${secs(r.timings.reconcileS)} s)`,
  );
  out.push(
    r.isolated.kept
      ? `Kept: schema ${r.isolated.schema}, topic ${r.isolated.topic}, s3 prefix ${r.isolated.s3Prefix}, task queue ${r.isolated.taskQueue}, worker log ${r.isolated.workerLog}`
      : `Removed the run's schema, topic and S3 prefix${r.passed ? '' : `; worker log kept at ${r.isolated.workerLog}`}`,
  );
  return out.join('\n');
}

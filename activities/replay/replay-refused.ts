// A replay from bronze whose merge PostgreSQL refused (a data exception, a constraint: a value the
// current rules derive and the stream's storability guard did not foresee) sets the refused rows
// aside with the load's own search (activities/transform-load/load-isolation.ts) and replays every
// other record of the object in the same transaction. Two statements of a replay store derived
// values, so both are probed, each on the lines it writes:
// - the update of loaded rows (spec.updateFromStagingSql), on every line: a loaded row it is refused
//   for keeps its old columns; it is never deleted nor quarantined, which would put one record in two
//   places (`refusedUpdates`);
// - the insert of previously quarantined records (spec.insertFromStagingSql), on their lines only:
//   a record it is refused for stays quarantined, its quarantine row open (`refused`).
// Then the replay's own merge runs range by range, bisecting whatever is still refused together.
//
// A refused quarantined record keeps the reason code and reason its load gave it. Re-coding it
// LOAD_REJECTED would make the object's manifest lie: its rejected_count and quarantined_count
// describe its own load, quality reconciles them with the quarantine rows by reason code
// (load_counts_match_rows, quarantine_rows_match_manifest), and a replay never rewrites the manifest.
// The refusal is reported instead, with PostgreSQL's SQLSTATE and message: in the replay's counts
// (kept in its load row's replay_stats), the worker's log and `etl replay`'s summary.
import type pg from 'pg';
import type { RefusedCounts } from '../../shared/replay-counts';
import type { StreamSpec } from '../../streams/types';
import { mergeBisecting, refusedAlone, refusedLines, type LineRange, type RefusedLine } from '../transform-load/load-isolation';
import type { MergeTarget } from '../transform-load/staging';

/** How many examples of each kind one object's replay counts keep. */
export const SAMPLE = 5;

/** The object's lines in `staging_lines`: all of them, and the range of the previously quarantined ones (the last). */
export interface StagedLines {
  all?: LineRange;
  open?: LineRange;
}

/** Runs `merge` over the object's lines, range by range, without the lines PostgreSQL refuses; returns both. */
export async function mergeReplaySettingAsideRefused<T>(
  client: pg.PoolClient,
  replay: { spec: StreamSpec; target: MergeTarget; lines: { all: LineRange; open?: LineRange | undefined } },
  merge: () => Promise<T>,
): Promise<{ merged: T[]; refused: RefusedLine[] }> {
  const { spec, target, lines } = replay;
  const refused = await refusedAlone(client, spec.updateFromStagingSql, target, lines.all);
  if (lines.open) {
    for (const [line, why] of await refusedAlone(client, spec.insertFromStagingSql, target, lines.open))
      if (!refused.has(line)) refused.set(line, why);
  }
  const merged = await mergeBisecting(client, lines.all, refused, merge);
  return { merged, refused: await refusedLines(client, refused) };
}

const MESSAGE_CHARS = 160;

/**
 * Counts the refused lines into `counts`: a record with an open quarantine row (`partition@offset`
 * in `openOffsets`) stays quarantined (`refused`), any other is a loaded row kept as it was
 * (`refusedUpdates`). By SQLSTATE, with a few examples.
 */
export function countRefused(counts: RefusedCounts, refused: readonly RefusedLine[], openOffsets: ReadonlySet<string>): void {
  for (const r of refused) {
    const doc = JSON.parse(r.line) as { kafka_partition?: unknown; kafka_offset?: unknown }; // our own silver line
    const at = `${String(doc.kafka_partition)}@${String(doc.kafka_offset)}`;
    const message = r.message.length > MESSAGE_CHARS ? `${r.message.slice(0, MESSAGE_CHARS - 1)}…` : r.message;
    const [n, byState, sample] = openOffsets.has(at)
      ? (['refused', counts.refusedByState, counts.refusedSample] as const)
      : (['refusedUpdates', counts.refusedUpdatesByState, counts.refusedUpdatesSample] as const);
    counts[n]++;
    byState[r.sqlState] = (byState[r.sqlState] ?? 0) + 1;
    if (sample.length < SAMPLE) sample.push(`${at} ${r.sqlState} ${message}`);
  }
}

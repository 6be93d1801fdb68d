// What a replay from bronze counts: one object's counts (activities/replay/replay.ts) and the
// window's totals that add them up (workflows/replay.ts). Pure, so both may import it.

/** The counts of a replay's refused rows (activities/replay/replay-refused.ts). */
export interface RefusedCounts {
  /**
   * Quarantined records the current rules accept but PostgreSQL refuses to store: they stay
   * quarantined, with the reason their load gave them; by SQLSTATE, and `partition@offset SQLSTATE message` of a few.
   */
  refused: number;
  refusedByState: Record<string, number>;
  refusedSample: string[];
  /** Loaded rows whose newly derived columns PostgreSQL refuses: kept as they were. */
  refusedUpdates: number;
  refusedUpdatesByState: Record<string, number>;
  refusedUpdatesSample: string[];
}

export interface ReplayCounts extends RefusedCounts {
  /** Records read from the bronze object. */
  records: number;
  /** Previously quarantined records now loaded as new rows. */
  inserted: number;
  /** Previously quarantined records whose key was already loaded with the same payload. */
  duplicates: number;
  /** Flat rows whose derived columns changed. */
  updated: number;
  /** Records with a key already loaded with a different payload: they stay quarantined. */
  conflicts: number;
  /** Records already loaded that the current rules reject: kept, reported. */
  nowInvalid: number;
  nowInvalidByCode: Record<string, number>;
  /** `partition@offset CODE` of a few of them. */
  nowInvalidSample: string[];
  /** Quarantined records the current rules still reject. */
  stillQuarantined: number;
  /** Records never quarantined whose derived key is not loaded: the key rule changed; not inserted. */
  rekeyed: number;
}

export const emptyReplayCounts = (): ReplayCounts => ({
  records: 0,
  inserted: 0,
  duplicates: 0,
  updated: 0,
  conflicts: 0,
  nowInvalid: 0,
  nowInvalidByCode: {},
  nowInvalidSample: [],
  stillQuarantined: 0,
  rekeyed: 0,
  refused: 0,
  refusedByState: {},
  refusedSample: [],
  refusedUpdates: 0,
  refusedUpdatesByState: {},
  refusedUpdatesSample: [],
});

const COUNTS = ['records', 'inserted', 'duplicates', 'updated', 'conflicts', 'nowInvalid', 'stillQuarantined', 'rekeyed'] as const;

function addBreakdown(into: Record<string, number>, from: Record<string, number> | undefined): void {
  for (const [key, n] of Object.entries(from ?? {})) into[key] = (into[key] ?? 0) + n;
}

function addSample(into: string[], from: readonly string[] | undefined, kept: number): void {
  into.push(...(from ?? []).slice(0, Math.max(0, kept - into.length)));
}

/**
 * Adds `from` into `into`: the counts, the breakdowns, and the samples until each holds `kept`.
 * A count `from` lacks adds nothing: a merge counts only some, and a worker older than the refused
 * counts returns none of them.
 */
export function addReplayCounts(into: ReplayCounts, from: Partial<ReplayCounts>, kept: number): void {
  for (const k of COUNTS) into[k] += from[k] ?? 0;
  addBreakdown(into.nowInvalidByCode, from.nowInvalidByCode);
  addSample(into.nowInvalidSample, from.nowInvalidSample, kept);
  into.refused += from.refused ?? 0;
  addBreakdown(into.refusedByState, from.refusedByState);
  addSample(into.refusedSample, from.refusedSample, kept);
  into.refusedUpdates += from.refusedUpdates ?? 0;
  addBreakdown(into.refusedUpdatesByState, from.refusedUpdatesByState);
  addSample(into.refusedUpdatesSample, from.refusedUpdatesSample, kept);
}

// What a discovery of a non-Kafka source found: one call's counts (activities/files/discover.ts) and
// the run's totals that add the calls up (workflows/source.ts). Pure, so both may import it.

/** What a discovery found: counts only (the units themselves are in the manifest). */
export interface SourceDiscovered {
  /** Units found at the location. */
  seen: number;
  /** Registered by this discovery (new, or a new version of a known one). */
  new: number;
  /** Of the new ones: a new version of a unit seen before under the same name. */
  changed: number;
  /** Known and already read: skipped. */
  alreadyLoaded: number;
  /** Known but not read yet (left by an earlier run): read now. */
  pending: number;
  /** Known and failed before: not read again (a changed file is a new version). */
  failedBefore: number;
  /** Found but not of a kind this source reads (files: an unknown extension). */
  unsupported: number;
  /** A few names of those, for the report. */
  unsupportedNames: string[];
  /** Found but cannot be read (permission denied, a vanished mount, a dangling link, not a regular file): the run fails naming them. */
  unreadable: number;
  /** A few of those, with why. */
  unreadableFiles: { location: string; reason: string }[];
}

/** Names of unsupported or unreadable entries a discovery keeps for its report. */
export const NAMES_KEPT = 10;

export const nothingDiscovered = (): SourceDiscovered => ({
  seen: 0,
  new: 0,
  changed: 0,
  alreadyLoaded: 0,
  pending: 0,
  failedBefore: 0,
  unsupported: 0,
  unsupportedNames: [],
  unreadable: 0,
  unreadableFiles: [],
});

/** The counts of discovery's steps added up; the names kept are the first few. */
export function addDiscovered(total: SourceDiscovered | null, step: SourceDiscovered): SourceDiscovered {
  const t = total ?? nothingDiscovered();
  return {
    seen: t.seen + step.seen,
    new: t.new + step.new,
    changed: t.changed + step.changed,
    alreadyLoaded: t.alreadyLoaded + step.alreadyLoaded,
    pending: t.pending + step.pending,
    failedBefore: t.failedBefore + step.failedBefore,
    unsupported: t.unsupported + step.unsupported,
    unsupportedNames: [...t.unsupportedNames, ...step.unsupportedNames].slice(0, NAMES_KEPT),
    // A run carried over continue-as-new from before these fields has none.
    unreadable: (t.unreadable ?? 0) + step.unreadable,
    unreadableFiles: [...(t.unreadableFiles ?? []), ...step.unreadableFiles].slice(0, NAMES_KEPT),
  };
}

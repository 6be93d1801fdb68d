// What a chaos run does, and its defaults. The CLI (main.ts) and the in-process test both build a
// ChaosOptions; nothing here reads the environment (that is lib/config.ts's job).
import type { ServiceName } from '../../client/stack';

export const ACTIVITY_TARGETS = ['archive', 'transformAndLoad'] as const;

export const RESTARTABLE: readonly ServiceName[] = ['kafka', 'postgres', 's3', 'temporal'];

export interface ChaosOptions {
  /** Kafka records written in all: good events, bad records and duplicates together. */
  events: number;
  seed: number;
  /** Worker SIGKILLs, each aimed at whichever of archive and transform-and-load has been killed least. */
  kills: number;
  /** Share of `events` that are bad records, one kind of BAD_KINDS (produce-mix.ts) after another. */
  badShare: number;
  /** Share of `events` that re-send an earlier good event with the same payload. */
  dupShare: number;
  /** Servers restarted once each, mid-run. */
  restarts: ServiceName[];
  /** Leave the isolated schema, topic, S3 prefix and worker log in place. */
  keep: boolean;
  /** ARCHIVE_MAX_RECORDS_PER_OBJECT of the run: smaller objects give more activities to kill. */
  recordsPerObject: number;
  /** The run fails if the pipeline has not drained by then. */
  timeoutMs: number;
  /** How often the run's pending activities are read (kills aim with it). */
  pollMs: number;
  log: (line: string) => void;
  /** Aborting stops injecting faults, then drains, cleans up and reports what happened so far. */
  signal?: AbortSignal;
}

/** Objects of ~2% of the run (50 objects), within [1,000, 20,000] records. */
export function defaultRecordsPerObject(events: number): number {
  return Math.min(20_000, Math.max(1_000, Math.round(events / 50)));
}

export function withDefaults(partial: Partial<ChaosOptions> & Pick<ChaosOptions, 'events'>): ChaosOptions {
  const { events } = partial;
  return {
    seed: 42,
    kills: 10,
    badShare: 0.01,
    dupShare: 0.005,
    restarts: [...RESTARTABLE],
    keep: false,
    recordsPerObject: defaultRecordsPerObject(events),
    // A killed activity comes back after its 20 s heartbeat timeout; allow for many of them.
    timeoutMs: 60 * 60_000,
    pollMs: 200,
    log: () => undefined,
    ...partial,
  };
}

// Stub activities for the replay: a window of loaded bronze objects (ids with gaps, so a cursor
// that counts instead of following ids shows), paged by id as listObjectsInWindow pages it, and a
// replayObject with fixed per-object counts. Calls are recorded with the run they came from.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ReplayObjectResult, WindowPage } from '../../activities/replay/replay';
import type { ReplayCounts } from '../../shared/replay-counts';
import type { StubActivities } from './env';
import { failFor, PARKING_CODE, QUALITY_PASSED } from './fake-work-queue';

const CODES = ['AMOUNT_NEGATIVE', 'CURRENCY_UNKNOWN'] as const;

/** What replaying object `id` finds: fixed, so a test knows its totals. */
export function countsOf(id: number): ReplayCounts {
  const nowInvalid = id % 5 === 0 ? 1 : 0;
  const refused = id % 4 === 0 ? 1 : 0;
  const refusedUpdates = id % 6 === 0 ? 2 : 0;
  return {
    records: 10 + (id % 4),
    inserted: id % 3 === 0 ? 1 : 0,
    duplicates: id % 7 === 0 ? 1 : 0,
    updated: id % 2,
    conflicts: id % 11 === 0 ? 1 : 0,
    nowInvalid,
    nowInvalidByCode: nowInvalid ? { [CODES[id % 2]!]: 1 } : {},
    nowInvalidSample: nowInvalid ? [`object ${id}`] : [],
    stillQuarantined: id % 13 === 0 ? 2 : 0,
    rekeyed: id % 17 === 0 ? 1 : 0,
    refused,
    refusedByState: refused ? { '23514': 1 } : {},
    refusedSample: refused ? [`refused ${id}`] : [],
    refusedUpdates,
    refusedUpdatesByState: refusedUpdates ? { '22003': 1, '23502': 1 } : {},
    refusedUpdatesSample: refusedUpdates ? [`update ${id} a`, `update ${id} b`] : [],
  };
}

export class FakeWindow {
  readonly ids: number[];
  readonly replayCalls = new Map<number, number>();
  /** afterId of each listing, in order, and the run that listed. */
  readonly listings: number[] = [];
  readonly listingRuns: number[] = [];
  readonly runKeys = new Set<string>();
  readonly runIds: string[] = [];
  readonly log: string[] = [];
  readonly qualityRunIds: string[] = [];

  /**
   * `count` loaded objects with ids 3, 6, 9, …; `notLoaded` more in the window without a load yet
   * (never listed); `raced` ids lost their load between the listing and the replay; the replay of
   * `failing` ids fails for good.
   */
  constructor(
    count: number,
    readonly notLoaded = 0,
    readonly raced = new Set<number>(),
    readonly failing = new Set<number>(),
  ) {
    this.ids = Array.from({ length: count }, (_, i) => 3 * (i + 1));
  }

  private run(): number {
    const runId = Context.current().info.workflowExecution?.runId ?? '';
    if (!this.runIds.includes(runId)) this.runIds.push(runId);
    return this.runIds.indexOf(runId) + 1;
  }

  activities(): StubActivities {
    return {
      listObjectsInWindow: async ({ afterId, limit }): Promise<WindowPage> => {
        this.listingRuns.push(this.run());
        this.listings.push(afterId);
        const after = this.ids.filter((id) => id > afterId);
        return {
          objects: after.slice(0, limit).map((id) => ({ bronzeObjectId: id, objectKey: `bronze/${id}.ndjson`, recordCount: 10 })),
          remaining: after.length,
          notLoaded: this.notLoaded,
        };
      },
      replayObject: async ({ bronzeObjectId: id, runKey }): Promise<ReplayObjectResult> => {
        this.log.push(`replay:${this.run()}:${id}`);
        if (!this.ids.includes(id)) throw ApplicationFailure.nonRetryable(`object ${id} is not in the window`);
        this.replayCalls.set(id, (this.replayCalls.get(id) ?? 0) + 1);
        if (runKey) this.runKeys.add(runKey);
        if (this.failing.has(id)) throw failFor(id, 'replay');
        // A raced object's counts are not zero here, so a replay that added them would show it.
        if (this.raced.has(id)) return { ...countsOf(id), bronzeObjectId: id, loadId: null, notLoaded: true, alreadyReplayed: false };
        return { ...countsOf(id), bronzeObjectId: id, loadId: id, notLoaded: false, alreadyReplayed: false };
      },
      // The search sink is off here: no lane to start.
      searchSinkLane: async () => null,
      writeLake: async ({ bronzeObjectId: id }) => {
        this.log.push(`lake:${this.run()}:${id}`);
        return { bronzeObjectId: id, upToDate: false, rowsVersion: 2, rows: 1, files: 1, bytes: 1, removed: 0 };
      },
      listLakeBehind: async () => {
        this.log.push(`lake-behind:${this.run()}`);
        return [];
      },
      refreshAggregates: async () => {
        this.log.push(`aggregate:${this.run()}`);
        return ['daily_summary'];
      },
      quality: async ({ runId }) => {
        this.log.push(`quality:${this.run()}`);
        this.qualityRunIds.push(runId);
        return QUALITY_PASSED;
      },
    };
  }

  /** The totals a replay of the whole window reports, summed here from countsOf. */
  expectedTotals() {
    const replayed = this.ids.filter((id) => !this.raced.has(id) && !this.failing.has(id));
    const sum = (
      k:
        | 'records'
        | 'inserted'
        | 'duplicates'
        | 'updated'
        | 'conflicts'
        | 'nowInvalid'
        | 'stillQuarantined'
        | 'rekeyed'
        | 'refused'
        | 'refusedUpdates',
    ) => replayed.reduce((n, id) => n + countsOf(id)[k], 0);
    const breakdown = (k: 'nowInvalidByCode' | 'refusedByState' | 'refusedUpdatesByState') => {
      const by: Record<string, number> = {};
      for (const id of replayed) for (const [code, n] of Object.entries(countsOf(id)[k])) by[code] = (by[code] ?? 0) + n;
      return by;
    };
    return {
      objectsDone: this.ids.length,
      objectsTotal: this.ids.length,
      objectsNotLoaded: this.notLoaded,
      afterId: this.ids.at(-1) ?? 0,
      objectsFailed: this.failing.size,
      failedSample: [...this.failing].map((id) => `#${id} ${PARKING_CODE}: object ${id}: replay failed for good`),
      // The lake follows every object replayed (raced ones have no load, failed ones keep their rows).
      lakeObjectsWritten: replayed.length,
      lakeFailed: 0,
      records: sum('records'),
      inserted: sum('inserted'),
      duplicates: sum('duplicates'),
      updated: sum('updated'),
      conflicts: sum('conflicts'),
      nowInvalid: sum('nowInvalid'),
      nowInvalidByCode: breakdown('nowInvalidByCode'),
      stillQuarantined: sum('stillQuarantined'),
      rekeyed: sum('rekeyed'),
      refused: sum('refused'),
      refusedByState: breakdown('refusedByState'),
      refusedUpdates: sum('refusedUpdates'),
      refusedUpdatesByState: breakdown('refusedUpdatesByState'),
    };
  }

  /** Every sample of one kind a replay may keep. */
  samples(k: 'nowInvalidSample' | 'refusedSample' | 'refusedUpdatesSample' = 'nowInvalidSample'): Set<string> {
    return new Set(this.ids.filter((id) => !this.raced.has(id) && !this.failing.has(id)).flatMap((id) => countsOf(id)[k]));
  }
}

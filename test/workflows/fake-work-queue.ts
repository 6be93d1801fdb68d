// Stub activities for the pipeline and the continuous stream: an in-memory manifest of bronze
// objects (the work queue) that archive or the follower write to and the one transform-and-load pass drains.
// Every call is logged in order and counted per object, so a test can say "each object loaded
// exactly once" and "aggregates after the last load"; hooks hold a call where a test needs it, and
// objects set to fail for good are parked through the stub parkObject.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type {
  ArchiveResult,
  FollowResult,
  LakeWriteResult,
  ParkInput,
  PendingObject,
  QualityResult,
  TransformLoadResult,
} from '../../activities';
import { toFailure } from '../../activities/failures';
import { EtlError } from '../../lib/errors';
import type { StubActivities } from './env';

export interface FakeObject {
  id: number;
  records: number;
  /** Which run of the workflow chain wrote it (1 = the first; 0: there before the chain began). */
  writtenInRun: number;
  /** Which run loaded it. */
  loadedInRun?: number;
  loaded: boolean;
  /** Another workflow loads it between this run's listing and its load (a stream beside a scheduled run). */
  loadedElsewhere?: boolean;
  /** Its transform-and-load pass fails for good (a permanent error code, as the activity wrapper reports it). */
  failsAt?: 'transform-load';
  /** Parked: out of the work queue, with what the workflow said. */
  parked?: ParkInput;
  /** Its lake write fails for good (UNKNOWN_ERROR at its last attempt): loaded, lake behind. */
  lakeFails?: boolean;
  /** Its lake files are current. */
  lakeWritten?: boolean;
}

/** The permanent failure a stub's step ends with: the real wrapper's ApplicationFailure for a permanent EtlError. */
export const PARKING_CODE = 'BRONZE_OBJECT_MISSING';
export const failFor = (id: number, step: string) =>
  toFailure(new EtlError(PARKING_CODE, `object ${id}: ${step} failed for good`), { attempt: 1, unexplained: 0, maxUnknownAttempts: 3 });

// Fixed per-object outcomes, so a test knows its totals without asking the code under test.
export const recordsOf = (id: number) => 10 + (id % 5);
export const quarantinedByTransform = (id: number) => (id % 4 === 0 ? 1 : 0);
export const duplicatesOf = (id: number) => (id % 3 === 0 ? 2 : 0);
export const conflictsOf = (id: number) => (id % 7 === 0 ? 1 : 0);

export interface ArchiveStep {
  objects: number;
  caughtUp: boolean;
  /** Awaited before the step writes its objects. */
  before?: () => Promise<void>;
}

export interface FollowScript {
  /** Objects written when each run's follower starts. */
  atStart: number;
  /** Objects written when it is cancelled (what it had read but not yet written). */
  atStop: number;
  /** Awaited once cancelled, before the last objects are written. */
  onCancel?: (run: number) => Promise<void>;
}

export const QUALITY_PASSED: QualityResult = { passed: true, checks: [{ name: 'stub', passed: true, observed: '0', expected: '0' }] };

export class FakeWorkQueue {
  readonly log: string[] = [];
  readonly objects = new Map<number, FakeObject>();
  /** transformAndLoad calls per object. */
  readonly loadCalls = new Map<number, number>();
  /** writeLake calls per object, and the writes that wrote (the others found the lake current). */
  readonly lakeCalls = new Map<number, number>();
  readonly lakeWrites = new Map<number, number>();
  /** Run ids of the workflow chain in the order their first activity ran. */
  readonly runIds: string[] = [];
  readonly qualityRunIds: string[] = [];
  readonly parkCalls: ParkInput[] = [];
  /** Objects (by id, when written) whose transform-and-load will fail for good. */
  readonly failing = new Map<number, 'transform-load'>();
  emptyListings = 0;
  maxLoadsAtOnce = 0;
  followerCancellations = 0;
  private loadsNow = 0;
  private archiveCalls = 0;
  private nextId = 1;

  /** Awaited before a load of object `id` completes. */
  holdLoad?: (id: number) => Promise<void> | undefined;
  /** Awaited before a listing of the work queue looks. */
  beforeListing?: () => Promise<void>;
  /** True: an empty long-poll of this run waits until there is work or it is cancelled, not `waitMs` (a drain, waitMs 0, never waits). */
  holdEmptyPolls?: (run: number) => boolean;

  /** The run (1, 2, …) of the activity calling this. */
  run(): number {
    const runId = Context.current().info.workflowExecution?.runId ?? '';
    if (!this.runIds.includes(runId)) this.runIds.push(runId);
    return this.runIds.indexOf(runId) + 1;
  }

  write(count: number, run: number, preset: Partial<FakeObject> = {}): FakeObject[] {
    const written = Array.from({ length: count }, () => {
      const id = this.nextId++;
      const obj: FakeObject = {
        id,
        records: recordsOf(id),
        writtenInRun: run,
        loaded: false,
        failsAt: this.failing.get(id),
        ...preset,
      };
      this.objects.set(id, obj);
      return obj;
    });
    this.log.push(`write:${written.map((o) => o.id).join(',')}`);
    return written;
  }

  unloaded(limit: number): PendingObject[] {
    return [...this.objects.values()]
      .filter((o) => !o.loaded && !o.parked)
      .slice(0, limit)
      .map((o) => ({ bronzeObjectId: o.id, objectKey: `bronze/${o.id}.ndjson`, recordCount: o.records }));
  }

  /** What this workflow chain should count for objects `ids` (objects another workflow loaded, or parked, count nothing). */
  expectedLoadTotals(ids: number[] = [...this.objects.keys()]) {
    const ours = ids.map((id) => this.objects.get(id)!).filter((o) => !o.loadedElsewhere && !o.failsAt);
    const sum = (f: (o: FakeObject) => number) => ours.reduce((n, o) => n + f(o), 0);
    return {
      objectsLoaded: ours.length,
      rowsInserted: sum((o) => o.records - quarantinedByTransform(o.id) - duplicatesOf(o.id) - conflictsOf(o.id)),
      duplicates: sum((o) => duplicatesOf(o.id)),
      quarantined: sum((o) => quarantinedByTransform(o.id) + conflictsOf(o.id)),
    };
  }

  private object(id: number): FakeObject {
    const obj = this.objects.get(id);
    if (!obj) throw ApplicationFailure.nonRetryable(`no object ${id}`);
    return obj;
  }

  /** The pipeline's archive, one scripted step per call. */
  archive(steps: ArchiveStep[]): Pick<StubActivities, 'archive'> {
    return {
      archive: async (): Promise<ArchiveResult> => {
        const n = ++this.archiveCalls;
        const step = steps[n - 1];
        if (!step) throw ApplicationFailure.nonRetryable(`archive called ${n} times, scripted ${steps.length}`);
        this.log.push(`archive:start:${n}`);
        await step.before?.();
        const written = this.write(step.objects, this.run());
        this.log.push(`archive:done:${n}`);
        return { objectsArchived: written.length, recordsArchived: written.reduce((s, o) => s + o.records, 0), caughtUp: step.caughtUp };
      },
    };
  }

  /** The stream's follower: writes objects, heartbeats until cancelled, writes what it still holds. */
  follower(script: FollowScript): Pick<StubActivities, 'follow'> {
    return {
      follow: async (): Promise<FollowResult> => {
        const ctx = Context.current();
        const run = this.run();
        this.log.push(`follow:start:${run}`);
        const written = this.write(script.atStart, run);
        for (;;) {
          ctx.heartbeat();
          try {
            await ctx.sleep(20);
          } catch (err) {
            if (ctx.cancellationDetails?.cancelRequested) break;
            throw err;
          }
        }
        this.followerCancellations++;
        this.log.push(`follow:cancelled:${run}`);
        await script.onCancel?.(run);
        written.push(...this.write(script.atStop, run));
        this.log.push(`follow:done:${run}`);
        return {
          objectsArchived: written.length,
          recordsArchived: written.reduce((s, o) => s + o.records, 0),
          groupJoins: 1,
          attempt: ctx.info.attempt,
        };
      },
    };
  }

  /** Transform-and-load, the work-queue look-ups, aggregates and quality. */
  activities(): StubActivities {
    return {
      listUnloadedObjects: async ({ limit }) => {
        this.run();
        await this.beforeListing?.();
        const page = this.unloaded(limit);
        if (page.length === 0) this.emptyListings++;
        this.log.push(`list:${page.length}`);
        return page;
      },
      awaitUnloadedObjects: async ({ limit, waitMs }) => {
        const ctx = Context.current();
        const run = this.run();
        const until = Date.now() + waitMs;
        for (;;) {
          const page = this.unloaded(limit);
          if (page.length > 0 || (Date.now() >= until && (waitMs === 0 || !this.holdEmptyPolls?.(run)))) {
            if (page.length === 0) this.emptyListings++;
            this.log.push(`poll:${run}:${waitMs}:${page.length}`);
            return page;
          }
          ctx.heartbeat();
          try {
            await ctx.sleep(10);
          } catch (err) {
            this.log.push(`poll:${run}:cancelled`);
            throw err;
          }
        }
      },
      transformAndLoad: async ({ bronzeObjectId: id }): Promise<TransformLoadResult> => {
        const run = this.run();
        const obj = this.object(id);
        this.loadCalls.set(id, (this.loadCalls.get(id) ?? 0) + 1);
        if (obj.failsAt) throw failFor(id, 'transform-load');
        this.log.push(`load:start:${id}`);
        this.maxLoadsAtOnce = Math.max(this.maxLoadsAtOnce, ++this.loadsNow);
        try {
          await this.holdLoad?.(id);
        } finally {
          this.loadsNow--;
        }
        obj.loaded = true;
        obj.loadedInRun = run;
        this.log.push(`load:done:${id}`);
        const quarantined = quarantinedByTransform(id);
        const valid = obj.records - quarantined;
        const transformed = { bronzeObjectId: id, silverKey: `silver/${id}.ndjson`, records: obj.records, valid, quarantined };
        if (obj.loadedElsewhere)
          return { ...transformed, loadId: 0, rowsIn: valid, inserted: 0, duplicates: 0, conflicts: 0, rejected: 0, alreadyLoaded: true };
        const duplicates = duplicatesOf(id);
        const conflicts = conflictsOf(id);
        return {
          ...transformed,
          loadId: id,
          rowsIn: valid,
          inserted: valid - duplicates - conflicts,
          duplicates,
          conflicts,
          rejected: 0,
          alreadyLoaded: false,
        };
      },
      writeLake: async ({ bronzeObjectId: id }): Promise<LakeWriteResult> => {
        this.run();
        const obj = this.object(id);
        this.lakeCalls.set(id, (this.lakeCalls.get(id) ?? 0) + 1);
        if (!obj.loaded) throw ApplicationFailure.nonRetryable(`lake write of object ${id}, which is not loaded`);
        if (obj.lakeFails) throw failFor(id, 'lake');
        const result = { bronzeObjectId: id, rowsVersion: 1, rows: obj.records, files: 1, bytes: 100, removed: 0 };
        if (obj.lakeWritten) return { ...result, upToDate: true };
        obj.lakeWritten = true;
        this.lakeWrites.set(id, (this.lakeWrites.get(id) ?? 0) + 1);
        this.log.push(`lake:${id}`);
        return { ...result, upToDate: false };
      },
      listLakeBehind: async ({ afterId, limit }) => {
        this.run();
        const behind = [...this.objects.values()].filter((o) => o.loaded && !o.lakeWritten && o.id > afterId).slice(0, limit);
        this.log.push(`lake-behind:${behind.length}`);
        return behind.map((o) => ({ bronzeObjectId: o.id }));
      },
      parkObject: async (input) => {
        this.run();
        this.parkCalls.push(input);
        const obj = this.object(input.bronzeObjectId);
        this.log.push(`park:${obj.id}`);
        if (obj.loaded) return { parked: false };
        obj.parked = input;
        return { parked: true };
      },
      // The search sink is off here: no lane to start.
      searchSinkLane: async () => null,
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

  /** The load lane has nothing left and its last listing, after every write and load, found nothing. */
  loadLaneIdle(): boolean {
    const last = (prefix: string) => this.log.findLastIndex((e) => e.startsWith(prefix));
    return this.unloaded(1).length === 0 && last('list:0') > Math.max(last('write:'), last('load:done:'));
  }

  /** Index in the log of the first entry `entry` (throws if absent, so an order check cannot pass vacuously). */
  at(entry: string): number {
    const i = this.log.indexOf(entry);
    if (i < 0) throw new Error(`${entry} never happened; log: ${this.log.join(' ')}`);
    return i;
  }
}

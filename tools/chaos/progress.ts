// "Has the pipeline moved?" for recovery times: a token that changes whenever a bronze object is
// archived, transformed or loaded, an activity completes, or a run ends (planning a manifest row is
// not progress: the archive plans before any record flows). Polled in the
// background; a poll that fails (its server is being restarted) just leaves the token as it was.
import type pg from 'pg';
import { withTimeout } from '../../client/stack/health';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ProgressProbe {
  private token = '';
  private polledAt = 0;
  /** Records archived + transformed + loaded so far (each record counts three times when done; a parked object's as done: it is settled). */
  recordSteps = 0;
  private running = false;
  private loop?: Promise<void>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly activityToken: () => string,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.poll();
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async poll(): Promise<void> {
    try {
      const { rows } = await withTimeout(
        this.pool.query<{ n: string; steps: string }>(
          `SELECT (count(*) FILTER (WHERE status = 'archived') + count(transformed_at) + count(loaded_at))::text AS n,
                (coalesce(sum(record_count), 0) + coalesce(sum(record_count) FILTER (WHERE transformed_at IS NOT NULL OR parked_at IS NOT NULL), 0)
                 + coalesce(sum(record_count) FILTER (WHERE loaded_at IS NOT NULL OR parked_at IS NOT NULL), 0))::text AS steps
         FROM bronze_objects`,
        ),
        3_000,
        'progress query',
      );
      this.token = `${rows[0]!.n}|${this.activityToken()}`;
      this.recordSteps = Number(rows[0]!.steps);
      this.polledAt = Date.now();
    } catch {
      // The server is restarting; the next poll will tell.
    }
  }

  /**
   * When the pipeline first moved after `since`: the token of the first successful poll after
   * `since` is the baseline, the first poll that differs from it is the answer. Undefined if
   * nothing moved within `timeoutMs` or `stopped()` turned true.
   */
  async nextChangeAfter(since: number, timeoutMs: number, stopped: () => boolean): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.polledAt <= since) {
      if (Date.now() > deadline || stopped()) return undefined;
      await sleep(50);
    }
    const baseline = this.token;
    while (this.token === baseline) {
      if (Date.now() > deadline || stopped()) return undefined;
      await sleep(50);
    }
    return this.polledAt;
  }
}

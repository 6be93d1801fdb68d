// Client-side rate limiting: a token bucket per source, shared by everything in the process that
// calls that source (the activities of a worker, the CLI), so free-tier limits are respected before
// the API has to say 429.

/** Time as the limiter and the retry loop see it; tests hand in a fake one. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly perMs: number;
  /** Callers in line: each waits for the one before it, so tokens go out in arrival order. */
  private queue: Promise<void> = Promise.resolve();

  /**
   * `requestsPerMinute` refill the bucket evenly; `burst` tokens at most are saved up (default: a
   * tenth of a minute's worth), so a poll of several symbols starts at once and then spreads out.
   */
  constructor(
    readonly requestsPerMinute: number,
    readonly burst = Math.max(1, Math.ceil(requestsPerMinute / 10)),
    private readonly clock: Clock = systemClock,
  ) {
    if (!(requestsPerMinute > 0)) throw new Error(`requestsPerMinute must be above 0, got ${requestsPerMinute}`);
    this.perMs = requestsPerMinute / 60_000;
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
  }

  /** How long the next caller would wait now, in ms (0 if a token is there). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.perMs);
  }

  /** Resolves when the caller may send one request. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(async () => {
      for (let wait = this.waitMs(); wait > 0; wait = this.waitMs()) await this.clock.sleep(wait, signal);
      this.tokens -= 1;
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }
}

const buckets = new Map<string, TokenBucket>();

/** The process-wide bucket of a source at a base URL and rate (tests on their own servers get their own). */
export function sharedBucket(source: string, baseUrl: string, requestsPerMinute: number): TokenBucket {
  const key = `${source} ${baseUrl} ${requestsPerMinute}`;
  let bucket = buckets.get(key);
  if (!bucket) buckets.set(key, (bucket = new TokenBucket(requestsPerMinute)));
  return bucket;
}

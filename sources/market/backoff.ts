// How long to wait before the next attempt: what the server asks for (Retry-After), or an
// exponential backoff with jitter so that many pollers that failed together do not retry together.

export interface BackoffOptions {
  /** Delay before the second attempt, before jitter. */
  baseMs: number;
  /** No single wait is longer than this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 8_000 };

/**
 * The wait after failed attempt `attempt` (1-based): base·2^(attempt-1), capped, of which a random
 * half is jitter ("equal jitter": never less than half the step, so retries still back off).
 */
export function backoffDelayMs(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const step = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * A Retry-After header in milliseconds from `nowMs`: either delay-seconds ("120") or an HTTP date
 * ("Wed, 21 Oct 2026 07:28:00 GMT"), per RFC 9110 §10.2.3. A date in the past means "now" (0);
 * anything else, or no header, is undefined (the caller falls back to its own backoff).
 */
export function retryAfterMs(header: string | null | undefined, nowMs: number): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  if (!/[a-z]/i.test(value)) return undefined; // "1.5" or "-3": not a valid form; Date.parse would guess
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

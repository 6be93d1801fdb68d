// Heartbeats of the file source's long activities by progress, not by count: a listing page, a
// stretch of bytes hashed or read (a line of a gigabyte with no newline still beats), each at
// most every BEAT_MS or BEAT_BYTES, whichever comes first. A beat carries where the work is, so it
// proves progress: a stalled read stops beating and Temporal retries it after its heartbeat timeout.
import type { Context } from '@temporalio/activity';
import { beat } from '../attempts';

const BEAT_MS = 1_000;
const BEAT_BYTES = 16 * 1024 * 1024;

export function progressBeat(ctx: Context) {
  let at = Date.now();
  let bytes = 0;
  const beatNow = (details: object) => {
    at = Date.now();
    bytes = 0;
    beat(details, ctx);
    ctx.cancellationSignal.throwIfAborted();
  };
  return {
    /** `n` more bytes done; beats when enough time or bytes passed since the last beat. */
    bytes(n: number, details: object) {
      bytes += n;
      if (bytes >= BEAT_BYTES || Date.now() - at >= BEAT_MS) beatNow(details);
    },
    beat: beatNow,
  };
}

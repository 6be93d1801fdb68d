import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';

// Transient failures (a server down, a deadlock) are retried with backoff for as long as it takes:
// an outage delays the run instead of failing it. Permanent failures arrive as non-retryable
// ApplicationFailures from the activities and stop at once.
const RETRY: ActivityOptions['retry'] = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  // no maximumAttempts: unlimited, bounded by the activity's timeouts and the run's own lifetime
};

// Heartbeat timeouts are what bring work back after a worker dies (SIGKILL, OOM, host loss):
// Temporal reschedules an activity once its heartbeats stop for that long, so they stay short.

/** Long activities that stream data and heartbeat their cursor. */
export const STREAMING: ActivityOptions = { startToCloseTimeout: '15 minutes', heartbeatTimeout: '20 seconds', retry: RETRY };

/** One transaction per call, bounded by the object size; heartbeats while it runs. */
export const BOUNDED: ActivityOptions = { startToCloseTimeout: '10 minutes', heartbeatTimeout: '20 seconds', retry: RETRY };

/**
 * Reading one source unit (a file) into bronze: as long as the file takes, which has no useful upper
 * bound, so the start-to-close timeout is a day; a dead reader is noticed by its heartbeats (sent
 * every few thousand lines), and a retry resumes from the manifest.
 */
export const READING: ActivityOptions = { startToCloseTimeout: '24 hours', heartbeatTimeout: '20 seconds', retry: RETRY };

/** Metadata look-ups. */
export const QUICK: ActivityOptions = { startToCloseTimeout: '1 minute', retry: RETRY };

/**
 * Continuous mode's follower: runs until the workflow cancels it (stop, or its next run), which it
 * learns at its next heartbeat (the worker sends them at least every 2 s). A short heartbeat
 * timeout brings it back quickly after a worker dies. The workflow waits for it to write what it
 * has read and return.
 */
export const FOLLOWING: ActivityOptions = {
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '10 seconds',
  retry: RETRY,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

/** A long-poll of the work queue; cancelling it needs no acknowledgement (it only reads). */
export const LONG_POLL: ActivityOptions = { startToCloseTimeout: '5 minutes', heartbeatTimeout: '10 seconds', retry: RETRY };

// Temporal's mock activity environment, minus its console logger: tests drive activities into
// failures on purpose, and the SDK would print each one as a `[WARN] Activity failed` block with a
// stack trace into the test output. Errors still reach the test through the rejected promise.
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';

const quiet = new DefaultLogger('ERROR', () => undefined);

/** A mock activity environment (heartbeats, cancellation, attempt info) that logs nothing. */
export function activityEnv(info?: Partial<Info>): MockActivityEnvironment {
  return new MockActivityEnvironment(info, { logger: quiet });
}

/** Runs one activity outside a worker, as its first attempt. */
export function runActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return activityEnv().run(fn, ...args) as Promise<R>;
}

// The attempt bound, attempt by attempt, as Temporal runs them: each attempt is handed the last
// heartbeat of the one before (the beat a failing attempt flushes with its failure, or the last one
// a dying attempt sent), and counts from it what Temporal cannot tell: which attempts ended without
// an outcome. The kills themselves are proven against a real worker in
// test/integration/attempts-lost.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import pino from 'pino';
import { withAttemptBound } from '../../../activities/attempts';
import { asActivity } from '../../../activities/failures';
import { loadConfig } from '../../../lib/config';
import { EtlError } from '../../../lib/errors';
import { activityEnv } from '../../support/activity-env';

const MAX = 2;
const deps = { config: { ...loadConfig(), UNKNOWN_ERROR_MAX_ATTEMPTS: MAX }, logger: pino({ level: 'silent' }) };

/** One attempt at a bounded unit whose work does `work`; resolves to its result or its failure, and its last beat. */
async function attempt(n: number, previous: unknown, work: () => Promise<string>, refused: EtlError[] = []) {
  const env = activityEnv({ attempt: n, heartbeatDetails: previous });
  let last: unknown = previous;
  env.on('heartbeat', (d: unknown) => (last = d));
  const fn = asActivity(deps, () =>
    withAttemptBound(deps, 'unit u', work, async (err) => {
      refused.push(err);
    }),
  );
  const outcome: { value?: unknown; failure?: ApplicationFailure } = await env.run(fn).then(
    (value) => ({ value }),
    (err: unknown) => ({ failure: err as ApplicationFailure }),
  );
  return { ...outcome, last };
}

const ok = async () => 'done';
const outage = async (): Promise<string> => {
  throw new EtlError('POSTGRES_UNREACHABLE', 'down');
};
const bug = async (): Promise<string> => {
  throw new TypeError('bug');
};
/**
 * What a killed attempt leaves: the beat it sent when it began its work, and nothing after. (Its
 * process lives on here, so the attempt is then cancelled, which beats nothing more.)
 */
async function killed(n: number, previous: unknown): Promise<unknown> {
  const env = activityEnv({ attempt: n, heartbeatDetails: previous });
  let last: unknown = previous;
  env.on('heartbeat', (d: unknown) => (last = d));
  let began!: () => void;
  const beganWork = new Promise<void>((resolve) => (began = resolve));
  const hang = () =>
    new Promise<string>((_, reject) => {
      Context.current().cancellationSignal.addEventListener('abort', () => reject(new Error('killed')));
      began();
    });
  const run = env.run(asActivity(deps, () => withAttemptBound(deps, 'unit u', hang))).catch(() => undefined);
  await beganWork;
  const lastBeat = last;
  env.cancel();
  await run;
  assert.equal(last, lastBeat, 'a killed attempt sends nothing after its work began');
  return lastBeat;
}

describe('the attempt bound, counted from Temporal', () => {
  it('refuses, as ATTEMPTS_LOST and final, the attempt after MAX attempts that ended without an outcome, and lets the unit note it', async () => {
    const first = await killed(1, undefined);
    const second = await killed(2, first);
    const refused: EtlError[] = [];
    const third = await attempt(3, second, ok, refused);
    assert.equal(third.failure?.type, 'ATTEMPTS_LOST');
    assert.equal(third.failure?.nonRetryable, true);
    assert.match(
      third.failure?.message ?? '',
      /unit u: 2 of its attempts ended without an outcome .*UNKNOWN_ERROR_MAX_ATTEMPTS=2; not tried again/,
    );
    assert.deepEqual(
      refused.map((e) => e.code),
      ['ATTEMPTS_LOST'],
    );
  });

  it('counts attempts that died before their first beat reached Temporal, from the gap in attempt numbers', async () => {
    const ended = (await attempt(1, undefined, outage)).last; // an outcome: not lost
    assert.equal((await attempt(2, ended, ok)).value, 'done', 'attempt 1 ended with an outcome');
    // Attempt 2 died silently: attempt 3 still holds attempt 1's beat, and counts attempt 2 lost.
    assert.equal((await attempt(3, ended, ok)).value, 'done', 'one lost, under the bound of 2');
    assert.equal((await attempt(4, ended, ok)).failure?.type, 'ATTEMPTS_LOST', 'attempts 2 and 3 lost');
    assert.equal((await attempt(3, undefined, ok)).failure?.type, 'ATTEMPTS_LOST', 'no beat at all: attempts 1 and 2 lost');
  });

  it('does not count transient failures, however many; it counts bugs and lost attempts together', async () => {
    let last: unknown;
    for (let n = 1; n <= 6; n++) {
      const r = await attempt(n, last, outage);
      assert.equal(r.failure?.nonRetryable, false, `outage at attempt ${n}`);
      last = r.last;
    }
    const lost = await killed(7, last);
    const failed = await attempt(8, lost, bug);
    assert.deepEqual([failed.failure?.type, failed.failure?.nonRetryable], ['UNKNOWN_ERROR', true], 'one lost and one bug reach 2');
  });

  it('runs one unit that lost attempts at a time in a worker; the other ends its attempt as SUSPECT_WAITING, not counted', async () => {
    const lostOnce = await killed(1, undefined);
    let finish!: (v: string) => void;
    const running = attempt(2, lostOnce, () => new Promise<string>((resolve) => (finish = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = await attempt(2, lostOnce, ok);
    assert.deepEqual([waiting.failure?.type, waiting.failure?.nonRetryable], ['SUSPECT_WAITING', false]);
    // Its next attempt, once the first suspect is done, counts the same one lost attempt, not two.
    finish('first');
    assert.equal((await running).value, 'first');
    assert.equal((await attempt(3, waiting.last, ok)).value, 'done');
    // A unit that lost nothing is not held back by a running suspect.
    const again = attempt(2, lostOnce, () => new Promise<string>((resolve) => (finish = resolve)));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await attempt(1, undefined, ok)).value, 'done');
    finish('second');
    await again;
  });

  it("keeps the work's own progress in every beat, also the one flushed with a failure", async () => {
    const r = await attempt(1, { cursor: 'c-41' }, outage);
    assert.equal((r.last as { cursor?: string }).cursor, 'c-41');
    assert.deepEqual((r.last as { tally?: unknown }).tally, { attempt: 1, lost: 0, unknown: 0, ended: true });
  });
});

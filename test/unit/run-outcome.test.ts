// A failed run is an answer: its code, message and the result it carried, never a stack trace.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { failureError, failureLine, settle } from '../../client/commands/run-outcome';
import { describeParked } from '../../shared/parked';

describe('run outcomes', () => {
  it('passes a result through', async () => {
    assert.deepEqual(await settle(Promise.resolve({ rowsInserted: 3 })), { ok: true, result: { rowsInserted: 3 } });
  });

  it('turns a failed run into its code, message and attached result', async () => {
    const parked = ApplicationFailure.create({
      type: 'OBJECT_PARKED',
      message: 'parked 1 bronze object(s): #12',
      nonRetryable: true,
      details: [{ objectsParked: 1 }],
    });
    const outcome = await settle(
      Promise.reject(new WorkflowFailedError('Workflow execution failed', parked, RetryState.NON_RETRYABLE_FAILURE)),
    );
    assert.deepEqual(outcome, {
      ok: false,
      failure: { code: 'OBJECT_PARKED', message: 'parked 1 bronze object(s): #12', result: { objectsParked: 1 } },
    });
    if (outcome.ok) return;
    assert.equal(failureLine(outcome.failure, 'http://ui/wf'), 'error [OBJECT_PARKED]: parked 1 bronze object(s): #12 (http://ui/wf)');
    const err = failureError(outcome.failure, 'http://ui/wf');
    assert.deepEqual([err.code, err.retryable], ['OBJECT_PARKED', false]);
  });

  it('finds the code under an activity failure, and calls what it does not know UNKNOWN_ERROR', async () => {
    const archive = ApplicationFailure.create({ type: 'S3_ACCESS_DENIED', message: 'refused', nonRetryable: true });
    const viaActivity = new ActivityFailure('activity failed', 'archive', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', archive);
    const a = await settle(Promise.reject(new WorkflowFailedError('failed', viaActivity, RetryState.NON_RETRYABLE_FAILURE)));
    assert.deepEqual(a.ok ? undefined : [a.failure.code, a.failure.message], ['S3_ACCESS_DENIED', 'refused']);
    const odd = ApplicationFailure.create({ type: 'SomethingElse', message: 'odd' });
    const b = await settle(Promise.reject(new WorkflowFailedError('failed', odd, RetryState.NON_RETRYABLE_FAILURE)));
    assert.equal(b.ok ? undefined : b.failure.code, 'UNKNOWN_ERROR');
    await assert.rejects(settle(Promise.reject(new Error('not a run'))), /not a run/);
  });

  it('names a parked object with its code, step and a cut message', () => {
    assert.equal(
      describeParked({ id: 12, code: 'UNKNOWN_ERROR', step: 'load', message: 'x'.repeat(200) }, 10),
      `#12 (UNKNOWN_ERROR at load: ${'x'.repeat(9)}…)`,
    );
  });
});

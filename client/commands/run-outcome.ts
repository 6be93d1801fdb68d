// A run that ends failed is an answer, not a crash: its reason becomes one `error [CODE]: …` line,
// and what it did before failing (our workflows attach their result to the failure) is still shown.
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_CODES, EtlError, type ErrorCode } from '../../lib/errors';

export interface RunFailure {
  code: ErrorCode;
  message: string;
  /** The run's result as the workflow attached it to its failure, if it did. */
  result?: unknown;
}

export type RunOutcome<R> = { ok: true; result: R } | { ok: false; failure: RunFailure };

const isCode = (t: string | undefined | null): t is ErrorCode => typeof t === 'string' && t in ERROR_CODES;

/** The ApplicationFailure nearest the top of a failed run's cause chain. */
function applicationFailureOf(err: WorkflowFailedError): ApplicationFailure | undefined {
  for (let e: unknown = err.cause, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof ApplicationFailure) return e;
  }
  return undefined;
}

/** Waits for `result`; a run that failed comes back as its code, message and attached result. */
export async function settle<R>(result: Promise<R>): Promise<RunOutcome<R>> {
  try {
    return { ok: true, result: await result };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const f = applicationFailureOf(err);
    const message = f?.message ?? err.cause?.message ?? err.message;
    return { ok: false, failure: { code: isCode(f?.type) ? f.type : 'UNKNOWN_ERROR', message, result: f?.details?.[0] } };
  }
}

export function failureError(f: RunFailure, url: string): EtlError {
  return new EtlError(f.code, `${f.message} (${url})`);
}

/** The one line a failed run prints on stderr. */
export const failureLine = (f: RunFailure, url: string) => `error [${f.code}]: ${f.message} (${url})`;

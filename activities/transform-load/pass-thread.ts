// A thread of the pass pool (worker/pass-pool.ts): runs the one pass over a bronze object (gunzip,
// parse, validate, encode silver and COPY rows) off the thread that talks to Temporal and
// PostgreSQL, with an S3 client of its own, built once per thread from the worker's config.
// An error cannot cross threads as itself (only its name, message and stack survive the copy), so
// it is classified here, where it happened, and the activity's thread throws it again with its code:
// an S3 outage stays transient, a missing object permanent, a bug unknown.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../lib/config';
import { EtlError, isEtlError, type ErrorCode } from '../../lib/errors';
import { createS3 } from '../../lib/s3';
import { useStreamsDir } from '../../streams';
import { classify } from '../failures';
import { passBronzeObject, type PassResult, type PassTask } from './pass';

export interface PassThreadTask {
  task: PassTask;
  /** The worker's config: what the thread's S3 client is built from. */
  config: Config;
}

/** How a pass on a thread failed: the code when the taxonomy knows the error, else what a bug report needs. */
export interface PassThreadFailure {
  code?: ErrorCode;
  name: string;
  message: string;
  stack?: string;
}

export type PassThreadOutcome = { ok: true; result: PassResult } | { ok: false; failure: PassThreadFailure };

let s3: { client: S3Client; built: string } | undefined;

function s3For(config: Config): S3Client {
  const built = JSON.stringify(config);
  if (s3?.built !== built) s3 = { client: createS3(config), built };
  return s3.client;
}

export default async function runPassThread({ task, config }: PassThreadTask): Promise<PassThreadOutcome> {
  try {
    useStreamsDir(config.ETL_STREAMS_DIR);
    return { ok: true, result: await passBronzeObject(s3For(config), task) };
  } catch (err) {
    const known = classify(err, { config });
    const e = known instanceof Error ? known : new Error(String(known));
    return { ok: false, failure: { code: isEtlError(e) ? e.code : undefined, name: e.name, message: e.message, stack: e.stack } };
  }
}

/** The failure of a pass on a thread, as an error of this thread: an EtlError with its code, or what was thrown. */
export function passThreadError(f: PassThreadFailure): Error {
  const err = f.code ? new EtlError(f.code, f.message) : new Error(f.message);
  if (!f.code) err.name = f.name;
  if (f.stack) err.stack = f.stack;
  return err;
}

// The pass on the calling thread: tests, and a worker configured without a pass pool.
import { passBronzeObject, type PassResult, type PassTask } from './pass';
import type { ActivityDeps } from '../deps';

export function passInline(task: PassTask, deps: ActivityDeps): Promise<PassResult> {
  return passBronzeObject(deps.s3, task);
}

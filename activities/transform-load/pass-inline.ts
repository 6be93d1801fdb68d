// The pass on the calling thread: tests, and a worker configured without pass threads (TRANSFORM_THREADS=0).
import { passBronzeObject, type PassResult, type PassTask } from './pass';
import type { ActivityDeps } from '../deps';

export function passInline(task: PassTask, deps: ActivityDeps, signal?: AbortSignal): Promise<PassResult> {
  return passBronzeObject(deps.s3, task, signal);
}

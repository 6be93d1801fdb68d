// A replay from bronze driven object by object through the activity's own code, as the replay
// workflow runs it: each object replayed with the given rules, then its lake files rewritten.
import { writeLakeObject } from '../../activities/lake/write';
import { replayBronzeObject, type ReplayObjectResult } from '../../activities/replay/replay';
import type { StreamSpec } from '../../streams/types';
import type { TestEnv } from './harness';
import { activityEnv } from './activity-env';

export async function replayEach(
  env: TestEnv,
  objectIds: readonly number[],
  spec: StreamSpec,
  runKey: string,
): Promise<ReplayObjectResult[]> {
  const out: ReplayObjectResult[] = [];
  for (const bronzeObjectId of objectIds) {
    out.push(
      (await activityEnv().run(replayBronzeObject, env, spec, {
        stream: spec.name,
        bronzeObjectId,
        workflowId: `test-${env.id}`,
        runKey,
      })) as ReplayObjectResult,
    );
    await writeLakeObject(env, { stream: spec.name, bronzeObjectId });
  }
  return out;
}

// A schedule's run started on demand: tests trigger a paused schedule and follow the run it starts.
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { describeSchedule, triggerSchedule } from '../../client/commands/schedule';
import type { Config } from '../../lib/config';

/** Triggers schedule `id` and returns the workflow id of the run it started, once the schedule lists it. */
export async function triggeredRun(client: Client, config: Config, id: string): Promise<string> {
  await triggerSchedule(client, config, id);
  for (let i = 0; i < 100; i++) {
    const started = (await describeSchedule(client, config, id)).info.recentActions.find((a) => a.action.type === 'startWorkflow');
    if (started?.action.type === 'startWorkflow') return started.action.workflow.workflowId;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`schedule ${id} started no run after its trigger`);
}

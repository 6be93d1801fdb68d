// Workflow and activity ids on every log line an activity writes. The SDK keeps the running
// activity's Context in AsyncLocalStorage, which follows every await and callback the activity
// starts (kafkajs batches, timers), so the logger can read it per line instead of each activity
// threading a child logger through its helpers.
import { Context } from '@temporalio/activity';
import { setLogContext } from '../lib/logger';

function activityIds(): Record<string, unknown> | undefined {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return undefined; // not inside an activity: worker lifecycle, the lag poller, the CLI
  }
  return {
    workflowId: info.workflowExecution?.workflowId,
    runId: info.workflowExecution?.runId,
    workflowType: info.workflowType,
    activityId: info.activityId,
    activityType: info.activityType,
    attempt: info.attempt,
  };
}

export function installActivityLogContext(): void {
  setLogContext(activityIds);
}

import { proxyActivities } from '@temporalio/workflow';
import type { Activities, PollInput, PollResult } from '../activities';

// A poll is short and the schedule starts the next one anyway: a few quick retries of what passes
// (a 503, a timeout), then the run fails and shows why, instead of retrying into the next poll.
const { pollSource } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '20 seconds', maximumAttempts: 3 },
});

export type PollMarketInput = PollInput;

/** One poll of a market source, publishing new ticks to the ticks topic; a Temporal Schedule runs it at the source's interval. */
export async function pollMarketWorkflow(input: PollMarketInput): Promise<PollResult> {
  return pollSource(input);
}

import { proxyActivities } from '@temporalio/workflow';
import type { Activities, IngestInput, IngestResult } from '../activities';
import { STREAMING } from './policies';

const { ingest } = proxyActivities<Activities>(STREAMING);

/** Publishes synthetic events to the stream's topic; resumes from its heartbeat after a crash. */
export async function ingestWorkflow(input: IngestInput): Promise<IngestResult> {
  return ingest(input);
}

import { Context } from '@temporalio/activity';
import { topicFor } from '../streams';
import { produceTransactions } from '../lib/produce';
import type { ActivityDeps } from './deps';
import type { IngestInput, IngestResult } from './types';

/** Resumes from the index in the last heartbeat: events are a pure function of (seed, index). */
export async function ingest(deps: ActivityDeps, input: IngestInput): Promise<IngestResult> {
  const ctx = Context.current();
  const resumed = (ctx.info.heartbeatDetails as { nextIndex?: number } | undefined)?.nextIndex;
  const topic = topicFor(deps.config.KAFKA_TOPIC_PREFIX, input.stream);
  await produceTransactions(deps.kafka, deps.config.KAFKA_BROKERS, {
    ...input,
    topic,
    startIndex: resumed ?? input.startIndex ?? 0,
    signal: ctx.cancellationSignal,
    onProgress: (nextIndex) => ctx.heartbeat({ nextIndex }),
  });
  return { produced: input.rows - (input.startIndex ?? 0), topic };
}

import { Context } from '@temporalio/activity';
import { topicFor } from '../../streams';
import { produceSynthetic } from './produce';
import type { ActivityDeps } from '../deps';
import type { IngestInput, IngestResult } from '../types';
import { beat } from '../attempts';

/**
 * Publishes the stream's synthetic events; resumes from the index in the last heartbeat (below it
 * every message is acknowledged), since message i is a pure function of (generator options, i).
 */
export async function ingest(deps: ActivityDeps, input: IngestInput): Promise<IngestResult> {
  const ctx = Context.current();
  const resumed = (ctx.info.heartbeatDetails as { nextIndex?: number } | undefined)?.nextIndex;
  const topic = topicFor(deps.config.KAFKA_TOPIC_PREFIX, input.stream);
  const { stream, rows, startIndex, rate, ...generatorOptions } = input;
  await produceSynthetic(deps.kafka, deps.config.KAFKA_BROKERS, stream, generatorOptions, {
    topic,
    rows,
    rate,
    startIndex: resumed ?? startIndex ?? 0,
    signal: ctx.cancellationSignal,
    onProgress: (nextIndex) => beat({ nextIndex }, ctx),
    threads: { count: deps.config.PRODUCER_THREADS, settings: deps.config },
  });
  return { produced: rows - (startIndex ?? 0), topic };
}

// `etl search`: the search sink (docs/search.md) — its lag per stream, the documents the index
// refused and why, and starting (or kicking) a stream's lane on its own.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Option, type Command } from 'commander';
import { searchSyncWorkflowId } from '../../activities/search/search-sync';
import { buildClients } from '../../lib/clients';
import { loadConfig, type Config } from '../../lib/config';
import { EtlError, isEtlError } from '../../lib/errors';
import { withPostgresErrors } from '../../lib/postgres';
import { listRejections, searchLag } from '../../lib/search-state';
import { classifyTemporalError, connectClient } from '../../lib/temporal';
import { getStream, streamNames } from '../../streams';
import { searchKickSignal, searchSyncWorkflow } from '../../workflows';
import { positiveInt } from '../args';
import { withClient } from '../connect';
import { fmt, formatTable, type Say } from '../output';

const indexed = () => streamNames().filter((s) => getStream(s).search);

export interface SearchLaneKick {
  kicked: boolean;
  /** One line for a person: kicked, no lane runs, or why it could not be reached. */
  note: string;
}

/**
 * After rows changed outside a workflow (`etl quarantine replay`): signals the stream's running
 * search lane, so the index follows now rather than at the lane's next poll. Undefined when the sink
 * is off or the stream has no index. Never throws: the rows are committed whatever happens here,
 * and a lane that is not told still finds them at its next poll.
 */
export async function kickRunningSearchLane(config: Config, stream: string): Promise<SearchLaneKick | undefined> {
  if (!config.SEARCH_SINK || !getStream(stream).search) return undefined;
  const workflowId = searchSyncWorkflowId(config, stream);
  let temporal: Client | undefined;
  try {
    temporal = await connectClient(config);
    await temporal.workflow.getHandle(workflowId).signal(searchKickSignal);
    return { kicked: true, note: `search lane ${workflowId} kicked (etl search status shows the lag)` };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      return { kicked: false, note: `no search lane runs for ${stream}: the next run starts it, or \`etl search sync ${stream}\`` };
    const reason = (isEtlError(err) ? err : classifyTemporalError(config, err)).message;
    return { kicked: false, note: `search lane not kicked: ${reason}; it catches up at its next poll once it runs` };
  } finally {
    await temporal?.connection.close().catch(() => undefined);
  }
}

export function registerSearchCommands(program: Command, say: Say): void {
  const search = program
    .command('search')
    .description('the search sink (OpenSearch): lag per stream, refused documents, the indexing lane');
  search
    .command('status')
    .description('per indexed stream: rows loaded but not yet indexed, documents indexed and refused')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl search status\n  $ etl search status --json')
    .action(async (o: { json?: boolean }) => {
      const clients = buildClients(loadConfig());
      try {
        const rows = await withPostgresErrors(clients.config.DATABASE_URL, () =>
          Promise.all(indexed().map((s) => searchLag(clients.pool, s, getStream(s).flatTable))),
        );
        if (o.json) return say(JSON.stringify({ enabled: clients.config.SEARCH_SINK, streams: rows }, null, 2));
        if (!clients.config.SEARCH_SINK) say('search sink: off (SEARCH_SINK=false); nothing is indexed');
        say(
          formatTable(
            ['stream', 'rows behind', 'objects behind', 'indexed', 'rejected', 'last indexed'],
            rows.map((r) => [
              r.stream,
              fmt(r.rowsBehind),
              fmt(r.objectsBehind),
              fmt(r.docsIndexed),
              fmt(r.docsRejected),
              r.lastIndexedAt ?? '-',
            ]),
          ),
        );
      } finally {
        await clients.close();
      }
    });
  search
    .command('rejected')
    .description('documents the index refused (mapping conflict, too large), newest first, with the reason')
    .addOption(new Option('--stream <name>', 'only this stream (default: all)').choices(indexed()))
    .addOption(new Option('--limit <n>', 'at most this many').argParser(positiveInt).default(100))
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nA refused document stays listed until a later version of its object indexes it (after a replay with fixed rules).\n\nExamples:\n  $ etl search rejected\n  $ etl search rejected --stream transactions --json',
    )
    .action(async (o: { stream?: string; limit: number; json?: boolean }) => {
      const clients = buildClients(loadConfig());
      try {
        const rows = await withPostgresErrors(clients.config.DATABASE_URL, () => listRejections(clients.pool, o.stream, o.limit));
        if (o.json) return say(JSON.stringify(rows, null, 2));
        if (rows.length === 0) return say('no rejected documents');
        say(
          formatTable(
            ['stream', 'object', 'document', 'version', 'status', 'type', 'reason'],
            rows.map((r) => [r.stream, r.bronzeObjectId, r.docId, r.rowsVersion, r.httpStatus, r.errorType, r.reason.slice(0, 160)]),
          ),
        );
      } finally {
        await clients.close();
      }
    });
  search
    .command('sync')
    .description("start a stream's indexing lane (a workflow) or kick the running one; returns at once (needs a running worker)")
    .addArgument(program.createArgument('<stream>', 'an indexed stream').choices(indexed()))
    .addHelpText(
      'after',
      '\nThe pipeline run and the continuous stream start it themselves when SEARCH_SINK=true.\n\nExample:\n  $ etl search sync transactions',
    )
    .action(async (stream: string) => {
      await withClient(async (temporal, config) => {
        if (!config.SEARCH_SINK) throw new EtlError('USAGE', 'the search sink is off: set SEARCH_SINK=true (docs/search.md) and run again');
        const workflowId = searchSyncWorkflowId(config, stream);
        const handle = await temporal.workflow.signalWithStart(searchSyncWorkflow, {
          workflowId,
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          args: [{ stream }],
          signal: searchKickSignal,
        });
        say(`search lane ${handle.workflowId} kicked (etl search status shows the lag)`);
      });
    });
}

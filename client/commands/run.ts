// `etl run pipeline`: one batch run, optionally waited for and reported (the work is in ./pipeline.ts).
import { Option, type Command } from 'commander';
import { buildClients } from '../../lib/clients';
import { loadConfig, temporalUiUrl } from '../../lib/config';
import { withPostgresErrors } from '../../lib/postgres';
import { connectClient } from '../../lib/temporal';
import { streamNames } from '../../streams';
import type { PipelineResult } from '../../workflows';
import { fmt, sayErr, type Say } from '../output';
import { hasWorker, startPipeline, waitForPipeline } from './pipeline';
import { collectReport, formatReport } from './report';
import { failureError, failureLine, settle } from './run-outcome';

export function registerRunCommands(program: Command, say: Say, setExitCode: (code: number) => void): void {
  // Read when the tree is built, so a stream registered before (a plugin, a test) is offered too.
  const STREAM_NAMES = streamNames();
  const run = program.command('run').description('start a workflow');
  run
    .command('pipeline')
    .description('archive -> transform -> load -> quality for everything in the topic now (needs a running worker)')
    .addOption(new Option('--stream <name>', 'stream').choices(STREAM_NAMES).default('transactions'))
    .option('--wait', 'wait for the result and print the report')
    .option('--json', "machine-readable output: the run's id and link, with --wait also its result and report")
    .addHelpText(
      'after',
      '\nExamples:\n  $ etl run pipeline --wait\n  $ etl run pipeline --stream transactions\n  $ etl run pipeline --wait --json',
    )
    .action(async (opts: { stream: string; wait?: boolean; json?: boolean }) => {
      const config = loadConfig();
      const client = await connectClient(config);
      try {
        const handle = await startPipeline(client, config, opts.stream);
        const started = { workflowId: handle.workflowId, url: temporalUiUrl(config, handle.workflowId) };
        (opts.json ? sayErr : say)(`started ${started.workflowId}: ${started.url}`);
        if (!(await hasWorker(client, config))) {
          process.stderr.write(
            `warning: no worker polls task queue "${config.TEMPORAL_TASK_QUEUE}"; the run waits until one does — start it with \`etl worker\`\n`,
          );
        }
        if (!opts.wait) {
          if (opts.json) say(JSON.stringify(started, null, 2));
          return;
        }
        // A run that parked objects fails after loading everything else: its result rides on the failure.
        const outcome = await settle(waitForPipeline(handle));
        const failure = outcome.ok ? undefined : outcome.failure;
        const result = outcome.ok ? outcome.result : (outcome.failure.result as PipelineResult | undefined);
        if (!result) throw failureError(failure!, started.url);
        const clients = buildClients(config);
        try {
          const report = await withPostgresErrors(config.DATABASE_URL, () => collectReport(clients.pool, opts.stream, handle.workflowId));
          if (opts.json) say(JSON.stringify({ ...started, result, report, ...(failure ? { failure } : {}) }, null, 2));
          else {
            say(
              `loaded ${fmt(result.rowsInserted)} rows, ${fmt(result.duplicates)} duplicates, ${fmt(result.quarantined)} quarantined` +
                (result.objectsParked ? `, ${fmt(result.objectsParked)} objects parked` : ''),
            );
            say(formatReport(report, config.S3_BUCKET));
          }
        } finally {
          await clients.close();
        }
        if (failure) sayErr(failureLine(failure, started.url));
        if (failure || !result.quality.passed) setExitCode(1);
      } finally {
        await client.connection.close();
      }
    });
}

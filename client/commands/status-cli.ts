// `etl status`: every stream at a glance, or one run (the work is in ./status.ts, the terminal form in ./status-format.ts).
import type { Command } from 'commander';
import { withClient, withClients } from '../connect';
import type { Say } from '../output';
import { runStatus, streamStatuses } from './status';
import { formatRunStatus, formatStreamStatuses, onWorkflow } from './status-format';

export function registerStatusCommand(program: Command, say: Say): void {
  program
    .command('status')
    .description('per stream: consumer lag, last object and load, last hour, schedules, running workflows; or one run')
    .argument('[workflowId]', 'a run to describe instead: its status, stage and counts')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl status\n  $ etl status --json\n  $ etl status pipeline-transactions-2026-11-22T13:05:12Z')
    .action(async (workflowId: string | undefined, o: { json?: boolean }) => {
      await withClient(async (temporal, config) => {
        if (workflowId) {
          const r = await onWorkflow(workflowId, () => runStatus(temporal, config, workflowId));
          say(o.json ? JSON.stringify(r, null, 2) : formatRunStatus(r));
          return;
        }
        await withClients(async (clients) => {
          const rows = await streamStatuses(clients, temporal);
          say(o.json ? JSON.stringify(rows, null, 2) : formatStreamStatuses(rows));
        });
      });
    });
}

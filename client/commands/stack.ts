// `etl stack`: the local servers (the work is in client/stack/).
import { Argument, type Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { sayErr, type Say } from '../output';
import { formatStatusTable, SERVICE_NAMES, stackDown, stackReset, stackStatus, stackUp, type ServiceName } from '../stack';

export function registerStackCommands(program: Command, say: Say, setExitCode: (code: number) => void): void {
  const stack = program.command('stack').description('the local servers: Temporal dev server, Kafka (KRaft), S3 (versitygw), PostgreSQL');
  stack
    .command('up')
    .description('install what is missing and start every service (idempotent)')
    .option('--json', "print the services' status as JSON (progress goes to stderr)")
    .addHelpText('after', '\nExamples:\n  $ etl stack up\n  $ etl stack up --json')
    .action(async (opts: { json?: boolean }) => {
      await stackUp(loadConfig(), { log: opts.json ? sayErr : say });
      const rows = await stackStatus(loadConfig());
      say(opts.json ? JSON.stringify(rows, null, 2) : formatStatusTable(rows));
    });
  stack
    .command('down')
    .description('stop the services this project started (data is kept)')
    .addHelpText('after', '\nExample:\n  $ etl stack down')
    .action(async () => stackDown(loadConfig(), { log: say }));
  stack
    .command('reset')
    .description('stop one service and delete its data, so the next `stack up` starts it empty')
    .addArgument(new Argument('<service>', 'the service whose data goes').choices(SERVICE_NAMES))
    .addHelpText(
      'after',
      '\nInstalled servers and download caches stay. For Kafka data this Kafka cannot open, `etl stack up` names it.\n\nExample:\n  $ etl stack reset kafka && etl stack up',
    )
    .action(async (service: ServiceName) => stackReset(loadConfig(), service, { log: say }));
  stack
    .command('status')
    .description('each service: state, address, pid, log file')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl stack status\n  $ etl stack status --json')
    .action(async (opts: { json?: boolean }) => {
      const rows = await stackStatus(loadConfig());
      say(opts.json ? JSON.stringify(rows, null, 2) : formatStatusTable(rows));
      if (rows.some((r) => r.state !== 'running' && r.state !== 'external')) setExitCode(1);
    });
}

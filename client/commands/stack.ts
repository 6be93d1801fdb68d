// `etl stack`: the local servers (the work is in client/stack/).
import { Argument, Option, type Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { sayErr, type Say } from '../output';
import {
  formatStatusTable,
  OPTIONAL_SERVICE_NAMES,
  SERVICE_NAMES,
  stackDown,
  stackReset,
  stackStatus,
  stackUp,
  type ServiceName,
} from '../stack';

const SECURE_HELP =
  'the secured stack instead, beside the plain one: Kafka SASL_SSL with SCRAM users, PostgreSQL over TLS only, S3 over HTTPS, Temporal behind a TLS proxy requiring a client certificate; certificates from a local CA, own ports, state in <ETL_STATE_DIR>/secure';

export function registerStackCommands(program: Command, say: Say, setExitCode: (code: number) => void): void {
  const stack = program
    .command('stack')
    .description('the local servers: Temporal dev server, Kafka (KRaft), S3 (versitygw), PostgreSQL; optionally OpenSearch');
  stack
    .command('up')
    .description('install what is missing and start every service (idempotent)')
    .option('--json', "print the services' status as JSON (progress goes to stderr)")
    .option('--secure', SECURE_HELP)
    .addOption(
      new Option(
        '--with <service...>',
        'also start an optional service: opensearch (the search sink; SEARCH_SINK=true starts it too)',
      ).choices(OPTIONAL_SERVICE_NAMES),
    )
    .addHelpText(
      'after',
      '\nWith --secure, the client settings for the secured servers are written to <ETL_STATE_DIR>/secure/client.env.\n\nExamples:\n  $ etl stack up\n  $ etl stack up --json\n  $ etl stack up --secure\n  $ etl stack up --with opensearch',
    )
    .action(async (opts: { json?: boolean; secure?: boolean; with?: string[] }) => {
      await stackUp(loadConfig(), { log: opts.json ? sayErr : say, secure: opts.secure, with: opts.with });
      const rows = await stackStatus(loadConfig(), { secure: opts.secure });
      say(opts.json ? JSON.stringify(rows, null, 2) : formatStatusTable(rows));
    });
  stack
    .command('down')
    .description('stop the services this project started (data is kept)')
    .option('--secure', 'the secured stack (see `etl stack up --help`)')
    .addHelpText('after', '\nExamples:\n  $ etl stack down\n  $ etl stack down --secure')
    .action(async (opts: { secure?: boolean }) => stackDown(loadConfig(), { log: say, secure: opts.secure }));
  stack
    .command('reset')
    .description('stop one service and delete its data, so the next `stack up` starts it empty')
    .addArgument(new Argument('<service>', 'the service whose data goes').choices(SERVICE_NAMES))
    .addHelpText(
      'after',
      '\nInstalled servers and download caches stay. For Kafka data this Kafka cannot open, `etl stack up` names it.\n\nExample:\n  $ etl stack reset kafka && etl stack up',
    )
    .option('--secure', 'the secured stack (see `etl stack up --help`)')
    .action(async (service: ServiceName, opts: { secure?: boolean }) =>
      stackReset(loadConfig(), service, { log: say, secure: opts.secure }),
    );
  stack
    .command('status')
    .description('each service: state, address, pid, log file')
    .option('--json', 'machine-readable output')
    .option('--secure', 'the secured stack (see `etl stack up --help`)')
    .addHelpText('after', '\nExamples:\n  $ etl stack status\n  $ etl stack status --json\n  $ etl stack status --secure')
    .action(async (opts: { json?: boolean; secure?: boolean }) => {
      const rows = await stackStatus(loadConfig(), { secure: opts.secure });
      say(opts.json ? JSON.stringify(rows, null, 2) : formatStatusTable(rows));
      if (rows.some((r) => r.state !== 'running' && r.state !== 'external')) setExitCode(1);
    });
}

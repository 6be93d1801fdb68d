// The `etl` command tree. Config is read per command (so --help works with a broken .env);
// each action returns an exit code.
import { Command, Option } from 'commander';
import { buildClients } from '../lib/clients';
import { loadConfig, temporalUiUrl } from '../lib/config';
import { connectClient } from '../lib/temporal';
import { migrateDatabase } from '../lib/setup';
import { runWorker } from '../worker/main';
import { nonNegativeInt, positiveInt, seed, isoTime, duration } from './args';
import { demo } from './commands/demo';
import { describeProduce, produce } from './commands/produce';
import { hasWorker, startPipeline, waitForPipeline } from './commands/pipeline';
import { collectReport, formatReport } from './commands/report';
import { fmt } from './output';
import { formatStatusTable, stackDown, stackStatus, stackUp } from './stack';

const say = (line: string) => process.stdout.write(line + '\n');
const STREAM_NAMES = ['transactions'];

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('etl')
    .description('Workflow-orchestrated ETL on Temporal: Kafka -> S3 bronze -> validated silver -> PostgreSQL')
    .exitOverride() // set before subcommands exist, so they inherit it: usage errors exit 2, not 1
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true });

  const stack = program.command('stack').description('the local servers: Temporal dev server, Kafka (KRaft), S3 (versitygw), PostgreSQL');
  stack.command('up').description('install what is missing and start every service (idempotent)')
    .addHelpText('after', '\nExample:\n  $ etl stack up')
    .action(async () => {
      await stackUp(loadConfig(), { log: say });
      say(formatStatusTable(await stackStatus(loadConfig())));
    });
  stack.command('down').description('stop the services this project started (data is kept)')
    .action(async () => stackDown(loadConfig(), { log: say }));
  stack.command('status').description('each service: state, address, pid, log file')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const rows = await stackStatus(loadConfig());
      say(opts.json ? JSON.stringify(rows, null, 2) : formatStatusTable(rows));
      if (rows.some((r) => r.state !== 'running' && r.state !== 'external')) setExitCode(1);
    });

  program.command('migrate').description('apply database migrations and the read-only role (safe to run twice or concurrently)')
    .action(async () => {
      const clients = buildClients(loadConfig());
      try {
        const r = await migrateDatabase(clients);
        say(`applied: ${r.migrations.applied.join(', ') || 'none'}; already applied: ${r.migrations.alreadyApplied}; reader role: ${r.readerRole}`);
      } finally {
        await clients.close();
      }
    });

  program.command('worker').description('run a Temporal worker for every pipeline workflow and activity (Ctrl-C stops it gracefully)')
    .action(async () => runWorker(loadConfig()));

  program.command('produce').description('publish synthetic events to a stream\'s Kafka topic')
    .addArgument(program.createArgument('<stream>', 'stream to produce').choices(STREAM_NAMES))
    .addOption(new Option('--rows <n>', 'number of events').argParser(positiveInt).default(100_000))
    .addOption(new Option('--rate <n>', 'events per second, 0 for as fast as possible').argParser(nonNegativeInt).default(0))
    .addOption(new Option('--seed <n>', 'seed: the same seed gives the same events').argParser(seed).default(42))
    .addOption(new Option('--start <time>', 'earliest event time (ISO-8601)').argParser(isoTime))
    .addOption(new Option('--window <duration>', 'event times spread over this window after --start').argParser(duration).default(86_400_000, '24h'))
    .addHelpText('after', '\nExamples:\n  $ etl produce transactions --rows 100000\n  $ etl produce transactions --rows 5000 --rate 1000 --seed 7')
    .action(async (stream: 'transactions', opts: { rows: number; rate: number; seed: number; start?: number; window: number }) => {
      const clients = buildClients(loadConfig());
      try {
        const startMs = opts.start ?? Date.now() - opts.window;
        say(describeProduce(await produce(clients, { stream, rows: opts.rows, rate: opts.rate, seed: opts.seed, startMs, windowMs: opts.window })));
      } finally {
        await clients.close();
      }
    });

  const run = program.command('run').description('start a workflow');
  run.command('pipeline').description('archive -> transform -> load -> quality for everything in the topic now (needs a running worker)')
    .addOption(new Option('--stream <name>', 'stream').choices(STREAM_NAMES).default('transactions'))
    .option('--wait', 'wait for the result and print the report')
    .addHelpText('after', '\nExamples:\n  $ etl run pipeline --wait\n  $ etl run pipeline --stream transactions')
    .action(async (opts: { stream: string; wait?: boolean }) => {
      const config = loadConfig();
      const client = await connectClient(config);
      try {
        const handle = await startPipeline(client, config, opts.stream);
        say(`started ${handle.workflowId}: ${temporalUiUrl(config, handle.workflowId)}`);
        if (!(await hasWorker(client, config))) {
          process.stderr.write(`warning: no worker polls task queue "${config.TEMPORAL_TASK_QUEUE}"; the run waits until one does — start it with \`etl worker\`\n`);
        }
        if (!opts.wait) return;
        const result = await waitForPipeline(handle);
        say(`loaded ${fmt(result.rowsInserted)} rows, ${fmt(result.duplicates)} duplicates, ${fmt(result.quarantined)} quarantined`);
        const clients = buildClients(config);
        try {
          say(formatReport(await collectReport(clients.pool, opts.stream, handle.workflowId), config.S3_BUCKET));
        } finally {
          await clients.close();
        }
        if (!result.quality.passed) setExitCode(1);
      } finally {
        await client.connection.close();
      }
    });

  program.command('demo').description('start the stack, produce events, run the pipeline and print a report')
    .addOption(new Option('--rows <n>', 'events to produce').argParser(positiveInt).default(100_000))
    .addOption(new Option('--seed <n>', 'seed for the synthetic events').argParser(seed).default(42))
    .action(async (opts: { rows: number; seed: number }) => {
      const passed = await demo(loadConfig(), opts, say);
      if (!passed) setExitCode(1);
    });

  return program;
}

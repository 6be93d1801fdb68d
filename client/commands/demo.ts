// `npm run demo`: the whole product in one command, on the local stack.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { buildClients } from '../../lib/clients';
import { loadConfig, maskUrlCredentials, temporalUiUrl, type Config } from '../../lib/config';
import { logToFile } from '../../lib/logger';
import { setupAll } from '../../lib/setup';
import { connectClient, connectWorkerConnection } from '../../lib/temporal';
import { streamTopics } from '../../streams';
import { createWorker } from '../../worker/worker';
import { stackUp } from '../stack';
import { stackPaths } from '../stack/paths';
import { positiveInt, seed } from '../args';
import { fmt, type Say } from '../output';
import { describeProduce, produce } from './produce';
import { startPipeline, waitForPipeline } from './pipeline';
import { failureError, settle } from './run-outcome';
import { collectReport, formatReport } from './report';
import { reportSearchIndex } from './demo-search';

export interface DemoArgs {
  rows: number;
  seed: number;
}

const DAY_MS = 86_400_000;

export async function demo(config: Config, args: DemoArgs, say: (line: string) => void): Promise<boolean> {
  say('Starting the local stack (first run installs Temporal, Kafka, an S3 server and PostgreSQL; later runs take seconds)…');
  await stackUp(config, { log: (l) => say(`  ${l}`) });
  // The terminal is for the person running the demo: the in-process worker's JSON logs (state
  // changes, one line per object) go to a file, unless they asked for them with LOG_LEVEL=debug.
  const workerLog = path.join(stackPaths(config).logs, 'demo-worker.log');
  const logsHere = config.LOG_LEVEL === 'debug' || config.LOG_LEVEL === 'trace';
  if (!logsHere) logToFile(workerLog);
  const clients = buildClients(config);
  try {
    const setup = await setupAll(clients, streamTopics(config.KAFKA_TOPIC_PREFIX));
    say(
      `Database schema "${config.PG_SCHEMA}": ${setup.migrations.applied.length} migration(s) applied, ${setup.migrations.alreadyApplied} already there; topics: ${setup.topics.join(', ')}`,
    );

    const connection = await connectWorkerConnection(config);
    const worker = await createWorker({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      deps: clients,
    });
    const workerRun = worker.run();
    say(
      logsHere
        ? 'Worker running in this process; its JSON logs follow on stderr (LOG_LEVEL=debug)'
        : `Worker running in this process; its logs: ${workerLog}`,
    );
    try {
      // Yesterday, day-aligned: the same seed on the same day produces the very same events, so a
      // second demo shows idempotency (everything is deduplicated) rather than doubling the data.
      const startMs = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
      say(
        describeProduce(
          await produce(clients, { stream: 'transactions', rows: args.rows, rate: 0, seed: args.seed, startMs, windowMs: DAY_MS }),
        ),
      );

      const client = await connectClient(config);
      const handle = await startPipeline(client, config, 'transactions');
      say(`Pipeline workflow ${handle.workflowId} started — watch it at ${temporalUiUrl(config, handle.workflowId)}`);
      // A failed run (objects parked) is one `error [CODE]: …` line, not a stack trace.
      const outcome = await settle(waitForPipeline(handle, args.rows));
      if (!outcome.ok) throw failureError(outcome.failure, temporalUiUrl(config, handle.workflowId));
      const result = outcome.result;
      say(
        `Pipeline done: ${fmt(result.recordsArchived)} records archived in ${fmt(result.objectsArchived)} objects, ${fmt(result.rowsInserted)} rows loaded, ${fmt(result.duplicates)} duplicates skipped, ${fmt(result.quarantined)} quarantined`,
      );
      say('');
      say(formatReport(await collectReport(clients.pool, 'transactions', handle.workflowId), config.S3_BUCKET));
      await reportSearchIndex(config, clients.pool, 'transactions', say);
      say('');
      say(`Temporal Web UI for this run: ${temporalUiUrl(config, handle.workflowId)}`);
      say(`PostgreSQL: psql "${maskUrlCredentials(config.DATABASE_URL)}" (schema ${config.PG_SCHEMA})`);
      say('The stack stays up; `./bin/etl stack status` shows it and `./bin/etl stack down` stops it.');
      say(`Dashboard: run \`./bin/etl dashboard\` then open http://${config.DASHBOARD_HOST}:${config.DASHBOARD_PORT}/`);
      return result.quality.passed;
    } finally {
      worker.shutdown();
      await workerRun;
      await connection.close();
    }
  } finally {
    await clients.close();
  }
}

export function registerDemoCommand(program: Command, say: Say, setExitCode: (code: number) => void): void {
  program
    .command('demo')
    .description('start the stack, produce events, run the pipeline and print a report')
    .addOption(new Option('--rows <n>', 'events to produce').argParser(positiveInt).default(100_000))
    .addOption(new Option('--seed <n>', 'seed for the synthetic events').argParser(seed).default(42))
    .addHelpText('after', '\nExamples:\n  $ etl demo\n  $ etl demo --rows 10000 --seed 7')
    .action(async (opts: { rows: number; seed: number }) => {
      const passed = await demo(loadConfig(), opts, say);
      if (!passed) setExitCode(1);
    });
}

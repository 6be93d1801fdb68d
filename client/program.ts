// The `etl` command tree. Config is read per command (so --help works with a broken .env);
// each action returns an exit code.
import { Argument, Command, Option } from 'commander';
import { buildClients, type Clients } from '../lib/clients';
import { EtlError } from '../lib/errors';
import { getStream, streamNames } from '../streams';
import type { Client } from '@temporalio/client';
import { loadConfig, temporalUiUrl, type Config } from '../lib/config';
import { connectClient } from '../lib/temporal';
import { withPostgresErrors } from '../lib/postgres';
import { migrateDatabase } from '../lib/setup';
import { runWorker } from '../worker/main';
import { boundedDuration, duration, idList, isoTime, positiveInt, seed, TIME_FLAG_FORMAT } from './args';
import { demo } from './commands/demo';
import { dashboard, portArg } from './commands/dashboard';
import { registerForecastCommands } from './commands/forecast';
import { registerProduceCommands } from './commands/produce';
import { marketSymbolList, registerPollCommand } from './commands/poll';
import { MARKET_SOURCES } from '../sources/market/types';
import { hasWorker, startPipeline, waitForPipeline } from './commands/pipeline';
import { describeTotals, formatStreamReport, startStream, stopStream, streamReport } from './commands/stream';
import { collectReport, formatReport } from './commands/report';
import { fmt, formatTable } from './output';
import { formatBronzeLineage, formatRecordLineage } from './commands/lineage-format';
import { bronzeLineage, parseRecordKey, recordLineage } from './commands/lineage';
import { listQuarantine, replayQuarantine, showQuarantine } from './commands/quarantine';
import { registerObjectsCommands } from './commands/objects-cli';
import { failureError, failureLine, settle } from './commands/run-outcome';
import type { PipelineResult } from '../workflows';
import { replayCommand } from './commands/replay';
import { formatBackfill, waitForBackfill } from './commands/backfill';
import { runStatus, streamStatuses } from './commands/status';
import { formatRunStatus, formatStreamStatuses, onWorkflow } from './commands/status-format';
import {
  backfillSchedule, createSchedule, deleteSchedule, describeSchedule, listSchedules, OVERLAP_POLICIES, pauseSchedule,
  triggerSchedule, updateSchedule, type OverlapName,
} from './commands/schedule';
import { SCHEDULABLE_NAMES } from './commands/schedulable';
import { formatStatusTable, SERVICE_NAMES, stackDown, stackReset, stackStatus, stackUp, type ServiceName } from './stack';

const say = (line: string) => process.stdout.write(line + '\n');

/** Duration flags with the range of what consumes them: out of range is a usage error (exit 2) naming it. */
const SCHEDULE_INTERVAL = boundedDuration({ min: 1_000, max: 365 * 86_400_000 });
const CATCHUP_WINDOW = boundedDuration({ min: 10_000 });
const WAIT_TIMEOUT = boundedDuration({ min: 1_000 });
const FLUSH_INTERVAL = boundedDuration({ min: 100 });
/** Progress and notes while stdout carries JSON. */
const sayErr = (line: string) => process.stderr.write(line + '\n');

/** Every command reading PostgreSQL goes through here: a server that is down is one line, POSTGRES_UNREACHABLE. */
async function withClients<T>(fn: (clients: Clients) => Promise<T>): Promise<T> {
  const clients = buildClients(loadConfig());
  try {
    return await withPostgresErrors(clients.config.DATABASE_URL, () => fn(clients));
  } finally {
    await clients.close();
  }
}

export function buildProgram(setExitCode: (code: number) => void): Command {
  // Read when the tree is built, so a stream registered before (a plugin, a test) is offered too.
  const STREAM_NAMES = streamNames();
  const program = new Command('etl')
    .description('Workflow-orchestrated ETL on Temporal: Kafka -> S3 bronze -> validated silver -> PostgreSQL')
    .exitOverride() // set before subcommands exist, so they inherit it: usage errors exit 2, not 1
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true });

  const stack = program.command('stack').description('the local servers: Temporal dev server, Kafka (KRaft), S3 (versitygw), PostgreSQL');
  stack.command('up').description('install what is missing and start every service (idempotent)')
    .option('--json', 'print the services\' status as JSON (progress goes to stderr)')
    .addHelpText('after', '\nExamples:\n  $ etl stack up\n  $ etl stack up --json')
    .action(async (opts: { json?: boolean }) => {
      await stackUp(loadConfig(), { log: opts.json ? sayErr : say });
      const rows = await stackStatus(loadConfig());
      say(opts.json ? JSON.stringify(rows, null, 2) : formatStatusTable(rows));
    });
  stack.command('down').description('stop the services this project started (data is kept)')
    .addHelpText('after', '\nExample:\n  $ etl stack down')
    .action(async () => stackDown(loadConfig(), { log: say }));
  stack.command('reset').description('stop one service and delete its data, so the next `stack up` starts it empty')
    .addArgument(new Argument('<service>', 'the service whose data goes').choices(SERVICE_NAMES))
    .addHelpText('after', '\nInstalled servers and download caches stay. For Kafka data this Kafka cannot open, `etl stack up` names it.\n\nExample:\n  $ etl stack reset kafka && etl stack up')
    .action(async (service: ServiceName) => stackReset(loadConfig(), service, { log: say }));
  stack.command('status').description('each service: state, address, pid, log file')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl stack status\n  $ etl stack status --json')
    .action(async (opts: { json?: boolean }) => {
      const rows = await stackStatus(loadConfig());
      say(opts.json ? JSON.stringify(rows, null, 2) : formatStatusTable(rows));
      if (rows.some((r) => r.state !== 'running' && r.state !== 'external')) setExitCode(1);
    });

  program.command('migrate').description('apply database migrations and the read-only role (safe to run twice or concurrently)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl migrate\n  $ PG_SCHEMA=etl_staging etl migrate --json')
    .action(async (opts: { json?: boolean }) => {
      const clients = buildClients(loadConfig());
      try {
        const r = await migrateDatabase(clients);
        say(opts.json ? JSON.stringify(r, null, 2) : `applied: ${r.migrations.applied.join(', ') || 'none'}; already applied: ${r.migrations.alreadyApplied}; reader role: ${r.readerRole}`);
      } finally {
        await clients.close();
      }
    });

  program.command('worker').description('run a Temporal worker for every pipeline workflow and activity (Ctrl-C stops it gracefully)')
    .addHelpText('after', '\nLogs are JSON lines on stderr; lines written by an activity carry its workflow and activity ids.\n' +
      'Prometheus metrics (SDK runtime, pipeline counters, etl_consumer_lag) are at http://METRICS_HOST:METRICS_PORT/metrics.\n\n' +
      'Examples:\n  $ etl worker\n  $ LOG_LEVEL=debug METRICS_PORT=9465 etl worker')
    .action(async () => runWorker(loadConfig()));

  registerProduceCommands(program, say);

  const run = program.command('run').description('start a workflow');
  run.command('pipeline').description('archive -> transform -> load -> quality for everything in the topic now (needs a running worker)')
    .addOption(new Option('--stream <name>', 'stream').choices(STREAM_NAMES).default('transactions'))
    .option('--wait', 'wait for the result and print the report')
    .option('--json', 'machine-readable output: the run\'s id and link, with --wait also its result and report')
    .addHelpText('after', '\nExamples:\n  $ etl run pipeline --wait\n  $ etl run pipeline --stream transactions\n  $ etl run pipeline --wait --json')
    .action(async (opts: { stream: string; wait?: boolean; json?: boolean }) => {
      const config = loadConfig();
      const client = await connectClient(config);
      try {
        const handle = await startPipeline(client, config, opts.stream);
        const started = { workflowId: handle.workflowId, url: temporalUiUrl(config, handle.workflowId) };
        (opts.json ? sayErr : say)(`started ${started.workflowId}: ${started.url}`);
        if (!(await hasWorker(client, config))) {
          process.stderr.write(`warning: no worker polls task queue "${config.TEMPORAL_TASK_QUEUE}"; the run waits until one does — start it with \`etl worker\`\n`);
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
            say(`loaded ${fmt(result.rowsInserted)} rows, ${fmt(result.duplicates)} duplicates, ${fmt(result.quarantined)} quarantined` +
              (result.objectsParked ? `, ${fmt(result.objectsParked)} objects parked` : ''));
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

  const quarantine = program.command('quarantine').description('records set aside by validation, with their reasons and original bytes');
  const filterOptions = (cmd: Command) => cmd
    .addOption(new Option('--stream <name>', 'stream').choices(STREAM_NAMES).default('transactions'))
    .option('--reason <code>', 'only this reason code, e.g. MALFORMED_JSON')
    .addOption(new Option('--ids <ids>', 'only these quarantine ids, comma-separated').argParser(idList))
    .addOption(new Option('--limit <n>', 'at most this many records').argParser(positiveInt).default(1_000));
  filterOptions(quarantine.command('list').description('quarantined records, oldest first'))
    .option('--all', 'include records already replayed')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl quarantine list --reason INVALID_VALUE\n  $ etl quarantine list --json --limit 10')
    .action(async (opts: { stream: string; reason?: string; ids?: number[]; limit: number; all?: boolean; json?: boolean }) => {
      await withClients(async ({ pool }) => {
        const rows = await listQuarantine(pool, { ...opts, includeReplayed: opts.all });
        say(opts.json ? JSON.stringify(rows, null, 2) : formatTable(['id', 'reason', 'kafka', 'quarantined', 'replayed', 'detail'],
          rows.map((r) => [r.id, r.reason_code, `${r.kafka_topic}[${r.kafka_partition}]@${r.kafka_offset}`, r.quarantined_at.toISOString(), r.replayed_at?.toISOString() ?? '-', r.reason.slice(0, 80)])));
      });
    });
  quarantine.command('show').description('one quarantined record with its original payload')
    .addArgument(program.createArgument('<id>', 'quarantine id').argParser(positiveInt))
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl quarantine show 12\n  $ etl quarantine show 12 --json')
    .action(async (id: number, opts: { json?: boolean }) => {
      await withClients(async ({ pool }) => {
        const row = await showQuarantine(pool, id);
        if (!row) throw new EtlError('USAGE', `no quarantined record with id ${id}; see \`etl quarantine list\``);
        say(opts.json ? JSON.stringify(row, null, 2) : Object.entries(row).map(([k, v]) => `${k.padEnd(17)} ${v instanceof Date ? v.toISOString() : String(v)}`).join('\n'));
      });
    });
  filterOptions(quarantine.command('replay').description('re-validate quarantined records with the current rules and load those that now pass'))
    .option('--json', 'machine-readable summary')
    .addHelpText('after', '\nAfter a validation rule is fixed (a new category, a wider range), replay puts the records it\nused to reject through the same checks and the same idempotent load. Records that still fail stay.\n\nExamples:\n  $ etl quarantine replay --reason UNKNOWN_VALUE\n  $ etl quarantine replay --ids 12,13 --json')
    .action(async (opts: { stream: string; reason?: string; ids?: number[]; limit: number; json?: boolean }) => {
      await withClients(async ({ pool }) => {
        const r = await replayQuarantine(pool, getStream(opts.stream), opts);
        if (opts.json) {
          say(JSON.stringify(r, null, 2));
          return;
        }
        say(`examined ${fmt(r.examined)}: ${fmt(r.loaded)} loaded, ${fmt(r.duplicates)} already present, ${fmt(r.conflicts)} conflicting` +
          (Object.keys(r.stillInvalid).length ? `; still quarantined: ${Object.entries(r.stillInvalid).map(([k, n]) => `${k} ${fmt(n)}`).join(', ')}` : ''));
      });
    });

  registerObjectsCommands(program, say, setExitCode);

  program.command('lineage').description('where a record came from: Kafka offset -> bronze object -> silver object -> load -> tables')
    .argument('[key]', 'the record key of the stream: transaction_id, tick_id, …')
    .addOption(new Option('--object <id>', 'a bronze object id instead: show it and its load(s)').argParser(positiveInt))
    .addOption(new Option('--stream <name>', 'stream').choices(STREAM_NAMES).default('transactions'))
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl lineage 3f0c9a52-8d1e-4a5b-9c47-2b1f6e0d7a11\n  $ etl lineage --stream ticks 0b7e6c2a-5d41-5f7e-9a3b-1c2d3e4f5a6b\n  $ etl lineage --object 12')
    .action(async (key: string | undefined, opts: { object?: number; stream: string; json?: boolean }) => {
      const config = loadConfig();
      await withClients(async ({ pool }) => {
        if (opts.object !== undefined) {
          const b = await bronzeLineage(pool, opts.object);
          if (!b) throw new EtlError('USAGE', `no bronze object with id ${opts.object}`);
          say(opts.json ? JSON.stringify(b, null, 2) : formatBronzeLineage(b, config));
          return;
        }
        const spec = getStream(opts.stream);
        const l = await recordLineage(pool, spec, parseRecordKey(spec, key));
        say(opts.json ? JSON.stringify(l, null, 2) : formatRecordLineage(l, config));
        if (!l.loaded && l.quarantined.length === 0) setExitCode(1);
      });
    });

  const schedule = program.command('schedule').description('Temporal Schedules that start pipeline runs (visible in `temporal schedule list` and the Web UI)');
  const withClient = async <T>(fn: (client: Client, config: Config) => Promise<T>): Promise<T> => {
    const config = loadConfig();
    const client = await connectClient(config);
    try {
      return await fn(client, config);
    } finally {
      await client.connection.close();
    }
  };
  const timingOptions = (cmd: Command) => cmd
    .addOption(new Option('--every <duration>', 'run at this interval, e.g. 1m, 15m, 1h (1s to 365d: Temporal\'s shortest interval is 1s)').argParser(SCHEDULE_INTERVAL))
    .option('--cron <expression>', 'or on a cron expression, e.g. "*/5 * * * *"')
    .addOption(new Option('--overlap <policy>', 'when the previous run is still going').choices(OVERLAP_POLICIES))
    .addOption(new Option('--catchup-window <duration>', 'missed runs within this window are still taken after an outage (at least 10s, Temporal\'s minimum)').argParser(CATCHUP_WINDOW))
    .option('--pause-on-failure', 'pause the schedule when a run fails');
  timingOptions(schedule.command('create').description('create a schedule for a pipeline'))
    .addArgument(program.createArgument('<what>', 'what to run').choices(SCHEDULABLE_NAMES))
    .addOption(new Option('--stream <name>', 'stream').choices(STREAM_NAMES).default('transactions'))
    .option('--id <id>', 'schedule id, taken as given (default: <what>-<stream>, poll-<source> for poll; @<task queue>[+<topic prefix>] appended outside the default deployment)')
    .addOption(new Option('--source <name>', 'poll: the market data source').choices(MARKET_SOURCES))
    .addOption(new Option('--symbols <list>', 'poll: comma-separated symbols (default: the worker\'s MARKET_SYMBOLS_<SOURCE> at each run)').argParser(marketSymbolList))
    .addOption(new Option('--jitter <duration>', 'delay each run by a random amount up to this').argParser(duration))
    .addOption(new Option('--start <time>', `no runs before this time (${TIME_FLAG_FORMAT})`).argParser(isoTime))
    .addOption(new Option('--end <time>', `no runs after this time (${TIME_FLAG_FORMAT})`).argParser(isoTime))
    .option('--paused', 'create it paused')
    .option('--note <text>', 'a note shown with the schedule')
    .addHelpText('after', '\nOverlap defaults to skip (Airflow\'s max_active_runs=1).\n\nExamples:\n  $ etl schedule create pipeline --every 5m\n  $ etl schedule create pipeline --cron "0 * * * *" --catchup-window 6h --pause-on-failure\n  $ etl schedule create poll --source yahoo --every 1m\n  $ etl schedule create poll --source finnhub --symbols AAPL,NVDA   (interval: MARKET_POLL_EVERY)')
    .action(async (what: string, o: { stream: string; source?: string; symbols?: string[]; id?: string; every?: number; cron?: string; overlap?: OverlapName; catchupWindow?: number; pauseOnFailure?: boolean; jitter?: number; start?: number; end?: number; paused?: boolean; note?: string }) => {
      await withClient(async (client, config) => {
        const id = await createSchedule(client, config, { ...o, what, overlap: o.overlap ?? 'skip', everyMs: o.every, catchupWindowMs: o.catchupWindow, jitterMs: o.jitter });
        say(`created schedule ${id}${o.paused ? ' (paused)' : ''}; runs appear as ${id}-<time> in ${temporalUiUrl(config)}`);
      });
    });
  schedule.command('list').description('this deployment\'s schedules with their spec, next runs, last result and state')
    .option('--all', 'every schedule of the Temporal namespace, whichever deployment created it')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nA deployment with its own TEMPORAL_TASK_QUEUE or KAFKA_TOPIC_PREFIX names its schedules\n<what>-<stream>@<task queue>[+<prefix>]; the name without the suffix works in every command.\n\nExamples:\n  $ etl schedule list\n  $ etl schedule list --all --json')
    .action(async (o: { all?: boolean; json?: boolean }) => {
      await withClient(async (client, config) => {
        const rows = await listSchedules(client, config, o);
        say(o.json ? JSON.stringify(rows, null, 2) : formatTable(['id', 'spec', 'next runs', 'last run', 'paused'],
          rows.map((r) => [r.id, r.spec, r.nextRuns.join(', ') || '-', r.lastRun ? `${r.lastRun.status} ${r.lastRun.workflowId}` : '-', r.paused ? `yes${r.note ? ` (${r.note})` : ''}` : 'no'])));
      });
    });
  schedule.command('describe').description('everything Temporal knows about a schedule, as JSON').argument('<id>')
    .addHelpText('after', '\nExample:\n  $ etl schedule describe pipeline-transactions')
    .action(async (id: string) => withClient(async (client, config) => {
      say(JSON.stringify(await describeSchedule(client, config, id), null, 2));
    }));
  for (const [name, pause] of [['pause', true], ['unpause', false]] as const) {
    schedule.command(name).description(`${name} a schedule`).argument('<id>').option('--note <text>', 'why (shown with the schedule)')
      .addHelpText('after', `\nExample:\n  $ etl schedule ${name} pipeline-transactions --note "${pause ? 'warehouse maintenance' : 'maintenance done'}"`)
      .action(async (id: string, o: { note?: string }) => withClient(async (client, config) => {
        say(`${name}d ${await pauseSchedule(client, config, id, pause, o.note)}`);
      }));
  }
  schedule.command('trigger').description('start a run now').argument('<id>')
    .addHelpText('after', '\nExample:\n  $ etl schedule trigger pipeline-transactions')
    .action(async (id: string) => withClient(async (client, config) => {
      say(`triggered ${await triggerSchedule(client, config, id)}`);
    }));
  schedule.command('backfill').description('start, one after another, the runs the schedule would have started in a past window').argument('<id>')
    .requiredOption('--from <time>', `window start (${TIME_FLAG_FORMAT})`, isoTime)
    .requiredOption('--to <time>', `window end (${TIME_FLAG_FORMAT})`, isoTime)
    .option('--wait', 'follow the runs with a progress bar until they have all ended, then print a summary')
    .addOption(new Option('--timeout <duration>', 'with --wait: stop waiting after this long (exit 1)').argParser(WAIT_TIMEOUT).default(3_600_000, '60m'))
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nBoth ends of the window are included. Runs go one after another (overlap buffer-all).\n\n' +
      'Examples:\n  $ etl schedule backfill pipeline-transactions --from 2026-11-22T00:00:00Z --to 2026-11-22T06:00:00Z\n' +
      '  $ etl schedule backfill pipeline-transactions --from 2026-11-22T00:00:00Z --to 2026-11-22T06:00:00Z --wait --json')
    .action(async (given: string, o: { from: number; to: number; wait?: boolean; timeout: number; json?: boolean }) => withClient(async (client, config) => {
      const id = await backfillSchedule(client, config, given, o.from, o.to);
      const requested = `backfill of ${id} from ${new Date(o.from).toISOString()} to ${new Date(o.to).toISOString()} requested`;
      if (!o.wait) {
        say(o.json ? JSON.stringify({ scheduleId: id, from: new Date(o.from).toISOString(), to: new Date(o.to).toISOString(), requested: true }, null, 2) : requested);
        return;
      }
      sayErr(requested);
      const report = await waitForBackfill(client, config, id, o.from, o.to, o.timeout);
      say(o.json ? JSON.stringify(report, null, 2) : formatBackfill(report));
      if (report.timedOut || report.failed > 0) setExitCode(1);
    }));
  timingOptions(schedule.command('update').description('change the timing or policies of a schedule')).argument('<id>')
    .addHelpText('after', '\nExamples:\n  $ etl schedule update pipeline-transactions --every 15m\n  $ etl schedule update pipeline-transactions --overlap buffer-one --pause-on-failure')
    .action(async (id: string, o: { every?: number; cron?: string; overlap?: OverlapName; catchupWindow?: number; pauseOnFailure?: boolean }) => withClient(async (client, config) => {
      say(`updated ${await updateSchedule(client, config, id, { ...o, everyMs: o.every, catchupWindowMs: o.catchupWindow })}`);
    }));
  schedule.command('delete').description('delete a schedule (its past runs stay)').argument('<id>')
    .addHelpText('after', '\nExample:\n  $ etl schedule delete pipeline-transactions')
    .action(async (id: string) => withClient(async (client, config) => {
      say(`deleted ${await deleteSchedule(client, config, id)}`);
    }));

  program.command('status').description('per stream: consumer lag, last object and load, last hour, schedules, running workflows; or one run')
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

  const streamCmd = program.command('stream').description('continuous mode: one long-running workflow per stream that flushes, transforms and loads within seconds');
  streamCmd.command('start').description('start the continuous workflow of a stream (one per stream; needs a running worker)')
    .addArgument(program.createArgument('<stream>', 'stream').choices(STREAM_NAMES))
    .addOption(new Option('--flush <duration>', 'a record read is written to bronze at most this long after, at least 100ms (default: STREAM_FLUSH_INTERVAL_MS, 5s)').argParser(FLUSH_INTERVAL))
    .addOption(new Option('--max-records <n>', 'records per bronze object at most: a fuller buffer is written at once (default: ARCHIVE_MAX_RECORDS_PER_OBJECT)').argParser(positiveInt))
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nScheduled runs (`etl run pipeline`, `etl schedule`) keep working beside it: they share the\narchive lock and the manifest, so each Kafka offset still lands in exactly one object.\n\nExamples:\n  $ etl stream start transactions\n  $ etl stream start transactions --flush 1s --max-records 10000')
    .action(async (stream: string, o: { flush?: number; maxRecords?: number; json?: boolean }) => withClient(async (client, config) => {
      const r = await startStream(client, config, { stream, flushIntervalMs: o.flush ?? config.STREAM_FLUSH_INTERVAL_MS, maxRecordsPerObject: o.maxRecords });
      if (o.json) say(JSON.stringify(r, null, 2));
      else say(r.started ? `started ${r.workflowId}: ${r.url}` : `${r.workflowId} is already running (run ${r.runId}): ${r.url}; \`etl stream stop ${stream}\` stops it`);
      if (!(await hasWorker(client, config))) {
        process.stderr.write(`warning: no worker polls task queue "${config.TEMPORAL_TASK_QUEUE}"; the stream waits until one does — start it with \`etl worker\`\n`);
      }
    }));
  streamCmd.command('stop').description('ask the stream to write and load what it has read, then wait for it to complete')
    .addArgument(program.createArgument('<stream>', 'stream').choices(STREAM_NAMES))
    .addOption(new Option('--timeout <duration>', 'how long to wait for it to complete').argParser(WAIT_TIMEOUT).default(120_000, '2m'))
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl stream stop transactions\n  $ etl stream stop transactions --timeout 5m --json')
    .action(async (stream: string, o: { timeout: number; json?: boolean }) => withClient(async (client, config) => {
      const r = await stopStream(client, config, stream, o.timeout);
      if (o.json) say(JSON.stringify(r, null, 2));
      if (r.state === 'still-stopping' || (r.state === 'stopped' && !r.result.quality.passed)) setExitCode(1);
      if (o.json) return;
      if (r.state === 'not-running') say(`stream ${stream} is not running${r.report.status ? ` (last run: ${r.report.status})` : ''}`);
      else if (r.state === 'stopped') say(`stopped stream ${stream}: ${describeTotals(r.result)}`);
      else sayErr(`stop requested, but stream ${stream} has not completed within ${o.timeout / 1000}s (is a worker running?); \`etl stream status ${stream}\` shows when it has`);
    }));
  streamCmd.command('status').description('whether the stream runs, its flushes, totals, last flush and Web UI link')
    .addArgument(program.createArgument('<stream>', 'stream').choices(STREAM_NAMES))
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl stream status transactions\n  $ etl stream status transactions --json')
    .action(async (stream: string, o: { json?: boolean }) => withClient(async (client, config) => {
      const r = await streamReport(client, config, stream);
      say(o.json ? JSON.stringify(r, null, 2) : formatStreamReport(r));
    }));

  program.command('replay').description('re-run transform and load from the archived bronze objects of an event-time window, with the current rules')
    .addOption(new Option('--stream <name>', 'stream').choices(STREAM_NAMES).default('transactions'))
    .requiredOption('--from <time>', `window start, inclusive: an event time (${TIME_FLAG_FORMAT})`, isoTime)
    .requiredOption('--to <time>', `window end, exclusive: an event time (${TIME_FLAG_FORMAT})`, isoTime)
    .option('--no-wait', 'start it and return (follow it with `etl status <workflowId>` or the Web UI)')
    .option('--json', 'machine-readable output: the run\'s id and link, and its result unless --no-wait')
    .addHelpText('after', '\nEvery loaded object whose event times overlap the window is read again from bronze and validated\n' +
      'with the worker\'s current rules, in one idempotent transaction per object: records quarantined before\n' +
      'that now pass are loaded, loaded rows get the newly derived columns, nothing is deleted or loaded twice.\n' +
      'Unlike `etl schedule backfill` (which starts the runs a schedule missed; they drain Kafka), replay\n' +
      're-derives data that is already archived.\n\n' +
      'Examples:\n  $ etl replay --stream transactions --from 2026-11-22T00:00:00Z --to 2026-11-23T00:00:00Z\n' +
      '  $ etl replay --from 2026-11-22T00:00:00Z --to 2026-11-22T06:00:00Z --no-wait\n' +
      '  $ etl replay --from 2026-11-22T00:00:00Z --to 2026-11-23T00:00:00Z --json > replay.json')
    .action(async (o: { stream: string; from: number; to: number; wait: boolean; json?: boolean }) => withClient(async (client, config) => {
      if ((await replayCommand(client, config, o, say)) !== 0) setExitCode(1);
    }));

  program.command('demo').description('start the stack, produce events, run the pipeline and print a report')
    .addOption(new Option('--rows <n>', 'events to produce').argParser(positiveInt).default(100_000))
    .addOption(new Option('--seed <n>', 'seed for the synthetic events').argParser(seed).default(42))
    .addHelpText('after', '\nExamples:\n  $ etl demo\n  $ etl demo --rows 10000 --seed 7')
    .action(async (opts: { rows: number; seed: number }) => {
      const passed = await demo(loadConfig(), opts, say);
      if (!passed) setExitCode(1);
    });

  program.command('dashboard').description('serve the web dashboard (KPIs, charts, filters, CSV export, pipeline panel) reading as the read-only role')
    .option('--host <address>', 'address to listen on (default: DASHBOARD_HOST, 127.0.0.1)')
    .addOption(new Option('--port <n>', 'port to listen on, 0 for any free one (default: DASHBOARD_PORT, 8080)').argParser(portArg))
    .addHelpText('after', '\nExamples:\n  $ etl dashboard\n  $ etl dashboard --port 9000')
    .action(async (opts: { host?: string; port?: number }) => dashboard(loadConfig(), opts, say));

  registerForecastCommands(program, say, setExitCode);

  registerPollCommand(program, say, setExitCode);

  return program;
}

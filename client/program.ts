// The `etl` command tree. Config is read per command (so --help works with a broken .env);
// each action returns an exit code.
import { Command, Option } from 'commander';
import { z } from 'zod';
import { buildClients, type Clients } from '../lib/clients';
import { EtlError } from '../lib/errors';
import { getStream } from '../streams';
import type { Client } from '@temporalio/client';
import { loadConfig, temporalUiUrl, type Config } from '../lib/config';
import { connectClient } from '../lib/temporal';
import { migrateDatabase } from '../lib/setup';
import { runWorker } from '../worker/main';
import { duration, idList, isoTime, nonNegativeInt, positiveInt, seed } from './args';
import { demo } from './commands/demo';
import { dashboard, portArg } from './commands/dashboard';
import { describeProduce, produce } from './commands/produce';
import { hasWorker, startPipeline, waitForPipeline } from './commands/pipeline';
import { describeTotals, formatStreamReport, startStream, stopStream, streamReport } from './commands/stream';
import { collectReport, formatReport } from './commands/report';
import { fmt, formatTable } from './output';
import { formatBronzeLineage, formatRecordLineage } from './commands/lineage-format';
import { bronzeLineage, recordLineage } from './commands/lineage';
import { listQuarantine, replayQuarantine, showQuarantine } from './commands/quarantine';
import { replayCommand } from './commands/replay';
import { runStatus, streamStatuses } from './commands/status';
import { formatRunStatus, formatStreamStatuses, onWorkflow } from './commands/status-format';
import {
  backfillSchedule, createSchedule, deleteSchedule, describeSchedule, listSchedules, OVERLAP_POLICIES, pauseSchedule,
  triggerSchedule, updateSchedule, type OverlapName,
} from './commands/schedule';
import { SCHEDULABLE_NAMES } from './commands/schedulable';
import { formatStatusTable, stackDown, stackStatus, stackUp } from './stack';

const say = (line: string) => process.stdout.write(line + '\n');
const STREAM_NAMES = ['transactions'];

async function withClients<T>(fn: (clients: Clients) => Promise<T>): Promise<T> {
  const clients = buildClients(loadConfig());
  try {
    return await fn(clients);
  } finally {
    await clients.close();
  }
}

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
    .action(async (id: number, opts: { json?: boolean }) => {
      await withClients(async ({ pool }) => {
        const row = await showQuarantine(pool, id);
        if (!row) throw new EtlError('USAGE', `no quarantined record with id ${id}; see \`etl quarantine list\``);
        say(opts.json ? JSON.stringify(row, null, 2) : Object.entries(row).map(([k, v]) => `${k.padEnd(17)} ${v instanceof Date ? v.toISOString() : String(v)}`).join('\n'));
      });
    });
  filterOptions(quarantine.command('replay').description('re-validate quarantined records with the current rules and load those that now pass'))
    .addHelpText('after', '\nAfter a validation rule is fixed (a new category, a wider range), replay puts the records it\nused to reject through the same checks and the same idempotent load. Records that still fail stay.\n\nExamples:\n  $ etl quarantine replay --reason UNKNOWN_VALUE\n  $ etl quarantine replay --ids 12,13')
    .action(async (opts: { stream: string; reason?: string; ids?: number[]; limit: number }) => {
      await withClients(async ({ pool }) => {
        const r = await replayQuarantine(pool, getStream(opts.stream), opts);
        say(`examined ${fmt(r.examined)}: ${fmt(r.loaded)} loaded, ${fmt(r.duplicates)} already present, ${fmt(r.conflicts)} conflicting` +
          (Object.keys(r.stillInvalid).length ? `; still quarantined: ${Object.entries(r.stillInvalid).map(([k, n]) => `${k} ${fmt(n)}`).join(', ')}` : ''));
      });
    });

  program.command('lineage').description('where a record came from: Kafka offset -> bronze object -> silver object -> load -> tables')
    .argument('[transaction_id]', 'the record key (transaction_id)')
    .addOption(new Option('--object <id>', 'a bronze object id instead: show it and its load(s)').argParser(positiveInt))
    .addOption(new Option('--stream <name>', 'stream').choices(STREAM_NAMES).default('transactions'))
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl lineage 3f0c9a52-8d1e-4a5b-9c47-2b1f6e0d7a11\n  $ etl lineage --object 12')
    .action(async (key: string | undefined, opts: { object?: number; stream: string; json?: boolean }) => {
      const config = loadConfig();
      await withClients(async ({ pool }) => {
        if (opts.object !== undefined) {
          const b = await bronzeLineage(pool, opts.object);
          if (!b) throw new EtlError('USAGE', `no bronze object with id ${opts.object}`);
          say(opts.json ? JSON.stringify(b, null, 2) : formatBronzeLineage(b, config));
          return;
        }
        const parsed = z.uuid().safeParse(key);
        if (!parsed.success) throw new EtlError('USAGE', `expected a transaction_id (uuid) or --object <id>, got ${JSON.stringify(key ?? '')}`);
        const l = await recordLineage(pool, getStream(opts.stream), parsed.data.toLowerCase());
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
    .addOption(new Option('--every <duration>', 'run at this interval, e.g. 1m, 15m, 1h').argParser(duration))
    .option('--cron <expression>', 'or on a cron expression, e.g. "*/5 * * * *"')
    .addOption(new Option('--overlap <policy>', 'when the previous run is still going').choices(OVERLAP_POLICIES))
    .addOption(new Option('--catchup-window <duration>', 'missed runs within this window are still taken after an outage').argParser(duration))
    .option('--pause-on-failure', 'pause the schedule when a run fails');
  timingOptions(schedule.command('create').description('create a schedule for a pipeline'))
    .addArgument(program.createArgument('<what>', 'what to run').choices(SCHEDULABLE_NAMES))
    .addOption(new Option('--stream <name>', 'stream').choices(STREAM_NAMES).default('transactions'))
    .option('--id <id>', 'schedule id (default: <what>-<stream>)')
    .addOption(new Option('--jitter <duration>', 'delay each run by a random amount up to this').argParser(duration))
    .addOption(new Option('--start <time>', 'no runs before this time (ISO-8601)').argParser(isoTime))
    .addOption(new Option('--end <time>', 'no runs after this time (ISO-8601)').argParser(isoTime))
    .option('--paused', 'create it paused')
    .option('--note <text>', 'a note shown with the schedule')
    .addHelpText('after', '\nOverlap defaults to skip (Airflow\'s max_active_runs=1).\n\nExamples:\n  $ etl schedule create pipeline --every 5m\n  $ etl schedule create pipeline --cron "0 * * * *" --catchup-window 6h --pause-on-failure')
    .action(async (what: string, o: { stream: string; id?: string; every?: number; cron?: string; overlap?: OverlapName; catchupWindow?: number; pauseOnFailure?: boolean; jitter?: number; start?: number; end?: number; paused?: boolean; note?: string }) => {
      await withClient(async (client, config) => {
        const id = await createSchedule(client, config, { ...o, what, overlap: o.overlap ?? 'skip', everyMs: o.every, catchupWindowMs: o.catchupWindow, jitterMs: o.jitter });
        say(`created schedule ${id}${o.paused ? ' (paused)' : ''}; runs appear as ${id}-<time> in ${temporalUiUrl(config)}`);
      });
    });
  schedule.command('list').description('schedules with their spec, next runs, last result and state')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      await withClient(async (client) => {
        const rows = await listSchedules(client);
        say(o.json ? JSON.stringify(rows, null, 2) : formatTable(['id', 'spec', 'next runs', 'last run', 'paused'],
          rows.map((r) => [r.id, r.spec, r.nextRuns.join(', ') || '-', r.lastRun ? `${r.lastRun.status} ${r.lastRun.workflowId}` : '-', r.paused ? `yes${r.note ? ` (${r.note})` : ''}` : 'no'])));
      });
    });
  schedule.command('describe').description('everything Temporal knows about a schedule, as JSON').argument('<id>')
    .action(async (id: string) => withClient(async (client) => {
      say(JSON.stringify(await describeSchedule(client, id), null, 2));
    }));
  for (const [name, pause] of [['pause', true], ['unpause', false]] as const) {
    schedule.command(name).description(`${name} a schedule`).argument('<id>').option('--note <text>', 'why (shown with the schedule)')
      .action(async (id: string, o: { note?: string }) => withClient(async (client) => {
        await pauseSchedule(client, id, pause, o.note);
        say(`${name}d ${id}`);
      }));
  }
  schedule.command('trigger').description('start a run now').argument('<id>')
    .action(async (id: string) => withClient(async (client) => {
      await triggerSchedule(client, id);
      say(`triggered ${id}`);
    }));
  schedule.command('backfill').description('start, one after another, the runs the schedule would have started in a past window').argument('<id>')
    .requiredOption('--from <time>', 'window start (ISO-8601)', isoTime)
    .requiredOption('--to <time>', 'window end (ISO-8601)', isoTime)
    .addHelpText('after', '\nExample:\n  $ etl schedule backfill pipeline-transactions --from 2026-11-22T00:00:00Z --to 2026-11-22T06:00:00Z')
    .action(async (id: string, o: { from: number; to: number }) => withClient(async (client) => {
      await backfillSchedule(client, id, o.from, o.to);
      say(`backfill of ${id} from ${new Date(o.from).toISOString()} to ${new Date(o.to).toISOString()} requested`);
    }));
  timingOptions(schedule.command('update').description('change the timing or policies of a schedule')).argument('<id>')
    .action(async (id: string, o: { every?: number; cron?: string; overlap?: OverlapName; catchupWindow?: number; pauseOnFailure?: boolean }) => withClient(async (client) => {
      await updateSchedule(client, id, { ...o, everyMs: o.every, catchupWindowMs: o.catchupWindow });
      say(`updated ${id}`);
    }));
  schedule.command('delete').description('delete a schedule (its past runs stay)').argument('<id>')
    .action(async (id: string) => withClient(async (client) => {
      await deleteSchedule(client, id);
      say(`deleted ${id}`);
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
    .addOption(new Option('--flush <duration>', 'wait between flushes once Kafka is drained (default: STREAM_FLUSH_INTERVAL_MS, 5s)').argParser(duration))
    .addOption(new Option('--max-records <n>', 'records per bronze object at most (default: ARCHIVE_MAX_RECORDS_PER_OBJECT)').argParser(positiveInt))
    .addHelpText('after', '\nScheduled runs (`etl run pipeline`, `etl schedule`) keep working beside it: they share the\narchive lock and the manifest, so each Kafka offset still lands in exactly one object.\n\nExamples:\n  $ etl stream start transactions\n  $ etl stream start transactions --flush 1s --max-records 10000')
    .action(async (stream: string, o: { flush?: number; maxRecords?: number }) => withClient(async (client, config) => {
      const r = await startStream(client, config, { stream, flushIntervalMs: o.flush ?? config.STREAM_FLUSH_INTERVAL_MS, maxRecordsPerObject: o.maxRecords });
      say(r.started ? `started ${r.workflowId}: ${r.url}` : `${r.workflowId} is already running (run ${r.runId}): ${r.url}; \`etl stream stop ${stream}\` stops it`);
      if (!(await hasWorker(client, config))) {
        process.stderr.write(`warning: no worker polls task queue "${config.TEMPORAL_TASK_QUEUE}"; the stream waits until one does — start it with \`etl worker\`\n`);
      }
    }));
  streamCmd.command('stop').description('ask the stream to finish its current flush, then wait for it to complete')
    .addArgument(program.createArgument('<stream>', 'stream').choices(STREAM_NAMES))
    .addOption(new Option('--timeout <duration>', 'how long to wait for it to complete').argParser(duration).default(120_000, '2m'))
    .addHelpText('after', '\nExample:\n  $ etl stream stop transactions')
    .action(async (stream: string, o: { timeout: number }) => withClient(async (client, config) => {
      const r = await stopStream(client, config, stream, o.timeout);
      if (r.state === 'not-running') say(`stream ${stream} is not running${r.report.status ? ` (last run: ${r.report.status})` : ''}`);
      else if (r.state === 'stopped') {
        say(`stopped stream ${stream}: ${describeTotals(r.result)}`);
        if (!r.result.quality.passed) setExitCode(1);
      } else {
        process.stderr.write(`stop requested, but stream ${stream} has not completed within ${o.timeout / 1000}s (is a worker running?); \`etl stream status ${stream}\` shows when it has\n`);
        setExitCode(1);
      }
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
    .requiredOption('--from <time>', 'window start, inclusive (ISO-8601 event time)', isoTime)
    .requiredOption('--to <time>', 'window end, exclusive (ISO-8601 event time)', isoTime)
    .option('--no-wait', 'start it and return (follow it with `etl status <workflowId>` or the Web UI)')
    .addHelpText('after', '\nEvery loaded object whose event times overlap the window is read again from bronze and validated\n' +
      'with the worker\'s current rules, in one idempotent transaction per object: records quarantined before\n' +
      'that now pass are loaded, loaded rows get the newly derived columns, nothing is deleted or loaded twice.\n' +
      'Unlike `etl schedule backfill` (which starts the runs a schedule missed; they drain Kafka), replay\n' +
      're-derives data that is already archived.\n\n' +
      'Examples:\n  $ etl replay --stream transactions --from 2026-11-22T00:00:00Z --to 2026-11-23T00:00:00Z\n' +
      '  $ etl replay --from 2026-11-22T00:00:00Z --to 2026-11-22T06:00:00Z --no-wait')
    .action(async (o: { stream: string; from: number; to: number; wait: boolean }) => withClient(async (client, config) => {
      if ((await replayCommand(client, config, o, say)) !== 0) setExitCode(1);
    }));

  program.command('demo').description('start the stack, produce events, run the pipeline and print a report')
    .addOption(new Option('--rows <n>', 'events to produce').argParser(positiveInt).default(100_000))
    .addOption(new Option('--seed <n>', 'seed for the synthetic events').argParser(seed).default(42))
    .action(async (opts: { rows: number; seed: number }) => {
      const passed = await demo(loadConfig(), opts, say);
      if (!passed) setExitCode(1);
    });

  program.command('dashboard').description('serve the web dashboard (KPIs, charts, filters, CSV export, pipeline panel) reading as the read-only role')
    .option('--host <address>', 'address to listen on (default: DASHBOARD_HOST, 127.0.0.1)')
    .addOption(new Option('--port <n>', 'port to listen on, 0 for any free one (default: DASHBOARD_PORT, 8080)').argParser(portArg))
    .addHelpText('after', '\nExamples:\n  $ etl dashboard\n  $ etl dashboard --port 9000')
    .action(async (opts: { host?: string; port?: number }) => dashboard(loadConfig(), opts, say));

  return program;
}

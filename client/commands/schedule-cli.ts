// The `etl schedule` command tree (the work is in ./schedule.ts, backfill waiting in ./backfill.ts).
import { Option, type Command } from 'commander';
import { temporalUiUrl } from '../../lib/config';
import { streamNames } from '../../streams';
import { MARKET_SOURCES } from '../../sources/market/types';
import { CATCHUP_WINDOW, duration, isoTime, SCHEDULE_INTERVAL, TIME_FLAG_FORMAT, WAIT_TIMEOUT } from '../args';
import { withClient } from '../connect';
import { formatTable, sayErr, type Say } from '../output';
import { formatBackfill, waitForBackfill } from './backfill';
import { marketSymbolList } from './poll';
import {
  backfillSchedule,
  createSchedule,
  deleteSchedule,
  describeSchedule,
  listSchedules,
  OVERLAP_POLICIES,
  pauseSchedule,
  triggerSchedule,
  updateSchedule,
  type OverlapName,
} from './schedule';
import { SCHEDULABLE_NAMES } from './schedulable';
import { FILE_FORMATS } from '../../activities/files/format';
import { resolveFileLocation } from './ingest-files';
import { fileSourceRoots } from '../../lib/file-roots';

export function registerScheduleCommands(program: Command, say: Say, setExitCode: (code: number) => void): void {
  // Read when the tree is built, so a stream registered before (a plugin, a test) is offered too.
  const STREAM_NAMES = streamNames();
  const schedule = program
    .command('schedule')
    .description('Temporal Schedules that start pipeline runs (visible in `temporal schedule list` and the Web UI)');
  const timingOptions = (cmd: Command) =>
    cmd
      .addOption(
        new Option(
          '--every <duration>',
          "run at this interval, e.g. 1m, 15m, 1h (1s to 365d: Temporal's shortest interval is 1s)",
        ).argParser(SCHEDULE_INTERVAL),
      )
      .option('--cron <expression>', 'or on a cron expression, e.g. "*/5 * * * *"')
      .addOption(new Option('--overlap <policy>', 'when the previous run is still going').choices(OVERLAP_POLICIES))
      .addOption(
        new Option(
          '--catchup-window <duration>',
          "missed runs within this window are still taken after an outage (at least 10s, Temporal's minimum)",
        ).argParser(CATCHUP_WINDOW),
      )
      .option('--pause-on-failure', 'pause the schedule when a run fails');
  timingOptions(schedule.command('create').description('create a schedule for a pipeline'))
    .addArgument(program.createArgument('<what>', 'what to run').choices(SCHEDULABLE_NAMES))
    .addOption(new Option('--stream <name>', 'stream').choices(STREAM_NAMES).default('transactions'))
    .option(
      '--id <id>',
      'schedule id, taken as given (default: <what>-<stream>, poll-<source> for poll; @<task queue>[+<topic prefix>] appended outside the default deployment)',
    )
    .addOption(new Option('--source <name>', 'poll: the market data source').choices(MARKET_SOURCES))
    .addOption(
      new Option('--symbols <list>', "poll: comma-separated symbols (default: the worker's MARKET_SYMBOLS_<SOURCE> at each run)").argParser(
        marketSymbolList,
      ),
    )
    .option('--location <location>', 'files: the folder, glob or s3://bucket/prefix/ to watch')
    .addOption(new Option('--format <format>', 'files: read every file as this format (default: by extension)').choices(FILE_FORMATS))
    .addOption(new Option('--jitter <duration>', 'delay each run by a random amount up to this').argParser(duration))
    .addOption(new Option('--start <time>', `no runs before this time (${TIME_FLAG_FORMAT})`).argParser(isoTime))
    .addOption(new Option('--end <time>', `no runs after this time (${TIME_FLAG_FORMAT})`).argParser(isoTime))
    .option('--paused', 'create it paused')
    .option('--note <text>', 'a note shown with the schedule')
    .addHelpText(
      'after',
      '\nOverlap defaults to skip (Airflow\'s max_active_runs=1).\n\nExamples:\n  $ etl schedule create pipeline --every 5m\n  $ etl schedule create pipeline --cron "0 * * * *" --catchup-window 6h --pause-on-failure\n  $ etl schedule create poll --source yahoo --every 1m\n  $ etl schedule create poll --source finnhub --symbols AAPL,NVDA   (interval: MARKET_POLL_EVERY)\n  $ etl schedule create files --stream transactions --location s3://landing/transactions/ --every 5m',
    )
    .action(
      async (
        what: string,
        o: {
          stream: string;
          source?: string;
          symbols?: string[];
          location?: string;
          format?: string;
          id?: string;
          every?: number;
          cron?: string;
          overlap?: OverlapName;
          catchupWindow?: number;
          pauseOnFailure?: boolean;
          jitter?: number;
          start?: number;
          end?: number;
          paused?: boolean;
          note?: string;
        },
      ) => {
        await withClient(async (client, config) => {
          // A local folder is watched by the worker: its path is made absolute here, where it was typed.
          const location = o.location === undefined ? undefined : await resolveFileLocation(o.location, o.format, fileSourceRoots(config));
          const id = await createSchedule(client, config, {
            ...o,
            location,
            what,
            overlap: o.overlap ?? 'skip',
            everyMs: o.every,
            catchupWindowMs: o.catchupWindow,
            jitterMs: o.jitter,
          });
          say(`created schedule ${id}${o.paused ? ' (paused)' : ''}; runs appear as ${id}-<time> in ${temporalUiUrl(config)}`);
        });
      },
    );
  schedule
    .command('list')
    .description("this deployment's schedules with their spec, next runs, last result and state")
    .option('--all', 'every schedule of the Temporal namespace, whichever deployment created it')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nA deployment with its own TEMPORAL_TASK_QUEUE or KAFKA_TOPIC_PREFIX names its schedules\n<what>-<stream>@<task queue>[+<prefix>]; the name without the suffix works in every command.\n\nExamples:\n  $ etl schedule list\n  $ etl schedule list --all --json',
    )
    .action(async (o: { all?: boolean; json?: boolean }) => {
      await withClient(async (client, config) => {
        const rows = await listSchedules(client, config, o);
        say(
          o.json
            ? JSON.stringify(rows, null, 2)
            : formatTable(
                ['id', 'spec', 'next runs', 'last run', 'paused'],
                rows.map((r) => [
                  r.id,
                  r.spec,
                  r.nextRuns.join(', ') || '-',
                  r.lastRun ? `${r.lastRun.status} ${r.lastRun.workflowId}` : '-',
                  r.paused ? `yes${r.note ? ` (${r.note})` : ''}` : 'no',
                ]),
              ),
        );
      });
    });
  schedule
    .command('describe')
    .description('everything Temporal knows about a schedule, as JSON')
    .argument('<id>')
    .addHelpText('after', '\nExample:\n  $ etl schedule describe pipeline-transactions')
    .action(async (id: string) =>
      withClient(async (client, config) => {
        say(JSON.stringify(await describeSchedule(client, config, id), null, 2));
      }),
    );
  for (const [name, pause] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    schedule
      .command(name)
      .description(`${name} a schedule`)
      .argument('<id>')
      .option('--note <text>', 'why (shown with the schedule)')
      .addHelpText(
        'after',
        `\nExample:\n  $ etl schedule ${name} pipeline-transactions --note "${pause ? 'warehouse maintenance' : 'maintenance done'}"`,
      )
      .action(async (id: string, o: { note?: string }) =>
        withClient(async (client, config) => {
          say(`${name}d ${await pauseSchedule(client, config, id, pause, o.note)}`);
        }),
      );
  }
  schedule
    .command('trigger')
    .description('start a run now')
    .argument('<id>')
    .addHelpText('after', '\nExample:\n  $ etl schedule trigger pipeline-transactions')
    .action(async (id: string) =>
      withClient(async (client, config) => {
        say(`triggered ${await triggerSchedule(client, config, id)}`);
      }),
    );
  schedule
    .command('backfill')
    .description('start, one after another, the runs the schedule would have started in a past window')
    .argument('<id>')
    .requiredOption('--from <time>', `window start (${TIME_FLAG_FORMAT})`, isoTime)
    .requiredOption('--to <time>', `window end (${TIME_FLAG_FORMAT})`, isoTime)
    .option('--wait', 'follow the runs with a progress bar until they have all ended, then print a summary')
    .addOption(
      new Option('--timeout <duration>', 'with --wait: stop waiting after this long (exit 1)')
        .argParser(WAIT_TIMEOUT)
        .default(3_600_000, '60m'),
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nBoth ends of the window are included. Runs go one after another (overlap buffer-all).\n\n' +
        'Examples:\n  $ etl schedule backfill pipeline-transactions --from 2026-11-22T00:00:00Z --to 2026-11-22T06:00:00Z\n' +
        '  $ etl schedule backfill pipeline-transactions --from 2026-11-22T00:00:00Z --to 2026-11-22T06:00:00Z --wait --json',
    )
    .action(async (given: string, o: { from: number; to: number; wait?: boolean; timeout: number; json?: boolean }) =>
      withClient(async (client, config) => {
        const id = await backfillSchedule(client, config, given, o.from, o.to);
        const requested = `backfill of ${id} from ${new Date(o.from).toISOString()} to ${new Date(o.to).toISOString()} requested`;
        if (!o.wait) {
          say(
            o.json
              ? JSON.stringify(
                  { scheduleId: id, from: new Date(o.from).toISOString(), to: new Date(o.to).toISOString(), requested: true },
                  null,
                  2,
                )
              : requested,
          );
          return;
        }
        sayErr(requested);
        const report = await waitForBackfill(client, config, id, o.from, o.to, o.timeout);
        say(o.json ? JSON.stringify(report, null, 2) : formatBackfill(report));
        if (report.timedOut || report.failed > 0) setExitCode(1);
      }),
    );
  timingOptions(schedule.command('update').description('change the timing or policies of a schedule'))
    .argument('<id>')
    .addHelpText(
      'after',
      '\nExamples:\n  $ etl schedule update pipeline-transactions --every 15m\n  $ etl schedule update pipeline-transactions --overlap buffer-one --pause-on-failure',
    )
    .action(
      async (id: string, o: { every?: number; cron?: string; overlap?: OverlapName; catchupWindow?: number; pauseOnFailure?: boolean }) =>
        withClient(async (client, config) => {
          say(`updated ${await updateSchedule(client, config, id, { ...o, everyMs: o.every, catchupWindowMs: o.catchupWindow })}`);
        }),
    );
  schedule
    .command('delete')
    .description('delete a schedule (its past runs stay)')
    .argument('<id>')
    .addHelpText('after', '\nExample:\n  $ etl schedule delete pipeline-transactions')
    .action(async (id: string) =>
      withClient(async (client, config) => {
        say(`deleted ${await deleteSchedule(client, config, id)}`);
      }),
    );
}

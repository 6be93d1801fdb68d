// The `etl stream` command tree: continuous mode (the work is in ./stream.ts), a stream's schema
// history and drift (fields records carry that it does not declare), and drafting a new stream's
// declaration from a sample (./stream-init.ts).
import { Option, type Command } from 'commander';
import { FILE_FORMATS, type FileFormat } from '../../activities/files/format';
import { buildClients } from '../../lib/clients';
import { loadConfig } from '../../lib/config';
import { withPostgresErrors } from '../../lib/postgres';
import { streamDrift, type DriftField } from '../../lib/stream-drift';
import { streamHistory, type SchemaVersion } from '../../lib/stream-tables';
import { getStream, streamNames } from '../../streams';
import { FLUSH_INTERVAL, positiveInt, WAIT_TIMEOUT } from '../args';
import { withClient } from '../connect';
import { fmt, formatTable, sayErr, shownField, type Say } from '../output';
import { describeStreamMigration } from './migrate';
import { hasWorker } from './pipeline';
import { describeTotals, formatStreamReport, startStream, stopStream, streamReport } from './stream';
import { DEFAULT_SAMPLE, formatInitSummary, initStream } from './stream-init';

export function registerStreamCommands(program: Command, say: Say, setExitCode: (code: number) => void): void {
  // Read when the tree is built, so a stream registered before (a plugin, a test) is offered too.
  const STREAM_NAMES = streamNames();
  const streamCmd = program
    .command('stream')
    .description(
      'continuous mode: one long-running workflow per stream that flushes, transforms and loads within seconds; `init` drafts a new stream',
    );
  streamCmd
    .command('init')
    .description('draft the declaration of a new stream from a sample of its records, as <ETL_STREAMS_DIR>/<name>.ts for you to review')
    .argument('<name>', 'the new stream: a lowercase letter, then lowercase letters, digits or _')
    .option('--from <file>', 'a JSONL or CSV file (optionally .gz), local or s3://bucket/key')
    .option('--from-topic <topic>', 'a Kafka topic (its full name), read from its start')
    .addOption(new Option('--sample <n>', 'records to read at most').argParser(positiveInt).default(DEFAULT_SAMPLE))
    .addOption(new Option('--format <format>', 'the file format, when its name does not tell').choices(FILE_FORMATS))
    .option('--force', 'overwrite a declaration of that name')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nEvery sampled record is checked against the drafted rules; the summary says how many pass.\n\nExamples:\n  $ etl stream init orders --from ./orders.jsonl\n  $ etl stream init fx_quotes --from-topic fx.quotes --sample 5000\n  $ etl stream init trades --from s3://landing/trades/2026-11-20.csv.gz --force',
    )
    .action(
      async (
        name: string,
        o: { from?: string; fromTopic?: string; sample: number; format?: FileFormat; force?: boolean; json?: boolean },
      ) => {
        const summary = await initStream(loadConfig(), {
          name,
          ...(o.from ? { from: o.from } : {}),
          ...(o.fromTopic ? { fromTopic: o.fromTopic } : {}),
          ...(o.format ? { format: o.format } : {}),
          sample: o.sample,
          force: o.force ?? false,
        });
        say(o.json ? JSON.stringify(summary, null, 2) : formatInitSummary(summary));
      },
    );
  streamCmd
    .command('start')
    .description('start the continuous workflow of a stream (one per stream; needs a running worker)')
    .addArgument(program.createArgument('<stream>', 'stream').choices(STREAM_NAMES))
    .addOption(
      new Option(
        '--flush <duration>',
        'a record read is written to bronze at most this long after, at least 100ms (default: STREAM_FLUSH_INTERVAL_MS, 5s)',
      ).argParser(FLUSH_INTERVAL),
    )
    .addOption(
      new Option(
        '--max-records <n>',
        'records per bronze object at most: a fuller buffer is written at once (default: ARCHIVE_MAX_RECORDS_PER_OBJECT)',
      ).argParser(positiveInt),
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nScheduled runs (`etl run pipeline`, `etl schedule`) keep working beside it: they share the\narchive lock and the manifest, so each Kafka offset still lands in exactly one object.\n\nExamples:\n  $ etl stream start transactions\n  $ etl stream start transactions --flush 1s --max-records 10000',
    )
    .action(async (stream: string, o: { flush?: number; maxRecords?: number; json?: boolean }) =>
      withClient(async (client, config) => {
        const r = await startStream(client, config, {
          stream,
          flushIntervalMs: o.flush ?? config.STREAM_FLUSH_INTERVAL_MS,
          maxRecordsPerObject: o.maxRecords,
        });
        if (o.json) say(JSON.stringify(r, null, 2));
        else
          say(
            r.started
              ? `started ${r.workflowId}: ${r.url}`
              : `${r.workflowId} is already running (run ${r.runId}): ${r.url}; \`etl stream stop ${stream}\` stops it`,
          );
        if (!(await hasWorker(client, config))) {
          process.stderr.write(
            `warning: no worker polls task queue "${config.TEMPORAL_TASK_QUEUE}"; the stream waits until one does — start it with \`etl worker\`\n`,
          );
        }
      }),
    );
  streamCmd
    .command('stop')
    .description('ask the stream to write and load what it has read, then wait for it to complete')
    .addArgument(program.createArgument('<stream>', 'stream').choices(STREAM_NAMES))
    .addOption(new Option('--timeout <duration>', 'how long to wait for it to complete').argParser(WAIT_TIMEOUT).default(120_000, '2m'))
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl stream stop transactions\n  $ etl stream stop transactions --timeout 5m --json')
    .action(async (stream: string, o: { timeout: number; json?: boolean }) =>
      withClient(async (client, config) => {
        const r = await stopStream(client, config, stream, o.timeout);
        if (o.json) say(JSON.stringify(r, null, 2));
        if (r.state === 'still-stopping' || (r.state === 'stopped' && !r.result.quality.passed)) setExitCode(1);
        if (o.json) return;
        if (r.state === 'not-running') say(`stream ${stream} is not running${r.report.status ? ` (last run: ${r.report.status})` : ''}`);
        else if (r.state === 'stopped') say(`stopped stream ${stream}: ${describeTotals(r.result)}`);
        else
          sayErr(
            `stop requested, but stream ${stream} has not completed within ${o.timeout / 1000}s (is a worker running?); \`etl stream status ${stream}\` shows when it has`,
          );
      }),
    );
  streamCmd
    .command('status')
    .description('whether the stream runs, its flushes, totals, last flush and Web UI link')
    .addArgument(program.createArgument('<stream>', 'stream').choices(STREAM_NAMES))
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl stream status transactions\n  $ etl stream status transactions --json')
    .action(async (stream: string, o: { json?: boolean }) =>
      withClient(async (client, config) => {
        const r = await streamReport(client, config, stream);
        say(o.json ? JSON.stringify(r, null, 2) : formatStreamReport(r));
      }),
    );
  streamCmd
    .command('history')
    .description("the schema versions of a stream's tables, oldest first: what changed, and when `etl migrate` applied it")
    .addArgument(program.createArgument('<stream>', 'stream').choices(STREAM_NAMES))
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl stream history transactions\n  $ etl stream history ticks --json')
    .action(async (stream: string, o: { json?: boolean }) => {
      const clients = buildClients(loadConfig());
      try {
        const versions = await withPostgresErrors(clients.config.DATABASE_URL, () => streamHistory(clients.pool, stream));
        say(o.json ? JSON.stringify(versions, null, 2) : formatHistory(stream, versions));
      } finally {
        await clients.close();
      }
    });
  streamCmd
    .command('drift')
    .description(
      'fields records of a stream carried that its declaration does not declare: the newest first, with counts and where first seen',
    )
    .addArgument(program.createArgument('<stream>', 'stream').choices(STREAM_NAMES))
    .addOption(new Option('--limit <n>', 'fields to list at most').argParser(positiveInt).default(DRIFT_LISTED))
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      "\nCounted by every load, whatever the declaration's undeclaredFields says: 'keep' (the default) loads\nsuch records with the fields in the raw payload, 'quarantine' quarantines them as UNDECLARED_FIELD.\n\nExamples:\n  $ etl stream drift transactions\n  $ etl stream drift fx_quotes --limit 10 --json",
    )
    .action(async (stream: string, o: { limit: number; json?: boolean }) => {
      const clients = buildClients(loadConfig());
      try {
        const fields = await withPostgresErrors(clients.config.DATABASE_URL, () => streamDrift(clients.pool, stream, o.limit));
        say(o.json ? JSON.stringify(fields, null, 2) : formatDrift(stream, fields));
      } finally {
        await clients.close();
      }
    });
}

const DRIFT_LISTED = 100;

/** A table of a stream's undeclared fields, under a line saying what its declaration does with them. */
export function formatDrift(stream: string, fields: readonly DriftField[]): string {
  const contract =
    getStream(stream).undeclaredFields === 'quarantine'
      ? 'records carrying them are quarantined as UNDECLARED_FIELD'
      : 'records carrying them load, the fields kept in the raw payload';
  if (fields.length === 0) return `stream ${stream}: no undeclared field seen; ${contract}`;
  const lines = [`stream ${stream}: ${fields.length} undeclared field${fields.length === 1 ? '' : 's'}, the newest first; ${contract}`];
  lines.push(
    formatTable(
      ['field', 'records', 'loads', 'first seen', 'last seen', 'first seen in'],
      fields.map((f) => [
        shownField(f.field),
        fmt(f.records),
        fmt(f.loads),
        f.firstSeenAt,
        f.lastSeenAt,
        `${f.firstSeen.objectKey ?? `bronze object ${f.firstSeen.bronzeObjectId}`} [${f.firstSeen.partition}]@${f.firstSeen.offset}`,
      ]),
    ),
  );
  return lines.join('\n');
}

/** One line per version: `2  2026-12-07T17:20:01Z  added venue text, widened bid numeric(12,5) -> numeric(14,6)`. */
export function formatHistory(stream: string, versions: readonly SchemaVersion[]): string {
  if (versions.length === 0) return `stream ${stream} has no schema version yet: run \`etl migrate\``;
  return versions
    .map(
      (v) =>
        `${v.version}  ${v.appliedAt}  ${describeStreamMigration({ stream, version: v.version, changes: v.changes }).replace(/^stream \S+: version \d+: /, '')}  (${v.digest})`,
    )
    .join('\n');
}

// The `etl lake` command tree (the work is in ./lake.ts). PostgreSQL and S3 failures become one line.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { buildClients } from '../../lib/clients';
import { loadConfig } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { withPostgresErrors } from '../../lib/postgres';
import { withS3Errors } from '../../lib/s3';
import { streamNames } from '../../streams';
import { fmt, type Say } from '../output';
import { formatLakeSummary, lakeExport, lakeSummary, lakeSync, s3Destination } from './lake';

/** A calendar date, YYYY-MM-DD (an event date of the lake's partitions). */
function eventDate(value: string): string {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN;
  const ok = !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === value;
  if (!ok) throw new InvalidArgumentError(`expected a date such as 2026-11-22, got "${value}"`);
  return value;
}

const streamOption = () => new Option('--stream <name>', 'only this stream (default: all)').choices(streamNames());

export function registerLakeCommands(program: Command, say: Say, setExitCode: (code: number) => void): void {
  const show = async (o: { stream?: string; json?: boolean }) => {
    const clients = buildClients(loadConfig());
    try {
      const rows = await withPostgresErrors(clients.config.DATABASE_URL, () =>
        lakeSummary(clients.pool, o.stream ? [o.stream] : streamNames()),
      );
      say(o.json ? JSON.stringify(rows, null, 2) : formatLakeSummary(rows));
    } finally {
      await clients.close();
    }
  };
  const lake = program
    .command('lake')
    .description(
      'the Parquet lake (silver/<stream>/event_date=…/): its files per stream, catching it up, exporting a date range; alone, the same as `etl lake show` for every stream',
    )
    // No options of its own: they would take the subcommands' --json and --stream (commander's global parsing).
    .action(() => show({}));
  lake
    .command('show')
    .description('per stream: lake files, rows, bytes, event-date range, and loaded objects the lake is behind')
    .addOption(streamOption())
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nSee docs/lake.md for the layout and how engines read it.\n\nExamples:\n  $ etl lake\n  $ etl lake show --stream ticks --json',
    )
    .action(show);
  lake
    .command('sync')
    .description('write now, from this process, the lake files of every loaded object the lake is behind (a pipeline run does it too)')
    .addOption(streamOption())
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nAn object is behind when its rows changed since its files were written (a replay, `etl quarantine replay`)\nor its last lake write failed. Each object is rewritten from its committed rows; an up-to-date one is skipped.\nExit 1 if an object could not be written (its reason is kept: `etl lake show`).\n\nExamples:\n  $ etl lake sync\n  $ etl lake sync --stream transactions --json',
    )
    .action(async (o: { stream?: string; json?: boolean }) => {
      const clients = buildClients(loadConfig());
      try {
        const results = [];
        for (const stream of o.stream ? [o.stream] : streamNames()) {
          results.push(
            await withS3Errors(clients.config.S3_ENDPOINT, () =>
              withPostgresErrors(clients.config.DATABASE_URL, () => lakeSync(clients, stream)),
            ),
          );
        }
        if (o.json) say(JSON.stringify(results, null, 2));
        else
          for (const r of results) {
            say(
              `${r.stream}: ${fmt(r.objectsWritten)} object(s) written (${fmt(r.rows)} rows, ${fmt(r.files)} files)${r.objectsFailed ? `, ${fmt(r.objectsFailed)} failed` : ''}`,
            );
            for (const f of r.failures) say(`  ${f}`);
          }
        if (results.some((r) => r.objectsFailed > 0)) setExitCode(1);
      } finally {
        await clients.close();
      }
    });
  lake
    .command('export')
    .description("copy the lake files of a stream's event-date range to a directory or an s3:// prefix, in the same Hive layout")
    .addArgument(program.createArgument('<stream>', 'the stream').choices(streamNames()))
    .addArgument(program.createArgument('<destination>', 'a local directory, or s3://bucket/prefix/'))
    .requiredOption('--from <date>', 'first event date, YYYY-MM-DD (inclusive)', eventDate)
    .requiredOption('--to <date>', 'last event date, YYYY-MM-DD (inclusive)', eventDate)
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nOnly live files (the ones lake_files lists as live) are copied; the copy is itself a lake that the\nstatements of docs/lake.md read. An s3:// destination is copied server-side on the configured S3 endpoint.\n\nExamples:\n  $ etl lake export transactions ./out --from 2026-11-20 --to 2026-11-22\n  $ etl lake export ticks s3://analytics/ticks/ --from 2026-11-01 --to 2026-11-30 --json',
    )
    .action(async (stream: string, destination: string, o: { from: string; to: string; json?: boolean }) => {
      if (o.from > o.to) throw new EtlError('USAGE', `--from (${o.from}) must not be after --to (${o.to})`);
      if (destination.startsWith('s3:') && !s3Destination(destination))
        throw new EtlError('USAGE', `expected s3://bucket/prefix/ as the destination, got "${destination}"`);
      const clients = buildClients(loadConfig());
      try {
        const r = await withS3Errors(clients.config.S3_ENDPOINT, () =>
          withPostgresErrors(clients.config.DATABASE_URL, () => lakeExport(clients, { stream, from: o.from, to: o.to, destination })),
        );
        say(
          o.json
            ? JSON.stringify(r, null, 2)
            : `exported ${fmt(r.files)} file(s), ${fmt(r.rows)} rows (${fmt(r.bytes)} bytes) of ${stream} ${r.from} .. ${r.to} to ${r.destination}`,
        );
      } finally {
        await clients.close();
      }
    });
}

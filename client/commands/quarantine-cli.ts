// The `etl quarantine` command tree (the work is in ./quarantine.ts).
import { Option, type Command } from 'commander';
import { EtlError } from '../../lib/errors';
import { getStream, streamNames } from '../../streams';
import { idList, positiveInt } from '../args';
import { withClients } from '../connect';
import { fmt, formatTable, type Say } from '../output';
import { lakeSync } from './lake';
import { listQuarantine, replayQuarantine, showQuarantine, wholeValueNote } from './quarantine';
import { kickRunningSearchLane } from './search';

export function registerQuarantineCommands(program: Command, say: Say): void {
  // Read when the tree is built, so a stream registered before (a plugin, a test) is offered too.
  const STREAM_NAMES = streamNames();
  const quarantine = program.command('quarantine').description('records set aside by validation, with their reasons and original bytes');
  const filterOptions = (cmd: Command) =>
    cmd
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
        say(
          opts.json
            ? JSON.stringify(rows, null, 2)
            : formatTable(
                ['id', 'reason', 'kafka', 'quarantined', 'replayed', 'detail'],
                rows.map((r) => [
                  r.id,
                  r.reason_code,
                  `${r.kafka_topic}[${r.kafka_partition}]@${r.kafka_offset}`,
                  r.quarantined_at.toISOString(),
                  r.replayed_at?.toISOString() ?? '-',
                  r.reason.slice(0, 80),
                ]),
              ),
        );
      });
    });
  quarantine
    .command('show')
    .description('one quarantined record with its original payload')
    .addArgument(program.createArgument('<id>', 'quarantine id').argParser(positiveInt))
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl quarantine show 12\n  $ etl quarantine show 12 --json')
    .action(async (id: number, opts: { json?: boolean }) => {
      await withClients(async ({ pool, config }) => {
        const row = await showQuarantine(pool, id);
        if (!row) throw new EtlError('USAGE', `no quarantined record with id ${id}; see \`etl quarantine list\``);
        const whole = wholeValueNote(row, config.S3_BUCKET);
        if (opts.json) {
          say(JSON.stringify(whole ? { ...row, whole_value: whole } : row, null, 2));
          return;
        }
        say(
          Object.entries(row)
            .map(([k, v]) => `${k.padEnd(17)} ${v instanceof Date ? v.toISOString() : String(v)}`)
            .join('\n'),
        );
        if (whole) say(`\n${whole}`);
      });
    });
  filterOptions(
    quarantine.command('replay').description('re-validate quarantined records with the current rules and load those that now pass'),
  )
    .option('--json', 'machine-readable summary')
    .addHelpText(
      'after',
      '\nAfter a validation rule is fixed (a new category, a wider range), replay puts the records it\nused to reject through the same checks and the same idempotent load. Records that still fail stay.\nThe lake files of the objects it changed are rewritten from this process, and with SEARCH_SINK=true\nthe running search lane of the stream is kicked (Temporal out of reach: one line, the replay stands).\n\nExamples:\n  $ etl quarantine replay --reason UNKNOWN_VALUE\n  $ etl quarantine replay --ids 12,13 --json',
    )
    .action(async (opts: { stream: string; reason?: string; ids?: number[]; limit: number; json?: boolean }) => {
      await withClients(async (clients) => {
        const r = await replayQuarantine(clients, getStream(opts.stream), opts);
        // The rows it loaded changed their objects (rows_version): the search lane is told now (it
        // indexes beside this), and the lake files of those objects, and only those, are rewritten here.
        const search = r.objectIds.length > 0 ? await kickRunningSearchLane(clients.config, opts.stream) : undefined;
        const lake = r.objectIds.length > 0 ? await lakeSync(clients, opts.stream, r.objectIds) : undefined;
        if (opts.json) {
          say(JSON.stringify({ ...r, lake, search }, null, 2));
          return;
        }
        say(
          `examined ${fmt(r.examined)}: ${fmt(r.loaded)} loaded, ${fmt(r.duplicates)} already present, ${fmt(r.conflicts)} conflicting` +
            (Object.keys(r.stillInvalid).length
              ? `; still quarantined: ${Object.entries(r.stillInvalid)
                  .map(([k, n]) => `${k} ${fmt(n)}`)
                  .join(', ')}`
              : ''),
        );
        if (lake)
          say(
            `lake: ${fmt(lake.objectsWritten)} object(s) rewritten${lake.objectsFailed ? `, ${fmt(lake.objectsFailed)} failed (\`etl lake show\`, then \`etl lake sync\`)` : ''}`,
          );
        if (search) say(`search: ${search.note}`);
      });
    });
}

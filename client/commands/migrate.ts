// `etl migrate`: the schema and the read-only role, as `etl worker` prepares them when it starts.
import type { Command } from 'commander';
import { buildClients } from '../../lib/clients';
import { loadConfig } from '../../lib/config';
import { migrateDatabase } from '../../lib/setup';
import type { StreamMigration } from '../../lib/stream-tables';
import { streamTopics } from '../../streams';
import type { Say } from '../output';

export function registerMigrateCommand(program: Command, say: Say): void {
  program
    .command('migrate')
    .description(
      "apply database migrations, each declared stream's tables from its declaration (new columns, widenings), and the read-only role (safe to run twice or concurrently)",
    )
    .option('--allow-drop', 'drop the columns a declaration no longer has (their data is lost)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl migrate\n  $ etl migrate --allow-drop\n  $ PG_SCHEMA=etl_staging etl migrate --json')
    .action(async (opts: { json?: boolean; allowDrop?: boolean }) => {
      const config = loadConfig();
      const clients = buildClients(config);
      try {
        const r = await migrateDatabase(clients, streamTopics(config.KAFKA_TOPIC_PREFIX), { allowDrop: opts.allowDrop === true });
        say(
          opts.json
            ? JSON.stringify(r, null, 2)
            : [
                `applied: ${r.migrations.applied.join(', ') || 'none'}; already applied: ${r.migrations.alreadyApplied}; reader role: ${r.readerRole}`,
                ...r.migrations.streams.map(describeStreamMigration),
              ].join('\n'),
        );
      } finally {
        await clients.close();
      }
    });
}

/** One line per stream whose tables changed: `stream fx_quotes: version 2: added note text`. */
export function describeStreamMigration(m: StreamMigration): string {
  const change = (c: StreamMigration['changes'][number]) =>
    c.kind === 'created' || c.kind === 'adopted'
      ? c.kind === 'created'
        ? 'tables created'
        : 'recorded from the live tables'
      : `${c.kind} ${c.column}${c.from ? ` ${c.from}` : ''}${c.from && c.to ? ' ->' : ''}${c.to ? ` ${c.to}` : ''}`;
  return `stream ${m.stream}: version ${m.version}: ${m.changes.map(change).join(', ') || 'columns reordered'}`;
}

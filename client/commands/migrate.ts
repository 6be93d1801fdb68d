// `etl migrate`: the schema and the read-only role, as `etl worker` prepares them when it starts.
import type { Command } from 'commander';
import { buildClients } from '../../lib/clients';
import { loadConfig } from '../../lib/config';
import { migrateDatabase } from '../../lib/setup';
import type { Say } from '../output';

export function registerMigrateCommand(program: Command, say: Say): void {
  program
    .command('migrate')
    .description('apply database migrations and the read-only role (safe to run twice or concurrently)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl migrate\n  $ PG_SCHEMA=etl_staging etl migrate --json')
    .action(async (opts: { json?: boolean }) => {
      const clients = buildClients(loadConfig());
      try {
        const r = await migrateDatabase(clients);
        say(
          opts.json
            ? JSON.stringify(r, null, 2)
            : `applied: ${r.migrations.applied.join(', ') || 'none'}; already applied: ${r.migrations.alreadyApplied}; reader role: ${r.readerRole}`,
        );
      } finally {
        await clients.close();
      }
    });
}

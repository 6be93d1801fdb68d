// The `etl objects` command tree (the work is in ./objects.ts). PostgreSQL failures become one line
// (POSTGRES_UNREACHABLE, SCHEMA_NOT_MIGRATED) like `etl migrate`'s.
import { Option, type Command } from 'commander';
import { buildClients } from '../../lib/clients';
import { loadConfig } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { withPostgresErrors } from '../../lib/postgres';
import { connectClient } from '../../lib/temporal';
import { streamNames } from '../../streams';
import { positiveInt } from '../args';
import { describeRetry, formatObject, formatObjects, listObjects, retryObject, showObject } from './objects';

type Say = (line: string) => void;

export function registerObjectsCommands(program: Command, say: Say, setExitCode: (code: number) => void): void {
  const sayErr = (line: string) => process.stderr.write(line + '\n');
  const objects = program
    .command('objects')
    .description('bronze objects of the manifest: their state, why one was parked, and retrying it after a fix');
  objects
    .command('list')
    .description('bronze objects, newest first; with --parked only the parked ones (oldest first)')
    .addOption(new Option('--stream <name>', 'only this stream (default: all)').choices(streamNames()))
    .option('--parked', 'only objects parked after a final transform or load failure')
    .addOption(new Option('--limit <n>', 'at most this many objects').argParser(positiveInt).default(100))
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nStates: pending (being archived), archived, loaded (transformed and loaded in one pass),\nparked (skipped by the work queue until `etl objects retry`).\n\nExamples:\n  $ etl objects list --parked\n  $ etl objects list --stream ticks --limit 20\n  $ etl objects list --parked --json',
    )
    .action(async (o: { stream?: string; parked?: boolean; limit: number; json?: boolean }) => {
      const clients = buildClients(loadConfig());
      try {
        const rows = await withPostgresErrors(clients.config.DATABASE_URL, () => listObjects(clients.pool, o));
        say(o.json ? JSON.stringify(rows, null, 2) : rows.length === 0 && o.parked ? 'no parked objects' : formatObjects(rows));
      } finally {
        await clients.close();
      }
    });
  objects
    .command('show')
    .description('one bronze object: offsets, counts, state, and for a parked one its failure with the stack')
    .addArgument(program.createArgument('<id>', 'bronze object id').argParser(positiveInt))
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ etl objects show 12\n  $ etl objects show 12 --json')
    .action(async (id: number, o: { json?: boolean }) => {
      const clients = buildClients(loadConfig());
      try {
        const row = await withPostgresErrors(clients.config.DATABASE_URL, () => showObject(clients.pool, id));
        if (!row) throw new EtlError('USAGE', `no bronze object with id ${id}; see \`etl objects list\``);
        say(o.json ? JSON.stringify(row, null, 2) : formatObject(row));
      } finally {
        await clients.close();
      }
    });
  objects
    .command('retry')
    .description('after a fix: transform and load a parked object exactly once (a workflow; needs a running worker)')
    .addArgument(program.createArgument('<id>', 'bronze object id (see `etl objects list --parked`)').argParser(positiveInt))
    .option('--no-wait', 'start it and return (follow it with `etl status <workflowId>` or the Web UI)')
    .option('--json', "machine-readable output: the outcome, the run's id and link, and its result unless --no-wait")
    .addHelpText(
      'after',
      '\nThe object is un-parked and goes through the same transform and load as in a run: one transaction,\n' +
        "guarded by the object's lock and its unique load, so retrying twice, or beside a pipeline run, loads\n" +
        'nothing twice. An object already loaded is left alone. If it fails for good again it is parked again\n' +
        'and the command exits 1 with the reason.\n\n' +
        'Examples:\n  $ etl objects retry 12\n  $ etl objects retry 12 --no-wait\n  $ etl objects retry 12 --json',
    )
    .action(async (id: number, o: { wait: boolean; json?: boolean }) => {
      const config = loadConfig();
      const clients = buildClients(config);
      try {
        const client = await connectClient(config);
        try {
          const r = await withPostgresErrors(config.DATABASE_URL, () =>
            retryObject(client, config, clients.pool, { id, wait: o.wait }, o.json ? sayErr : say),
          );
          if (o.json) say(JSON.stringify(r, null, 2));
          else for (const line of describeRetry(r)) (r.outcome === 'failed' ? sayErr : say)(line);
          if (r.outcome === 'failed') setExitCode(1);
        } finally {
          await client.connection.close();
        }
      } finally {
        await clients.close();
      }
    });
}

// `etl lineage` (the work is in ./lineage.ts, the terminal form in ./lineage-format.ts).
import { Option, type Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { EtlError } from '../../lib/errors';
import { getStream, streamNames } from '../../streams';
import { positiveInt } from '../args';
import { withClients } from '../connect';
import type { Say } from '../output';
import { bronzeLineage, parseRecordKey, recordLineage } from './lineage';
import { formatBronzeLineage, formatRecordLineage } from './lineage-format';

export function registerLineageCommand(program: Command, say: Say, setExitCode: (code: number) => void): void {
  // Read when the tree is built, so a stream registered before (a plugin, a test) is offered too.
  const STREAM_NAMES = streamNames();
  program
    .command('lineage')
    .description('where a record came from: Kafka offset -> bronze object -> load -> tables and Parquet lake files')
    .argument('[key]', 'the record key of the stream: transaction_id, tick_id, …')
    .addOption(new Option('--object <id>', 'a bronze object id instead: show it and its load(s)').argParser(positiveInt))
    .addOption(new Option('--stream <name>', 'stream').choices(STREAM_NAMES).default('transactions'))
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nExamples:\n  $ etl lineage 3f0c9a52-8d1e-4a5b-9c47-2b1f6e0d7a11\n  $ etl lineage --stream ticks 0b7e6c2a-5d41-5f7e-9a3b-1c2d3e4f5a6b\n  $ etl lineage --object 12',
    )
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
}

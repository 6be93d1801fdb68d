// `npm run chaos`: the fault-injection run on the local stack, then its reconciliation report.
// Exit codes like `etl`: 0 no discrepancy, 1 a discrepancy or a failure, 2 a usage error.
// Progress goes to stderr, the report to stdout (so `--json` output can be piped).
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../../lib/config';
import { duration, nonNegativeInt, positiveInt, seed } from '../../client/args';
import { exitWith, reportFailure } from '../../client/exit';
import { stackUp, type ServiceName } from '../../client/stack';
import { RESTARTABLE } from './options';
import { formatChaosReport, runChaos } from './index';

function zodArg<T>(schema: z.ZodType<T>, what: string): (value: string) => T {
  return (value: string) => {
    const r = schema.safeParse(value);
    if (!r.success) throw new InvalidArgumentError(`expected ${what}, got "${value}"`);
    return r.data;
  };
}

const share = zodArg(z.coerce.number().min(0).max(0.5), 'a share from 0 to 0.5, e.g. 0.01');
const services = zodArg(
  z
    .string()
    .transform((s) => (s === 'none' ? [] : s.split(',').map((x) => x.trim())))
    .pipe(z.array(z.enum(RESTARTABLE as [ServiceName, ...ServiceName[]]))),
  `a comma-separated list of ${RESTARTABLE.join(', ')} (or none)`,
);

interface Flags {
  events: number;
  seed: number;
  kills: number;
  badShare: number;
  dupShare: number;
  restarts: ServiceName[];
  recordsPerObject?: number;
  timeout: number;
  keep?: boolean;
  json?: boolean;
}

const program = new Command('chaos')
  .description('produce events, run the pipeline while killing the worker and restarting every server, then reconcile every record')
  .exitOverride()
  .addOption(
    new Option('--events <n>', 'records to write: good events, bad records and duplicates').argParser(positiveInt).default(1_000_000),
  )
  .addOption(new Option('--seed <n>', 'seed for the events and the fault moments').argParser(seed).default(42))
  .addOption(
    new Option('--kills <n>', 'worker SIGKILLs, spread over the run and over archive, transform and load')
      .argParser(nonNegativeInt)
      .default(10),
  )
  .addOption(
    new Option(
      '--bad-share <x>',
      'share of bad records (malformed JSON, missing field, negative amount, NUL, a field named twice, a row a table constraint refuses)',
    )
      .argParser(share)
      .default(0.01),
  )
  .addOption(new Option('--dup-share <x>', 'share of same-payload re-sends of good events').argParser(share).default(0.005))
  .addOption(
    new Option('--restarts <list>', 'servers to restart once each, in this order')
      .argParser(services)
      .default([...RESTARTABLE], RESTARTABLE.join(',')),
  )
  .addOption(
    new Option('--records-per-object <n>', 'ARCHIVE_MAX_RECORDS_PER_OBJECT of the run (default: events/50, 1,000-20,000)').argParser(
      positiveInt,
    ),
  )
  .addOption(
    new Option('--timeout <duration>', 'give up if the pipeline has not drained by then').argParser(duration).default(3_600_000, '60m'),
  )
  .option('--keep', "keep the run's schema, topic, S3 prefix and worker log")
  .option('--json', 'print the report as JSON')
  .addHelpText(
    'after',
    '\nExamples:\n  $ npm run chaos\n  $ npm run chaos -- --events 200000 --seed 7\n  $ npm run chaos -- --events 20000 --kills 3 --restarts kafka --json',
  );

async function main(): Promise<number> {
  let flags: Flags;
  try {
    flags = program.parse(process.argv).opts<Flags>();
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 || err.code === 'commander.helpDisplayed' ? 0 : 2;
    throw err;
  }
  const began = Date.now();
  const log = (line: string) => process.stderr.write(`[chaos ${((Date.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  // First Ctrl-C: stop injecting, clean up and report. Second: leave at once.
  const abort = new AbortController();
  process.on('SIGINT', () => {
    if (abort.signal.aborted) process.exit(130);
    log('interrupted: finishing the current fault, then cleaning up (Ctrl-C again to quit at once)');
    abort.abort();
  });
  try {
    const config = loadConfig();
    await stackUp(config, { log: (l) => log(`stack: ${l}`) });
    const report = await runChaos(config, {
      events: flags.events,
      seed: flags.seed,
      kills: flags.kills,
      badShare: flags.badShare,
      dupShare: flags.dupShare,
      restarts: flags.restarts,
      keep: flags.keep ?? false,
      timeoutMs: flags.timeout,
      log,
      signal: abort.signal,
      ...(flags.recordsPerObject ? { recordsPerObject: flags.recordsPerObject } : {}),
    });
    process.stdout.write((flags.json ? JSON.stringify(report, null, 2) : formatChaosReport(report)) + '\n');
    return report.passed ? 0 : 1;
  } catch (err) {
    return reportFailure(err);
  }
}

exitWith(main);

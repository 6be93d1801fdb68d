// Run in a child process under some TZ by test/unit/time-zones.test.ts: prints, one JSON line each,
// what classification and the CLI's time flags make of fixed inputs. The output must be the same
// bytes under every TZ.
import { isoTime } from '../../client/args';
import { buildProgram } from '../../client/program';
import { classifyFixedRecords } from './fixed-records';

export const CLI_TIMES = [
  '2026-03-08',
  '2026-03-08T02:30',
  '2026-03-08T02:30:00',
  '2026-11-01T01:30:00.25',
  '2026-03-08T02:30:00-05:00',
  '2026-03-08T07:30:00+05:30',
  '2026-03-08T07:30:00Z',
];

/** The options a command's action would receive, without running it. */
async function parsedOptions(argv: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram(() => undefined);
  let captured: Record<string, unknown> | undefined;
  program.hook('preAction', (_root, action) => {
    captured = action.opts();
    throw new Error('parsed');
  });
  await program.parseAsync(['node', 'etl', ...argv]).catch((err: unknown) => {
    if (!captured) throw err;
  });
  return captured!;
}

async function main(): Promise<void> {
  const out: string[] = [...classifyFixedRecords()];
  for (const t of CLI_TIMES) out.push(JSON.stringify({ flag: t, ms: isoTime(t) }));
  out.push(JSON.stringify(await parsedOptions(['replay', '--from', '2026-03-08T01:00', '--to', '2026-03-08T03:00:00', '--no-wait'])));
  out.push(
    JSON.stringify(
      await parsedOptions(['schedule', 'backfill', 'pipeline-transactions', '--from', '2026-11-01', '--to', '2026-11-01T06:00:00+01:00']),
    ),
  );
  out.push(
    JSON.stringify(await parsedOptions(['produce', 'transactions', '--rows', '10', '--start', '2026-03-08T02:30:00', '--window', '1h'])),
  );
  process.stdout.write(out.join('\n') + '\n');
  // Not part of what is compared: proof that the child really ran in another zone.
  process.stderr.write(`local offset on 2026-01-01: ${new Date(Date.UTC(2026, 0, 1)).getTimezoneOffset()} minutes\n`);
}

void main();

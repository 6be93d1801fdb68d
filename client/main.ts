// Entry point of `etl`: exit 0 on success, 1 on failure, 2 on a usage error. Known failures print
// one actionable line; anything else prints its stack, since it is a bug (client/exit.ts).
import { CommanderError } from 'commander';
import { exitWith, reportFailure } from './exit';
import { buildProgram } from './program';
import { loadStreams } from '../streams';

/** Whether the command line is `etl stream init …` (the words before any option). */
function isStreamInit(args: readonly string[]): boolean {
  const [group, command] = args.filter((a) => !a.startsWith('-'));
  return group === 'stream' && command === 'init';
}

async function main(): Promise<number> {
  let exitCode = 0;
  try {
    // Every command sees the same streams, or none runs: a bad declaration is one line and exit 2.
    // `etl stream init` writes a deployment's first declaration: its folder need not exist yet.
    loadStreams(undefined, { mayNotExistYet: isStreamInit(process.argv.slice(2)) });
  } catch (err) {
    return reportFailure(err);
  }
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(process.argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    return reportFailure(err);
  }
}

exitWith(main);

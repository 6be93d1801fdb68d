// Entry point of `etl`: exit 0 on success, 1 on failure, 2 on a usage error. Known failures print
// one actionable line; anything else prints its stack, since it is a bug (client/exit.ts).
import { CommanderError } from 'commander';
import { exitWith, reportFailure } from './exit';
import { buildProgram } from './program';
import { loadStreams } from '../streams';

async function main(): Promise<number> {
  let exitCode = 0;
  try {
    // Every command sees the same streams, or none runs: a bad declaration is one line and exit 2.
    loadStreams();
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

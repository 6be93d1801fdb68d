// Entry point of `etl`: exit 0 on success, 1 on failure, 2 on a usage error. Known failures print
// one actionable line; anything else prints its stack, since it is a bug.
import { CommanderError } from 'commander';
import { isEtlError } from '../lib/errors';
import { buildProgram } from './program';

async function main(): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(process.argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    if (isEtlError(err)) {
      process.stderr.write(`error [${err.code}]: ${err.message}\n`);
      return err.code === 'USAGE' ? 2 : 1;
    }
    process.stderr.write(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);

// Entry point of `etl`: exit 0 on success, 1 on failure, 2 on a usage error. Known failures print
// one actionable line; anything else prints its stack, since it is a bug.
import { CommanderError } from 'commander';
import { loadConfig } from '../lib/config';
import { isEtlError } from '../lib/errors';
import { unreachableServer } from './output';
import { buildProgram } from './program';

function configOrNothing() {
  try {
    return loadConfig();
  } catch {
    return undefined;
  }
}

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
    const config = isEtlError(err) ? undefined : configOrNothing();
    const known = isEtlError(err) ? err : config && unreachableServer(err, config);
    if (known) {
      process.stderr.write(`error [${known.code}]: ${known.message}\n`);
      return known.code === 'USAGE' ? 2 : 1;
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

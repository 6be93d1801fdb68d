// How a command-line entry point ends (etl, npm run chaos): exit 0 on success, 1 on failure, 2 on a
// usage error. Known failures print one actionable line; anything else prints its stack, since it
// is a bug.
import { loadConfig } from '../lib/config';
import { isEtlError, type ErrorCode } from '../lib/errors';
import { unreachableServer } from './output';

function configOrNothing() {
  try {
    return loadConfig();
  } catch {
    return undefined;
  }
}

/** What a person typed that cannot be run: exit 2, as bad usage. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set(['USAGE', 'FILE_OUTSIDE_ROOTS', 'STREAM_DECLARATION']);

/** Prints the one line a failure deserves and returns its exit code. */
export function reportFailure(err: unknown): number {
  const config = isEtlError(err) ? undefined : configOrNothing();
  const known = isEtlError(err) ? err : config && unreachableServer(err, config);
  if (known) {
    process.stderr.write(`error [${known.code}]: ${known.message}\n`);
    return USAGE_CODES.has(known.code) ? 2 : 1;
  }
  process.stderr.write(`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}

/** Runs `main` and exits with the code it returns (or 1 if it throws past its own handling). */
export function exitWith(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}

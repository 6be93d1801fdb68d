// Structured JSON logs on stderr (stdout stays for command output people read or pipe), or in a
// file for a command that runs a worker inside a session a person watches (the demo).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import { CREDENTIAL_URL_VARIABLES, maskUrlCredentials, SECRET_VARIABLES, type Config } from './config';

export type { Logger };

/**
 * Fields merged into every line, from where the line is logged: the worker installs one that
 * returns the workflow and activity ids while an activity runs (worker/log-context.ts), so every
 * line an activity logs, through any logger or child of it, says which run and attempt it belongs to.
 */
type LogContext = () => Record<string, unknown> | undefined;
let logContext: LogContext | undefined;

export function setLogContext(fn: LogContext | undefined): void {
  logContext = fn;
}

let destination: DestinationStream | undefined;

/** Every logger created after this call appends its JSON lines to `file` instead of stderr. */
export function logToFile(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  destination = pino.destination({ dest: file, append: true, sync: true });
}

/** Field names of client options that hold a secret, wherever they are nested one level down. */
const SECRET_FIELDS = ['password', 'secret', 'secretAccessKey', 'connectionString', 'apiKey'];
/** The settings the configuration schema marks secret or as URLs with credentials (lib/config.ts), at the top level or one level down. */
const REDACTED_PATHS = [
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...[...SECRET_VARIABLES, ...CREDENTIAL_URL_VARIABLES].flatMap((name) => [name, `*.${name}`]),
];

/** A URL setting keeps what it says, its password masked; anything else marked is replaced whole. */
function censor(value: unknown, path: string[]): unknown {
  const name = path[path.length - 1];
  if (name !== undefined && CREDENTIAL_URL_VARIABLES.has(name) && typeof value === 'string') return maskUrlCredentials(value);
  return '[redacted]';
}

export function createLogger(cfg: Pick<Config, 'LOG_LEVEL'>, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level: cfg.LOG_LEVEL,
      base: { pid: process.pid, ...bindings },
      mixin: () => logContext?.() ?? {},
      redact: { paths: REDACTED_PATHS, censor },
    },
    destination ?? pino.destination(2),
  );
}

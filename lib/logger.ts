// Structured JSON logs on stderr (stdout stays for command output people read or pipe), or in a
// file for a command that runs a worker inside a session a person watches (the demo).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config';

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

export function createLogger(cfg: Pick<Config, 'LOG_LEVEL'>, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level: cfg.LOG_LEVEL,
      base: { pid: process.pid, ...bindings },
      mixin: () => logContext?.() ?? {},
      redact: {
        paths: [
          '*.password',
          '*.secret',
          '*.secretAccessKey',
          '*.connectionString',
          '*.apiKey',
          'DATABASE_URL',
          'S3_SECRET_ACCESS_KEY',
          'PG_PASSWORD',
          'KAFKA_SASL_PASSWORD',
          'KAFKA_SASL_OAUTH_TOKEN',
          'TEMPORAL_API_KEY',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination(2),
  );
}

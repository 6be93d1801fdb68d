// Structured JSON logs on stderr (stdout stays for command output people read or pipe).
import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

export function createLogger(cfg: Pick<Config, 'LOG_LEVEL'>, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level: cfg.LOG_LEVEL,
      base: { pid: process.pid, ...bindings },
      redact: { paths: ['*.password', '*.secret', '*.secretAccessKey', '*.connectionString', 'DATABASE_URL', 'S3_SECRET_ACCESS_KEY'], censor: '[redacted]' },
    },
    pino.destination(2),
  );
}

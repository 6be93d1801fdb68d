// `etl dashboard`: serves the web dashboard until Ctrl-C (SIGINT) or SIGTERM.
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import type { Config } from '../../lib/config';
import { startDashboard } from '../../dashboard/server';

export interface DashboardArgs { host?: string; port?: number }

/** Command-line value: a TCP port, 0 for any free one. */
export function portArg(value: string): number {
  const r = z.coerce.number().int().min(0).max(65535).safeParse(value);
  if (!r.success) throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}"`);
  return r.data;
}

export async function dashboard(config: Config, args: DashboardArgs, say: (line: string) => void): Promise<void> {
  const server = await startDashboard(config, args);
  say(`Dashboard: ${server.url}  (schema "${config.PG_SCHEMA}", read-only role "${server.role}"; Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

// `etl dashboard`: serves the web dashboard until Ctrl-C (SIGINT) or SIGTERM.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import { loadConfig, type Config } from '../../lib/config';
import { startDashboard } from '../../dashboard/server';
import type { Say } from '../output';

export interface DashboardArgs {
  host?: string;
  port?: number;
}

/** Command-line value: a TCP port, 0 for any free one. */
export function portArg(value: string): number {
  const r = z.coerce.number().int().min(0).max(65535).safeParse(value);
  if (!r.success) throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value}"`);
  return r.data;
}

export async function dashboard(config: Config, args: DashboardArgs, say: (line: string) => void): Promise<void> {
  const server = await startDashboard(config, args);
  const login = config.DASHBOARD_TOKEN ? `; login: bearer token or user "${config.DASHBOARD_USER}" with the token` : '';
  say(`Dashboard: ${server.url}  (schema "${config.PG_SCHEMA}", read-only role "${server.role}"${login}; Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

export function registerDashboardCommand(program: Command, say: Say): void {
  program
    .command('dashboard')
    .description('serve the web dashboard (KPIs, charts, filters, CSV export, pipeline panel) reading as the read-only role')
    .option('--host <address>', 'address to listen on (default: DASHBOARD_HOST, 127.0.0.1); beyond loopback it needs DASHBOARD_TOKEN_FILE')
    .addOption(new Option('--port <n>', 'port to listen on, 0 for any free one (default: DASHBOARD_PORT, 8080)').argParser(portArg))
    .addHelpText(
      'after',
      '\nExamples:\n  $ etl dashboard\n  $ etl dashboard --port 9000\n  $ DASHBOARD_TOKEN_FILE=dashboard.token etl dashboard --host 0.0.0.0',
    )
    .action(async (opts: { host?: string; port?: number }) => dashboard(loadConfig(), opts, say));
}

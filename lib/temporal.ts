import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import type { Config } from './config';
import { EtlError } from './errors';
import { createLogger } from './logger';

const SDK_LEVEL: Record<Config['LOG_LEVEL'], LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};
let runtimeInstalled = false;

/** Sends the SDK's own logs (worker, workflow and activity lifecycle) through our JSON logger. */
function installRuntime(cfg: Config): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const log = createLogger(cfg, { component: 'temporal-sdk' });
  const logger = new DefaultLogger(SDK_LEVEL[cfg.LOG_LEVEL], ({ level, message, meta }) => {
    const pinoLevel =
      level === 'WARN' ? 'warn' : level === 'ERROR' ? 'error' : level === 'TRACE' ? 'trace' : level === 'DEBUG' ? 'debug' : 'info';
    log[pinoLevel](meta ?? {}, message);
  });
  const metrics = cfg.METRICS_PORT > 0 ? { prometheus: { bindAddress: `${cfg.METRICS_HOST}:${cfg.METRICS_PORT}` } } : undefined;
  try {
    Runtime.install({ logger, telemetryOptions: metrics ? { metrics } : {} });
  } catch (err) {
    // Most often the port is taken (another worker on this machine): run on, without metrics.
    log.warn({ err: String(err), bindAddress: metrics?.prometheus.bindAddress }, 'Prometheus metrics disabled: cannot start the exporter');
    Runtime.install({ logger });
  }
}

function unreachable(cfg: Config, err: unknown): EtlError {
  return new EtlError(
    'TEMPORAL_UNREACHABLE',
    `cannot reach Temporal at ${cfg.TEMPORAL_ADDRESS} — start it with \`etl stack up\` or set TEMPORAL_ADDRESS`,
    { cause: err },
  );
}

export async function connectClient(cfg: Config): Promise<Client> {
  try {
    const connection = await Connection.connect({ address: cfg.TEMPORAL_ADDRESS, connectTimeout: '5 seconds' });
    return new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
  } catch (err) {
    throw unreachable(cfg, err);
  }
}

export async function connectWorkerConnection(cfg: Config): Promise<NativeConnection> {
  installRuntime(cfg);
  try {
    return await NativeConnection.connect({ address: cfg.TEMPORAL_ADDRESS });
  } catch (err) {
    throw unreachable(cfg, err);
  }
}

/** A readable, sortable workflow id: pipeline-transactions-2026-11-22T13:05:12Z. */
export function readableWorkflowId(kind: string, stream: string, at = new Date()): string {
  return `${kind}-${stream}-${at.toISOString().slice(0, 19)}Z`;
}

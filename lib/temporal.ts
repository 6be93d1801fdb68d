import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from './config';
import { EtlError } from './errors';

function unreachable(cfg: Config, err: unknown): EtlError {
  return new EtlError('TEMPORAL_UNREACHABLE', `cannot reach Temporal at ${cfg.TEMPORAL_ADDRESS} — start it with \`etl stack up\` or set TEMPORAL_ADDRESS`, { cause: err });
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

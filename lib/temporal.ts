import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { temporalUsesTls, type Config } from './config';
import { EtlError } from './errors';
import { tlsFailure, type TlsFailure } from './network';
import { addressOf, probeTls } from './tls-probe';
import { createLogger } from './logger';

export type TemporalConnectionConfig = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CLIENT_CERT_PATH'
  | 'TEMPORAL_TLS_CLIENT_KEY_PATH'
  | 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_API_KEY'
>;

/**
 * Address, TLS and API key of every connection to Temporal (client, worker, schedules, the CLI, the
 * stack's health check), as the Temporal CLI reads the same variables: TLS on when a certificate, a
 * CA or an API key is set; the key goes as `authorization: Bearer <key>` on every call.
 */
export function temporalConnection(cfg: TemporalConnectionConfig): { address: string; tls?: TLSConfig | false; apiKey?: string } {
  const tls: TLSConfig | false = temporalUsesTls(cfg as Config)
    ? {
        ...(cfg.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: cfg.TEMPORAL_TLS_SERVER_NAME } : {}),
        ...(cfg.TEMPORAL_TLS_SERVER_CA_CERT_PATH ? { serverRootCACertificate: readFileSync(cfg.TEMPORAL_TLS_SERVER_CA_CERT_PATH) } : {}),
        ...(cfg.TEMPORAL_TLS_CLIENT_CERT_PATH
          ? {
              clientCertPair: { crt: readFileSync(cfg.TEMPORAL_TLS_CLIENT_CERT_PATH), key: readFileSync(cfg.TEMPORAL_TLS_CLIENT_KEY_PATH) },
            }
          : {}),
      }
    : false;
  return { address: cfg.TEMPORAL_ADDRESS, ...(tls ? { tls } : {}), ...(cfg.TEMPORAL_API_KEY ? { apiKey: cfg.TEMPORAL_API_KEY } : {}) };
}

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

/**
 * Sends the SDK's own logs (worker, workflow and activity lifecycle) through our JSON logger, the
 * native core's too: left alone, the core prints coloured lines of its own to stderr.
 */
function installRuntime(cfg: Config): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const log = createLogger(cfg, { component: 'temporal-sdk' });
  const level = SDK_LEVEL[cfg.LOG_LEVEL];
  const logger = new DefaultLogger(level, ({ level, message, meta }) => {
    const pinoLevel =
      level === 'WARN' ? 'warn' : level === 'ERROR' ? 'error' : level === 'TRACE' ? 'trace' : level === 'DEBUG' ? 'debug' : 'info';
    log[pinoLevel](meta ?? {}, message);
  });
  const logging = { filter: { core: level, other: level }, forward: {} };
  const metrics = cfg.METRICS_PORT > 0 ? { prometheus: { bindAddress: `${cfg.METRICS_HOST}:${cfg.METRICS_PORT}` } } : undefined;
  try {
    Runtime.install({ logger, telemetryOptions: { logging, ...(metrics ? { metrics } : {}) } });
  } catch (err) {
    // Most often the port is taken (another worker on this machine): run on, without metrics.
    log.warn({ err: String(err), bindAddress: metrics?.prometheus.bindAddress }, 'Prometheus metrics disabled: cannot start the exporter');
    Runtime.install({ logger, telemetryOptions: { logging } });
  }
}

const TEMPORAL_TLS_FIX: Record<TlsFailure['kind'], string> = {
  untrusted: 'set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that signed the server certificate (empty: the system CAs)',
  hostname: 'set TEMPORAL_TLS_SERVER_NAME to a name the server certificate carries',
  expired: 'renew the expired certificate (TEMPORAL_TLS_CLIENT_CERT_PATH, or the server one)',
  'client-cert-missing': 'the server requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH',
  'client-cert-rejected': 'the server refused TEMPORAL_TLS_CLIENT_CERT_PATH: use a certificate signed by the CA the namespace trusts',
  'not-tls': 'the server does not speak TLS there: set TEMPORAL_TLS=false, or use its TLS port',
  'tls-required': 'the server wants TLS: set TEMPORAL_TLS=true (and TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA)',
  other: 'check TEMPORAL_TLS and the TEMPORAL_TLS_* certificate settings',
};

/** gRPC UNAUTHENTICATED / PERMISSION_DENIED, or its words in a message (the worker's native connection). */
function authFailure(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message, details } = e as { code?: unknown; message?: unknown; details?: unknown };
    const text = [details, message].find((x): x is string => typeof x === 'string' && x.length > 0) ?? '';
    if (
      code === 16 ||
      code === 7 ||
      /Unauthenticated|PermissionDenied|UNAUTHENTICATED|PERMISSION_DENIED|does not have valid authentication credentials|does not have permission/.test(
        text,
      )
    )
      return text || `gRPC code ${String(code)}`;
  }
  return undefined;
}

/** A connection failure as the one line a person reads: refused login, failed TLS, or an unreachable server. */
export function classifyTemporalError(cfg: Config, err: unknown): EtlError {
  const auth = authFailure(err);
  if (auth) {
    return new EtlError(
      'TEMPORAL_AUTH_FAILED',
      `Temporal at ${cfg.TEMPORAL_ADDRESS} refused the credentials for namespace ${cfg.TEMPORAL_NAMESPACE} (${auth.split('\n')[0]}) — check TEMPORAL_API_KEY or the client certificate, and TEMPORAL_NAMESPACE`,
      { cause: err },
    );
  }
  const tls = tlsFailure(err);
  if (tls) {
    return new EtlError(
      'TEMPORAL_TLS_FAILED',
      `TLS to Temporal at ${cfg.TEMPORAL_ADDRESS} failed: ${tls.reason} — ${TEMPORAL_TLS_FIX[tls.kind]}`,
      {
        cause: err,
      },
    );
  }
  return unreachable(cfg, err);
}

function unreachable(cfg: Config, err: unknown): EtlError {
  return new EtlError(
    'TEMPORAL_UNREACHABLE',
    `cannot reach Temporal at ${cfg.TEMPORAL_ADDRESS} — start it with \`etl stack up\` or set TEMPORAL_ADDRESS`,
    { cause: err },
  );
}

/**
 * The client's gRPC says only "failed to connect before the deadline" for a refused certificate or
 * a TLS mismatch: a handshake of our own, with the same settings, finds which it was.
 */
async function connectFailure(cfg: Config, err: unknown): Promise<EtlError> {
  const classified = classifyTemporalError(cfg, err);
  if (classified.code !== 'TEMPORAL_UNREACHABLE') return classified;
  const { host, port } = addressOf(cfg.TEMPORAL_ADDRESS, 7233);
  const { tls } = temporalConnection(cfg);
  const options = tls
    ? {
        ALPNProtocols: ['h2'],
        ...(tls.serverNameOverride ? { servername: tls.serverNameOverride } : {}),
        ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
        ...(tls.clientCertPair ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) } : {}),
      }
    : undefined;
  const found = await probeTls(host, port, options);
  if (!found) return classified;
  return new EtlError(
    'TEMPORAL_TLS_FAILED',
    `TLS to Temporal at ${cfg.TEMPORAL_ADDRESS} failed: ${found.reason} — ${TEMPORAL_TLS_FIX[found.kind]}`,
    {
      cause: err,
    },
  );
}

export async function connectClient(cfg: Config): Promise<Client> {
  try {
    const connection = await Connection.connect({ ...temporalConnection(cfg), connectTimeout: '5 seconds' });
    return new Client({ connection, namespace: cfg.TEMPORAL_NAMESPACE });
  } catch (err) {
    throw await connectFailure(cfg, err);
  }
}

export async function connectWorkerConnection(cfg: Config): Promise<NativeConnection> {
  installRuntime(cfg);
  try {
    return await NativeConnection.connect(temporalConnection(cfg));
  } catch (err) {
    throw await connectFailure(cfg, err);
  }
}

/** A readable, sortable workflow id: pipeline-transactions-2026-11-22T13:05:12Z. */
export function readableWorkflowId(kind: string, stream: string, at = new Date()): string {
  return `${kind}-${stream}-${at.toISOString().slice(0, 19)}Z`;
}

// Temporal in the secured stack: the dev server on a loopback port of its own, and in front of it
// the TLS proxy (tls-proxy.ts) that clients reach, which requires a client certificate.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RUNNING_BUILT, type Config } from '../../lib/config';
import { formatHostPort, parseHostPort } from './paths';
import { SECURE_PORTS } from './secure';
import type { StackContext, StackService } from './service';
import { temporalService } from './temporal';

/** The dev server's own view: plain gRPC on its backend port. */
const backendConfig = (cfg: Config): Config => ({
  ...cfg,
  TEMPORAL_ADDRESS: `127.0.0.1:${SECURE_PORTS.temporalBackend}`,
  TEMPORAL_TLS: 'false',
  TEMPORAL_TLS_CLIENT_CERT_PATH: '',
  TEMPORAL_TLS_CLIENT_KEY_PATH: '',
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: '',
  TEMPORAL_API_KEY: '',
});
const backendContext = (ctx: StackContext): StackContext => ({ ...ctx, cfg: backendConfig(ctx.cfg) });

export const temporalBackendService: StackService = {
  ...temporalService,
  address: (cfg) => temporalService.address(backendConfig(cfg)),
  ports: (cfg) => temporalService.ports(backendConfig(cfg)),
  install: (ctx) => temporalService.install(backendContext(ctx)),
  prepare: (ctx) => temporalService.prepare(backendContext(ctx)),
  health: (cfg, ms) => temporalService.health(backendConfig(cfg), ms),
};

/** How to run tls-proxy as a process: its build, or its source through tsx when running from sources. */
function proxyCommand(): string[] {
  if (RUNNING_BUILT) return [path.join(__dirname, 'tls-proxy.js')];
  const tsx = pathToFileURL(createRequire(__filename).resolve('tsx')).href;
  return ['--import', tsx, path.join(__dirname, 'tls-proxy.ts')];
}

export const temporalProxyService: StackService = {
  name: 'temporal-tls',
  address: (cfg) => parseHostPort(cfg.TEMPORAL_ADDRESS),
  ports: (cfg) => [parseHostPort(cfg.TEMPORAL_ADDRESS)],
  processMarker: 'tls-proxy',
  startTimeoutMs: 60_000,
  stopSignal: 'SIGTERM',
  stopTimeoutMs: 5_000,
  install: async () => undefined,
  async prepare({ cfg, paths, secure }) {
    if (!secure) throw new Error('the Temporal TLS proxy runs in the secured stack only');
    mkdirSync(paths.data('temporal-tls'), { recursive: true });
    return {
      command: process.execPath,
      args: proxyCommand(),
      cwd: paths.data('temporal-tls'),
      env: {
        PATH: process.env.PATH,
        ETL_PROXY_LISTEN: formatHostPort(parseHostPort(cfg.TEMPORAL_ADDRESS)),
        ETL_PROXY_TARGET: `127.0.0.1:${SECURE_PORTS.temporalBackend}`,
        ETL_PROXY_CERT: secure.certs.serverCert,
        ETL_PROXY_KEY: secure.certs.serverKey,
        ETL_PROXY_CA: secure.certs.ca,
      },
    };
  },
  // Through the proxy with the client certificate: proves TLS, the certificate check and the dev server behind.
  health: (cfg, ms) => temporalService.health(cfg, ms),
};

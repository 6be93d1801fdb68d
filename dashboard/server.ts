// `etl dashboard`: a small HTTP server over the read-only role. It checks the role and the schema
// before it listens, so a misconfiguration is one clear line at start, not an empty page.
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { Config } from '../lib/config';
import { EtlError } from '../lib/errors';
import { lagReader } from '../lib/consumer-lag';
import { createLogger, type Logger } from '../lib/logger';
import { streamTopics } from '../streams';
import { loadAssets } from './assets';
import { dashboardAuth, isLoopback, loopbackNames, registerAuth } from './auth';
import { checkReader, createReaderPool } from './reader';
import { registerRoutes } from './routes';

export interface DashboardServer {
  url: string;
  /** The database role the server reads as (the reader role). */
  role: string;
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface DashboardOptions {
  host?: string;
  port?: number;
  logger?: Logger;
}

export async function startDashboard(config: Config, opts: DashboardOptions = {}): Promise<DashboardServer> {
  const host = opts.host ?? config.DASHBOARD_HOST;
  const port = opts.port ?? config.DASHBOARD_PORT;
  const auth = dashboardAuth(config, host); // before anything opens: refused beyond loopback without a login
  const logger = opts.logger ?? createLogger(config, { component: 'dashboard' });
  const pool = createReaderPool(config);
  // Request logs are off: every open dashboard polls every few seconds. Failures are logged.
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  try {
    const role = await checkReader(pool, config);
    const authenticate = auth && (await registerAuth(app, auth));
    registerRoutes(app, {
      config,
      pool,
      role,
      assets: loadAssets(),
      lag: lagReader(config, () => streamTopics(config.KAFKA_TOPIC_PREFIX), logger),
      allowedHosts: isLoopback(host) ? loopbackNames(host) : undefined,
      authenticate,
    });
    try {
      await app.listen({ host, port });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new EtlError(
          'CONFIG_INVALID',
          `cannot listen on ${host}:${port} (${code}) — choose another with --port / DASHBOARD_PORT or --host / DASHBOARD_HOST`,
          { cause: err },
        );
      }
      throw err;
    }
    const address = app.server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}/`;
    return {
      url,
      role,
      pool,
      async close() {
        await app.close();
        await pool.end().catch(() => undefined);
      },
    };
  } catch (err) {
    await app.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw err;
  }
}

// HTTP surface of the dashboard. Every query string is parsed by zod before anything else; a bad
// one is a 400 naming each parameter and what was expected. Known failures (database down, schema
// not migrated) are 503s with the fix; anything else is a 500 logged with its stack.
import type { FastifyInstance, FastifyReply, onRequestHookHandler } from 'fastify';
import type pg from 'pg';
import type { z } from 'zod';
import { temporalUiUrl, type Config } from '../lib/config';
import { isEtlError } from '../lib/errors';
import type { Asset } from './assets';
import { UNAUTHORIZED } from './auth';
import { exportCsv } from './csv';
import { describeIssues, filterQuery, pageQuery } from './filters';
import type { LagReport } from '../lib/consumer-lag';
import { registerMarketRoutes } from './markets';
import { pipelineState } from './pipeline';
import { filterOptions, summary, transactionsPage } from './queries';
import { classifyReaderError } from './reader';
import { registerSearchRoutes, searchLags } from './search';

export interface RouteDeps {
  config: Config;
  pool: pg.Pool;
  role: string;
  assets: Map<string, Asset>;
  lag: () => Promise<LagReport>;
  /** Host names a request may address; undefined accepts any (the dashboard listens publicly). */
  allowedHosts?: ReadonlySet<string>;
  /** Asks every request for the login (auth.ts); undefined: the dashboard is open (loopback only). */
  authenticate?: onRequestHookHandler;
}

/**
 * An HTTP answer, not a failure of the system: it never leaves this module, so it is not one of
 * the taxonomy's codes (those describe what went wrong with a server, config or data).
 */
class BadRequest extends Error {
  constructor(readonly body: { error: 'INVALID_FILTER'; message: string; issues: { param: string; message: string }[] }) {
    super(body.message);
  }
}

function parse<T extends z.ZodType>(schema: T, query: unknown): z.output<T> {
  const r = schema.safeParse(query ?? {});
  if (!r.success) throw new BadRequest({ error: 'INVALID_FILTER', ...describeIssues(r.error) });
  return r.data;
}

const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** "127.0.0.1:8080" -> "127.0.0.1", "[::1]:8080" -> "::1". */
export function hostName(header: string | undefined): string {
  if (!header) return '';
  const m = /^\[([^\]]+)\]|^([^:]+)/.exec(header);
  return (m?.[1] ?? m?.[2] ?? '').toLowerCase();
}

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { config, pool } = deps;

  // On loopback, refuse requests addressed to any other name: a web page elsewhere could point
  // its own domain at 127.0.0.1 (DNS rebinding) and read the data through the visitor's browser.
  app.addHook('onRequest', async (req, reply) => {
    if (!deps.allowedHosts || deps.allowedHosts.has(hostName(req.headers.host))) return;
    return reply
      .code(403)
      .send({ error: 'HOST_NOT_ALLOWED', message: `this dashboard answers on ${[...deps.allowedHosts].join(', ')} only` });
  });
  // After the host check: a rebinding page must not get the browser's login prompt.
  if (deps.authenticate) app.addHook('onRequest', deps.authenticate);

  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('content-security-policy', CSP);
  });

  app.setErrorHandler(async (err, req, reply: FastifyReply) => {
    if (err instanceof BadRequest) return reply.code(400).send(err.body);
    if ((err as { statusCode?: number }).statusCode === 401) return reply.code(401).send(UNAUTHORIZED);
    const known = classifyReaderError(err, config);
    if (isEtlError(known)) {
      req.log.warn({ code: known.code, url: req.url }, known.message);
      return reply.code(503).send({ error: known.code, message: known.message });
    }
    req.log.error({ err, url: req.url }, 'dashboard request failed');
    return reply.code(500).send({ error: 'INTERNAL', message: 'unexpected error; the dashboard log has the details' });
  });

  for (const [url, asset] of deps.assets) {
    app.get(url, async (req, reply) => {
      reply.header('content-type', asset.type).header('etag', asset.etag).header('cache-control', 'no-cache');
      if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.send(asset.body);
    });
  }

  const api = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

  app.get('/healthz', async (_req, reply) => {
    await pool.query('SELECT 1');
    return api(reply).send({ status: 'ok', role: deps.role, schema: config.PG_SCHEMA });
  });
  app.get('/api/options', async (_req, reply) => api(reply).send(await filterOptions(pool)));
  app.get('/api/summary', async (req, reply) => api(reply).send(await summary(pool, parse(filterQuery, req.query))));
  app.get('/api/transactions', async (req, reply) => {
    const q = parse(pageQuery, req.query);
    const window = config.DASHBOARD_MAX_RESULT_WINDOW;
    if (q.page * q.pageSize > window) {
      const message = `page ${q.page} of ${q.pageSize} rows reaches past row ${window} (DASHBOARD_MAX_RESULT_WINDOW): narrow the filters, or export them as CSV`;
      throw new BadRequest({ error: 'INVALID_FILTER', message: `invalid filter: page: ${message}`, issues: [{ param: 'page', message }] });
    }
    const page = await transactionsPage(pool, q);
    return api(reply).send({ ...page, maxPage: Math.floor(window / q.pageSize), csvMaxRows: config.DASHBOARD_CSV_MAX_ROWS });
  });
  app.get('/api/transactions.csv', async (req, reply) => {
    const csv = await exportCsv(pool, parse(filterQuery, req.query), {
      maxRows: config.DASHBOARD_CSV_MAX_ROWS,
      maxSeconds: config.DASHBOARD_CSV_MAX_SECONDS,
      onTimeout: () =>
        req.log.warn({ url: req.url }, `CSV export aborted after DASHBOARD_CSV_MAX_SECONDS (${config.DASHBOARD_CSV_MAX_SECONDS} s)`),
    });
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    const name = csv.truncated ? `transactions-${stamp}-first-${csv.rows}.csv` : `transactions-${stamp}.csv`;
    return api(reply)
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('x-export-rows', String(csv.rows))
      .header('x-export-truncated', String(csv.truncated))
      .header('x-export-row-cap', String(config.DASHBOARD_CSV_MAX_ROWS))
      .send(csv.stream);
  });
  app.get('/api/pipeline', async (_req, reply) => {
    const [state, lag, search] = await Promise.all([pipelineState(pool, config), deps.lag(), searchLags(pool, config)]);
    return api(reply).send({ ...state, lag, search, temporalUi: temporalUiUrl(config) });
  });
  registerMarketRoutes(app, { pool, parse, noStore: api });
  registerSearchRoutes(app, { config, pool, parse, noStore: api });
}

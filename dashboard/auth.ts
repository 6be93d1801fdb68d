// Who may read the dashboard. On loopback it is open, as a tool on one's own machine; anywhere
// else it needs DASHBOARD_TOKEN, and once the token is set every request but /healthz must carry
// it: as a bearer token (scripts, curl -H) or as the password of HTTP Basic (the browser's own
// login prompt; the browser then repeats the login on every request of the page — fetches and
// the CSV download alike — so the web app needs no login code and keeps no secret in storage).
import { createHash, timingSafeEqual } from 'node:crypto';
import fastifyBasicAuth from '@fastify/basic-auth';
import fastifyBearerAuth from '@fastify/bearer-auth';
import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { Config } from '../lib/config';
import { EtlError } from '../lib/errors';

export interface DashboardAuth {
  user: string;
  token: string;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '::1'];

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.includes(host) || host.startsWith('127.') || host.startsWith('::ffff:127.');
}

/** The names a browser may address a loopback dashboard by (routes.ts refuses others: DNS rebinding). */
export function loopbackNames(host: string): Set<string> {
  return new Set([...LOOPBACK_NAMES, host]);
}

/**
 * The login the dashboard asks for, or none (loopback without a token). Listening beyond loopback
 * without one is refused before anything opens: an exposed dashboard would show every row to anyone.
 */
export function dashboardAuth(config: Pick<Config, 'DASHBOARD_TOKEN' | 'DASHBOARD_USER'>, host: string): DashboardAuth | undefined {
  if (config.DASHBOARD_TOKEN) return { user: config.DASHBOARD_USER, token: config.DASHBOARD_TOKEN };
  if (isLoopback(host)) return undefined;
  throw new EtlError(
    'USAGE',
    `refusing to serve the dashboard on ${host} without a login: put a token in a file (openssl rand -hex 32 > dashboard.token) and set DASHBOARD_TOKEN_FILE to it, or listen on 127.0.0.1 (docs/dashboard.md, "Authentication")`,
  );
}

/** Equal or not, in a time that tells nothing of where they differ nor of their lengths (both are hashed first). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The answer to a request without the credentials; routes.ts sends it for any 401. */
export const UNAUTHORIZED = {
  error: 'UNAUTHORIZED',
  message: 'this dashboard needs its token: send "Authorization: Bearer <token>", or log in as DASHBOARD_USER with the token as password',
} as const;

/** Registers the two schemes and returns the onRequest hook that asks for one of them. */
export async function registerAuth(app: FastifyInstance, auth: DashboardAuth): Promise<onRequestHookHandler> {
  // rfc6749: the scheme name is case-insensitive, as the dispatch below reads it.
  await app.register(fastifyBearerAuth, {
    keys: [],
    auth: (key: string) => sameSecret(key, auth.token),
    addHook: false,
    specCompliance: 'rfc6749',
    verifyErrorLogLevel: 'debug', // a browser's first request always lacks the login: not worth a log line
  });
  await app.register(fastifyBasicAuth, {
    authenticate: { realm: 'etl dashboard' },
    validate: async (user, password) => {
      const userOk = sameSecret(user, auth.user);
      const tokenOk = sameSecret(password, auth.token);
      if (!userOk || !tokenOk) throw new Error('wrong user name or token');
    },
  });
  const bearer = app.verifyBearerAuth!;
  const basic = app.basicAuth as onRequestHookHandler;
  return function authenticate(req, reply, done) {
    // Load balancers and supervisors probe /healthz without credentials.
    if (req.routeOptions.url === '/healthz') return done();
    if (/^bearer /i.test(req.headers.authorization ?? '')) return bearer(req, reply, done);
    return basic.call(app, req, reply, done);
  };
}

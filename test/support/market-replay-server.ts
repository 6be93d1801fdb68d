// A local stand-in for the three market data APIs (these machines cannot reach the real ones):
// node:http serving the responses under test/fixtures/market/ in each API's documented format,
// routed by path and query like the real endpoints, with switches for the failures to test and a
// log of every request so tests can count what the server saw.
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fixture, MARKET_FIXTURES as FIXTURES } from './market-fixtures';

export type Api = 'yahoo' | 'finnhub' | 'cryptocompare';

export type Fault =
  /** Answer this status (429, 500, 503…); `retryAfter` becomes the Retry-After header. */
  | { kind: 'status'; status: number; retryAfter?: string }
  /** CryptoCompare's way of saying 429: HTTP 200 with {Response: 'Error', Type: 99}. */
  | { kind: 'rate-limit-body' }
  /** The recorded body cut in half. */
  | { kind: 'malformed' }
  /** The recorded body without the fields every client needs (Yahoo meta.currency, Finnhub c and t, CryptoCompare PRICE). */
  | { kind: 'missing-fields' }
  /** Answer only after this long (longer than the client's timeout). */
  | { kind: 'stall'; ms: number };

/** `status` is 0 while the request waits for its answer. */
export interface LoggedRequest {
  api: Api;
  path: string;
  query: Record<string, string>;
  status: number;
}

export interface ReplayServer {
  url: string;
  requests: LoggedRequest[];
  count(api: Api, symbol?: string): number;
  /** The next `times` requests to `api` get `fault`; then the recordings again. */
  fail(api: Api, fault: Fault, times?: number): void;
  /** Which recording to serve from now on: '' (the first) or a later one ('later', 'no-bars'). */
  play(api: Api, variant: string): void;
  reset(): void;
  close(): Promise<void>;
}

const YAHOO_INTERVALS = ['1m', '2m', '5m', '15m', '30m', '60m', '90m', '1h', '1d', '5d', '1wk', '1mo', '3mo'];

interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The recording of `name` in `variant`, or the first recording when that variant was not recorded. */
function recording(api: Api, name: string, variant: string): unknown {
  const file = path.join(api, `${name}${variant ? `.${variant}` : ''}.json`);
  return fixture(existsSync(path.join(FIXTURES, file)) ? file : path.join(api, `${name}.json`));
}

function yahoo(symbol: string, q: Record<string, string>, variant: string): Answer {
  if (!YAHOO_INTERVALS.includes(q.interval ?? '1d')) {
    return {
      status: 400,
      body: {
        chart: {
          result: null,
          error: {
            code: 'Bad Request',
            description: `Invalid input - interval=${q.interval} is not supported. Valid intervals: [${YAHOO_INTERVALS.join(', ')}]`,
          },
        },
      },
    };
  }
  if (!existsSync(path.join(FIXTURES, 'yahoo', `${symbol}.json`))) return { status: 404, body: fixture('yahoo/not-found.json') };
  return { status: 200, body: recording('yahoo', symbol, variant) };
}

function finnhub(q: Record<string, string>, key: string, variant: string): Answer {
  if (!q.token) return { status: 401, body: { error: 'Please use an API key.' } };
  if (q.token !== key) return { status: 401, body: fixture('finnhub/invalid-key.json') };
  const symbol = (q.symbol ?? '').toUpperCase();
  if (!existsSync(path.join(FIXTURES, 'finnhub', `${symbol}.json`))) return { status: 200, body: fixture('finnhub/unknown.json') };
  return { status: 200, body: recording('finnhub', symbol, variant) };
}

/** Like the real endpoint: only the requested pairs; none at all is an error naming the first pair. */
function cryptocompare(q: Record<string, string>, authorization: string | undefined, key: string | undefined, variant: string): Answer {
  if (key !== undefined && authorization !== `Apikey ${key}`) return { status: 200, body: fixture('cryptocompare/invalid-key.json') };
  const fsyms = (q.fsyms ?? '').split(',').filter(Boolean);
  const tsyms = (q.tsyms ?? '').split(',').filter(Boolean);
  const all = recording('cryptocompare', 'pricemultifull', variant) as {
    RAW: Record<string, Record<string, unknown>>;
    DISPLAY: Record<string, Record<string, unknown>>;
  };
  const pick = (part: Record<string, Record<string, unknown>>) =>
    Object.fromEntries(
      fsyms.filter((f) => part[f]).map((f) => [f, Object.fromEntries(tsyms.filter((t) => part[f]![t]).map((t) => [t, part[f]![t]]))]),
    );
  const RAW = pick(all.RAW);
  if (Object.values(RAW).every((pairs) => Object.keys(pairs).length === 0)) {
    const body = fixture('cryptocompare/market-does-not-exist.json') as { Message: string };
    return {
      status: 200,
      body: { ...body, Message: `cccagg_or_exchange market does not exist for this coin pair (${fsyms[0]}-${tsyms[0]})` },
    };
  }
  return { status: 200, body: { RAW, DISPLAY: pick(all.DISPLAY) } };
}

function withoutFields(api: Api, body: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  if (api === 'yahoo') {
    const result = (copy as { chart: { result: { meta: Record<string, unknown> }[] | null } }).chart.result;
    for (const r of result ?? []) delete r.meta.currency;
  } else if (api === 'finnhub') {
    delete copy.c;
    delete copy.t;
  } else {
    for (const pairs of Object.values((copy as { RAW?: Record<string, Record<string, Record<string, unknown>>> }).RAW ?? {})) {
      for (const pair of Object.values(pairs)) delete pair.PRICE;
    }
  }
  return copy;
}

const API_OF: [RegExp, Api][] = [
  [/^\/v8\/finance\/chart\/([^/]+)$/, 'yahoo'],
  [/^\/api\/v1\/quote$/, 'finnhub'],
  [/^\/data\/pricemultifull$/, 'cryptocompare'],
];

export async function startReplayServer(keys: { finnhub: string; cryptocompare?: string }): Promise<ReplayServer> {
  const faults: Record<Api, Fault[]> = { yahoo: [], finnhub: [], cryptocompare: [] };
  const variants: Record<Api, string> = { yahoo: '', finnhub: '', cryptocompare: '' };
  const requests: LoggedRequest[] = [];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replay');
    const query = Object.fromEntries(url.searchParams);
    const route = API_OF.map(([re, api]) => ({ api, m: re.exec(url.pathname) })).find((r) => r.m);
    // Logged on arrival (a stalled request counts even if its client gave up); the status once answered.
    const logged: LoggedRequest | undefined = route ? { api: route.api, path: url.pathname, query, status: 0 } : undefined;
    if (logged) requests.push(logged);
    const send = (a: Answer, text?: string) => {
      if (logged) logged.status = a.status;
      if (res.destroyed) return;
      res.writeHead(a.status, { 'content-type': text === undefined ? 'application/json;charset=utf-8' : 'text/plain', ...a.headers });
      res.end(text ?? JSON.stringify(a.body));
    };
    if (!route) return send({ status: 404, body: { error: 'no such endpoint' } });
    const { api } = route;
    const fault = faults[api].shift();
    if (fault?.kind === 'status') {
      const headers = fault.retryAfter ? { 'retry-after': fault.retryAfter } : undefined;
      if (api === 'finnhub' && fault.status === 429) return send({ status: 429, body: fixture('finnhub/rate-limit.json'), headers });
      return send(
        { status: fault.status, body: null, headers },
        fault.status === 429 ? 'Too Many Requests\r\n' : `${http.STATUS_CODES[fault.status]}\r\n`,
      );
    }
    if (fault?.kind === 'rate-limit-body') return send({ status: 200, body: fixture('cryptocompare/rate-limit.json') });

    const answer =
      api === 'yahoo'
        ? yahoo(decodeURIComponent(route.m![1]!).toUpperCase(), query, variants.yahoo)
        : api === 'finnhub'
          ? finnhub(query, keys.finnhub, variants.finnhub)
          : cryptocompare(query, req.headers.authorization, keys.cryptocompare, variants.cryptocompare);
    if (fault?.kind === 'malformed') {
      const text = JSON.stringify(answer.body);
      return send(answer, text.slice(0, Math.floor(text.length / 2)));
    }
    if (fault?.kind === 'missing-fields') return send({ ...answer, body: withoutFields(api, answer.body) });
    if (fault?.kind === 'stall') {
      setTimeout(() => send(answer), fault.ms);
      return;
    }
    send(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (api, symbol) =>
      requests.filter((r) => r.api === api && (symbol === undefined || r.path.endsWith(`/${symbol}`) || r.query.symbol === symbol)).length,
    fail: (api, fault, times = 1) => {
      for (let i = 0; i < times; i++) faults[api].push(fault);
    },
    play: (api, variant) => {
      variants[api] = variant;
    },
    reset: () => {
      requests.length = 0;
      for (const api of Object.keys(faults) as Api[]) {
        faults[api] = [];
        variants[api] = '';
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (connections are refused at once). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
